r"""The evaluation backend on torch: atoms by automatic differentiation (DESIGN.md §5.4).

For a loss :math:`E_b` given as a function of a flat parameter tensor, at a
point :math:`\theta`:

* the *linearization* (:meth:`TorchBackend.linearize`, once per point and
  loss) is one forward and backward pass with ``create_graph=True``: the
  value :math:`E_b(\theta)`, the gradient :math:`\nabla E_b(\theta)`, and the
  gradient's own autograd graph, kept while contractions need it;
* :math:`D_1[X] = \nabla^2 E_b\,X` is one more backward pass through that graph
  (reverse over reverse: :math:`\partial_j \sum_i X_i \nabla_i E_b`, the Hessian
  being symmetric), :math:`D_k[X_1..X_k]` is :math:`k` of them, each but the
  last with ``create_graph=True``; the last contraction of a point
  (``release=True``) runs its last pass without ``retain_graph``, so autograd
  frees the kept graph's buffers as the pass goes. The evaluator gives
  :math:`D_k` for :math:`k \ge 2` no linearization: it makes its own, drops
  the gradient after the first pass and frees the rest during the last;
* a loss with :attr:`TorchBackend.parts` (a mean over samples given in
  chunks, :mod:`modeq.torch.losses`) is contracted chunk by chunk,
  :math:`D_k E_b[X_1..X_k] = \sum_c w_c\, D_k E_{b,c}[X_1..X_k]`, each chunk on
  a linearization of its own whose contraction is added to the first
  chunk's and freed before the next: the activation-sized tensors of a
  contraction are those of one chunk. With chunks, :attr:`~TorchBackend.linearizes`
  is False where the field contracts two or more directions (set by
  :class:`~modeq.torch.field.TorchField`): a :math:`D_1` through the shared
  full-batch linearization was then the peak (4.3 gradients of memory at
  10⁶ parameters, against 3.7 with every contraction chunked);
* :math:`S[X]` is ``X.sum()``, a 0-d tensor that broadcasts;
* the time :math:`t` of a non-autonomous field (schedules) is a 0-d float64
  tensor on the CPU: the translated schedules (``torch.cos``, ``torch.pow``)
  need a tensor, and a 0-d tensor neither promotes the point's dtype (a float32
  vector times it stays float32) nor pins a device;
* elementwise expressions are translated to torch code once
  (:mod:`modeq.torch.printer`) and run on slices of :data:`CHUNK` components
  written into one preallocated output (:class:`Chunked`).

Why float64 inside the slices: the elementwise expressions hold powers of
the numeric hyperparameters (Adam's order-3 terms have :math:`\varepsilon^5
\approx 10^{-40}` and smaller in denominators such as
:math:`336 g^{10} + \dots + 1.6\cdot 10^{-39}`), below float32's smallest
normal number: evaluated in float32 the order-3 term of Adam was ``nan`` at
every point with :math:`|\nabla E| \lesssim 10^{-4}` (and at a minimum,
where it is 0). Each slice is widened to float64 and its result narrowed to
the point's dtype: :data:`CHUNK` components, so the memory is unchanged, and
the contractions (the bulk of the time) still run in the point's dtype.

Why slices: an elementwise expression of the order-2 terms (Adam's has
eighteen common subexpressions and six vector inputs) allocates a temporary
vector for every operation; over the whole vector those temporaries were the
peak of the evaluation (30 parameter vectors on the 10⁶-parameter MLP of
``benchmarks/torch_fields.py``, against 22 for the :math:`D_2` contraction).
On slices they are :data:`CHUNK` components each. Why 8192 (32 KiB of
float32): the slices' temporaries then stay in the 1 MiB L2 cache of this
machine's cores, and they are few beside the vectors. Measured on Adam's
order-3 field (its largest expression holds 48 common subexpressions at
once), one thread: with slices of 65536 components that expression took
2.0 s at 10⁶ parameters and 33 parameter vectors of temporaries at 10⁵ (the
peak of the whole chunked field, 6.7 gradients); with 8192, 0.44 s and 5.2
vectors (the field's peak is then its :math:`D_3`, 3.85 gradients); a
four-subexpression one 138 → 24 ms at 10⁶. Slices of 4096 hold fewer
temporaries but cost more calls (0.71 s).

Why reverse over reverse on the kept graph, and not ``torch.func``'s forward
over reverse (``jvp(grad(E), (θ,), (X,))``, which the first version used):
the directions :math:`X` are functions of :math:`\nabla E` (Adam's
:math:`g/\sqrt{g^2+\varepsilon}`), so every ``jvp`` recomputes the forward and
backward pass the gradient already did, and nested ``jvp``\ s carry
:math:`2^k` copies of every activation. Measured on the 10⁶-parameter MLP of
``benchmarks/torch_fields.py`` (float32, one thread; cost in gradients, peak
memory in units of a gradient's): ``jvp(grad)`` 3.4 / 2.2, a backward pass
through the kept graph 1.4–1.8 / 0.9; :math:`D_2` by nested ``jvp`` 11 / 4.6,
by two backward passes through the kept graph 6.4 / 2.9 (the kept graph
included). Batching independent :math:`D_1`\ s with ``vmap``
(``autograd.grad(..., is_grads_batched=True)``) does not help on CPU: three
Hessian-vector products took 2.0 s batched against 1.9 s one after the other,
with 43 MiB against 22 MiB of peak memory (the model's matrix products are
already batched over the data).

Forward mode does not lower the peak either, for :math:`D_1` or :math:`D_2`
(peak of the bytes held by tensors during the call, from torch.profiler's
allocator events, in parameter vectors, on the same MLP: one gradient 2.4;
the linearization with its graph 3.4, and a :math:`D_1` pass through it 2.8
more): :math:`D_1` by ``torch.func.jvp(grad(E))`` 9.6, by
``torch.func.grad(jvp(E))`` 10.1, by ``torch.autograd.forward_ad`` through a
backward pass 8.6; :math:`D_2[X, X]` by three backward passes on a
linearization of its own 11.6 (4.9 gradients: 20 activation-sized tensors
alive at the last pass's peak, most of them saved by the second pass's graph
of ``tanh_backward``), by ``jvp(vjp(grad(E)))`` 15.4, ``forward_ad`` over two
backward passes 18.4, ``jvp(jvp(grad(E)))`` 20.1, ``grad(jvp(jvp(E)))`` 24.7
(``forward_ad`` levels do not nest). Recomputing instead of storing does not
help either: ``torch.utils.checkpoint`` (non-reentrant) around each
``Linear``-``Tanh`` pair takes the same :math:`D_2[X, X]` from 11.6 to 13.1
parameter vectors at 10⁶ parameters (65 to 77 at 10⁴): the peak is held by
the graphs the backward passes record, which checkpointing the forward pass
does not shorten, and the recomputation under ``create_graph`` records its
own. What divides it is fewer samples per pass: chunks (above), exact for a
loss that is a mean over samples.

dtype and device follow the point: everything is computed in the point's
dtype, on its device.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import sympy
import torch

from ..algebra.matrix_maps import check_blocks, on_block, scale_of
from ..evaluation import Backend
from .printer import elementwise_function

__all__ = ["TorchBackend", "Loss", "Linearization", "Chunked", "CHUNK"]

#: A loss: flat parameter tensor -> 0-d tensor.
Loss = Callable[[torch.Tensor], torch.Tensor]
#: Components per slice of an elementwise evaluation (32 KiB of float32; why: the module docs).
CHUNK = 1 << 13


class Chunked:
    """An elementwise function of tensors (vectors of one length, and 0-d
    tensors or numbers that broadcast) applied slice by slice into one output."""

    def __init__(self, function: Callable[..., torch.Tensor], chunk: int = CHUNK) -> None:
        self.function = function
        self.chunk = chunk

    def __call__(self, *args):
        size = max((a.numel() for a in args if isinstance(a, torch.Tensor) and a.dim() == 1), default=0)
        narrow = _narrow(args)
        if narrow is not None:  # 0-d tensors widened once, vectors slice by slice
            args = [_wide(a) if isinstance(a, torch.Tensor) and a.dim() == 0 else a for a in args]
        if size <= self.chunk:
            return self._apply(args, narrow)
        out = None
        for start in range(0, size, self.chunk):
            part = slice(start, start + self.chunk)
            value = self._apply([a[part] if isinstance(a, torch.Tensor) and a.dim() == 1 else a for a in args], narrow)
            if out is None:
                out = torch.empty(size, dtype=value.dtype, device=value.device)
            out[part] = value
        return out

    def _apply(self, args, narrow: torch.dtype | None) -> torch.Tensor:
        """The function on ``args``; with ``narrow``, computed in float64 and returned as ``narrow``."""
        if narrow is None:
            return self.function(*args)
        return self.function(*(_wide(a) if isinstance(a, torch.Tensor) else a for a in args)).to(narrow)


def _narrow(args) -> torch.dtype | None:
    """The floating dtype of the arguments when it is narrower than float64 and
    the device has float64 (MPS has not), else None: elementwise expressions are
    computed in float64 and returned in it (why: the module docs)."""
    tensors = [a for a in args if isinstance(a, torch.Tensor) and a.is_floating_point()]
    if not tensors or tensors[0].device.type == "mps":
        return None
    narrow = functools.reduce(torch.promote_types, (a.dtype for a in tensors))
    return None if narrow == torch.float64 else narrow


def _wide(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.to(torch.float64) if tensor.is_floating_point() else tensor


@dataclass(frozen=True)
class Linearization:
    r"""A loss at a point: the leaf :math:`\theta` (``requires_grad``), the value
    :math:`E_b(\theta)` and the gradient :math:`\nabla E_b(\theta)`, with its
    autograd graph if contractions will differentiate it again."""

    theta: torch.Tensor
    value: torch.Tensor
    gradient: torch.Tensor


class TorchBackend(Backend[torch.Tensor]):
    r"""Atoms of the losses ``losses`` (``None``: :math:`E`; ``b``: :math:`E_b`)
    in ``dimension`` parameters."""

    sums_parts = True

    def __init__(self, losses: Mapping[int | None, Loss], dimension: int, layout: Sequence | None = None,
                 parts: Mapping[int | None, Sequence[tuple[float, Loss]]] | None = None, shares: bool = True) -> None:
        self.losses = dict(losses)
        #: Whether the gradient and the :math:`D_1`\ s of a loss share one linearization (its kept
        #: graph); False: every contraction makes its own (chunk by chunk for a loss with :attr:`parts`).
        self.linearizes = shares
        #: ``{label: [(w_c, E_{b,c}), ...]}`` with :math:`E_b = \sum_c w_c E_{b,c}`: the losses whose
        #: contractions of their own linearization are evaluated chunk by chunk (:meth:`contract`).
        self.parts = {label: list(p) for label, p in (parts or {}).items()}
        self._dimension = int(dimension)
        #: The parameter blocks, ``(name, shape, range of positions)`` each (:meth:`Losses.layout`), or None.
        self.layout = None if layout is None else list(layout)

    @property
    def dimension(self) -> int:
        return self._dimension

    def _loss(self, loss: int | None) -> Loss:
        try:
            return self.losses[loss]
        except KeyError:
            labels = ", ".join("E" if k is None else f"E_{k}" for k in self.losses)
            raise ValueError(f"the field needs the batch loss E_{loss}, but loss_fn gives only {labels}") from None

    def linearize(self, point, loss, contracted):
        return self._linearize(self._loss(loss), point, contracted)

    @staticmethod
    def _linearize(function: Loss, point, contracted: bool) -> Linearization:
        with torch.enable_grad():
            theta = point.detach().requires_grad_(True)
            value = function(theta)
            (gradient,) = torch.autograd.grad(value, theta, create_graph=contracted, allow_unused=True,
                                              materialize_grads=True)
        return Linearization(theta, value.detach(), gradient)

    def theta(self, point):
        return point

    def grad(self, point, loss, linearization: Linearization | None = None):
        return (linearization or self.linearize(point, loss, False)).gradient.detach()

    def value(self, point, loss, linearization: Linearization | None = None):
        return (linearization or self.linearize(point, loss, False)).value

    def contract(self, point, args, loss, linearization: Linearization | None = None, release: bool = False):
        r""":math:`D_k[X_1..X_k]` by :math:`k` backward passes through ``linearization``
        (shared) or, without one, through a linearization of its own; a loss
        with :attr:`parts` then as :math:`\sum_c w_c D_k E_{b,c}[X_1..X_k]`, each
        chunk's contraction added to the first's and freed before the next."""
        if linearization is not None:
            return self._passes(point, args, linearization, release)
        total = None
        for weight, function in self.parts.get(loss) or [(1.0, self._loss(loss))]:
            value = self._passes(point, args, function, True)
            total = (value if weight == 1.0 else value.mul_(weight)) if total is None \
                else total.add_(value, alpha=weight)
            del value
        return total

    def _passes(self, point, args, source: Linearization | Loss, release: bool):
        """The backward passes of :meth:`contract` through ``source``, or through a
        linearization of the loss ``source`` made here and consumed."""
        owned = not isinstance(source, Linearization)
        if owned:
            source = self._linearize(source, point, True)
        theta, derivative = source.theta, source.gradient
        del source  # a linearization of its own: its gradient is freed after the first pass
        with torch.enable_grad():
            for k, direction in enumerate(args, start=1):
                if not derivative.requires_grad:  # the loss is polynomial of lower degree here
                    return torch.zeros_like(point)
                direction = torch.as_tensor(direction, dtype=point.dtype, device=point.device).expand_as(point)
                last = k == len(args)
                if not (last and owned):  # the direction as the output's gradient (the new graph saves views of it)
                    (derivative,) = torch.autograd.grad(derivative, theta, direction,
                                                        retain_graph=not (last and release), create_graph=not last,
                                                        allow_unused=True, materialize_grads=True)
                    continue
                # the last pass through a linearization of its own differentiates the scalar derivative .
                # direction, so that the derivative's vector, which the pass does not read, can be freed before
                # it (0.4 parameter vectors less at the peak of a chunk's D_2 on the 1e6-parameter MLP); with a
                # shared linearization, or in the passes before, the gradient of the product would be one
                # parameter vector more
                contracted = (derivative * direction).sum()
                del derivative
                (derivative,) = torch.autograd.grad(contracted, theta, allow_unused=True, materialize_grads=True)
        return derivative

    def reduce(self, x):
        return x.sum()

    def _blocks(self) -> list:
        if self.layout is None:
            raise ValueError("the field acts on parameter blocks (layers), which modeq.torch takes from the model "
                             "(modeq.torch.compile(equation, loss_fn, model=model)) or, for a loss of a flat tensor, "
                             "from params={'W1': (3, 2), 'W2': (2, 3)}")
        return self.layout

    def block_reduce(self, x):
        layout = self._blocks()
        x = torch.as_tensor(x).expand(self.dimension)
        out = torch.empty_like(x)
        for _, _, positions in layout:
            out[positions.start:positions.stop] = x[positions.start:positions.stop].sum()
        return out

    def block_size(self, point):
        return self.block_reduce(torch.ones_like(point))

    def block_scale(self, point, rule):
        out = torch.empty_like(point)
        for name, shape, positions in self._blocks():
            out[positions.start:positions.stop] = float(scale_of(rule, shape, name))
        return out

    def matrix_map(self, point, fmap, args):
        r""":math:`D^kF(X_B)[Y_B..]` on each block, computed in NumPy (float64, on the CPU;
        blocks are matrices of one layer) and returned in the point's dtype and device."""
        layout = self._blocks()
        check_blocks(layout, fmap)
        vectors = [torch.as_tensor(a).expand(self.dimension).detach().cpu().double().numpy() for a in args]
        out = np.empty(self.dimension)
        for name, shape, positions in layout:
            blocks = [v[positions.start:positions.stop].reshape(shape) for v in vectors]
            value = on_block(fmap.evaluate, name, shape, blocks)
            out[positions.start:positions.stop] = np.asarray(value, dtype=float).ravel()
        return torch.as_tensor(out, dtype=point.dtype, device=point.device)

    def time(self, t):
        return torch.tensor(super().time(t), dtype=torch.float64)

    def elementwise(self, expr: sympy.Expr, inputs: Sequence[sympy.Symbol]):
        return Chunked(elementwise_function(expr, inputs))

    def broadcast(self, value, point):
        if isinstance(value, torch.Tensor) and value.shape == point.shape:
            return value
        return torch.as_tensor(value, dtype=point.dtype, device=point.device).expand(point.shape).clone()

    def accumulate(self, total, value, coefficient, point):
        if total is None:
            return torch.mul(self.broadcast(value, point), coefficient)
        return total.add_(value, alpha=coefficient)
