r"""``lag(x, k, init=None)``: the value of ``x`` at step :math:`n-k` (Polyak
momentum uses ``lag(theta, 1)``); before the start the value is ``init`` or,
when ``init`` is ``None``, the first value :math:`x_0`.

A history sum with the single weight :math:`a_K = 1`: stationary moments
:math:`w_r = (-K)^r`. Exact regime: the backward composition of the step
flows, :math:`u(\theta_{n-K}) = e^{-hL_{f^{(n-1)}}} \cdots e^{-hL_{f^{(n-K)}}} u`,
exact to every order. Lowering: a ring buffer of the last :math:`K` values,
filled at step 0 with ``init`` or :math:`x_0`.
"""

from __future__ import annotations

import sympy

from ..description import DescriptionError
from ..series import Series
from .base import Primitive
from .ema import EMA
from .history import History
from .state import State

__all__ = ["Lag", "lag"]


class Lag(History):
    r"""``Lag(x, k, init)``: the value of ``x`` at step :math:`n-k`.

    ``init`` is ``sympy.nan`` for "the first value :math:`x_0`"."""

    nargs = 3

    @property
    def steps_back(self) -> int:
        return int(self.args[1])

    def moment(self, r):
        return sympy.Integer(-self.steps_back) ** r

    def smooth_args(self):
        return self.args[:2]  # init may be nan ("the first value")

    def replay_steps(self):
        return self.steps_back + 1

    def _exact(self, expander, order):
        alg, (x, k, init) = expander.algebra, (self.args[0], self.steps_back, self.args[2])
        _check_exact_start(x, init)
        series = expander.expand(x, order).map(lambda v: alg.shift_step(v, k))
        # u(theta_{n-k}) = exp(-h L_{f^(n-1)}) ... exp(-h L_{f^(n-k)}) u: innermost first
        for back in range(k, 0, -1):
            field = Series(alg, [alg.shift_step(expander.unknowns.term(i), back) for i in range(order)] or [alg.zero])
            series = series.flow_moments(lambda r: sympy.Integer(-1) ** r, field)
        return series

    def _steps(self, expander, order):
        regime, (x, k, init) = expander.regime, (self.args[0], self.steps_back, self.args[2])
        s = regime.step
        if s - k < 0:
            if init is sympy.nan:  # before the start the value is the first value x_0
                if not s:
                    return expander.expand(x, order)
                return Lag(x, sympy.Integer(s), init)._steps(expander, order)
            return Series.constant(expander.algebra, expander.algebra.constant(init), order)
        derivation = regime.derivation
        return derivation.pull_back(derivation.expander(s - k).expand(x, order), s - k, s)

    def lower(self, out, name, args):
        x, k, init = args[0], self.steps_back, self.args[2]
        fill = "value" if init is sympy.nan else repr(out.number(init, "the value of a lag before the start"))
        out.setup(f"{name} = np.empty(p)", f"buf_{name} = np.empty(({k}, p))")
        out.step("for j in range(p):",
                 f"    value = {out.code(x)}",
                 "    if it == 0:",
                 f"        buf_{name}[:, j] = {fill}",
                 f"    {name}[j] = buf_{name}[it % {k}, j]",
                 f"    buf_{name}[it % {k}, j] = value")


def _check_exact_start(x, init) -> None:
    r"""The exact regime continues the closed forms of step :math:`n` to the
    steps :math:`n - k < 0` before the start. That is the first value
    (``init=None``) for a memoryless quantity (the step flows before the start
    vanish: :math:`f^{(-1)} = 0`), and zero (``init=0``) for a moving average
    started at zero without bias correction (an empty sum); anything else
    would be silently wrong, so it is refused."""
    memory = [node for node in x.atoms(Primitive) if node.memory]
    if init is sympy.nan and not memory:
        return
    average = x.as_ema() if isinstance(x, State) else x
    if init == 0 and isinstance(average, EMA) and average.args[2] == 0 and average.args[3] == sympy.false:
        return
    if init is sympy.nan:
        reason = "of a quantity with memory, whose closed form before the start is not its first value"
    elif init == 0:
        reason = ("with init=0 of a quantity that is not a moving average started at zero without bias correction, "
                  "whose closed form before the start is not zero")
    else:
        reason = f"with init={init}"
    raise DescriptionError(
        f"the exact regime cannot start lag({x}, k) {reason}; modeq.derive_steps(optimizer, steps=N) gives the "
        "fields of concrete steps with the value before the start as written"
    )


def lag(x, k: int = 1, init=None) -> sympy.Expr:
    r"""The value of ``x`` at step :math:`n-k` (``init`` before the start)."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise DescriptionError(f"lag(x, k) needs a whole number k >= 1 of steps back, got {k!r}")
    return Lag(sympy.sympify(x), sympy.Integer(k), sympy.nan if init is None else sympy.sympify(init))
