"""The import graph of ``modeq`` read from the source with ``ast``.

Nodes are modules (``modeq.algebra.index``); an import of a package points at
its ``__init__``, ``from package import name`` points at the submodule
``package.name`` if there is one, else at the package (whose ``__init__``
defines the name). Every arrow has a kind, by where the import stands:

* ``module`` — run when the module is imported (top level, class bodies,
  top-level ``if``/``try``), and the implicit import of the parent packages
  (``import a.b.c`` runs ``a/__init__`` and ``a/b/__init__``);
* ``function`` — inside a function body, run when the function is called;
* ``typing`` — under ``if TYPE_CHECKING:``, never run;
* ``lazy`` — a lazy export: the ``_EXPORTS`` tables of ``modeq/__init__.py``
  and ``modeq/numerics/__init__.py`` and the tables passed to ``lazy_exports``
  (dictionaries whose values are relative module paths).

A cycle of ``module`` arrows breaks ``import``; a cycle that needs the other
kinds is a layering cycle (the deferred import only hides it). Both count.
``python tests/architecture/imports.py`` prints the cycles of each kind, between
modules and between rooms (top-level modules and subpackages), and the graph
between rooms.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "modeq"
KINDS = ("module", "function", "typing", "lazy")


def modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module, name: str, is_package: bool, known: dict) -> list[tuple[str, str]]:
    """``(target, kind)`` for every import of one module's source."""
    out: list[tuple[str, str]] = []

    def visit(node: ast.AST, kind: str) -> None:
        if isinstance(node, ast.Import):
            out.extend((alias.name, kind) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, is_package, node.level, node.module)
            for alias in node.names:  # a submodule, else a name the module ``base`` defines
                out.append((f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base, kind))
        elif isinstance(node, ast.Dict) and any(isinstance(v, ast.Constant) and isinstance(v.value, str)
                                                and v.value.startswith(".") for v in node.values):
            for value in node.values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    text = value.value
                    level = len(text) - len(text.lstrip("."))
                    out.append((_resolve(name, is_package, level, text.lstrip(".")), "lazy"))
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, "typing")
            for child in node.orelse:
                visit(child, kind)
            return
        inner = "function" if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) else kind
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, "module")
    return out


def _parents(target: str) -> list[str]:
    """The packages importing ``target`` runs first (``a``, ``a.b`` for ``a.b.c``)."""
    parts = target.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def graph(kinds: tuple[str, ...] = KINDS) -> dict[str, set[str]]:
    """Module -> the modules it imports by arrows of the given ``kinds``."""
    known = modules()
    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        tree = ast.parse(path.read_text(), str(path))
        for target, kind in _imports(tree, name, path.name == "__init__.py", known):
            if kind not in kinds:
                continue
            targets = [target] + (_parents(target) if kind == "module" else [])
            edges[name].update(t for t in targets if t in known and t != name and not name.startswith(t + "."))
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def room(name: str) -> str:
    """A module's room: its top-level module or subpackage (``modeq.numerics``)."""
    return ".".join(name.split(".")[:2])


def rooms(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph between rooms (``modeq.algebra``, ``modeq.solver``, …); the
    package ``modeq`` itself (its lazy exports) is the top and left out."""
    out: dict[str, set[str]] = {}
    for v, targets in edges.items():
        if v == "modeq":
            continue
        out.setdefault(room(v), set()).update(room(t) for t in targets if room(t) not in (room(v), "modeq"))
    return out


def arrows_within(edges: dict[str, set[str]], component: list[str]) -> list[tuple[str, str]]:
    """The module arrows that join the rooms of one room cycle."""
    inside = set(component)
    return sorted((v, w) for v, targets in edges.items() for w in targets
                  if room(v) != room(w) and room(v) in inside and room(w) in inside)


if __name__ == "__main__":
    for label, kinds in (("module-level", ("module",)), ("module+function", ("module", "function")), ("all", KINDS)):
        g = graph(kinds)
        module_cycles, room_cycles = cycles(g), cycles(rooms(g))
        print(f"{label} imports: {len(module_cycles)} module cycle(s), {len(room_cycles)} room cycle(s)")
        for component in module_cycles:
            print("  module cycle:", " ".join(component))
        for component in room_cycles:
            print("  room cycle:", " ".join(component))
            for v, w in arrows_within(g, component):
                print(f"    {v} -> {w}")
    print()
    for name, targets in sorted(rooms(graph()).items()):
        print(f"{name:<24} -> {', '.join(sorted(targets))}")
