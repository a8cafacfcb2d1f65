r"""User losses as checked functions of a flat parameter tensor.

A field is a function of :math:`\theta \in \mathbb{R}^p`, so every loss is
turned into ``E(theta) -> 0-d tensor``:

* a callable on a flat tensor is used as it is;
* with ``model=`` (a :class:`torch.nn.Module`), ``loss_fn(model)`` is called
  with the model's trainable parameters (``requires_grad``) replaced by views
  of :math:`\theta` (:func:`torch.func.functional_call`); frozen parameters and
  buffers stay as they are;
* a list ``[E_1, ..., E_m]`` or a dict ``{b: E_b}`` gives batch losses
  (labels 1..m) for mini-batch equations; the full loss :math:`E` is the
  ``None`` entry of the dict, or the mean of the batch losses;
* with ``data=`` the loss is declared a mean over samples: ``loss_fn(theta, *tensors)``
  (or ``loss_fn(model, *tensors)``) is the mean loss of the samples given
  (the rows of the tensors, which share their first dimension), and
  ``data`` is one tuple of tensors (the loss :math:`E`) or a list of them
  (the batch losses :math:`E_1..E_m`, :math:`E` their mean). Then every loss is
  also known in ``chunks`` parts (:attr:`Losses.parts`, contiguous slices of
  its rows, no copies): with :math:`n_c` of its :math:`n` rows in chunk :math:`c`,

  .. math:: E_b = \sum_c \frac{n_c}{n} E_{b,c}
            \quad\Longrightarrow\quad
            D_k E_b[X_1..X_k] = \sum_c \frac{n_c}{n} D_k E_{b,c}[X_1..X_k]

  (weights 1 for ``reduction="sum"``), because every atom is linear in the
  loss. The backend evaluates contractions chunk by chunk
  (:mod:`modeq.torch.backend`); :meth:`Losses.check` refuses a loss whose
  value is not the weighted sum of its chunks' values.

Bad input gets one line: a non-scalar loss, a point of the wrong shape or
dtype, no trainable parameters, a model in training mode with dropout or batch
normalization (stochastic or batch-dependent: the modified equation is for a
deterministic loss). Non-smooth operations (ReLU, max-pooling, ``abs``,
``clamp``…) are detected in the module tree and, on the first evaluation, by
watching the torch functions the loss calls (:class:`torch.overrides.TorchFunctionMode`);
they get a warning: derivatives of order ≥ 2 vanish or are undefined almost
everywhere, so the corrections :math:`f_1, f_2, \dots` mean little there.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Mapping

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ..blocks import as_blocks, block_layout

__all__ = ["Losses", "flat_parameters", "NonSmoothWarning"]

Loss = Callable[[torch.Tensor], torch.Tensor]
#: Chunks of a loss over ``data`` unless told (at most its rows): on the MLPs of ``benchmarks/torch_fields.py``
#: four bring Adam's order-2 field from 5.4-5.5 to under 4 gradients of memory at 1e4-1e6 parameters, and
#: eight gain little more (the parameter-sized tensors of a pass are then most of the peak).
DEFAULT_CHUNKS = 4
#: The reductions a loss over ``data`` may declare, and the weight of a chunk of n_c of its n rows.
REDUCTIONS: dict[str, Callable[[int, int], float]] = {"mean": lambda rows, n: rows / n, "sum": lambda rows, n: 1.0}

#: torch functions whose second derivative vanishes or is undefined almost everywhere.
NON_SMOOTH_FUNCTIONS = frozenset({
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "rrelu", "rrelu_", "prelu", "hardtanh", "hardtanh_",
    "hardswish", "hardsigmoid", "hardshrink", "softshrink", "threshold", "threshold_", "max_pool1d", "max_pool2d",
    "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", "fractional_max_pool2d",
    "fractional_max_pool3d", "abs", "abs_", "absolute", "clamp", "clamp_", "clip", "sign", "maximum", "minimum",
    "max", "min", "amax", "amin", "floor", "ceil", "round", "trunc", "l1_loss", "smooth_l1_loss", "huber_loss",
    "hinge_embedding_loss", "multi_margin_loss", "margin_ranking_loss",
})
NON_SMOOTH_MODULES = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid,
                      nn.Hardshrink, nn.Softshrink, nn.Threshold, nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d,
                      nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d, nn.L1Loss, nn.SmoothL1Loss,
                      nn.HuberLoss)


class NonSmoothWarning(UserWarning):
    """The loss uses operations without continuous second derivatives."""


def _advice(names: set[str], where: str) -> str:
    return (f"{where} uses {', '.join(sorted(names))}: derivatives of order >= 2 vanish or are undefined almost "
            "everywhere there, so the corrections f_1, f_2, ... of the modified equation mean little; "
            "use smooth activations (tanh, GELU, softplus) and average pooling")


def _stochastic(model: nn.Module) -> list[str]:
    kinds = (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._BatchNorm)
    return sorted({type(m).__name__ for m in model.modules() if isinstance(m, kinds) and m.training})


def trainable(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """The parameters that require gradients, with their names; a clear error if none."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError("the model has no parameters that require gradients (requires_grad=False everywhere); "
                         "unfreeze the parameters the optimizer trains (p.requires_grad_(True))")
    return named


