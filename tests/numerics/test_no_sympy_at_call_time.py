"""Numerics do not use SymPy when they evaluate (developers' guide; DESIGN.md §5.4).

* a cached compiled field loads and evaluates (every method, the order check's
  error included) in a process where importing SymPy raises;
* along :func:`modeq.numerics.verify`, no SymPy function runs while a compiled
  field or the compiled optimizer is evaluated (SymPy is used before, to derive
  and check the start, never per step);
* :class:`modeq.torch.TorchField` calls no SymPy function when called.

SymPy calls are seen with :func:`sys.setprofile`: every Python function whose
code lies in SymPy's package directory counts, but generators: the garbage
collector closes an unfinished one (CSE's ``numbered_symbols`` of an earlier
code generation) wherever it happens to run, and a real use of SymPy calls
plain functions too."""

import contextlib
import inspect
import os
import subprocess
import sys

import numpy as np
import pytest
import sympy

from modeq.numerics import derived_field
from modeq.numerics.discrete import CompiledOptimizer
from modeq.numerics.field import CompiledField
from modeq.numerics.verify import verify
from modeq.optimizers import gd, heavy_ball

x, y = sympy.symbols("x y", real=True)
BILINEAR = (sympy.Rational(3, 2) - 2 * x * y) ** 2 / 2
SYMPY = os.path.dirname(sympy.__file__) + os.sep
GENERATORS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


@contextlib.contextmanager
def sympy_calls(counts: list, only_inside=lambda: True):
    """Appends to ``counts`` the name of every SymPy function called in the block
    (while ``only_inside()`` holds)."""
    def profile(frame, event, arg):
        code = frame.f_code
        if event == "call" and code.co_filename.startswith(SYMPY) and not code.co_flags & GENERATORS and only_inside():
            counts.append(code.co_name)

    sys.setprofile(profile)
    try:
        yield counts
    finally:
        sys.setprofile(None)


def test_the_probe_sees_sympy_calls():
    with sympy_calls([]) as counts:
        sympy.Symbol("z") + 1
    assert counts


BLOCKED = """
import sys
tried = []
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "sympy" or name.startswith("sympy."):
            tried.append(name)
            raise ImportError("sympy is blocked")
sys.meta_path.insert(0, Block())
import numpy as np
from modeq.numerics import load_field
f = load_field({key!r})
g = load_field({path!r})
p = np.array([1.0, 0.5])
values = [f(p, 0.1).tolist(), f(p, 0.1, order=1).tolist(), f.terms(p).tolist(), g.batch(np.stack([p, p]), 0.1).tolist(),
          f.flow(p, 0.1, 3).tolist(), f.flow(p, 0.1, 2, backward=True).tolist()]
try:
    f(p, 0.1, order=5)
except ValueError as error:
    values.append(str(error))
print(repr(values))
print(repr(tried), "sympy" in sys.modules)
"""


def test_a_cached_field_evaluates_with_sympy_blocked(cache):
    field = derived_field(gd, BILINEAR, (x, y), order=2, cache_dir=cache)
    script = BLOCKED.format(key=field.key, path=str(field.path))
    env = {**os.environ, "MODEQ_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    values, imports = done.stdout.strip().splitlines()
    assert imports == "[] False"
    p = np.array([1.0, 0.5])
    got = eval(values)
    np.testing.assert_allclose(got[0], field(p, 0.1), rtol=1e-15)
    np.testing.assert_allclose(got[1], field(p, 0.1, order=1), rtol=1e-15)
    np.testing.assert_allclose(got[2], field.terms(p), rtol=1e-15)
    np.testing.assert_allclose(got[3], [field(p, 0.1)] * 2, rtol=1e-15)
    np.testing.assert_allclose(got[4], field.flow(p, 0.1, 3), rtol=1e-15)
    np.testing.assert_allclose(got[5], field.flow(p, 0.1, 2, backward=True), rtol=1e-15)
    assert got[6].startswith("order must be a whole number between 0 and 2")


def test_verify_calls_no_sympy_while_it_evaluates(cache, monkeypatch):
    inside = [0]
    evaluated = []

    def counted(method):
        def wrapper(self, *args, **kwargs):
            inside[0] += 1
            evaluated.append(method.__name__)
            try:
                return method(self, *args, **kwargs)
            finally:
                inside[0] -= 1
        return wrapper

    for cls, names in ((CompiledField, ("__call__", "batch", "terms", "flow")), (CompiledOptimizer, ("run",))):
        for name in names:
            monkeypatch.setattr(cls, name, counted(getattr(cls, name)))
    with sympy_calls([], only_inside=lambda: inside[0] > 0) as counts:
        report = verify(heavy_ball, BILINEAR, (x, y), [1.0, 0.5], order=1, values=dict(beta=0.5), T=0.5, method="global",
                        cache_dir=cache)
    assert report.orders and {"flow", "run"} <= set(evaluated)
    assert counts == []


def test_a_torch_field_calls_no_sympy():
    torch = pytest.importorskip("torch")
    import modeq
    import modeq.torch

    field = modeq.torch.compile(modeq.derive(heavy_ball, order=2), lambda t: (1.5 - 2 * t[0] * t[1]) ** 2 / 2)
    theta = torch.tensor([1.0, 0.5], dtype=torch.float64)
    first = field(theta, 0.1)
    with sympy_calls([]) as counts:
        again = field(theta, 0.1)
        field.terms(theta)
    assert counts == []
    assert torch.equal(first, again)
