"""Package attributes imported on first use (PEP 562).

``import modeq`` and ``import modeq.numerics`` must stay light: a compiled field
loaded from the cache may not pull in SymPy or the derivation engine, so the
public names of these packages are resolved only when they are used.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, where ``exports`` maps a
    public name to the (relative) module defining it; a name mapped to its own
    module path (``"optimizers": ".optimizers"``) is the submodule itself."""
    module = importlib.import_module(package)

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        source = importlib.import_module(exports[name], package)
        value = source if exports[name] == f".{name}" else getattr(source, name)
        setattr(module, name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
