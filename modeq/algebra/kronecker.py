r"""Shampoo's Kronecker-factored preconditioner as matrix maps of parameter blocks.

For a block :math:`W \in \mathbb{R}^{m\times n}` with gradient block :math:`G`,
Shampoo (Gupta, Koren & Singer 2018) keeps the statistics
:math:`L = \varepsilon I + \sum GG^\top` (:math:`m\times m`) and
:math:`R = \varepsilon I + \sum G^\top G` (:math:`n\times n`) and steps along
:math:`L^{-1/4}GR^{-1/4}`; its one-sided form preconditions the smaller side
only, :math:`L^{-1/2}G` for :math:`m \le n` (:math:`GR^{-1/2}` for
:math:`m > n`).

**Matrix-shaped states in a block of the parameters' shape.** modeq's states
are vectors of the parameters' length :math:`p` (:mod:`modeq.primitives.state`):
the derivation, the slow-state coordinates of the modified equation, the
compiled iterates and the verification all store a state as one number per
component. A statistic is stored *packed* into its block: an :math:`m\times m`
matrix :math:`M` with :math:`m \le n` as the :math:`m\times n` block
:math:`ME` (:math:`E` the rectangular identity, so :math:`ME = [M\;0]`), read
back as :math:`(ME)E^\top = M`; an :math:`n\times n` one with :math:`n \le m`
as :math:`EM`, read back as :math:`E^\top(EM)`. The statistic of the smaller
side therefore always fits (:math:`\min(m,n)^2 \le mn`), and both fit when the
block is square. The state is then an ordinary (slow) state whose increment
:math:`h\,\operatorname{pack}(GG^\top)` is a matrix map of :math:`G`
(:class:`GramStatistic`), and the direction a matrix map of *several* blocks,
the gradient and the packed statistics (:class:`KroneckerRoot`,
:attr:`~modeq.algebra.matrix_maps.MatrixMap.arity` 2 or 3): its Fréchet
derivatives along a statistic are those of the inverse root, the jets of
:mod:`modeq.algebra.spectral` (Daleckii–Krein / Sylvester in the eigenbasis),
never a new formula. The state holds :math:`L - \varepsilon I` (it starts at
0, as every state does); :math:`\varepsilon I` is added inside the root.

**Several parts for a statistic larger than the block.** Two-sided Shampoo
on a non-square block needs the larger side's statistic too
(:math:`\max(m,n)^2 > mn`): it is stored in :math:`k` parts, each a state of
the block's shape. For :math:`L` (:math:`m\times m`) the parts are
:math:`P_c = LE_c`, :math:`c = 0..k-1`, :math:`E_c` (:math:`m\times n`) with
the columns :math:`e_{cn+1}..e_{cn+n}` of :math:`\mathbb{R}^m` (zero beyond
:math:`m`; :math:`E_0 = E`); since :math:`\sum_c E_cE_c^\top = I_m` for
:math:`k \ge \lceil m/n\rceil`, :math:`L = \sum_c P_cE_c^\top` exactly. For
:math:`R` (:math:`n\times n`) the parts are :math:`Q_c = F_cR`, :math:`F_c`
(:math:`m\times n`) with the rows :math:`e_{cm+1}^\top..e_{cm+m}^\top` of
:math:`\mathbb{R}^n` (:math:`F_0 = E`), and :math:`R = \sum_c F_c^\top Q_c`.
Each part is an ordinary slow state with the increment
:math:`h\,GG^\top E_c` (:class:`GramStatistic` with its ``part``), linear in
the Gram matrix as before; the root takes the gradient block and all parts
(:class:`KroneckerRoot` with ``parts`` :math:`k`, arity :math:`1 + 2k`; parts
beyond a block's need are zero there). One part (the default) is the packing
above, for square blocks; a block needing more parts than the map has is
refused in one line naming the ``parts`` it needs.

A preconditioner that is singular (:math:`\varepsilon = 0`
and a rank-deficient gradient) is refused with the block named
(:class:`~modeq.algebra.spectral.SingularBlock`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sympy

from .matrix_maps import MatrixMap, identity_like, inverse_root

__all__ = ["GramStatistic", "KroneckerRoot", "SIDES", "DEFAULT_MAPS", "MAX_PARTS"]

#: The most parts a statistic may be stored in (blocks at most 8 times longer than wide).
MAX_PARTS = 8

#: Which Gram matrix a statistic accumulates: ``small`` the smaller side's
#: (:math:`GG^\top` for :math:`m \le n`, :math:`G^\top G` otherwise), ``left``
#: :math:`GG^\top` (whole for :math:`m \le n`, else one part of it), ``right`` :math:`G^\top G`
#: (whole for :math:`n \le m`).
SIDES = ("small", "left", "right")


def _left(side: str, x: Any) -> bool:
    """Whether the statistic of ``side`` is the left one (:math:`GG^\\top`) on a block like ``x``."""
    return side == "left" or (side == "small" and x.shape[0] <= x.shape[1])


@dataclass(frozen=True)
class GramStatistic(MatrixMap):
    r""":math:`\operatorname{pack}(XX^\top) = XX^\top E` or :math:`\operatorname{pack}(X^\top X) = EX^\top X`
    (``side``, :data:`SIDES`): a Gram matrix of the block stored in the block's shape; with
    ``part`` :math:`c`, :math:`XX^\top E_c` or :math:`F_cX^\top X` (its part :math:`c`)."""

    side: str = "small"
    part: int = 0

    operator: ClassVar[str] = "shampoo's statistic (Gram)"

    @property
    def name(self) -> str:  # type: ignore[override]
        """``Gram`` (the smaller side), ``GramL``, ``GramR``; ``GramL1`` for the part 1."""
        return {"small": "Gram", "left": "GramL", "right": "GramR"}[self.side] + (str(self.part) if self.part else "")

    @property
    def latex(self) -> str:  # type: ignore[override]
        suffix = {"small": "", "left": "L", "right": "R"}[self.side] + (f",{self.part}" if self.part else "")
        return r"\operatorname{Gram}" + (f"_{{{suffix}}}" if suffix else "")

    def __call__(self, x):
        if _left(self.side, x):
            return (x @ x.T) @ identity_like(x, self.part)
        return identity_like(x, -self.part) @ (x.T @ x)


@dataclass(frozen=True)
class KroneckerRoot(MatrixMap):
    r"""Shampoo's direction from the gradient block :math:`X` and its packed statistics:
    two-sided (``sides == 2``, arguments :math:`X, A, B`)
    :math:`(A + \varepsilon I)^{-1/4}X(B + \varepsilon I)^{-1/4}` on a square block; with
    ``parts`` :math:`k > 1`, arguments :math:`X, A_0..A_{k-1}, B_0..B_{k-1}`,
    :math:`A = \sum_c A_cE_c^\top`, :math:`B = \sum_c F_c^\top B_c` on any block with
    :math:`\lceil\max(m,n)/\min(m,n)\rceil \le k`;
    one-sided (``sides == 1``, arguments :math:`X, S`) :math:`(S E^\top + \varepsilon I)^{-1/2}X`
    for :math:`m \le n`, :math:`X(E^\top S + \varepsilon I)^{-1/2}` otherwise."""

    sides: int = 2
    eps: sympy.Rational = sympy.Integer(0)
    parts: int = 1

    name: ClassVar[str] = "Sh"
    operator: ClassVar[str] = "shampoo (Sh)"
    latex: ClassVar[str] = r"\operatorname{Sh}"
    spectral: ClassVar[bool] = True

    @property
    def arity(self) -> int:  # type: ignore[override]
        return 2 if self.sides == 1 else 1 + 2 * self.parts

    def __call__(self, x, *statistics):
        if self.sides == 2:
            if self.parts > 1:
                k = self.parts
                left = _sum(p @ identity_like(x, c).T for c, p in enumerate(statistics[:k]))
                right = _sum(identity_like(x, -c).T @ q for c, q in enumerate(statistics[k:]))
            else:
                left, right = statistics
            return inverse_root(left, 2, self.eps) @ x @ inverse_root(right, 2, self.eps)
        (packed,) = statistics
        unit = identity_like(x)
        if x.shape[0] <= x.shape[1]:
            return inverse_root(packed @ unit.T, 1, self.eps) @ x
        return x @ inverse_root(unit.T @ packed, 1, self.eps)

    def check_shape(self, name, shape):
        if self.sides == 2 and shape[0] != shape[1]:
            _check_fits("left" if shape[0] > shape[1] else "right", name, shape, self.parts)


def _sum(terms):
    """The sum of matrices (jets, traced jets) in order, without a zero to start from."""
    terms = iter(terms)
    total = next(terms)
    for term in terms:
        total = total + term
    return total


#: The maps a LaTeX text may name when its atom table has none (two-sided Shampoo with the default eps;
#: read a one-sided equation, or another eps, with the atoms of the equation it was printed from).
DEFAULT_MAPS = (KroneckerRoot(2, sympy.Rational(1, 10)), GramStatistic("small"), GramStatistic("left"),
                GramStatistic("right"))


def _check_fits(side: str, name: str, shape: tuple[int, int], parts: int) -> None:
    """One line if the statistic of ``side`` does not fit into ``parts`` states of a block of ``shape``."""
    rows, cols = shape
    size, other = (rows, cols) if side == "left" else (cols, rows)
    need = -(-size // other)
    if need > parts:
        raise ValueError(
            f"two-sided Shampoo stores its statistics in states of the block's shape, and the {side} one of the block "
            f"{name or 'of the parameters'} ({rows}x{cols}) is {size}x{size}, larger than {parts} part(s) of the block "
            f"hold: use shampoo(parts={need}) (or more; square blocks need 1), or shampoo(sides='one') "
            "(the smaller side's statistic, which always fits)")
