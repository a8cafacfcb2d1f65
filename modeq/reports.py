r"""Reports: Table 1 of "On the Implicit Bias of Adam", generated from the engine.

For each optimizer (and, when it has :math:`\varepsilon`, each limit
:math:`\varepsilon \to 0`, :math:`\varepsilon \to \infty`): the
preconditioner :math:`P`, the modified loss :math:`\tilde E` of the first
order (:math:`\dot\theta = -P\nabla\tilde E`) and the verdict on what it
penalizes — all derived, none typed in.

A report derives, analyses and prints, so it sits above all three
(:mod:`modeq.solver`, :mod:`modeq.analysis`, :mod:`modeq.printing`); none of
them imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .analysis.limits import eps_limit
from .analysis.potential import ModifiedLoss, modified_loss
from .analysis.verdict import Verdict, classify
from .optimizers.base import Optimizer
from .optimizers.library import adam, gd, heavy_ball, heavy_ball_ema, rmsprop
from .printing.equation import group_latex, join_signed, printer_for
from .printing.layout import Group, term_blocks
from .printing.potential import scalar_latex
from .printing.text import TextPrinter, scalar_text
from .solver import derive

__all__ = ["Row", "table1", "DEFAULT_OPTIMIZERS"]

DEFAULT_OPTIMIZERS = (adam, rmsprop, heavy_ball, heavy_ball_ema, gd)

#: The limit column: a row's ``regime`` as LaTeX and as text.
_LIMITS = {"eps -> 0": (r"$\varepsilon \to 0$", "ε → 0"), "eps -> inf": (r"$\varepsilon \to \infty$", "ε → ∞")}


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    optimizer: str
    regime: str
    loss: ModifiedLoss
    verdicts: tuple[Verdict, ...]

    @property
    def verdict(self) -> str:
        return "; ".join(v.text for v in self.verdicts) if self.loss else self.loss.reason


def rows(optimizers: Sequence[Optimizer] = DEFAULT_OPTIMIZERS) -> list[Row]:
    """The rows: every optimizer at order 1, its :math:`\\varepsilon` limits if it has one."""
    result = []
    for opt in optimizers:
        equation = derive(opt, order=1)
        has_eps = any(hp.name == "eps" for hp in opt.hyperparameters)
        cases = [("eps -> 0", eps_limit(equation, 0)), ("eps -> inf", eps_limit(equation, "inf"))] if has_eps else [("", equation)]
        for regime, eq in cases:
            loss = modified_loss(eq, 1)
            result.append(Row(opt.name, regime, loss, classify(eq) if loss else ()))
    return result


def _text_cells(row: Row) -> tuple[str, str, str]:
    """The preconditioner, the modified loss and the verdict in the Unicode notation of ``modeq derive``."""
    printer = TextPrinter(row.loss.equation.optimizer, row.loss.equation.atoms)
    p, loss = scalar_text(printer, [row.loss.preconditioner]), scalar_text(printer, row.loss.terms)
    greater = lambda a, b: f"{printer.doprint(a)} > {printer.doprint(b)}"  # noqa: E731
    verdict = "; ".join(v.describe(printer.quantity(v.quantity), greater) for v in row.verdicts) or row.verdict
    return p, loss, verdict


def _latex_cells(row: Row) -> tuple[str, str, str]:
    """The preconditioner, the modified loss and the verdict (text with inline math)."""
    printer = printer_for(row.loss.equation.optimizer, atoms=row.loss.equation.atoms)
    p = join_signed([group_latex(printer, Group(0, term_blocks(row.loss.preconditioner, printer.atoms)))])
    greater = lambda a, b: f"${printer.doprint(a)} > {printer.doprint(b)}$"  # noqa: E731
    verdict = "; ".join(v.describe(f"${printer.quantity(v.quantity)}$", greater) for v in row.verdicts)
    return p, scalar_latex(printer, row.loss.terms), verdict


def table1(fmt: str = "markdown", optimizers: Sequence[Optimizer] = DEFAULT_OPTIMIZERS) -> str:
    """The table as ``"text"``, ``"markdown"`` or ``"latex"`` (a ``tabular``)."""
    if fmt not in ("text", "markdown", "latex"):
        raise ValueError(f"unknown table format {fmt!r}; choose text, markdown or latex")
    table = rows(optimizers)
    header = ("optimizer", "limit", "preconditioner P_j", "modified loss (order 1)", "first correction")
    if fmt == "text":
        cells = [(r.optimizer, _LIMITS[r.regime][1] if r.regime else "-", *_text_cells(r))
                 for r in table]
        widths = [max(len(c[i]) for c in cells + [header]) for i in range(len(header))]
        line = lambda c: "  ".join(x.ljust(w) for x, w in zip(c, widths)).rstrip()  # noqa: E731
        return "\n".join([line(header), line(["-" * w for w in widths])] + [line(c) for c in cells])
    latex = [(r.optimizer, r.regime, *_latex_cells(r)) for r in table]
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for name, regime, p, e, verdict in latex:
            limit = _LIMITS[regime][0] if regime else ""
            lines.append(f"| {name} | {limit} | ${p}$ | ${e}$ | {verdict} |")
        return "\n".join(lines)
    body = [r"\begin{tabular}{lllll}", r"optimizer & limit & $P_j$ & $\tilde E$ & first correction \\ \hline"]
    for name, regime, p, e, verdict in latex:
        limit = _LIMITS[regime][0] if regime else ""
        body.append(rf"\texttt{{{name.replace('_', chr(92) + '_')}}} & {limit} & ${p}$ & ${e}$ & {verdict} \\")
    body.append(r"\end{tabular}")
    return "\n".join(body)
