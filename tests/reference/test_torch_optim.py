"""``modeq.optimizers.torch`` against ``torch.optim``'s own steps, in float64.

Every entry and option combination must give ``torch.optim``'s iterates to
1e-12 over 100 steps on a small non-quadratic loss; the paper-convention
built-ins are checked through the identities documented in
:mod:`modeq.optimizers.torch`."""

import numpy as np
import pytest
import sympy
import torch

import modeq
from modeq.optimizers import DescriptionError, adam, adamw, heavy_ball, heavy_ball_ema, nesterov, rmsprop
from modeq.optimizers.torch import SGD, Adagrad, Adam, AdamW, RMSprop, from_torch

from torch_reference import LOSS, PARAMS, STEPS, THETA0, TOLERANCE, reference_iterates, torch_loss

H = 0.01

# (id, modeq optimizer, modeq values, torch factory): the torch side spelled out by hand.
# Options are combined so that every one is met with few compilations (each costs seconds).
# ``maximize`` runs on the negated loss (maximizing it minimizes the loss).
CASES = [
    ("sgd", SGD, {}, lambda p: torch.optim.SGD(p, lr=H)),
    ("sgd-momentum-wd", SGD, {"momentum": 0.8, "weight_decay": 0.1},
     lambda p: torch.optim.SGD(p, lr=H, momentum=0.8, weight_decay=0.1)),
    ("sgd-nesterov-wd-maximize", SGD(nesterov=True, maximize=True), {"momentum": 0.9, "weight_decay": 0.1},
     lambda p: torch.optim.SGD(p, lr=H, momentum=0.9, weight_decay=0.1, nesterov=True, maximize=True)),
    ("adam", Adam, {}, lambda p: torch.optim.Adam(p, lr=H)),
    ("adam-betas-eps-wd", Adam, {"beta1": 0.8, "beta2": 0.95, "eps": 1e-3, "weight_decay": 0.1},
     lambda p: torch.optim.Adam(p, lr=H, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.1)),
    ("adam-decoupled-maximize", Adam(decoupled_weight_decay=True, maximize=True), {"weight_decay": 0.1},
     lambda p: torch.optim.Adam(p, lr=H, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("adamw-wd-betas", AdamW, {"weight_decay": 0.3, "beta1": 0.7, "beta2": 0.9},
     lambda p: torch.optim.AdamW(p, lr=H, weight_decay=0.3, betas=(0.7, 0.9))),
    ("rmsprop", RMSprop, {"alpha": 0.9, "eps": 1e-6}, lambda p: torch.optim.RMSprop(p, lr=H, alpha=0.9, eps=1e-6)),
    ("rmsprop-momentum-wd", RMSprop, {"momentum": 0.9, "weight_decay": 0.1, "eps": 1e-4},
     lambda p: torch.optim.RMSprop(p, lr=H, momentum=0.9, weight_decay=0.1, eps=1e-4)),
    ("rmsprop-centered-momentum-maximize", RMSprop(centered=True, maximize=True), {"momentum": 0.5, "alpha": 0.95},
     lambda p: torch.optim.RMSprop(p, lr=H, momentum=0.5, alpha=0.95, centered=True, maximize=True)),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name,opt,values,make", CASES, ids=IDS)
def test_iterates_equal_torch_optim(name, opt, values, make, cache):
    sign = -1 if opt.options.get("maximize") else 1
    want = reference_iterates(make, loss=lambda t: sign * torch_loss(t))
    got = modeq.iterates(opt, sign * LOSS, PARAMS, THETA0, H, STEPS, values=values, cache_dir=cache)
    assert got.shape == (STEPS + 1, 3) and got.dtype == np.float64
    assert np.abs(want[-1] - want[0]).max() > 1e-2  # the iterates move: the comparison is not vacuous
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("name,opt,values,make", CASES, ids=IDS)
def test_from_torch_reads_the_same_optimizer(name, opt, values, make, cache):
    mapping = from_torch(make([torch.zeros(3, dtype=torch.float64, requires_grad=True)]))
    assert mapping.h == H
    sign = -1 if opt.options.get("maximize") else 1
    got = modeq.iterates(mapping.optimizer, sign * LOSS, PARAMS, THETA0, mapping.h, STEPS, mapping.values,
                         cache_dir=cache)
    want = reference_iterates(make, loss=lambda t: sign * torch_loss(t))
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def test_foreach_implementation_is_the_same_update(cache):
    want = reference_iterates(lambda p: torch.optim.Adam(p, lr=H, weight_decay=0.1, foreach=True))
    got = modeq.iterates(Adam, LOSS, PARAMS, THETA0, H, STEPS, {"weight_decay": 0.1}, cache_dir=cache)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("settings", [{}, {"weight_decay": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-3}],
                         ids=["adagrad", "adagrad-wd-init-eps"])
def test_adagrad_iterates_equal_torch_optim_with_h_lr_squared(settings, cache):
    lr = 0.05  # Adagrad's step size is h = lr**2 (its sum of squares is a slow state V = h S)
    want = reference_iterates(lambda p: torch.optim.Adagrad(p, lr=lr, **settings))
    mapping = from_torch(torch.optim.Adagrad([torch.zeros(3, dtype=torch.float64, requires_grad=True)], lr=lr,
                                             **settings))
    assert mapping.optimizer.name == "Adagrad" and mapping.h == lr**2
    got = modeq.iterates(Adagrad, LOSS, PARAMS, THETA0, lr**2, STEPS, values=settings, cache_dir=cache)
    assert np.abs(want[-1] - want[0]).max() > 1e-2
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def test_adagrad_lr_decay_is_refused_as_a_schedule():
    with pytest.raises(DescriptionError, match="schedule in the step n"):
        from_torch(torch.optim.Adagrad([torch.zeros(2, requires_grad=True)], lr_decay=0.1))


# -- the paper-convention built-ins: the documented identities -------------------------------

def test_builtin_adam_with_eps_outside_is_torch_adam(cache):
    got = modeq.iterates(adam(eps_inside=False), LOSS, PARAMS, THETA0, H, STEPS, {}, cache_dir=cache)
    want = reference_iterates(lambda p: torch.optim.Adam(p, lr=H))
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def test_builtin_adam_default_puts_eps_inside_the_root(cache):
    values = {"beta": 0.9, "rho": 0.999, "eps": 1e-3}
    inside = modeq.iterates(adam, LOSS, PARAMS, THETA0, H, STEPS, values, cache_dir=cache)
    want = reference_iterates(lambda p: torch.optim.Adam(p, lr=H, eps=1e-3))
    assert np.abs(inside - want).max() > 1e-6


def test_builtin_adamw_with_eps_outside_is_torch_adamw(cache):
    got = modeq.iterates(adamw(eps_inside=False), LOSS, PARAMS, THETA0, H, STEPS,
                         {"beta": 0.7, "rho": 0.9, "weight_decay": 0.3}, cache_dir=cache)
    want = reference_iterates(lambda p: torch.optim.AdamW(p, lr=H, betas=(0.7, 0.9), weight_decay=0.3))
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def test_builtin_rmsprop_with_eps_outside_is_torch_rmsprop(cache):
    got = modeq.iterates(rmsprop(eps_inside=False), LOSS, PARAMS, THETA0, H, STEPS,
                         {"rho": 0.9, "eps": 1e-6}, cache_dir=cache)
    want = reference_iterates(lambda p: torch.optim.RMSprop(p, lr=H, alpha=0.9, eps=1e-6))
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def test_heavy_ball_is_torch_sgd_with_momentum(cache):
    got = modeq.iterates(heavy_ball, LOSS, PARAMS, THETA0, H, STEPS, {"beta": 0.9}, cache_dir=cache)
    want = reference_iterates(lambda p: torch.optim.SGD(p, lr=H, momentum=0.9))
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def test_heavy_ball_ema_is_torch_sgd_with_lr_times_one_minus_beta(cache):
    beta = 0.9
    got = modeq.iterates(heavy_ball_ema, LOSS, PARAMS, THETA0, H, STEPS, {"beta": beta}, cache_dir=cache)
    want = reference_iterates(lambda p: torch.optim.SGD(p, lr=H * (1 - beta), momentum=beta))
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)
    # dampening = beta is not the same optimizer: its buffer starts at g_0, not (1 - beta) g_0
    damped = reference_iterates(lambda p: torch.optim.SGD(p, lr=H, momentum=beta, dampening=beta))
    assert np.abs(got - damped).max() > 1e-4


def test_torch_nesterov_iterates_sutskevers_look_ahead_points(cache):
    beta = 0.9
    theta = modeq.iterates(nesterov, LOSS, PARAMS, THETA0, H, STEPS, {"beta": beta}, cache_dir=cache)
    look_ahead = (1 + beta) * theta[1:] - beta * theta[:-1]
    want = reference_iterates(lambda p: torch.optim.SGD(p, lr=H, momentum=beta, nesterov=True))
    np.testing.assert_allclose(look_ahead, want[1:], rtol=0, atol=TOLERANCE)  # y_1..y_N; y_0 = theta_0
    assert np.abs(theta - want).max() > 1e-4  # as iterates, the two forms differ


# -- refusals -------------------------------------------------------------------------------

def test_amsgrad_is_refused_with_the_running_max():
    with pytest.raises(DescriptionError, match="running maximum"):
        Adam(amsgrad=True).update()
    with pytest.raises(DescriptionError, match="running maximum"):
        from_torch(torch.optim.AdamW([torch.zeros(2, requires_grad=True)], amsgrad=True))


def test_dampening_is_refused_with_the_first_step():
    with pytest.raises(DescriptionError, match="first gradient g_0"):
        SGD(dampening=0.5).update()
    with pytest.raises(DescriptionError, match="dampening"):
        from_torch(torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9, dampening=0.9))


def test_centered_rmsprop_has_iterates_but_no_expansion():
    # its centered second moment is a variance, O(h^2) on the modified trajectory
    with pytest.raises(DescriptionError, match="no expansion in powers of h"):
        modeq.derive(RMSprop(centered=True), order=1)


def test_from_torch_refuses_other_optimizers_and_unequal_groups():
    p, q = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="among SGD, .*, got Adadelta"):
        from_torch(torch.optim.Adadelta([p]))
    with pytest.raises(ValueError, match="same hyperparameters"):
        from_torch(torch.optim.SGD([{"params": [p], "lr": 0.1}, {"params": [q], "lr": 0.2}]))
    with pytest.raises(ValueError, match="momentum"):
        from_torch(torch.optim.SGD([p], lr=0.1, momentum=1.5))


def test_torch_nesterov_changes_the_modified_equation_from_order_2_on():
    # the look-ahead points y = theta + O(h) follow the same field to order 1, not beyond
    half = sympy.Rational(1, 2)
    sutskever = modeq.derive(nesterov, order=2, values={"beta": half})
    pytorch = modeq.derive(SGD(nesterov=True), order=2, values={"momentum": half, "weight_decay": 0})
    assert [sympy.expand(a - b) for a, b in zip(sutskever.terms[:2], pytorch.terms[:2])] == [0, 0]
    assert sympy.expand(sutskever.terms[2] - pytorch.terms[2]) != 0
