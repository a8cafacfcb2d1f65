"""Cost of the built-in variants (modeq.optimizers.variants, polyak, the
loss-value primitive's built-in, adagrad and schedule-free SGD/AdamW, whose sums and averages are slow
states): derivation at
order 2 with symbolic hyperparameters, and ``verify`` at order 2 from a cold
cache (derivation with the values, compilation of fields and optimizer,
integration), each in a fresh interpreter; the times exclude the import of
modeq/SymPy. Wall and CPU seconds: on a shared machine the CPU time is the
one that does not depend on the load. Targets (issue 14): derivation < 30 s, verify < 60 s.

    python benchmarks/variants.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

BILINEAR = "(3/2 - 2*x*y)**2/2"
#: name -> (verify values, theta0, T[, loss]): the cases of tests/numerics/test_variants.py and
#: tests/engine/test_primitive_loss.py (Polyak's step needs a loss whose minimum value is E*) and
#: tests/numerics/test_numerics_orders.py (adagrad with its defaults, schedule-free from t0 = 1/2)
CASES = {
    "adabelief": (dict(beta1=0.9, beta2=0.95, eps=0.1, weight_decay=0.1), [1.0, 0.5], 1.0),
    "adan": (dict(beta1=0.9, beta2=0.8, beta3=0.95, eps=1e-3, weight_decay=0.1), [2.8, 3.5], 1.0),
    "ademamix": (dict(beta1=0.9, beta2=0.95, beta3=0.97, alpha=0.5, eps=1e-3, weight_decay=0.1), [2.8, 3.5], 0.4),
    "qhadam": (dict(beta1=0.9, beta2=0.95, nu1=0.7, nu2=0.9, eps=1e-3), [2.8, 3.5], 1.0),
    "qhm": (dict(beta=0.5, nu=0.7), [1.0, 0.5], 1.0),
    "polyak": (dict(E_star=0), [1.0, 0.5], 1.0, "x**4/4 + x**2/2 + (x - 2*y)**2/2 + x**2*y**2/2"),
    "adagrad": ({}, [0.8, -0.5], 1.0, "x**4/4 + x**2/2 + sin(y) + x*y"),
    # schedule-free: from t0 = 1/2 (singular at t = 0); AdamW with beta2 = 0 (no empty-average transient)
    "schedule_free_sgd": (dict(beta=0.9, t0=0.5), [0.8, -0.5], 1.0, "x**4/4 + x**2/2 + sin(y) + x*y"),
    "schedule_free_adamw": (dict(beta1=0.9, beta2=0.0, eps=0.1, weight_decay=0.1, t0=0.5), [0.8, -0.5], 1.0,
                            "x**4/4 + x**2/2 + sin(y) + x*y"),
}

DERIVE = """
import json, time, sympy
from modeq import derive
from modeq.optimizers import get
start, cpu = time.perf_counter(), time.process_time()
eq = derive(get({name!r}), order=2)
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({{"seconds": elapsed, "cpu": cpu, "ops": int(sympy.count_ops(eq.terms[-1]))}}))
"""

VERIFY = """
import json, time
import modeq
start, cpu = time.perf_counter(), time.process_time()
report = modeq.verify({name!r}, {loss!r}, "x,y", {theta0!r}, order=2, values={values!r}, T={T!r},
                      cache_dir={cache!r})
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({{"seconds": elapsed, "cpu": cpu, "slopes": [r.fitted for r in report.orders], "passed": report.passed}}))
"""


def run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    print(f"{'optimizer':<10} {'derive s':>9} {'(cpu)':>7} {'ops in f_2':>11} {'verify s':>9} {'(cpu)':>7}"
          "  slopes (orders 0, 1, 2)   confirmed")
    for name, (values, theta0, T, *loss) in CASES.items():
        d = run(DERIVE.format(name=name))
        with tempfile.TemporaryDirectory() as cache:
            v = run(VERIFY.format(name=name, loss=(loss or [BILINEAR])[0], theta0=theta0, values=values, T=T,
                                  cache=cache))
        slopes = ", ".join(f"{s:.2f}" for s in v["slopes"])
        print(f"{name:<10} {d['seconds']:>9.1f} {d['cpu']:>7.1f} {d['ops']:>11} {v['seconds']:>9.1f} {v['cpu']:>7.1f}"
              f"  {slopes:<24} {v['passed']}")


if __name__ == "__main__":
    main()
