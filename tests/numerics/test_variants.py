"""The variants of :mod:`modeq.optimizers.variants`: each added term of the
modified field gains one power of h (orders 0-2, ``modeq.verify`` from a
history-consistent start), on the bilinear loss.

Step sizes are the defaults (h << 1 - beta for every decay); the values keep
the expansions valid: AdaBelief's belief is eps/(1 - beta2) + O(h^2), so it
needs a large eps; the Adam-like ones run in the small-eps regime
(|grad E| ~ 100 >> sqrt(eps)) from the paper's start."""

import pytest
import sympy

from modeq import verify
from modeq.optimizers import BUILTIN, adabelief, adan, ademamix, qhadam, qhm

x, y = sympy.symbols("x y", real=True)
BILINEAR = (sympy.Rational(3, 2) - 2 * x * y) ** 2 / 2
TOL = 0.3

CASES = {
    "adabelief": (adabelief, dict(beta1=0.9, beta2=0.95, eps=0.1, weight_decay=0.1), [1.0, 0.5]),
    "adan": (adan, dict(beta1=0.9, beta2=0.8, beta3=0.95, eps=1e-3, weight_decay=0.1), [2.8, 3.5]),
    "adan-no-prox": (adan(no_prox=True), dict(beta1=0.9, beta2=0.8, beta3=0.95, eps=1e-3, weight_decay=0.1),
                     [2.8, 3.5]),
    # with its larger step (1 + alpha) g/|g| the small-eps field meets the valley xy = 3/4, where
    # |grad E| -> 0, before T = 1: a smaller alpha and T keep it away
    "ademamix": (ademamix, dict(beta1=0.9, beta2=0.95, beta3=0.97, alpha=0.5, eps=1e-3, weight_decay=0.1),
                 [2.8, 3.5], dict(T=0.4)),
    "qhadam": (qhadam, dict(beta1=0.9, beta2=0.95, nu1=0.7, nu2=0.9, eps=1e-3), [2.8, 3.5]),
    "qhm": (qhm, dict(beta=0.5, nu=0.7), [1.0, 0.5]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_variant_gains_one_power_of_h_per_term(case, cache):
    opt, values, start, *extra = CASES[case]
    report = verify(opt, BILINEAR, (x, y), start, order=2, values=values, cache_dir=cache, **(extra[0] if extra else {}))
    assert report.method == "history"
    assert report.passed, report.table()
    for r in report.orders:
        assert r.expected == r.order + 1
        assert abs(r.fitted - r.expected) < TOL, report.table()


def test_variants_are_builtins_with_documented_hyperparameters():
    for opt in (adabelief, adan, ademamix, qhadam, qhm):
        assert BUILTIN[opt.name] is opt
        assert opt.description
        for hp in opt.hyperparameters:
            assert hp.latex and hp.description and hp.default is not None


def test_qhm_interpolates_between_gd_and_heavy_ball_ema():
    # nu = 1 is the EMA form of heavy ball, nu = 0 gradient descent: read from the updates
    from modeq.optimizers import gd, heavy_ball_ema

    assert qhm.update({"nu": 1, "beta": 0.5}) == heavy_ball_ema.update({"beta": 0.5})
    assert qhm.update({"nu": 0, "beta": 0.5}) == gd.update()
