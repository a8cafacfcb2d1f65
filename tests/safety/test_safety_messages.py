"""Issue 11's input errors: each is one line naming the problem and the fix
(the flag in the CLI, the argument in the API); and issue 14's user optimizers
on the command line."""

import re
import textwrap

import numpy as np
import pytest
import sympy

import modeq
from modeq.cli import main
from modeq.cli.options import load_optimizer
from modeq.optimizers import heavy_ball_ema


def cli_error(argv, capsys):
    try:
        status = main(argv)
    except SystemExit as exit:  # argparse's own errors (--set's type)
        status = exit.code
    assert status == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


# --- the loss ------------------------------------------------------------------------

VERIFY = ["verify", "gd", "--params", "x", "--theta0", "1", "--order", "0"]


@pytest.mark.parametrize("loss, problem, fix", [
    ("I*x**2", "uses the name I", "no imaginary unit"),
    ("relu(x)", "uses Max", "smooth surrogate"),
    ("f(x)", "calls the unknown function f", "the functions are sqrt, exp, log"),
    ("O(x) + x**2", "calls the unknown function O", "the functions are sqrt, exp, log"),
    ("nan*x", "uses nan, which is not a finite number", "must be finite"),
    ("1/0 + x**2", "divides by zero at 1 / 0", "write an expression that is finite"),
])
def test_loss_errors_name_the_problem_and_the_fix(loss, problem, fix, capsys):
    err = cli_error([*VERIFY, "--loss", loss], capsys)
    assert problem in err and fix in err
    with pytest.raises(ValueError, match=problem):
        modeq.parse_loss(loss, "x")


def test_negative_values_on_the_command_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MODEQ_CACHE_DIR", str(tmp_path))
    status = main(["verify", "gd", "--loss", "-x*y + x**2 + y**2", "--params", "x,y", "--theta0", "-1,1", "--order", "0",
                   "--hs", "0.02,0.01,0.005"])
    out = capsys.readouterr().out
    assert status == 0 and "theta0 = [-1.0, 1.0]" in out


@pytest.mark.parametrize("flag, text, words", [
    ("--theta0", "1,a", "--theta0: the entry 'a' uses the name a; a number may use only digits"),
    ("--theta0", "1,", "--theta0 must be comma-separated numbers such as 1,-2.5, got '1,'"),
    ("--theta0", "__import__('os').getcwd(),1", "--theta0: the entry"),
    ("--hs", "0.1,0.05,nan", "--hs: the entry 'nan' uses nan, which is not a finite number"),
])
def test_number_lists_name_the_flag_and_the_entry(flag, text, words, capsys):
    argv = ["verify", "gd", "--loss", "x**2", "--params", "x", "--theta0", "1", flag, text]
    assert words in cli_error(argv, capsys)


# --- hyperparameter values -----------------------------------------------------------------

@pytest.mark.parametrize("value, words", [
    (None, r"hyperparameter beta: expected one number such as 0.9 or '1/10', got None \(leave beta out to use its default"),
    ([0.9], "hyperparameter beta: expected one number such as 0.9 or '1/10', got a list"),
    ({"v": 0.9}, "got a dict"),
    ("nine tenths", "hyperparameter beta: the value 'nine tenths' is not a valid expression"),
    ("x", "hyperparameter beta: the value 'x' uses the name x; a number may use only digits"),
    ("1.5", r"beta = '1.5' is outside its domain \[0, 1\)"),
])
def test_api_values_that_are_not_numbers(value, words):
    with pytest.raises(ValueError, match=words):
        modeq.derive(heavy_ball_ema, order=1, values=dict(beta=value))


def test_api_values_as_text_are_exact():
    half = modeq.derive(heavy_ball_ema, order=1, values=dict(beta="1/2")).terms
    assert half == modeq.derive(heavy_ball_ema, order=1, values=dict(beta=sympy.Rational(1, 2))).terms
    assert modeq.derive(heavy_ball_ema, order=1, values=dict(beta=np.array(0.5))).terms == half
    with pytest.raises(TypeError, match=r"values must map hyperparameter names to numbers, e.g. values=dict\(beta=0.9\)"):
        modeq.derive(heavy_ball_ema, order=1, values=[("beta", 0.5)])


def test_set_on_the_command_line(capsys):
    err = cli_error(["derive", "heavy_ball_ema", "--set", "beta=abc"], capsys)
    assert "argument --set" in err and "the value of beta 'abc' uses the name abc" in err
    assert main(["derive", "heavy_ball_ema", "--set", "beta=1/2"]) == 0
    assert "β = 1/2" in capsys.readouterr().out


# --- modeq separable -----------------------------------------------------------------

@pytest.fixture
def csv_files(tmp_path):
    (tmp_path / "d.csv").write_text("1,2,1\n-1,-2,-1\n2,1,1\n-2,-1,-1\n")
    (tmp_path / "zero.csv").write_text("0,0,1\n0,0,-1\n0,0,1\n")
    (tmp_path / "one_zero.csv").write_text("1,2,1\n0,0,-1\n2,1,1\n")
    return tmp_path


