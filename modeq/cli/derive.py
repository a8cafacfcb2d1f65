"""``modeq derive``: print the modified equation of an optimizer."""

from __future__ import annotations

from .options import add_optimizer_arguments, configured_optimizer


def register(subparsers) -> None:
    parser = subparsers.add_parser("derive", help="derive and print the modified equation of an optimizer")
    add_optimizer_arguments(parser)
    parser.add_argument("--regime", default="stationary", help="stationary (default)")
    parser.add_argument("--latex", action="store_true", help="print the equation as LaTeX in the papers' notation")
    parser.add_argument("--vector", action="store_true", help="with --latex: vector notation instead of index notation")
    parser.add_argument("--standalone", action="store_true", help="with --latex: a complete document that compiles")
    parser.add_argument("--symbol", dest="symbols", metavar="NAME=LATEX", action="append", default=[],
                        help=r"with --latex: rename a symbol, e.g. --symbol 'h=\eta' --symbol 'beta=\beta_1' (repeatable)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..solver import derive

    if (args.vector or args.standalone or args.symbols) and not args.latex:
        raise ValueError("--vector, --standalone and --symbol only apply with --latex")
    symbols = dict(_symbol(text) for text in args.symbols)
    equation = derive(configured_optimizer(args), order=args.order, regime=args.regime, values=dict(args.values))
    if args.latex:
        print(equation.latex("vector" if args.vector else "index", symbols, args.standalone))
    else:
        print(equation)
    return 0


def _symbol(text: str) -> tuple[str, str]:
    name, sep, latex = text.partition("=")
    if not sep or not name.strip() or not latex.strip():
        raise ValueError(f"--symbol expects NAME=LATEX, e.g. --symbol 'h=\\eta', got {text!r}")
    return name.strip(), latex.strip()
