"""Cost of one modified-field evaluation by automatic differentiation (modeq.torch),
in units of one gradient evaluation on the same model, and its peak memory in
units of one gradient's.

Models: tanh MLPs 100 -> w -> w -> 10 on a batch of 512 random inputs with ~1e4,
1e5 and 1e6 parameters, float32; the loss, the mean cross-entropy, is given
over its data (modeq.torch.compile(..., data=(X, y), chunks=k)). Fields: Adam
(modeq.optimizers.adam, the paper's form, defaults) at orders 1, 2, 3 and SGD
with momentum (heavy_ball, the Polyak form of torch.optim.SGD(momentum=0.9))
at order 2, each whole (k = 1) and in k chunks of 512/k rows (--chunks).

Two units: (a) one gradient over the full batch (the issue's unit: cost,
memory, rss), and (b) one gradient over the 512/k rows of one chunk
(cost/micro, mem/micro), the unit a user who could afford only that
micro-batch would compare with.

Time: the fastest of repeated calls after one warm-up call (the translation
of the elementwise expressions and the first-call setup are not counted); the
fastest, not the median, because on a shared machine the other processes
only ever add time (the median of 5 moved the order-1 ratio between 1.8 and
6 at 1e4 parameters from one run to the next). The calls are timed in rounds
(each call once per round), so that the gradient and the fields see the same
changes of load.

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

Each size runs in a process of its own, and there the times come first, then
the RSS, then the profiler: once torch.profiler has run in a process, small
operations are 20-30 % slower and the RSS of a later gradient call reads
about 0 (rss ratios from -6 to 4000 were printed when all sizes shared one
process). On CUDA (if present) the same table with
torch.cuda.max_memory_allocated (the tensor measure, in both columns).

    python benchmarks/torch_fields.py [--sizes 1e4,1e5,1e6] [--repeat 5] [--threads 1]
                                      [--fields adam:1,adam:2,adam:3,heavy_ball:2]

Targets (issue 15): Adam order 1 <= 5 gradients, order 2 <= 40, memory <= 4x
one gradient's.

Measured 2026-12-01 13:41-13:52 UTC, 2 cores shared with other jobs (load
average 8.7-8.9 when each size started), one thread, --repeat 5 in rounds;
one full-batch gradient: 0.8 ms and 12.0 parameter vectors at 1e4, 10.7 ms
and 5.4 at 1e5, 84 ms and 2.4 at 1e6. Each cell: cost / memory in full-batch
gradients, then cost / memory in gradients over one chunk's 128 rows:

    field      k  1e4                         1e5                         1e6
    adam 1     1    2.5/ 2.86                   4.6/ 3.07                   3.8/ 3.51
    adam 2     1   27.0/ 5.51                  27.6/ 5.55                  29.8/ 5.35
    adam 2     4   47.8/ 1.69 | 110  / 6.66    34.8/ 2.47 | 137  / 4.48    47.2/ 3.67 | 133  / 4.05
    adam 3     1  248  /11.81                 225  /11.65                 260  /10.87
    adam 3     4  388  / 4.74 | 896  /18.68   340  / 7.27 | 1343 /13.20   383  / 7.06 | 1079 / 7.81
    sgd-mom 2  1   27.0/ 5.51                  15.2/ 5.55                  13.6/ 5.35
    sgd-mom 2  4   31.2/ 1.61 |  72  / 6.34    21.6/ 1.96 |  85  / 3.55    21.9/ 3.24 |  62  / 3.58

(rss agrees with memory within 0.15 at 1e5-1e6; at 1e4 it means nothing, see
above.) Order-1 fields are not chunked (their gradient and D1s share one
linearization, 2.9-3.5 gradients of memory): their k = 4 rows are the same
computation as k = 1 (2.9 / 5.2 / 4.5 against 2.5 / 4.6 / 3.8: the timing
scatter) and are left out here. At load 2.5-3, before chunks existed, the
whole order-2 field measured 14.0 / 21.0 / 31.3 gradients at 1e4 / 1e5 / 1e6.

Memory: with 4 chunks order 2 is within the target at every size (1.6-3.7
full-batch gradients, from 5.35-5.55). Its peak was D2[X, X], whose
third-derivative passes hold ~20 activation-sized tensors (3 for a gradient);
in chunks they hold a quarter of them, and every contraction of the field is
then chunked on a linearization of its own (a D1 through the shared
full-batch linearization was the next peak: 4.34 at 1e6). What is left at
1e6 is mostly parameter-sized (the sum, X, g, the passes' weight gradients),
so more chunks gain little (Adam order 2 with 2 / 4 / 8 chunks, 13:34-13:37
UTC: 3.02 / 1.69 / 1.58 at 1e4, 3.39 / 2.47 / 2.47 at 1e5, 4.49 / 3.67 / 3.34
at 1e6): 4 is the fewest within 4x at all three sizes, hence the default of
modeq.torch.compile with data. Against one gradient over the same 128 rows
the chunked field is 3.6-6.7x, since that gradient's activations shrink by 4
as well. Order 3 came down from ~11 to 4.7-7.3 (its peak was then a D2 with
ten other values alive; see below for what followed).

Time: chunks cost 1.2-1.8x the whole field, measured in the same rounds:
each chunk repeats a forward and backward pass per contraction, every D1
makes its own linearization instead of a pass through the shared one, and
small chunks use the matrix products less well. Split at 1e6 (Adam order 2,
load 7-8, in gradients): D1s 7.6 + 1 shared linearization whole against 16-17
chunked, D2 7.0 against 9.4, elementwise 7.5 in both. So at 1e6 the two
targets pull apart on this MLP: whole, 23-30 gradients and 5.35x memory;
in 4 chunks, 3.67x memory and 35-47 gradients (14:06-14:08 UTC at load 5.9,
--fields adam:2,heavy_ball:2 --sizes 1e6: Adam 22.8 whole, 34.6 in 4 chunks;
SGD-momentum 11.6 and 16.8; at load 8.7 above, 47.2: over 40). The chunks are
the user's choice (chunks=1 keeps the whole batch).

Order 3 and the elementwise work, 2026-12-01 16:13-17:19 UTC (load 5-6.5;
--fields adam:2,adam:3,heavy_ball:2 --chunks 1,4 --repeat 3, 1e4/1e5 in one
run, 1e6 in another), after two changes: the evaluation order
(modeq/evaluation_order.py: each part of a term completed in turn, its
inputs computed just before it, choosing the part that leaves the fewest
vectors alive; a D2 of Adam's order 3 had up to 11 vectors alive beside
it, now at most 5), and elementwise slices of 8192 components instead of
65536 (modeq.torch.backend.CHUNK: the temporaries of Adam's largest
order-3 expression, 48 common subexpressions alive at once, were 33
parameter vectors at 1e5, the field's peak once the D2s were served). Memory
in full-batch gradients, before -> after (time: the same rounds, noisy at
this load):

    field      k  1e4            1e5            1e6
    adam 2     1  5.51 -> 5.51   5.55 -> 5.55   5.35 -> 5.35
    adam 2     4  1.69 -> 1.69   2.47 -> 2.14   3.67 -> 3.67
    adam 3     1  11.81 -> 11.81 11.65 -> 11.65 10.87 -> 10.87
    adam 3     4  4.74 -> 3.71   7.27 -> 3.85   7.06 -> 5.09
    sgd-mom 2  1  5.51 -> 5.51   5.55 -> 5.55   5.35 -> 5.35
    sgd-mom 2  4  1.61 -> 1.61   1.96 -> 1.96   3.24 -> 3.24

(1e6 before: the table above, load 8.7.) Time of adam order 3, k = 4: 388 /
340 / 383 -> 388 / 350 / 263 gradients at 1e4 / 1e5 / 1e6; adam order 2,
k = 4, at 1e6: 32.8 (33.6 with 65536-component slices in the same minutes,
28.7 in another run). What bounds chunked order 3 now is its D3[X, X, X]
itself: measured alone (own linearization, 4 chunks, its output included)
it takes 37.9 / 19.0 / 10.0 parameter vectors at 1e4 / 1e5 / 1e6, i.e.
3.15 / 3.49 / 4.23 gradients, and it runs beside g and X (the field's
peak at 1e5 and 1e6: 3.85 and 5.09); at 1e4 the peak is that largest
elementwise expression (44.6 vectors against the D3's 39.9). At 1e6 the
D3's vectors are parameter-sized (the passes' weight gradients, not
activations), so more chunks do not lower it; order 2 fits in 4x because
its D2 takes 6.6. Unchunked (k = 1) order 3 is unchanged: its peak is the
whole-batch D3 (63.4 vectors at 1e5, beside one other value). The time split of adam order 2, k = 4, at 1e6 (one
call, in gradients, load 7.9): D1s 17.1, D2 7.7, elementwise 2.35 (7.84
with 65536-component slices: their temporaries fell out of the 1 MiB L2
cache), gradients 1.0.
"""

