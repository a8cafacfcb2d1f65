"""The import graph of ``modeq`` is acyclic (issue 13), deferred imports included.

Layers, bottom to top: the data of a result (``modeq.terms``) < printing <
analysis < the user-facing ``ModifiedEquation`` (``modeq.equation``) < the
solvers < reports (``modeq.reports``). ``python tests/architecture/imports.py``
prints the graph between rooms."""

from .imports import cycles, graph


def test_no_import_cycle():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_cycles():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(edges) == [["a", "b", "c"]]


def test_the_graph_sees_deferred_and_lazy_imports():
    g = graph()
    assert "modeq.printing.text" in g["modeq.equation"]  # top level
    assert "modeq.reports" in g["modeq.analysis"]  # the lazy re-export of table1
    assert "modeq.numerics.verify" in g["modeq"]  # the package's lazy exports


def test_printing_and_analysis_know_nothing_above_them():
    above = {"modeq.equation", "modeq.solver", "modeq.reports", "modeq.stepwise", "modeq.epoch"}
    for module, targets in graph().items():
        if module.startswith(("modeq.printing", "modeq.analysis.", "modeq.terms")):
            assert not targets & above, (module, targets & above)
