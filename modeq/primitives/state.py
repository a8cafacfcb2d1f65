r"""``state(update, init=0, name="s")``: a general recurrent optimizer state
:math:`s_{n+1} = \Phi(s_n, \theta_n, G_n)`, :math:`s_0 = \text{init}`
(DESIGN.md §5.1); its value at step :math:`n` is :math:`s_{n+1}` (it includes
the step's evaluations :math:`G_n`, as an ``ema`` does).

``update`` is a function of the previous value, e.g.
``state(lambda v: rho*v + (1 - rho)*grad()**2)``; the previous value is a
bound symbol of the node (named from a hash of the update, so equal updates
are equal nodes and cache keys are stable across processes).

**Classification** (:func:`classify`), on :math:`\Phi_0 = \Phi|_{h=0}`:

* *fast* — :math:`\Phi_0(s) = A s + b_0` with a constant :math:`|A| < 1`:
  the state contracts at a rate independent of :math:`h`. In the stationary
  regime it lies on an invariant manifold :math:`s = \sigma_h(\theta)`,
  :math:`\sigma_h = \Phi(e^{-hL_f}\sigma_h)` (the previous value is
  :math:`\sigma_h(\theta_{n-1}) = \sigma_h(\varphi_{-h}(\theta_n))`). Order by
  order, :math:`\sigma_k` enters :math:`[h^k]` of the right side only through
  :math:`A\sigma_k` (the rest of :math:`\Phi` is :math:`O(h)` and
  :math:`e^{-hL_f} - 1` is too), so

  .. math:: (1 - A)\,\sigma_k = [h^k]\,\Phi\big(e^{-hL_f}(\sigma_0 + \dots + h^{k-1}\sigma_{k-1})\big),

  which needs :math:`f_0..f_{k-1}` only: the :math:`\sigma_k` are unknowns
  beside the :math:`f_k` (:class:`~modeq.unknowns.Unknowns`), solved one order
  ahead of them. The state disappears from the modified equation.
* *slow* — :math:`\Phi_0(s) = s` (the increment is :math:`O(h)`): the state
  joins :math:`\theta` (the modified equation is one for :math:`(\theta, s)`,
  :mod:`modeq.solver`). In the stationary regime its previous value
  :math:`s_n` *is* the coordinate :math:`s` (an atom :math:`s_j` printed with
  the state's ``name``, :meth:`~modeq.algebra.FieldAlgebra.state_value`), so
  its value at step :math:`n` expands as :math:`\Phi(s, \theta, G)` with no
  history at all, and the solver matches :math:`\Phi - s` with the flow of the
  state's part :math:`f^s` of the augmented field. Fast states, moving
  averages and lags of quantities that hold :math:`s` expand along the
  augmented flow, so their invariant manifolds may depend on :math:`s` too.
  The modified equation's initial value of :math:`s` is ``init`` (a one-step
  map on :math:`(\theta, s)` has no transient); it must keep the update
  smooth (AdaGrad's :math:`g/\sqrt{V + \varepsilon}` with :math:`V_0 = 0`
  needs :math:`\varepsilon > 0`).
* neither — refused with a message that says how to rescale.

An update that is exactly affine, :math:`\Phi = As + b` with :math:`A` free
of :math:`h`, *is* a moving average: :math:`s_{n+1} = As_n + (1-A)\,x_n` with
:math:`x = b/(1-A)`; it expands as ``ema(b/(1-A), A, init)``
(:mod:`.ema`), whose moment series :math:`c_r(A)` is the closed-form solution
of the manifold recursion above, and whose exact regime has closed forms in
:math:`n`. Concrete steps (:mod:`modeq.stepwise`) need no classification:
:math:`s_s = \Phi(s_{s-1})` with :math:`s_{s-1}` pulled back along the step
flows, starting from ``init``. Lowering: a state array updated every step.
"""

from __future__ import annotations

import hashlib
import math
from typing import Callable

import sympy
from sympy.core.symbol import Str

from ..description import DescriptionError, h, theta
from ..series import Series
from .base import Primitive
from .ema import EMA, FORGOTTEN

__all__ = ["State", "state", "classify", "slow_states"]

