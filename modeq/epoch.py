r"""Modified equations of one epoch of mini-batch steps.

With :math:`m` batch losses :math:`E_1, \dots, E_m` (:math:`E` their mean) a
memoryless optimizer (GD, SAM, …) applies :math:`m` steps per epoch, one per
batch in the order of a schedule :math:`\sigma`:
:math:`\theta_{i+1} = \theta_i + hU_{\sigma(i)}(\theta_i)`. Writing
:math:`\theta_i = \theta_0 + \delta_i`, the displacement is composed as a
series at :math:`\theta_0`,

.. math:: \delta_{i+1} = \delta_i + h\,U_{\sigma(i)}(\theta_0 + \delta_i),

(gradients at the displaced point by Taylor expansion,
:math:`\nabla E_b(\theta_0+\delta) = \sum_r \frac1{r!} D^{(b)}_r[\delta,\dots,\delta]`),
and the epoch map :math:`\theta_0 \mapsto \theta_0 + \delta_m` — or its average
over all :math:`m!` orders for random shuffling — is matched with the flow of
:math:`f` over the time :math:`mh` of the epoch, order by order as in
:mod:`modeq.solver`. For shuffled GD this gives Smith et al. (2021):
:math:`f = -\nabla\big(E + \frac{h}{4m}\sum_k \|\nabla E_k\|^2\big) + O(h^2)`.
"""

from __future__ import annotations

from itertools import permutations
from typing import Any, Mapping, Sequence

import sympy

from .algebra import IndexAlgebra
from .equation import ModifiedEquation
from .expansion import Expander
from .optimizers.base import Optimizer
from .description import DescriptionError, t as TIME
from .regimes import Stationary
from .series import Series
from .solver import check_order, solve_terms
from .unknowns import Unknowns

__all__ = ["derive_epoch", "MAX_SHUFFLED_BATCHES"]

#: Averaging over all m! orders is exact but costs m! compositions.
MAX_SHUFFLED_BATCHES = 6


def _orders(batches: int, schedule) -> list[tuple[int, ...]]:
    labels = tuple(range(1, batches + 1))
    if schedule == "shuffled":
        if batches > MAX_SHUFFLED_BATCHES:
            raise ValueError(f"averaging over all {batches}! orders is too costly; use at most {MAX_SHUFFLED_BATCHES} batches")
        return list(permutations(labels))
    if schedule == "cyclic":
        return [labels]
    order = tuple(schedule)
    if sorted(order) != list(labels):
        raise ValueError(f"a schedule must be 'shuffled', 'cyclic' or a permutation of 1..{batches}, got {schedule!r}")
    return [order]


def derive_epoch(
    optimizer: Optimizer,
    batches: int,
    order: int = 1,
    schedule: str | Sequence[int] = "shuffled",
    values: Mapping[str, Any] | None = None,
) -> ModifiedEquation:
    r"""The modified field of one epoch of ``batches`` mini-batch steps.

    ``schedule`` is ``"shuffled"`` (the average over all orders), ``"cyclic"``
    (batches 1..m in turn) or a permutation of ``1..m``. The result's terms use
    the batch atoms :math:`\nabla_j E_b` (``g_b``); materialize it with
    ``equation.materialize(None, params, batches=[E_1, ..., E_m])``."""
    order = check_order(order)
    if isinstance(batches, bool) or not isinstance(batches, int) or batches < 1:
        raise ValueError(f"batches must be a whole number >= 1, got {batches!r}")
    update = optimizer.update(values)
    if update.has(TIME):
        raise DescriptionError(
            f"{optimizer.name}'s update depends on the time t (a schedule); the steps of an epoch would each need "
            "their own time. Use modeq.derive (one step, non-autonomous) or modeq.derive_steps instead")
    regime = Stationary()
    unknowns = Unknowns(IndexAlgebra())
    algebra = unknowns.algebra
    orders = _orders(batches, schedule)
    total = Series.constant(algebra, algebra.zero, order + 1)
    for sequence in orders:
        delta = Series.constant(algebra, algebra.zero, order + 1)
        for batch in sequence:
            step = Expander(unknowns, regime, loss=batch, offset=delta).expand(update, order).shift(1)
            delta = delta + step
        total = total + delta
    mean = total.scale(sympy.Rational(1, len(orders)))
    terms = solve_terms(lambda k: mean.truncate(k + 1), unknowns, regime, order, steps=batches)
    name = "shuffled" if schedule == "shuffled" else f"order {'-'.join(map(str, orders[0]))}"
    description = (f"one epoch of {batches} mini-batch steps ({name}), matched with the flow over the epoch's time "
                   f"{batches}h; batch losses E_1..E_{batches} with mean E")
    return ModifiedEquation(optimizer, order, f"epoch ({name}, m={batches})", dict(values or {}), tuple(terms), description,
                            atoms=algebra.atoms)
