r"""The built-in optimizers, each a short description.

All are written as the update direction :math:`U_n` of
:math:`\theta_{n+1} = \theta_n + hU_n` (see :mod:`modeq.optimizers.language`).
"""

from __future__ import annotations

from sympy import sqrt

from .base import Optimizer, decay, nonnegative, optimizer, positive, real
from .layerwise import lamb, lars
from .lookahead import lookahead
from .muon import muon
from .shampoo import shampoo, shampoo_ema
from .language import block_norm, ema, grad, h, lag, loss, norm, reduce_sum, smooth_sign, state, theta
from .schedule_free import schedule_free_adamw, schedule_free_sgd
from .schedules import scheduled, warmup_cosine
from .timed import ademamix_warmup, nadam
from .variants import adabelief, adan, ademamix, qhadam, qhm

__all__ = ["gd", "heavy_ball", "heavy_ball_ema", "nesterov", "rmsprop", "adam", "adamw", "sam", "usam", "signum", "lion",
           "polyak", "adagrad", "adam_warmup_cosine"]

_BETA = decay(0.9, r"\beta", "momentum / first-moment decay")
_RHO = decay(0.999, r"\rho", "second-moment decay")
_EPS = positive(1e-8, r"\varepsilon", "numerical stability constant")
_DELTA = positive(1e-6, r"\delta", "width of the smooth sign x/sqrt(x^2+delta)")


def _velocity():
    r""":math:`(\theta_n - \theta_{n-1})/h`, with :math:`\theta_{-1} = \theta_0`."""
    return (theta - lag(theta, 1)) / h


def _normalize(m, v, eps, eps_inside: bool):
    r""":math:`m/\sqrt{v+\varepsilon}` (ε inside) or :math:`m/(\sqrt{v}+\varepsilon)`."""
    return m / sqrt(v + eps) if eps_inside else m / (sqrt(v) + eps)


@optimizer()
def gd():
    r"""Gradient descent: :math:`\theta_{n+1} = \theta_n - h\nabla E(\theta_n)`."""
    return -grad()


@optimizer(beta=_BETA)
def heavy_ball(beta):
    r"""Heavy ball, Polyak form:
    :math:`\theta_{n+1} = \theta_n - h\nabla E(\theta_n) + \beta(\theta_n - \theta_{n-1})`."""
    return -grad() + beta * _velocity()


@optimizer(beta=_BETA)
def heavy_ball_ema(beta):
    r"""Heavy ball, EMA form: :math:`m_{n+1} = \beta m_n + (1-\beta)\nabla E(\theta_n)`,
    :math:`\theta_{n+1} = \theta_n - h m_{n+1}`."""
    return -ema(grad(), beta)


@optimizer(beta=_BETA)
def nesterov(beta):
    r"""Nesterov's accelerated gradient (Sutskever form):
    :math:`\theta_{n+1} = \theta_n + \beta(\theta_n-\theta_{n-1}) - h\nabla E(\theta_n + \beta(\theta_n-\theta_{n-1}))`."""
    return beta * _velocity() - grad(beta * h * _velocity())


@optimizer(rho=_RHO, eps=_EPS)
def rmsprop(rho, eps, *, eps_inside=True, bias_correction=False):
    r"""RMSProp: :math:`\nu_{n+1} = \rho\nu_n + (1-\rho)(\nabla E)^2`,
    :math:`\theta_{n+1} = \theta_n - h\nabla E/\sqrt{\nu_{n+1}+\varepsilon}`."""
    g = grad()
    return -_normalize(g, ema(g**2, rho, bias_correction=bias_correction), eps, eps_inside)


@optimizer(beta=_BETA, rho=_RHO, eps=_EPS)
def adam(beta, rho, eps, *, eps_inside=True, bias_correction=True):
    r"""Adam ("On the Implicit Bias of Adam", Definition 1.1):
    :math:`m_{n+1} = \beta m_n + (1-\beta)\nabla E`,
    :math:`\nu_{n+1} = \rho\nu_n + (1-\rho)(\nabla E)^2`,
    :math:`\theta_{n+1} = \theta_n - h\,\hat m_{n+1}/\sqrt{\hat\nu_{n+1}+\varepsilon}`
    with :math:`\hat m = m/(1-\beta^{n+1})`, :math:`\hat\nu = \nu/(1-\rho^{n+1})`."""
    g = grad()
    m = ema(g, beta, bias_correction=bias_correction)
    v = ema(g**2, rho, bias_correction=bias_correction)
    return -_normalize(m, v, eps, eps_inside)


