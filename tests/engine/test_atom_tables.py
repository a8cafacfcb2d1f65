"""Equations own their atoms (issue 13): every derivation interns its atoms
into a table of its own, which the equation carries (``eq.atoms``); printing,
limits, storage and the numerics read it. Two derivations in one process
cannot interfere, and a saved equation loaded in a fresh process prints,
materializes and integrates (compiled field) the same."""

import json
import subprocess
import sys
import threading

import numpy as np
import pytest
import sympy

import modeq
from modeq.algebra import ATOMS
from modeq.algebra.base import STEP
from modeq.algebra.index import AtomRegistry
from modeq.analysis import eps_limit
from modeq.optimizers import adam, heavy_ball, rmsprop, sam

PAIR = [(adam, 1, "stationary"), (sam, 1, "stationary"), (heavy_ball, 1, "exact")]


def _undefined(equation) -> set:
    """Symbols of the terms that are neither hyperparameters, n, p, nor atoms of the equation's table."""
    known = set(equation.optimizer.symbols.values()) | {STEP, equation.atoms.dimension}
    free = set().union(*(t.free_symbols for t in equation.terms))
    return {s for s in free - known if equation.atoms.definition(s) is None}


def test_derivations_in_threads_build_separate_tables_and_the_same_terms():
    default_before = dict(ATOMS._definitions)
    serial = [modeq.derive(opt, order=k, regime=r) for opt, k, r in PAIR]
    results: dict[int, list] = {}

    def run(worker: int) -> None:  # each thread derives all three, in its own order, twice
        order = PAIR[worker:] + PAIR[:worker]
        results[worker] = [modeq.derive(opt, order=k, regime=r) for opt, k, r in order * 2]

    threads = [threading.Thread(target=run, args=(w,)) for w in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    derived = [eq for w in results for eq in results[w]]
    assert len(derived) == 12
    by_name = {eq.optimizer.name: eq for eq in serial}
    for eq in derived:
        expected = by_name[eq.optimizer.name]
        assert eq.terms == expected.terms and str(eq) == str(expected)
        assert not _undefined(eq)
        assert not any("'" in s.name for s in eq.atoms.atoms(eq.terms))  # no renamed duplicate atoms
    assert len({id(eq.atoms) for eq in derived + serial}) == len(derived + serial)  # one table per derivation
    assert ATOMS._definitions == default_before  # derivations leave the default table alone


def test_an_equation_prints_the_same_whatever_else_was_derived():
    equation = modeq.derive(adam, order=1)
    text, latex = str(equation), equation.latex()
    limit = eps_limit(equation, 0)
    modeq.derive(rmsprop, order=2)
    assert str(equation) == text and equation.latex() == latex
    # the limit's new atoms (sign(g), |g|) live in the limit's table, not in the equation's
    new = set(limit.atoms.atoms(limit.terms)) - set(equation.atoms.atoms(equation.terms))
    assert new and all(equation.atoms.definition(s) is None for s in new)
    assert not _undefined(limit) and "‖∇E‖₁" in str(limit)


PROBE = """
import json, sys, sympy, modeq
from modeq.numerics.codegen import compile_field
eq = modeq.load(sys.argv[1])
x, y = sympy.symbols("x y", real=True)
field = compile_field(eq.materialize(x**4/4 + x*y + y**2, (x, y)), cache_dir=sys.argv[2])
print(json.dumps({"str": str(eq), "latex": eq.latex(), "flow": field.flow([1.0, -0.5], 0.05, 20).tolist(),
                  "terms": field.terms([0.3, 0.7]).tolist()}))
"""


def test_a_loaded_equation_integrates_the_same_in_a_fresh_process(tmp_path):
    equation = modeq.derive(sam, order=1, values={"c": 0.25})  # contractions and a reduction S[g^2]
    equation.save(tmp_path / "eq.json")
    out = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "eq.json"), str(tmp_path)],
                         capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    x, y = sympy.symbols("x y", real=True)
    loss = x**4 / 4 + x * y + y**2
    from modeq.numerics.codegen import compile_field

    field = compile_field(equation.materialize(loss, (x, y)), cache_dir=tmp_path)
    assert got["str"] == str(equation) and got["latex"] == equation.latex()
    np.testing.assert_array_equal(got["flow"], field.flow([1.0, -0.5], 0.05, 20))
    np.testing.assert_array_equal(got["terms"], field.terms([0.3, 0.7]))
    # and the numbers are SAM's: f_0 = -grad E, independent of the derivation
    gx, gy = (sympy.lambdify((x, y), sympy.diff(loss, v)) for v in (x, y))
    np.testing.assert_allclose(got["terms"][0], [-gx(0.3, 0.7), -gy(0.3, 0.7)], rtol=1e-14)


def test_terms_taken_without_their_table_are_refused_with_the_fix():
    equation = modeq.derive(heavy_ball, order=1)
    x, y = sympy.symbols("x y", real=True)
    borrowed = modeq.ModifiedEquation(heavy_ball, 1, "", {}, equation.terms, atoms=AtomRegistry())  # no D_1[g] there
    with pytest.raises(ValueError, match=r"atom table does not define.*atoms=<that equation>.atoms"):
        borrowed.materialize(x**2 + x * y, (x, y))
    kept = modeq.ModifiedEquation(heavy_ball, 1, "", {}, equation.terms, atoms=equation.atoms)
    assert kept.materialize(x**2 + x * y, (x, y)).terms == equation.materialize(x**2 + x * y, (x, y)).terms
