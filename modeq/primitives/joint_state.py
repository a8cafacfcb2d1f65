r"""``states(update, init, names)``: several recurrent states updated together,
:math:`s_{n+1} = \Phi(s_n, \theta_n, G_n(s_n))`, whose update may evaluate the
loss at points that depend on the previous values (DESIGN.md §5.1).

:func:`~modeq.primitives.state.state` binds one previous value, and refuses it
inside a primitive of its own update. A method that takes several inner steps
per step of its map needs more: Lookahead's cycle of :math:`k` Adam steps moves
the fast weights by amounts that depend on both moments :math:`(m, v)` at the
start of the cycle, and evaluates every inner gradient there. ``update`` is a
function of all the previous values :math:`(s^1_n, \dots, s^S_n)`; it returns
their new values, then any number of *readouts*: values of the step computed
from the previous states (Lookahead's displacement over the cycle), which no
state carries to the next step. Each returned value is a node; a state's value
at step :math:`n` is :math:`s_{n+1}`, a readout's is its value at step
:math:`n`. The previous values may enter ``grad(shift)`` and ``loss(shift)``
only through their shifts, which are :math:`O(h)`.

**Classification.** At :math:`h = 0` every shifted evaluation is the
unshifted one, so :math:`\Phi_0 = \Phi|_{h=0}` must be :math:`As + b_0` with a
constant matrix :math:`A` whose spectral radius is below 1 (checked when
:math:`A` is numeric): the states are *fast* together. They then lie on an
invariant manifold :math:`s = \sigma_h(\theta)`, and exactly as for one state
(:mod:`.state`), order by order

.. math:: (I - A)\,\sigma_k = [h^k]\,\Phi\big(e^{-hL_f}(\sigma_0 + \dots + h^{k-1}\sigma_{k-1})\big),

a linear solve with the constant matrix :math:`I - A` (its inverse is computed
once); the right side needs :math:`f_0..f_{k-1}` only. A readout is its body
with the previous values :math:`\sigma_h(\theta_{n-1}) = e^{-hL_f}\sigma_h`.
Slow members (an increment :math:`O(h)`) are refused here: write them with
``state``. The exact regime has no closed forms for such updates (use the
stationary regime, or ``modeq.derive_steps`` for concrete steps, where the
previous values are pulled back from step :math:`s-1`, starting from ``init``).

**Lowering.** The previous values are arrays ``prev_<symbol>`` (the module
names bound symbols so, :mod:`modeq.numerics.discrete`); the first member
lowered computes every new value and readout of the step into arrays (all the
shifted gradients of every body are its children, computed before it), then
copies the new states over the previous ones; each member reads its array.
"""

from __future__ import annotations

import functools
import math
from typing import Callable, Sequence

import numpy as np
import sympy
from sympy.core.symbol import Str

from ..description import DescriptionError, h, structural_digest, theta
from ..series import Series
from .base import Primitive
from .ema import FORGOTTEN
from .grad import Grad
from .loss_value import Loss
from .state import RESCALE

__all__ = ["JointState", "states"]

#: Primitives whose argument is a point shift: at h = 0 they are their unshifted value.
_SHIFTED = (Grad, Loss)


