r"""The truncation order asked of a field, checked once for every field representation.

A field derived to order :math:`N` is :math:`\sum_{k \le N} h^k f_k`; asking for
order :math:`n` keeps :math:`k \le n`, so :math:`0 \le n \le N`. Compiled fields
(:mod:`modeq.numerics.field`), the evaluator (:mod:`modeq.evaluation`) and
:mod:`modeq.torch` share this check; it sits below all of them and imports
neither SymPy nor the engine.
"""

from __future__ import annotations

import numpy as np

__all__ = ["truncation"]


def truncation(order: int | None, derived: int) -> int:
    """The truncation order asked of a field derived to order ``derived``
    (``None``: all of it), checked: one line naming the allowed range."""
    if order is None:
        return derived
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or not 0 <= order <= derived:
        raise ValueError(f"order must be a whole number between 0 and {derived} (the derived order), got {order!r}")
    return int(order)
