"""Cost of Muon's modified equation (issue 16): derivation at orders 1 and 2 with
symbolic hyperparameters (five Newton-Schulz steps, kept as one operator node),
and ``verify`` at order 2 on the two-layer linear network ½‖W₂W₁ − A‖²
(W₁ 3×2, W₂ 2×3) from a cold cache (derivation with the values, compilation of
the field, its matrix stages and the optimizer, integration), each in a fresh
interpreter; the times exclude the import of modeq/SymPy. Wall and CPU
seconds: on a shared machine the CPU time is the one that does not depend on
the load. Targets: order 1 < 60 s, order 2 < 10 min, verify at order 2 < 2 min.

    PYTHONPATH=$PWD python benchmarks/muon.py [newton_schulz|msign ...]   (from the repository's root)

The argument names Muon's forms to measure (``orthogonalizer``; default both):
torch's five Newton–Schulz steps and the exact polar factor.
"""

from __future__ import annotations

import sys
import tempfile

from variants import run  # a snippet in a fresh interpreter, its last line's JSON

DERIVE = """
import json, time, sympy
from modeq import derive
from modeq.optimizers import muon
start, cpu = time.perf_counter(), time.process_time()
eq = derive(muon(orthogonalizer={form!r}), order={order})
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({{"seconds": elapsed, "cpu": cpu, "ops": int(sympy.count_ops(eq.terms[-1]))}}))
"""

VERIFY = """
import json, time
import modeq
from modeq.optimizers import muon
import sys
sys.path.insert(0, "tests/numerics")
from test_muon_orders import network
loss, params, theta0 = network()
start, cpu = time.perf_counter(), time.process_time()
report = modeq.verify(muon(orthogonalizer={form!r}), loss, params, theta0, order=2, values={values!r}, hs={hs!r}, T={T!r}, cache_dir={cache!r},
                      max_seconds=None)
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({{"seconds": elapsed, "cpu": cpu, "slopes": [r.fitted for r in report.orders], "passed": report.passed}}))
"""


def main(forms: list[str]) -> None:
    sys.path.insert(0, "tests/numerics")
    from test_muon_orders import HS, T, VALUES

    print(f"{'muon':<14} {'':<16} {'wall s':>8} {'cpu s':>8}  detail")
    for form in forms:
        for order in (1, 2):
            d = run(DERIVE.format(order=order, form=form))
            print(f"{form:<14} {f'derive order {order}':<16} {d['seconds']:>8.1f} {d['cpu']:>8.1f}  {d['ops']} ops in f_{order}")
        with tempfile.TemporaryDirectory() as cache:
            v = run(VERIFY.format(values=VALUES, hs=HS, T=T, cache=cache, form=form))
        slopes = ", ".join(f"{s:.2f}" for s in v["slopes"])
        print(f"{form:<14} {'verify order 2':<16} {v['seconds']:>8.1f} {v['cpu']:>8.1f}  slopes {slopes}, confirmed {v['passed']}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["newton_schulz", "msign"])
