"""Bad input and diverging runs give clear messages; the ``modeq verify`` command."""

import pytest
import sympy

from modeq import verify
from modeq.cli import main
from modeq.optimizers import adam, gd, heavy_ball

x, y = sympy.symbols("x y", real=True)
BILINEAR = (sympy.Rational(3, 2) - 2 * x * y) ** 2 / 2


def test_diverging_run_is_reported_not_fitted(cache):
    # |grad E| ~ 100 at the paper's start: heavy ball with these steps explodes
    report = verify(heavy_ball, BILINEAR, (x, y), [2.8, 3.5], order=1, values=dict(beta=0.5),
                    hs=[0.05, 0.025, 0.0125], cache_dir=cache)
    assert not report.passed
    assert all(r.status == "DIVERGED" and r.fitted is None for r in report.orders)
    assert "diverged" in report.table()


def test_rounding_floor_is_reported(cache):
    report = verify(gd, (x**2 + y**2) / 2, (x, y), [1.0, 1.0], order=4, hs=[1e-3, 5e-4, 2.5e-4],
                    cache_dir=cache)
    assert report.orders[4].status == "ROUNDING"
    assert report.orders[0].passed


@pytest.mark.parametrize("kwargs,message", [
    (dict(loss="(x - z)**2", params="x,y"), "the name z; it is not a parameter"),
    (dict(theta0=[1.0]), "2 values, one per parameter"),
    (dict(order=13), "between 0 and 12"),
    (dict(method="magic"), "unknown method"),
    (dict(hs=[0.1, 0.05]), "at least 3 step sizes"),
    (dict(optimizer=heavy_ball, values=dict(beta=1.5)), "outside its domain"),
    (dict(optimizer="adamz"), "unknown optimizer"),
    (dict(optimizer=adam, batches=[x**2, y**2], loss=None), "memory.*regime='exact'"),
    (dict(optimizer=adam, batches=[x**2, y**2], loss=None, regime="exact"), "more than 64; give a shorter T"),
])
def test_bad_input(kwargs, message, cache):
    args = dict(optimizer=gd, loss=BILINEAR, params=(x, y), theta0=[1.0, 0.5], order=1, cache_dir=cache)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        verify(**args)


def test_cli_prints_the_table_and_saves_the_plot(tmp_path, cache, monkeypatch, capsys):
    monkeypatch.setenv("MODEQ_CACHE_DIR", str(cache))
    plot = tmp_path / "out.png"
    status = main(["verify", "gd", "--loss", "(3/2 - 2*x*y)**2/2", "--params", "x,y", "--theta0", "1,0.5",
                   "--order", "2", "--hs", "0.05,0.025,0.0125,0.00625", "--plot", str(plot)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "all orders confirmed" in out and "expected" in out
    assert plot.stat().st_size > 0


def test_cli_fails_when_an_order_is_not_confirmed(cache, monkeypatch, capsys):
    monkeypatch.setenv("MODEQ_CACHE_DIR", str(cache))
    status = main(["verify", "heavy_ball", "--loss", "(3/2 - 2*x*y)**2/2", "--params", "x,y", "--theta0", "2.8,3.5",
                   "--set", "beta=0.5", "--hs", "0.05,0.025,0.0125"])
    assert status == 1
    assert "NOT CONFIRMED" in capsys.readouterr().out
    assert main(["verify", "gd", "--loss", "x*y", "--params", "x,y", "--theta0", "1"]) == 2
    assert "theta0 must have 2 values" in capsys.readouterr().err


LEAST_SQUARES = ["(x + 2*y - 1)**2/2", "(2*x - y + 1/2)**2/2", "(x - y - 2)**2/2"]


def test_cli_minibatch_heavy_ball_step_by_step_fields(cache, monkeypatch, capsys):
    """Mini-batch heavy ball (memory): one exact-regime field per step, derived step by step."""
    monkeypatch.setenv("MODEQ_CACHE_DIR", str(cache))
    batches = [arg for b in LEAST_SQUARES for arg in ("--batch", b)]
    status = main(["verify", "heavy_ball", *batches, "--params", "x,y", "--theta0", "0.5,-0.3", "--order", "1",
                   "--set", "beta=0.5", "--regime", "exact", "--T", "0.1", "--hs", "0.0125,0.00625,0.003125"])
    out = capsys.readouterr().out
    assert status == 0, out
    slopes = next(line for line in out.splitlines() if line.startswith("slope")).split()[1:]
    assert [round(float(s)) for s in slopes] == [1, 2], out


def test_cli_needs_a_loss_or_batches(capsys):
    status = main(["verify", "gd", "--params", "x,y", "--theta0", "1,0.5"])
    assert status == 2
    assert "give the loss with --loss, or mini-batch losses with --batch" in capsys.readouterr().err
