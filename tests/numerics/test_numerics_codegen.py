"""Compiled fields against SymPy in high precision; step-dependent fields; the cache."""

import os
import signal
import subprocess
import sys

import mpmath
import numpy as np
import pytest
import sympy

from modeq import derive
from modeq.algebra.base import STEP
from modeq.numerics import compile_field, derived_field, load_field
from modeq.optimizers import adam, gd, rmsprop
from modeq.optimizers.language import h as H

x, y = sympy.symbols("x y", real=True)
BILINEAR = (sympy.Rational(3, 2) - 2 * x * y) ** 2 / 2
VALUES = dict(beta=0.9, rho=0.95, eps=1e-3)


def high_precision(expr, point, n=None):
    subs = {x: mpmath.mpf(point[0]), y: mpmath.mpf(point[1])}
    if n is not None:
        subs[STEP] = n
    with mpmath.workdps(40):
        return float(sympy.N(expr.xreplace(subs), 40))


def test_adam_order2_field_matches_mpmath(cache):
    field = derive(adam, order=2, values=VALUES).materialize(BILINEAR, (x, y))
    compiled = compile_field(field, cache_dir=cache)
    rng = np.random.default_rng(0)
    h = 0.003
    for point in rng.uniform(0.5, 3.0, size=(5, 2)):
        got = compiled(point, h)
        want = [high_precision(e.xreplace({H: sympy.Rational(3, 1000)}), point) for e in field.field()]
        np.testing.assert_allclose(got, want, rtol=1e-11)
        np.testing.assert_allclose(compiled.terms(point)[1], [high_precision(e, point) for e in field.terms[1]],
                                   rtol=1e-11)
    points = rng.uniform(0.5, 3.0, size=(7, 2))
    np.testing.assert_allclose(compiled.batch(points, h), [compiled(p, h) for p in points], rtol=1e-15)


def test_exact_regime_field_depends_on_the_step(cache):
    field = derive(adam, order=1, regime="exact", values=VALUES).materialize(BILINEAR, (x, y))
    compiled = compile_field(field, cache_dir=cache)
    assert compiled.step_dependent
    point = np.array([1.3, 0.7])
    for n in (0, 1, 7, 60):
        want = [high_precision(e, point, n) for e in field.terms[1]]
        # the closed forms in n cancel terms of size ~1e7 (e.g. 16000000 y^2 (...)^2) in double precision
        np.testing.assert_allclose(compiled.terms(point, n)[1], want, rtol=1e-9)
    with pytest.raises(ValueError, match="backward"):
        compiled.flow(point, 0.01, 3, backward=True)


def test_list_of_per_step_fields_and_cycles(cache):
    fields = [derive(gd, order=0).materialize(k * BILINEAR, (x, y)) for k in (1, 2, 3)]
    point = np.array([1.0, 0.5])
    base = compile_field(fields[0], cache_dir=cache)(point, 0.1)
    listed = compile_field(fields, cache_dir=cache)
    for n, k in [(0, 1), (1, 2), (2, 3), (9, 3)]:  # min(n, len - 1)
        np.testing.assert_allclose(listed(point, 0.1, n=n), k * base)
    cycled = compile_field(fields, cycle=[2, 0], cache_dir=cache)
    for n, k in [(0, 3), (1, 1), (2, 3), (5, 1)]:
        np.testing.assert_allclose(cycled(point, 0.1, n=n), k * base)
    # piecewise flow: on [0, h) the field of step 0, on [h, 2h) that of step 1
    two = cycled.flow(point, 0.01, 2, substeps=8)
    first = compile_field(fields[2], cache_dir=cache).flow(point, 0.01, 1, substeps=8)[1]
    second = compile_field(fields[0], cache_dir=cache).flow(first, 0.01, 1, substeps=8)[1]
    np.testing.assert_allclose(two[2], second, rtol=1e-13)


def test_user_names_cannot_clash_with_generated_ones(cache):
    names = sympy.symbols("out theta n math a0", real=True)
    loss = sum((k + 1) * s**2 for k, s in enumerate(names)) / 2 + names[0] * names[4]
    compiled = compile_field(derive(gd, order=1).materialize(loss, names), cache_dir=cache)
    point = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    grad = np.array([1 * 0.1 + 0.5, 2 * 0.2, 3 * 0.3, 4 * 0.4, 5 * 0.5 + 0.1])
    np.testing.assert_allclose(compiled.terms(point)[0], -grad, rtol=1e-15)


def test_bad_inputs_give_clear_errors(cache):
    field = derive(gd, order=1).materialize(BILINEAR, (x, y))
    compiled = compile_field(field, cache_dir=cache)
    with pytest.raises(ValueError, match="2 values"):
        compiled([1.0, 2.0, 3.0], 0.1)
    with pytest.raises(ValueError, match="between 0 and 1"):
        compiled([1.0, 2.0], 0.1, order=2)
    with pytest.raises(ValueError, match="symbols rho"):
        compile_field(derive(rmsprop, order=1, values=dict(eps=1e-3)).materialize(BILINEAR, (x, y)), cache_dir=cache)
    with pytest.raises(ValueError, match="no cached field"):
        load_field("0123456789abcdef", cache)


def test_cached_field_loads_without_sympy_or_rederiving(cache, monkeypatch):
    first = derived_field(gd, BILINEAR, (x, y), order=2, cache_dir=cache)
    import modeq.numerics.store as store

    monkeypatch.setattr(store, "derive", lambda *a, **k: pytest.fail("derived again"))
    monkeypatch.setattr(store, "compile_field", lambda *a, **k: pytest.fail("generated again"))
    again = derived_field(gd, BILINEAR, (x, y), order=2, cache_dir=cache)
    assert again.path == first.path and again.key == first.key
    script = (
        "import sys, numpy as np\n"
        "from modeq.numerics import load_field\n"
        f"f = load_field({first.key!r})\n"
        "v = f(np.array([1.0, 0.5]), 0.1)\n"
        "traj = f.flow(np.array([1.0, 0.5]), 0.1, 3)\n"
        "print(repr(v.tolist()), 'sympy' in sys.modules)\n"
    )
    env = {**os.environ, "MODEQ_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    values, imported = out.rsplit(" ", 1)
    assert imported.strip() == "False"
    np.testing.assert_allclose(eval(values), first([1.0, 0.5], 0.1), rtol=1e-15)


def _shared(depth):
    """Terms whose tree doubles per level while their DAG grows by two nodes:
    e_{k+1} = e_k (e_k + y) from e_0 = x (materialized atoms are shared like this)."""
    e = x
    for _ in range(depth):
        e = e * (e + y)
    return e


def test_symbols_of_shared_terms_are_collected_once_per_subexpression():
    from modeq.components import free_symbols
    from modeq.numerics.codegen import field_source
    from modeq.terms import ComponentField

    a, n = sympy.symbols("a n")
    bound = [sympy.Integral(x * a, (a, 0, y)), sympy.Derivative(x * a, a), sympy.IndexedBase("F")[n] + _shared(3)]
    assert free_symbols(bound) == set().union(*(e.free_symbols for e in bound))
    # 2^60 tree nodes: SymPy's recursive free_symbols never returns; a time limit makes that a failure, not a hang
    def too_slow(*_):
        raise TimeoutError("the terms' symbols were collected by walking their tree, not their DAG")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(60)
    try:
        deep = _shared(60)
        field = ComponentField(BILINEAR, (x, y), ((deep, deep + x),))
        assert free_symbols([deep]) == {x, y} and field.free_symbols == set()
        assert "def _terms_0" in field_source(field)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
