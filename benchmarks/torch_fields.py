"""Cost of one modified-field evaluation by automatic differentiation (modeq.torch),
in units of one gradient evaluation on the same model, and its peak memory in
units of one gradient's.

Models: tanh MLPs 100 -> w -> w -> 10 on a batch of 512 random inputs with ~1e4,
1e5 and 1e6 parameters, float32. Fields: Adam (modeq.optimizers.adam, the
paper's form, defaults) at orders 1, 2, 3 and SGD with momentum
(heavy_ball, the Polyak form of torch.optim.SGD(momentum=0.9)) at order 2.

Time: the fastest of repeated calls after one warm-up call (the translation
of the elementwise expressions and the first-call setup are not counted); the
fastest, not the median, because on a shared machine the other processes
only ever add time (the median of 5 moved the order-1 ratio between 1.8 and
6 at 1e4 parameters from one run to the next).

Memory, as the issue means it: the peak *extra* memory while one call runs,
over what was allocated before it (the call's result included), for the
field and for one gradient evaluation (modeq.torch on gd's order-0 field,
-grad E: one forward and one backward pass), and their ratio. Two measures,
both printed:

* ``memory`` (the target's): the peak of the bytes held by torch tensors,
  from the allocation and free events of torch's CPU allocator recorded by
  torch.profiler (``profile_memory=True``) during a separate call: exact and
  deterministic, every tensor counted (autograd's saved tensors, the
  temporaries inside torch functions), nothing else (Python objects, malloc's
  own bookkeeping);
* ``rss``: the resident set size of the process, for a cross-check: the
  script re-executes itself with ``MALLOC_MMAP_THRESHOLD_=65536`` (buffers
  above 64 KiB are mmap'ed and returned to the OS when freed) and samples
  /proc/self/statm every 0.5 ms from a thread during the call: the peak
  increase over the RSS before the call. Meaningless at 1e4 parameters,
  where a parameter vector (40 KiB) is below the threshold and freed
  buffers stay in malloc's arenas.

On CUDA (if present) the same table with torch.cuda.max_memory_allocated
(the tensor measure).

    python benchmarks/torch_fields.py [--sizes 1e4,1e5,1e6] [--repeat 5] [--threads 1]
                                      [--fields adam:1,adam:2,adam:3,heavy_ball:2]

Targets (issue 15): Adam order 1 <= 5 gradients, order 2 <= 40, memory <= 4x
one gradient's.

Measured 2026-12-01, 2 shared cores (load 2.5-3: times +-30 %), one thread
(cost / memory / rss; one gradient: 1.3 ms and 12.0 parameter vectors at 1e4,
6.4 ms and 5.4 at 1e5, 49 ms and 2.4 at 1e6):

    parameters  field                  1e4               1e5               1e6
                adam order 1       2.9/ 2.86         3.6/ 3.07         5.0/ 3.51
                adam order 2      14.0/ 5.51        21.0/ 5.55        31.3/ 5.35
                adam order 3     116  /11.81       160  /11.65       264  /10.87
                sgd-momentum 2    10.2/ 5.51        12.4/ 5.55        17.2/ 5.35

Times are within the targets; memory is at order 1 and not at order 2. The
peak of an order-2 field is its D2[X, X] (SGD-momentum: D2[g, g]), with only
X alive beside it: three backward passes on a linearization of its own take
4.9-5.4 gradients' worth by themselves (on this MLP, 20 activation-sized
tensors at the last pass's peak, against 3 for a gradient; forward-mode
compositions measured higher, see modeq/torch/backend.py), so 4x is out of
reach of reverse-mode D2 here; order 3's is D3[X, X, X] likewise.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

if os.environ.get("MALLOC_MMAP_THRESHOLD_") != "65536":
    os.environ["MALLOC_MMAP_THRESHOLD_"] = "65536"
    os.execv(sys.executable, [sys.executable, *sys.argv])

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402

import modeq  # noqa: E402
import modeq.torch  # noqa: E402
from modeq.optimizers import BUILTIN  # noqa: E402

INPUTS, CLASSES, BATCH = 100, 10, 512
PAGE = os.sysconf("SC_PAGE_SIZE")


def width_for(size: float) -> int:
    """Hidden width w with 100w + w^2 + 10w + 2w + 10 ~ size parameters."""
    w = 1
    while INPUTS * w + w * w + CLASSES * w + 2 * w + CLASSES < size:
        w += 1
    return w


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def peak_increase(fn) -> int:
    """Peak resident-set increase (bytes) while ``fn()`` runs."""
    base, peak, done = rss(), [0], threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.0005)

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        fn()
    finally:
        done.set()
        thread.join()
    return max(peak[0], rss()) - base


def tensor_peak(fn) -> int:
    """Peak bytes held by torch CPU tensors allocated while ``fn()`` runs, net of those it frees."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    held = peak = 0
    for event in sorted(events, key=lambda e: e.start_ns()):
        held += event.nbytes()
        peak = max(peak, held)
    return peak


