r"""The disk cache of generated modules: content-addressed, checked on every load (no SymPy here).

Layout of the cache directory :math:`C` (``cache_dir`` argument, else
``MODEQ_CACHE_DIR``, else ``~/.cache/modeq``):

* ``C/modeq_<kind>_<h>.py`` — generated source, :math:`h` = the first 32 hex
  digits of SHA-256 of the file's bytes. Imported as a module so that
  ``numba.njit(cache=True)`` keeps its machine code next to it (numba cannot
  cache functions created by ``exec``);
* ``C/__pycache__/modeq_<kind>_<h>.<function>-<line>.py311.{nbi,nbc}`` — numba's
  own cache (an index pickle per function, a data pickle per signature);
* ``C/index/<key>.json`` — ``{"format", "key", "module"}``: what was derived
  (the *key*, :func:`digest` of the optimizer's description, order, loss, …)
  → the module's file name, so that a second run neither re-derives nor
  re-generates.

The cache cannot lie
--------------------
Nothing read from :math:`C` is trusted until checked:

* a module is imported only if it is a plain file name ``modeq_<kind>_<h>.py``
  inside :math:`C` whose bytes hash to :math:`h`; the bytes that were hashed
  are the bytes executed (no second read, no ``.pyc``). An edited, truncated,
  empty or swapped module fails the check;
* an index entry must be a JSON object naming its own key (an entry copied from
  another key fails) and a module by plain file name (no ``/``, no ``..``, no
  absolute path: only paths inside :math:`C` are ever imported);
* numba's files of a freshly imported module are read the way numba reads them
  (:meth:`IndexDataCacheFile._load_index` / ``_load_data``, which unpickle) before
  any function runs: an index or data file that does not unpickle (numba would
  raise ``UnpicklingError`` on every later call, forever), names a data file
  outside its directory, or holds the code of another module, function or
  signature is deleted so that numba compiles afresh. A data file missing
  behind its index is what a concurrent writer leaves for a moment (numba writes
  the index first); numba treats it as a miss, so do we.

The name hashes the bytes alone, not the modeq version (DESIGN §4 suggested
both): equal bytes are the same module whatever wrote them. Every index key
carries the version, :data:`FORMAT` and :func:`source_fingerprint` — a hash of
the bytes of every ``.py`` file of the installed ``modeq`` package — so an
entry written by any other code (an older commit at the same version number,
an edited checkout) is never read: the derivation, the code generator and the
calling convention of the generated modules all live in that code. A persistent
cache shared between checkouts (CI's ``~/.cache/modeq``) once handed a module
generated before the fields took the time ``t`` to code that called them with it. numba 0.68 stamps its index with
the SHA-256 of the source file (older releases used its mtime and size) and keys
each entry by the function's bytecode, so a content-addressed module never
meets stale numba code — except through a fault, which the checks above catch.

A failed check means *regenerate*, announced by one :class:`CacheWarning` line
(the CLI prints it as one line), never a traceback and never a wrong number;
the bad file is removed and regenerated, so the next run is clean. This protects
against accidents (edits, truncation, copies, crashes, two versions of modeq
or numba) — not against someone who can write to :math:`C` on purpose: numba's
cache is pickles, and pickles run code. Trust a cache directory as you trust
code you import.

Writes are atomic (a hidden temporary file in the same directory, then
``os.replace``), so concurrent processes never see half a file, and files are
created with mode ``0o666`` filtered by the process umask (``mkstemp`` would
make them ``0600`` and a cache shared by a group would fail). When :math:`C`
cannot be written (read-only, another user's, a file in the way) or a bad file
in it cannot be replaced, the process compiles in a private temporary directory
(removed at exit) after one warning line.

Not detected: bytes flipped *inside* the machine code of a numba data file
(the pickle stays well-formed and numba keeps no checksum). The numba check uses
numba's private reader (``Dispatcher._cache._cache_file``); a numba release
without it skips the check, and the tests of the numba faults fail.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import glob
import hashlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from ..version import __version__ as _VERSION

__all__ = ["CacheError", "CacheWarning", "CacheSummary", "cache_dir", "digest", "write_module", "load_module",
           "lookup", "record", "summary", "clear"]

#: Version of the cache layout; part of every key, so entries of older layouts are never read.
FORMAT = 2

#: A generated module's file name: ``modeq_<kind>_<first 32 hex digits of the SHA-256 of its bytes>.py``.
MODULE_NAME = re.compile(r"modeq_([a-z]+)_([0-9a-f]{32})\.py")

_KEY = re.compile(r"[0-9a-f]{24}")


class CacheWarning(UserWarning):
    """A cache file was bad or the cache could not be written; modeq regenerated (one line)."""


class CacheError(ValueError):
    """A module given by path is not a generated module that matches its hash."""


def _warn(message: str) -> None:
    """One :class:`CacheWarning` line: attributed to ``modeq``, line 0, so that Python prints no source line
    (the caller's code did nothing wrong); filters on this module apply."""
    warnings.warn_explicit(message, CacheWarning, "modeq", 0, module=__name__)


def cache_dir(override: str | os.PathLike | None = None) -> Path:
    """The cache directory (created if possible; an unusable one is handled on write)."""
    path = Path(override or os.environ.get("MODEQ_CACHE_DIR") or Path.home() / ".cache" / "modeq").expanduser().absolute()
    with contextlib.suppress(OSError):
        path.mkdir(parents=True, exist_ok=True)
    return path


@functools.cache
def source_fingerprint() -> str:
    """SHA-256 of modeq's own source: every ``.py`` file of the package, by relative path and bytes.

    Computed once per process (about a megabyte, a few milliseconds)."""
    package = Path(__file__).resolve().parent.parent
    sha = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        sha.update(path.relative_to(package).as_posix().encode() + b"\0")
        sha.update(path.read_bytes() + b"\0")
    return sha.hexdigest()


def digest(*parts: Any) -> str:
    """A short stable hash of ``parts`` (their ``repr``), the modeq version, the cache format and
    :func:`source_fingerprint`: an index key."""
    text = "\x1f".join(map(repr, (_VERSION, FORMAT, source_fingerprint(), *parts)))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


# -- the private fallback -------------------------------------------------------------

#: Cache directory -> this process's private replacement, for directories found unwritable.
_FALLBACK: dict[Path, Path] = {}
_PRIVATE: list[Path] = []


def _private_dir() -> Path:
    if not _PRIVATE:
        _PRIVATE.append(Path(tempfile.mkdtemp(prefix="modeq-cache-")))
        atexit.register(shutil.rmtree, _PRIVATE[0], True)
    return _PRIVATE[0]


def _fall_back(directory: Path, reason: OSError | str) -> Path:
    """The private directory replacing ``directory`` (one warning per directory and process). ``reason``
    is the failed write, or a whole sentence about a bad file that cannot be removed."""
    if directory not in _FALLBACK:
        _FALLBACK[directory] = _private_dir()
        if isinstance(reason, OSError):
            reason = f"cannot write to the modeq cache {directory} ({reason.strerror or reason})"
        _warn(f"{reason}; compiling in the private temporary directory {_FALLBACK[directory]} "
              "(set MODEQ_CACHE_DIR to a writable directory to keep the results)")
    return _FALLBACK[directory]


def _directories(directory: Path) -> list[Path]:
    """Where to look for ``directory``'s entries: itself, then its private replacement."""
    return [directory, _FALLBACK[directory]] if directory in _FALLBACK else [directory]


# -- files ------------------------------------------------------------------------------

def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a hidden temporary file next to ``path`` (mode 0o666 minus the umask), then rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _verified(path: Path) -> bytes | None:
    """The bytes of ``path`` if its name is a module name whose hash they match, else ``None``."""
    match = MODULE_NAME.fullmatch(path.name)
    if match is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if _content_hash(data) == match[2] else None


def write_module(source: str, kind: str, directory: str | os.PathLike | None = None) -> Path:
    """Write ``source`` as ``modeq_<kind>_<hash>.py`` (unless a file that matches its hash is there) and
    return its path: in the cache directory, or in the private one if the cache cannot be written."""
    if not re.fullmatch(r"[a-z]+", kind):
        raise ValueError(f"kind must be lower-case letters, got {kind!r}")
    data = source.encode()
    name = f"modeq_{kind}_{_content_hash(data)}.py"
    home = cache_dir(directory)
    for folder in _directories(home):
        if _verified(folder / name) is not None:
            return folder / name
    target = _FALLBACK.get(home, home)
    bad = (target / name).exists()
    try:
        _atomic_write(target / name, data)
    except OSError as error:
        target = _fall_back(home, error if not bad else
                            f"{target / name} does not match the hash in its name and cannot be replaced ({error.strerror})")
        _atomic_write(target / name, data)
    else:
        if bad:
            _warn(f"{target / name} did not match the hash in its name (edited, truncated or replaced); regenerated it")
    return target / name


def _execute(name: str, path: Path, data: bytes) -> ModuleType:
    """Run the verified bytes ``data`` as module ``name`` with ``__file__ = path`` (in sys.modules first:
    numba's cache locator looks the module up)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        exec(compile(data, str(path), "exec", dont_inherit=True), module.__dict__)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_module(path: str | os.PathLike) -> ModuleType:
    """Import a generated module from its file after checking its hash (:class:`CacheError` if it
    does not match) and numba's cache files of its functions (bad ones are removed; see the module docs)."""
    path = Path(path)
    name = path.stem
    if name in sys.modules:
        return sys.modules[name]
    data = _verified(path)
    if data is None:
        if not path.is_file():
            raise CacheError(f"no generated module at {path}; the cache was cleared — generate the field again")
        raise CacheError(f"{path} is not a generated module that matches the hash in its name (edited, truncated "
                         "or replaced); generate it again")
    try:
        module = _execute(name, path, data)
    except RuntimeError as error:
        if "no locator available" not in str(error):
            raise
        # numba found no writable place for its cache (a read-only cache and an unwritable home)
        return _execute(name, _private_copy(path, data, str(error)), data)
    faults = _numba_faults(module)
    if faults:
        where, reason = faults
        try:
            for file in where:
                with contextlib.suppress(FileNotFoundError):
                    file.unlink()
        except OSError as error:
            del sys.modules[name]
            return _execute(name, _private_copy(path, data, f"{reason}, cannot be removed: {error.strerror}"), data)
        _warn(f"numba's compiled code for {name} in {where[0].parent} {reason}; removed it, recompiling")
    return module


def _private_copy(path: Path, data: bytes, reason: str) -> Path:
    copy = _private_dir() / path.name
    _atomic_write(copy, data)
    _warn(f"the numba cache of {path} is unusable ({reason}); compiling in the private temporary directory {copy.parent}")
    return copy


def _numba_faults(module: ModuleType) -> tuple[list[Path], str] | None:
    """Numba's cache files of ``module``'s functions that numba would fail on or that hold other code:
    (the files to remove, why), or ``None``. Reads them with numba's own reader (unpickling, no rebuild)."""
    from numba.core.dispatcher import Dispatcher

    bad: list[Path] = []
    reasons: list[str] = []
    for function in vars(module).values():
        cache_file = getattr(getattr(function, "_cache", None), "_cache_file", None)
        if not isinstance(function, Dispatcher) or not hasattr(cache_file, "_load_index"):
            continue
        index = Path(cache_file._index_path)
        base = index.name[: -len(".nbi")]
        files = [index, *index.parent.glob(f"{glob.escape(base)}.*.nbc")]
        try:
            overloads = cache_file._load_index()
        except Exception as error:  # noqa: BLE001 - whatever numba's reader raises, numba would raise too
            bad += files
            reasons.append(f"has an unreadable index ({type(error).__name__})")
            continue
        problem = _check_overloads(overloads, cache_file, base, module.__name__, function.py_func.__qualname__)
        if problem:
            bad += files
            reasons.append(problem)
    return (bad, reasons[0]) if bad else None


def _check_overloads(overloads: Any, cache_file: Any, base: str, module: str, qualname: str) -> str | None:
    if not isinstance(overloads, dict):
        return "has an index that is not a table"
    data_name = re.compile(re.escape(base) + r"\.[0-9]+\.nbc")
    for key, name in overloads.items():
        if not (isinstance(name, str) and data_name.fullmatch(name)):
            return "has an index naming a file outside its directory"
        try:
            payload = cache_file._load_data(name)
        except FileNotFoundError:
            continue  # written after its index by a concurrent process; numba treats it as a miss
        except Exception as error:  # noqa: BLE001
            return f"has an unreadable data file ({type(error).__name__})"
        try:
            fndesc, signature = payload[1], payload[3]
            same = (fndesc.modname == module and fndesc.qualname == qualname
                    and tuple(signature.args) == tuple(key[0]))
        except Exception:  # noqa: BLE001
            same = False
        if not same:
            return "holds the code of another function"
    return None


# -- the index ---------------------------------------------------------------------------

def lookup(key: str, directory: str | os.PathLike | None = None) -> Path | None:
    """The module recorded for ``key`` if the entry and the module check out. A bad entry or module is
    removed with one :class:`CacheWarning` and ``None`` is returned (the caller regenerates). A key that
    is not 24 hex digits has no entry (it never names a file outside the index)."""
    if not (isinstance(key, str) and _KEY.fullmatch(key)):
        return None
    home = cache_dir(directory)
    for folder in _directories(home):
        entry = folder / "index" / f"{key}.json"
        try:
            text = entry.read_text()
        except (FileNotFoundError, NotADirectoryError):
            continue
        except (OSError, UnicodeDecodeError) as error:
            _discard(home, [entry], f"the modeq cache entry {entry} cannot be read ({error})")
            return None
        problem, module = _check_entry(text, key)
        if problem is None:
            path = folder / module
            if _verified(path) is not None:
                return path
            if not path.exists():
                problem = f"its module {module} is missing"
            else:
                problem = f"its module {module} does not match the hash in its name (edited, truncated or replaced)"
                _discard(home, [entry, path], f"the modeq cache entry {entry} is unusable: {problem}")
                return None
        _discard(home, [entry], f"the modeq cache entry {entry} is unusable: {problem}")
        return None
    return None


def _discard(home: Path, files: list[Path], problem: str) -> None:
    """Remove bad ``files`` and say so in one line; if they cannot be removed, the process continues in
    its private directory (same line)."""
    try:
        for file in files:
            with contextlib.suppress(FileNotFoundError):
                file.unlink()
    except OSError as error:
        if home in _FALLBACK:
            _warn(f"{problem}; compiling in the private temporary directory {_FALLBACK[home]}")
        else:
            _fall_back(home, f"{problem}, and it cannot be removed: {error.strerror}")
        return
    _warn(f"{problem}; regenerating it")


def _check_entry(text: str, key: str) -> tuple[str | None, str]:
    try:
        entry = json.loads(text)
    except ValueError:
        return "not valid JSON", ""
    if not isinstance(entry, dict) or entry.get("format") != FORMAT:
        return "not a modeq cache entry", ""
    if entry.get("key") != key:
        return "it is the entry of another key (copied)", ""
    module = entry.get("module")
    if not isinstance(module, str) or not MODULE_NAME.fullmatch(module):
        return f"its module {module!r} is not a generated module's file name inside the cache", ""
    return None, module


def record(key: str, module: str | os.PathLike, directory: str | os.PathLike | None = None) -> None:
    """Remember that ``key`` was generated as ``module`` (in the index of the directory holding it)."""
    if not _KEY.fullmatch(key):
        raise ValueError(f"an index key is 24 hex digits (from digest), got {key!r}")
    module = Path(module)
    home = cache_dir(directory)
    folder = module.parent if module.parent in _directories(home) else home
    text = json.dumps({"format": FORMAT, "key": key, "module": module.name}).encode()
    try:
        (folder / "index").mkdir(exist_ok=True)
        _atomic_write(folder / "index" / f"{key}.json", text)
    except OSError as error:
        private = _fall_back(home, error)
        (private / "index").mkdir(exist_ok=True)
        if module.parent != private:
            _atomic_write(private / module.name, module.read_bytes())
        _atomic_write(private / "index" / f"{key}.json", text)


# -- inspection -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CacheSummary:
    """What ``modeq cache info`` shows: the files modeq keeps in ``path``."""

    path: Path
    entries: int
    modules: int
    numba_files: int
    size: int
    oldest: float | None
    newest: float | None


def _files(path: Path) -> dict[str, list[Path]]:
    """The files modeq made in ``path``, by role (nothing else is counted or removed)."""
    def listed(folder: Path, pattern: str) -> list[Path]:
        return sorted(p for p in folder.glob(pattern) if p.is_file()) if folder.is_dir() else []

    modules = [p for p in listed(path, "modeq_*.py") if MODULE_NAME.fullmatch(p.name)]
    return {
        "entries": [p for p in listed(path / "index", "*.json") if _KEY.fullmatch(p.stem)],
        "modules": modules,
        "numba": listed(path / "__pycache__", "modeq_*"),
        "temporary": listed(path, ".modeq_*.tmp") + listed(path / "index", ".*.json.*.tmp"),
    }


def summary(directory: str | os.PathLike | None = None) -> CacheSummary:
    """Counts, total size and modification times of the cache's files."""
    path = cache_dir(directory)
    files = _files(path)
    stats = [p.stat() for group in files.values() for p in group]
    times = [s.st_mtime for s in stats]
    return CacheSummary(path, len(files["entries"]), len(files["modules"]), len(files["numba"]),
                        sum(s.st_size for s in stats), min(times, default=None), max(times, default=None))


def clear(directory: str | os.PathLike | None = None) -> tuple[int, int]:
    """Remove modeq's files from the cache (only those; the directory stays): (files, bytes) removed."""
    path = cache_dir(directory)
    count = size = 0
    for group in _files(path).values():
        for file in group:
            with contextlib.suppress(FileNotFoundError):
                bytes_ = file.stat().st_size
                file.unlink()
                count, size = count + 1, size + bytes_
    for folder in (path / "index", path / "__pycache__"):
        with contextlib.suppress(OSError):
            folder.rmdir()
    return count, size