def test_separable_label_column_out_of_range(csv_files, capsys):
    err = cli_error(["separable", "--data", str(csv_files / "d.csv"), "--label-column", "99", "--steps", "10"], capsys)
    assert "--label-column 99 is not a column" in err and "which has 3 columns; give 0..2, or -1 for the last" in err
    with pytest.raises(ValueError, match="label_column=99 is not a column .* give 0..2, or -1 for the last"):
        modeq.separable.from_csv(csv_files / "d.csv", label_column=99)


@pytest.mark.parametrize("name, which", [("zero.csv", "every sample has"), ("one_zero.csv", "sample 1 has")])
def test_separable_all_zero_features(csv_files, capsys, name, which):
    err = cli_error(["separable", "--data", str(csv_files / name), "--steps", "10"], capsys)
    assert f"{which} all-zero features" in err and "add a constant feature column" in err


def test_separable_negative_seed(capsys):
    err = cli_error(["separable", "--seed", "-1", "--steps", "10"], capsys)
    assert "--seed must be a non-negative integer" in err and "got -1" in err
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        modeq.separable.gaussian_clusters(seed=-1)


# --- user optimizers on the command line ------------------------------------------------

USER_FILE = """
    from modeq.optimizers import decay, ema, grad, optimizer

    @optimizer(beta=decay(0.9, r"\\beta", "momentum"))
    def my_momentum(beta, *, scale=1.0):
        return -scale * ema(grad(), beta)

    not_an_optimizer = 3
"""


def test_derive_a_user_file_with_set_and_option(tmp_path, capsys):
    path = tmp_path / "opts.py"
    path.write_text(textwrap.dedent(USER_FILE))
    assert main(["derive", f"{path}:my_momentum", "--set", "beta=1/2"]) == 0
    mine = capsys.readouterr().out
    assert main(["derive", "heavy_ball_ema", "--set", "beta=1/2"]) == 0
    assert mine.replace("my_momentum", "heavy_ball_ema") == capsys.readouterr().out
    # f_1 = -(1+beta)/(2(1-beta)) (D g) g for the EMA-weighted heavy ball (Kovachki & Stuart 2021): -3/2 at beta = 1/2
    f0, f1 = modeq.derive(load_optimizer(f"{path}:my_momentum"), order=1, values={"beta": "1/2"}).terms
    coefficient, _ = f1.as_coeff_Mul()
    assert float(coefficient) == -1.5  # a Float: the file's default scale is the float 1.0
    scaled = modeq.derive(load_optimizer(f"{path}:my_momentum")(scale=2.0), order=1, values={"beta": "1/2"}).terms
    assert scaled == (2 * f0, 4 * f1)  # a step 2h: f_0 doubles, f_1 (quadratic in the step) quadruples
    assert main(["derive", f"{path}:my_momentum", "--option", "scale=2", "--set", "beta=1/2"]) == 0
    assert "my_momentum" in capsys.readouterr().out


def test_derive_a_user_module(tmp_path, capsys, monkeypatch):
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "opts.py").write_text(textwrap.dedent(USER_FILE))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["derive", "mypkg.opts:my_momentum", "--set", "beta=0.5"]) == 0
    assert "my_momentum" in capsys.readouterr().out


@pytest.mark.parametrize("spec, words", [
    ("missing.py:x", "no optimizer file 'missing.py'; give an existing path/to/file.py:NAME"),
    ("{path}:nope", "has no 'nope'; the optimizers there are: my_momentum"),
    ("{path}:not_an_optimizer", r"is not an Optimizer \(its type is int\); declare it with @optimizer"),
    ("{path}:", "give the optimizer's name after the colon"),
    ("no_such_package.opts:x", "cannot import 'no_such_package.opts'"),
    ("{broken}:x", "running .* failed: NameError: name 'undefined_name' is not defined \\(broken.py, line 2\\)"),
    ("adamz", "unknown optimizer 'adamz'; the built-in optimizers are: gd"),
])
def test_user_optimizer_errors(spec, words, tmp_path, capsys):
    (tmp_path / "opts.py").write_text(textwrap.dedent(USER_FILE))
    (tmp_path / "broken.py").write_text("import math\nx = undefined_name\n")
    spec = spec.format(path=tmp_path / "opts.py", broken=tmp_path / "broken.py")
    err = cli_error(["derive", spec], capsys)
    assert re.search(words, err), err


def test_option_values_are_typed_like_their_defaults(tmp_path, capsys):
    path = tmp_path / "opts.py"
    path.write_text(textwrap.dedent(USER_FILE))
    err = cli_error(["derive", f"{path}:my_momentum", "--option", "scale=big"], capsys)
    assert "--option scale 'big' uses the name big" in err
    err = cli_error(["derive", "adam", "--option", "eps_inside=maybe"], capsys)
    assert "NAME=true or NAME=false" in err
