r"""The disk cache of generated modules (no SymPy here).

Generated source is written to ``<cache>/<kind>_<hash>.py`` and imported as a
module, so that ``numba.njit(cache=True)`` can keep its machine code next to it
(numba cannot cache functions created by ``exec``). The hash covers the source
and the modeq version: numba invalidates its cache on the file's timestamp only,
so a changed source must get a new file name. The module is put into
:data:`sys.modules` *before* it is executed (numba's cache locator needs it).

A second level maps a *key* (a hash of what was derived: optimizer
description, order, regime, loss, values, batches) to the module file, in
``<cache>/index/<key>.json``, so a second run neither re-derives nor
re-generates.

The cache directory is, in order: the ``cache_dir`` argument, the environment
variable ``MODEQ_CACHE_DIR``, ``~/.cache/modeq``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from .. import __version__ as _VERSION

__all__ = ["cache_dir", "digest", "write_module", "load_module", "lookup", "record"]


def cache_dir(override: str | os.PathLike | None = None) -> Path:
    """The cache directory (created if missing)."""
    path = Path(override or os.environ.get("MODEQ_CACHE_DIR") or Path.home() / ".cache" / "modeq").expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"cannot create the cache directory {path}: {error}; set MODEQ_CACHE_DIR to a writable directory") from None
    return path


def digest(*parts: Any) -> str:
    """A short stable hash of ``parts`` (their ``repr``) and the modeq version."""
    text = "\x1f".join(map(repr, (_VERSION, *parts)))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a concurrent reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_module(source: str, kind: str, directory: str | os.PathLike | None = None) -> Path:
    """Write ``source`` as ``<kind>_<hash>.py`` (once) and return its path."""
    path = cache_dir(directory) / f"modeq_{kind}_{digest(source)}.py"
    if not path.exists():
        _atomic_write(path, source)
    return path


def load_module(path: str | os.PathLike) -> ModuleType:
    """Import a generated module from its file (registered in ``sys.modules`` first)."""
    path = Path(path)
    name = path.stem
    if name in sys.modules:
        return sys.modules[name]
    if not path.exists():
        raise ValueError(f"no generated module at {path}; the cache was cleared — generate the field again")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def lookup(key: str, directory: str | os.PathLike | None = None) -> Path | None:
    """The module file recorded for ``key``, if it is still there."""
    entry = cache_dir(directory) / "index" / f"{key}.json"
    if not entry.exists():
        return None
    path = entry.parent.parent / json.loads(entry.read_text())["module"]
    return path if path.exists() else None


def record(key: str, module: Path, directory: str | os.PathLike | None = None) -> None:
    """Remember that ``key`` was generated as ``module``."""
    index = cache_dir(directory) / "index"
    index.mkdir(exist_ok=True)
    _atomic_write(index / f"{key}.json", json.dumps({"module": Path(module).name}))
