"""Each added term of the modified field gains one order in h (DESIGN.md §1.6).

Step sizes respect h << 1 - beta, h << 1 - rho; starting points keep the
trajectories away from where the expansion is singular (|grad E| -> 0 for the
normalized methods) and the errors above rounding."""

import pytest
import sympy

from modeq import verify
from modeq.optimizers import (adagrad, adam, adamw, gd, get, heavy_ball, heavy_ball_ema, lion, nesterov, rmsprop,
                              sam, schedule_free_adamw, schedule_free_sgd, signum, usam)

x, y = sympy.symbols("x y", real=True)
BILINEAR = (sympy.Rational(3, 2) - 2 * x * y) ** 2 / 2

TOL = 0.3


def assert_slopes(report, expected_shift=1):
    assert report.passed, report.table()
    for r in report.orders:
        assert r.expected == r.order + expected_shift
        assert abs(r.fitted - r.expected) < TOL, report.table()
        lo, hi = r.spread
        assert lo > r.expected - 1 and hi < r.expected + 1, report.table()


def test_gd_bilinear_orders_0_to_4(cache):
    report = verify(gd, BILINEAR, (x, y), [1.0, 0.5], order=4, hs=[0.1, 0.05, 0.025, 0.0125, 0.00625], T=1.0,
                    cache_dir=cache)
    assert report.method == "global"
    assert_slopes(report)
    assert [round(r.fitted) for r in report.orders] == [1, 2, 3, 4, 5]


ADAM_SMALL_EPS = dict(beta=0.9, rho=0.95, eps=1e-3)

