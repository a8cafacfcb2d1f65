"""The compile cache cannot lie: every fault gives one warning line and the right numbers, and the next run is clean.

The right numbers come from NumPy by hand, not from modeq: for gradient descent
the modified field is :math:`f_0 = -\\nabla E`, :math:`f_1 = -\\tfrac12 \\nabla^2 E\\, \\nabla E`.
Faults are applied to a copy of a cache filled once (module, index entry, numba's
files); generated modules are dropped from ``sys.modules`` before each load, so the
load reads the disk as a new process would.
"""

import glob
import json
import shutil
import sys
import warnings

import numpy as np
import pytest
import sympy

import modeq
from modeq.numerics import compile_field, derived_field, load_field
from modeq.numerics.cache import MODULE_NAME, CacheError, CacheWarning
from modeq.optimizers import gd

x, y = sympy.symbols("x y", real=True)

#: loss -> (gradient, Hessian) at a point, by hand.
LOSSES = {
    "A": (x**2 / 2 + 5 * y, lambda p: np.array([p[0], 5.0]), lambda p: np.array([[1.0, 0.0], [0.0, 0.0]])),
    "B": (x**2 + 5 * y, lambda p: np.array([2 * p[0], 5.0]), lambda p: np.array([[2.0, 0.0], [0.0, 0.0]])),
}
POINTS = [np.array([1.0, 1.0]), np.array([0.3, -1.2])]


def expected_terms(name, point):
    _, grad, hess = LOSSES[name]
    g = grad(point)
    return np.array([-g, -0.5 * hess(point) @ g])


def forget():
    """Drop generated modules from this process, so the next load reads them from disk."""
    for name in [n for n in sys.modules if MODULE_NAME.fullmatch(n + ".py")]:
        del sys.modules[name]


def derive(name, cache):
    """The GD field of loss ``name`` to order 1 and the cache warnings given while deriving and evaluating it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        field = derived_field(gd, LOSSES[name][0], (x, y), order=1, cache_dir=cache)
        values = [(field.terms(p), field(p, 0.1)) for p in POINTS]
    for point, (terms, value) in zip(POINTS, values):
        np.testing.assert_allclose(terms, expected_terms(name, point), rtol=1e-15)
        np.testing.assert_allclose(value, np.array([1.0, 0.1]) @ expected_terms(name, point), rtol=1e-15)
    return field, [str(w.message) for w in caught if issubclass(w.category, CacheWarning)]


def files(cache, pattern):
    return sorted(glob.glob(str(cache / pattern)))


@pytest.fixture(scope="module")
def primed(tmp_path_factory):
    """Caches holding field A (and B) with their numba files, filled once."""
    caches = {}
    for name in ("A", "B"):
        cache = tmp_path_factory.mktemp(f"primed-{name}")
        forget()
        field, messages = derive(name, cache)
        assert messages == [] and files(cache, "__pycache__/*.nbc")
        caches[name] = cache
    return caches


@pytest.fixture
def cache_a(primed, tmp_path):
    cache = tmp_path / "cache"
    shutil.copytree(primed["A"], cache)
    forget()
    return cache


def module_of(cache):
    (path,) = files(cache, "modeq_field_*.py")
    return path


def entry_of(cache):
    (path,) = files(cache, "index/*.json")
    return path


def assert_one_line_then_clean(cache, messages, *words):
    assert len(messages) == 1, messages
    assert "\n" not in messages[0] and all(w in messages[0] for w in words), messages[0]
    forget()
    _, again = derive("A", cache)
    assert again == []


# -- the generated module ---------------------------------------------------------------


def edit(cache, primed):
    path = module_of(cache)
    text = open(path).read()
    assert "out[0, 0] = -a0\n" in text
    open(path, "w").write(text.replace("out[0, 0] = -a0\n", "out[0, 0] = -2*a0\n"))


def swap(cache, primed):
    """The issue's case: field B's module copied under field A's name (f_0(1,1) came out [-2,-5])."""
    shutil.copy(module_of(primed["B"]), module_of(cache))


