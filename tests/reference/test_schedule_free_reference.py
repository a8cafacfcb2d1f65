"""Schedule-free SGD and AdamW against the ``schedulefree`` package (its
``SGDScheduleFree`` and ``AdamWScheduleFree``, and the ``...Reference``
implementations that keep x, y, z explicitly), in float64 over 100 steps
from t0 = 0 (the package's averaging weights 1/(n+1))."""

import numpy as np
import pytest
import schedulefree

import modeq
from modeq.optimizers import schedule_free_adamw, schedule_free_sgd

from torch_reference import LOSS, PARAMS, STEPS, THETA0, TOLERANCE, reference_iterates

H = 0.05


def _training(make):
    """The optimizer in training mode (the parameters hold y, where gradients are taken)."""
    def made(params):
        opt = make(params)
        opt.train()
        return opt
    return made


CASES = [
    ("sgd", schedule_free_sgd, {"beta": 0.9},
     lambda p: schedulefree.SGDScheduleFree(p, lr=H, momentum=0.9, foreach=False)),
    ("sgd-wd-reference", schedule_free_sgd, {"beta": 0.8, "weight_decay": 0.1},
     lambda p: schedulefree.SGDScheduleFreeReference(p, lr=H, momentum=0.8, weight_decay=0.1)),
    ("adamw", schedule_free_adamw, {"beta1": 0.9, "beta2": 0.99, "eps": 1e-8},
     lambda p: schedulefree.AdamWScheduleFree(p, lr=H, betas=(0.9, 0.99), eps=1e-8, foreach=False)),
    ("adamw-wd-reference", schedule_free_adamw, {"beta1": 0.8, "beta2": 0.95, "eps": 1e-3, "weight_decay": 0.1},
     lambda p: schedulefree.AdamWScheduleFreeReference(p, lr=H, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.1)),
]


@pytest.mark.parametrize("name,opt,values,make", CASES, ids=[c[0] for c in CASES])
def test_iterates_equal_schedulefree(name, opt, values, make, cache):
    want = reference_iterates(_training(make))
    got = modeq.iterates(opt, LOSS, PARAMS, THETA0, H, STEPS, values=values, cache_dir=cache)
    assert np.abs(want[-1] - want[0]).max() > 1e-2  # the iterates move: the comparison is not vacuous
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)


def test_a_later_start_is_another_average(cache):
    """t0 > 0 weighs the start as t0/h earlier steps: not the package's iterates (the verification's start)."""
    want = reference_iterates(_training(lambda p: schedulefree.SGDScheduleFree(p, lr=H, momentum=0.9, foreach=False)))
    later = modeq.iterates(schedule_free_sgd, LOSS, PARAMS, THETA0, H, STEPS, values={"t0": 0.5}, cache_dir=cache)
    assert np.abs(later - want).max() > 1e-3
