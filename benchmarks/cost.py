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
   and a dense loss in p parameters (``derived_field`` in a fresh cache, then
   the first calls of its terms and its flow: numba compiles at the first call,
   and that is most of the time for the larger fields),
   against the number of entries of the Hessian's sparsity pattern; Muon's and
   Shampoo's (matrix maps) on the two-layer linear network's blocks.

4. Validation (``--only validate``, a run apart from the calibration): the total CPU
   time of deriving each optimizer to orders 1..``--orders`` against the model's estimate.

    python benchmarks/cost.py [--budget 20] [--only derive] [--names lookahead ...] [--modes symbolic]
    python benchmarks/cost.py --only validate --modes symbolic --orders 4 --budget 20
"""

from __future__ import annotations

import argparse
import json
import selectors
import subprocess
import sys
import tempfile

from modeq import cost
from modeq.optimizers.library import BLOCKWISE, BUILTIN, get

#: Every built-in: those on any parameter vector and those on parameter blocks (derived like
#: the library derives them, ``derive(get(name), ...)``: the block updates act on whole matrices
#: whose products and roots stay operator nodes of the index form).
NAMES = (*BUILTIN, *BLOCKWISE)

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
derive(opt, order={order}, regime={regime!r}, values=values, max_seconds=None, progress=tick)
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
from modeq.blocks import as_blocks
from modeq.numerics.store import derived_field
from modeq.optimizers import get
from modeq import cost
p = {p}
if {kind!r} in ("network", "square"):  # the two-layer linear network 1/2 |W2 W1 - A|^2 on matrix blocks
    blocks = as_blocks({{"W1": (3, 2), "W2": (2, 3)}} if {kind!r} == "network" else {{"W1": (2, 2), "W2": (2, 2)}})
    residual = blocks.values["W2"] @ blocks.values["W1"] - sympy.Matrix([[1, -sympy.Rational(1, 2)], [sympy.Rational(1, 2), 2]])
    loss, params = sum(r**2 for r in residual) / 2, blocks.params
elif {kind!r} == "chain":  # E = sum_i (x_i - x_(i+1)^2)^2 / 2: a sparse Hessian, 3p entries
    params = sympy.symbols("x0:%d" % p, real=True)
    loss = sum((params[i] - params[(i + 1) % p] ** 2) ** 2 for i in range(p)) / 2
else:  # least squares with p dense rows plus a quartic: a dense Hessian, p^2 entries
    params = sympy.symbols("x0:%d" % p, real=True)
    loss = sum((sum((((r + 1) * (i + 2)) % 7 - 3) * x for i, x in enumerate(params)) - 1) ** 2 for r in range(p)) / 2
    loss += sum(x**4 for x in params) / 4
opt = get({name!r})
start = time.process_time()
with cost.limit(None, "calibration"):
    field = derived_field(opt, loss, params, {order}, values=opt.defaults(), cache_dir={cache!r})
theta = [0.3] * len(field.params)  # numba compiles each function at its first call: the terms and the flow
field.terms(theta)
field.flow(theta, 1e-3, 2)
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


#: Compile cases: (optimizer, order, loss kind, sizes p); the matrix-block ones on the two-layer network
#: (W1 3x2, W2 2x3: 108 coupled pairs) and its square form (2x2, 2x2: 48), whose size is fixed.
COMPILE_CASES = [("gd", 1, "chain", (4, 16, 64)), ("gd", 1, "dense", (4, 8, 16, 32, 64)), ("adam", 1, "dense", (4, 8, 16)),
                 ("gd", 2, "dense", (4, 8, 16)),
                 ("muon", 1, "square", (8,)), ("muon", 1, "network", (12,)), ("muon", 2, "network", (12,)),
                 ("shampoo", 1, "square", (8,)), ("shampoo", 2, "square", (8,)),
                 # layerwise norms: their terms share the norms' subexpressions, deep DAGs (LAMB order 2
                 # was estimated 23 s from Adam's and took > 140 s while codegen walked their trees)
                 ("lars", 1, "network", (12,)), ("lars", 2, "network", (12,)),
                 ("lamb", 1, "network", (12,)), ("lamb", 2, "network", (12,)), ("lamb", 3, "network", (12,)),
                 # validation: not pasted (the model scales them from the cases above)
                 ("muon", 2, "square", (8,)), ("shampoo_ema", 2, "square", (8,))]

#: Step-by-step cases (optimizer, order) measured by default.
STEPS_CASES = (("heavy_ball", 1), ("heavy_ball", 2), ("adam", 1), ("adam", 2))


def validate(names, modes, orders: int, budget: float) -> None:
    """A run apart from the calibration: each optimizer derived to ``orders`` (fresh process, until an order
    took ``budget`` CPU seconds), its total CPU time to each order against :func:`modeq.cost.derive_seconds`."""
    print("Validation: CPU seconds of derive(optimizer, order) (the orders 0..order of one run) against the estimate")
    print(f"{'optimizer':<20} {'mode':<9} {'order':>5} {'estimate':>10} {'measured':>10} {'ratio':>7}")
    measured = {}
    for name in names:
        opt = get(name)
        for mode in modes:
            values = opt.defaults() if mode == "numeric" else None
            times = stream(DERIVE_PROBE.format(name=name, numeric=mode == "numeric", regime="stationary", order=orders),
                           budget)
            for k in range(1, len(times)):
                total, estimate = sum(times[: k + 1]), cost.derive_seconds(opt, k, values=values)
                measured[(name, mode, k)] = round(total, 3)
                print(f"{name:<20} {mode:<9} {k:>5} {estimate:>10.3f} {total:>10.3f} {estimate / total:>7.2f}", flush=True)
    print("MEASURED =", repr(measured))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=20.0)
    parser.add_argument("--only", choices=("derive", "steps", "compile", "validate"))
    parser.add_argument("--orders", type=int, help="the highest order (default 12 for derive, 4 for validate)")
    parser.add_argument("--names", nargs="+", choices=NAMES,
                        help="the optimizers measured (default: all for the derivation; those of STEPS_CASES at orders "
                             "1 and 2 for the steps, at order 1 when named; those of COMPILE_CASES)")
    parser.add_argument("--modes", nargs="+", choices=("symbolic", "numeric"), default=("symbolic", "numeric"),
                        help="symbolic hyperparameters, numeric ones (their defaults), or both (default)")
    args = parser.parse_args()
    numerics = [mode == "numeric" for mode in args.modes]
    if args.only in (None, "derive"):
        print("Derivation, CPU seconds per order (stationary regime; exact for optimizers with memory)")
        derive = {}
        names = args.names or NAMES
        cases = [(n, m, "stationary") for n in names for m in numerics]
        cases += [(n, m, "exact") for n in ("heavy_ball", "rmsprop", "adam") if n in names for m in numerics]
        for name, numeric, regime in cases:
            times = stream(DERIVE_PROBE.format(name=name, numeric=numeric, regime=regime, order=args.orders or 12),
                           args.budget)
            mode = "numeric" if numeric else "symbolic"
            derive[(name, mode, regime)] = tuple(round(t, 4) for t in times)
            print(f"{name:<15} {mode:<9} {regime:<10} " + " ".join(f"{t:8.3f}" for t in times), flush=True)
        print("DERIVE =", repr(derive))
    if args.only == "validate":
        validate(args.names or NAMES, args.modes, args.orders or 4, args.budget)
    if args.only in (None, "steps"):
        print("\nStep-by-step fields (3 batches, cyclic): CPU seconds per step")
        steps = {}
        for name, order in ([(n, 1) for n in args.names] if args.names else STEPS_CASES):
            for numeric in numerics:
                times = stream(STEPS_PROBE.format(name=name, order=order, numeric=numeric), args.budget)
                mode = "numeric" if numeric else "symbolic"
                steps[(name, mode, order)] = tuple(round(t, 4) for t in times)
                print(f"{name:<12} {mode:<9} order {order}: " + " ".join(f"{t:.2f}" for t in times), flush=True)
                opt = get(name)
                for n in (16, 32):  # the model as it stands (a case not in STEPS: validation) against this run
                    if len(times) >= n:
                        estimate = cost.steps_seconds(opt, n, order, opt.defaults() if numeric else None)
                        print(f"    {n} steps: estimate {estimate:.2f} s, measured {sum(times[:n]):.2f} s, "
                              f"ratio {estimate / sum(times[:n]):.2f}", flush=True)
        print("STEPS =", repr(steps))
    if args.only in (None, "compile"):
        print("\nMaterialize + generate + compile a field for a loss in p parameters (CPU seconds); "
              "coupled = entries of the Hessian's pattern")
        compiled = {}
        for name, order, kind, sizes in COMPILE_CASES:
            if args.names and name not in args.names:
                continue
            for p in sizes:
                with tempfile.TemporaryDirectory() as cache:
                    probe = COMPILE_PROBE.format(name=name, order=order, p=p, cache=cache, kind=kind)
                    process = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
                if process.returncode:
                    print(f"{name:<12} order {order} {kind:<7} p = {p:>3}: "
                          f"{(process.stderr.strip().splitlines() or ['failed'])[-1]}", flush=True)
                    continue
                record = json.loads(process.stdout.strip().splitlines()[-1])
                compiled[(name, order, record["coupled"])] = round(record["seconds"], 3)
                estimate = cost.compile_seconds(get(name), order, record["coupled"], values=get(name).defaults())
                print(f"{name:<12} order {order} {kind:<7} p = {p:>3} coupled = {record['coupled']:>5}: "
                      f"{record['seconds']:8.2f}  (estimate {estimate:.2f}, ratio {estimate / record['seconds']:.2f})",
                      flush=True)
        print("COMPILE =", repr(compiled))


if __name__ == "__main__":
    main()
