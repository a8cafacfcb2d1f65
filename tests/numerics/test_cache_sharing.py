"""A cache shared by users and processes: umask modes, read-only and foreign-owned caches, four processes at once,
``modeq cache info|clear`` and the CLI's one warning line.

Another user is played by uid 65534: files are handed to it with ``chown``, and
the process under test runs as root *without* the capabilities that bypass file
permissions (``CAP_DAC_OVERRIDE``, ``CAP_DAC_READ_SEARCH``, ``CAP_FOWNER``,
dropped from the bounding set before ``exec``), so that the permission bits
apply to it as to any user — ``chmod`` alone does not stop root. (``setuid`` to
65534 is not an option here: the Python interpreter lives under ``/root``, 0700.)
The right numbers come from NumPy by hand: GD's :math:`f_0 = -\\nabla E`,
:math:`f_1 = -\\tfrac12\\nabla^2E\\,\\nabla E`.
"""

import ctypes
import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import modeq
from modeq.cli import main

from test_cache_faults import POINTS, derive, expected_terms, forget, module_of


def expected_c(point):
    """GD's f_0, f_1 for E = (3/2 - 2xy)^2/2, by hand."""
    px, py = point
    r = 1.5 - 2 * px * py
    g = np.array([-2 * py * r, -2 * px * r])
    hess = np.array([[4 * py**2, -2 * r + 4 * px * py], [-2 * r + 4 * px * py, 4 * px**2]])
    return np.array([-g, -0.5 * hess @ g])


SOURCES = {"A": "x**2/2 + 5*y", "B": "x**2 + 5*y", "C": "(sympy.Rational(3, 2) - 2*x*y)**2/2"}

SCRIPT = """
import json, sys, warnings
import numpy as np, sympy
from modeq.numerics import derived_field
from modeq.numerics.cache import CacheWarning
from modeq.optimizers import gd
x, y = sympy.symbols("x y", real=True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    field = derived_field(gd, {loss}, (x, y), order=1)
    terms = [field.terms(np.array(p)).tolist() for p in {points}]
print(json.dumps(dict(terms=terms, warnings=[str(w.message) for w in caught if w.category is CacheWarning])))
"""

ROOT = os.geteuid() == 0
OTHER_USER = 65534


def drop_file_capabilities():
    """In the child, before exec: root loses the capabilities that bypass file permissions."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def start(name, cache, restricted=False, **environ):
    env = {**os.environ, "MODEQ_CACHE_DIR": str(cache),
           "PYTHONPATH": str(Path(modeq.__file__).parent.parent), **environ}
    script = SCRIPT.format(loss=SOURCES[name], points=[p.tolist() for p in POINTS])
    return subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd="/", preexec_fn=drop_file_capabilities if restricted and ROOT else None)


def finish(name, process):
    """The warnings of a finished process, after checking its numbers against NumPy by hand."""
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    result = json.loads(out)
    for point, terms in zip(POINTS, result["terms"]):
        np.testing.assert_allclose(terms, expected_terms(name, point) if name != "C" else expected_c(point),
                                   rtol=1e-13)
    return result["warnings"]


def run(name, cache, restricted=False, **environ):
    return finish(name, start(name, cache, restricted, **environ))


@pytest.fixture(scope="module")
def can_drop_capabilities():
    if not ROOT:
        pytest.skip("needs root, to hand files to another user (uid 65534)")
    probe = subprocess.run([sys.executable, "-c", "pass"], preexec_fn=drop_file_capabilities, capture_output=True)
    if probe.returncode:
        pytest.skip("cannot drop capabilities here (prctl refused)")


def fill(cache):
    """Field A's module, index entry and numba files in ``cache`` (written by this process, umask 022)."""
    forget()
    old = os.umask(0o022)
    try:
        assert derive("A", cache)[1] == []
    finally:
        os.umask(old)
    assert glob.glob(str(cache / "__pycache__" / "*.nbc"))


def hand_to_other_user(path, dir_mode, file_mode=0o644):
    for folder, dirs, names in os.walk(path):
        for name in names:
            os.chmod(os.path.join(folder, name), file_mode)
            os.chown(os.path.join(folder, name), OTHER_USER, OTHER_USER)
        os.chmod(folder, dir_mode)
        os.chown(folder, OTHER_USER, OTHER_USER)


# -- modes --------------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o002, 0o022, 0o077])
def test_files_are_created_with_the_process_umask(umask, tmp_path):
    old = os.umask(umask)
    try:
        derive("A", tmp_path)
    finally:
        os.umask(old)
    made = [module_of(tmp_path), *glob.glob(str(tmp_path / "index" / "*.json"))]
    assert len(made) == 2
    assert {oct(os.stat(f).st_mode & 0o777) for f in made} == {oct(0o666 & ~umask)}
    assert oct(os.stat(tmp_path / "index").st_mode & 0o777) == oct(0o777 & ~umask)


