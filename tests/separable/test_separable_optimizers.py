"""The compiled update rules against plain NumPy, the epoch recurrence, and input errors."""

import dataclasses

import numpy as np
import pytest

import modeq.separable as sep

DATA = sep.gaussian_clusters(8, 5, seed=2)


def numpy_reference(z, rule, steps, lr, decay, beta1=0.0, beta2=0.0, eps=0.0, batches=None):
    """The textbook updates, written independently (no log scaling)."""
    n, d = z.shape
    w, m, v = np.zeros(d), np.zeros(d), np.zeros(d)
    for t in range(steps):
        batch = np.arange(n) if batches is None else batches(t)
        q = 1 / (1 + np.exp(z[batch] @ w))
        grad = -(q[:, None] * z[batch]).mean(axis=0)
        eta = lr / (t + 1) ** decay
        if rule == "gd":
            w = w - eta * grad
        elif rule == "adam":
            m = beta1 * m + (1 - beta1) * grad
            v = beta2 * v + (1 - beta2) * grad**2
            w = w - eta * (m / (1 - beta1 ** (t + 1))) / np.sqrt(v / (1 - beta2 ** (t + 1)) + eps)
        elif rule == "signum":
            m = beta1 * m + (1 - beta1) * grad
            w = w - eta * np.sign(m)
        else:  # proxy
            per_sample = -q[:, None] * z
            w = w - eta * grad / np.sqrt((per_sample**2).sum(axis=0))
    return w


@pytest.mark.parametrize("opt, rule, batches", [
    (sep.gd(lr=0.5, decay=0.3), "gd", None),
    (sep.adam(lr=0.05, beta1=0.8, beta2=0.95), "adam", None),
    (sep.adam(lr=0.05, beta1=0.8, beta2=0.95, eps=1e-3), "adam", None),
    (sep.incremental_adam(lr=0.05, beta1=0.5, beta2=0.9), "adam", lambda t: np.array([t % 8])),
    (sep.adam(lr=0.05, batch_size=3, sampling="cyclic"), "adam", lambda t: np.arange(3 * t, 3 * t + 3) % 8),
    (sep.signum(lr=0.05, beta=0.7), "signum", None),
    (sep.adam_proxy(lr=0.05, decay=0.2), "proxy", None),
])
def test_compiled_rules_match_numpy(opt, rule, batches):
    # 150 steps: later, Adam with ε = 0 divides near-cancelling moments and amplifies rounding
    steps = 150
    expected = numpy_reference(DATA.z, rule, steps, opt.lr, opt.decay, opt.beta1, opt.beta2, opt.eps, batches)
    got = opt.run(DATA, steps).final
    assert np.allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_full_size_batches_without_replacement_are_full_batch_steps():
    """Shuffled batches of size N contain every sample once: the same steps as full batch."""
    for full, shuffled in [(sep.adam(), sep.adam(batch_size=8)), (sep.signum(beta=0.5), sep.signum(beta=0.5, batch_size=8))]:
        assert np.allclose(full.run(DATA, 500).final, shuffled.run(DATA, 500).final, rtol=1e-10)


def test_samplers_visit_samples_as_documented():
    """With replacement, batches differ from the epoch-wise reshuffle; both are reproducible by seed."""
    a = sep.sgd(batch_size=2, sampling="replace", seed=1).run(DATA, 100).final
    b = sep.sgd(batch_size=2, sampling="replace", seed=1).run(DATA, 100).final
    c = sep.sgd(batch_size=2, sampling="replace", seed=2).run(DATA, 100).final
    d = sep.sgd(batch_size=2, sampling="shuffle", seed=1).run(DATA, 100).final
    assert np.array_equal(a, b) and not np.allclose(a, c) and not np.allclose(a, d)


def test_no_underflow_when_margins_are_huge():
    """Starting deep in the separable region (margins ~ 1e3, σ(-u) ~ e^-1000 underflows)
    the scale-free rules still move, and in the same direction as from a moderate start."""
    w_dir = sep.max_margin(DATA, "l2").direction
    for opt in (sep.adam(lr=0.01), sep.signum(lr=0.01), sep.adam_proxy(lr=0.01), sep.gd(lr=0.01, normalized=True)):
        big = opt.run(DATA, 50, w0=2000 * w_dir / sep.max_margin(DATA, "l2").margin)
        moved = big.final - big.weights[0]
        assert np.all(np.isfinite(big.final)) and np.linalg.norm(moved) > 0.01


