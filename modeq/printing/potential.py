r"""A modified loss as LaTeX: :math:`\tilde E = E + \frac{h(1+\beta)}{4(1-\beta)^2}\|\nabla E\|^2`,
its preconditioner :math:`\dot{\tilde\theta}_j = -P_j\nabla_j\tilde E`, and the part
:math:`N_k` of the field that is not a gradient (a fixed batch order)."""

from __future__ import annotations

from typing import Mapping, Protocol

import sympy

from .equation import group_latex, join_signed, printer_for
from .layout import Group, term_blocks


class LossTerms(Protocol):
    """What the printer reads of a :class:`modeq.analysis.ModifiedLoss` (which
    sits above printing and calls this module)."""

    equation: object  # an EquationTerms: its optimizer and atom table are read
    preconditioner: sympy.Expr
    terms: tuple[sympy.Expr, ...]

__all__ = ["modified_loss_latex", "scalar_latex"]


def scalar_latex(printer, terms: tuple[sympy.Expr, ...]) -> str:
    r""":math:`\sum_k h^k \Phi_k` laid out like an equation's right-hand side."""
    groups = [Group(k, term_blocks(t, printer.atoms)) for k, t in enumerate(terms) if t != 0]
    return join_signed([group_latex(printer, g) for g in groups]) or "0"


def modified_loss_latex(loss: LossTerms, symbols: Mapping[str, str] | None = None) -> str:
    r"""``\tilde E = …`` followed by the preconditioned flow (when :math:`P \ne 1`)."""
    printer = printer_for(loss.equation.optimizer, "index", symbols, loss.equation.atoms)
    text = rf"\tilde{{{printer.names['E']}}} = {scalar_latex(printer, loss.terms)}"
    if loss.preconditioner != 1:
        theta, j = printer.names["theta"], printer.names["j"]
        text += (rf", \qquad \dot{{\tilde{{{theta}}}}}_{{{j}}} = -P_{{{j}}}\nabla_{{{j}}}\tilde{{{printer.names['E']}}},"
                 rf"\quad P_{{{j}}} = {join_signed([group_latex(printer, Group(0, term_blocks(loss.preconditioner, printer.atoms)))])}")
    rest = [(k, r) for k, r in enumerate(loss.remainder) if r != 0]
    if rest:
        theta, j, h = printer.names["theta"], printer.names["j"], printer.names["h"]
        flow = " + ".join(f"{h}{'' if k == 1 else f'^{{{k}}}'} N_{{{k}}}" for k, _ in rest)
        scale = "" if loss.preconditioner == 1 else f"P_{{{j}}}"
        text += rf", \qquad \dot{{\tilde{{{theta}}}}}_{{{j}}} = -{scale}\nabla_{{{j}}}\tilde{{{printer.names['E']}}} + {flow}"
        for k, r in rest:  # block by block, each with its own coefficient
            blocks = [group_latex(printer, Group(0, (block,))) for block in term_blocks(r, printer.atoms)]
            text += rf",\quad N_{{{k}}} = {join_signed(blocks)}"
    return text
