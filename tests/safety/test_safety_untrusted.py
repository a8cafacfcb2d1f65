"""Issue 11's attack: a loss or a hyperparameter given as text must never run code.

Each case would create ``out.txt`` in the working directory if its text were
executed (it was, through ``sympify``/``parse_expr``, before the parser)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import modeq
from modeq.optimizers import heavy_ball_ema

ROOT = Path(__file__).resolve().parents[2]
PAYLOAD = "__import__('os').system('echo PWNED > out.txt')"


def run_cli(args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "modeq", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("args", [
    ["verify", "gd", "--loss", f"x**2+y**2+0*{PAYLOAD}", "--params", "x,y", "--theta0", "1,1"],
    ["verify", "gd", "--batch", f"x**2+y**2+0*{PAYLOAD}", "--batch", "x**2+y**2", "--params", "x,y", "--theta0", "1,1"],
    ["derive", "heavy_ball_ema", "--set", f"beta={PAYLOAD}"],
    ["verify", "gd", "--loss", "x**2+y**2", "--params", f"x,{PAYLOAD}", "--theta0", "1,1"],
])
def test_the_command_line_refuses_code_in_one_line(args, tmp_path):
    result = run_cli(args, tmp_path)
    assert result.returncode == 2, result.stderr
    assert not (tmp_path / "out.txt").exists()
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_the_api_refuses_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(modeq.parsing.ExpressionError, match="calls __import__"):
        modeq.parse_loss(f"x**2+0*{PAYLOAD}", "x")
    with pytest.raises(ValueError, match="hyperparameter beta: .*calls __import__"):
        modeq.derive(heavy_ball_ema, order=1, values=dict(beta=PAYLOAD))
    with pytest.raises(ValueError, match="hyperparameter beta: expected one number"):
        modeq.derive(heavy_ball_ema, order=1, values=dict(beta=(PAYLOAD,)))  # sympify parses text inside tuples
    with pytest.raises(ValueError, match="calls __import__"):
        modeq.verify("gd", None, "x,y", [1.0, 1.0], batches=[f"x**2+0*{PAYLOAD}", "y**2"])
    assert not (tmp_path / "out.txt").exists()
