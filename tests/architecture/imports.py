"""The import graph of ``modeq`` read from the source with ``ast``.

Every ``import``/``from … import`` anywhere in a module counts (top level,
inside functions, under ``TYPE_CHECKING``): a deferred import is still an
arrow. Nodes are modules (``modeq.algebra.index``); an import of a package
points at its ``__init__``, ``from package import name`` points at the
submodule ``package.name`` if there is one, else at the package (whose
``__init__`` defines the name). Lazy exports are arrows too: the ``_EXPORTS`` tables of
``modeq/__init__.py`` and ``modeq/numerics/__init__.py`` and the tables
passed to ``lazy_exports``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "modeq"


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


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"
        targets: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node.level, node.module)
                for alias in node.names:  # a submodule, else a name the module ``base`` defines
                    targets.append(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
            elif isinstance(node, ast.Dict) and any(isinstance(v, ast.Constant) and isinstance(v.value, str)
                                                    and v.value.startswith(".") for v in node.values):
                for value in node.values:
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        text = value.value
                        level = len(text) - len(text.lstrip("."))
                        targets.append(_resolve(name, is_package, level, text.lstrip(".")))
        for target in targets:
            if target in known and target != name:
                edges[name].add(target)
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
        for w in sorted(edges[v]):
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


def rooms(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph between top-level rooms (``modeq.algebra``, ``modeq.solver``, …)."""
    def room(name: str) -> str:
        return ".".join(name.split(".")[:2])

    out: dict[str, set[str]] = {}
    for v, targets in edges.items():
        out.setdefault(room(v), set()).update(room(t) for t in targets if room(t) != room(v))
    return out


if __name__ == "__main__":
    g = graph()
    for component in cycles(g):
        print("cycle:", " ".join(component))
    print()
    for room, targets in sorted(rooms(g).items()):
        print(f"{room:<24} -> {', '.join(sorted(targets))}")