class JointState(Primitive):
    r"""``JointState(symbols, bodies, inits, names, index)``: member ``index``
    of states updated together (``bodies[:len(symbols)]`` are their updates,
    the rest readouts), with the bound symbols ``symbols`` for the previous values."""

    nargs = 5
    memory = True

    @property
    def symbols(self) -> tuple[sympy.Symbol, ...]:
        return tuple(self.args[0])

    @property
    def bodies(self) -> tuple[sympy.Expr, ...]:
        return tuple(self.args[1])

    @property
    def inits(self) -> tuple[sympy.Expr, ...]:
        return tuple(self.args[2])

    @property
    def index(self) -> int:
        return int(self.args[4])

    @property
    def bound(self) -> tuple[sympy.Symbol, ...]:
        return self.symbols

    def member(self, i: int) -> "JointState":
        return JointState(*self.args[:4], sympy.Integer(i))

    def smooth_args(self):
        return self.args[1:3]

    def replay_steps(self):
        rates = _rates(self.args[0], self.args[1])
        if rates.free_symbols:
            return 0
        radius = max(abs(np.linalg.eigvals(np.array(rates.tolist(), dtype=float))), default=0.0)
        return 0 if radius == 0 else math.ceil(math.log(FORGOTTEN) / math.log(radius))

    # -- expansion ------------------------------------------------------------------

    def expand(self, expander, order):
        self.refuse_in_epoch(expander, "state")
        if expander.regime.method == "steps":
            return self._steps(expander, order)
        if expander.regime.method != "stationary":
            raise DescriptionError(
                f"the {expander.regime.name} regime has closed forms in n for moving averages only; states updated "
                "together (states(...)) have none: modeq.derive(optimizer) gives every order for late steps, "
                "modeq.derive_steps(optimizer, steps=N) the fields of concrete steps"
            )
        size = len(self.symbols)
        manifold = self._manifold(expander, order)
        if self.index < size:
            return manifold[self.index]
        previous = [series.flow_moments(lambda r: sympy.Integer(-1) ** r, expander.unknowns.flow_field(order))
                    for series in manifold]
        return self._bound(expander, previous).expand(self.bodies[self.index], order)

    def _bound(self, expander, previous: Sequence[Series]):
        for symbol, series in zip(self.symbols, previous):
            expander = expander.bind(symbol, series)
        return expander

    def _manifold(self, expander, order) -> list[Series]:
        r""":math:`\sigma_0 + \dots + h^{order}\sigma_{order}` of every state (module docstring)."""
        alg, unknowns = expander.algebra, expander.unknowns
        inverse = (sympy.eye(len(self.symbols)) - _rates(self.args[0], self.args[1])).inv()
        size = len(self.symbols)

        def coefficient(known, k):
            flow = unknowns.flow_field(k)
            previous = [Series(alg, [vector[i] for vector in known] + [alg.zero])
                        .flow_moments(lambda r: sympy.Integer(-1) ** r, flow) for i in range(size)]
            bound = self._bound(expander, previous)
            rhs = [bound.expand(body, k).coeffs[k] for body in self.bodies[:size]]
            return [alg.combine([(inverse[i, j], rhs[j]) for j in range(size) if inverse[i, j] != 0])
                    for i in range(size)]

        return unknowns.joint_manifold(self.args[0], order, size, coefficient)

    def _steps(self, expander, order):
        regime, alg = expander.regime, expander.algebra
        s, derivation = regime.step, regime.derivation
        key = (self.args[0], expander, order)  # one bound expander per step: the bodies share their gradients
        if key not in derivation.memo:
            if s == 0:
                previous = [Series.constant(alg, alg.constant(init), order) for init in self.inits]
            else:
                back = derivation.expander(s - 1)
                previous = [derivation.pull_back(back.expand(self.member(i), order), s - 1, s)
                            for i in range(len(self.symbols))]
            derivation.memo[key] = self._bound(expander, previous)
        return derivation.memo[key].expand(self.bodies[self.index], order)

    # -- compiled iterates ------------------------------------------------------------

    def lower(self, out, name, args):
        symbols, bodies = self.symbols, tuple(args[1])
        group = f"new_{symbols[0].name}"

        def step(out):
            inits = [out.number(init, "the initial value of a state") for init in self.inits]
            out.setup(*(f"prev_{s.name} = np.full(p, {v!r})" for s, v in zip(symbols, inits)),
                      *(f"{group}_{i} = np.empty(p)" for i in range(len(bodies))))
            out.step("for j in range(p):", *(f"    {group}_{i}[j] = {out.code(b)}" for i, b in enumerate(bodies)),
                     "for j in range(p):", *(f"    prev_{s.name}[j] = {group}_{i}[j]" for i, s in enumerate(symbols)))

        out.once(group, step)
        out.setup(f"{name} = {group}_{self.index}")


