"""The implicit-bias claims of issue 7 (Baek, Song, Yun 2025), checked on the iterates.

Reference directions are computed by the LP/QP solvers and the dual fixed
point, independently of the optimizers. Each check states the cosine to the
predicted direction at the end, that it grew along the run, and that it ends
clearly above the cosine to the competing direction.
"""

import numpy as np
import pytest

import modeq.separable as sep

GAUSSIAN = sep.gaussian_clusters(n=20, d=50)
RADEMACHER = sep.generalized_rademacher()


def converges_to(traj, predicted, other, level, gap=0.1):
    cos, cos_other = traj.cosines(predicted), traj.cosines(other)
    tenth = np.searchsorted(traj.steps, traj.steps[-1] // 10)
    assert cos[-1] >= level, f"{traj.optimizer.name}: cosine {cos[-1]:.4f} < {level}"
    assert cos[-1] > cos[tenth], f"{traj.optimizer.name}: no progress over the last 90% of the run"
    assert cos[-1] > cos_other[-1] + gap, f"{traj.optimizer.name}: {cos[-1]:.4f} vs other {cos_other[-1]:.4f}"


@pytest.fixture(scope="module")
def gaussian_margins():
    return sep.max_margin(GAUSSIAN, "l2").direction, sep.max_margin(GAUSSIAN, "linf").direction


@pytest.mark.parametrize("opt, steps", [(sep.adam(lr=0.1, beta1=0.9, beta2=0.99), 100_000),
                                        (sep.signum(lr=0.1, beta=0.9), 50_000)])
def test_full_batch_adam_and_signum_go_to_linf_on_gaussian_data(gaussian_margins, opt, steps):
    l2, linf = gaussian_margins
    converges_to(opt.run(GAUSSIAN, steps), linf, l2, level=0.99)


def test_gd_goes_to_l2_on_gaussian_data(gaussian_margins):
    l2, linf = gaussian_margins
    converges_to(sep.gd(lr=0.1, normalized=True).run(GAUSSIAN, 50_000), l2, linf, level=0.999)
    # plain GD: the same limit, approached like 1/log t
    plain = sep.gd(lr=5.0, decay=0.0).run(GAUSSIAN, 50_000)
    converges_to(plain, l2, linf, level=0.9)
    assert np.all(np.diff(plain.cosines(l2)[len(plain.steps) // 2:]) > 0)


def test_incremental_adam_goes_to_l2_but_full_batch_adam_to_linf_on_generalized_rademacher():
    l2, linf = sep.max_margin(RADEMACHER, "l2").direction, sep.max_margin(RADEMACHER, "linf").direction
    converges_to(sep.incremental_adam(lr=0.1, beta1=0.9, beta2=0.99).run(RADEMACHER, 100_000), l2, linf, level=0.99)
    converges_to(sep.adam(lr=0.1, beta1=0.9, beta2=0.99).run(RADEMACHER, 100_000), linf, l2, level=0.99)


@pytest.mark.parametrize("batch_size", [1, 5, None])
def test_signum_goes_to_linf_for_every_batch_size_with_beta_near_one(gaussian_margins, batch_size):
    l2, linf = gaussian_margins
    converges_to(sep.signum(lr=0.01, beta=0.99, batch_size=batch_size).run(GAUSSIAN, 200_000), linf, l2, level=0.98)


def test_proxy_converges_to_the_dual_fixed_point_prediction(gaussian_margins):
    prediction = sep.solve_fixed_point(GAUSSIAN)
    assert prediction.residual < 1e-10
    l2, linf = gaussian_margins
    assert sep.cosine(prediction.direction, l2) < 0.97  # a genuinely different direction
    traj = sep.adam_proxy(lr=0.1).run(GAUSSIAN, 200_000)
    converges_to(traj, prediction.direction, linf, level=0.999)
    assert traj.cosines(prediction.direction)[-1] > traj.cosines(l2)[-1] + 0.03


def test_fixed_point_reduces_to_l2_and_linf_where_the_derivation_says():
    """Generalized Rademacher: M(λ) ∝ I, so the ℓ2 direction; shifted diagonal:
    one support vector k, so sign(z_k) = 𝟙, which is also the ℓ∞ direction."""
    rademacher = sep.solve_fixed_point(RADEMACHER)
    assert np.allclose(rademacher.metric, rademacher.metric[0])
    assert sep.cosine(rademacher.direction, sep.max_margin(RADEMACHER, "l2").direction) > 1 - 1e-9
    diagonal = sep.shifted_diagonal()
    prediction = sep.solve_fixed_point(diagonal)
    assert sep.cosine(prediction.direction, np.ones(diagonal.dim)) > 1 - 1e-9
    assert sep.cosine(sep.max_margin(diagonal, "l2").direction, np.ones(diagonal.dim)) < 0.96


def test_incremental_adam_approaches_the_proxy_direction_as_beta2_tends_to_one():
    prediction = sep.solve_fixed_point(GAUSSIAN).direction
    gaps = [1 - sep.incremental_adam(lr=0.1, beta1=0.0, beta2=beta2).run(GAUSSIAN, 400_000).cosines(prediction)[-1]
            for beta2 in (0.5, 0.9, 0.99)]
    assert gaps[0] > 2 * gaps[1] > 4 * gaps[2]
    assert gaps[2] < 1e-3
