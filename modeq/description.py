r"""The symbols and the error of the optimizer description language.

The bottom of the description layer: the step size :math:`h`, the iterate
:math:`\theta_n`, the time :math:`t = nh` and :class:`DescriptionError`, used by the primitives
(:mod:`modeq.primitives`), the derivation and the numerics alike;
:mod:`modeq.optimizers.language` re-exports them for users.
"""

from __future__ import annotations

import hashlib

import sympy

__all__ = ["h", "theta", "t", "RESERVED_NAMES", "DescriptionError", "structural_digest"]

#: The step size :math:`h`.
h = sympy.Symbol("h", positive=True)

#: The current iterate :math:`\theta_n` (component :math:`j`).
theta = sympy.Symbol("theta", real=True)

#: The time :math:`t_n = nh` of the current step (schedules are smooth functions
#: of it); the modified equation is then non-autonomous, :math:`f_k(\theta, t)`.
t = sympy.Symbol("t", real=True)

RESERVED_NAMES = frozenset({"h", "theta", "t"})


class DescriptionError(ValueError):
    """An optimizer description that modeq cannot expand or run."""


def structural_digest(expr: sympy.Basic) -> str:
    """A SHA-256 of ``expr`` stable across processes, in one pass over its
    distinct subexpressions: a node is its class name and the numbers of its
    arguments, a leaf its ``srepr``. ``srepr`` of the whole tree prints a shared
    subexpression once per use, and descriptions share many (Lookahead's inner
    gradients are each taken at a point that holds the previous ones, so its
    ``srepr`` doubles with every inner step: 600 kB at k = 5)."""
    ids: dict[sympy.Basic, int] = {}
    lines: list[str] = []

    def visit(node):
        if node not in ids:
            entry = (f"{type(node).__name__}({','.join(str(visit(a)) for a in node.args)})" if node.args
                     else sympy.srepr(node))
            ids[node] = len(lines)
            lines.append(entry)
        return ids[node]

    visit(expr)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
