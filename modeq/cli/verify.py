"""``modeq verify``: check a modified equation against the optimizer's iterates."""

from __future__ import annotations

import os
from pathlib import Path

from .options import add_optimizer_arguments, configured_optimizer
from .progress import ProgressBar


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "verify", help="check the modified equation against the optimizer's iterates (errors and slopes in h)")
    add_optimizer_arguments(parser)
    parser.add_argument("--loss", help='the loss, e.g. "(3/2 - 2*x*y)**2/2" (or give --batch losses)')
    parser.add_argument("--batch", action="append", default=[], metavar="EXPR",
                        help="a mini-batch loss E_k (repeat for E_1, E_2, ...); step n uses the schedule's batch")
    parser.add_argument("--schedule", help="comma-separated batch labels repeated over the steps (default 1,2,..,m)")
    parser.add_argument("--params", required=True, help="comma-separated parameter names, e.g. x,y; or blocks with shapes, e.g. W1:3x2,W2:2x3,b:2 "
                        "(the loss then uses them as matrices: @, .T, sum, trace)")
    parser.add_argument("--theta0", required=True, help="comma-separated starting point, e.g. 2.8,3.5 (blocks: their entries in order, row-major)")
    parser.add_argument("--regime", default="stationary", help="stationary (default) or exact")
    parser.add_argument("--T", type=float, default=1.0, help="time horizon of the global error (default 1)")
    parser.add_argument("--hs", help="comma-separated step sizes (default: 5 halvings from min(0.05, (1-beta)/20))")
    parser.add_argument("--method", default="auto", help="auto (default), global, history or defect")
    parser.add_argument("--plot", metavar="PATH", help="save the log-log error plot to PATH (e.g. out.png)")
    parser.add_argument("--force", action="store_true",
                        help="run even when the job is estimated to take longer than 10 minutes")
    parser.set_defaults(func=run)


def _numbers(text: str, what: str) -> list[float]:
    """Comma-separated numbers such as ``-1,1/2,pi/4``: parsed, never evaluated."""
    from ..parsing import parse_numbers

    return [float(v) for v in parse_numbers(text, what)]


def _check_plot(text: str) -> None:
    """Fail before the run, not after it, when the plot cannot be saved to ``text``."""
    from matplotlib.backend_bases import FigureCanvasBase

    path = Path(text)
    if path.is_dir() or text.endswith(("/", "\\")):
        raise ValueError(f"--plot expects a file name such as {path / 'convergence.png'}, got the directory {text!r}")
    if not path.parent.is_dir():
        raise ValueError(f"--plot {text}: the directory {str(path.parent)!r} does not exist; create it first")
    if not os.access(path.parent, os.W_OK):
        raise ValueError(f"--plot {text}: the directory {str(path.parent)!r} is not writable")
    formats = FigureCanvasBase.get_supported_filetypes()
    if path.suffix.lstrip(".").lower() not in formats:
        raise ValueError(f"--plot {text}: give a file name ending in one of {', '.join('.' + f for f in sorted(formats))}"
                         " (e.g. out.png)")


def _labels(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"--schedule must be comma-separated batch labels such as 1,2,3, got {text!r}") from None


def run(args) -> int:
    from .. import cost
    from ..numerics.verify import verify

    if args.loss is None and not args.batch:
        raise ValueError("give the loss with --loss, or mini-batch losses with --batch (once per batch)")
    if args.loss is not None and args.batch:
        raise ValueError("give either --loss or --batch losses, not both (with --batch the loss is their mean)")
    if args.plot:
        _check_plot(args.plot)
    if args.schedule is not None and not args.batch:
        raise ValueError("--schedule needs mini-batch losses (--batch)")
    report = verify(
        configured_optimizer(args), args.loss, args.params, _numbers(args.theta0, "--theta0"), order=args.order,
        values=dict(args.values), hs=_numbers(args.hs, "--hs") if args.hs else None, T=args.T, regime=args.regime,
        batches=args.batch or None, schedule=_labels(args.schedule), method=args.method,
        progress=ProgressBar(f"verify {args.optimizer}"), max_seconds=None if args.force else cost.DEFAULT,
    )
    print(report.table())
    if args.plot:
        try:
            report.plot(args.plot)
        except OSError as error:
            raise ValueError(f"--plot {args.plot}: cannot save the plot: {error.strerror or error}") from None
        print(f"plot saved to {args.plot}")
    return 0 if report.passed else 1
