"""``modeq cache``: where the compiled fields are kept, how much they take, and clearing them.

The directory is ``MODEQ_CACHE_DIR`` (default ``~/.cache/modeq``); see
:mod:`modeq.numerics.cache`. ``clear`` removes only the files modeq made there.
"""

from __future__ import annotations

import time

from ..numerics.cache import clear, summary


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "cache", help="show (info) or empty (clear) the cache of compiled fields (MODEQ_CACHE_DIR, default ~/.cache/modeq)")
    parser.add_argument("action", choices=("info", "clear"), help="info: path, size and entries; clear: remove them")
    parser.set_defaults(func=run)


def _size(count: int) -> str:
    for unit in ("bytes", "kB", "MB"):
        if count < 1000 or unit == "MB":
            return f"{count} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def _when(seconds: float | None) -> str:
    return "-" if seconds is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def run(args) -> int:
    if args.action == "clear":
        path = summary().path
        try:
            count, size = clear()
        except OSError as error:
            raise ValueError(f"cannot clear the cache {path} ({error.strerror}); remove its files by hand or fix "
                             "its permissions") from None
        print(f"removed {count} files ({_size(size)}) from {path}")
        return 0
    info = summary()
    print(f"path:        {info.path}")
    print(f"size:        {_size(info.size)}")
    print(f"entries:     {info.entries} (derived fields and optimizers in the index)")
    print(f"modules:     {info.modules} generated, {info.numba_files} numba cache files")
    print(f"oldest file: {_when(info.oldest)}")
    print(f"newest file: {_when(info.newest)}")
    return 0
