"""The import graph of ``modeq`` is acyclic (issue 13), deferred imports included,
between modules and between rooms (top-level modules and subpackages), and the
layers the developers' guide names stand in their order.

Layers, bottom to top: the data of a result (``modeq.terms``) < printing <
analysis < the user-facing ``ModifiedEquation`` (``modeq.equation``) < the
solvers < numerics < ``modeq.torch``; reports (``modeq.reports``) above analysis,
printing and the solvers. ``python tests/architecture/imports.py`` prints the
cycles of each kind of import and the graph between rooms."""

from .imports import KINDS, cycles, graph, room, rooms

#: Bottom to top; a room may import only rooms of its own layer or below.
LAYERS = (
    ("modeq.terms",),
    ("modeq.printing",),
    ("modeq.analysis",),
    ("modeq.equation", "modeq.storage"),
    ("modeq.solver", "modeq.stepwise", "modeq.epoch"),
    ("modeq.numerics", "modeq.reports"),
    ("modeq.torch",),
)

def test_no_import_cycle_between_modules():
    assert cycles(graph(("module",))) == []  # `import` itself would break
    assert cycles(graph()) == []  # deferred, typing-only and lazy imports count


def test_no_import_cycle_between_rooms():
    assert cycles(rooms(graph())) == []


def test_layers_import_only_downwards():
    layer = {name: i for i, names in enumerate(LAYERS) for name in names}
    upward = sorted((v, w) for v, targets in graph().items() for w in targets
                    if room(v) in layer and room(w) in layer and layer[room(w)] > layer[room(v)])
    assert upward == []


def test_the_cycle_finder_finds_cycles():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles(rooms({"modeq.x.a": {"modeq.y"}, "modeq.y": {"modeq.x.b"}, "modeq.x.b": set()})) == [
        ["modeq.x", "modeq.y"]]


def test_the_graph_sees_every_kind_of_import():
    assert "modeq.printing.text" in graph(("module",))["modeq.equation"]  # top level
    assert "modeq.printing" in graph(("module",))["modeq.equation"]  # the parent package it runs
    assert "modeq.printing.text" in graph(("function",))["modeq.analysis.verdict"]  # in a function
    assert "modeq.terms" in graph(("typing",))["modeq.printing.text"]  # under TYPE_CHECKING
    assert "modeq.numerics.verify" in graph(("lazy",))["modeq"]  # the package's lazy exports
    assert "modeq.terms" not in graph(("module", "function"))["modeq.printing.text"]
    assert set(KINDS) == {"module", "function", "typing", "lazy"}
