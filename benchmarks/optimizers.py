"""Derive and verify times of issue 14's built-ins (its targets).

Targets: every new built-in derived at order 2 in under 30 s; ``verify`` at
order 2 in under 60 s cold (empty compile cache: derivation, code generation,
numba compilation and the runs). Each case runs in a fresh interpreter with a
fresh cache directory; wall and CPU seconds of the child are printed (the
machine is shared: CPU time is what a case takes on a free core), and the
fitted verify slopes.

    python benchmarks/optimizers.py [--timeout 600] [--orders 2] [--names nadam ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

#: Each built-in of issue 14 with the verify setting of its slope test (tests/numerics, tests/engine):
#: loss, start, values and verify's other arguments.
QUARTIC, BILINEAR, TIMED = "x**4/4 + x**2/2 + sin(y) + x*y", "(3/2 - 2*x*y)**2/2", "(x*y - 1)**2/2 + x**4/4"
LATER = dict(T=0.5, t0=0.6, hs=[0.01, 0.005, 0.0025])
CASES = {
    "adagrad": (QUARTIC, [0.8, -0.5], {}, dict(T=1.0, hs=[0.05, 0.025, 0.0125, 0.00625, 0.003125])),
    "schedule_free_sgd": (QUARTIC, [0.8, -0.5], {"beta": 0.9, "t0": 0.5}, dict(T=1.0)),
    "schedule_free_adamw": (QUARTIC, [0.8, -0.5], {"beta1": 0.9, "beta2": 0.0, "eps": 0.1, "weight_decay": 0.1,
                                                   "t0": 0.5},
                            dict(T=1.0, hs=[0.01, 0.005, 0.0025, 0.00125, 0.000625])),
    "adam_warmup_cosine": (TIMED, [1.0, 0.5], {"beta": 0.5, "rho": 0.5, "eps": 1.0}, LATER),
    "nadam": (TIMED, [1.0, 0.5], {"beta1": 0.5, "beta2": 0.5, "eps": 1.0}, LATER),
    "ademamix_warmup": (TIMED, [1.0, 0.5], {"beta1": 0.5, "beta2": 0.5, "beta3": 0.8, "alpha": 2.0, "warmup": 2.0,
                                            "eps": 1.0}, LATER),
    "adabelief": (BILINEAR, [1.0, 0.5], {"beta1": 0.9, "beta2": 0.95, "eps": 0.1, "weight_decay": 0.1}, {}),
    "adan": (BILINEAR, [2.8, 3.5], {"beta1": 0.9, "beta2": 0.8, "beta3": 0.95, "eps": 1e-3, "weight_decay": 0.1}, {}),
    "ademamix": (BILINEAR, [2.8, 3.5], {"beta1": 0.9, "beta2": 0.95, "beta3": 0.97, "alpha": 0.5, "eps": 1e-3,
                                        "weight_decay": 0.1}, dict(T=0.4)),
    "lookahead": (TIMED, [1.0, 0.5], {"beta": 0.5, "rho": 0.5, "eps": 1.0, "alpha": 0.5},
                  dict(T=1.0, hs=[0.04, 0.02, 0.01, 0.005])),
    "polyak": ("x**4/4 + x**2/2 + (x - 2*y)**2/2 + x**2*y**2/2", [1.0, 0.5], {"E_star": 0}, {}),
}

PROBE = """
import json, time
import modeq
from modeq.optimizers import get
wall, cpu = time.perf_counter(), time.process_time()
if {kind!r} == "derive":
    modeq.derive(get({name!r}), order={order}, max_seconds=None)
    slopes = []
else:
    report = modeq.verify(get({name!r}), {loss!r}, "x,y", {start!r}, order={order}, values={values!r},
                          max_seconds=None, **{extra!r})
    slopes = [None if r.fitted is None else round(r.fitted, 2) for r in report.orders] + [report.passed]
print(json.dumps(dict(wall=time.perf_counter() - wall, cpu=time.process_time() - cpu, slopes=slopes)))
"""


def run(kind: str, name: str, order: int, timeout: float) -> dict:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, MODEQ_CACHE_DIR=cache, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
        loss, start, values, extra = CASES[name]
        code = PROBE.format(kind=kind, name=name, order=order, loss=loss, start=start, values=values, extra=extra)
        try:
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                                 env=env)
        except subprocess.TimeoutExpired:
            return {"error": f"> {timeout:g} s"}
        if out.returncode:
            return {"error": out.stderr.strip().splitlines()[-1][:60]}
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--orders", type=int, nargs="+", default=[2])
    parser.add_argument("--names", nargs="+", default=list(CASES), choices=list(CASES))
    args = parser.parse_args()
    print(f"{'optimizer':<20} {'order':>5} {'derive wall':>12} {'derive cpu':>11} {'verify wall':>12} "
          f"{'verify cpu':>11}  slopes")
    for name in args.names:
        for order in args.orders:
            d, v = run("derive", name, order, args.timeout), run("verify", name, order, args.timeout)
            cells = [d.get("error") or f"{d['wall']:.1f}", d.get("error") or f"{d['cpu']:.1f}",
                     v.get("error") or f"{v['wall']:.1f}", v.get("error") or f"{v['cpu']:.1f}"]
            print(f"{name:<20} {order:>5} {cells[0]:>12} {cells[1]:>11} {cells[2]:>12} {cells[3]:>11}  "
                  f"{v.get('slopes', '')}", flush=True)


if __name__ == "__main__":
    main()
