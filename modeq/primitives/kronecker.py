r"""Shampoo's statistics and preconditioner as primitives (:mod:`modeq.algebra.kronecker`).

``gram(x, side="small")``
    Component :math:`j` of a Gram matrix of the matrix block :math:`X_B` of
    ``x``, stored in the block's shape: :math:`X_BX_B^\top E` (``left``),
    :math:`EX_B^\top X_B` (``right``) or the smaller side's (``small``),
    :math:`E` the rectangular identity (:class:`~modeq.algebra.kronecker.GramStatistic`).
    Summed by a slow state it is Shampoo's statistic:
    ``state(lambda s: s + h*gram(grad()), name="L")``.
``kronecker_root(x, left, right=None, eps=0)``
    Component :math:`j` of Shampoo's direction from the block :math:`X_B` and
    the packed statistics (:class:`~modeq.algebra.kronecker.KroneckerRoot`):
    :math:`(A+\varepsilon I)^{-1/4}X_B(B+\varepsilon I)^{-1/4}` with ``right``
    (square blocks), else the one-sided :math:`(S E^\top+\varepsilon I)^{-1/2}X_B`
    on the smaller side.

Both are :class:`~modeq.primitives.matrix.BlockMap` s: the expansion is the
Taylor series of the map in its blocks jointly (:math:`D^kF` at the point
:math:`(X, A, B)` along tuples of directions, opaque atoms), the lowering the
map's traced program on each block.
"""

from __future__ import annotations

import sympy

from ..algebra.kronecker import SIDES, GramStatistic, KroneckerRoot
from ..description import DescriptionError
from .matrix import BlockMap, _exact

__all__ = ["GramMap", "KroneckerRootMap", "gram", "kronecker_root"]


class GramMap(BlockMap):
    r"""``GramMap(x, side)``: :math:`\operatorname{pack}(X_BX_B^\top)_j` or
    :math:`\operatorname{pack}(X_B^\top X_B)_j` (``side`` indexes :data:`~modeq.algebra.kronecker.SIDES`)."""

    nargs = 2
    operator = "gram"

    @property
    def map(self) -> GramStatistic:
        return GramStatistic(SIDES[int(self.args[1])])


class KroneckerRootMap(BlockMap):
    r"""``KroneckerRootMap(x, a, b, eps)`` (two-sided) or ``KroneckerRootMap(x, s, eps)``
    (one-sided): Shampoo's direction, component :math:`j`."""

    nargs = (3, 4)
    operator = "shampoo"

    @property
    def map(self) -> KroneckerRoot:
        return KroneckerRoot(len(self.args) - 2, self.args[-1])


def gram(x, side: str = "small") -> sympy.Expr:
    r"""The block's Gram matrix :math:`X_BX_B^\top` or :math:`X_B^\top X_B` packed into the block's shape."""
    if side not in SIDES:
        raise DescriptionError(f"gram: side must be one of {', '.join(SIDES)}, got {side!r}")
    return GramMap(sympy.sympify(x), sympy.Integer(SIDES.index(side)))


def kronecker_root(x, left, right=None, eps=0) -> sympy.Expr:
    r"""Shampoo's direction :math:`(A+\varepsilon I)^{-1/4}X_B(B+\varepsilon I)^{-1/4}` from
    packed statistics ``left`` (:math:`A`) and ``right`` (:math:`B`), or the one-sided
    :math:`(S+\varepsilon I)^{-1/2}X_B` on the smaller side without ``right``
    (``eps`` a number :math:`\ge 0`)."""
    value = _exact(eps, "kronecker_root")
    if value < 0:
        raise DescriptionError(f"kronecker_root: eps must be a number >= 0, got {eps!r}")
    statistics = (left,) if right is None else (left, right)
    return KroneckerRootMap(sympy.sympify(x), *map(sympy.sympify, statistics), value)