def flat_parameters(model: nn.Module) -> torch.Tensor:
    r"""The trainable parameters of ``model`` as one flat tensor :math:`\theta` (a copy)."""
    return torch.cat([p.detach().reshape(-1) for _, p in trainable(model)]).clone()


class _Bound(nn.Module):
    """``loss_fn(model)`` as a module, so :func:`torch.func.functional_call` can swap parameters."""

    def __init__(self, model: nn.Module, loss_fn: Callable[[nn.Module], torch.Tensor]) -> None:
        super().__init__()
        self.model = model
        self.loss_fn = loss_fn

    def forward(self) -> torch.Tensor:
        return self.loss_fn(self.model)


class _ModelLoss:
    r""":math:`\theta \mapsto` ``loss_fn(model)`` with the trainable parameters taken from :math:`\theta`."""

    def __init__(self, model: nn.Module, loss_fn: Callable[[nn.Module], torch.Tensor]) -> None:
        named = trainable(model)
        self.bound = _Bound(model, loss_fn)
        self.names = ["model." + n for n, _ in named]
        self.shapes = [p.shape for _, p in named]
        self.sizes = [p.numel() for _, p in named]

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        pieces = torch.split(theta, self.sizes)
        params = {n: t.view(s) for n, t, s in zip(self.names, pieces, self.shapes)}
        return torch.func.functional_call(self.bound, params, ())