from __future__ import annotations

import argparse
import os
import subprocess
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


def seconds(calls: dict, repeat: int) -> dict:
    """The fastest of ``repeat`` timed calls of each of ``calls`` after a warm-up call,
    in rounds (one call of each per round), so that a change of the machine's load
    reaches every call alike rather than the ones that happened to run then."""
    for call in calls.values():
        call()
    times: dict = {key: [] for key in calls}
    for _ in range(repeat):
        for key, call in calls.items():
            start = time.perf_counter()
            call()
            times[key].append(time.perf_counter() - start)
    return {key: min(values) for key, values in times.items()}


def loss(m, X, y):
    """The mean cross-entropy of the rows given (the benchmark's loss over data)."""
    return nn.functional.cross_entropy(m(X), y)


def measure(size: float, fields, chunks: list[int], repeat: int, device: str) -> list[tuple]:
    """``(p, label, k, cost, memory, rss, micro cost, micro memory, gradient time, vectors)`` per field and
    number of chunks k: cost, memory and rss in units of one full-batch gradient's, the micro ones in units of
    one gradient over BATCH/k rows (the slice a chunked contraction evaluates at a time)."""
    torch.manual_seed(0)
    w = width_for(size)
    model = nn.Sequential(nn.Linear(INPUTS, w), nn.Tanh(), nn.Linear(w, w), nn.Tanh(), nn.Linear(w, CLASSES)).to(device)
    X = torch.randn(BATCH, INPUTS, device=device)
    y = torch.randint(0, CLASSES, (BATCH,), device=device)
    theta = modeq.torch.flat_parameters(model)
    gd = modeq.derive(BUILTIN["gd"], order=0)
    calls = {}
    for k in sorted(set(chunks) | {1}):  # the gradient over the first BATCH/k rows (k = 1: the full batch)
        rows = -(-BATCH // k)
        gradient = modeq.torch.compile(gd, loss, model=model, data=(X[:rows], y[:rows]))
        calls["gradient", k] = lambda gradient=gradient: gradient.terms(theta)
    for label, eq in fields:
        for k in chunks:
            field = modeq.torch.compile(eq, loss, model=model, data=(X, y), chunks=k)
            calls[label, k] = lambda field=field: field(theta, 1e-3)
    # times, then RSS, then the profiler: once torch.profiler has run in a process, small operations are 20-30 %
    # slower and the RSS of a gradient call reads ~0 (ratios of -6 to 4000 were printed)
    times = seconds(calls, repeat)
    if device == "cuda":
        tensors = {key: cuda_peak(call) for key, call in calls.items()}
        rss_peaks = tensors
    else:
        rss_peaks = {key: peak_increase(call) for key, call in calls.items()}
        tensors = {key: tensor_peak(call) for key, call in calls.items()}
    full = ("gradient", 1)
    vectors = tensors[full] / (theta.element_size() * theta.numel())
    return [(theta.numel(), label, k, times[label, k] / times[full], tensors[label, k] / tensors[full],
             rss_peaks[label, k] / rss_peaks[full], times[label, k] / times["gradient", k],
             tensors[label, k] / tensors["gradient", k], times[full], vectors)
            for label, _ in fields for k in chunks]


def cuda_peak(fn) -> int:
    """Peak increase of the bytes allocated on the CUDA device while ``fn()`` runs."""
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e4,1e5,1e6")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fields", default="adam:1,adam:2,adam:3,heavy_ball:2",
                        help="built-in:order pairs (heavy_ball is torch's SGD with momentum)")
    parser.add_argument("--chunks", default="1,4",
                        help="numbers of chunks of the batch for the contractions of two or more directions")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (1: on a shared machine, spinning threads distort the ratios)")
    parser.add_argument("--rows", choices=("cpu", "cuda"), help=argparse.SUPPRESS)  # one size on one device, in a child
    args = parser.parse_args()
    if args.rows:
        rows(args)
        return
    print(f"torch {torch.__version__}, {args.threads} thread(s); each size in a process of its own")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        print(f"\ndevice: {device}  (cost in gradients; memory, rss: peak increase in units of one gradient's; "
              "/micro: in units of one gradient over the batch/k rows of a chunk; 1 gradient: full batch, its time "
              "and its tensor peak in parameter vectors; load: 1-min load average before the size ran)")
        print(f"{'parameters':>11} {'field':<16} {'k':>3} {'cost':>7} {'memory':>7} {'rss':>7} {'cost/micro':>10} "
              f"{'mem/micro':>9} {'1 gradient':>11} {'vectors':>7} {'load':>5}")
        for size in args.sizes.split(","):
            subprocess.run([sys.executable, __file__, "--sizes", size, "--repeat", str(args.repeat), "--fields",
                            args.fields, "--chunks", args.chunks, "--threads", str(args.threads), "--rows", device],
                           check=True)


def rows(args) -> None:
    """The table's rows for the one size ``args.sizes`` on the device ``args.rows``."""
    torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float32)
    fields = []
    for name, order in (field.split(":") for field in args.fields.split(",")):
        label = f"{'sgd-mom.' if name == 'heavy_ball' else name} order {order}"
        fields.append((label, modeq.derive(BUILTIN[name], order=int(order), values=BUILTIN[name].defaults())))
    chunks = [int(k) for k in args.chunks.split(",")]
    load = os.getloadavg()[0]
    for p, label, k, cost, mem, rss_ratio, micro_cost, micro_mem, grad_time, vectors in measure(
            float(args.sizes), fields, chunks, args.repeat, args.rows):
        print(f"{p:>11,} {label:<16} {k:>3} {cost:>7.1f} {mem:>7.2f} {rss_ratio:>7.2f} {micro_cost:>10.1f} "
              f"{micro_mem:>9.2f} {grad_time * 1e3:>9.1f}ms {vectors:>7.2f} {load:>5.1f}", flush=True)


if __name__ == "__main__":
    main()
