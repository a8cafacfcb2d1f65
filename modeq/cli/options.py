"""Arguments shared by several sub-commands."""

from __future__ import annotations

import argparse


def parse_assignment(text: str) -> tuple[str, float]:
    """``beta=0.9`` as ``("beta", 0.9)``."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the value of {name.strip()} must be a number, got {value!r}") from None


def add_optimizer_arguments(parser: argparse.ArgumentParser) -> None:
    """OPTIMIZER, --order, --set NAME=VALUE and --option NAME=true|false."""
    parser.add_argument("optimizer", help="a built-in optimizer (see `modeq list`)")
    parser.add_argument("--order", type=int, default=1, help="highest power of h kept in the modified field (default 1)")
    parser.add_argument("--set", dest="values", metavar="NAME=VALUE", type=parse_assignment, action="append", default=[],
                        help="fix a hyperparameter to a number, e.g. --set beta=0.9 (repeatable)")
    parser.add_argument("--option", dest="options", metavar="NAME=BOOL", action="append", default=[],
                        help="set a form option, e.g. --option eps_inside=false (repeatable)")


def configured_optimizer(args):
    """The optimizer named on the command line with its options applied."""
    from ..optimizers import get

    opt = get(args.optimizer)
    options = {}
    for text in args.options:
        name, sep, value = text.partition("=")
        if not sep or value.lower() not in ("true", "false"):
            raise ValueError(f"--option expects NAME=true or NAME=false, got {text!r}")
        options[name.strip()] = value.lower() == "true"
    return opt(**options) if options else opt
