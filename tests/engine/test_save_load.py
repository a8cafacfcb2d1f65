"""eq.save(path) / modeq.load(path): a fresh process reads back an equal
equation that prints, materializes and has the same optimizer update; the file
is decoded through a whitelist (matrix maps through their own, modeq.map_codec)."""

import json
import subprocess
import sys

import pytest
import sympy

import modeq
from modeq.codec import DecodeError
from modeq.optimizers import ema, grad, muon, optimizer, positive, shampoo, shampoo_ema
from modeq.optimizers.language import t

PROBE = """
import json, sys, sympy, modeq
eq = modeq.load(sys.argv[1])
x, y = sympy.symbols("x y", real=True)
field = eq.materialize(x**4/4 + x*y + y**2, (x, y))
print(json.dumps({"str": str(eq), "latex": eq.latex(), "update": sympy.srepr(eq.optimizer.update()),
                  "components": [[sympy.srepr(c) for c in t] for t in field.terms], "values": eq.values,
                  "regime": eq.regime, "order": eq.order}))
"""


@optimizer(c=positive(0.5, "c", "a made-up damping"))
def made_up(c):
    """An optimizer that no importable module defines."""
    return -ema(grad(), sympy.Rational(1, 3)) / (1 + c * grad() ** 2)


@optimizer(T=positive(2.0, "T", "a cosine schedule's time scale"))
def cosine_momentum(T):
    """A schedule in the time t: the terms hold t (and the schedule's derivative)."""
    return -sympy.cos(t / T) * ema(grad(), sympy.Rational(1, 3))


@pytest.mark.parametrize("make", [
    lambda: modeq.derive(modeq.optimizers.adam, order=2, values={"beta": 0.9}),
    lambda: modeq.derive(modeq.optimizers.heavy_ball, order=1, regime="exact"),
    lambda: modeq.derive(made_up, order=1),
    lambda: modeq.derive(cosine_momentum, order=1),
    lambda: modeq.derive(modeq.optimizers.BUILTIN["lookahead"](k=2), order=1),
], ids=["adam", "heavy_ball-exact", "user-optimizer", "schedule-in-t", "lookahead-joint-states"])
def test_a_fresh_process_loads_an_equal_equation(make, tmp_path):
    equation = make()
    path = tmp_path / "eq.json"
    equation.save(path)
    saved = json.loads(path.read_text())
    assert saved["provenance"]["modeq"] == modeq.__version__ and saved["order"] == equation.order
    assert {hp["name"] for hp in saved["optimizer"]["hyperparameters"]} == set(equation.optimizer.symbols)
    out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    x, y = sympy.symbols("x y", real=True)
    field = equation.materialize(x**4 / 4 + x * y + y**2, (x, y))
    assert got["str"] == str(equation) and got["latex"] == equation.latex()
    assert got["update"] == sympy.srepr(equation.optimizer.update())
    assert got["components"] == [[sympy.srepr(c) for c in t] for t in field.terms]
    assert (got["regime"], got["order"], got["values"]) == (equation.regime, equation.order, equation.values)


def test_loaded_equation_equals_and_its_optimizer_updates(tmp_path):
    equation = modeq.derive(made_up, order=1)
    equation.save(tmp_path / "eq.json")
    loaded = modeq.load(tmp_path / "eq.json")
    assert loaded.terms == equation.terms and loaded.order == equation.order
    assert loaded.optimizer.update({"c": 2}) == made_up.update({"c": 2})
    assert modeq.derive(loaded.optimizer, order=1).terms == equation.terms


@pytest.mark.parametrize("node", [
    ["fn", "__import__", 0],  # a function outside the whitelist
    ["fn", "exp", 10**6],  # a child that is not before it
    ["sym", "x", {"real": "yes"}],  # assumptions must be booleans
    ["eval", "1+1"],
    ["undef", "__import__('os')", 0],  # an opaque function of time must be named by an identifier
    ["deriv", 0, 10**6, "1"],  # a derivative's variable must be an earlier node
])
def test_a_tampered_file_is_refused(node, tmp_path):
    equation = modeq.derive(modeq.optimizers.gd, order=1)
    path = tmp_path / "eq.json"
    equation.save(path)
    data = json.loads(path.read_text())
    data["expressions"].append(node)
    data["terms"][0] = len(data["expressions"]) - 1
    path.write_text(json.dumps(data))
    with pytest.raises(DecodeError):
        modeq.load(path)


@pytest.mark.parametrize("opt", [muon, muon(orthogonalizer="msign"), shampoo, shampoo(sides="one"), shampoo_ema,
                                 shampoo(parts=2)],
                         ids=["muon", "muon-msign", "shampoo", "shampoo-one", "shampoo_ema", "shampoo-parts"])
def test_equations_on_parameter_blocks_save_their_matrix_maps(opt, tmp_path):
    """Matrix-map atoms (Newton-Schulz, msign, Shampoo's maps of several blocks), block scales and the
    slow statistics load back equal; the loaded optimizer is the built-in with its options."""
    equation = modeq.derive(opt, order=2)
    equation.save(tmp_path / "eq.json")
    loaded = modeq.load(tmp_path / "eq.json")
    assert loaded.terms == equation.terms and str(loaded) == str(equation)
    assert [s.terms for s in loaded.states] == [s.terms for s in equation.states]
    assert loaded.optimizer.update() == opt.update()


@pytest.mark.parametrize("change", [
    lambda m: m.update({"class": "os.system"}),  # a map outside the whitelist
    lambda m: m["fields"].update({"sides": 7}),  # outside the map's domain
    lambda m: m["fields"].update({"eps": {"p": "1", "q": "0"}}),  # not a rational
    lambda m: m["fields"].update({"sides": "2"}),  # a field of the wrong type
    lambda m: m["fields"].update({"parts": 0}),  # no part
    lambda m: m["fields"].pop("eps"),  # a field missing (only the parts, added later, may be)
])
def test_a_tampered_matrix_map_is_refused(change, tmp_path):
    path = tmp_path / "eq.json"
    modeq.derive(shampoo, order=0).save(path)
    data = json.loads(path.read_text())
    (atom,) = [a for a in data["atoms"] if a["kind"] == "matrix_map" and a["map"]["class"] == "KroneckerRoot"]
    change(atom["map"])
    path.write_text(json.dumps(data))
    with pytest.raises(DecodeError, match="saved matrix map"):
        modeq.load(path)


def test_a_map_saved_before_it_had_parts_loads_with_one(tmp_path):
    """Shampoo's maps saved before the parts existed (no ``part``/``parts`` fields) load as one part."""
    path = tmp_path / "eq.json"
    equation = modeq.derive(shampoo, order=1)
    equation.save(path)
    data = json.loads(path.read_text())
    maps = [a["map"] for a in data["atoms"] if a["kind"] == "matrix_map"]
    assert {m["class"] for m in maps} == {"KroneckerRoot", "GramStatistic"}
    for m in maps:
        m["fields"].pop("parts" if m["class"] == "KroneckerRoot" else "part")
    path.write_text(json.dumps(data))
    assert modeq.load(path).terms == equation.terms


def test_cli_derive_save(tmp_path):
    path = tmp_path / "gd.json"
    subprocess.run([sys.executable, "-m", "modeq", "derive", "gd", "--order", "2", "--save", str(path)],
                   check=True, capture_output=True, text=True)
    assert modeq.load(path).terms == modeq.derive(modeq.optimizers.gd, order=2).terms
