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

Two-sided Shampoo on a non-square block would need a state larger than the
block (:math:`\max(m,n)^2 > mn`): refused in one line (square blocks, or the
one-sided form). A preconditioner that is singular (:math:`\varepsilon = 0`
and a rank-deficient gradient) is refused with the block named
(:class:`~modeq.algebra.spectral.SingularBlock`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sympy

from .matrix_maps import MatrixMap, identity_like, inverse_root

__all__ = ["GramStatistic", "KroneckerRoot", "SIDES", "DEFAULT_MAPS"]

#: Which Gram matrix a statistic accumulates: ``small`` the smaller side's
#: (:math:`GG^\top` for :math:`m \le n`, :math:`G^\top G` otherwise), ``left``
#: :math:`GG^\top` (needs :math:`m \le n`), ``right`` :math:`G^\top G` (needs :math:`n \le m`).
SIDES = ("small", "left", "right")


def _left(side: str, x: Any) -> bool:
    """Whether the statistic of ``side`` is the left one (:math:`GG^\\top`) on a block like ``x``."""
    return side == "left" or (side == "small" and x.shape[0] <= x.shape[1])


@dataclass(frozen=True)
class GramStatistic(MatrixMap):
    r""":math:`\operatorname{pack}(XX^\top) = XX^\top E` or :math:`\operatorname{pack}(X^\top X) = EX^\top X`
    (``side``, :data:`SIDES`): a Gram matrix of the block stored in the block's shape."""

    side: str = "small"

    operator: ClassVar[str] = "shampoo's statistic (Gram)"

    @property
    def name(self) -> str:  # type: ignore[override]
        """``Gram`` (the smaller side), ``GramL``, ``GramR``."""
        return {"small": "Gram", "left": "GramL", "right": "GramR"}[self.side]

    @property
    def latex(self) -> str:  # type: ignore[override]
        suffix = {"small": "", "left": "_{L}", "right": "_{R}"}[self.side]
        return r"\operatorname{Gram}" + suffix

    def __call__(self, x):
        if _left(self.side, x):
            return (x @ x.T) @ identity_like(x)
        return identity_like(x) @ (x.T @ x)

    def check_shape(self, name, shape):
        _check_fits(self.side, name, shape)


@dataclass(frozen=True)
class KroneckerRoot(MatrixMap):
    r"""Shampoo's direction from the gradient block :math:`X` and its packed statistics:
    two-sided (``sides == 2``, arguments :math:`X, A, B`)
    :math:`(A + \varepsilon I)^{-1/4}X(B + \varepsilon I)^{-1/4}` on a square block;
    one-sided (``sides == 1``, arguments :math:`X, S`) :math:`(S E^\top + \varepsilon I)^{-1/2}X`
    for :math:`m \le n`, :math:`X(E^\top S + \varepsilon I)^{-1/2}` otherwise."""

    sides: int = 2
    eps: sympy.Rational = sympy.Integer(0)

    name: ClassVar[str] = "Sh"
    operator: ClassVar[str] = "shampoo (Sh)"
    latex: ClassVar[str] = r"\operatorname{Sh}"
    spectral: ClassVar[bool] = True

    @property
    def arity(self) -> int:  # type: ignore[override]
        return self.sides + 1

    def __call__(self, x, *statistics):
        if self.sides == 2:
            left, right = statistics
            return inverse_root(left, 2, self.eps) @ x @ inverse_root(right, 2, self.eps)
        (packed,) = statistics
        unit = identity_like(x)
        if x.shape[0] <= x.shape[1]:
            return inverse_root(packed @ unit.T, 1, self.eps) @ x
        return x @ inverse_root(unit.T @ packed, 1, self.eps)

    def check_shape(self, name, shape):
        if self.sides == 2 and shape[0] != shape[1]:
            _check_fits("left" if shape[0] > shape[1] else "right", name, shape)


#: The maps a LaTeX text may name when its atom table has none (two-sided Shampoo with the default eps;
#: read a one-sided equation, or another eps, with the atoms of the equation it was printed from).
DEFAULT_MAPS = (KroneckerRoot(2, sympy.Rational(1, 10)), GramStatistic("small"), GramStatistic("left"),
                GramStatistic("right"))


def _check_fits(side: str, name: str, shape: tuple[int, int]) -> None:
    """One line if the statistic of ``side`` does not fit into a block of ``shape``."""
    rows, cols = shape
    if (side == "left" and rows > cols) or (side == "right" and cols > rows):
        size = rows if side == "left" else cols
        raise ValueError(
            f"two-sided Shampoo stores its statistics in states of the block's shape, and the {side} one of the block "
            f"{name or 'of the parameters'} ({rows}x{cols}) is {size}x{size}, larger than the block: give square blocks, "
            "or use shampoo(sides='one') (the smaller side's statistic, which always fits)")