@optimizer(beta=_BETA, rho=_RHO, eps=_EPS, weight_decay=nonnegative(1e-2, r"\lambda", "decoupled weight decay"))
def adamw(beta, rho, eps, weight_decay, *, eps_inside=True, bias_correction=True):
    r"""AdamW: Adam with decoupled weight decay,
    :math:`\theta_{n+1} = \theta_n - h(\hat m_{n+1}/\sqrt{\hat\nu_{n+1}+\varepsilon} + \lambda\theta_n)`."""
    g = grad()
    m = ema(g, beta, bias_correction=bias_correction)
    v = ema(g**2, rho, bias_correction=bias_correction)
    return -_normalize(m, v, eps, eps_inside) - weight_decay * theta


@optimizer(c=positive(1.0, "c", "SAM radius in units of the step size, r = c h"))
def sam(c, *, per_layer=False):
    r"""Sharpness-aware minimization with radius :math:`r = ch`:
    :math:`\theta_{n+1} = \theta_n - h\nabla E(\theta_n + r\nabla E/\|\nabla E\|)`;
    ``per_layer=True``: every layer moves by :math:`r`,
    :math:`\nabla E(\theta_n + r\nabla E/\|\nabla E\|_B)` (block norms, :mod:`modeq.blocks`)."""
    g = grad()
    return -grad(c * h * g / (block_norm(g) if per_layer else norm(g)))


@optimizer(c=positive(1.0, "c", "USAM radius in units of the step size, r = c h"))
def usam(c):
    r"""Unnormalized SAM with radius :math:`r = ch`:
    :math:`\theta_{n+1} = \theta_n - h\nabla E(\theta_n + r\nabla E)`."""
    return -grad(c * h * grad())


@optimizer(beta=_BETA, delta=_DELTA)
def signum(beta, delta):
    r"""Signum with a smooth sign: :math:`m_{n+1} = \beta m_n + (1-\beta)\nabla E`,
    :math:`\theta_{n+1} = \theta_n - h\,m_{n+1}/\sqrt{m_{n+1}^2+\delta}`."""
    return -smooth_sign(ema(grad(), beta), delta)


@optimizer(beta1=decay(0.9, r"\beta_1", "interpolation weight"), beta2=decay(0.99, r"\beta_2", "momentum decay"), delta=_DELTA)
def lion(beta1, beta2, delta):
    r"""Lion with a smooth sign: :math:`c_n = \beta_1 m_n + (1-\beta_1)\nabla E`,
    :math:`\theta_{n+1} = \theta_n - h\,c_n/\sqrt{c_n^2+\delta}`,
    :math:`m_{n+1} = \beta_2 m_n + (1-\beta_2)\nabla E` (:math:`m_0 = 0`)."""
    g = grad()
    momentum_before_step = lag(ema(g, beta2), 1, init=0)
    return -smooth_sign(beta1 * momentum_before_step + (1 - beta1) * g, delta)


@optimizer(E_star=real(0.0, r"E^{\star}", "estimate of the minimal value of the loss"))
def polyak(E_star):
    r"""Polyak's step size (Polyak 1987; the stochastic Polyak step of Loizou
    et al. 2021 with :math:`c = 1` and no cap), scaled by :math:`h`:
    :math:`\theta_{n+1} = \theta_n - h\,\frac{E(\theta_n) - E^*}{\|\nabla E(\theta_n)\|^2}\,\nabla E(\theta_n)`
    (:math:`h = 1` is Polyak's own step). The field is singular where
    :math:`\nabla E = 0`: the expansion holds away from stationary points."""
    g = grad()
    return -(loss() - E_star) / reduce_sum(g**2) * g