def test_a_cache_written_by_another_user_is_read_without_writing(tmp_path, can_drop_capabilities):
    cache = tmp_path / "shared"
    fill(cache)
    hand_to_other_user(cache, 0o755)  # files 0644: readable, nothing writable for us
    assert run("A", cache, restricted=True) == []  # numba keeps its code in ~/.cache/numba
    # no writable home either: numba finds no place for its cache next to the module
    environ = dict(HOME="/proc", XDG_CACHE_HOME="/proc/cache", NUMBA_CACHE_DIR="")
    (message,) = run("A", cache, restricted=True, **environ)
    assert "private temporary directory" in message, message


# -- caches that cannot be written --------------------------------------------------------------


def test_a_file_in_the_way_compiles_privately_with_one_warning(tmp_path):
    (tmp_path / "file").write_text("")
    cache = tmp_path / "file" / "cache"
    _, messages = derive("A", cache)
    assert len(messages) == 1 and "cannot write to the modeq cache" in messages[0], messages
    assert "private temporary directory" in messages[0]
    _, again = derive("A", cache)
    assert again == []


def test_a_read_only_cache_compiles_privately_with_one_warning(tmp_path, can_drop_capabilities):
    cache = tmp_path / "read-only"
    cache.mkdir()
    hand_to_other_user(cache, 0o755)
    (message,) = run("A", cache, restricted=True)
    assert "cannot write to the modeq cache" in message and "Permission denied" in message


def corrupt_module(cache):
    data = open(module_of(cache), "rb").read()
    open(module_of(cache), "wb").write(data[: len(data) // 2])


def corrupt_numba(cache):
    for path in glob.glob(str(cache / "__pycache__" / "*.nbc")):
        open(path, "wb").write(b"garbage")


@pytest.mark.parametrize("corrupt", [corrupt_module, corrupt_numba])
def test_bad_files_of_another_user_that_cannot_be_replaced(corrupt, tmp_path, can_drop_capabilities):
    """A world-writable sticky cache (like /tmp): another user's bad files cannot be removed by us."""
    cache = tmp_path / "sticky"
    fill(cache)
    corrupt(cache)
    hand_to_other_user(cache, 0o1777)
    (message,) = run("A", cache, restricted=True)  # the bad files stay: every run works around them
    assert "private temporary directory" in message and "cannot be removed" in message, message


# -- processes at once -----------------------------------------------------------------------


def test_four_processes_compiling_the_same_and_different_fields_at_once(tmp_path):
    names = ["A", "A", "B", "C"]
    for _ in range(2):  # compile together, then load together
        processes = [start(name, tmp_path) for name in names]
        assert [finish(name, p) for name, p in zip(names, processes)] == [[]] * 4
    assert len(glob.glob(str(tmp_path / "modeq_field_*.py"))) == 3
    assert not glob.glob(str(tmp_path / "**" / "*.tmp*"), recursive=True)


# -- the command line ------------------------------------------------------------------------


def test_cache_info_and_clear(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MODEQ_CACHE_DIR", str(tmp_path))
    forget()
    derive("A", tmp_path)
    (tmp_path / "notes.txt").write_text("not modeq's")
    on_disk = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "notes.txt"]
    assert main(["cache", "info"]) == 0
    info = capsys.readouterr().out
    assert f"path:        {tmp_path}\n" in info
    assert "entries:     1 " in info
    numba = len([p for p in on_disk if p.suffix in (".nbi", ".nbc")])
    assert numba and f"modules:     1 generated, {numba} numba cache files" in info
    size = _size(on_disk)
    assert main(["cache", "clear"]) == 0
    assert capsys.readouterr().out == f"removed {len(on_disk)} files ({size}) from {tmp_path}\n"
    assert [p.name for p in tmp_path.rglob("*")] == ["notes.txt"]


def _size(paths):
    total = sum(p.stat().st_size for p in paths)
    return f"{total / 1000:.1f} kB" if 1000 <= total < 1e6 else f"{total} bytes"


def test_the_cli_shows_one_line_for_a_bad_cache(tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    derive("A", cache)
    forget()
    corrupt_module(cache)
    monkeypatch.setenv("MODEQ_CACHE_DIR", str(cache))
    main(["verify", "gd", "--loss", "x**2/2 + 5*y", "--params", "x,y", "--theta0", "1,1", "--order", "1",
          "--T", "0.1", "--hs", "0.02,0.01,0.005"])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "cache" in line or "Warning" in line or "Traceback" in line]
    assert len(lines) == 1 and lines[0].startswith("modeq: warning: the modeq cache entry "), err