def seconds(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(size: float, fields, repeat: int, device: str) -> list[tuple]:
    torch.manual_seed(0)
    w = width_for(size)
    model = nn.Sequential(nn.Linear(INPUTS, w), nn.Tanh(), nn.Linear(w, w), nn.Tanh(), nn.Linear(w, CLASSES)).to(device)
    X = torch.randn(BATCH, INPUTS, device=device)
    y = torch.randint(0, CLASSES, (BATCH,), device=device)
    theta = modeq.torch.flat_parameters(model)

    def loss(m):
        return nn.functional.cross_entropy(m(X), y)

    gradient = modeq.torch.compile(modeq.derive(BUILTIN["gd"], order=0), loss, model=model)
    calls = [lambda: gradient.terms(theta)]
    for _, eq in fields:
        calls.append(lambda field=modeq.torch.compile(eq, loss, model=model): field(theta, 1e-3))
    # every time before any memory measurement: torch.profiler leaves 20-30 % of overhead on small operations behind it
    times = [seconds(call, repeat) for call in calls]
    memories = [memory(call, device) for call in calls]
    vectors = memories[0][0] / (theta.element_size() * theta.numel())
    return [(theta.numel(), label, time_ / times[0], [m / g for m, g in zip(mem, memories[0])], times[0], vectors)
            for (label, _), time_, mem in zip(fields, times[1:], memories[1:])]


def memory(fn, device: str) -> tuple[float, float]:
    """(tensor peak, RSS peak) increase in bytes while ``fn()`` runs (CUDA: the tensor peak twice)."""
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - before
        return peak, peak
    return tensor_peak(fn), peak_increase(fn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e4,1e5,1e6")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fields", default="adam:1,adam:2,adam:3,heavy_ball:2",
                        help="built-in:order pairs (heavy_ball is torch's SGD with momentum)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (1: on a shared machine, spinning threads distort the ratios)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float32)
    started = time.perf_counter()
    fields = []
    for name, order in (field.split(":") for field in args.fields.split(",")):
        label = f"{'sgd-momentum' if name == 'heavy_ball' else name} order {order}"
        fields.append((label, modeq.derive(BUILTIN[name], order=int(order), values=BUILTIN[name].defaults())))
    print(f"derivations: {time.perf_counter() - started:.1f} s; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        print(f"\ndevice: {device}  (cost in gradients; memory, rss: peak increase in units of one gradient's; "
              "1 gradient: its time, and its tensor peak in parameter vectors)")
        print(f"{'parameters':>11} {'field':<22} {'cost':>7} {'memory':>7} {'rss':>7} {'1 gradient':>11} {'vectors':>7}")
        for size in (float(s) for s in args.sizes.split(",")):
            for p, label, cost, (mem, rss_ratio), grad_time, vectors in measure(size, fields, args.repeat, device):
                print(f"{p:>11,} {label:<22} {cost:>7.1f} {mem:>7.2f} {rss_ratio:>7.2f} {grad_time * 1e3:>9.1f}ms "
                      f"{vectors:>7.2f}", flush=True)


if __name__ == "__main__":
    main()
