r"""``torch.optim``'s optimizers in modeq's description language.

Each entry has ``torch.optim``'s parameter names and defaults and reproduces
its iterates (the tests compare with ``torch.optim`` itself, in float64, to
1e-12 over 100 steps). The learning rate is the step size: with ``h = lr``
every entry is written :math:`\theta_{n+1} = \theta_n + hU_n`, and since each
of these optimizers moves the parameters by ``-lr`` times its direction,
:math:`U_n` is minus that direction. Tensor-valued hyperparameters are numbers
here. ``torch``'s ``betas=(b1, b2)`` pair becomes two hyperparameters
``beta1``, ``beta2``; flags that change the form of the update (``nesterov``,
``centered``, ``maximize``, ...) are options: ``SGD(nesterov=True)``.
``foreach``, ``fused``, ``capturable`` and ``differentiable`` choose an
implementation, not the update, and have no counterpart.

With :math:`g_n = \pm\nabla E(\theta_n) + \lambda\theta_n` (``-`` with
``maximize=True``; :math:`\lambda` = ``weight_decay``, as torch adds it to the
gradient):

``SGD(momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False)``
    torch's buffer :math:`b_1 = g_0`, :math:`b_{n+1} = \mu b_n + g_n` is
    :math:`b_{n+1} = m_{n+1}/(1-\mu)` with modeq's
    :math:`m_{n+1} = \mu m_n + (1-\mu)g_n`, :math:`m_0 = 0` (``ema``), exactly;
    :math:`U_n = -b_{n+1}`, or :math:`-(g_n + \mu b_{n+1})` with ``nesterov``.
    ``dampening`` :math:`\tau \ne 0` is refused: torch starts the buffer at
    :math:`g_0`, not at :math:`(1-\tau)g_0`, and that first step is a special
    case the language cannot state yet (an indicator of step 0 written with
    ``lag`` is lost by the exact regime).
``Adam(beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0, amsgrad=False, maximize=False, decoupled_weight_decay=False)``
    :math:`U_n = -\hat m_{n+1}/(\sqrt{\hat v_{n+1}} + \varepsilon)` with ε
    *outside* the root and the bias corrections :math:`1-\beta^{n+1}` (torch's
    step counter starts at 1 after the first update of the moments);
    ``decoupled_weight_decay`` moves :math:`\lambda\theta_n` from :math:`g_n`
    to :math:`U_n` (that is ``AdamW``). ``amsgrad=True`` is refused: it
    normalizes by the running maximum :math:`\max_{k\le n} v_k`, which is not
    smooth and has no expansion in :math:`h`.
``AdamW(..., weight_decay=1e-2)``
    torch multiplies :math:`\theta_n` by :math:`1-h\lambda` before the Adam
    step: :math:`U_n = -\hat m_{n+1}/(\sqrt{\hat v_{n+1}}+\varepsilon) - \lambda\theta_n`.
``RMSprop(alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, maximize=False)``
    :math:`v_{n+1} = \alpha v_n + (1-\alpha)g_n^2`, with ``centered``
    :math:`\bar g_{n+1} = \alpha\bar g_n + (1-\alpha)g_n` and
    :math:`v \to v - \bar g^2`; :math:`d_n = g_n/(\sqrt{v_{n+1}} + \varepsilon)`
    (no bias correction, ε outside); with ``momentum`` :math:`\mu` torch's
    buffer :math:`b_{n+1} = \mu b_n + d_n`, :math:`b_0 = 0`, is
    ``ema(d, mu)/(1-mu)``; :math:`U_n = -b_{n+1}`. ``centered=True`` gives
    torch's iterates but no modified equation: on the modified trajectory of a
    full-batch loss :math:`v - \bar g^2` is the variance of a slowly drifting
    gradient, :math:`O(h^2)`, so the root has no expansion around it and
    ``derive`` refuses it (AdaBelief's belief is the same variance, kept away
    from zero by the ε it adds at every step).

``Adagrad(lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, maximize=False)``
    torch's sum :math:`S_{n+1} = S_n + g_n^2` grows without bound, so with
    :math:`h` = ``lr`` its increment is :math:`O(1)`: no modified equation in
    that scaling. The step size is therefore :math:`h = \mathrm{lr}^2` and the
    state :math:`V = hS` (a *slow* state, :math:`V_{n+1} = V_n + h g_n^2`,
    :math:`V_0 = h\,S_0`): :math:`\mathrm{lr}\,g/(\sqrt{S}+\varepsilon)
    = h\,g/(\sqrt{V} + \sqrt{h}\,\varepsilon)`, so
    :math:`U_n = -g_n/(\sqrt{V_{n+1}} + \sqrt{h}\,\varepsilon)`, and
    :func:`from_torch` returns ``h = lr**2``. ``lr_decay`` (the step size
    :math:`\mathrm{lr}/(1 + n\,\mathrm{lr\_decay})`, a schedule in :math:`n`)
    is refused unless 0.

``NAdam(beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0, momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False)``
    step :math:`k = n+1` weighs :math:`g_n` by :math:`(1-\mu_k)/(1-P_k)` and
    the momentum by :math:`\mu_{k+1}/(1-P_{k+1})`, with
    :math:`\mu_k = \beta_1(1-\tfrac12 0.96^{k\psi})` and
    :math:`P_k = \prod_{i\le k}\mu_i` (:func:`modeq.optimizers.timed.nadam_direction`).
    Written per step, :math:`k\psi = \psi (t+h)/h`, as torch does: the
    iterates are torch's, but the schedule has no expansion in :math:`h`
    (``derive`` says the update is not :math:`O(1)`). Its modified equation is
    that of :func:`modeq.optimizers.nadam` with ``momentum_decay`` =
    :math:`\psi/h`, the same iterates at that :math:`h` (see its docstring for
    why the rate per unit time is the one to hold fixed).

Not here: ``Adam(amsgrad=True)`` (running maximum, see above), and ``RAdam``: its rectification
:math:`r_k = \sqrt{(\rho_k-4)(\rho_k-2)\rho_\infty/((\rho_\infty-4)(\rho_\infty-2)\rho_k)}`
is used only once :math:`\rho_k > 5` (plain momentum steps before), a
threshold in the step count that no smooth description states (a
``Piecewise`` in :math:`n`); and on the time scale of training it is
invisible: :math:`\rho_\infty - \rho_k = 2k\beta_2^k/(1-\beta_2^k)` is
beyond all orders in :math:`h` at a fixed :math:`t = kh > 0`, so RAdam's
modified equation in the stationary regime is Adam's
(``Adam`` here, :math:`r_k \to 1`).

**modeq's built-ins follow the papers, not torch.** How they relate (the
identities are tested against ``torch.optim`` in ``tests/reference``):

* ``adam(eps_inside=False)`` with ``beta = beta1``, ``rho = beta2`` *is*
  ``torch.optim.Adam``; the default ``adam`` (``eps_inside=True``,
  :math:`\hat m/\sqrt{\hat v + \varepsilon}`, "On the Implicit Bias of Adam")
  differs in where ε sits.
* ``adamw(eps_inside=False)`` *is* ``torch.optim.AdamW``;
  ``rmsprop(eps_inside=False)`` with ``rho = alpha`` *is*
  ``torch.optim.RMSprop`` (no momentum, not centered).
* ``heavy_ball`` (Polyak form, :math:`\theta_{-1} = \theta_0`) at step
  :math:`h` *is* ``SGD(lr=h, momentum=beta)``.
* ``heavy_ball_ema`` carries the :math:`(1-\beta)` weight of ``ema``; torch's
  buffer does not, so ``heavy_ball_ema`` at step :math:`h` *is*
  ``SGD(lr=h*(1-beta), momentum=beta)``. (``SGD(dampening=beta)`` is not: its
  buffer starts at :math:`g_0` instead of :math:`(1-\beta)g_0`.)
* ``nesterov`` is Sutskever's form, :math:`\theta_{n+1} = y_n - h\nabla E(y_n)`
  with the look-ahead point :math:`y_n = \theta_n + \beta(\theta_n-\theta_{n-1})`.
  ``SGD(lr=h, momentum=beta, nesterov=True)`` iterates the look-ahead points
  themselves: its iterates are exactly :math:`y_n = (1+\beta)\theta_n - \beta\theta_{n-1}`.
  The change of variables :math:`y = \theta + O(h)` leaves :math:`f_0` and
  :math:`f_1` unchanged and changes the modified equation from order 2 on.
* ``lion`` uses a smooth sign :math:`x/\sqrt{x^2+\delta}`; the reference
  (``lion_pytorch``) the true sign. In float64 the two agree to rounding once
  :math:`\delta \ll x^2` for every component met, so at
  :math:`\delta = 10^{-30}` the iterates match the reference (tested); modified
  equations need :math:`\delta` large against :math:`h^2` instead.

:func:`from_torch` reads an instantiated ``torch.optim`` optimizer and returns
the matching description, hyperparameter values and step size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy
from sympy import sqrt

from .base import Optimizer, decay, nonnegative, optimizer, positive
from .language import DescriptionError, ema, grad, h, state, t, theta
from .timed import momentum_schedule, nadam_direction

__all__ = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "TORCH", "TorchMapping", "from_torch"]

_EPS = positive(1e-8, r"\varepsilon", "added to the root of the second moment (outside the root, as in torch)")
_BETA1 = decay(0.9, r"\beta_1", "first-moment decay (torch: betas[0])")
_BETA2 = decay(0.999, r"\beta_2", "second-moment decay (torch: betas[1])")


def _gradient(weight_decay, maximize: bool) -> sympy.Expr:
    r""":math:`\pm\nabla E(\theta_n) + \lambda\theta_n`, the gradient as torch's
    update sees it (``maximize`` flips its sign; weight decay is added after)."""
    return (-grad() if maximize else grad()) + weight_decay * theta


def _buffer(x, momentum) -> sympy.Expr:
    r"""torch's momentum buffer :math:`b_{n+1} = \mu b_n + x_n`, :math:`b_0 = 0`:
    ``ema(x, mu) / (1 - mu)``."""
    return ema(x, momentum) / (1 - momentum)


def _refuse_amsgrad(amsgrad: bool) -> None:
    if amsgrad:
        raise DescriptionError(
            "amsgrad=True normalizes by the running maximum max_k v_k of the second moment, which is not smooth "
            "and has no expansion in h; use amsgrad=False, or write a smooth surrogate of the maximum yourself "
            "(e.g. a slower second-moment EMA with beta2 closer to 1)"
        )


def _adam_direction(beta1, beta2, eps, g) -> sympy.Expr:
    r""":math:`\hat m_{n+1}/(\sqrt{\hat v_{n+1}} + \varepsilon)`, bias-corrected, ε outside."""
    m = ema(g, beta1, bias_correction=True)
    v = ema(g**2, beta2, bias_correction=True)
    return m / (sqrt(v) + eps)


@optimizer(
    momentum=decay(0.0, r"\mu", "momentum factor"),
    weight_decay=nonnegative(0.0, r"\lambda", "L2 penalty added to the gradient"),
)
def SGD(momentum, weight_decay, *, dampening=0.0, nesterov=False, maximize=False):
    r"""``torch.optim.SGD`` (default ``lr=1e-3``): :math:`b_{n+1} = \mu b_n + g_n`,
    :math:`b_1 = g_0`, :math:`\theta_{n+1} = \theta_n - h\,b_{n+1}`
    (``nesterov``: :math:`-h(g_n + \mu b_{n+1})`), :math:`g_n = \nabla E(\theta_n) + \lambda\theta_n`."""
    if dampening != 0:
        raise DescriptionError(
            f"SGD(dampening={dampening!r}): torch starts the momentum buffer at the first gradient g_0, not at "
            "(1 - dampening) g_0, and that first-step special case cannot be described yet; use dampening=0, or "
            "modeq's heavy_ball_ema, whose buffer starts at (1 - beta) g_0: with h = lr it differs from "
            "SGD(momentum=beta, dampening=beta) only by the transient beta^(n+1) g_0 of the buffer"
        )
    g = _gradient(weight_decay, maximize)
    b = _buffer(g, momentum)
    return -(g + momentum * b) if nesterov else -b


@optimizer(beta1=_BETA1, beta2=_BETA2, eps=_EPS,
           weight_decay=nonnegative(0.0, r"\lambda", "L2 penalty (decoupled with decoupled_weight_decay=True)"))
def Adam(beta1, beta2, eps, weight_decay, *, amsgrad=False, maximize=False, decoupled_weight_decay=False):
    r"""``torch.optim.Adam`` (default ``lr=1e-3``):
    :math:`\theta_{n+1} = \theta_n - h\,\hat m_{n+1}/(\sqrt{\hat v_{n+1}}+\varepsilon)`,
    :math:`\hat m = m/(1-\beta_1^{n+1})`, :math:`\hat v = v/(1-\beta_2^{n+1})`, moments
    of :math:`g_n = \nabla E(\theta_n) + \lambda\theta_n` (or decoupled weight decay)."""
    _refuse_amsgrad(amsgrad)
    if decoupled_weight_decay:
        return -_adam_direction(beta1, beta2, eps, _gradient(0, maximize)) - weight_decay * theta
    return -_adam_direction(beta1, beta2, eps, _gradient(weight_decay, maximize))


@optimizer(beta1=_BETA1, beta2=_BETA2, eps=_EPS,
           weight_decay=nonnegative(1e-2, r"\lambda", "decoupled weight decay"))
def AdamW(beta1, beta2, eps, weight_decay, *, amsgrad=False, maximize=False):
    r"""``torch.optim.AdamW`` (default ``lr=1e-3``):
    :math:`\theta_{n+1} = \theta_n - h\big(\hat m_{n+1}/(\sqrt{\hat v_{n+1}}+\varepsilon) + \lambda\theta_n\big)`."""
    _refuse_amsgrad(amsgrad)
    return -_adam_direction(beta1, beta2, eps, _gradient(0, maximize)) - weight_decay * theta


@optimizer(
    alpha=decay(0.99, r"\alpha", "smoothing constant of the squared-gradient average"),
    eps=_EPS,
    weight_decay=nonnegative(0.0, r"\lambda", "L2 penalty added to the gradient"),
    momentum=decay(0.0, r"\mu", "momentum factor"),
)
def RMSprop(alpha, eps, weight_decay, momentum, *, centered=False, maximize=False):
    r"""``torch.optim.RMSprop`` (default ``lr=1e-2``): :math:`v_{n+1} = \alpha v_n + (1-\alpha)g_n^2`,
    :math:`d_n = g_n/(\sqrt{v_{n+1} - \bar g_{n+1}^2}+\varepsilon)` (:math:`\bar g = 0` unless
    ``centered``), :math:`b_{n+1} = \mu b_n + d_n`, :math:`\theta_{n+1} = \theta_n - h\,b_{n+1}`."""
    g = _gradient(weight_decay, maximize)
    v = ema(g**2, alpha)
    if centered:
        v = v - ema(g, alpha) ** 2
    return -_buffer(g / (sqrt(v) + eps), momentum)


@optimizer(
    eps=positive(1e-10, r"\varepsilon", "added to the root of the sum of squares (outside the root, as in torch)"),
    weight_decay=nonnegative(0.0, r"\lambda", "L2 penalty added to the gradient"),
    initial_accumulator_value=nonnegative(0.0, "S_0", "initial value of the sum of squared gradients"),
)
def Adagrad(eps, weight_decay, initial_accumulator_value, *, lr_decay=0.0, maximize=False):
    r"""``torch.optim.Adagrad`` (default ``lr=1e-2``) with the step size :math:`h = \mathrm{lr}^2`:
    :math:`V_{n+1} = V_n + h g_n^2`, :math:`V_0 = hS_0`,
    :math:`\theta_{n+1} = \theta_n - h\,g_n/(\sqrt{V_{n+1}} + \sqrt{h}\,\varepsilon)`."""
    if lr_decay != 0:
        raise DescriptionError(
            f"Adagrad(lr_decay={lr_decay!r}): the step size lr/(1 + n*lr_decay) is a schedule in the step n, which "
            "this description does not state; use lr_decay=0"
        )
    g = _gradient(weight_decay, maximize)
    v = state(lambda v: v + h * g**2, init=h * initial_accumulator_value)
    return -g / (sqrt(v) + sqrt(h) * eps)


@optimizer(beta1=_BETA1, beta2=_BETA2, eps=_EPS,
           weight_decay=nonnegative(0.0, r"\lambda", "L2 penalty (decoupled with decoupled_weight_decay=True)"),
           momentum_decay=nonnegative(4e-3, r"\psi", "per-step rate of the momentum schedule"))
def NAdam(beta1, beta2, eps, weight_decay, momentum_decay, *, decoupled_weight_decay=False, maximize=False):
    r"""``torch.optim.NAdam`` (default ``lr=2e-3``), per step: :math:`\mu_k = \beta_1(1-\tfrac12 0.96^{k\psi})`,
    :math:`k = n+1 = (t+h)/h` (derive :func:`modeq.optimizers.nadam` instead: see the module docs)."""
    g = _gradient(0 if decoupled_weight_decay else weight_decay, maximize)
    mu = momentum_schedule(beta1, momentum_decay * (t + h) / h)
    mu_next = momentum_schedule(beta1, momentum_decay * (t + 2 * h) / h)
    direction = -nadam_direction(beta1, beta2, eps, g, mu, mu_next)
    return direction - weight_decay * theta if decoupled_weight_decay else direction


#: The entries by their torch class names.
TORCH = {opt.name: opt for opt in (SGD, Adam, AdamW, RMSprop, Adagrad, NAdam)}


@dataclass(frozen=True)
class TorchMapping:
    """A torch optimizer as modeq sees it: the description, the hyperparameter
    values and the step size (``h = lr``; ``h = lr**2`` for ``Adagrad``)."""

    optimizer: Optimizer
    values: dict[str, float]
    h: float


_FLAGS = {
    "SGD": ("nesterov", "maximize"),
    "Adam": ("amsgrad", "maximize", "decoupled_weight_decay"),
    "AdamW": ("amsgrad", "maximize"),
    "RMSprop": ("centered", "maximize"),
    "Adagrad": ("maximize",),
    "NAdam": ("decoupled_weight_decay", "maximize"),
}
#: Implementation choices of torch, not part of the update.
_IMPLEMENTATION = frozenset({"foreach", "fused", "capturable", "differentiable"})


def _number(value: Any, name: str) -> float:
    if hasattr(value, "item"):  # a 0-d tensor
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"the torch hyperparameter {name} must be a number, got {value!r}")
    return float(value)


def from_torch(torch_optimizer: Any) -> TorchMapping:
    """The description, values and step size of an instantiated ``torch.optim``
    optimizer (``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad`` or ``NAdam``) with one parameter
    group (or several with equal hyperparameters)."""
    name = type(torch_optimizer).__name__
    groups = getattr(torch_optimizer, "param_groups", None)
    if name not in TORCH or not groups:
        raise ValueError(f"from_torch needs a torch.optim optimizer among {', '.join(TORCH)}, got {name}")
    settings = {k: v for k, v in groups[0].items() if k != "params"}
    for group in groups[1:]:
        if {k: v for k, v in group.items() if k != "params"} != settings:
            raise ValueError("from_torch needs the same hyperparameters in every parameter group (one modeq optimizer)")
    if settings.get("decoupled_weight_decay") and name == "AdamW":
        settings.pop("decoupled_weight_decay")
    options: dict[str, Any] = {flag: bool(settings.pop(flag)) for flag in _FLAGS[name] if flag in settings}
    if name == "SGD":
        options["dampening"] = _number(settings.pop("dampening"), "dampening")
    if name == "Adagrad":
        options["lr_decay"] = _number(settings.pop("lr_decay"), "lr_decay")
    description = TORCH[name](**options)
    if "betas" in settings:
        beta1, beta2 = settings.pop("betas")
        settings["beta1"], settings["beta2"] = beta1, beta2
    lr = _number(settings.pop("lr"), "lr")
    h = lr**2 if name == "Adagrad" else lr
    names = {hp.name for hp in description.hyperparameters}
    values = {k: _number(v, k) for k, v in settings.items() if k in names}
    leftover = set(settings) - names - _IMPLEMENTATION
    if leftover:
        raise ValueError(f"from_torch: {name} settings {', '.join(sorted(leftover))} have no modeq counterpart")
    description.update(values)  # refusals (amsgrad, dampening) and domains, with their messages
    return TorchMapping(description, values, h)

