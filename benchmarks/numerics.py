"""Compiled modified fields against ``sympy.lambdify(..., "numpy")``.

Adam's order-2 stationary field (beta=0.9, rho=0.95, eps=1e-3) on the bilinear
loss E = (3/2 - 2xy)^2/2 and on a 10-parameter polynomial loss: time per point
for a single point and for a batch of 10^4 points, compile time (fresh cache)
and the time to load the compiled field from the cache in a new process.

    python benchmarks/numerics.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import timeit

import numpy as np
import sympy

from modeq import derive
from modeq.numerics import derived_field
from modeq.optimizers import adam
from modeq.optimizers.language import h as H

VALUES = dict(beta=0.9, rho=0.95, eps=1e-3)
STEP = 1e-3


def losses():
    x, y = sympy.symbols("x y", real=True)
    yield "bilinear (p=2)", (sympy.Rational(3, 2) - 2 * x * y) ** 2 / 2, (x, y)
    w = sympy.symbols("w0:10", real=True)
    poly = sum((k + 1) * w[k] ** 2 for k in range(10)) / 20 + sum(w[k] * w[k + 1] for k in range(9)) / 4 \
        + sum(w[k] ** 4 for k in range(0, 10, 3)) / 8
    yield "polynomial (p=10)", poly, w


def per_call(fn, number):
    return min(timeit.repeat(fn, number=number, repeat=3)) / number


def main() -> None:
    rows = []
    for name, loss, params in losses():
        cache = tempfile.mkdtemp(prefix="modeq-bench-")
        p = len(params)
        start = time.perf_counter()
        compiled = derived_field(adam, loss, params, order=2, values=VALUES, cache_dir=cache)
        point = np.linspace(0.5, 1.5, p)
        compiled(point, STEP)
        compiled.batch(np.tile(point, (2, 1)), STEP)
        compile_time = time.perf_counter() - start
        field = derive(adam, order=2, values=VALUES).materialize(loss, params).field()
        lambdified = sympy.lambdify([params], [e.xreplace({H: STEP}) for e in field], "numpy")
        points = np.random.default_rng(0).uniform(0.5, 1.5, size=(10_000, p))
        single_c = per_call(lambda: compiled(point, STEP), 2000)
        single_l = per_call(lambda: lambdified(point), 200)
        batch_c = per_call(lambda: compiled.batch(points, STEP), 5) / len(points)
        batch_l = per_call(lambda: lambdified(points.T), 3) / len(points)
        script = ("import time; t = time.perf_counter()\nimport numpy as np\nfrom modeq.numerics import load_field\n"
                  f"f = load_field({compiled.key!r}); f(np.ones({p}), {STEP}); f.batch(np.ones((2, {p})), {STEP})\n"
                  "print(time.perf_counter() - t)")
        env = {**os.environ, "MODEQ_CACHE_DIR": cache}
        load = float(subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                                    check=True).stdout)
        rows.append((name, single_c, single_l, batch_c, batch_l, compile_time, load))
    print(f"{'loss':18} {'single: compiled':>17} {'lambdify':>10} {'speed-up':>9} "
          f"{'10^4 batch/pt: compiled':>24} {'lambdify':>10} {'speed-up':>9} {'compile':>8} {'cached load':>12}")
    for name, sc, sl, bc, bl, comp, load in rows:
        print(f"{name:18} {sc * 1e6:14.2f} us {sl * 1e6:7.1f} us {sl / sc:8.0f}x {bc * 1e6:21.3f} us "
              f"{bl * 1e6:7.3f} us {bl / bc:8.1f}x {comp:7.1f}s {load:11.2f}s")


if __name__ == "__main__":
    main()
