r"""``modeq.torch.verify``: a modified equation against ``torch.optim``'s own iterates.

The same study and report as :func:`modeq.verify`
(:class:`~modeq.numerics.report.VerificationReport`), on a torch loss:

* the discrete iterates are ``torch.optim``'s (``SGD`` with momentum and
  Nesterov, ``Adam``, ``AdamW``, ``RMSprop``) with ``lr = h``, run on one
  flat parameter tensor; the optimizer's description, hyperparameter values
  and step size come from :func:`modeq.optimizers.torch.from_torch`, and the
  modified equation is derived from that description;
* the modified field is evaluated by automatic differentiation
  (:func:`modeq.torch.compile`) and integrated by the fixed-step DOP853 scheme
  of :mod:`modeq.torch.integrate`;
* methods: ``"global"`` (from :math:`\theta_0` with empty buffers),
  ``"history"`` (buffers set to their values on the modified trajectory,
  :mod:`modeq.torch.history` — the default for optimizers with memory) and
  ``"defect"`` (one step from that state against the flow over :math:`h`,
  :math:`O(h^{N+2})`).

The history is sampled on the flow of the *highest* truncation
:math:`f^{[N]}` and the optimizer is run once per step size; every
truncation :math:`N' \le N` is compared with that one run. (The compiled
path samples the history on each :math:`f^{[N']}`.) The optimizer's true past
lies on the exact modified trajectory, which :math:`f^{[N]}` follows to
:math:`O(h^{N+1})`, so this start is at least as consistent for every
:math:`N'`, and on a network, where the backward integration costs most, it
is done once instead of :math:`N+1` times.

**Where the expansion holds.** The terms :math:`f_k` are an expansion in
:math:`h` at fixed :math:`\theta` and hyperparameters, so a truncation
approximates the iterates only where :math:`h^k f_k` decreases with
:math:`k`. :func:`series_growth` measures that at :math:`\theta_0` (the root
test :math:`\max_k (h^k\|f_k\|_\infty/\|f_0\|_\infty)^{1/k}`, one field
evaluation); a step size where it is :math:`\ge 1` is not run and its errors
are ``inf`` (status FIELD BLOWS UP). It is a necessary condition at one point,
not a guarantee along the path. For Adam and RMSprop the terms grow like
:math:`a_j^k`, :math:`a_j = h\,\frac{\rho}{1-\rho}\,|\tfrac{d}{dt}\nabla_j E| / R_j`
with :math:`R_j = |\nabla_j E| + \varepsilon` (torch, ε outside the root) or
:math:`\sqrt{(\nabla_j E)^2+\varepsilon}` (the paper's form): the moving
average of :math:`g_j^2` over the last :math:`\sim 1/(1-\rho)` steps is expanded
around :math:`g_j^2`, which is right only while :math:`g_j` changes by less
than :math:`R_j` within that memory. With :math:`\varepsilon = 10^{-8}` a
coordinate whose gradient is near zero (on a network there are always some)
violates it; there the modified equation describes Adam only for step sizes
:math:`h \ll (1-\rho)R_j/|\dot g_j|`. (Where it is violated the modified flow
also turns stiff, with rate :math:`|\dot g_j|/\varepsilon`, while Adam's own
:math:`\sqrt{v_j}` stays of size :math:`h|\dot g_j|/(1-\rho)`: the divergence
of the backward flow seen on networks.)

On a network a field evaluation costs several gradients, so the global error
is measured at ``checkpoints`` equally spaced grid times :math:`n_j h`
(:math:`n_j = j\,\mathrm{steps}/C`) rather than at every step: the maximum
over those points. The integrator's step is refined (:math:`\delta \to
\delta/2`) wherever an error is above the rounding level, until the flow moves
by less than 1% of the error (at most 8x); the report gives the worst
remaining ratio.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from ..numerics.report import VerificationReport, assess, classify, refine
from ..solver import check_order, derive
from .field import TorchField, compile
from .history import Buffer, buffers, gauss_nodes, install, torch_gradient
from .integrate import flow
from .losses import flat_parameters

__all__ = ["verify", "default_step_sizes", "series_growth"]

#: An iterate this much larger than the start counts as diverged.
EXPLODED = 1e6
#: torch hyperparameters that are decay rates (they bound the default step sizes).
DECAYS = ("beta1", "beta2", "alpha", "momentum")
#: Halvings of the integrator's step when refining.
REFINEMENTS = 3
#: Starts with more parameters are summarized in a note instead of printed.
SHOWN = 10
#: ``torch.optim`` classes that ``from_torch`` describes but this study does not run, and why.
NOT_RUN = {
    "Adagrad": "its sum of squares is a slow state beside theta (step size h = lr**2), whose flow this study does "
               "not integrate (modeq.torch.compile evaluates the field of (theta, V)); verify modeq's adagrad with "
               "modeq.verify",
    "NAdam": "its momentum schedule runs per step (momentum_decay per step; the modified equation needs the rate "
             "per unit time momentum_decay/lr, a different field for every lr, and a start at step k with its "
             "product of momenta); verify modeq's nadam with modeq.verify",
}


#: ``torch.optim`` classes refused before a probe instance is made (their constructor rejects the probe's vector).
NOT_RUN_BEFORE_PROBE = {
    "Muon": "it acts on matrix blocks (this study runs one flat parameter tensor) and computes its Newton-Schulz "
            "steps in bfloat16, a relative error of about 4e-3 per step, far above the corrections a verification "
            "measures; verify modeq's muon with modeq.verify(muon, loss, params={'W1': (3, 2), ...}) (its iterates "
            "equal torch.optim.Muon's without that cast to 1e-12, tests/reference), and evaluate its field on a "
            "model with modeq.torch.compile",
}


def default_step_sizes(decays: Sequence[float], count: int = 4) -> tuple[float, ...]:
    r""":math:`h_0 2^{-k}` with :math:`h_0 = \min(0.05, (1-d)/20)` over the decays
    (DESIGN.md §1.6: :math:`h \ll 1-\beta`)."""
    h0 = min([0.05] + [(1 - d) / 20 for d in decays if 0 < d < 1])
    return tuple(h0 * 0.5**k for k in range(count))


def _describe(optimizer: Any, values: Mapping[str, Any]):
    from ..optimizers.torch import from_torch

    if not (isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer)):
        raise TypeError(f"optimizer must be a torch.optim optimizer class (e.g. torch.optim.Adam), got {optimizer!r}")
    if "lr" in values:
        raise ValueError("the learning rate is the step size h: give the step sizes as hs=..., not values['lr']")
    if optimizer.__name__ in NOT_RUN_BEFORE_PROBE:
        raise ValueError(f"torch.optim.{optimizer.__name__} is not run by this study: {NOT_RUN_BEFORE_PROBE[optimizer.__name__]}")
    try:
        probe = optimizer([torch.zeros(1, requires_grad=True)], lr=1.0, **values)
    except TypeError as error:
        raise ValueError(f"torch.optim.{optimizer.__name__} does not accept values {dict(values)}: {error}") from None
    settings = {k: v for k, v in probe.param_groups[0].items() if k != "params"}
    return from_torch(probe), settings


def _check_hs(hs: Sequence[float], T: float) -> tuple[float, ...]:
    hs = tuple(float(h) for h in hs)
    if len(hs) < 3:
        raise ValueError(f"give at least 3 step sizes to fit a slope, got {len(hs)}")
    if not all(math.isfinite(h) and 0 < h <= T for h in hs) or len(set(hs)) != len(hs):
        raise ValueError(f"step sizes must be distinct, positive and at most T = {T}, got {hs}")
    return tuple(sorted(hs, reverse=True))


class _Study:
    """One verification: the loss, the field, the optimizer class and its settings."""

    def __init__(self, field: TorchField, optimizer: type, values: Mapping[str, Any], settings: Mapping[str, Any],
                 max_step: float) -> None:
        self.field = field
        self.loss = field.losses.functions[None]
        self.optimizer = optimizer
        self.values = dict(values)
        self.settings = settings
        self.max_step = max_step
        self.gradient = torch.func.grad(self.loss)

    def iterates(self, theta0: torch.Tensor, h: float, steps: Sequence[int], state: Mapping[str, torch.Tensor] | None):
        """``torch.optim``'s iterates at the given step counts (from ``theta0``,
        with the buffers ``state`` installed first if given)."""
        theta = theta0.detach().clone().requires_grad_(True)
        optimizer = self.optimizer([theta], lr=h, **self.values)
        if state is not None:
            install(optimizer, theta, state)
        out, wanted = [], set(steps)
        for n in range(1, max(steps) + 1):
            theta.grad = self.gradient(theta.detach())
            optimizer.step()
            if n in wanted:
                out.append(theta.detach().clone())
        return out

    def state(self, theta0: torch.Tensor, h: float, order: int, needed: Sequence[Buffer]) -> dict[str, torch.Tensor]:
        r"""The buffers on the modified trajectory of :math:`f^{[order]}` through :math:`\theta_0`."""
        field = lambda theta, t: self.field(theta, h, order, t)  # noqa: E731
        quadratures = {b.decay: gauss_nodes(b.decay) for b in needed}
        times = sorted({-float(k) * h for nodes, _ in quadratures.values() for k in nodes}, reverse=True)
        past = dict(zip(times, flow(field, theta0, times, self.max_step)))
        if not all(bool(torch.isfinite(p).all()) for p in past.values()):
            raise ValueError("the modified flow run backwards to fill the optimizer's buffers left the finite range; "
                             "use smaller step sizes or another starting point")
        gradient = torch_gradient(self.gradient, self.optimizer.__name__, self.settings)
        grads = {t: gradient(p) for t, p in past.items()}
        state = {}
        for b in needed:
            nodes, weights = quadratures[b.decay]
            total = sum(float(w) * b.quantity(grads[-float(k) * h]) for k, w in zip(nodes, weights))
            state[b.name] = (b.weight / (1 - b.decay)) * total
        return state

    def flow(self, theta0, h, order, times, max_step):
        return flow(lambda theta, t: self.field(theta, h, order, t), theta0, times, max_step)


def series_growth(terms: Sequence[torch.Tensor], hs: Sequence[float]) -> list[float]:
    r""":math:`\max_{k\ge1} (h^k\|f_k\|_\infty / \|f_0\|_\infty)^{1/k}` per step size :math:`h`:
    the root test on the modified field's terms at one point (0 when there is
    one term or :math:`f_0 = 0`). A value :math:`\ge 1` means that some term is as
    large as the leading one, so no truncation is an approximation there."""
    sizes = [float(t.abs().max()) for t in terms]
    if len(sizes) < 2 or sizes[0] == 0:
        return [0.0 for _ in hs]
    return [max((h**k * s / sizes[0]) ** (1 / k) for k, s in enumerate(sizes[1:], start=1)) for h in hs]


def _distance(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> float:
    """The largest coordinate difference over the compared times (``inf`` if either is not finite)."""
    d = max(float((u - v).abs().max()) for u, v in zip(a, b))
    return d if math.isfinite(d) else np.inf


def verify(
    optimizer: type,
    loss_fn: Any,
    theta0: torch.Tensor | None = None,
    order: int = 1,
    values: Mapping[str, Any] | None = None,
    hs: Sequence[float] | None = None,
    T: float = 1.0,
    model: nn.Module | None = None,
    method: str = "auto",
    checkpoints: int = 4,
    max_step: float = 0.05,
    tolerance: float = 0.3,
    progress: Callable[[int, int], None] | None = None,
    data: Any = None,
    chunks: int | None = None,
) -> VerificationReport:
    r"""Check the modified equation of the ``torch.optim`` class ``optimizer``
    (its keyword arguments ``values``, without ``lr``) to ``order`` against its
    iterates on ``loss_fn`` from ``theta0``.

    ``loss_fn``, ``model``, ``data`` and ``chunks`` are as in
    :func:`modeq.torch.compile` (with a model, ``theta0`` defaults to its
    trainable parameters; with ``data``, the optimizer steps on the loss over
    all of it, full batch); ``hs`` are the
    learning rates (default :func:`default_step_sizes`); ``T`` the time
    :math:`nh` compared; ``max_step`` the integrator's largest step."""
    order = check_order(order)
    if not (isinstance(T, (int, float)) and math.isfinite(T) and T > 0):
        raise ValueError(f"the time T must be a positive number, got {T!r}")
    if isinstance(checkpoints, bool) or not isinstance(checkpoints, int) or checkpoints < 1:
        raise ValueError(f"checkpoints must be a whole number >= 1, got {checkpoints!r}")
    values = dict(values or {})
    mapping, settings = _describe(optimizer, values)
    if optimizer.__name__ in NOT_RUN:
        raise ValueError(f"modeq.torch.verify does not run torch.optim.{optimizer.__name__}: {NOT_RUN[optimizer.__name__]}")
    if method not in ("auto", "global", "history", "defect"):
        raise ValueError(f"unknown method {method!r}; use auto, global, history or defect")
    try:
        needed = buffers(optimizer.__name__, settings)
    except ValueError:
        if method in ("history", "defect"):
            raise
        needed = None  # memory without a history-consistent start: the global error only
    memory = needed is None or bool(needed)
    if method == "auto":
        method = "history" if needed else "global"
    equation = derive(mapping.optimizer, order=order, values=mapping.values)
    field = compile(equation, loss_fn, model=model, data=data, chunks=chunks)
    if theta0 is None:
        if model is None:
            raise ValueError("give theta0 (a flat parameter tensor), or a model whose parameters are the start")
        theta0 = flat_parameters(model)
    start = field.losses.point(theta0, "theta0").detach()
    field.losses.check(start, smooth_needed=order > 0)
    decays = [b.decay for b in needed or ()] + [float(v) for k, v in mapping.values.items() if k in DECAYS]
    hs = _check_hs(hs if hs is not None else default_step_sizes(decays), T)
    study = _Study(field, optimizer, values, settings, max_step)
    eps = float(torch.finfo(start.dtype).eps)

    shape = (order + 1, len(hs))
    errors, floors, scales = np.full(shape, np.nan), np.zeros(shape), np.ones(shape)
    ratios, diverged = np.zeros(shape), np.zeros(shape, dtype=bool)
    notes: list[str] = []
    total, done = (order + 1) * len(hs), 0
    growth = series_growth(field.terms(start), hs)
    if order > 0:
        notes.append("terms at theta0: max_k (h^k |f_k| / |f_0|)^(1/k) = "
                     + ", ".join(f"{g:.2g}" for g in growth) + f" at h = {', '.join(f'{h:.3g}' for h in hs)}")
    for i, h in enumerate(hs):
        steps = 1 if method == "defect" else max(1, round(T / h))
        marks = sorted({max(1, round(steps * j / checkpoints)) for j in range(1, checkpoints + 1)})
        times = [n * h for n in marks]
        if growth[i] >= 1:
            errors[:, i] = np.inf
            notes.append(f"h = {h:.3g}: the terms do not decrease at theta0 (h^k |f_k| reaches |f_0|): no expansion "
                         "in h holds at this step size, so it was not run; for Adam and RMSprop this means that "
                         "some gradient components change by their own size (or by eps) within the moving "
                         "averages' memory h/(1-beta2)")
            done += order + 1
            if progress is not None:
                progress(done, total)
            continue
        try:
            state = study.state(start, h, order, needed) if method != "global" else None
        except ValueError as error:
            notes.append(f"h = {h:.3g}: {error}")
            diverged[:, i] = True
            done += order + 1
            continue
        iterates = study.iterates(start, h, marks, state)
        finite = all(bool(torch.isfinite(x).all()) for x in iterates)
        size = max(float(x.abs().max()) for x in iterates) if finite else 0.0
        exploded = not finite or size > EXPLODED * (1 + float(start.abs().max()))
        for k in range(order + 1):
            done += 1
            scales[k, i] = max(size, float(start.abs().max()), np.finfo(float).tiny)
            floors[k, i] = 64 * eps * scales[k, i] * math.sqrt(steps)
            if exploded:
                diverged[k, i] = True
                notes.append(f"order {k}, h = {h:.3g}: the optimizer's iterates diverged "
                             f"(non-finite or > {EXPLODED:g} x |theta0|)")
            else:
                step = min(max_step, times[0])
                curve = study.flow(start, h, k, times, step)
                if not all(bool(torch.isfinite(x).all()) for x in curve):
                    errors[k, i] = np.inf
                    notes.append(f"order {k}, h = {h:.3g}: the modified flow left the finite range")
                else:
                    errors[k, i], ratios[k, i] = refine(
                        lambda r: study.flow(start, h, k, times, step / 2**r), curve, _distance(iterates, curve),
                        floors[k, i], _distance, lambda c: _distance(iterates, c), REFINEMENTS)
            if progress is not None:
                progress(done, total)
    shift = 2 if method == "defect" else 1
    results = []
    for k in range(order + 1):
        reasons = classify(errors[k], floors[k], scales[k], ratios[k], diverged[k])
        results.append(assess(k, k + shift, hs, errors[k], reasons, tolerance))
    integration = max([ratios[k, i] for k, r in enumerate(results) for i, u in enumerate(r.usable) if u], default=0.0)
    if method != "global":
        notes.append(f"start: torch.optim's buffers ({', '.join(b.name for b in needed)}) set to their sums over the "
                     f"past iterates on the backward flow of f^[{order}], by Gauss quadrature (modeq.torch.history)")
    if memory and method == "global":
        notes.append("note: started with empty buffers, the stationary field has an O(h^2) transient "
                     "(use method='history')")
    if start.numel() > SHOWN:
        notes.append(f"theta0: {start.numel()} parameters, max |theta0_j| = {float(start.abs().max()):.3g}")
    shown = tuple(float(x) for x in start) if start.numel() <= SHOWN else ()
    return VerificationReport(f"torch.optim.{optimizer.__name__}", "stationary", method, dict(mapping.values), shown,
                              float(T), hs, tuple(results), tolerance, integration, tuple(dict.fromkeys(notes)))
