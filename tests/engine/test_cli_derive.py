"""`modeq list` and `modeq derive` on the command line."""

import re
import subprocess
import sys

import pytest

from modeq.cli import main
from modeq.optimizers import BUILTIN
from modeq.optimizers.library import BLOCKWISE


def test_list_names_every_builtin_with_its_hyperparameters(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name, opt in BUILTIN.items():
        assert f"\n{name}\n" in "\n" + out
        for hp in opt.hyperparameters:
            assert re.search(rf"\n    {hp.name}( = \S+)? in {re.escape(hp.domain.value)}", out)


def test_list_names_the_optimizers_for_parameter_blocks_after_a_header(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    _, blockwise = out.split("For parameter blocks (give them with --params")
    assert set(BLOCKWISE) == {"lars", "lamb", "muon", "shampoo", "shampoo_ema"}
    for name in BLOCKWISE:
        assert f"\n{name}\n" in blockwise and f"\n{name}\n" not in out.split("For parameter blocks")[0]


@pytest.mark.parametrize("argv, f_0", [
    # exact Muon at lambda = 0 follows the polar factor of the gradient block (the momentum's normalization and
    # its 1/(1 - mu) do not change msign), scaled by the block's shape factor
    (["derive", "muon", "--order", "0", "--option", "orthogonalizer=msign", "--set", "weight_decay=0"],
     "f_0 = -msign[∇_i E]_j·s(B(j))"),
    # LARS: momentum sums the layer-scaled step to 1/(1 - mu) of it
    (["derive", "lars", "--order", "0", "--set", "weight_decay=0"], "f_0 = -η∇_j E/(1-μ) √(Σ_{i∈B(j)} θ̃_i²)/√(Σ_{i∈B(j)} |∇_i E|²)"),
])
def test_derive_finds_the_optimizers_for_parameter_blocks(capsys, argv, f_0):
    assert main(argv) == 0
    assert f"  {f_0}\n" in capsys.readouterr().out


def test_derive_prints_the_terms(capsys):
    assert main(["derive", "heavy_ball_ema", "--order", "1", "--set", "beta=0.5"]) == 0
    out = capsys.readouterr().out
    assert "f_0 = -∇_j E\n" in out
    # -(1 + beta)/(2(1 - beta)) D_1[g] = -(1 + beta)/(4(1 - beta)) grad_j |grad E|^2 at beta = 1/2
    assert "f_1 = -3/4 ∇_j‖∇E‖²\n" in out


def test_derive_applies_options(capsys):
    assert main(["derive", "adam", "--order", "0", "--option", "eps_inside=false"]) == 0
    assert "f_0 = -∇_j E/(|∇_j E| + ε)\n" in capsys.readouterr().out


def test_derive_one_epoch_of_shuffled_batches_is_smith_et_al(capsys):
    # E + h/(4m) sum_k |grad E_k|^2 with m = 2: f_1 = -(h/4) sum_k grad_j |grad E_k|^2 / 2
    assert main(["derive", "gd", "--batches", "2", "--epoch"]) == 0
    out = capsys.readouterr().out
    assert "f_0 = -(∇_j E₁ + ∇_j E₂)/2\n" in out and "f_1 = -1/8 ∇_j‖∇E₁‖² - 1/8 ∇_j‖∇E₂‖²\n" in out


def test_derive_concrete_steps(capsys):
    # heavy ball from theta_{-1} = theta_0: f_0^(n) = -(1 - beta^(n+1))/(1 - beta) g
    assert main(["derive", "heavy_ball", "--steps", "3", "--set", "beta=0.5"]) == 0
    out = capsys.readouterr().out
    assert [line.strip() for line in out.splitlines() if line.strip().startswith("f_0 =")] == [
        "f_0 = -∇_j E", "f_0 = -3/2 ∇_j E", "f_0 = -7/4 ∇_j E"]
    assert "# step n = 2" in out


@pytest.mark.parametrize("argv, words", [
    (["derive", "gd", "--batches", "2"], "--batches and --schedule go with --steps N"),
    (["derive", "adam", "--steps", "2", "--latex", "--standalone"], "--standalone writes one equation"),
    (["derive", "adam", "--steps", "2", "--regime", "exact"], "drop --regime"),
    (["derive", "gd", "--epoch"], "--epoch needs --batches M"),
    (["derive", "gd", "--batches", "2", "--epoch", "--schedule", "1,x"], "--schedule is cyclic, shuffled or batch labels"),
    (["derive", "adamz"], "unknown optimizer 'adamz'; the built-in optimizers are: gd"),
    (["derive", "adamz"], "; for parameter blocks: lars, lamb, muon, shampoo, shampoo_ema; or give your own as path/to/file.py:NAME"),
    (["derive", "adam", "--order", "-2"], "order must be between 0 and"),
    (["derive", "adam", "--set", "beta=2"], "beta = 2 is outside its domain"),
    (["derive", "adam", "--option", "eps_inside=maybe"], "NAME=true or NAME=false"),
])
def test_errors_are_one_clear_line(capsys, argv, words):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_console_script_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "modeq", "derive", "gd", "--order", "2"],
                            capture_output=True, text=True, check=True)
    assert "f_2 = -1/3 Σ_i ∇_{ji}E·Σ_k ∇_{ik}E·∇_k E - 1/12 Σ_{i,k} ∇_{jik}E·∇_i E·∇_k E" in result.stdout