class _Watch(TorchFunctionMode):
    """Records the names of the torch functions called."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.names.add(getattr(func, "__name__", ""))
        return func(*args, **(kwargs or {}))


def _rows(entry: Any, what: str) -> tuple[torch.Tensor, ...]:
    """One batch of ``data``: a tensor or a tuple of tensors whose rows (first dimension) are its samples."""
    rows = (entry,) if isinstance(entry, torch.Tensor) else entry
    if not isinstance(rows, tuple) or not rows or not all(isinstance(t, torch.Tensor) for t in rows):
        raise TypeError(f"{what} must be a tensor or a tuple of tensors (X, y) whose rows are the samples, "
                        f"got {type(entry).__name__}")
    sizes = {t.shape[0] if t.dim() else None for t in rows}
    if None in sizes or len(sizes) > 1 or 0 in sizes:
        raise ValueError(f"the tensors of {what} must share their first dimension (one row per sample, at least "
                         f"one), got shapes {[tuple(t.shape) for t in rows]}")
    return rows


def _batches(data: Any) -> list[tuple[torch.Tensor, ...]]:
    """``data`` as a list of batches of rows: a list of them, or one."""
    if not isinstance(data, list):
        return [_rows(data, "data")]
    if not data:
        raise ValueError("data is an empty list; give a tuple of tensors (X, y) or a list of them (batches)")
    return [_rows(entry, f"data[{b}]") for b, entry in enumerate(data)]


def _on(loss_fn: Callable[..., torch.Tensor], rows: tuple[torch.Tensor, ...]) -> Callable[[Any], torch.Tensor]:
    """``loss_fn`` on the samples ``rows``: a function of the parameters (or the model) alone."""
    return lambda parameters: loss_fn(parameters, *rows)


class Losses:
    r"""The losses of a field: ``None`` → :math:`E`, ``b`` → :math:`E_b`, all
    functions of a flat tensor, with the model's metadata (size, dtype) when
    there is a model."""

    def __init__(self, loss_fn: Any, model: nn.Module | None = None, params: Any = None, data: Any = None,
                 chunks: int | None = None, reduction: str = "mean") -> None:
        self.model = model
        self.dimension: int | None = None
        self.dtype: torch.dtype | None = None
        #: The parameter blocks ``(name, shape, range of positions)``: the model's
        #: trainable tensors, or the blocks of ``params``; None for a flat loss without them.
        self.layout: list | None = None
        if params is not None:
            if model is not None:
                raise ValueError("the model's parameters are the blocks; give params only for a loss of a flat tensor")
            self.layout = [(name, shape, range(positions[0], positions[-1] + 1))
                           for name, shape, positions in block_layout(as_blocks(params).params)]
            self.dimension = self.layout[-1][2].stop
        if model is not None:
            named = trainable(model)
            self.layout, start = [], 0
            for name, p in named:
                self.layout.append((name, tuple(p.shape), range(start, start + p.numel())))
                start += p.numel()
            stochastic = _stochastic(model)
            if stochastic:
                raise ValueError(
                    f"the model is in training mode with {', '.join(stochastic)} (random or batch-dependent: the loss "
                    "is not one deterministic function of the parameters); call model.eval() first")
            self.dimension = sum(p.numel() for _, p in named)
            dtypes = {p.dtype for _, p in named}
            if len(dtypes) > 1:
                raise ValueError(f"the model's trainable parameters mix dtypes {sorted(map(str, dtypes))}; "
                                 "convert the model to one dtype (model.double() or model.float())")
            self.dtype = dtypes.pop()
            modules = sorted({type(m).__name__ for m in model.modules() if isinstance(m, NON_SMOOTH_MODULES)})
            if modules:
                warnings.warn(_advice(set(modules), "the model"), NonSmoothWarning, stacklevel=3)
        batches = None if data is None else _batches(data)
        if chunks is None:  # DEFAULT_CHUNKS for a loss over data (at most its smallest batch's rows), else whole
            chunks = 1 if batches is None else min(DEFAULT_CHUNKS, *(rows[0].shape[0] for rows in batches))
        if isinstance(chunks, bool) or not isinstance(chunks, int) or chunks < 1:
            raise ValueError(f"chunks must be a whole number >= 1, got {chunks!r}")
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be 'mean' or 'sum' (how loss_fn reduces over the samples given), "
                             f"got {reduction!r}")
        #: The number of parts each loss over ``data`` is evaluated in (1: whole).
        self.chunks = chunks
        #: ``{label: [(weight, E_{b,c}), ...]}``: each loss over ``data`` as the weighted sum of
        #: its chunks' losses (empty without ``data``, or with one chunk).
        self.parts: dict[int | None, list[tuple[float, Loss]]] = {}
        if batches is None:
            if chunks != 1:
                raise ValueError(f"chunks={chunks} evaluates the loss over parts of its samples, so the loss must be "
                                 "declared a mean over samples: give data=(X, y) (tensors whose rows are the samples) "
                                 "and loss_fn(model, X, y) (or loss_fn(theta, X, y)) returning the mean loss of the "
                                 "rows given")
            self.functions: dict[int | None, Loss] = self._normalize(loss_fn)
        else:
            self.functions = self._over_data(loss_fn, batches, reduction)
        self._checked: set[tuple] = set()

    def _wrap(self, fn: Any, what: str) -> Loss:
        if not callable(fn):
            raise TypeError(f"{what} must be a function of the parameters returning a scalar tensor, "
                            f"got {type(fn).__name__}")
        return _ModelLoss(self.model, fn) if self.model is not None else fn

    def _over_data(self, loss_fn: Any, batches: list[tuple[torch.Tensor, ...]], reduction: str
                   ) -> dict[int | None, Loss]:
        """The losses of ``loss_fn`` over the ``batches`` of data, and their :attr:`parts`."""
        if not callable(loss_fn):
            raise TypeError("with data, loss_fn is one function of the parameters and the data (loss_fn(model, X, y) "
                            f"or loss_fn(theta, X, y)), got {type(loss_fn).__name__}; batches are the entries of a "
                            "list data=[(X1, y1), (X2, y2)]")
        smallest = min(rows[0].shape[0] for rows in batches)
        if self.chunks > smallest:
            raise ValueError(f"chunks={self.chunks} is more than the {smallest} samples of the smallest batch of data")
        weight = REDUCTIONS[reduction]
        labels: list[int | None] = [None] if len(batches) == 1 else list(range(1, len(batches) + 1))
        functions: dict[int | None, Loss] = {}
        for label, rows in zip(labels, batches):
            functions[label] = self._wrap(_on(loss_fn, rows), "loss_fn")
            n = rows[0].shape[0]
            split = list(zip(*(torch.tensor_split(t, self.chunks) for t in rows)))
            self.parts[label] = [(weight(part[0].shape[0], n), self._wrap(_on(loss_fn, part), "loss_fn"))
                                 for part in split]
        if len(batches) > 1:
            batch_losses = [functions[b] for b in labels]
            functions[None] = lambda theta: sum(E(theta) for E in batch_losses) / len(batch_losses)
            self.parts[None] = [(w / len(batches), E) for b in labels for w, E in self.parts[b]]
        if self.chunks == 1:
            self.parts = {}
        return functions

    def _normalize(self, loss_fn: Any) -> dict[int | None, Loss]:
        if isinstance(loss_fn, Mapping):
            if not loss_fn or not all(k is None or (isinstance(k, int) and not isinstance(k, bool) and k >= 1)
                                      for k in loss_fn):
                raise ValueError("a dict loss_fn maps batch labels 1, 2, ... (and None for the full loss) "
                                 f"to losses, got the keys {list(loss_fn)}")
            functions = {k: self._wrap(v, f"loss_fn[{k!r}]") for k, v in loss_fn.items()}
        elif isinstance(loss_fn, (list, tuple)):
            if not loss_fn:
                raise ValueError("loss_fn is an empty list; give a loss or a list of batch losses")
            functions = {b: self._wrap(v, f"loss_fn[{b - 1}]") for b, v in enumerate(loss_fn, start=1)}
        else:
            return {None: self._wrap(loss_fn, "loss_fn")}
        if None not in functions:
            batches = [functions[k] for k in sorted(k for k in functions if k is not None)]
            functions[None] = lambda theta: sum(E(theta) for E in batches) / len(batches)
        return functions

    def point(self, theta: Any, what: str = "theta") -> torch.Tensor:
        r"""``theta`` checked: a 1-D floating tensor of the right size and dtype."""
        if not isinstance(theta, torch.Tensor):
            raise TypeError(f"{what} must be a torch tensor (a flat parameter vector), got {type(theta).__name__}")
        if theta.dim() != 1:
            raise ValueError(f"{what} must be a flat (1-D) parameter tensor, got shape {tuple(theta.shape)}")
        if not theta.dtype.is_floating_point:
            raise ValueError(f"{what} must have a floating dtype (torch.float64 or torch.float32), got {theta.dtype}")
        if self.dimension is not None and theta.numel() != self.dimension:
            source = "the model has" if self.model is not None else "the blocks of params have"
            advice = "; use modeq.torch.flat_parameters(model)" if self.model is not None else ""
            raise ValueError(f"{what} has {theta.numel()} values, but {source} {self.dimension} trainable "
                             f"parameters{advice}")
        if self.dtype is not None and theta.dtype != self.dtype:
            raise ValueError(f"{what} has dtype {theta.dtype} but the model's parameters are {self.dtype}; "
                             f"convert one of them (theta.to({self.dtype}) or model.to({theta.dtype}))")
        return theta

    def check(self, theta: torch.Tensor, smooth_needed: bool) -> None:
        """Evaluate every loss once at ``theta`` (first use per dtype, device and
        size): a scalar finite value, and a warning for non-smooth functions."""
        key = (theta.dtype, theta.device, theta.numel())
        if key in self._checked:
            return
        watch = _Watch()
        for label, fn in self.functions.items():
            name = "loss_fn" if label is None else f"the batch loss {label}"
            with torch.no_grad(), watch:
                try:
                    value = fn(theta.detach())
                except RuntimeError as error:
                    first = str(error).strip().splitlines()[0]
                    raise ValueError(f"{name} failed at a parameter vector of size {theta.numel()} and dtype "
                                     f"{theta.dtype}: {first}") from None
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"{name} must return a torch tensor, got {type(value).__name__}")
            if value.dim() != 0:
                raise ValueError(f"{name} must return a scalar (a 0-d tensor), got shape {tuple(value.shape)}; "
                                 "reduce it, e.g. with .mean()")
            if not value.dtype.is_floating_point:
                raise ValueError(f"{name} must return a floating tensor, got {value.dtype}")
            if not math.isfinite(float(value)):
                raise ValueError(f"{name} is not finite at the given parameters ({float(value)})")
        for label, parts in self.parts.items():
            self._check_parts(label, parts, theta)
        found = watch.names & NON_SMOOTH_FUNCTIONS
        if found and smooth_needed:
            warnings.warn(_advice(found, "loss_fn"), NonSmoothWarning, stacklevel=4)
        self._checked.add(key)

    def _check_parts(self, label: int | None, parts: list[tuple[float, Loss]], theta: torch.Tensor) -> None:
        """Refuse a loss over ``data`` whose value is not the weighted sum of its chunks' values."""
        with torch.no_grad():
            whole = float(self.functions[label](theta.detach()))
            terms = [weight * float(E(theta.detach())) for weight, E in parts]
        scale = abs(whole) + sum(abs(x) for x in terms)
        if abs(whole - sum(terms)) > 64 * torch.finfo(theta.dtype).eps * max(scale, 1e-30):
            name = "loss_fn" if label is None else f"the batch loss {label}"
            raise ValueError(f"{name} over data is {whole:.10g}, but over its {len(parts)} chunks it sums to "
                             f"{sum(terms):.10g}: with chunks, loss_fn must be the mean of per-sample losses over the "
                             "rows given (reduction='mean') or their sum (reduction='sum'), without batch statistics")
