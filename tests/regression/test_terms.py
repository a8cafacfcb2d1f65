"""Every built-in's terms equal those recorded before the core was rebuilt
(issue 13; ``cases.py`` says what is recorded and why it does not depend on
atom names).

The components are checked exactly (``expand(a - b) == 0``); they were
derived by the implementation of that time, and the printed strings are what
users read. Cases that took over 3 s when recorded are marked ``slow``
(``-m "not slow"`` skips them locally; CI runs all)."""

import json
from pathlib import Path

import pytest
import sympy

from modeq.codec import decode_nodes

from .cases import CASES, describe

FIXTURE = json.loads((Path(__file__).parent / "terms.json").read_text())
_BY_NAME = {case.name: case for case in CASES}


def _params():
    for name, record in FIXTURE.items():
        marks = [pytest.mark.slow] if record["seconds"] > 3 else []
        yield pytest.param(name, marks=marks, id=name)


def _equal(a: sympy.Expr, b: sympy.Expr) -> bool:
    return a == b or sympy.expand(a - b) == 0


def _compare(got, expected, nodes, where):
    """``expected`` is a node index or a list of them (as ``got`` is a list of expressions)."""
    if isinstance(expected, int):
        assert _equal(got, nodes[expected]), f"{where}: {got} != {nodes[expected]}"
        return
    assert len(got) == len(expected), where
    for i, (g, e) in enumerate(zip(got, expected)):
        _compare(g, e, nodes, f"{where}[{i}]")


def test_every_builtin_and_order_is_recorded():
    """Orders 0-3 of every case are in the fixture (order 4 where it was cheap)."""
    missing = [c.name for c in CASES if c.name not in FIXTURE and not c.name.endswith("order 4")]
    assert not missing
    assert sum(name.endswith("order 4") for name in FIXTURE) >= 10


@pytest.mark.parametrize("name", _params())
def test_terms_unchanged(name):
    expected = FIXTURE[name]
    got = describe(_BY_NAME[name])
    if "error" in expected:
        assert got.get("error") == expected["error"]
        return
    assert "error" not in got, got.get("error")
    assert got["terms"] == expected["terms"]
    _compare(got["components"], expected["components"], decode_nodes(expected["nodes"]), name)