def test_epoch_recurrence_matches_one_epoch_of_incremental_adam():
    """With a tiny constant step, w hardly moves within an epoch and the EMAs are stationary,
    so one epoch of incremental Adam equals one step of the recurrence with C_inc."""
    n, lr, epochs = DATA.n_samples, 1e-6, 300
    inc = sep.incremental_adam(lr=lr, decay=0.0, beta1=0.6, beta2=0.9)
    w = inc.run(DATA, n * epochs, record=[n * (epochs - 1), n * epochs], w0=np.ones(DATA.dim)).weights
    epoch = sep.incremental_adam_epochs(lr=lr, decay=0.0, beta1=0.6, beta2=0.9).run(DATA, 1, w0=w[0])
    got, expected = w[1] - w[0], epoch.final - w[0]
    assert np.linalg.norm(got - expected) < 1e-4 * np.linalg.norm(expected)


def test_epoch_recurrence_tends_to_the_proxy_as_beta2_tends_to_one():
    """(1-β1^N)/(1-β1)·N·C_inc·δ = sqrt((1-β2^N)/(1-β2))·N·δ is the β2 → 1 limit of one epoch."""
    n, w0 = DATA.n_samples, np.linspace(-1, 1, DATA.dim)
    proxy_step = sep.adam_proxy(lr=1.0, decay=0.0).run(DATA, 1, w0=w0).final - w0
    errors = []
    for beta2 in (0.9, 0.99, 0.999, 0.9999):
        epoch_step = sep.incremental_adam_epochs(lr=1.0, decay=0.0, beta1=0.5, beta2=beta2).run(DATA, 1, w0=w0).final - w0
        limit = n * np.sqrt((1 - beta2**n) / (1 - beta2)) * proxy_step
        errors.append(np.linalg.norm(epoch_step - limit) / np.linalg.norm(limit))
    assert all(later < earlier / 5 for earlier, later in zip(errors, errors[1:]))
    assert errors[-1] < 1e-3


def test_c_inc():
    assert np.isclose(sep.c_inc(0.0, 0.0, 5), 1.0)
    assert np.isclose(sep.c_inc(0.5, 0.75, 2), 0.5 / 0.75 * np.sqrt(1.75))
    with pytest.raises(ValueError, match="beta1 and beta2"):
        sep.c_inc(1.0, 0.5, 3)


@pytest.mark.parametrize("make, message", [
    (lambda: sep.adam(beta1=1.0), "beta1 must lie in"),
    (lambda: sep.adam(beta2=-0.1), "beta2 must lie in"),
    (lambda: sep.adam(eps=-1e-8), "eps must be"),
    (lambda: sep.gd(lr=0.0), "step size lr must be a positive"),
    (lambda: sep.signum(decay=1.5), "decay a"),
    (lambda: sep.sgd(batch_size=0), "batch_size must be a positive"),
    (lambda: sep.adam(batch_size=2, sampling="sometimes"), "sampling must be one of"),
    (lambda: sep.gd().run(DATA, 0), "steps must be a positive"),
    (lambda: sep.signum(batch_size=9).run(DATA, 5), "exceeds the 8 samples"),
    (lambda: sep.gd().run(DATA, 5, record=[1, 2]), "include 5"),
])
def test_bad_hyperparameters_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_divergence_is_reported_not_returned():
    """Logistic gradients are bounded, so only an overflowing step makes w non-finite."""
    with pytest.raises(sep.DivergenceError, match="lower lr"):
        sep.gd(lr=1e307, decay=0.0).run(sep.SeparableData(100 * DATA.x, DATA.y), 10)


def test_experiment_names_must_be_distinct():
    with pytest.raises(ValueError, match="distinct"):
        sep.run_experiment(DATA, [sep.gd(), dataclasses.replace(sep.adam(), name="GD")], 10)


def test_first_step_above_is_where_the_cosine_stays_above():
    traj = sep.Trajectory(sep.gd(), np.array([1, 2, 3, 4]),
                          np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]))
    assert traj.first_step_above(np.array([1.0, 0.0]), 0.99) == 3
    assert traj.first_step_above(np.array([0.0, 1.0]), 0.99) is None
