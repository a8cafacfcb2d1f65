r"""Step-by-step exact modified equations, for concrete steps and batch schedules.

For the steps :math:`n = 0, 1, \dots, N_{steps}-1` one field
:math:`f^{(n)} = \sum_k h^k f^{(n)}_k` each, derived forward in :math:`n`
(the piecewise ODE of the paper's Theorem 3.1). At step :math:`s` every
earlier field is known, so the history is explicit: the value of a quantity at
step :math:`t < s` is pulled back to the current point through the step flows,
:math:`u(\theta_t) = e^{-hL_{f^{(s-1)}}}\cdots e^{-hL_{f^{(t)}}}u\,(\theta_s)`,
exact to every order. An EMA is summed in Horner form,

.. math:: \sum_{k=0}^{s} a_k\,P_k\,u_{s-k}
          = a_0 u_s + B_{s-1}\big(a_1 u_{s-1} + B_{s-2}(a_2 u_{s-2} + \dots + B_0(a_s u_0))\big),

with :math:`B_t = e^{-hL_{f^{(t)}}}`, so a step costs :math:`s` flows. Nothing
needs a closed form: the step dependence may sit anywhere (RMSProp without bias
correction, Lion), mini-batch losses follow the schedule (``g_b`` is the
gradient of batch :math:`b`), and every order is available. The price is that
the fields are per concrete step; closed forms in :math:`n` are the
:class:`~modeq.regimes.Exact` regime's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, Sequence

import sympy

from . import cost
from .algebra import ATOMS, ComponentAlgebra, IndexAlgebra
from .algebra.index import AtomRegistry
from .components import materialize
from .equation import ComponentField, ModifiedEquation
from .expansion import Expander
from .optimizers.base import Optimizer
from .regimes import Regime
from .series import Series
from .solver import check_order, solve_terms
from .time_functions import TimeFunctions
from .unknowns import Unknowns

__all__ = ["derive_steps", "StepwiseEquation", "BatchSchedule"]


@dataclass(frozen=True)
class BatchSchedule:
    """Which batch loss :math:`E_b` (labels 1..m) step :math:`n` uses:
    ``order[n mod len(order)]`` — the cyclic order 1..m, a permutation, or any
    repeating pattern of labels."""

    batches: int
    order: tuple[int, ...]

    @classmethod
    def make(cls, batches: int | None, schedule: str | Sequence[int] = "cyclic") -> "BatchSchedule | None":
        if batches is None:
            return None
        if isinstance(batches, bool) or not isinstance(batches, int) or batches < 1:
            raise ValueError(f"batches must be a whole number >= 1, got {batches!r}")
        if isinstance(schedule, str):
            if schedule == "shuffled":
                raise ValueError("per-step fields need a fixed order of batches; the average over shuffled orders "
                                 "of an epoch is modeq.derive_epoch(optimizer, batches, schedule='shuffled')")
            if schedule != "cyclic":
                raise ValueError(f"a schedule is 'cyclic' or a sequence of batch labels 1..{batches}, got {schedule!r}")
            return cls(batches, tuple(range(1, batches + 1)))
        order = tuple(schedule)
        if not order or not all(isinstance(b, int) and not isinstance(b, bool) and 1 <= b <= batches for b in order):
            raise ValueError(f"a schedule is 'cyclic' or a sequence of batch labels 1..{batches}, got {schedule!r}")
        return cls(batches, order)

    def batch(self, step: int) -> int:
        return self.order[step % len(self.order)]


@dataclass(frozen=True, eq=False)
class StepHistory(Regime):
    """The history seen from step ``step``, with the fields of earlier steps known
    (``derivation.expander(t)`` expands at step ``t``, ``derivation.pull_back``
    carries a quantity forward along the step flows)."""

    name: str = "exact"
    description: str = "exact regime at a concrete step"
    derivation: "_Derivation | None" = field(default=None, repr=False)
    step: int = 0

    method: ClassVar[str] = "steps"  # history primitives expand with their ``_steps``


class _Derivation:
    """Forward-in-steps state: the fields of earlier steps and their expanders."""

    def __init__(self, update: sympy.Expr, schedule: BatchSchedule | None, order: int) -> None:
        self.update, self.schedule, self.order = update, schedule, order
        # numeric coefficients distributed, not expanded (modeq.algebra.distributed)
        self.algebra = IndexAlgebra(AtomRegistry(distributed=True))
        self.fields: list[list[sympy.Expr]] = []
        self._expanders: dict[int, Expander] = {}
        #: history sums of the known steps, kept by the primitives that build them
        self.memo: dict = {}

    def batch(self, step: int) -> int | None:
        return None if self.schedule is None else self.schedule.batch(step)

    def expander(self, step: int) -> Expander:
        """Expansions at an earlier (fully known) step, as functions of the point."""
        if step not in self._expanders:
            self._expanders[step] = Expander(Unknowns(self.algebra, self.fields[step]),
                                             StepHistory(derivation=self, step=step), loss=self.batch(step))
        return self._expanders[step]

    def pull_back(self, series: Series, start: int, end: int) -> Series:
        r"""``series`` (a quantity at the point of step ``start``) at the point of
        step ``end``: backward flows of :math:`f^{(end-1)}, \dots, f^{(start)}`."""
        alg = self.algebra
        for t in range(start, end):  # innermost first: B_{end-1}(...B_start(u))
            field = Series(alg, self.fields[t][: max(series.order, 1)])
            series = series.flow_moments(lambda r: sympy.Integer(-1) ** r, field)
        return series

    def derive_step(self, step: int) -> list[sympy.Expr]:
        # this step's terms are solved into their own unknowns; the algebra (and
        # its Lie derivatives along the fields of earlier steps) is shared
        unknowns = Unknowns(self.algebra)
        regime = StepHistory(derivation=self, step=step)

        def increment(k: int) -> Series:
            return Expander(unknowns, regime, loss=self.batch(step)).expand(self.update, k).shift(1)

        terms = solve_terms(increment, unknowns, regime, self.order)
        self.fields.append(terms)
        return terms


@dataclass(frozen=True)
class StepwiseEquation:
    r"""The fields :math:`f^{(n)}` of the steps :math:`n = 0..N-1`:
    ``terms[n][k]`` is :math:`f^{(n)}_k` in index form."""

    optimizer: Optimizer
    order: int
    values: dict[str, Any]
    schedule: BatchSchedule | None
    terms: tuple[tuple[sympy.Expr, ...], ...]
    #: The derivation's atom table (see :class:`~modeq.terms.EquationTerms`).
    atoms: AtomRegistry = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.atoms is None:
            object.__setattr__(self, "atoms", ATOMS)

    @property
    def steps(self) -> int:
        return len(self.terms)

    def at(self, step: int) -> ModifiedEquation:
        """The modified equation of one step."""
        where = "" if self.schedule is None else f", batch {self.schedule.batch(step)} of {self.schedule.batches}"
        return ModifiedEquation(self.optimizer, self.order, f"exact, step n={step}{where}", self.values,
                                self.terms[step], "exact regime at a concrete step", atoms=self.atoms)

    def materialize(self, loss: sympy.Expr | None, params: Sequence[sympy.Symbol],
                    batches: Sequence[sympy.Expr] | None = None) -> list[ComponentField]:
        """Per step, the terms as component expressions for a concrete loss
        (and the batch losses of a schedule)."""
        algebra = ComponentAlgebra(loss, params, batches)
        stages: list = []
        flat = materialize([t for terms in self.terms for t in terms], self.atoms, algebra, stages)  # atoms once
        size = self.order + 1
        return [ComponentField(algebra.loss, algebra.params, flat[n * size:(n + 1) * size], tuple(stages))
                for n in range(self.steps)]


def derive_steps(
    optimizer: Optimizer,
    steps: int,
    order: int = 1,
    batches: int | None = None,
    schedule: str | Sequence[int] = "cyclic",
    values: Mapping[str, Any] | None = None,
    *,
    max_seconds: float | None = cost.DEFAULT,
    progress: Callable[[int, int], None] | None = None,
) -> StepwiseEquation:
    r"""The exact-regime fields of the first ``steps`` steps, to ``order``.

    With ``batches`` = m, step :math:`n` uses the batch loss :math:`E_{b(n)}` of
    the schedule (``"cyclic"``, or a sequence of labels 1..m such as a
    permutation, repeated).
    Numeric hyperparameters (``values``) keep the expressions small. A
    derivation estimated (:mod:`modeq.cost`) to take longer than
    ``max_seconds`` (default 600; ``None``: no limit) is refused before it
    starts; ``progress(done, total)`` is called after each step."""
    order = check_order(order)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a whole number >= 1, got {steps!r}")
    update = TimeFunctions(optimizer.update(values))
    derivation = _Derivation(update.update, BatchSchedule.make(batches, schedule), order)
    cost.check(cost.steps_seconds(optimizer, steps, order, values), max_seconds,
               f"deriving the fields of {steps} steps of {optimizer.name} to order {order}")
    for step in range(steps):
        derivation.derive_step(step)
        if progress is not None:
            progress(step + 1, steps)
    return StepwiseEquation(optimizer, order, dict(values or {}), derivation.schedule,
                            tuple(tuple(map(update.restore, t)) for t in derivation.fields), derivation.algebra.atoms)
