"""Ctrl-C stops modeq at any stage — a derivation, inside numba's compiler, a run — with one line and status 130."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Runs the command line; SIGINT arrives from a timer thread ``delay`` seconds after ``stage`` begins.
HARNESS = textwrap.dedent("""
    import os, signal, sys, threading
    stage, delay, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3:]

    def arm(*args, **kwargs):
        threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT)).start()

    if stage == "compile":  # while numba compiles the generated field or optimizer
        from numba.core import dispatcher
        original = dispatcher.Dispatcher.compile
        def compile(self, sig):
            arm()
            dispatcher.Dispatcher.compile = original
            return original(self, sig)
        dispatcher.Dispatcher.compile = compile
    elif stage == "derive":  # while an order is solved
        import modeq.solver as solver
        original_solve = solver.solve_linear
        def solve_linear(*args, **kwargs):
            arm()
            solver.solve_linear = original_solve
            return original_solve(*args, **kwargs)
        solver.solve_linear = solve_linear
    from modeq.cli import main
    sys.exit(main(argv))
""")


def interrupted(stage, argv, tmp_path, delay=0.3):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MODEQ_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-c", HARNESS, stage, str(delay), *argv], env=env, capture_output=True,
                          text=True, timeout=600)
    return done.returncode, done.stderr


VERIFY = ["verify", "gd", "--loss", "(3/2 - 2*x*y)**2/2", "--params", "x,y", "--theta0", "1,0.5", "--order", "2",
          "--hs", "0.05,0.025,0.0125"]


def test_ctrl_c_inside_numba_compilation(tmp_path):
    status, err = interrupted("compile", VERIFY, tmp_path)
    assert status == 130, err
    assert err.strip() == "modeq verify: interrupted", err


def test_ctrl_c_during_a_derivation(tmp_path):
    status, err = interrupted("derive", ["derive", "adam", "--order", "3", "--force"], tmp_path, delay=0.1)
    assert status == 130, err
    assert err.splitlines()[-1] == "modeq derive: interrupted" and "Traceback" not in err, err
    assert all(line.startswith("derive adam [") for line in err.splitlines()[:-1] if line)  # at most the bar


def test_a_real_sigint_from_outside(tmp_path):
    """The signal a terminal sends, while the process works (after it printed its progress bar)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), MODEQ_CACHE_DIR=str(tmp_path / "cache"))
    process = subprocess.Popen([sys.executable, "-m", "modeq", "derive", "adam", "--order", "4", "--force"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
    deadline = time.monotonic() + 300
    seen = b""
    while b"order" not in seen and time.monotonic() < deadline:  # the bar's first draw (unbuffered reads)
        seen += process.stderr.read(1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    err = (seen + err).decode()
    assert process.returncode == 130, err
    assert err.splitlines()[-1] == "modeq derive: interrupted" and "Traceback" not in err, err
