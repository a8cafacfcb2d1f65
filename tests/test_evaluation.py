"""The generic evaluator on the NumPy reference backend equals the materialized
component field (the same evaluator on the symbolic ComponentBackend, evaluated
by SymPy with 30 digits) for every built-in, orders 0-2 (3 for a few),
mini-batch epochs included; each atom is evaluated once per point and only the
atoms an order needs; bad input gets a clear error."""

import weakref
from collections import Counter

import numpy as np
import pytest
import sympy

from modeq import derive, derive_epoch
from modeq.algebra.index import Contraction, Gradient, Reduction
from modeq.evaluation import Evaluator, NumpyBackend, atom_table, constants_for
from modeq.optimizers import BUILTIN
from modeq.primitives.state import slow_states
from modeq.optimizers.language import t

x, y, z = sympy.symbols("x y z", real=True)
PARAMS = (x, y, z)
LOSS = (sympy.Rational(3, 2) - 2 * x * y) ** 2 / 2 + x**4 / 4 + y * z**3 / 3 + z**2 + x * z
POINT = np.array([0.3, -0.7, 0.45])

VALUES = {"beta": 0.8, "rho": 0.95, "eps": 0.3, "weight_decay": 0.1, "c": 0.7, "delta": 0.2, "beta1": 0.6, "beta2": 0.85,
          "beta3": 0.9, "alpha": 1.5, "nu": 0.7, "nu1": 0.7, "nu2": 0.9, "E_star": 0.1, "warmup": 0.5, "corner": 0.1,
          "horizon": 2.0, "floor": 0.1, "momentum_decay": 4.0}
#: The time t of non-autonomous fields (schedules), and the built-ins that have one (derived to order 1
#: here: NAdam's order 2 takes minutes; their higher orders are checked in tests/engine/test_time.py).
TIME = 0.3
TIMED = {"adam_warmup_cosine", "nadam", "ademamix_warmup"}
#: Fields on theta alone; slow states (AdaGrad's V, ...) are coordinates of their own (test_slow_state_is_refused).
#: Lookahead with k = 2 inner steps stands for k = 5 (the same atoms; its description grows like 2^k).
VARIANTS = ([BUILTIN[name] for name in BUILTIN if name != "lookahead" and not slow_states(BUILTIN[name].update())]
            + [BUILTIN["adam"](eps_inside=False), BUILTIN["lookahead"](k=2)])


def values_of(opt):
    return {hp.name: VALUES[hp.name] for hp in opt.hyperparameters}


def materialized(eq, values, loss=LOSS, batches=None):
    """Component terms by SymPy, evaluated at POINT with 30 digits."""
    subs = {hp.symbol: sympy.Rational(repr(values[hp.name])) for hp in eq.optimizer.hyperparameters}
    fields = eq.materialize(loss, PARAMS, batches)
    at = {s: sympy.Rational(repr(float(v))) for s, v in zip(PARAMS, POINT)}
    at[t] = sympy.Rational(repr(TIME))
    return [np.array([float(c.xreplace(subs).xreplace(at).evalf(30)) for c in term]) for term in fields.terms]


@pytest.mark.parametrize("opt", VARIANTS, ids=lambda o: o.name + "".join(f"-{k}={v}" for k, v in o.options.items()))
def test_numpy_backend_equals_materialized_components(opt):
    order = 3 if opt.name in ("gd", "heavy_ball_ema", "rmsprop") else 1 if opt.name in TIMED else 2
    eq = derive(opt, order=order)
    values = values_of(opt)
    evaluator = Evaluator(eq.terms, atom_table(eq), NumpyBackend(LOSS, PARAMS), constants_for(eq, values))
    got = evaluator(POINT, t=TIME)
    expected = materialized(eq, values)
    assert len(got) == order + 1
    for k, (a, b) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"{opt.name} f_{k}")


def test_slow_state_is_refused():
    eq = derive(BUILTIN["adagrad"], order=0)
    evaluator = Evaluator(eq.terms, atom_table(eq), NumpyBackend(LOSS, PARAMS), constants_for(eq))
    with pytest.raises(ValueError, match="slow state V .*compiled field") as error:
        evaluator(POINT)
    assert "\n" not in str(error.value)