def truncate(cache, primed):
    data = open(module_of(cache), "rb").read()
    open(module_of(cache), "wb").write(data[: len(data) // 2])


def empty(cache, primed):
    open(module_of(cache), "wb").close()


@pytest.mark.parametrize("fault", [edit, swap, truncate, empty])
def test_a_changed_module_is_regenerated_with_one_warning(fault, cache_a, primed):
    fault(cache_a, primed)
    field, messages = derive("A", cache_a)
    np.testing.assert_array_equal(field.terms([1.0, 1.0])[0], [-1.0, -5.0])
    assert_one_line_then_clean(cache_a, messages, "does not match the hash", "regenerating")


def test_compiling_over_a_bad_module_replaces_it_with_one_warning(cache_a, primed):
    truncate(cache_a, primed)
    equation = modeq.derive(gd, order=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        field = compile_field(equation.materialize(LOSSES["A"][0], (x, y)), cache_dir=cache_a)
    np.testing.assert_allclose(field.terms(POINTS[1]), expected_terms("A", POINTS[1]), rtol=1e-15)
    (message,) = [str(w.message) for w in caught if issubclass(w.category, CacheWarning)]
    assert "did not match the hash" in message and "regenerated" in message
    assert_one_line_then_clean(cache_a, [message])


def test_a_key_naming_a_file_outside_the_index_is_not_read(cache_a, tmp_path):
    outside = tmp_path / "precious.json"
    outside.write_text("not JSON")
    with pytest.raises(ValueError, match="no cached field"):
        load_field("../../precious", cache_a)
    assert outside.read_text() == "not JSON"


def test_a_module_given_by_path_is_checked(cache_a, primed):
    swap(cache_a, primed)
    with pytest.raises(CacheError, match="matches the hash in its name"):
        load_field(module_of(cache_a))


# -- the index --------------------------------------------------------------------------


def set_module(cache, module):
    entry = entry_of(cache)
    data = json.load(open(entry))
    data["module"] = module
    json.dump(data, open(entry, "w"))


INDEX_FAULTS = {
    "not JSON": lambda cache, primed: open(entry_of(cache), "w").write('{"module": '),
    "a list": lambda cache, primed: open(entry_of(cache), "w").write("[]"),
    "absolute path": lambda cache, primed: set_module(cache, module_of(primed["B"])),
    "dot-dot path": lambda cache, primed: set_module(
        cache, f"../../{primed['B'].parent.name}/{primed['B'].name}/{module_of(primed['B']).split('/')[-1]}"),
    "not a module name": lambda cache, primed: set_module(cache, "os.py"),
    "another key's entry": lambda cache, primed: (
        shutil.copy(module_of(primed["B"]), cache), shutil.copy(entry_of(primed["B"]), entry_of(cache))),
    "module missing": lambda cache, primed: __import__("os").unlink(module_of(cache)),
}


@pytest.mark.parametrize("fault", INDEX_FAULTS.values(), ids=INDEX_FAULTS.keys())
def test_a_bad_index_entry_is_regenerated_with_one_warning(fault, cache_a, primed):
    fault(cache_a, primed)
    before = set(sys.modules)
    _, messages = derive("A", cache_a)
    imported = {n for n in set(sys.modules) - before if n.startswith("modeq_")}
    assert all(str(cache_a) in sys.modules[n].__file__ for n in imported), "imported a module outside the cache"
    assert json.load(open(entry_of(cache_a)))["module"] == module_of(primed["A"]).split("/")[-1]
    assert_one_line_then_clean(cache_a, messages, "entry", "regenerating")


# -- numba's own cache files ---------------------------------------------------------------


def numba_files(cache, suffix, function="field"):
    found = files(cache, f"__pycache__/modeq_field_*.{function}-*{suffix}")
    assert found
    return found


def overwrite(paths, data):
    for path in paths:
        open(path, "wb").write(data)


NUMBA_FAULTS = {
    "garbage index": lambda cache, primed: overwrite(numba_files(cache, ".nbi"), b"garbage\x00\x01"),
    "empty index": lambda cache, primed: overwrite(numba_files(cache, ".nbi"), b""),
    "garbage data": lambda cache, primed: overwrite(numba_files(cache, ".nbc"), b"garbage\x00\x01"),
    "truncated data": lambda cache, primed: overwrite(
        numba_files(cache, ".nbc"), open(numba_files(cache, ".nbc")[0], "rb").read()[:5000]),
    "another module's data": lambda cache, primed: overwrite(
        numba_files(cache, ".nbc"), open(numba_files(primed["B"], ".nbc")[0], "rb").read()),
    "another function's data": lambda cache, primed: overwrite(
        numba_files(cache, ".nbc", "_terms_0"), open(numba_files(cache, ".nbc", "field")[0], "rb").read()),
}


@pytest.mark.parametrize("fault", NUMBA_FAULTS.values(), ids=NUMBA_FAULTS.keys())
def test_bad_numba_cache_files_are_removed_with_one_warning(fault, cache_a, primed):
    fault(cache_a, primed)
    derive("B", primed["B"])  # field B is loaded in this process: its code is at hand to be (wrongly) reused
    _, messages = derive("A", cache_a)
    assert_one_line_then_clean(cache_a, messages, "numba", "recompiling")


def test_numba_index_naming_a_file_outside_is_removed(cache_a, primed, tmp_path):
    import pickle

    (index,) = numba_files(cache_a, ".nbi")
    with open(index, "rb") as handle:
        version, (stamp, overloads) = pickle.load(handle), pickle.loads(handle.read())
    outside = tmp_path / "outside.nbc"
    shutil.copy(numba_files(primed["B"], ".nbc")[0], outside)
    with open(index, "wb") as handle:
        pickle.dump(version, handle)
        handle.write(pickle.dumps((stamp, {key: str(outside) for key in overloads})))
    _, messages = derive("A", cache_a)
    assert_one_line_then_clean(cache_a, messages, "numba", "outside")


KEY_OF_A_FIELD = """
import sys, sympy
from modeq.numerics import derived_field
from modeq.optimizers import gd
x, y = sympy.symbols("x y", real=True)
field = derived_field(gd, x**2 / 2 + 5 * y, [x, y], 1, cache_dir=sys.argv[1])
import modeq
assert modeq.__file__.startswith(sys.path[1]), (modeq.__file__, sys.path[:2])
print(field.key)
"""


def key_written_by(package_root, cache):
    """The index key of GD's order-1 field on loss A, as the modeq at ``package_root`` computes and records it."""
    import subprocess
    done = subprocess.run([sys.executable, "-c", KEY_OF_A_FIELD, str(cache)], capture_output=True, text=True,
                          cwd=package_root, env=dict(__import__("os").environ, PYTHONPATH=str(package_root)))
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-1]


@pytest.mark.slow  # two subprocesses, each deriving and compiling GD order 1
def test_an_entry_written_by_other_modeq_code_is_never_read(tmp_path):
    """CI keeps ``~/.cache/modeq`` between runs: an entry that another commit wrote (same version number, other code)
    must not be found. A copy of the package with one comment added to its code generator records its key; this
    process, with the original code, computes another key for the same field and so derives and compiles afresh."""
    package = __import__("pathlib").Path(modeq.__file__).resolve().parent
    cache = tmp_path / "cache"
    copies = {}
    for name, edit_codegen in (("same", False), ("edited", True)):
        root = tmp_path / name
        shutil.copytree(package, root / "modeq", ignore=shutil.ignore_patterns("__pycache__"))
        if edit_codegen:
            with open(root / "modeq" / "numerics" / "codegen.py", "a") as f:
                f.write("\n# another commit\n")
        copies[name] = key_written_by(root, cache)
    ours = derive("A", cache)[0].key
    assert copies["same"] == ours  # a byte-identical copy elsewhere shares the cache
    assert copies["edited"] != ours
    assert len(glob.glob(str(cache / "index" / "*.json"))) == 2
