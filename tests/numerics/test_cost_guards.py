"""Long jobs are estimated and refused above the limit unless forced; the estimate follows the calibration."""

import warnings

import numpy as np
import pytest
import sympy

import modeq.cli.derive as derive_command
from modeq import cost, derive, derive_steps, verify
from modeq.cli import main
from modeq.cli.progress import ProgressBar
from modeq.numerics.cache import CacheWarning
from modeq.optimizers import adam, gd, heavy_ball, optimizer, positive
from modeq.optimizers.language import grad


def test_describe_reads_like_a_person_would_say_it():
    assert [cost.describe(s) for s in (3, 95, 7200, 5 * 86400, 1e9)] == [
        "about 3 s", "about 2 min", "about 2.0 h", "about 5 days", "more than a year"]


def test_order_costs_follow_the_measured_ones_then_grow_by_a_growing_ratio():
    """Beyond the measured orders each ratio per order is the previous one times a constant q in [1, 3]."""
    measured = cost.DERIVE[("heavy_ball", "symbolic", "stationary")]
    m = len(measured)
    times = cost.order_seconds(heavy_ball, m + 2)
    assert times[:m] == pytest.approx(list(measured))
    ratios = [b / a for a, b in zip(times[m - 2:], times[m - 1:])]  # the last measured one, then three extrapolated
    growths = [b / a for a, b in zip(ratios, ratios[1:])]
    assert growths == pytest.approx([growths[0]] * 3) and 1 <= growths[0] <= 3


def test_an_unknown_optimizer_is_costed_like_the_nearest_builtin():
    @optimizer(lr=positive(1.0))
    def scaled_gd(lr):
        return -lr * grad()

    assert cost.derive_seconds(scaled_gd, 3) > 0
    assert cost.derive_seconds(scaled_gd, 10) > cost.derive_seconds(scaled_gd, 5)


def test_derive_refuses_adam_order_12_with_its_estimate():
    with pytest.raises(cost.CostError, match=r"deriving adam to order 12 is estimated to take (about|more than) .* above the "
                                             r"limit of about 10 min; pass max_seconds=None"):
        derive(adam, order=12)


def test_derive_steps_refuses_40_symbolic_adam_steps_at_order_2():
    with pytest.raises(cost.CostError, match="fields of 40 steps of adam to order 2"):
        derive_steps(adam, 40, order=2)


def test_max_seconds_is_checked():
    with pytest.raises(ValueError, match="max_seconds must be a positive number of seconds or None"):
        derive(gd, order=1, max_seconds=-1)
    with pytest.raises(cost.CostError):
        derive(gd, order=6, max_seconds=1e-6)
    assert derive(gd, order=1, max_seconds=None).order == 1


def test_verify_limit_covers_derivation_and_compilation_before_they_start(monkeypatch, tmp_path):
    """200 coupled parameters at order 1 (compiling their field: minutes): refused before anything is derived."""
    params = sympy.symbols("x0:200", real=True)
    dense = sum(x**2 for x in params) ** 2 / 4  # a dense Hessian: 40000 entries
    started = []
    monkeypatch.setattr("modeq.solver.solve_terms", lambda *a, **k: started.append(1))
    with pytest.raises(cost.CostError, match="verifying gd to order 1 is estimated"):
        verify(gd, dense, params, np.full(200, 0.5), order=1, cache_dir=tmp_path, max_seconds=120)
    assert not started


def test_the_compile_estimate_follows_the_coupling_not_the_dimension():
    params = sympy.symbols("x0:200", real=True)
    chain = sum((params[i] - params[(i + 1) % 200] ** 2) ** 2 for i in range(200)) / 2
    dense = sum(x**2 for x in params) ** 2 / 4
    assert cost.coupled(chain, params) == 600 and cost.coupled(dense, params) == 40000
    sparse, full = (cost.compile_seconds(gd, 1, cost.coupled(loss, params)) for loss in (chain, dense))
    assert sparse < 30 and full > 120 and full > 10 * sparse


def test_verify_refuses_runs_with_tiny_steps(cache):
    x, y = sympy.symbols("x y", real=True)
    with pytest.raises(cost.CostError, match=r"the runs: 3 step sizes down to h = 2.5e-09, T = 1"):
        verify(gd, (x**2 + y**2) / 2, (x, y), [1.0, 1.0], order=1, hs=[1e-8, 5e-9, 2.5e-9], cache_dir=cache)