def test_slow_state_given_is_an_input_beside_theta():
    """AdaGrad's terms of theta and of V on (theta, V), the state given by name: f_0 = -g/sqrt(V + eps)
    and f^V_0 = g^2, with g by SymPy; a state not given is named in one line."""
    eq = derive(BUILTIN["adagrad"], order=1)
    terms = [eq.terms[0], eq.states[0].terms[0], eq.terms[1], eq.states[0].terms[1]]
    evaluator = Evaluator(terms, atom_table(eq), NumpyBackend(LOSS, PARAMS), constants_for(eq, {"eps": 0.3}))
    V = np.array([0.2, 1.1, 0.05])
    f0, fV0, f1, fV1 = evaluator(POINT, states={"V": V})
    g = np.array([float(sympy.diff(LOSS, p).subs(dict(zip(PARAMS, POINT)))) for p in PARAMS])
    np.testing.assert_allclose(f0, -g / np.sqrt(V + 0.3), rtol=1e-13)
    np.testing.assert_allclose(fV0, g**2, rtol=1e-13)
    assert np.all(np.isfinite(f1)) and np.all(np.isfinite(fV1))
    with pytest.raises(ValueError, match="the field has the slow state V, but the states given are W$"):
        evaluator(POINT, states={"W": V})


def test_sums_of_interleaved_fields_sum_each_field():
    """With slow states the terms interleave the fields of theta and of each state (f_0, f^V_0, f_1, f^V_1,
    ...): sums with weights (i mod 2, h^(i div 2)) give sum_k h^k f_k and sum_k h^k f^V_k, the terms' sums
    by NumPy (one mechanism, Evaluator.sums, adds each part as it is computed; combination is all in one)."""
    eq = derive(BUILTIN["adagrad"], order=2)
    terms = [t for k in range(3) for t in (eq.terms[k], eq.states[0].terms[k])]
    evaluator = Evaluator(terms, atom_table(eq), NumpyBackend(LOSS, PARAMS), constants_for(eq, {"eps": 0.3}))
    states = {"V": np.array([0.2, 1.1, 0.05])}
    values = evaluator(POINT, states=states)
    h = 0.07
    field, state = evaluator.sums(POINT, [(i % 2, h ** (i // 2)) for i in range(6)], states=states)
    np.testing.assert_allclose(field, values[0] + h * values[2] + h**2 * values[4], rtol=1e-14)
    np.testing.assert_allclose(state, values[1] + h * values[3] + h**2 * values[5], rtol=1e-14)
    whole = evaluator.combination(POINT, [1.0, h], states=states)  # the terms as listed, in one sum
    np.testing.assert_allclose(whole, values[0] + h * values[1], rtol=1e-14)


def test_batch_atoms_take_their_batch_loss():
    batches = [LOSS, (x - y) ** 2 + sympy.sin(z) * x, x * y * z + y**2]
    eq = derive_epoch(BUILTIN["gd"], 3, order=2, schedule="cyclic")
    assert any(isinstance(atom_table(eq).definition(s), Gradient) and atom_table(eq).definition(s).loss == 3
               for s in eq.terms[0].free_symbols)
    evaluator = Evaluator(eq.terms, atom_table(eq), NumpyBackend(None, PARAMS, batches))
    expected = materialized(eq, {}, loss=None, batches=batches)
    for a, b in zip(evaluator(POINT), expected):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


class CountingBackend(NumpyBackend):
    def __init__(self, *args):
        super().__init__(*args)
        self.calls = Counter()

    def grad(self, point, loss):
        self.calls["grad"] += 1
        return super().grad(point, loss)

    def contract(self, point, args, loss):
        self.calls["contract"] += 1
        return super().contract(point, args, loss)

    def reduce(self, x):
        self.calls["reduce"] += 1
        return super().reduce(x)


def distinct_atoms(exprs, atoms):
    """Contraction and reduction atoms in ``exprs``, nested ones included (by definition)."""
    found, stack = set(), list(exprs)
    while stack:
        for s in stack.pop().free_symbols:
            definition = atoms.definition(s)
            if isinstance(definition, (Contraction, Reduction)) and s not in found:
                found.add(s)
                stack.extend(definition.args if isinstance(definition, Contraction) else [definition.arg])
    return found


@pytest.mark.parametrize("name", ["adam", "sam", "lion"])
def test_each_atom_once_per_point_and_only_what_the_order_needs(name):
    eq = derive(BUILTIN[name], order=2)
    atoms = atom_table(eq)
    backend = CountingBackend(LOSS, PARAMS)
    evaluator = Evaluator(eq.terms, atoms, backend, constants_for(eq, values_of(eq.optimizer)))
    evaluator(POINT, order=0)
    assert backend.calls["contract"] == 0 and backend.calls["grad"] == 1
    backend.calls.clear()
    evaluator(POINT)
    nested = distinct_atoms(eq.terms, atoms)
    contractions = sum(isinstance(atoms.definition(s), Contraction) for s in nested)
    reductions = len(nested) - contractions
    assert contractions > 0
    assert backend.calls == Counter({"grad": 1, "contract": contractions, "reduce": reductions}) - Counter()


def test_hyperparameters_default_and_missing_values_are_named():
    eq = derive(BUILTIN["adam"], order=1)
    assert constants_for(eq) == {hp.symbol: hp.default for hp in eq.optimizer.hyperparameters}
    with pytest.raises(ValueError, match="eps"):
        Evaluator(eq.terms, atom_table(eq), NumpyBackend(LOSS, PARAMS), {})
    with pytest.raises(ValueError, match="no hyperparameter 'gamma'"):
        constants_for(eq, {"gamma": 1.0})
    with pytest.raises(ValueError, match="outside its domain"):
        constants_for(eq, {"beta": 1.5})


def test_exact_regime_and_bad_orders_are_refused():
    eq = derive(BUILTIN["adam"], order=1, regime="exact", values={"eps": 0.1})
    with pytest.raises(ValueError, match="stationary"):
        Evaluator(eq.terms, atom_table(eq), NumpyBackend(LOSS, PARAMS), constants_for(eq))
    stationary = derive(BUILTIN["gd"], order=1)
    evaluator = Evaluator(stationary.terms, atom_table(stationary), NumpyBackend(LOSS, PARAMS))
    with pytest.raises(ValueError, match="between 0 and 1"):
        evaluator(POINT, order=2)


def test_gd_first_correction_by_hand():
    """f_1 of GD is -H g/2 (Barrett & Dherin): Hessian and gradient by hand."""
    eq = derive(BUILTIN["gd"], order=1)
    a, b = 0.3, -0.7
    quadratic = (sympy.Rational(3, 2) - 2 * x * y) ** 2 / 2
    r = 1.5 - 2 * a * b
    g = np.array([-2 * b * r, -2 * a * r])
    hessian = np.array([[4 * b * b, -2 * r + 4 * a * b], [-2 * r + 4 * a * b, 4 * a * a]])
    f0, f1 = Evaluator(eq.terms, atom_table(eq), NumpyBackend(quadratic, (x, y)))(np.array([a, b]))
    np.testing.assert_allclose(f0, -g, rtol=1e-14)
    np.testing.assert_allclose(f1, -hessian @ g / 2, rtol=1e-14)


class LinearizingBackend(CountingBackend):
    """Shares one token per loss and point between grad, value and contract, and
    records, for each contraction, its directions, whether it had the shared
    token (else it builds its own), and which values are still alive then."""

    linearizes = True

    def __init__(self, *args):
        super().__init__(*args)
        self.alive: list[int] = []
        self.released: list[bool] = []
        self.contractions: list[tuple[int, bool]] = []
        self.tokens: list[weakref.ref] = []
        self.values: list[weakref.ref] = []

    def linearize(self, point, loss, contracted):
        self.calls["linearize"] += 1
        token = Token(loss)
        self.tokens.append(weakref.ref(token))
        return token

    def grad(self, point, loss, linearization=None):
        assert linearization is None or linearization.loss == loss
        return self._keep(super().grad(point, loss))

    def contract(self, point, args, loss, linearization=None, release=False):
        assert linearization is None or linearization.loss == loss
        self.contractions.append((len(args), linearization is not None))
        self.released.append(release)
        self.alive.append(sum(v() is not None for v in self.values))
        return self._keep(super().contract(point, args, loss))

    def elementwise(self, expr, inputs):
        function = super().elementwise(expr, inputs)
        return lambda *values: self._keep(function(*values))

    def _keep(self, value):
        value = np.array(value)
        self.values.append(weakref.ref(value))
        return value


class Token:
    def __init__(self, loss):
        self.loss = loss


def adam_order_2_on(backend):
    """Adam's order-2 evaluator on ``backend`` and the NumPy backend's terms at POINT, after checking
    that the evaluator's combination at h = 0.03 (run first: the calls the tests count) is their sum."""
    eq = derive(BUILTIN["adam"], order=2)
    constants = constants_for(eq, values_of(eq.optimizer))
    evaluator = Evaluator(eq.terms, atom_table(eq), backend, constants)
    h = 0.03
    total = evaluator.combination(POINT, [1.0, h, h * h])
    expected = Evaluator(eq.terms, atom_table(eq), NumpyBackend(LOSS, PARAMS), constants)(POINT)
    np.testing.assert_allclose(total, expected[0] + h * expected[1] + h * h * expected[2], rtol=1e-12)
    return evaluator, expected


def test_values_are_dropped_after_their_last_use_and_the_linearization_lives_between_second_derivatives():
    """Adam's order-2 field holds at most a few of its vectors at once; D2[e, e] (the
    largest transient on torch) runs first, beside its direction alone and without the
    shared state; the shared state is made after it, once, gives the gradient again and
    is dropped after the last D1; the combination equals the sum of the terms."""
    backend = LinearizingBackend(LOSS, PARAMS)
    adam_order_2_on(backend)
    # By hand from the plan: g (no shared state: nothing before D2 contracts with it), e = g/sqrt(g^2+eps),
    # D2[e, e] beside e alone (g is dropped: later nodes take it again from the shared state); then the
    # shared state, g again, f_0 into the sum, D1[e] beside e, g and D2, and the three other D1s, each beside
    # its direction, g, D1[e], D2 and the D1s before it. Only the last D1 releases the shared state.
    assert backend.contractions == [(2, False), (1, True), (1, True), (1, True), (1, True)]
    assert backend.calls["linearize"] == 1 and backend.calls["grad"] == 2
    assert backend.alive == [1, 3, 4, 5, 6] and len(backend.values) == 14
    assert backend.released == [False, False, False, False, True]
    assert all(token() is None for token in backend.tokens)


class PartsBackend(LinearizingBackend):
    sums_parts = True


def test_a_sum_is_added_in_parts_as_soon_as_their_inputs_are_known():
    """Adam's f_2 is a sum over D2[e, e] and the four D1s, each times a function of g: in
    parts, each contraction is dropped after its part is added, so at most three vectors
    are alive at a contraction (against six in one piece); terms and combination
    equal the NumPy backend's."""
    backend = PartsBackend(LOSS, PARAMS)
    evaluator, expected = adam_order_2_on(backend)
    # By hand: D2[e, e] beside e; then the shared state and g, D2's part added; D1[e] beside g and e; its
    # parts (in f_1 and f_2) added; each other D1 beside g, its direction and D1[e] (until the direction of
    # the last is made, D1[e]'s last use), each dropped once its part is added.
    assert backend.alive == [1, 2, 3, 3, 2]
    for got, want in zip(evaluator(POINT), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_a_field_without_first_contractions_builds_no_shared_state():
    """Order 0 of an order-2 field has no contraction: the gradient is computed on its
    own (on torch: no graph kept for contractions that do not come)."""
    eq = derive(BUILTIN["adam"], order=2)
    backend = LinearizingBackend(LOSS, PARAMS)
    evaluator = Evaluator(eq.terms, atom_table(eq), backend, constants_for(eq, values_of(eq.optimizer)))
    evaluator(POINT, order=0)
    assert backend.calls["linearize"] == 0 and backend.calls["grad"] == 1 and not backend.contractions


def test_a_field_in_time_needs_the_time():
    eq = derive(BUILTIN["adam_warmup_cosine"], order=0)
    evaluator = Evaluator(eq.terms, atom_table(eq), NumpyBackend(LOSS, PARAMS), constants_for(eq))
    with pytest.raises(ValueError, match="depends on the time t"):
        evaluator(POINT)
    with pytest.raises(ValueError, match="finite number"):
        evaluator(POINT, t=float("nan"))
    assert not np.allclose(evaluator(POINT, t=0.05)[0], evaluator(POINT, t=1.0)[0])
