"""Mini-batch epochs: Smith et al.'s shuffled-SGD modified loss."""

import itertools

import numpy as np
import pytest
import sympy
from scipy.integrate import solve_ivp

from modeq.algebra import ATOMS, D
from modeq.algebra.index import Gradient
from modeq.epoch import derive_epoch
from modeq.optimizers import adam, gd
from modeq.optimizers.language import DescriptionError


def batch_gradient(b):
    return ATOMS.intern(Gradient(b))


@pytest.mark.parametrize("m", [2, 3, 4])
def test_shuffled_gd_is_smith_et_al_to_first_order(m):
    f0, f1 = derive_epoch(gd, m, order=1).terms
    g = [batch_gradient(b) for b in range(1, m + 1)]
    assert ATOMS.collect(f0 + sum(g) / m) == 0
    # -grad (h/(4m)) sum_k ||grad E_k||^2, grad_j ||grad E_k||^2 = 2 D^(k)_1[g_k]
    smith = -sum(2 * D(g[b], loss=b + 1) for b in range(m)) / (4 * m)
    assert ATOMS.collect(f1 - smith) == 0


def test_one_batch_epoch_is_plain_gd():
    from modeq import derive

    x, y = sympy.symbols("x y", real=True)
    loss = x**3 * y / 3 + (x - 2 * y) ** 2
    epoch = derive_epoch(gd, 1, order=3).materialize(None, (x, y), batches=[loss])
    full = derive(gd, order=3).materialize(loss, (x, y))
    for a, b in zip(epoch.terms, full.terms):
        for u, v in zip(a, b):
            assert sympy.expand(u - v) == 0


def _mean_epoch(grads, theta0, h):
    """One epoch of GD averaged over all orders of the batches."""
    ends = []
    for order in itertools.permutations(range(len(grads))):
        theta = np.array(theta0, dtype=float)
        for b in order:
            theta = theta - h * np.asarray(grads[b](*theta), dtype=float)
        ends.append(theta)
    return np.mean(ends, axis=0)


def test_shuffled_epoch_follows_the_modified_flow_to_third_order():
    x, y = sympy.symbols("x y", real=True)
    batches = [(x - 1) ** 2 / 2 + x**2 * y**2 / 4, (y + x / 2) ** 2 / 2 + y**4 / 8, (x + y - 2) ** 2 / 4 + x**3 / 6]
    m = len(batches)
    mean_loss = sum(batches) / m
    grads = [sympy.lambdify((x, y), [sympy.diff(E, v) for v in (x, y)]) for E in batches]
    field = derive_epoch(gd, m, order=1).materialize(None, (x, y), batches=batches)
    # the derived field is -grad of E + h/(4m) sum ||grad E_k||^2: check that exactly
    hs = sympy.Symbol("h")
    penalized = mean_loss + hs / (4 * m) * sum(sum(sympy.diff(E, v) ** 2 for v in (x, y)) for E in batches)
    for j, v in enumerate((x, y)):
        derived = field.terms[0][j] + hs * field.terms[1][j]
        assert sympy.expand(derived + sympy.diff(penalized, v)) == 0
    modified = sympy.lambdify((x, y, hs), [-sympy.diff(penalized, v) for v in (x, y)])
    plain = sympy.lambdify((x, y), [-sympy.diff(mean_loss, v) for v in (x, y)])
    theta0 = [0.3, -0.4]
    steps = [0.04, 0.02, 0.01, 0.005]
    errors_modified, errors_plain = [], []
    for h in steps:
        target = _mean_epoch(grads, theta0, h)
        flow = solve_ivp(lambda t, s: modified(*s, h), (0, m * h), theta0, method="DOP853", rtol=1e-13, atol=1e-15)
        errors_modified.append(np.linalg.norm(flow.y[:, -1] - target))
        flow = solve_ivp(lambda t, s: plain(*s), (0, m * h), theta0, method="DOP853", rtol=1e-13, atol=1e-15)
        errors_plain.append(np.linalg.norm(flow.y[:, -1] - target))
    slope_modified = np.polyfit(np.log(steps), np.log(errors_modified), 1)[0]
    slope_plain = np.polyfit(np.log(steps), np.log(errors_plain), 1)[0]
    assert abs(slope_modified - 3) < 0.15, errors_modified  # O(h^3) per epoch
    assert abs(slope_plain - 2) < 0.15, errors_plain  # the uncorrected flow is only O(h^2)


def test_epochs_need_memoryless_updates():
    with pytest.raises(DescriptionError, match="memoryless update"):
        derive_epoch(adam, 2, order=1)


@pytest.mark.parametrize("kwargs, words", [({"batches": 0}, "whole number >= 1"),
                                           ({"batches": 2, "schedule": [1, 1]}, "permutation of 1..2"),
                                           ({"batches": 9}, "at most 6 batches")])
def test_bad_epoch_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        derive_epoch(gd, order=1, **kwargs)
