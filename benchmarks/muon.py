"""Cost of the modified equations of the optimizers on matrix blocks (issue 16),
Muon and Shampoo: derivation at orders 1 and 2 with symbolic hyperparameters
(Muon's five Newton-Schulz steps and Shampoo's inverse roots each kept as one
operator node), and ``verify`` at order 2 on the two-layer linear network
½‖W₂W₁ − A‖² (W₁ 3×2, W₂ 2×3; two-sided Shampoo on its square form, 2×2 and
2×2) from a cold cache (derivation with the values, compilation of the field,
its matrix stages and the optimizer, integration), each in a fresh
interpreter; the times exclude the import of modeq/SymPy. Wall and CPU
seconds: on a shared machine the CPU time is the one that does not depend on
the load. Targets (Muon): order 1 < 60 s, order 2 < 10 min, verify at order 2 < 2 min.

    PYTHONPATH=$PWD python benchmarks/muon.py [newton_schulz|msign|shampoo|shampoo_one|shampoo_ema ...]   (from the repository's root)

The arguments name the forms to measure (default all): Muon with torch's five
Newton–Schulz steps and with the exact polar factor, two-sided and one-sided Shampoo
(sums of the statistics) and two-sided Shampoo with moving averages of them.
"""

from __future__ import annotations

import sys
import tempfile

from variants import run  # a snippet in a fresh interpreter, its last line's JSON

DERIVE = """
import json, time, sympy
from modeq import derive
from modeq.optimizers import muon, shampoo, shampoo_ema
start, cpu = time.perf_counter(), time.process_time()
eq = derive({optimizer}, order={order})
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({{"seconds": elapsed, "cpu": cpu, "ops": int(sympy.count_ops(eq.terms[-1]))}}))
"""

VERIFY = """
import json, time
import modeq
from modeq.optimizers import muon, shampoo, shampoo_ema
import sys
sys.path.insert(0, "tests/numerics")
from {module} import {problem}
loss, params, theta0 = {problem}()
start, cpu = time.perf_counter(), time.process_time()
report = modeq.verify({optimizer}, loss, params, theta0, order=2, values={values!r}, hs={hs!r}, T={T!r}, cache_dir={cache!r},
                      max_seconds=None)
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({{"seconds": elapsed, "cpu": cpu, "slopes": [r.fitted for r in report.orders], "passed": report.passed}}))
"""

#: Each form: the optimizer (code), the module of its order tests, the problem verified there and the
#: name of that module's hyperparameter values for it.
FORMS = {
    "newton_schulz": ("muon(orthogonalizer='newton_schulz')", "test_muon_orders", "network", "VALUES"),
    "msign": ("muon(orthogonalizer='msign')", "test_muon_orders", "network", "VALUES"),
    "shampoo": ("shampoo", "test_shampoo_orders", "square_network", "VALUES"),
    "shampoo_one": ("shampoo(sides='one')", "test_shampoo_orders", "network", "VALUES"),
    "shampoo_ema": ("shampoo_ema", "test_shampoo_orders", "square_network", "EMA_VALUES"),
}


def main(forms: list[str]) -> None:
    sys.path.insert(0, "tests/numerics")
    import importlib

    print(f"{'form':<14} {'':<16} {'wall s':>8} {'cpu s':>8}  detail")
    for form in forms:
        optimizer, module, problem, values = FORMS[form]
        tests = importlib.import_module(module)
        for order in (1, 2):
            d = run(DERIVE.format(order=order, optimizer=optimizer))
            print(f"{form:<14} {f'derive order {order}':<16} {d['seconds']:>8.1f} {d['cpu']:>8.1f}  {d['ops']} ops in f_{order}")
        with tempfile.TemporaryDirectory() as cache:
            v = run(VERIFY.format(values=getattr(tests, values), hs=tests.HS, T=tests.T, cache=cache, optimizer=optimizer, module=module, problem=problem))
        slopes = ", ".join(f"{s:.2f}" for s in v["slopes"])
        print(f"{form:<14} {'verify order 2':<16} {v['seconds']:>8.1f} {v['cpu']:>8.1f}  slopes {slopes}, confirmed {v['passed']}")


if __name__ == "__main__":
    unknown = [f for f in sys.argv[1:] if f not in FORMS]
    if unknown:
        sys.exit(f"unknown form {', '.join(unknown)}; the forms are: {', '.join(FORMS)}")
    main(sys.argv[1:] or list(FORMS))
