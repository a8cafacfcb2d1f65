"""`modeq list` and `modeq derive` on the command line."""

import subprocess
import sys

import pytest

from modeq.cli import main
from modeq.optimizers import BUILTIN


def test_list_names_every_builtin_with_its_hyperparameters(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name, opt in BUILTIN.items():
        assert f"{name}:" in out
        for hp in opt.hyperparameters:
            assert f"    {hp.name} in {hp.domain.value}" in out


def test_derive_prints_the_terms(capsys):
    assert main(["derive", "heavy_ball_ema", "--order", "1", "--set", "beta=0.5"]) == 0
    out = capsys.readouterr().out
    assert "f_0 = -g" in out
    # -(1 + beta)/(2(1 - beta)) D_1[g] at beta = 1/2
    assert "f_1 = -3*D_1[g]/2" in out


def test_derive_applies_options(capsys):
    assert main(["derive", "adam", "--order", "0", "--option", "eps_inside=false"]) == 0
    assert "f_0 = -g/(eps + sqrt(g**2))" in capsys.readouterr().out


@pytest.mark.parametrize("argv, words", [
    (["derive", "adamz"], "unknown optimizer 'adamz'; the built-in optimizers are: gd"),
    (["derive", "adam", "--order", "-2"], "order must be between 0 and"),
    (["derive", "adam", "--set", "beta=2"], "beta = 2.0 is outside its domain"),
    (["derive", "adam", "--option", "eps_inside=maybe"], "NAME=true or NAME=false"),
])
def test_errors_are_one_clear_line(capsys, argv, words):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_console_script_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "modeq", "derive", "gd", "--order", "2"],
                            capture_output=True, text=True, check=True)
    assert "f_2 = -D_1[D_1[g]]/3 - D_2[g, g]/12" in result.stdout
