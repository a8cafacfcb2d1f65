"""Calibrate the cost model of :mod:`modeq.cost` (prints tables and the data to paste).

Every case runs in a fresh interpreter and is timed in **CPU seconds** of that
process (``time.process_time``), not wall time: the machine is shared, and a
single-threaded job's CPU time is what it takes on a free core.

1. Derivation per order: ``derive(optimizer, order, values=...)`` with the
   progress hook of ``solve_terms``; each optimizer is run in both modes
   (symbolic hyperparameters, and numeric ones = its defaults) until an order
   takes more than ``--budget`` seconds (default 20) or order 12 (beyond the last
   measured order the model extrapolates, so cheap optimizers are measured as far as
   the budget allows: GD order 12 was estimated 6x too high from order 8).
2. Step-by-step fields: the CPU time of each step of ``derive_steps`` (3
   batches, cyclic), in both modes.
3. Materializing and compiling the field of GD and Adam for a sparse (chain)
   and a dense loss in p parameters (``derived_field`` in a fresh cache),
   against the number of entries of the Hessian's sparsity pattern.

    python benchmarks/cost.py [--budget 20] [--only derive] [--names lookahead ...]
"""

from __future__ import annotations

import argparse
import json
import selectors
import subprocess
import sys
import tempfile

NAMES = ("gd", "heavy_ball", "heavy_ball_ema", "nesterov", "rmsprop", "adam", "adamw", "sam", "usam", "signum", "lion",
         "lookahead")

DERIVE_PROBE = """
import json, sys, time
from modeq import derive
from modeq.optimizers import get
opt = get({name!r})
values = opt.defaults() if {numeric!r} else None
last = time.process_time()
def tick(done, total):
    global last
    now = time.process_time()
    print(json.dumps({{"order": done - 1, "seconds": now - last}}), flush=True)
    last = now
derive(opt, order=12, regime={regime!r}, values=values, max_seconds=None, progress=tick)
"""

STEPS_PROBE = """
import json, time
from modeq import derive_steps
from modeq.optimizers import get
opt = get({name!r})
last = time.process_time()
def tick(done, total):
    global last
    now = time.process_time()
    print(json.dumps({{"step": done - 1, "seconds": now - last}}), flush=True)
    last = now
values = opt.defaults() if {numeric!r} else None
derive_steps(opt, 64, order={order}, batches=3, values=values, max_seconds=None, progress=tick)
"""

COMPILE_PROBE = """
import json, time, sympy
from modeq.numerics.store import derived_field
from modeq.optimizers import get
from modeq import cost
p = {p}
params = sympy.symbols("x0:%d" % p, real=True)
if {kind!r} == "chain":  # E = sum_i (x_i - x_(i+1)^2)^2 / 2: a sparse Hessian, 3p entries
    loss = sum((params[i] - params[(i + 1) % p] ** 2) ** 2 for i in range(p)) / 2
else:  # least squares with p dense rows plus a quartic: a dense Hessian, p^2 entries
    loss = sum((sum((((r + 1) * (i + 2)) % 7 - 3) * x for i, x in enumerate(params)) - 1) ** 2 for r in range(p)) / 2
    loss += sum(x**4 for x in params) / 4
opt = get({name!r})
start = time.process_time()
with cost.limit(None, "calibration"):
    derived_field(opt, loss, params, {order}, values=opt.defaults(), cache_dir={cache!r})
print(json.dumps({{"seconds": time.process_time() - start, "coupled": cost.coupled(loss, params)}}), flush=True)
"""


def stream(code: str, budget: float) -> list[float]:
    """Per-unit CPU seconds printed by ``code``; stops it once a unit took more
    than ``budget`` CPU seconds, or ``3 * budget`` wall seconds without output
    (that unit is then not recorded)."""
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    times: list[float] = []
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        try:
            while selector.select(timeout=3 * budget):
                line = process.stdout.readline()
                if not line:
                    break
                times.append(json.loads(line)["seconds"])
                if times[-1] > budget:
                    break
        finally:
            process.kill()
            process.wait()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=20.0)
    parser.add_argument("--only", choices=("derive", "steps", "compile"))
    parser.add_argument("--names", nargs="+", choices=NAMES, default=NAMES,
                        help="the optimizers whose derivation is measured (default: all)")
    args = parser.parse_args()
    if args.only in (None, "derive"):
        print("Derivation, CPU seconds per order (stationary regime; exact for optimizers with memory)")
        derive = {}
        cases = [(n, m, "stationary") for n in args.names for m in (False, True)]
        cases += [(n, m, "exact") for n in ("heavy_ball", "rmsprop", "adam") if n in args.names for m in (False, True)]
        for name, numeric, regime in cases:
            times = stream(DERIVE_PROBE.format(name=name, numeric=numeric, regime=regime), args.budget)
            mode = "numeric" if numeric else "symbolic"
            derive[(name, mode, regime)] = tuple(round(t, 4) for t in times)
            print(f"{name:<15} {mode:<9} {regime:<10} " + " ".join(f"{t:8.3f}" for t in times), flush=True)
        print("DERIVE =", repr(derive))
    if args.only in (None, "steps"):
        print("\nStep-by-step fields (3 batches, cyclic): CPU seconds per step")
        steps = {}
        for name, order in (("heavy_ball", 1), ("heavy_ball", 2), ("adam", 1), ("adam", 2)):
            for numeric in (True, False):
                times = stream(STEPS_PROBE.format(name=name, order=order, numeric=numeric), args.budget)
                mode = "numeric" if numeric else "symbolic"
                steps[(name, mode, order)] = tuple(round(t, 4) for t in times)
                print(f"{name:<12} {mode:<9} order {order}: " + " ".join(f"{t:.2f}" for t in times), flush=True)
        print("STEPS =", repr(steps))
    if args.only in (None, "compile"):
        print("\nMaterialize + generate + compile a field for a loss in p parameters (CPU seconds); "
              "coupled = entries of the Hessian's pattern")
        compiled = {}
        cases = [("gd", 1, "chain", (4, 16, 64)), ("gd", 1, "dense", (4, 8, 16, 32)), ("adam", 1, "dense", (4, 8, 16)),
                 ("gd", 2, "dense", (4, 8, 16))]
        for name, order, kind, sizes in cases:
            for p in sizes:
                with tempfile.TemporaryDirectory() as cache:
                    probe = COMPILE_PROBE.format(name=name, order=order, p=p, cache=cache, kind=kind)
                    process = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
                record = json.loads(process.stdout.strip().splitlines()[-1])
                compiled[(name, order, record["coupled"])] = round(record["seconds"], 3)
                print(f"{name:<6} order {order} {kind:<6} p = {p:>3} coupled = {record['coupled']:>5}: "
                      f"{record['seconds']:8.2f}", flush=True)
        print("COMPILE =", repr(compiled))


if __name__ == "__main__":
    main()