CASES = {
    # the paper's start; |grad E| ~ 100 >> sqrt(eps): the small-eps regime
    "adam-small-eps": (adam, ADAM_SMALL_EPS, [2.8, 3.5], {}),
    # |grad E| ~ 1 << sqrt(eps): the large-eps regime
    "adam-large-eps": (adam, dict(beta=0.9, rho=0.95, eps=10.0), [1.0, 0.5], {}),
    "rmsprop": (rmsprop, dict(rho=0.95, eps=1e-3), [2.8, 3.5], {}),
    "adamw": (adamw, dict(beta=0.9, rho=0.95, eps=1e-3, weight_decay=0.1), [2.8, 3.5], {}),
    "heavy-ball": (heavy_ball, dict(beta=0.5), [1.0, 0.5], {}),
    "nesterov": (nesterov, dict(beta=0.5), [1.0, 0.5], {}),
    # SAM's field has 1/|grad E|^k: stop before the valley xy = 3/4
    "sam": (sam, dict(c=1.0), [1.0, 0.5], dict(T=0.25, hs=[0.025, 0.0125, 0.00625, 0.003125, 0.0015625])),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_order_gains_one_power_of_h_through_order_3(case, cache):
    opt, values, start, extra = CASES[case]
    report = verify(opt, BILINEAR, (x, y), start, order=3, values=values, cache_dir=cache, **extra)
    assert report.method == ("global" if case == "sam" else "history")
    assert_slopes(report)


def test_adam_local_defect_gains_one_order_more(cache):
    report = verify(adam, BILINEAR, (x, y), [2.8, 3.5], order=3, values=ADAM_SMALL_EPS, method="defect",
                    cache_dir=cache)
    assert report.method == "defect"
    assert_slopes(report, expected_shift=2)


def test_adam_empty_start_shows_the_transient(cache):
    """Started with empty moving averages, the stationary field's error stalls at O(h^2)."""
    report = verify(adam, BILINEAR, (x, y), [2.8, 3.5], order=3, values=ADAM_SMALL_EPS, method="global",
                    cache_dir=cache)
    assert not report.passed
    assert abs(report.orders[3].fitted - 2) < TOL
    assert "transient" in report.table()


def test_adam_exact_regime_from_step_zero_has_global_slope_2(cache):
    report = verify(adam, BILINEAR, (x, y), [2.8, 3.5], order=1, values=ADAM_SMALL_EPS, regime="exact",
                    cache_dir=cache)
    assert report.method == "global"
    assert_slopes(report)


def test_minibatch_gd_cyclic_schedule(cache):
    """Memoryless: step n follows the modified field of its batch b(n)."""
    batches = [(x - 1) ** 2 / 2 + y**2 / 4, (x + y - 1) ** 2 / 2, (2 * x - y) ** 2 / 2 + x * y / 4]
    report = verify(gd, None, (x, y), [1.0, 0.5], order=3, batches=batches, schedule=[2, 1, 3, 3],
                    hs=[0.05, 0.025, 0.0125, 0.00625, 0.003125], cache_dir=cache)
    assert_slopes(report)


OTHER_BUILTINS = {
    "heavy-ball-ema": (heavy_ball_ema, dict(beta=0.5), [1.0, 0.5], {}),
    "usam": (usam, dict(c=1.0), [1.0, 0.5], dict(T=0.5)),
    # the smooth sign x/sqrt(x^2 + delta) with |grad E| ~ 100 >> sqrt(delta)
    "signum": (signum, dict(beta=0.9, delta=1e-2), [2.8, 3.5], {}),
    "lion": (lion, dict(beta1=0.9, beta2=0.9, delta=1e-2), [2.8, 3.5], {}),
}


@pytest.mark.parametrize("case", list(OTHER_BUILTINS))
def test_the_other_builtins_gain_one_power_of_h_per_term(case, cache):
    opt, values, start, extra = OTHER_BUILTINS[case]
    report = verify(opt, BILINEAR, (x, y), start, order=2, values=values, cache_dir=cache, **extra)
    assert_slopes(report)


@pytest.mark.slow  # ~20 s of CPU: a derivation and an order-2 compilation of its own
def test_adagrad_slow_state_orders_0_to_2(cache):
    """AdaGrad's sum is a slow state that joins theta: its modified equation on
    (theta, V), integrated from (theta_0, V_0), gains one power of h per term
    against AdaGrad's iterates (which equal torch.optim.Adagrad's,
    tests/reference). A one-step map on (theta, V) has no transient: the start
    is the optimizer's ("global"), and the history method is refused."""
    loss = x**4 / 4 + x**2 / 2 + sympy.sin(y) + x * y
    report = verify(adagrad, loss, (x, y), [0.8, -0.5], order=2, T=1.0,
                    hs=[0.05, 0.025, 0.0125, 0.00625, 0.003125], cache_dir=cache)
    assert report.method == "global"
    assert_slopes(report)
    assert [round(r.fitted) for r in report.orders] == [1, 2, 3]
    with pytest.raises(ValueError, match="method='global'"):
        verify(adagrad, loss, (x, y), [0.8, -0.5], order=0, method="history", cache_dir=cache)


@pytest.mark.slow  # ~20 s of CPU: a derivation and an order-2 compilation of its own
def test_schedule_free_sgd_orders_0_to_2_from_a_later_start(cache):
    """Schedule-free SGD's averaging weight h/(t + h) makes the average a slow, time-dependent
    state; the modified equation on (theta, w, tau) is singular at t = 0 (the average's own
    x' = (z - x)/t), so the run starts at t0 = 1/2 (the same recursion with the average started
    later; the package's iterates, t0 = 0, are tests/reference/test_schedule_free_reference.py)."""
    loss = x**4 / 4 + x**2 / 2 + sympy.sin(y) + x * y
    report = verify(schedule_free_sgd, loss, (x, y), [0.8, -0.5], order=2, values={"beta": 0.9, "t0": 0.5},
                    T=1.0, cache_dir=cache)
    assert report.method == "global"
    assert_slopes(report)
    assert [round(r.fitted) for r in report.orders] == [1, 2, 3]


@pytest.mark.slow  # ~15 s of CPU; its order-2 derivation alone is ~25 s of CPU on a cold cache
def test_schedule_free_adamw_orders_0_to_2_from_a_later_start(cache):
    """As schedule-free SGD, with AdamW's normalized direction and weight decay at y; beta2 = 0
    (the square of the step's gradient), since a second-moment average started empty beside the
    slow state costs an O(h^2) transient (it showed slope 2.44 at order 2 with beta2 = 0.9)."""
    loss = x**4 / 4 + x**2 / 2 + sympy.sin(y) + x * y
    report = verify(schedule_free_adamw, loss, (x, y), [0.8, -0.5], order=2,
                    values={"beta1": 0.9, "beta2": 0.0, "eps": 0.1, "weight_decay": 0.1, "t0": 0.5}, T=1.0,
                    hs=[0.01, 0.005, 0.0025, 0.00125, 0.000625], cache_dir=cache)
    assert_slopes(report)
    assert [round(r.fitted) for r in report.orders] == [1, 2, 3]


#: The timed built-ins (issue 14) in the regime of their expansion: h << 1 - beta for every decay
#: (beta = 0.5; AdEMAMix's beta3 warm-up runs from beta1 = 0.5 to 0.8 over T = 2), and eps = 1, so that
#: the normalization is a smooth function of the gradient. With eps = 1e-8 these fields are
#: -sign(grad E) up to O(eps/g^2): their corrections nearly vanish where |grad E| >> sqrt(eps) and are
#: singular where a component of the gradient crosses 0 (NAdam, beta = 0.5, eps = 1e-8: slopes 0.74 and
#: 1.02 for orders 0 and 1, order 2 blows up). The defaults beta2 = 0.999, beta3 = 0.9999 need h << 1e-3, 1e-4.
TIMED_BUILTINS = {
    "adam_warmup_cosine": {"beta": 0.5, "rho": 0.5, "eps": 1.0},
    "nadam": {"beta1": 0.5, "beta2": 0.5, "eps": 1.0},
    "ademamix_warmup": {"beta1": 0.5, "beta2": 0.5, "beta3": 0.8, "alpha": 2.0, "warmup": 2.0, "eps": 1.0},
}


@pytest.mark.slow  # ~30 s of CPU each: a derivation and an order-2 compilation of its own
@pytest.mark.parametrize("name", list(TIMED_BUILTINS))
def test_timed_builtins_orders_0_to_2_from_a_later_start(name, cache):
    """Their fields f_k(theta, t) from t0 = 0.6: the history is replayed on the flow back to t = 0 at
    most (the optimizer's start; before it the schedules are extrapolations: NAdam's momentum reaches
    -1e30 and AdEMAMix's beta3 has a pole there, and replays of 41 000 steps back diverged). The
    iterates equal the reference packages' (tests/reference/test_schedules_reference.py)."""
    report = verify(get(name), "(x*y - 1)**2/2 + x**4/4", "x,y", [1.0, 0.5], order=2, values=TIMED_BUILTINS[name],
                    T=0.5, t0=0.6, hs=[0.01, 0.005, 0.0025], cache_dir=cache)
    assert report.method == "history"
    assert_slopes(report)
    assert [round(r.fitted) for r in report.orders] == [1, 2, 3]
    if name == "ademamix_warmup":  # its slowest decay needs 564 replayed steps: from t0/h = 60..240, t = 0 is reached
        assert "the history is the optimizer's run from t = 0" in report.table()
