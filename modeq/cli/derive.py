"""``modeq derive``: print the modified equation of an optimizer."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .options import add_optimizer_arguments, configured_optimizer
from .progress import ProgressBar

if TYPE_CHECKING:
    from ..equation import ModifiedEquation


def register(subparsers) -> None:
    parser = subparsers.add_parser("derive", help="derive and print the modified equation of an optimizer")
    add_optimizer_arguments(parser)
    parser.add_argument("--regime", help="stationary (default) or exact (fields f^(n), closed forms in n)")
    parser.add_argument("--steps", type=int, metavar="N",
                        help="the fields of the concrete steps 0..N-1 (exact, any order, step by step)")
    parser.add_argument("--batches", type=int, metavar="M",
                        help="mini-batch losses E_1..E_M: with --steps, per-step fields; with --epoch, one epoch")
    parser.add_argument("--epoch", action="store_true", help="with --batches: the modified field of one epoch of M steps")
    parser.add_argument("--schedule", help="the order of the batches: cyclic (default), shuffled (--epoch only: "
                                           "averaged over all orders) or labels such as 2,3,1")
    parser.add_argument("--latex", action="store_true", help="print the equation as LaTeX in the papers' notation")
    notation = parser.add_mutually_exclusive_group()
    notation.add_argument("--vector", action="store_true", help="with --latex: vector notation instead of index notation")
    notation.add_argument("--matrix", action="store_true",
                          help="with --latex: matrix notation (G, H[X], Frobenius norms, msign(G)) for optimizers on "
                               "parameter blocks (muon, lars, lamb)")
    parser.add_argument("--standalone", action="store_true", help="with --latex: a complete document that compiles")
    parser.add_argument("--symbol", dest="symbols", metavar="NAME=LATEX", action="append", default=[],
                        help=r"with --latex: rename a symbol, e.g. --symbol 'h=\eta' --symbol 'beta=\beta_1' (repeatable)")
    parser.add_argument("--check", action="store_true",
                        help="with --latex: read the printed LaTeX back and check it equals the derived terms (exit 1 if not)")
    parser.add_argument("--save", metavar="PATH", help="also write the equation as JSON with its provenance "
                                                       "(read it back with modeq.load(PATH))")
    parser.add_argument("--force", action="store_true",
                        help="derive even when it is estimated to take longer than 10 minutes")
    parser.set_defaults(func=run)


def run(args) -> int:
    if (args.vector or args.matrix or args.standalone or args.symbols or args.check) and not args.latex:
        raise ValueError("--vector, --matrix, --standalone, --symbol and --check only apply with --latex")
    notation = "vector" if args.vector else "matrix" if args.matrix else "index"
    symbols = dict(_symbol(text) for text in args.symbols)
    equations = _derive(args)
    if args.standalone and len(equations) > 1:
        raise ValueError("--standalone writes one equation; with --steps print the steps' LaTeX without it")
    if args.save and len(equations) > 1:
        raise ValueError("--save writes one equation; with --steps derive without --save")
    if args.save:
        equations[0][1].save(args.save)
    texts = []  # each equation's printed LaTeX (None for a document), the text --check reads
    for label, equation in equations:
        if label:
            print(f"% {label}" if args.latex else f"# {label}")
        if args.latex:
            text = equation.latex(notation, symbols, args.standalone)
            texts.append(None if args.standalone else text)
            print(text)
        else:
            print(equation)
            if args.epoch:
                print(_epoch_loss(equation))
    return _check(equations, notation, symbols, texts) if args.check else 0


def _check(equations: list[tuple[str, "ModifiedEquation"]], notation: str, symbols: dict[str, str],
           texts: list[str | None]) -> int:
    """The round trip of :mod:`modeq.printing.reader`: 0 if every printed term
    reads back as the derived one, else 1 with the differing terms on stderr. ``texts``: the
    equations' LaTeX as printed (``None``: print it again, as a document holds more than the equation)."""
    from ..printing.reader import round_trip

    failures = [(label, f) for (label, equation), text in zip(equations, texts)
                for f in round_trip(equation, notation, symbols, text=text)]
    for label, failure in failures:
        print((f"{label}: " if label else "") + f"round trip failed: {failure}", file=sys.stderr)
    if not failures:
        print(f"round trip: the printed LaTeX ({notation} notation) reads back as the derived terms", file=sys.stderr)
    return 1 if failures else 0


def _epoch_loss(equation: "ModifiedEquation") -> str:
    """The modified loss of an epoch (Smith et al.), through the highest order
    that has one, and why the next order has none."""
    full = loss = equation.modified_loss()
    while loss.terms is None and loss.order > 1:
        loss = equation.modified_loss(loss.order - 1)
    lines = str(loss).splitlines()
    if loss is not full:  # before the legend
        lines.insert(len(lines) - 1, f"  order {loss.order + 1}: {full.reason}")
    return "\n".join(lines)


def _derive(args) -> list[tuple[str, "ModifiedEquation"]]:
    """The equations to print, each with a label (empty for a single one)."""
    from .. import cost
    from ..epoch import derive_epoch
    from ..solver import derive
    from ..stepwise import derive_steps

    optimizer, values = configured_optimizer(args), dict(args.values)
    if args.regime is not None and (args.epoch or args.steps is not None):
        raise ValueError("--steps and --epoch choose their own regime (concrete steps, one epoch); drop --regime")
    if args.epoch:
        if args.batches is None or args.steps is not None:
            raise ValueError("--epoch needs --batches M (and no --steps): it derives the field of one epoch of M steps")
        return [("", derive_epoch(optimizer, args.batches, args.order, _schedule(args.schedule, "shuffled"), values))]
    limit = None if args.force else cost.DEFAULT
    if args.steps is not None:
        estimate = cost.steps_seconds(optimizer, args.steps, args.order, values) if args.order in range(13) else 0.0
        bar = _bar(f"derive {args.optimizer}", "step", None, estimate)
        derived = derive_steps(optimizer, args.steps, args.order, args.batches, _schedule(args.schedule, "cyclic"), values,
                               max_seconds=limit, progress=bar)
        return [(f"step n = {n}" + (f", batch {derived.schedule.batch(n)}" if derived.schedule else ""), derived.at(n))
                for n in range(derived.steps)]
    if args.batches is not None or args.schedule is not None:
        raise ValueError("--batches and --schedule go with --steps N (per-step fields) or --epoch (one epoch)")
    regime = args.regime or "stationary"
    weights = cost.order_seconds(optimizer, args.order, regime, values) if args.order in range(13) else None
    bar = _bar(f"derive {args.optimizer}", "order", weights, sum(weights or ()))
    return [("", derive(optimizer, order=args.order, regime=regime, values=values, max_seconds=limit, progress=bar))]


def _bar(label: str, unit: str, weights: list[float] | None, estimate: float) -> ProgressBar:
    """A bar shown at once when the job is estimated to take more than two seconds."""
    return ProgressBar(label, unit, weights, delay=0.0 if estimate > 2 else 1.0)


def _schedule(text: str | None, default: str):
    if text is None:
        return default
    if text in ("cyclic", "shuffled"):
        return text
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--schedule is cyclic, shuffled or batch labels such as 2,3,1, got {text!r}") from None


def _symbol(text: str) -> tuple[str, str]:
    name, sep, latex = text.partition("=")
    if not sep or not name.strip() or not latex.strip():
        raise ValueError(f"--symbol expects NAME=LATEX, e.g. --symbol 'h=\\eta', got {text!r}")
    return name.strip(), latex.strip()
