"""Max-margin solvers: strong duality, agreement with an independent solver, clear errors."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.optimize import minimize

import modeq.separable as sep

DUAL_NORM = {"l2": lambda v: np.linalg.norm(v), "linf": lambda v: np.abs(v).sum(), "l1": lambda v: np.abs(v).max()}


@st.composite
def separable_data(draw):
    n = draw(st.integers(2, 8))
    d = draw(st.integers(2, 6))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    planted = rng.standard_normal(d)
    side = x @ planted
    x += np.sign(side)[:, None] * 0.2 * planted / np.linalg.norm(planted)  # keep every sample off the plane
    return sep.SeparableData(x, np.where(side >= 0, 1.0, -1.0))


@settings(max_examples=30, deadline=None)
@given(separable_data(), st.sampled_from(["l2", "linf", "l1"]))
def test_margin_equals_dual_norm_of_weighted_samples(data, norm):
    """Strong duality: max_{‖w‖≤1} min_i <w,z_i> = min_{λ∈Δ} ‖Σλ_i z_i‖_*, attained by the returned λ."""
    mm = sep.max_margin(data, norm)
    z = data.z
    assert mm.margin > 0
    assert np.isclose(mm.dual.sum(), 1.0) and np.all(mm.dual >= 0)
    assert np.isclose(mm.margin, (z @ mm.direction).min(), rtol=1e-9)
    assert np.isclose(mm.margin, DUAL_NORM[norm](z.T @ mm.dual), rtol=1e-6)
    # complementary slackness: dual weight only on the margin
    assert np.all(mm.dual[(z @ mm.direction) > mm.margin * (1 + 1e-6)] < 1e-9)
    assert set(np.flatnonzero(mm.dual > 1e-9)) <= set(mm.support)


@settings(max_examples=20, deadline=None)
@given(separable_data())
def test_l2_matches_an_independent_qp_solver(data):
    z = data.z
    res = minimize(lambda w: 0.5 * w @ w, np.linalg.lstsq(z, np.ones(len(z)), rcond=None)[0], jac=lambda w: w,
                   constraints=[{"type": "ineq", "fun": lambda w: z @ w - 1, "jac": lambda w: z}],
                   method="SLSQP", options={"ftol": 1e-14, "maxiter": 500})
    assert res.success
    mm = sep.max_margin(data, "l2")
    assert sep.cosine(mm.direction, res.x) > 1 - 1e-6
    assert np.isclose(mm.margin, 1 / np.linalg.norm(res.x), rtol=1e-5)


@settings(max_examples=20, deadline=None)
@given(separable_data(), st.integers(0, 1000))
def test_mahalanobis_margin_is_l2_margin_of_rescaled_problem(data, seed):
    """‖w‖_M-margin: dual norm ‖v‖_{M^{-1}}, and KKT M w ∝ Σ λ_i z_i."""
    metric = np.random.default_rng(seed).uniform(0.2, 5.0, size=data.dim)
    mm = sep.max_margin(data, "mahalanobis", metric=metric)
    v = data.z.T @ mm.dual
    assert np.isclose(np.sqrt(metric @ mm.direction**2), 1.0)
    assert np.isclose(mm.margin, np.sqrt(np.sum(v**2 / metric)), rtol=1e-6)
    assert sep.cosine(metric * mm.direction, v) > 1 - 1e-9


def test_l2_and_linf_directions_differ_clearly_on_the_demo_data():
    for data in (sep.gaussian_clusters(20, 50), sep.generalized_rademacher()):
        l2, linf = sep.max_margin(data, "l2"), sep.max_margin(data, "linf")
        assert linf.unique
        assert sep.cosine(l2.direction, linf.direction) < 0.9


def test_linf_face_detection():
    """Two orthogonal samples: any w with w_1 = w_2 = 1 and free w_3 is ℓ∞-optimal."""
    data = sep.SeparableData([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], [1.0, 1.0])
    assert not sep.max_margin(data, "linf").unique
    assert sep.max_margin(sep.SeparableData([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0]), "linf").unique


@pytest.mark.parametrize("norm", ["l2", "linf", "l1"])
def test_non_separable_data_raise_a_clear_error(norm):
    x = np.array([[1.0, 2.0], [-1.0, -2.0], [0.5, 0.1]])
    with pytest.raises(sep.NotSeparableError, match="not linearly separable"):
        sep.max_margin(sep.SeparableData(x, [1.0, 1.0, 1.0]), norm)


def test_bad_input_errors():
    with pytest.raises(ValueError, match="labels must be -1 or"):
        sep.SeparableData([[1.0]], [2.0])
    with pytest.raises(ValueError, match="one label per sample"):
        sep.SeparableData([[1.0], [2.0]], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        sep.SeparableData([[np.nan]], [1.0])
    data = sep.gaussian_clusters(4, 3)
    with pytest.raises(ValueError, match="positive finite"):
        sep.max_margin(data, "mahalanobis", metric=[1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="exactly when"):
        sep.max_margin(data, "l2", metric=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="unknown norm"):
        sep.max_margin(data, "l3")


def test_csv_round_trip_with_header_and_01_labels(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("a,b,label\n1,2,1\n-1,0.5,0\n3,-1,1\n")
    data = sep.from_csv(path)
    assert data.x.tolist() == [[1, 2], [-1, 0.5], [3, -1]]
    assert data.y.tolist() == [1, -1, 1]
    (tmp_path / "bad.csv").write_text("1,2,1\n1,x,0\n")
    with pytest.raises(ValueError, match="row 2 is not all numbers"):
        sep.from_csv(tmp_path / "bad.csv")
    with pytest.raises(ValueError, match="no such CSV"):
        sep.from_csv(tmp_path / "missing.csv")


def test_generalized_rademacher_samples_have_equal_magnitude_coordinates():
    data = sep.generalized_rademacher(n=12, d=7, seed=3)
    magnitudes = np.abs(data.x)
    assert np.allclose(magnitudes, magnitudes[:, :1])
