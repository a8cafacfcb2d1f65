"""``modeq list``: the built-in optimizers and their hyperparameters."""

from __future__ import annotations

from ..optimizers import BUILTIN


def register(subparsers) -> None:
    parser = subparsers.add_parser("list", help="list the built-in optimizers and their hyperparameters")
    parser.set_defaults(func=run)


def run(args) -> int:
    for opt in BUILTIN.values():
        summary = (opt.description.splitlines() or [""])[0]
        print(f"{opt.name}: {summary}")
        for hp in opt.hyperparameters:
            default = "" if hp.default is None else f", default {hp.default:g}"
            print(f"    {hp.name} in {hp.domain.value}{default}: {hp.description}")
        for option, value in opt.options.items():
            print(f"    option {option}={value}")
    return 0
