"""Arguments shared by several sub-commands, and the user's own optimizers.

Values on the command line are text from the user: numbers (``--set``) are
parsed by :mod:`modeq.parsing`, never evaluated. An optimizer named
``path/to/file.py:NAME`` or ``package.module:NAME`` is the user's own code and is
imported -- that runs the file, exactly as ``python file.py`` would.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import re
import sys
import traceback
from pathlib import Path
from typing import Any

__all__ = ["ArgumentParser", "add_optimizer_arguments", "configured_optimizer", "load_optimizer", "parse_assignment"]

#: A token that starts with a single "-" and is not an option is a value: a
#: negative number, a list of numbers (-1,1) or an expression (-x**2). modeq's
#: options are long (--name) except -h, which argparse recognises first.
_VALUE = re.compile(r"^-[^-]")


class ArgumentParser(argparse.ArgumentParser):
    """:class:`argparse.ArgumentParser` with two changes for modeq.

    * ``--theta0 -1,1`` and ``--loss -x**2+y`` take the value (argparse would
      read ``-1,1`` as an unknown option and say "expected one argument");
    * an error is one line, ``modeq verify: error: ...`` (no usage block).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _VALUE  # argparse's test for "a value that starts with -"

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parse_assignment(text: str) -> tuple[str, Any]:
    """``beta=0.9`` as ``("beta", 9/10)``: the value exact, parsed, never run."""
    from ..parsing import ExpressionError, parse_number

    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE such as beta=0.9, got {text!r}")
    try:
        return name.strip(), parse_number(value.strip(), f"the value of {name.strip()}")
    except ExpressionError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_optimizer_arguments(parser: argparse.ArgumentParser) -> None:
    """OPTIMIZER, --order, --set NAME=VALUE and --option NAME=VALUE."""
    parser.add_argument(
        "optimizer", help="a built-in optimizer (see `modeq list`), or your own: path/to/file.py:NAME or "
                          "package.module:NAME, an Optimizer made with @optimizer (the file is imported, which runs "
                          "it as `python file.py` would; loss text is never run)")
    parser.add_argument("--order", type=int, default=1, help="highest power of h kept in the modified field (default 1)")
    parser.add_argument("--set", dest="values", metavar="NAME=VALUE", type=parse_assignment, action="append", default=[],
                        help="fix a hyperparameter to a number, e.g. --set beta=0.9 or --set eps=1e-8 (repeatable)")
    parser.add_argument("--option", dest="options", metavar="NAME=VALUE", action="append", default=[],
                        help="set a form option, e.g. --option eps_inside=false (repeatable)")


def configured_optimizer(args):
    """The optimizer named on the command line with its options applied."""
    opt = load_optimizer(args.optimizer)
    options = dict(_option(opt, text) for text in args.options)
    return opt(**options) if options else opt


def _option(opt, text: str) -> tuple[str, Any]:
    """``--option NAME=VALUE`` as ``(name, value)``, typed like the option's default."""
    from ..parsing import ExpressionError, parse_number

    name, sep, value = (part.strip() for part in text.partition("="))
    if not sep or not name:
        raise ValueError(f"--option expects NAME=VALUE (e.g. NAME=true or NAME=false), got {text!r}")
    if name not in opt.options:
        known = ", ".join(sorted(opt.options)) or "none"
        raise ValueError(f"--option: {opt.name} has no option {name}; its options are: {known}")
    default = opt.options[name]
    if isinstance(default, bool) or default is None:
        if value.lower() not in ("true", "false"):
            raise ValueError(f"--option expects NAME=true or NAME=false, got {text!r}")
        return name, value.lower() == "true"
    if isinstance(default, (int, float)):
        try:
            number = parse_number(value, f"--option {name}")
        except ExpressionError as error:
            raise ValueError(str(error)) from None
        if isinstance(default, int) and not number.is_Integer:
            raise ValueError(f"--option {name} must be a whole number, got {value!r}")
        return name, int(number) if isinstance(default, int) else number  # exact, as --set values
    if isinstance(default, str):
        return name, value
    raise ValueError(f"--option {name}: its default {default!r} is a {type(default).__name__}, which the command line "
                     "cannot give; set it in Python instead")


def load_optimizer(spec: str):
    """A built-in optimizer by name, or the user's ``file.py:NAME`` / ``package.module:NAME``."""
    from ..optimizers import Optimizer, get
    from ..optimizers.library import REFUSED

    if ":" not in spec:
        try:
            return get(spec)
        except ValueError as error:
            hint = "" if spec in REFUSED else f"; for a file, give {spec}:NAME" if spec.endswith(".py") else \
                "; or give your own as path/to/file.py:NAME or package.module:NAME"
            raise ValueError(f"{error}{hint}") from None
    source, _, name = spec.rpartition(":")
    module = _load_file(source) if source.endswith(".py") or "/" in source or "\\" in source else _import(source)
    found = {key: value for key, value in vars(module).items() if isinstance(value, Optimizer)}
    listing = ", ".join(found) or "none"
    if not name:
        raise ValueError(f"give the optimizer's name after the colon: {source}:NAME; the optimizers there are: {listing}")
    if not hasattr(module, name):
        raise ValueError(f"{source} has no {name!r}; the optimizers there are: {listing}")
    value = getattr(module, name)
    if not isinstance(value, Optimizer):
        raise ValueError(f"{source}:{name} is not an Optimizer (its type is {type(value).__name__}); declare it with "
                         "@optimizer(...) from modeq.optimizers on its build function")
    return value


def _load_file(source: str):
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"no optimizer file {source!r}; give an existing path/to/file.py:NAME")
    module_name = "_modeq_user_" + re.sub(r"\W", "_", path.stem)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.resolve().parent))  # its own imports resolve as for `python file.py`
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[module_name]
        raise ValueError(f"running {source} failed: {_where(error, path)}") from None
    finally:
        sys.path.remove(str(path.resolve().parent))
    return module


def _import(source: str):
    try:
        return importlib.import_module(source)
    except ModuleNotFoundError as error:
        raise ValueError(f"cannot import {source!r} ({error}); give package.module:NAME of an importable module, "
                         "or path/to/file.py:NAME") from None
    except Exception as error:
        raise ValueError(f"importing {source} failed: {_where(error, None)}") from None


def _where(error: Exception, path: Path | None) -> str:
    """``NameError: name 'x' is not defined (file.py, line 3)``: the error and
    its last line in the user's file."""
    if isinstance(error, SyntaxError):
        return f"SyntaxError: {error.msg} ({Path(error.filename or '?').name}, line {error.lineno})"
    frames = traceback.extract_tb(error.__traceback__)
    mine = [f for f in frames if path is None or Path(f.filename).resolve() == path.resolve()] or frames
    last = mine[-1] if mine else None
    where = f" ({Path(last.filename).name}, line {last.lineno})" if last else ""
    return f"{type(error).__name__}: {error}{where}"
