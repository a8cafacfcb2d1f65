"""``modeq verify``: check a modified equation against the optimizer's iterates."""

from __future__ import annotations

import sys
import time

from .options import add_optimizer_arguments, configured_optimizer


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "verify", help="check the modified equation against the optimizer's iterates (errors and slopes in h)")
    add_optimizer_arguments(parser)
    parser.add_argument("--loss", help='the loss, e.g. "(3/2 - 2*x*y)**2/2" (or give --batch losses)')
    parser.add_argument("--batch", action="append", default=[], metavar="EXPR",
                        help="a mini-batch loss E_k (repeat for E_1, E_2, ...); step n uses the schedule's batch")
    parser.add_argument("--schedule", help="comma-separated batch labels repeated over the steps (default 1,2,..,m)")
    parser.add_argument("--params", required=True, help="comma-separated parameter names, e.g. x,y")
    parser.add_argument("--theta0", required=True, help="comma-separated starting point, e.g. 2.8,3.5")
    parser.add_argument("--regime", default="stationary", help="stationary (default) or exact")
    parser.add_argument("--T", type=float, default=1.0, help="time horizon of the global error (default 1)")
    parser.add_argument("--hs", help="comma-separated step sizes (default: 5 halvings from min(0.05, (1-beta)/20))")
    parser.add_argument("--method", default="auto", help="auto (default), global, history or defect")
    parser.add_argument("--plot", metavar="PATH", help="save the log-log error plot to PATH (e.g. out.png)")
    parser.set_defaults(func=run)


def _numbers(text: str, what: str) -> list[float]:
    """Comma-separated numbers such as ``-1,1/2,pi/4``: parsed, never evaluated."""
    from ..parsing import parse_numbers

    return [float(v) for v in parse_numbers(text, what)]


class ProgressBar:
    """A plain progress bar on stderr, shown once the work has taken a second."""

    def __init__(self, label: str, width: int = 30) -> None:
        self.label, self.width, self.start, self.shown = label, width, time.monotonic(), False

    def __call__(self, done: int, total: int) -> None:
        if not self.shown and time.monotonic() - self.start < 1.0:
            return
        self.shown = True
        filled = self.width * done // max(total, 1)
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _labels(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"--schedule must be comma-separated batch labels such as 1,2,3, got {text!r}") from None


def run(args) -> int:
    from ..numerics.verify import verify

    if args.loss is None and not args.batch:
        raise ValueError("give the loss with --loss, or mini-batch losses with --batch (once per batch)")
    if args.schedule is not None and not args.batch:
        raise ValueError("--schedule needs mini-batch losses (--batch)")
    report = verify(
        configured_optimizer(args), args.loss, args.params, _numbers(args.theta0, "--theta0"), order=args.order,
        values=dict(args.values), hs=_numbers(args.hs, "--hs") if args.hs else None, T=args.T, regime=args.regime,
        batches=args.batch or None, schedule=_labels(args.schedule), method=args.method,
        progress=ProgressBar(f"verify {args.optimizer}"),
    )
    print(report.table())
    if args.plot:
        report.plot(args.plot)
        print(f"plot saved to {args.plot}")
    return 0 if report.passed else 1
