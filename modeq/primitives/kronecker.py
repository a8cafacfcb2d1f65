r"""Shampoo's statistics and preconditioner as primitives (:mod:`modeq.algebra.kronecker`).

``gram(x, side="small", part=0)``
    Component :math:`j` of a Gram matrix of the matrix block :math:`X_B` of
    ``x``, stored in the block's shape: :math:`X_BX_B^\top E` (``left``),
    :math:`EX_B^\top X_B` (``right``) or the smaller side's (``small``),
    :math:`E` the rectangular identity (:class:`~modeq.algebra.kronecker.GramStatistic`).
    Summed by a slow state it is Shampoo's statistic:
    ``state(lambda s: s + h*gram(grad()), name="L")``; ``gram(x, side, part)``
    its part :math:`c` (:math:`X_BX_B^\top E_c`, a statistic larger than the block).
``kronecker_root(x, left, right=None, eps=0)``
    Component :math:`j` of Shampoo's direction from the block :math:`X_B` and
    the packed statistics (:class:`~modeq.algebra.kronecker.KroneckerRoot`):
    :math:`(A+\varepsilon I)^{-1/4}X_B(B+\varepsilon I)^{-1/4}` with ``right``
    (square blocks; on others ``left`` and ``right`` are sequences of parts,
    :math:`A = \sum_c A_cE_c^\top`), else the one-sided :math:`(S E^\top+\varepsilon I)^{-1/2}X_B`
    on the smaller side.

Both are :class:`~modeq.primitives.matrix.BlockMap` s: the expansion is the
Taylor series of the map in its blocks jointly (:math:`D^kF` at the point
:math:`(X, A, B)` along tuples of directions, opaque atoms), the lowering the
map's traced program on each block.
"""

from __future__ import annotations

import sympy

from ..algebra.kronecker import MAX_PARTS, SIDES, GramStatistic, KroneckerRoot
from ..description import DescriptionError
from .matrix import BlockMap, _exact

__all__ = ["GramMap", "KroneckerRootMap", "gram", "kronecker_root"]


class GramMap(BlockMap):
    r"""``GramMap(x, side)``: :math:`\operatorname{pack}(X_BX_B^\top)_j` or
    :math:`\operatorname{pack}(X_B^\top X_B)_j` (``side`` indexes :data:`~modeq.algebra.kronecker.SIDES`);
    ``GramMap(x, side, part)`` its part (:math:`X_BX_B^\top E_c`, :math:`F_cX_B^\top X_B`)."""

    nargs = (2, 3)
    operator = "gram"

    @property
    def map(self) -> GramStatistic:
        return GramStatistic(SIDES[int(self.args[1])], int(self.args[2]) if len(self.args) == 3 else 0)


class KroneckerRootMap(BlockMap):
    r"""``KroneckerRootMap(x, a, b, eps)`` (two-sided), ``KroneckerRootMap(x, a_0..a_{k-1}, b_0..b_{k-1}, eps)``
    (two-sided, statistics in :math:`k` parts) or ``KroneckerRootMap(x, s, eps)``
    (one-sided): Shampoo's direction, component :math:`j`."""

    nargs = (3,) + tuple(2 + 2 * k for k in range(1, MAX_PARTS + 1))
    operator = "shampoo"

    @property
    def map(self) -> KroneckerRoot:
        statistics = len(self.args) - 2
        return KroneckerRoot(1, self.args[-1]) if statistics == 1 else KroneckerRoot(2, self.args[-1], statistics // 2)


def gram(x, side: str = "small", part: int = 0) -> sympy.Expr:
    r"""The block's Gram matrix :math:`X_BX_B^\top` or :math:`X_B^\top X_B` packed into the block's shape
    (its part ``part`` :math:`c`: :math:`X_BX_B^\top E_c`, :math:`F_cX_B^\top X_B`)."""
    if side not in SIDES:
        raise DescriptionError(f"gram: side must be one of {', '.join(SIDES)}, got {side!r}")
    if part not in range(MAX_PARTS) or (part and side == "small"):
        raise DescriptionError(f"gram: part must be an integer 0..{MAX_PARTS - 1} (0 for side='small'), got {part!r}")
    extra = (sympy.Integer(part),) if part else ()
    return GramMap(sympy.sympify(x), sympy.Integer(SIDES.index(side)), *extra)


def kronecker_root(x, left, right=None, eps=0) -> sympy.Expr:
    r"""Shampoo's direction :math:`(A+\varepsilon I)^{-1/4}X_B(B+\varepsilon I)^{-1/4}` from
    packed statistics ``left`` (:math:`A`) and ``right`` (:math:`B`), each one state or a
    sequence of :math:`k` parts (:math:`A = \sum_c A_cE_c^\top`, :math:`B = \sum_c F_c^\top B_c`), or the
    one-sided :math:`(S+\varepsilon I)^{-1/2}X_B` on the smaller side without ``right``
    (``eps`` a number :math:`\ge 0`)."""
    value = _exact(eps, "kronecker_root")
    if value < 0:
        raise DescriptionError(f"kronecker_root: eps must be a number >= 0, got {eps!r}")
    if isinstance(left, (list, tuple)) or isinstance(right, (list, tuple)):
        if not (isinstance(left, (list, tuple)) and isinstance(right, (list, tuple))
                and 1 <= len(left) == len(right) <= MAX_PARTS):
            raise DescriptionError(f"kronecker_root: the parts of left and right must be two sequences of equal length "
                                   f"1..{MAX_PARTS}")
        statistics = (*left, *right)
    else:
        statistics = (left,) if right is None else (left, right)
    return KroneckerRootMap(sympy.sympify(x), *map(sympy.sympify, statistics), value)
