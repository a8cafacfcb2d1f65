"""Cost of one modified-field evaluation by automatic differentiation (modeq.torch),
in units of one gradient evaluation on the same model, and its peak memory in
units of one gradient's.

Models: tanh MLPs 100 -> w -> w -> 10 on a batch of 512 random inputs with ~1e4,
1e5 and 1e6 parameters, float32. Fields: Adam (modeq.optimizers.adam, the
paper's form, defaults) at orders 1, 2, 3 and SGD with momentum
(heavy_ball, the Polyak form of torch.optim.SGD(momentum=0.9)) at order 2.

Time: median of repeated calls after one warm-up call (the translation of
the elementwise expressions and torch.func's first-call setup are not
counted). Memory: tracemalloc does not see torch's allocations, and torch has
no allocator statistics for CPU tensors, so the script re-executes itself
with ``MALLOC_MMAP_THRESHOLD_=65536`` (tensors above 64 KiB are mmap'ed and
returned to the OS when freed) and samples the resident set size
(/proc/self/statm) every 0.5 ms from a thread during the call: the peak
increase over the RSS before the call. On CUDA (if present) the same table
is printed with torch.cuda.max_memory_allocated.

    python benchmarks/torch_fields.py [--sizes 1e4,1e5,1e6] [--repeat 5] [--threads 1]
                                      [--fields adam:1,adam:2,adam:3,heavy_ball:2]

Targets (issue 15): Adam order 1 <= 5 gradients, order 2 <= 40, memory <= 4x
one gradient's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time

if os.environ.get("MALLOC_MMAP_THRESHOLD_") != "65536":
    os.environ["MALLOC_MMAP_THRESHOLD_"] = "65536"
    os.execv(sys.executable, [sys.executable, *sys.argv])

import torch  # noqa: E402
from torch import nn  # noqa: E402

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


def seconds(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
    grad_time = seconds(lambda: gradient.terms(theta), repeat)
    grad_memory = memory(lambda: gradient.terms(theta), device)
    rows = []
    for label, eq in fields:
        field = modeq.torch.compile(eq, loss, model=model)
        call = lambda: field(theta, 1e-3)  # noqa: E731
        cost = seconds(call, repeat) / grad_time
        rows.append((theta.numel(), label, cost, memory(call, device) / grad_memory, grad_time))
    return rows


def memory(fn, device: str) -> float:
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - before
    return peak_increase(fn)


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
        print(f"\ndevice: {device}  (cost in gradients; memory: peak increase in units of one gradient's)")
        print(f"{'parameters':>11} {'field':<22} {'cost':>7} {'memory':>7} {'1 gradient':>11}")
        for size in (float(s) for s in args.sizes.split(",")):
            for p, label, cost, mem, grad_time in measure(size, fields, args.repeat, device):
                print(f"{p:>11,} {label:<22} {cost:>7.1f} {mem:>7.2f} {grad_time * 1e3:>9.1f}ms", flush=True)


if __name__ == "__main__":
    main()