#: How to rescale a state whose increment is O(1) (DESIGN.md §5.1).
RESCALE = (
    "rescale it so that it either contracts (s -> A*s + b with a constant |A| < 1) or moves by O(h) per step "
    "(s -> s + h*psi). For example AdaGrad's sum V_{n+1} = V_n + g^2 with base rate eta: take the step size "
    "h = eta^2 and the state V' = h*V, so that V'_{n+1} = V'_n + h*g^2 and the step is "
    "-h*g/sqrt(V' + eps') with eps' = h*eps: state(lambda v: v + h*grad()**2)"
)


class State(Primitive):
    r"""``State(s, update, init, name)``: :math:`s_{n+1} = \text{update}(s_n)` with the
    bound symbol ``s`` for the previous value; ``name`` (a ``Str``) prints a slow
    state's coordinate."""

    nargs = 4
    memory = True

    @property
    def symbol(self) -> sympy.Symbol:
        return self.args[0]

    @property
    def body(self) -> sympy.Expr:
        return self.args[1]

    @property
    def init(self) -> sympy.Expr:
        return self.args[2]

    @property
    def name(self) -> str:
        return self.args[3].name

    @property
    def key(self) -> str:
        """Identifies the state in a derivation (its bound symbol, a hash of the update)."""
        return self.symbol.name

    @property
    def bound(self) -> tuple[sympy.Symbol, ...]:
        return (self.symbol,)

    def smooth_args(self):
        return self.args[1:3]

    def affine(self) -> tuple[sympy.Expr, sympy.Expr] | None:
        """``(A, b)`` when the update is exactly :math:`As + b` with a constant
        :math:`A` (free of :math:`h`, :math:`\\theta` and primitives)."""
        body, back = _opaque(self.body)
        slope = sympy.diff(body, self.symbol)
        if slope.has(self.symbol, h, theta, *back):
            return None
        return slope, sympy.expand(body - slope * self.symbol).xreplace(back)

    def as_ema(self) -> EMA | None:
        """The moving average this state is, when its update is affine and fast."""
        affine = self.affine()
        if affine is None or classify(self)[0] != "fast":
            return None
        slope, offset = affine
        weights: dict[sympy.Expr, sympy.Expr] = {}
        for term in sympy.Add.make_args(offset):  # b = sum c_i X_i: x = sum c_i/(1 - A) X_i
            scalar, quantity = term.as_independent(h, theta, Primitive)
            weights[quantity] = weights.get(quantity, 0) + scalar
        average = sympy.Add(*(sympy.cancel(c / (1 - slope)) * x for x, c in weights.items()))
        return EMA(average, slope, self.init, sympy.false)

    def replay_steps(self):
        kind, slope = classify(self)
        if kind != "fast" or slope.free_symbols or slope == 0:
            return 0
        return math.ceil(math.log(FORGOTTEN) / math.log(abs(float(slope))))

    # -- expansion ------------------------------------------------------------------

    def expand(self, expander, order):
        self.refuse_in_epoch(expander, "state")
        if expander.regime.method == "steps":
            return self._steps(expander, order)
        average = self.as_ema()
        if average is not None:
            return average.expand(expander, order)
        kind, slope = classify(self)
        if expander.regime.method != "stationary":
            raise DescriptionError(
                f"the {expander.regime.name} regime has closed forms in n for states with an affine update "
                "(moving averages); this state's update is not affine (or it is slow): modeq.derive_steps(optimizer, steps=N) "
                "gives the fields of concrete steps, the stationary regime every order for late steps"
            )
        if kind == "slow":
            value = expander.unknowns.coordinate(self.key)
            return expander.bind(self.symbol, expander.constant(value, order)).expand(self.body, order)
        return self._manifold(expander, order, slope)

    def _manifold(self, expander, order, slope):
        r""":math:`\sigma_0 + \dots + h^{order}\sigma_{order}` (module docstring)."""
        alg, unknowns = expander.algebra, expander.unknowns
        contraction = alg.constant(1 / (1 - slope))

        def coefficient(known, k):
            trial = Series(alg, list(known) + [alg.zero])
            previous = trial.flow_moments(lambda r: sympy.Integer(-1) ** r, unknowns.flow_field(k))
            value = expander.bind(self.symbol, previous).expand(self.body, k)
            return alg.mul(contraction, value.coeffs[k])

        return unknowns.manifold(self, order, coefficient)

    def _steps(self, expander, order):
        regime, alg = expander.regime, expander.algebra
        s = regime.step
        if s == 0:
            previous = Series.constant(alg, alg.constant(self.init), order)
        else:
            derivation = regime.derivation
            previous = derivation.pull_back(derivation.expander(s - 1).expand(self, order), s - 1, s)
        return expander.bind(self.symbol, previous).expand(self.body, order)

    # -- compiled iterates ------------------------------------------------------------

    def lower(self, out, name, args):
        init_value = out.scalar(self.init, "the initial value of a state")
        out.setup(f"{name} = np.empty(p)", f"s_{name} = np.full(p, {init_value})")
        out.name(self.symbol, f"s_{name}[j]")
        out.step("for j in range(p):", f"    {name}[j] = {out.code(args[1])}", f"    s_{name}[j] = {name}[j]")


