"""``modeq list``: the built-in optimizers, their descriptions and hyperparameters."""

from __future__ import annotations

import textwrap

from ..optimizers.library import BLOCKWISE, BUILTIN


def register(subparsers) -> None:
    parser = subparsers.add_parser("list", help="list the built-in optimizers and their hyperparameters")
    parser.set_defaults(func=run)


#: The groups ``modeq list`` prints, each under its header (``None``: no header).
GROUPS = ((None, BUILTIN),
          ("For parameter blocks (give them with --params, e.g. --params W1:3x2,W2:2x3):", BLOCKWISE))


def run(args) -> int:
    for n, (header, optimizers) in enumerate(GROUPS):
        if header:
            print(("\n" if n else "") + header)
        for k, opt in enumerate(optimizers.values()):
            print(("\n" if n or k else "") + opt.name)
            _describe(opt)
    return 0


def _describe(opt) -> None:
    """Print an optimizer's description, hyperparameters (name, symbol, domain, default) and options."""
    from ..printing.text import hyperparameter_name, plain_docstring

    if opt.description:
        print(plain_docstring(opt.description, width=88, indent="    "))
    for hp in opt.hyperparameters:
        symbol = hyperparameter_name(hp)
        name = hp.name if symbol == hp.name else f"{hp.name} = {symbol}"
        default = "" if hp.default is None else f", default {hp.default:g}"
        line = f"    {name} in {hp.domain.value}{default}" + (f": {hp.description}" if hp.description else "")
        print(textwrap.fill(line, 88, subsequent_indent="        ", break_on_hyphens=False))
    if opt.options:
        print(textwrap.fill("    options: " + ", ".join(f"{k}={v}" for k, v in opt.options.items()), 88,
                            subsequent_indent="        ", break_on_hyphens=False))
