"""``modeq derive``: print the modified equation of an optimizer."""

from __future__ import annotations

from .options import add_optimizer_arguments, configured_optimizer


def register(subparsers) -> None:
    parser = subparsers.add_parser("derive", help="derive and print the modified equation of an optimizer")
    add_optimizer_arguments(parser)
    parser.add_argument("--regime", default="stationary", help="stationary (default)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..solver import derive

    equation = derive(configured_optimizer(args), order=args.order, regime=args.regime, values=dict(args.values))
    print(equation)
    return 0