def classify(node: State) -> tuple[str, sympy.Expr]:
    r"""``("fast", A)`` or ``("slow", 1)`` from :math:`\Phi_0 = \Phi|_{h=0}`, or
    a :class:`DescriptionError` that says how to rescale."""
    s = node.symbol
    for inner in node.body.atoms(Primitive):
        if inner.has(s):
            raise DescriptionError(f"a state's previous value may not enter a primitive of its own update ({inner}); "
                                   "write the update with the previous value outside grad/ema/lag/...")
    body, back = _opaque(node.body)
    at_zero = body.xreplace({h: sympy.Integer(0)})
    if at_zero.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise DescriptionError(f"the state update {node.body} is not defined at h = 0; {RESCALE}")
    if sympy.expand(at_zero - s) == 0:
        return "slow", sympy.Integer(1)
    slope = sympy.diff(at_zero, s)
    curvature = sympy.diff(slope, s)
    if slope.has(s, theta, *back) or sympy.expand(curvature) != 0:
        raise DescriptionError(
            f"the state update s -> {node.body} is not affine in s with a constant rate as h -> 0 "
            f"(at h = 0 it is s -> {at_zero.xreplace(back)}), so it neither contracts at a fixed rate nor moves by O(h); {RESCALE}"
        )
    if not slope.free_symbols and not -1 < float(slope) < 1:
        raise DescriptionError(
            f"the state update s -> {node.body} has the rate {slope} at h = 0: it does not contract "
            f"(|rate| < 1 is needed) and its increment is O(1), so it has no modified equation in this scaling; "
            f"{RESCALE}"
        )
    return "fast", slope


def slow_states(update: sympy.Expr) -> list[State]:
    """The slow states of ``update`` (nested ones included), in a stable order."""
    nodes = sorted(update.atoms(State), key=sympy.default_sort_key)
    return [node for node in nodes if node.as_ema() is None and classify(node)[0] == "slow"]


def _opaque(expr: sympy.Expr) -> tuple[sympy.Expr, dict]:
    """``expr`` with its primitives replaced by symbols (SymPy's ``expand``
    would call the primitives' own ``expand``), and the map back."""
    back = {sympy.Dummy(f"q{i}"): node for i, node in enumerate(expr.atoms(Primitive))}
    return expr.xreplace({node: symbol for symbol, node in back.items()}), back


def state(update: Callable[[sympy.Symbol], sympy.Expr], init=0, name: str = "s") -> sympy.Expr:
    r"""A recurrent state :math:`s_{n+1} = \text{update}(s_n)`, :math:`s_0 = \text{init}`;
    its value at step :math:`n` is :math:`s_{n+1}`. ``name`` prints a slow
    state's coordinate in the modified equation (e.g. ``"V"``)."""
    if not (isinstance(name, str) and name.isidentifier() and name not in ("h", "theta", "t", "p", "g", "E")):
        raise DescriptionError(f"a state's name must be a short identifier other than h, theta, t, p, g, E "
                               f"(e.g. name='V'), got {name!r}")
    if not callable(update):
        raise DescriptionError(f"state(update) needs a function of the previous value such as "
                               f"lambda s: beta*s + (1 - beta)*grad(), got {update!r}")
    provisional = sympy.Dummy("s", real=True)
    body = update(provisional)
    if not isinstance(body, (sympy.Basic, int, float)):
        raise DescriptionError(f"the update of a state must return an expression, got {type(body).__name__}")
    body = sympy.sympify(body)
    named = sympy.Symbol("s", real=True)
    digest = hashlib.sha256(sympy.srepr(body.xreplace({provisional: named})).encode()).hexdigest()[:8]
    symbol = sympy.Symbol(f"s_{digest}", real=True)
    return State(symbol, body.xreplace({provisional: symbol}), sympy.sympify(init), Str(name))
