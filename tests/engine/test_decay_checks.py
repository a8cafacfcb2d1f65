"""Decays that are not fixed numbers in [0, 1) are refused with the reason
(issue 14): a decay of 1 (a running sum), outside [0, 1), or depending on h;
and nothing containing h reaches a derived term. The exact regime starts a
lag only where its closed form before the start is what ``init`` says."""

import pytest
import sympy

import modeq
from modeq.optimizers import heavy_ball, lion
from modeq.optimizers.base import optimizer, positive
from modeq.optimizers.language import DescriptionError, ema, grad, h, lag
from modeq.primitives import EMA


@pytest.mark.parametrize("decay, words", [
    (1, "never forgets"), (sympy.Integer(1), "never forgets"), (1.5, "outside [0, 1)"), (-0.1, "outside [0, 1)"),
    (1 - 2 * h, "depends on the step size h"),
])
def test_bad_decays_are_refused_when_written(decay, words):
    with pytest.raises(DescriptionError, match=words.replace("[", r"\[").replace(")", r"\)")):
        ema(grad(), decay)


def test_h_never_reaches_a_derived_term():
    @optimizer(c=positive(1.0))
    def sneaky(c):  # past the constructor's check
        return -EMA(grad(), 1 - c * h, 0, sympy.false)

    with pytest.raises(DescriptionError, match="f_1 contains the step size h"):
        modeq.derive(sneaky, order=1)


def test_exact_lag_init_zero_is_not_the_first_value():
    @optimizer()
    def zero_before_start():
        return -lag(grad(), 1, init=0)

    with pytest.raises(DescriptionError, match="init=0 of a quantity that is not a moving average"):
        modeq.derive(zero_before_start, order=1, regime="exact")

    @optimizer()
    def first_value_of_an_average():
        return -lag(ema(grad(), sympy.Rational(1, 2)), 1)

    with pytest.raises(DescriptionError, match="quantity with memory"):
        modeq.derive(first_value_of_an_average, order=0, regime="exact")


@pytest.mark.parametrize("name, words", [("amsgrad", ["running maximum", "rho closer to 1"]),
                                         ("prodigy", ["running maximum", "slow state", "theta_0"]),
                                         ("dadapt_adam", ["running maximum"])])
def test_optimizers_without_a_modified_equation_say_why(name, words):
    from modeq.cli.options import load_optimizer
    from modeq.optimizers import get

    for lookup in (get, load_optimizer):
        with pytest.raises(ValueError) as error:
            lookup(name)
        assert all(w in str(error.value) for w in words)


def test_exact_lag_starts_that_are_right_still_derive():
    # heavy ball: lag(theta) before the start is theta_0 (velocity 0); Lion: lag(ema(g), init=0) is m_0 = 0
    assert modeq.derive(heavy_ball, order=1, regime="exact").terms
    assert modeq.derive(lion, order=0, regime="exact").terms
