"""Index-form derivation time per optimizer and order (prints tables).

Each case runs in a fresh interpreter, so no cache or interned atom from an
earlier case helps it; times exclude the import of modeq/SymPy. Both wall and
CPU seconds of the child are printed: the machine is shared, and CPU time is
what a case takes on a free core. Peak memory is the child's maximum resident
set size.

Targets (issue 17), symbolic hyperparameters, stationary regime: GD order
8/10/12 <= 0.5/2/20 s; heavy ball order 6/8 <= 2/30 s; Adam order 3/4/5 <=
1/10/120 s; peak memory <= 2 GB; 64 steps of 3-batch Adam at order 1
(``derive_steps``) <= 10 s. Beside GD, kauri's modified equation of explicit
Euler (= GD) to the same order: the weights of every rooted tree with up to
N + 1 vertices (``pip install .[bench]``). "cost/atom" is the CPU time of the
last order over the number of atoms (terms) in f_N.

    python benchmarks/derive.py [--timeout 300] [--compare OLD_CHECKOUT]

``--compare DIR`` runs every case also with the modeq of ``DIR`` (e.g. a
``git archive`` of an older commit), alternating old and new case by case so
that both see the same load.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

CASES = [("gd", 8), ("gd", 10), ("gd", 12), ("heavy_ball", 6), ("heavy_ball", 8), ("adam", 3), ("adam", 4), ("adam", 5)]

_MEASURE = """
import json, resource, time
def measure(run):
    wall, cpu = time.perf_counter(), time.process_time()
    out = run()
    out.update(wall=time.perf_counter() - wall, cpu=time.process_time() - cpu,
               mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))
"""

PROBE = _MEASURE + """
from modeq import derive
from modeq.optimizers import get
last = [time.process_time(), 0.0]
def tick(done, total):
    now = time.process_time(); last[1] = now - last[0]; last[0] = now
def run():
    eq = derive(get({name!r}), order={order}, max_seconds=None, progress=tick)
    return {{"atoms": len(eq.terms[-1].free_symbols), "terms": len(eq.terms[-1].args), "last": last[1]}}
measure(run)
"""

KAURI_PROBE = _MEASURE + """
import kauri
def run():
    weights = kauri.euler.modified_equation_map()
    count = 0
    for n in range(1, {order} + 2):
        for tree in kauri.trees_of_order(n):
            weights(tree)
            count += 1
    return {{"atoms": count}}
measure(run)
"""

STEPWISE_PROBE = _MEASURE + """
from modeq import derive_steps
from modeq.optimizers import get
def run():
    derive_steps(get({name!r}), {steps}, order={order}, batches=3, values={values!r}, max_seconds=None)
    return {{}}
measure(run)
"""
STEPWISE_CASES = [("adam", 1, 64, {"beta": 0.9, "rho": 0.95, "eps": 1e-3})]

DIMENSION_PROBE = _MEASURE + """
import sympy
from modeq import derive_components
from modeq.optimizers import adam
params = sympy.symbols("x0:{p}", real=True)
loss = sum((params[i] - params[(i + 1) % {p}] ** 2) ** 2 for i in range({p})) / 2
def run():
    derive_components(adam, loss, params, order=1, values={{"beta": 0.9, "rho": 0.95, "eps": 1e-3}})
    return {{}}
measure(run)
"""


def run(code: str, source: Path, timeout: float) -> dict | None:
    """The probe's measurements, or ``None`` when it ran out of time."""
    env = dict(os.environ, PYTHONPATH=str(source))
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              timeout=timeout, env=env, cwd=str(source))
    except subprocess.TimeoutExpired:
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cell(r: dict | None, timeout: float) -> str:
    if r is None:
        return f"{'> ' + format(timeout, '.0f') + ' s wall':>28}"
    return f"{r['wall']:>8.2f} {r['cpu']:>8.2f} {r['mb']:>9.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=300.0, help="wall seconds per case")
    parser.add_argument("--compare", type=Path, help="another checkout of modeq, run alternately")
    parser.add_argument("--no-kauri", action="store_true")
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[1]
    sources = [("now", here)] + ([("old", args.compare.resolve())] if args.compare else [])

    header = f"{'wall s':>8} {'cpu s':>8} {'peak MB':>9}"
    print("Index-form derivation (stationary regime, symbolic hyperparameters); times of the whole derivation")
    print(f"{'optimizer':<11} {'order':>5} " + "  ".join(f"[{label}] {header}" for label, _ in sources)
          + f" {'atoms f_N':>10} {'cost/atom ms':>13}")
    kauri_out_of_time = None
    if not args.no_kauri and importlib.util.find_spec("kauri") is None:
        print("(kauri is not installed: pip install .[bench] for its column)")
        args.no_kauri = True
    for name, order in CASES:
        results = [(label, run(PROBE.format(name=name, order=order), source, args.timeout)) for label, source in sources]
        now = results[0][1]
        per_atom = f"{1000 * now['last'] / max(now['atoms'], 1):>13.2f}" if now else f"{'-':>13}"
        atoms = f"{now['atoms']:>10}" if now else f"{'-':>10}"
        print(f"{name:<11} {order:>5} " + "  ".join(f"[{label}] {_cell(r, args.timeout)}" for label, r in results)
              + f" {atoms} {per_atom}", flush=True)
        if name == "gd" and not args.no_kauri:
            if kauri_out_of_time is None:
                k = run(KAURI_PROBE.format(order=order), here, args.timeout)
                kauri_out_of_time = None if k else order
                trees = f"{k['atoms']:>10}" if k else f"{'-':>10}"
                print(f"{'kauri euler':<11} {order:>5} [---] {_cell(k, args.timeout)}  (trees up to {order + 1} vertices: "
                      f"{trees.strip()})", flush=True)
            else:  # a higher order only costs more: not run again
                print(f"{'kauri euler':<11} {order:>5} [---] {_cell(None, args.timeout)}  (not run: order "
                      f"{kauri_out_of_time} ran out of time)", flush=True)
    print()
    print("Step-by-step fields (derive_steps, 3 batches, cyclic, numeric hyperparameters)")
    print(f"{'optimizer':<11} {'order':>5} {'steps':>6} " + "  ".join(f"[{label}] {header}" for label, _ in sources))
    for name, order, steps, values in STEPWISE_CASES:
        code = STEPWISE_PROBE.format(name=name, order=order, steps=steps, values=values)
        results = [(label, run(code, source, args.timeout)) for label, source in sources]
        print(f"{name:<11} {order:>5} {steps:>6} " + "  ".join(f"[{label}] {_cell(r, args.timeout)}" for label, r in results),
              flush=True)
    print()
    print("Adam order 1 derived directly in components on a p-parameter loss (the index form does not depend on p)")
    print(f"{'p':>3} " + "  ".join(f"[{label}] {header}" for label, _ in sources))
    for p in (2, 4, 8):
        results = [(label, run(DIMENSION_PROBE.format(p=p), source, args.timeout)) for label, source in sources]
        print(f"{p:>3} " + "  ".join(f"[{label}] {_cell(r, args.timeout)}" for label, r in results), flush=True)


if __name__ == "__main__":
    main()
