r"""``block_sum(x)``: :math:`\sum_{i \in B(j)} x_i`, the sum over the parameter
block :math:`B(j)` (a layer, :mod:`modeq.blocks`) of component :math:`j`;
``block_norm(x)`` is :math:`\sqrt{\sum_{i \in B(j)} x_i^2}`, a layer's norm.
With plain parameters (one block) they are ``reduce_sum`` and ``norm``.

Expansion: the block reduction :math:`S_B[\cdot]` of each coefficient.
Lowering: one accumulator per block, then each component reads its block's.
"""

from __future__ import annotations

import sympy

from .base import Primitive

__all__ = ["BlockSum", "block_sum", "block_norm"]


class BlockSum(Primitive):
    r"""``BlockSum(x)``: :math:`\sum_{i \in B(j)} x_i`, constant inside a block."""

    nargs = 1

    def expand(self, expander, order):
        return expander.expand(self.args[0], order).map(expander.algebra.block_sum)

    def lower(self, out, name, args):
        ids = out.block_ids
        out.setup(f"{name} = np.empty(p)", f"ids_{name} = np.array({list(ids)!r}, dtype=np.int64)",
                  f"acc_{name} = np.zeros({max(ids) + 1})")
        out.step(f"acc_{name}[:] = 0.0", "for j in range(p):", f"    acc_{name}[ids_{name}[j]] += {out.code(args[0])}",
                 "for j in range(p):", f"    {name}[j] = acc_{name}[ids_{name}[j]]")


def block_sum(x) -> sympy.Expr:
    r"""The sum :math:`\sum_{i \in B(j)} x_i` over the block of each component."""
    return BlockSum(sympy.sympify(x))


def block_norm(x) -> sympy.Expr:
    r"""The block's Euclidean norm :math:`\|x_{B(j)}\| = \sqrt{\sum_{i \in B(j)} x_i^2}`."""
    return sympy.sqrt(block_sum(sympy.sympify(x) ** 2))
