"""Built-ins that depend on the time against their references, in float64 to
1e-12 over 100 steps: Adam with a warm-up + cosine schedule (``torch.optim.Adam``
with a ``LambdaLR`` whose multiplier is written here once more in plain
Python, at :math:`t = nh`), NAdam (``torch.optim.NAdam``, per-step and
time forms) and AdEMAMix during its schedulers' warm-up
(``pytorch_optimizer.AdEMAMix``)."""

import math

import numpy as np
import pytest
import pytorch_optimizer as po
import torch

import modeq
from modeq.optimizers import adam_warmup_cosine, ademamix_warmup, nadam
from modeq.optimizers.torch import NAdam, from_torch

from torch_reference import LOSS, PARAMS, STEPS, THETA0, TOLERANCE, reference_iterates, torch_loss

H = 0.01
WARMUP, CORNER, HORIZON, FLOOR = 0.3, 0.2, 0.8, 0.1


def _warmup_cosine(t: float) -> float:
    def smooth_min(x):
        return (x + 1 - math.sqrt((x - 1) ** 2 + CORNER**2)) / 2

    ramp = (smooth_min(t / WARMUP) - smooth_min(0.0)) / (1 - smooth_min(0.0))
    return ramp * (FLOOR + (1 - FLOOR) * (1 + math.cos(math.pi * t / HORIZON)) / 2)


def _scheduled_iterates(make, multiplier) -> np.ndarray:
    param = torch.tensor(THETA0, dtype=torch.float64, requires_grad=True)
    opt = make([param])
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lambda n: multiplier(n * H))
    rows = [param.detach().numpy().copy()]
    for _ in range(STEPS):
        opt.zero_grad()
        torch_loss(param).backward()
        opt.step()
        scheduler.step()
        rows.append(param.detach().numpy().copy())
    return np.array(rows)


def test_adam_warmup_cosine_is_torch_adam_with_lambda_lr(cache):
    values = {"beta": 0.8, "rho": 0.95, "eps": 1e-3, "warmup": WARMUP, "corner": CORNER, "horizon": HORIZON,
              "floor": FLOOR}
    got = modeq.iterates(adam_warmup_cosine(eps_inside=False), LOSS, PARAMS, THETA0, H, STEPS, values, cache_dir=cache)
    want = _scheduled_iterates(lambda p: torch.optim.Adam(p, lr=H, betas=(0.8, 0.95), eps=1e-3), _warmup_cosine)
    assert np.abs(want[-1] - want[0]).max() > 1e-2
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def _float64_scalars(make):
    """torch keeps NAdam's product of momenta in its scalar dtype, float32 unless
    the default dtype is float64: run the reference with float64 scalars."""

    def run(params):
        default = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            opt = make(params)
            opt.step = _with_default_float64(opt.step)
            return opt
        finally:
            torch.set_default_dtype(default)

    return run


def _with_default_float64(step):
    def run(*args, **kwargs):
        default = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            return step(*args, **kwargs)
        finally:
            torch.set_default_dtype(default)

    return run


NADAM_CASES = [
    ("default", NAdam, {}, lambda p: torch.optim.NAdam(p, lr=H)),
    ("betas-eps-decay-wd-decoupled-maximize", NAdam(decoupled_weight_decay=True, maximize=True),
     {"beta1": 0.8, "beta2": 0.95, "eps": 1e-3, "momentum_decay": 0.05, "weight_decay": 0.1},
     lambda p: torch.optim.NAdam(p, lr=H, betas=(0.8, 0.95), eps=1e-3, momentum_decay=0.05, weight_decay=0.1,
                                 decoupled_weight_decay=True, maximize=True)),
]


@pytest.mark.parametrize("name,opt,values,make", NADAM_CASES, ids=[c[0] for c in NADAM_CASES])
def test_nadam_iterates_equal_torch_optim(name, opt, values, make, cache):
    sign = -1 if opt.options.get("maximize") else 1
    want = reference_iterates(_float64_scalars(make), loss=lambda t: sign * torch_loss(t))
    got = modeq.iterates(opt, sign * LOSS, PARAMS, THETA0, H, STEPS, values=values, cache_dir=cache)
    assert np.abs(want[-1] - want[0]).max() > 1e-2
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)
    mapping = from_torch(make([torch.zeros(3, dtype=torch.float64, requires_grad=True)]))
    again = modeq.iterates(mapping.optimizer, sign * LOSS, PARAMS, THETA0, mapping.h, STEPS, mapping.values,
                           cache_dir=cache)
    np.testing.assert_allclose(again, want, rtol=0, atol=TOLERANCE)


def test_nadam_in_time_is_torch_nadam_with_the_rate_per_step_times_h(cache):
    """``momentum_decay`` per unit time = torch's per-step rate / lr."""
    per_step = 0.05
    values = {"beta1": 0.8, "beta2": 0.95, "eps": 1e-3, "momentum_decay": per_step / H, "weight_decay": 0.1}
    got = modeq.iterates(nadam, LOSS, PARAMS, THETA0, H, STEPS, values, cache_dir=cache)
    want = reference_iterates(_float64_scalars(lambda p: torch.optim.NAdam(
        p, lr=H, betas=(0.8, 0.95), eps=1e-3, momentum_decay=per_step, weight_decay=0.1,
        decoupled_weight_decay=True)))
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def test_ademamix_warmup_is_pytorch_optimizer_ademamix_before_its_schedulers_stop(cache):
    steps_to_full = 150  # more than STEPS: the reference's min(., alpha), min(., beta3) stay inactive
    values = {"beta1": 0.8, "beta2": 0.95, "beta3": 0.99, "alpha": 2.0, "warmup": steps_to_full * H, "eps": 1e-3,
              "weight_decay": 0.1}
    got = modeq.iterates(ademamix_warmup, LOSS, PARAMS, THETA0, H, STEPS, values, cache_dir=cache)
    want = reference_iterates(lambda p: po.AdEMAMix(p, lr=H, betas=(0.8, 0.95, 0.99), alpha=2.0,
                                                    t_alpha_beta3=steps_to_full, eps=1e-3, weight_decay=0.1,
                                                    weight_decouple=True, fixed_decay=False))
    assert np.abs(want[-1] - want[0]).max() > 1e-2
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)
