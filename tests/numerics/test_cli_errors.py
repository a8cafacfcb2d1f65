"""Input errors of `modeq verify`/`derive` that are one clear line with the flag to use (issue 11)."""

import numpy as np
import pytest
import sympy

from modeq import verify
from modeq.cli import main
from modeq.cli.wording import for_cli
from modeq.optimizers import gd, sam

x, y = sympy.symbols("x y", real=True)
LOSS = ["--loss", "x**2 + y**2", "--params", "x,y", "--theta0", "1,1"]


def one_line_error(capsys, argv, status=2):
    assert main(argv) == status
    err = capsys.readouterr().err
    lines = [line for line in err.split("\n") if line and not line.startswith("\r")]  # a progress bar may precede
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("argv,message", [
    (["verify", "gd", *LOSS, "--plot", "missing/dir/x.png"], "the directory 'missing/dir' does not exist"),
    (["verify", "gd", *LOSS, "--plot", "."], "--plot expects a file name such as convergence.png, got the directory"),
    (["verify", "gd", *LOSS, "--plot", "out.nosuchformat"], "give a file name ending in one of"),
    (["verify", "gd", "--loss", "x**2", "--batch", "x**2", "--batch", "y**2", "--params", "x,y", "--theta0", "1,1"],
     "give either --loss or --batch losses, not both"),
    (["verify", "gd", "--loss", "1/x + y**2", "--params", "x,y", "--theta0", "0,1"],
     "the loss is singular at theta0"),
    (["verify", "adam", "--batch", "x**2", "--batch", "y**2", "--params", "x,y", "--theta0", "1,1"],
     "use --regime exact, which derives them step by step"),
    (["verify", "adam", *LOSS, "--regime", "exact", "--method", "history"], "use --method global"),
    (["derive", "rmsprop", "--regime", "exact", "--option", "bias_correction=false"], "modeq derive --steps N gives"),
])
def test_errors_before_the_run_name_the_flag(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MODEQ_CACHE_DIR", str(tmp_path / "cache"))
    err = one_line_error(capsys, argv)
    assert message in err
    assert not any(api in err for api in ("regime=", "method=", "steps=", "values=", "max_seconds"))
    assert not list(tmp_path.glob("cache/**/*.py"))  # refused before anything was generated or compiled


def test_the_api_keeps_its_argument_names():
    with pytest.raises(ValueError, match="use regime='exact'"):
        verify("adam", None, (x, y), [1.0, 1.0], batches=[x**2, y**2])
    with pytest.raises(ValueError, match="the loss is singular at theta0"):
        verify(gd, 1 / x + y**2, (x, y), [0.0, 1.0])


def test_every_api_phrase_reachable_from_the_cli_is_translated():
    assert for_cli("use regime='exact', which") == "use --regime exact, which"
    assert for_cli("use method='global' (or 'auto')") == "use --method global (or 'auto')"
    assert for_cli("(e.g. T=0.2, hs=0.05,0.025,0.0125)") == "(e.g. --T 0.2 --hs 0.05,0.025,0.0125)"
    assert for_cli("give numeric values for them (values={...})") == "give numeric values for them (--set NAME=VALUE)"
    assert for_cli("pass max_seconds=None (no limit) or a larger max_seconds to run it anyway") == \
        "pass --force to run it anyway"


def test_order_accepts_numpy_integers_and_refuses_bools_and_floats(cache):
    report = verify(gd, (x**2 + y**2) / 2, (x, y), [1.0, 1.0], order=np.int64(1), hs=[0.05, 0.025, 0.0125],
                    cache_dir=cache)
    assert [r.order for r in report.orders] == [0, 1] and isinstance(report.orders[-1].order, int)
    for bad in (True, 1.0, np.float64(1.0)):
        with pytest.raises(TypeError, match="order must be a whole number such as 2"):
            verify(gd, (x**2 + y**2) / 2, (x, y), [1.0, 1.0], order=bad, cache_dir=cache)


def test_sam_at_a_stationary_point(cache, monkeypatch, capsys):
    with pytest.raises(ValueError, match="sam's 1/‖∇E‖ is singular at a stationary point"):
        verify(sam, x**2 + y**2, (x, y), [0.0, 0.0], order=1, cache_dir=cache)
    monkeypatch.setenv("MODEQ_CACHE_DIR", str(cache))
    err = one_line_error(capsys, ["verify", "sam", "--loss", "x**2 + y**2", "--params", "x,y", "--theta0", "0,0"])
    assert "singular at a stationary point" in err and "start where the gradient is not zero" in err
