"""The modified loss of exact Muon (modeq.analysis.spectral_modified_loss):
spectral steepest descent on E + h κ Σ_B s_B ‖∇_B E‖_*. Without momentum κ = 1/2
by hand (backward error analysis of θ ← θ − h s msign(∇E): f₁ = −½ s Dmsign[H s msign],
and H s msign(∇E) = ∇_θ Σ_B s_B‖∇_B E‖_*); with an EMA momentum μ the factor
(1+μ)/(1−μ) of heavy-ball's modified loss (Ghosh et al. 2023). The check on a
network by finite differences is notebooks/muon.ipynb's."""

import re

import pytest
import sympy

import modeq
from modeq.algebra.index import BlockScale
from modeq.analysis import spectral_modified_loss
from modeq.optimizers import muon


def exact(**options):
    return modeq.derive(muon(orthogonalizer="msign", **options), order=1, values={"weight_decay": 0})


def test_no_momentum_penalizes_half_the_nuclear_norm():
    result = spectral_modified_loss(modeq.derive(muon(orthogonalizer="msign", nesterov=False), order=1,
                                                 values={"weight_decay": 0, "momentum": 0}))
    assert result and result.rate == 1 and result.penalty == sympy.Rational(1, 2)
    assert result.equation.atoms.definition(result.scale) == BlockScale("original")
    assert "Ẽ = E + h (1/2) Σ_B s_B ‖∇_B E‖_*" in str(result)


@pytest.mark.parametrize("nesterov, expected", [
    (False, lambda mu: (1 + mu) / (2 * (1 - mu))),
    (True, lambda mu: (1 - mu + 2 * mu**2) / (2 * (1 - mu))),  # torch's blend (1-mu) G + mu B: mu^2 more, mu less
])
def test_momentum_scales_the_penalty(nesterov, expected):
    result = spectral_modified_loss(exact(nesterov=nesterov))
    (mu,) = result.penalty.free_symbols
    assert sympy.simplify(result.penalty - expected(mu)) == 0
    if not nesterov:  # at mu = 0 both are the hand-derived 1/2
        assert result.penalty.subs(mu, 0) == sympy.Rational(1, 2)


@pytest.mark.parametrize("opt, values, reason", [
    (muon, {"weight_decay": 0}, "Newton-Schulz steps .* not the gradient of any function"),
    (muon(orthogonalizer="msign"), {}, r"weight decay -λθ: derive with values=\{'weight_decay': 0\}"),
    (modeq.optimizers.adam, {}, "the leading term f_0 is not -a·s·msign"),
])
def test_other_forms_say_why_not(opt, values, reason):
    result = spectral_modified_loss(modeq.derive(opt, order=1, values=values))
    assert not result and result.penalty is None
    assert re.search(reason, str(result))


def test_order_zero_is_refused():
    with pytest.raises(ValueError, match="derive the equation at order 1 or more"):
        spectral_modified_loss(modeq.derive(muon(orthogonalizer="msign"), order=0))