@optimizer(eps=_EPS, V0=nonnegative(0.1, "V_0", "initial value of the (scaled) sum of squared gradients"))
def adagrad(eps, V0):
    r"""AdaGrad (Duchi, Hazan & Singer 2011) with base rate :math:`\eta` and the
    step size :math:`h = \eta^2`, so that its sum of squares is a *slow* state
    (:mod:`modeq.primitives.state`): with :math:`V = hS`,

    .. math:: V_{n+1} = V_n + h\,\nabla E(\theta_n)^2, \qquad
              \theta_{n+1} = \theta_n - h\,\frac{\nabla E(\theta_n)}{\sqrt{V_{n+1} + \varepsilon}},

    :math:`V_0` = ``V0``. In the unscaled variables this is
    :math:`\theta_{n+1} = \theta_n - \eta\,g_n/\sqrt{S_{n+1} + \varepsilon/\eta^2}` with
    :math:`S_0 = V_0/\eta^2` (``torch.optim.Adagrad`` puts its ε outside the root,
    :math:`\sqrt{h}\,\varepsilon` in these variables, which is no power series in
    :math:`h`: its iterates are :class:`modeq.optimizers.torch.Adagrad`'s).
    The modified equation is one for :math:`(\theta, V)` from :math:`V(0) = V_0`;
    :math:`V_0 + \varepsilon > 0` keeps it smooth at :math:`t = 0` (the sum starts
    empty: with :math:`V_0 = 0` the field's scale at the start is
    :math:`1/\sqrt{\varepsilon}`, and the expansion needs
    :math:`h \ll \sqrt{V_0 + \varepsilon}/|\nabla E|`), hence the default
    :math:`V_0 = 0.1` (TensorFlow's ``initial_accumulator_value``)."""
    g = grad()
    V = state(lambda v: v + h * g**2, init=V0, name="V")
    return -g / sqrt(V + eps)


#: Adam with a linear warm-up (smooth corner) and cosine decay of its step,
#: :math:`\theta_{n+1} = \theta_n + h\,\eta(t_n) U^{adam}_n` (:mod:`modeq.optimizers.schedules`).
adam_warmup_cosine = scheduled(adam, warmup_cosine, name="adam_warmup_cosine")

BUILTIN = {opt.name: opt for opt in (gd, heavy_ball, heavy_ball_ema, nesterov, rmsprop, adam, adamw, sam, usam, signum, lion,
                                     adabelief, adan, ademamix, qhadam, qhm, polyak, adagrad,
                                     schedule_free_sgd, schedule_free_adamw, adam_warmup_cosine, nadam,
                                     ademamix_warmup, lookahead)}

#: Built-ins for parameter blocks (``params={'W': (3, 2), ...}``, ``--params W:3x2,...``): their
#: updates act on whole blocks (Muon's orthogonalization, Shampoo's Kronecker-factored preconditioner, LARS's
#: and LAMB's layer-wise trust ratios), so
#: they are apart from :data:`BUILTIN`, whose optimizers run on any parameter vector.
BLOCKWISE = {opt.name: opt for opt in (lars, lamb, muon, shampoo, shampoo_ema)}


#: Optimizers users ask for that have no modified equation here, and why (issue 14).
REFUSED = {
    "amsgrad": (
        "AMSGrad normalizes by the running maximum max_k v_k of the second moment, which is not smooth and has no "
        "expansion in h; the smooth alternative is a slower second-moment average (adam with rho closer to 1), "
        "which also keeps the normalization from shrinking after large gradients"
    ),
    "prodigy": (
        "Prodigy's and D-Adaptation's step size d_n = max(d_(n-1), d_hat_n) is a running maximum (not smooth: no "
        "expansion in h); even where d = d_hat, d_hat_n = (sum of d-weighted <g, theta_0 - theta>)/||s||_1 reads "
        "the distance from the start theta_0 (a slow state with a per-component initial value, while state inits "
        "are scalars) and d enters the sums it is computed from (slow states coupled through the step's own output, "
        "while states(...) updates states together only when they contract)"
    ),
}
REFUSED["dadapt_adam"] = REFUSED["prodigy"]


def builtin(name: str):
    """The built-in optimizer of that name (:data:`BUILTIN` or :data:`BLOCKWISE`), or ``None``."""
    return BUILTIN.get(name) or BLOCKWISE.get(name)


def get(name: str):
    """A built-in optimizer by name, or an error listing the known names
    (or saying why a known optimizer has no description here)."""
    if name in REFUSED:
        raise ValueError(f"{name} is not a built-in: {REFUSED[name]}")
    found = builtin(name)
    if found is None:
        raise ValueError(f"unknown optimizer {name!r}; the built-in optimizers are: {', '.join(BUILTIN)}; "
                         f"for parameter blocks: {', '.join(BLOCKWISE)}")
    return found


def resolve(optimizer: Optimizer | str) -> Optimizer:
    """``optimizer`` itself, or the built-in one of that name (the API's
    ``optimizer`` argument)."""
    if isinstance(optimizer, str):
        return get(optimizer)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an Optimizer or the name of a built-in one, got {type(optimizer).__name__}")
    return optimizer


