r"""The step-by-step fields in their distributed form equal, exactly, the
expanded ones derived before (``stepwise_forms.py`` says what is recorded).

Atoms first. A new atom is the recorded atom of the same name (same
definition), or a recorded one times a rational: where a coefficient used to
be multiplied into a denominator, :math:`D_1[g/(4\sqrt V + 2/3)]`, it is now
pulled out of the argument, :math:`\tfrac14 D_1[g/(\sqrt V + 1/6)]` (the
contractions are multilinear), and recorded atoms that are such multiples of
one another (the expanded form had some) are written through one of them.
Candidates are found by a fingerprint invariant under scaling (the ratio of
an argument's values at two fixed points); the ratio itself is then checked
exactly at three random points. Then the difference of the two terms is zero:

* symbolically where it is short: each :math:`V^{k/2}` is written
  :math:`r_V^k` with a new symbol :math:`r_V`, the difference put over one
  denominator, and its numerator reduced modulo :math:`r_V^2 - V`, which
  leaves the polynomial 0;
* otherwise at three random points, every symbol (atoms included: they are
  independent variables of the index form) set to a random rational, exactly:
  the radicals :math:`\sqrt{V}` become square roots of rationals, which SymPy
  keeps exact and merges, so after rationalizing a zero difference is the
  number 0.
"""

import json
import random
import zlib

import pytest
import sympy

from modeq.codec import decode_nodes

from .stepwise_forms import CASES, FIXTURE, arguments

RECORDED = json.loads(FIXTURE.read_text())
NODES = decode_nodes(RECORDED["nodes"])
#: terms up to this many operations are checked symbolically, longer ones at random points
SYMBOLIC_OPS = 400


def _recorded(name):
    return [[NODES[i] for i in step] for step in RECORDED["cases"][name]["terms"]]


def _fixed(symbol, salt):
    """A rational for ``symbol`` that depends only on its name (the same for the old and new atoms)."""
    h = zlib.crc32(f"{salt}:{symbol.name}".encode())
    return sympy.Rational(h % 61 - 30 or 1, h // 61 % 29 + 1)


def _random_point(symbols, rng):
    return {s: sympy.Rational(rng.randint(-40, 40) or 1, rng.randint(1, 30)) for s in symbols}


def _zero(x):
    """Whether ``x`` is exactly 0: each V**(k/2) written r_V**k, the numerator
    over one denominator reduced modulo r_V**2 - V."""
    radicals, replacement = {}, {}
    for power in x.atoms(sympy.Pow):
        if power.exp.is_Rational and power.exp.q == 2:
            r = radicals.setdefault(power.base, sympy.Dummy("r"))
            replacement[power] = r ** power.exp.p
    numerator = sympy.expand(sympy.numer(sympy.together(x.xreplace(replacement))))
    for base, r in radicals.items():
        numerator = sympy.expand(sympy.rem(numerator, r**2 - base, r))
    return numerator == 0


def _zero_at_points(x, seed):
    """Whether ``x`` is 0 at three random rational points, exactly: its value is
    a sum of square roots of rationals (SymPy merges equal ones), rationalized."""
    rng = random.Random(seed)
    symbols = sorted(x.free_symbols, key=sympy.default_sort_key)
    return all(sympy.expand(sympy.radsimp(x.xreplace(_random_point(symbols, rng)))) == 0 for _ in range(3))


def _fingerprint(x):
    """:math:`x(p_1)/x(p_2)` at two fixed points (to 10 digits): the same for x and c*x."""
    p1, p2 = ({s: _fixed(s, salt) for s in x.free_symbols} for salt in (1, 2))
    return float(sympy.N(x.xreplace(p1) / x.xreplace(p2), 15)).__round__(10)


def _ratio(new_args, old_args, seed):
    """The rational c with prod(new) = c prod(old), argument by argument, checked exactly; or ``None``."""
    total = sympy.S.One
    for a, b in zip(new_args, old_args):
        point = {s: _fixed(s, 3) for s in a.free_symbols | b.free_symbols}
        c = sympy.nsimplify(sympy.N(a.xreplace(point) / b.xreplace(point), 40), rational=True, tolerance=1e-25)
        if not c.is_Rational or c == 0 or not _zero_at_points(a - c * b, seed):
            return None
        total *= c
    return total


class _Atoms:
    """Atoms that take arguments, each mapped to a representative of the atoms
    equal to it up to a rational (the first one met): ``mapping``."""

    def __init__(self, seed):
        self.seed, self.mapping, self._representatives = seed, {}, {}

    def add(self, symbol, kind, loss, args, new):
        args = sorted((a.xreplace(self.mapping) for a in args), key=_fingerprint)
        key = (kind, loss, tuple(map(_fingerprint, args)))
        found = self._representatives.get(key)
        if found is None:
            assert not new, f"{symbol} is no recorded atom times a rational"
            self._representatives[key] = (symbol, args)
            return
        c = _ratio(args, found[1], self.seed)
        assert c is not None, f"{symbol} and {found[0]} have proportional arguments, but not exactly"
        self.mapping[symbol] = c * found[0]


@pytest.mark.parametrize("name", list(RECORDED["cases"]))  # built-ins added later have no old form
def test_distributed_fields_equal_the_expanded_ones(name):
    record = RECORDED["cases"][name]
    if "error" in record:
        with pytest.raises(Exception) as error:
            CASES[name]()
        assert [type(error.value).__name__, str(error.value)] == record["error"]
        return
    derived = CASES[name]()
    new, old = derived.terms, _recorded(name)
    atoms = _Atoms(seed=len(name))
    old_symbols = {}
    for atom, (kind, loss, args) in record["atoms"].items():
        old_symbols[atom] = symbol = sympy.Symbol(atom)
        atoms.add(symbol, kind, loss, [NODES[i] for i in args], new=False)
    for symbol, definition in derived.atoms.atoms([t for step in new for t in step]).items():
        found = arguments(definition)
        if symbol.name in old_symbols:
            atoms.mapping[symbol] = atoms.mapping.get(old_symbols[symbol.name], old_symbols[symbol.name])
        elif found is not None:
            atoms.add(symbol, *found, new=True)
    assert len(new) == len(old)
    for step, (new_terms, old_terms) in enumerate(zip(new, old)):
        assert len(new_terms) == len(old_terms)
        for k, (a, b) in enumerate(zip(new_terms, old_terms)):
            a, b = a.xreplace(atoms.mapping), b.xreplace(atoms.mapping)
            if a == b:
                continue
            difference = a - b
            if sympy.count_ops(difference) <= SYMBOLIC_OPS:
                assert _zero(difference), (name, step, k)
            else:
                assert _zero_at_points(difference, seed=1000 * step + k), (name, step, k)
