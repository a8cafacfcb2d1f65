"""Index-form derivation time per optimizer and order (prints a table).

Each case runs in a fresh interpreter, so no cache or interned atom from an
earlier case helps it; the time excludes the import of modeq/SymPy.
Targets (issue 2): Adam order 1 < 1 s, order 2 < 10 s, order 3 < 2 min;
GD order 6 < 10 s. The last table is the cost of the step-by-step (mini-batch)
fields, which verify caps at 64 steps.

    python benchmarks/derive.py
"""

from __future__ import annotations

import json
import subprocess
import sys

CASES = [("gd", k) for k in range(1, 9)] + [("heavy_ball", k) for k in range(1, 5)] + [("adam", k) for k in range(1, 4)]

PROBE = """
import json, time, sympy
from modeq import derive
from modeq.optimizers import get
start = time.perf_counter()
eq = derive(get({name!r}), order={order})
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed, "ops": int(sympy.count_ops(eq.terms[-1])), "atoms": len(eq.terms[-1].free_symbols)}}))
"""

DIMENSION_PROBE = """
import json, time, sympy
from modeq import derive, derive_components
from modeq.optimizers import adam
params = sympy.symbols("x0:{p}", real=True)
loss = sum((params[i] - params[(i + 1) % {p}] ** 2) ** 2 for i in range({p})) / 2
values = {{"beta": 0.9, "rho": 0.95, "eps": 1e-3}}
start = time.perf_counter(); derive(adam, order=1, values=values); index = time.perf_counter() - start
start = time.perf_counter(); derive_components(adam, loss, params, order=1, values=values); direct = time.perf_counter() - start
print(json.dumps({{"index": index, "components": direct}}))
"""

STEPWISE_PROBE = """
import json, time, sympy
from modeq import derive_steps
from modeq.optimizers import get
start = time.perf_counter()
eq = derive_steps(get({name!r}), {steps}, order={order}, batches=3, values={values!r})
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed, "ops": int(sum(sympy.count_ops(t) for t in eq.terms[-1]))}}))
"""
STEPWISE_CASES = [("adam", 1, {"beta": 0.9, "rho": 0.95, "eps": 1e-3}), ("heavy_ball", 2, {"beta": 0.5})]


def run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    print("Index-form derivation (stationary regime, symbolic hyperparameters)")
    print(f"{'optimizer':<12} {'order':>5} {'seconds':>9} {'ops in f_N':>11} {'atoms in f_N':>13}")
    for name, order in CASES:
        r = run(PROBE.format(name=name, order=order))
        print(f"{name:<12} {order:>5} {r['seconds']:>9.3f} {r['ops']:>11} {r['atoms']:>13}")
    print()
    print("Adam order 1 (numeric hyperparameters): index form does not depend on p; a direct")
    print("component derivation on a p-parameter loss grows with p")
    print(f"{'p':>3} {'index s':>9} {'components s':>13}")
    for p in (2, 4, 8):
        r = run(DIMENSION_PROBE.format(p=p))
        print(f"{p:>3} {r['index']:>9.3f} {r['components']:>13.3f}")
    print()
    print("Step-by-step fields (derive_steps, 3 batches, cyclic): all steps 0..N-1; cost grows ~N^2")
    print(f"{'optimizer':<12} {'order':>5} {'steps':>6} {'seconds':>9} {'ops in f^(N-1)':>15}")
    for name, order, values in STEPWISE_CASES:
        for steps in (4, 8, 16, 32):
            r = run(STEPWISE_PROBE.format(name=name, order=order, steps=steps, values=values))
            print(f"{name:<12} {order:>5} {steps:>6} {r['seconds']:>9.3f} {r['ops']:>15}")


if __name__ == "__main__":
    main()
