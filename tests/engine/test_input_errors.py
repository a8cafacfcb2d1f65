"""Bad input gets a clear error that names the problem and the fix."""

import pytest
import sympy

from modeq import derive, parse_loss
from modeq.optimizers import DescriptionError, adam, ema, gd, grad, h, optimizer, positive, theta
from modeq.optimizers.language import lag


@pytest.mark.parametrize("order, kind, words", [(-1, ValueError, "between 0"), (1.5, TypeError, "whole number"),
                                                (True, TypeError, "whole number"), (99, ValueError, "between 0")])
def test_order_out_of_range(order, kind, words):
    with pytest.raises(kind, match=words):
        derive(gd, order=order)


@pytest.mark.parametrize("values, words", [({"beta": 1.0}, r"beta = 1.0 is outside its domain \[0, 1\)"),
                                           ({"beta": -0.1}, "outside its domain"),
                                           ({"eps": 0}, r"eps = 0 is outside its domain \(0, inf\)"),
                                           ({"rho": float("nan")}, "finite"),
                                           ({"gamma": 0.5}, "has no hyperparameter 'gamma'; its hyperparameters are: beta, rho, eps")])
def test_bad_hyperparameters(values, words):
    with pytest.raises(ValueError, match=words):
        derive(adam, order=1, values=values)


def test_numpy_numbers_are_exact_hyperparameters():
    import numpy as np

    assert derive(adam, order=1, values={"beta": np.float64(0.9), "rho": np.float32(0.5), "eps": np.int64(1)}).terms == \
        derive(adam, order=1, values={"beta": 0.9, "rho": 0.5, "eps": 1}).terms


@pytest.mark.parametrize("value", [True, 1j])
def test_non_real_hyperparameters_are_named(value):
    with pytest.raises(ValueError, match="hyperparameter beta: expected a real number"):
        derive(adam, order=1, values={"beta": value})


def test_unknown_option_lists_the_options():
    with pytest.raises(TypeError, match="adam has no option eps_in; its options are: bias_correction, eps_inside"):
        adam(eps_in=True)


@pytest.mark.parametrize("make, words", [
    (lambda: -sympy.sign(grad()), "smooth_sign"),
    (lambda: -grad() / sympy.Abs(grad()), "sqrt\\(x\\*\\*2 \\+ delta\\)"),
    (lambda: -sympy.Max(grad(), 0), "not smooth"),
])
def test_non_smooth_operations_are_rejected(make, words):
    @optimizer()
    def bad():
        return make()

    with pytest.raises(DescriptionError, match=words):
        derive(bad, order=1)


def test_shift_that_does_not_vanish_with_h():
    @optimizer(r=positive(0.1))
    def fixed_radius_sam(r):
        return -grad(r * grad())

    with pytest.raises(DescriptionError, match="O\\(h\\).*r = c\\*h"):
        derive(fixed_radius_sam, order=1)


def test_update_that_blows_up_as_h_goes_to_zero():
    @optimizer()
    def unscaled():
        return -grad() / h

    with pytest.raises(DescriptionError, match="not O\\(1\\) as h -> 0"):
        derive(unscaled, order=1)


def test_root_of_a_vanishing_quantity():
    @optimizer()
    def root_of_velocity():
        return -grad() + sympy.sqrt(theta - lag(theta, 1))

    with pytest.raises(DescriptionError, match="not smooth"):
        derive(root_of_velocity, order=1)


def test_reserved_hyperparameter_name():
    with pytest.raises(DescriptionError, match="reserved"):
        @optimizer(h=positive(0.1))
        def clash(h):
            return -grad()


def test_build_arguments_must_match_declared_hyperparameters():
    with pytest.raises(DescriptionError, match="must be the declared hyperparameters"):
        @optimizer(beta=positive(0.1))
        def mismatch(gamma):
            return -ema(grad(), gamma)


@pytest.mark.parametrize("text, words", [("x+", "not a valid expression"), ("x + z", "uses the name z; it is not a parameter"),
                                         ("3", "does not depend"), ("abs(x)*y", r"uses Abs: .* use sqrt\(x\*\*2 \+ delta\)"),
                                         ("Max(x, y)", "uses Max: .*smooth surrogate"), ("x/0 + y", "divides by zero"),
                                         ("x**2", None)])
def test_malformed_loss_expressions(text, words):
    if words is None:
        loss, params = parse_loss(text, "x,y")
        assert loss == params[0] ** 2
        return
    with pytest.raises(ValueError, match=words):
        parse_loss(text, "x,y")


def test_materialize_checks_the_loss():
    x = sympy.Symbol("x")
    eq = derive(gd, order=1)
    with pytest.raises(ValueError, match="does not depend on any of the parameters"):
        eq.materialize(sympy.Symbol("y") ** 2, [x])
    with pytest.raises(TypeError, match="modeq.parse_loss"):
        eq.materialize("x**2", [x])


def test_good_input_that_makes_sympy_expand_a_primitive():
    """sqrt((g + beta g)**2 + eps) is a valid description: building it, SymPy's assumptions
    call grad()'s expand(), which the primitives' expand(expander, order) shadowed
    (TypeError "missing 2 required positional arguments", found by the random round trip).
    Its equation is that of the same update written with (1 + beta)**2 g**2."""
    from modeq.algebra import ATOMS
    from modeq.optimizers.language import reduce_sum

    beta, eps = sympy.Symbol("beta", nonnegative=True), sympy.Symbol("eps", positive=True)
    g = grad()
    assert sympy.expand(ema(g, beta) * (1 + beta)) == beta * ema(g, beta) + ema(g, beta)
    assert sympy.expand(reduce_sum(g * (1 + beta))) == reduce_sum(g + beta * g)

    @optimizer(beta=positive(0.5), eps=positive(1e-8))
    def summed(beta, eps):
        return -(g + beta * g) / sympy.sqrt((g + beta * g) ** 2 + eps)

    @optimizer(beta=positive(0.5), eps=positive(1e-8))
    def factored(beta, eps):
        return -(1 + beta) * g / sympy.sqrt((1 + beta) ** 2 * g**2 + eps)

    a, b = derive(summed, order=1), derive(factored, order=1)
    assert all(ATOMS.collect(sympy.expand(x - y)) == 0 for x, y in zip(a.terms, b.terms))
