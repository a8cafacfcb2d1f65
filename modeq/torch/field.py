r"""``modeq.torch.compile``: a derived modified equation as a torch function.

.. math:: \dot{\tilde\theta} = f_0(\tilde\theta, t) + h f_1(\tilde\theta, t) + \dots + h^N f_N(\tilde\theta, t)

for a loss given as torch code (a function of a flat parameter tensor, or of a
:class:`torch.nn.Module`). The terms are evaluated by the generic evaluator
(:mod:`modeq.evaluation`) on the torch backend (:mod:`modeq.torch.backend`):
every atom once per point, backward passes through the gradient's kept
autograd graph for the contractions, elementwise expressions translated to
torch code once, here; each value is dropped after its last use, and
``field(theta, h)`` adds each :math:`h^k f_k` to the sum as soon as it is
known. SymPy is not used when the field is called.

Fields of updates with schedules depend on the time :math:`t` (``nadam``,
``adam_warmup_cosine``, ``ademamix_warmup``; :attr:`TorchField.time_dependent`):
``t`` is an argument of :meth:`TorchField.terms` and :meth:`TorchField.__call__`,
default 0 as in the compiled field (:class:`~modeq.numerics.field.CompiledField`);
autonomous fields ignore it.

Equations with slow states :math:`s_i` (AdaGrad's sum :math:`V`, schedule-free's
:math:`w, \tau`, Shampoo's statistics; :attr:`TorchField.states`) are fields of
the point :math:`(\theta, s_1, \dots)`, one value per parameter each, as the
compiled field's coordinates: each term is
:math:`(f_k, f^{s_1}_k, \dots)`, the states being inputs of the evaluator
beside :math:`\theta` (:meth:`modeq.evaluation.Evaluator.__call__`).
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from ..algebra.index import Contraction
from ..evaluation import Evaluator, atom_table, constants_for
from ..truncation import truncation
from .backend import TorchBackend
from .losses import Losses

__all__ = ["TorchField", "compile"]


class TorchField:
    r"""The terms :math:`f_0..f_N` of a modified equation on a torch loss.

    ``field.terms(theta, t=t)`` gives :math:`[f_0(\theta, t), \dots]`;
    ``field(theta, h, order, t)`` gives :math:`\sum_{k\le order} h^k f_k(\theta, t)`
    (``t`` matters only if :attr:`time_dependent`).
    :math:`\theta` is a flat tensor (float64 or float32, any device); the
    result has its dtype and device."""

    def __init__(self, equation: Any, losses: Losses, values: Mapping[str, Any] | None = None) -> None:
        if equation.regime != "stationary" and not equation.regime.startswith("epoch"):
            raise ValueError(f"modeq.torch evaluates autonomous fields; this equation is in the {equation.regime} "
                             "regime (its terms depend on the step n): derive it with regime='stationary'")
        table = atom_table(equation)
        #: The slow states' names, in the order of their coordinates after :math:`\theta`.
        self.states: tuple[str, ...] = tuple(state.name for state in getattr(equation, "states", ()))
        self._blocks = 1 + len(self.states)
        # order by order: the term of theta, then each slow state's
        self._terms = [term for k in range(equation.order + 1)
                       for term in (equation.terms[k], *(state.terms[k] for state in getattr(equation, "states", ())))]
        #: Whether the terms depend on the time :math:`t` (schedules).
        self.time_dependent: bool = any(not table.timed.isdisjoint(term.free_symbols) for term in self._terms)
        self.equation = equation
        self.losses = losses
        self.order: int = equation.order
        self._constants = constants_for(equation, values)
        self._evaluators: dict[tuple[int, bool], Evaluator] = {}
        #: Per order: whether the terms up to it contract two or more directions (D_2, D_3, ...).
        self._multiple = [any(isinstance(d, Contraction) and len(d.args) > 1
                              for d in table.atoms(self._terms[: (k + 1) * self._blocks]).values())
                          for k in range(self.order + 1)]
        if losses.dimension is not None:
            self._evaluator(losses.dimension, self.order)

    def __repr__(self) -> str:
        size = "" if self.losses.dimension is None else f", p={self.losses.dimension}"
        return f"TorchField({self.equation.optimizer.name}, order={self.order}{size})"

    def _evaluator(self, dimension: int, order: int) -> Evaluator:
        """The evaluator for points of ``dimension`` parameters, up to ``order``: with
        chunks and a contraction of two or more directions, one whose contractions
        each make their own linearization, chunk by chunk (see :func:`compile`)."""
        shares = not (self.losses.parts and self._multiple[order])
        if (dimension, shares) not in self._evaluators:
            backend = TorchBackend(self.losses.functions, dimension, self.losses.layout, self.losses.parts, shares)
            self._evaluators[dimension, shares] = Evaluator(self._terms, atom_table(self.equation), backend,
                                                            self._constants)
        return self._evaluators[dimension, shares]

    def _split(self, point: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor] | None]:
        r"""``point`` checked and cut into :math:`\theta` and the slow states' coordinates (by name)."""
        if not self.states:
            return self.losses.point(point).detach(), None
        if not isinstance(point, torch.Tensor) or point.dim() != 1:
            self.losses.point(point)  # the one-line error for a wrong type or shape
        size, p = point.numel(), self.losses.dimension
        if (p is not None and size != self._blocks * p) or size % self._blocks:
            expected = f"{self._blocks} x {p}" if p is not None else f"a multiple of {self._blocks}"
            raise ValueError(f"the point of {self.equation.optimizer.name} holds theta and the slow state"
                             f"{'s' if len(self.states) > 1 else ''} {', '.join(self.states)} beside it, one "
                             f"value per parameter each: {expected} values, got {size}")
        p = size // self._blocks
        theta = self.losses.point(point[:p]).detach()
        states = {name: point[(i + 1) * p:(i + 2) * p].detach() for i, name in enumerate(self.states)}
        return theta, states

    def terms(self, theta: torch.Tensor, order: int | None = None, t: float = 0.0) -> list[torch.Tensor]:
        r""":math:`[f_0(\theta, t), \dots, f_{order}(\theta, t)]`; with slow states :math:`s_i`,
        ``theta`` is the point :math:`(\theta, s_1, \dots)` and each term
        :math:`(f_k, f^{s_1}_k, \dots)`, as the compiled field's."""
        order = truncation(order, self.order)
        theta, states = self._split(theta)
        self.losses.check(theta, smooth_needed=order > 0)
        values = self._evaluator(theta.numel(), order)(theta, (order + 1) * self._blocks - 1, t, states)
        if states is None:
            return values
        return [torch.cat(values[k * self._blocks:(k + 1) * self._blocks]) for k in range(order + 1)]

    def __call__(self, theta: torch.Tensor, h: float, order: int | None = None, t: float = 0.0) -> torch.Tensor:
        r""":math:`\sum_{k\le order} h^k f_k(\theta, t)` (with slow states, on the point
        :math:`(\theta, s_1, \dots)`, as :meth:`terms`)."""
        order = truncation(order, self.order)
        theta, states = self._split(theta)
        self.losses.check(theta, smooth_needed=order > 0)
        # term i is the order i // blocks of the field i % blocks (theta's, then each state's)
        weights = [(i % self._blocks, float(h) ** (i // self._blocks)) for i in range((order + 1) * self._blocks)]
        sums = self._evaluator(theta.numel(), order).sums(theta, weights, t, states)
        return torch.cat(sums) if states is not None else sums[0]


def compile(equation: Any, loss_fn: Any, values: Mapping[str, Any] | None = None,
            model: nn.Module | None = None, params: Any = None, data: Any = None, chunks: int | None = None,
            reduction: str = "mean") -> TorchField:
    r"""The field of ``equation`` (a derived :class:`~modeq.equation.ModifiedEquation`,
    stationary, autonomous or of the time :math:`t`) on a torch loss.

    ``loss_fn`` is a function of a flat parameter tensor returning a 0-d tensor
    or, with ``model``, a function of the model (``lambda m: criterion(m(X), y)``;
    the field is then a function of ``modeq.torch.flat_parameters(model)``). A
    list or dict of them gives the batch losses of mini-batch equations (see
    :mod:`modeq.torch.losses`). ``values`` gives hyperparameters the equation
    left symbolic (by name; the optimizer's defaults for the others).

    Layer-wise and matrix optimizers (LARS, LAMB, Muon) act on parameter
    blocks: the model's trainable tensors (a 2-D weight is a matrix block), or
    for a loss of a flat tensor the blocks of ``params`` (``{"W1": (3, 2)}``
    or ``"W1:3x2,W2:2x3"``, row-major, in order).

    A loss that is a mean over samples can say so: ``data=(X, y)`` (tensors
    whose rows are the samples; a list of such tuples gives the batch losses)
    with ``loss_fn(model, X, y)`` (or ``loss_fn(theta, X, y)``) the mean loss
    of the rows given (``reduction="sum"``: their sum). Then a field with
    contractions of two or more directions (orders :math:`\ge 2`: third and
    fourth derivatives hold many activation-sized tensors, the peak of the
    evaluation) evaluates every contraction over ``chunks`` slices of the
    rows, one after the other, each on a linearization of its own, and adds
    them up with weights :math:`n_c/n`: exact (every atom is linear in the
    loss), at the price of one parameter-sized accumulator and a forward pass
    per slice and contraction: on the MLPs of ``benchmarks/torch_fields.py``
    Adam's order-2 field takes 1.7-3.7 gradients of memory instead of 5.4-5.6,
    and 1.2-1.8x the time (see :mod:`modeq.torch.losses`). ``chunks``
    defaults to 4 with ``data`` (at most the rows of the smallest batch; why
    4: ``benchmarks/torch_fields.py``) and to 1 without; ``chunks=1`` keeps
    the whole batch. Terms without such contractions (orders 0 and 1 of most
    optimizers: ``field.terms(theta, order=1)``) are not chunked: their
    gradient and :math:`D_1`\ s share one linearization (2.9-3.5 gradients of
    memory), which chunks would only make slower. ``chunks`` without ``data``
    is refused, and so is a loss whose value over the data is not the
    weighted sum of its values over the chunks."""
    return TorchField(equation, Losses(loss_fn, model, params, data, chunks, reduction), values)