@functools.lru_cache(maxsize=64)
def _rates(symbols: sympy.Tuple, bodies: sympy.Tuple) -> sympy.Matrix:
    r"""The constant matrix :math:`A = \partial\Phi_0/\partial s` of the states, or a
    :class:`DescriptionError` that says what is wrong (module docstring)."""
    symbols, size = tuple(symbols), len(symbols)
    rows = []
    for i, body in enumerate(tuple(bodies)[:size]):
        back, replaced = {}, {}
        for node in body.atoms(Primitive):
            if node.has(*symbols):
                if not isinstance(node, _SHIFTED):
                    raise DescriptionError(
                        f"the previous values of states updated together may enter the primitives of their update "
                        f"only through the shift of grad(shift) or loss(shift), not {node}")
                node_at_rest = node.func(sympy.Integer(0))
            else:
                node_at_rest = node
            symbol = replaced.setdefault(node_at_rest, sympy.Dummy(f"q{len(replaced)}"))
            back[node] = symbol
        at_zero = body.xreplace(back).xreplace({h: sympy.Integer(0)})
        if at_zero.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise DescriptionError(f"the update {body} of state {i + 1} is not defined at h = 0; {RESCALE}")
        row = [sympy.diff(at_zero, s) for s in symbols]
        if any(r.has(*symbols, theta, *replaced.values()) for r in row):
            raise DescriptionError(
                f"the update of state {i + 1} is not affine in the previous values with constant rates as h -> 0 "
                f"(at h = 0 it is {at_zero.xreplace({v: k for k, v in replaced.items()})}); {RESCALE}")
        if row == [sympy.Integer(1) if j == i else sympy.Integer(0) for j in range(size)] and sympy.expand(
                at_zero - symbols[i]) == 0:
            raise DescriptionError(f"state {i + 1} moves by O(h) per step (a slow state); states updated together "
                                   "must contract: write a slow state with state(update)")
        rows.append(row)
    rates = sympy.Matrix(rows)
    if not rates.free_symbols:
        radius = max(abs(np.linalg.eigvals(np.array(rates.tolist(), dtype=float))), default=0.0)
        if not radius < 1:
            raise DescriptionError(f"the states updated together have the rates {rates.tolist()} at h = 0, of spectral "
                                   f"radius {radius:g}: they do not contract (radius < 1 is needed); {RESCALE}")
    return rates


def states(update: Callable[..., Sequence], init: Sequence, names: Sequence[str]) -> tuple[sympy.Expr, ...]:
    r"""States :math:`s^i_{n+1} = \Phi^i(s^1_n, \dots, s^S_n)` updated together,
    :math:`s^i_0` = ``init[i]``; ``update(*previous)`` returns the new values,
    then any readouts (values of the step computed from the previous states).
    Returns one node per returned value (module docs)."""
    init = tuple(init)
    names = tuple(names)
    if not init or len(names) != len(init):
        raise DescriptionError(f"states(update, init, names) needs one initial value and one name per state, "
                               f"got init={init!r}, names={names!r}")
    for name in names:
        if not (isinstance(name, str) and name.isidentifier()):
            raise DescriptionError(f"a state's name must be a short identifier (e.g. 'm'), got {name!r}")
    if not callable(update):
        raise DescriptionError(f"states(update, ...) needs a function of the previous values, got {update!r}")
    provisional = [sympy.Symbol(f"_previous_{i}", real=True) for i in range(len(names))]  # named for the digest
    values = update(*provisional)
    if not isinstance(values, (tuple, list)) or len(values) < len(init) or not all(
            isinstance(v, (sympy.Basic, int, float)) for v in values):
        raise DescriptionError(f"the update of states must return a tuple of at least {len(init)} expressions "
                               "(the new values, then any readouts)")
    bodies = sympy.Tuple(*(sympy.sympify(v) for v in values))
    digest = structural_digest(bodies)[:8]
    symbols = [sympy.Symbol(f"s_{digest}_{i}", real=True) for i in range(len(init))]
    bodies = bodies.xreplace(dict(zip(provisional, symbols)))
    head = (sympy.Tuple(*symbols), bodies, sympy.Tuple(*(sympy.sympify(v) for v in init)),
            sympy.Tuple(*(Str(n) for n in names)))
    _rates(head[0], head[1])
    return tuple(JointState(*head, sympy.Integer(i)) for i in range(len(bodies)))
