"""``modeq.iterates``: the public entry to the compiled optimizer loop."""

import numpy as np
import pytest
import sympy

import modeq


def test_iterates_of_gd_on_a_quadratic_are_the_closed_form(cache):
    # E = 3 x^2 / 2: x_n = (1 - 3h)^n x_0, independent of modeq
    got = modeq.iterates("gd", "3*x**2/2", "x", [2.0], h=0.1, steps=20, cache_dir=cache)
    assert got.shape == (21, 1) and got.dtype == np.float64
    np.testing.assert_allclose(got[:, 0], 2.0 * 0.7 ** np.arange(21), rtol=1e-14)


def test_iterates_accept_symbols_and_batches(cache):
    x = sympy.Symbol("x", real=True)
    # batches E_1 = (x-1)^2/2, E_2 = (x+1)^2/2 alternate: x_{n+1} = x_n - h (x_n -+ 1)
    got = modeq.iterates("gd", None, [x], [0.0], h=0.5, steps=2, batches=["(x-1)**2/2", "(x+1)**2/2"],
                         cache_dir=cache)
    np.testing.assert_allclose(got[:, 0], [0.0, 0.5, -0.25])


@pytest.mark.parametrize("kwargs,message", [
    (dict(h=0.0), "step size h"),
    (dict(h=float("nan")), "step size h"),
    (dict(steps=-1), "steps"),
    (dict(steps=2.5), "steps"),
    (dict(theta0=[1.0]), "theta0 must be 2"),
    (dict(theta0=[1.0, float("inf")]), "theta0 must be 2"),
    (dict(values={"betta": 0.9}), "no hyperparameter 'betta'"),
    (dict(values={"beta": 1.5}), "outside its domain"),
    (dict(optimizer="adamm"), "unknown optimizer"),
    (dict(params="x,x"), "distinct"),
    (dict(loss=None), "give a loss"),
])
def test_bad_input_gets_one_clear_error(kwargs, message):
    args = dict(optimizer="heavy_ball", loss="(x*y - 1)**2/2", params="x,y", theta0=[1.0, 0.5], h=0.1, steps=3)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=message):
        modeq.iterates(**args)


def test_missing_hyperparameter_values_are_named(cache):
    from modeq.optimizers import ema, grad, optimizer, decay

    @optimizer(beta=decay())
    def no_default(beta):
        return -ema(grad(), beta)

    with pytest.raises(ValueError, match="give values for the hyperparameters beta"):
        modeq.iterates(no_default, "x**2", "x", [1.0], 0.1, 3, cache_dir=cache)