def test_cli_refusals_name_force(cache, monkeypatch, capsys):
    monkeypatch.setenv("MODEQ_CACHE_DIR", str(cache))
    assert main(["derive", "adam", "--order", "12"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pass --force to run it anyway" in err and "max_seconds" not in err
    assert main(["derive", "adam", "--steps", "40", "--order", "2"]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert main(["verify", "gd", "--loss", "x**2 + y**2", "--params", "x,y", "--theta0", "1,1",
                 "--hs", "1e-8,5e-9,2.5e-9"]) == 2
    err = capsys.readouterr().err
    assert "the runs: 3 step sizes" in err and "pass --force" in err


def test_cli_force_skips_the_guard(monkeypatch, capsys):
    """--force runs a job the estimate would refuse (the estimate is made huge; the job itself is small)."""
    monkeypatch.setattr(cost, "order_seconds", lambda optimizer, order, *a, **k: [1e9 / (order + 1)] * (order + 1))
    assert main(["derive", "gd", "--order", "1"]) == 2
    assert "more than a year" in capsys.readouterr().err
    assert main(["derive", "gd", "--order", "1", "--force"]) == 0
    assert "f_1" in capsys.readouterr().out


def test_progress_is_reported_per_order_and_per_step():
    calls = []
    derive(heavy_ball, order=2, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    calls.clear()
    derive_steps(heavy_ball, 3, order=1, values=dict(beta=0.5), progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_a_warning_during_a_progress_bar_starts_on_its_own_line(monkeypatch, capsys):
    def derive_with_a_warning(args):
        bar = ProgressBar("derive gd", "order", delay=0.0)
        bar(1, 2)
        warnings.warn("the cache is read-only; using a private one", CacheWarning)
        bar(2, 2)
        return 0

    monkeypatch.setattr(derive_command, "run", derive_with_a_warning)
    assert main(["derive", "gd"]) == 0
    err = capsys.readouterr().err
    assert "order 1/2\nmodeq: warning: the cache is read-only; using a private one\n" in err, repr(err)


def test_a_derivation_slower_than_estimated_is_refused_before_its_next_order(monkeypatch):
    """The adaptive guard: the model says 0.1 ms per order (the up-front check passes), the run's own
    pace says otherwise after order 0 (scaled at once: no minimum time), so order 1 never starts."""
    monkeypatch.setattr(cost, "order_seconds", lambda *a, **k: [1e-4] * 7)
    monkeypatch.setattr(cost, "_MEASURABLE", 0.0)
    calls = []
    with pytest.raises(cost.CostError, match=r"^deriving heavy_ball to order 6, stopped after order 0 of the derivation "
                                             r"\(about \d+ s so far\), is estimated to take .* pass max_seconds=None"):
        derive(heavy_ball, order=6, max_seconds=0.005, progress=lambda done, total: calls.append(done))
    assert calls == [1]
    assert derive(heavy_ball, order=6, max_seconds=None).order == 6


def test_the_adaptive_guard_keeps_the_models_figures_while_the_run_is_short(monkeypatch):
    """Below the measurable time (heavy ball's orders 0-1 take ~0.03 s) the model's 1 s for order 2
    stands and the run passes a 3 s limit; scaled by the run's pace (no minimum time) it would not."""
    monkeypatch.setattr(cost, "order_seconds", lambda *a, **k: [1e-4, 1e-4, 1.0])
    assert derive(heavy_ball, order=2, max_seconds=3).order == 2
    monkeypatch.setattr(cost, "_MEASURABLE", 0.0)
    with pytest.raises(cost.CostError, match="stopped after order 0 of the derivation"):
        derive(heavy_ball, order=2, max_seconds=3)


def test_cli_refusal_of_the_adaptive_guard_is_one_line_naming_force(cache, monkeypatch, capsys):
    monkeypatch.setenv("MODEQ_CACHE_DIR", str(cache))
    monkeypatch.setattr(cost, "order_seconds", lambda optimizer, order, *a, **k: [1e-4] * (order + 1))
    monkeypatch.setattr(cost, "_MEASURABLE", 0.0)
    monkeypatch.setattr(cost, "DEFAULT_MAX_SECONDS", 0.005)
    assert main(["derive", "heavy_ball", "--order", "6"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stopped after order 0 of the derivation" in err and "pass --force" in err, err
