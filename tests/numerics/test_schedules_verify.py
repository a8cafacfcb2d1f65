"""Non-autonomous modified equations against the optimizer's own iterates:
schedules of the step and of an EMA decay confirm orders 0-2 (``verify``)."""

import pytest
import sympy

import modeq
from modeq.optimizers import decay, optimizer, positive
from modeq.optimizers.language import ema, grad, t


@optimizer(T=positive(1.0, "T"))
def gd_cosine(T):
    return -sympy.cos(t / T) * grad()


@optimizer(beta=decay(0.5, r"\beta"))
def momentum_scheduled(beta):
    """Heavy ball (EMA form) with a decay that varies in time."""
    return -ema(grad(), beta * (1 + sympy.sin(t) / 2))


def test_gd_with_a_cosine_schedule_confirms_orders_0_to_2(cache):
    report = modeq.verify(gd_cosine, "(x*y - 1)**2/2 + x**4/4", "x,y", [1.0, 0.5], order=2, T=1.0,
                          hs=[0.04, 0.02, 0.01, 0.005], cache_dir=cache)
    assert report.passed, report.table()
    assert [round(r.fitted) for r in report.orders] == [1, 2, 3]


@pytest.mark.slow  # a second compiled field and optimizer (~10 s on an idle machine)
def test_scheduled_decay_confirms_orders_0_to_2_from_a_later_start(cache):
    report = modeq.verify(momentum_scheduled, "(x*y - 1)**2/2 + x**2/4", "x,y", [1.0, 0.5], order=2, T=1.0,
                          hs=[0.01, 0.005, 0.0025, 0.00125], t0=0.5, cache_dir=cache)
    assert report.passed, report.table()
