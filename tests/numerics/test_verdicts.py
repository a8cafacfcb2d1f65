"""Verdicts that cannot pass wrongly: one test per status, and the blow-up case of issue 11.

The synthetic cases build errors e(h) = C h^p (and worse) by hand, so the
expected status follows from the rules in :mod:`modeq.numerics.report`, not
from the code under test."""

import re

import numpy as np
import pytest

from modeq.cli import main
from modeq.numerics.report import STATUSES, VerificationReport, assess, classify

HS = np.array([0.1, 0.05, 0.025, 0.0125, 0.00625])
FLOOR = 1e-14


def judge(errors, scale=1.0, integration=0.0, diverged=False, expected=2):
    errors = np.asarray(errors, dtype=float)
    n = len(errors)
    reasons = classify(errors, np.full(n, FLOOR), np.full(n, scale), np.broadcast_to(integration, n),
                       np.broadcast_to(diverged, n))
    return assess(expected - 1, expected, HS, errors, reasons, tolerance=0.3)


def slopes_to_errors(slopes, first=1e-3):
    """Errors whose slopes between consecutive step sizes (halvings) are ``slopes``."""
    errors = [first]
    for s in slopes:
        errors.append(errors[-1] * 0.5**s)
    return errors


def test_confirmed():
    r = judge(0.1 * HS**2)
    assert r.status == "confirmed" and r.passed and abs(r.fitted - 2) < 1e-9


def test_exceeds_passes_with_a_note():
    r = judge(0.1 * HS**3)
    assert r.status == "exceeds" and r.passed and "next term vanishes" in r.note


def test_low_order():
    r = judge(0.01 * HS**1.5)
    assert r.status == "LOW ORDER" and not r.passed


def test_no_decrease():
    r = judge(np.full(5, 1e-4))
    assert r.status == "NO DECREASE" and not r.passed


def test_slope_that_sinks_on_the_finest_pair_drifts():
    # fitted slope over the 4 finest points is about 1.9 (inside 2 +- 0.3), but the finest pair has 1.2
    r = judge(slopes_to_errors([2.5, 2.5, 2.0, 1.2]))
    assert 1.7 < r.fitted < 2.3
    assert r.status == "SLOPE DRIFTS" and not r.passed
    assert "finest pair" in r.note and abs(r.finest - 1.2) < 1e-9


def test_diverged():
    r = judge(np.full(5, np.nan), diverged=True)
    assert r.status == "DIVERGED" and r.fitted is None


def test_field_blows_up():
    # the errors fall like h^3 but are bigger than the trajectory itself (issue 11: 39, 4.9, 0.61 on |theta| ~ 2)
    errors = [39.0, 4.9, 0.61, 0.076, np.inf]
    r = judge(errors, scale=2.0, expected=3)
    assert r.status == "FIELD BLOWS UP" and not r.passed
    assert "leaves the trajectory" in r.note


def test_out_of_range():
    r = judge(0.5 * HS**0.1, scale=1.0)
    assert r.status == "OUT OF RANGE" and not r.passed


def test_rounding():
    r = judge(np.full(5, FLOOR / 2))
    assert r.status == "ROUNDING"


def test_integration_error_above_ten_percent_is_not_fitted():
    r = judge(0.1 * HS**2, integration=0.2)
    assert r.status == "INTEGRATION" and not r.passed
    ok = judge(0.1 * HS**2, integration=0.09)
    assert ok.status == "confirmed"


def test_integration_on_one_point_leaves_it_out_of_the_fit():
    errors = 0.1 * HS**2
    errors[0] *= 5  # a wrong point, but the integrator is off there: it must not enter the fit
    n = len(HS)
    reasons = classify(errors, np.full(n, FLOOR), np.ones(n), [0.5, 0, 0, 0, 0], np.zeros(n, dtype=bool))
    r = assess(1, 2, HS, errors, reasons, 0.3)
    assert r.usable == (False, True, True, True, True)
    assert r.status == "confirmed" and abs(r.fitted - 2) < 1e-9


def test_a_bad_point_below_the_fitted_step_sizes_fails_the_order():
    """Errors must not grow again as h shrinks: a too-large error at the smallest h fails the order."""
    errors = 0.1 * HS**2
    errors[-1] = 0.5
    r = judge(errors)
    assert r.status == "OUT OF RANGE" and "smaller than the fitted step sizes" in r.note


def test_status_columns_never_run_together():
    results = tuple(assess(k, k + 1, HS, [0.5] * 5, ["too large"] * 5, 0.3) for k in range(3))
    results += (judge([39.0, 4.9, 0.61, 0.076, np.inf], scale=2.0, expected=3),)
    report = VerificationReport("gd", "stationary", "global", {}, (1.0, 2.0), 1.0, tuple(HS), results, 0.3, 0.0)
    line = next(line for line in report.table().splitlines() if line.startswith("status"))
    assert re.split(r"\s{2,}", line.strip())[1:] == ["OUT OF RANGE"] * 3 + ["FIELD BLOWS UP"]
    assert all(s in STATUSES for s in (r.status for r in results))


def test_issue_11_blow_up_exits_1_and_names_the_reason(cache, monkeypatch, capsys):
    """Adam near the minimum with eps = 1e-16: the order-2 field carries 1/|grad E|^k with |grad E| ~ 1e-6."""
    monkeypatch.setenv("MODEQ_CACHE_DIR", str(cache))
    status = main(["verify", "adam", "--loss", "(x-1)**2 + (y-2)**2", "--params", "x,y",
                   "--theta0", "1.000001,2.000001", "--order", "2", "--set", "eps=1e-16", "--T", "0.01"])
    out = capsys.readouterr().out
    assert status == 1, out
    assert "order 2 (FIELD BLOWS UP)" in out
    assert "all orders confirmed" not in out
