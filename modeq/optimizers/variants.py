r"""Adam's descendants whose memory is fixed-decay moving averages and lags.

Each is written from its paper and the reference implementation named in its
docstring (the tests in ``tests/reference`` compare the iterates with that
implementation, in float64), as the update direction :math:`U_n` of
:math:`\theta_{n+1} = \theta_n + hU_n` with :math:`h` the learning rate.
Moments start at zero and are bias-corrected by :math:`1-\beta^{n+1}` where
the reference does so; ε sits outside the root, as in the references.

Not here, because they need time or a general state (issue 14's core): the
α and :math:`\beta_3` warm-up schedulers of AdEMAMix, the rectification of
AdaBelief (RAdam's step-count switch), AMSGrad-type running maxima
(``ams_bound``), gradient-norm clipping (not smooth).
"""

from __future__ import annotations

from sympy import sqrt

from .base import decay, nonnegative, optimizer, positive
from .language import ema, grad, h, lag, theta

__all__ = ["adabelief", "adan", "ademamix", "qhadam", "qhm"]

_EPS = positive(1e-8, r"\varepsilon", "added to the root of the second moment (outside the root)")
_WEIGHT_DECAY = nonnegative(0.0, r"\lambda", "decoupled weight decay")


@optimizer(
    beta1=decay(0.9, r"\beta_1", "first-moment decay"),
    beta2=decay(0.999, r"\beta_2", "decay of the belief (variance of g - m)"),
    eps=positive(1e-16, r"\varepsilon", "added to the belief at every step and outside its root"),
    weight_decay=_WEIGHT_DECAY,
)
def adabelief(beta1, beta2, eps, weight_decay):
    r"""AdaBelief (Zhuang et al. 2020, Algorithm 2), decoupled weight decay:

    .. math::
        m_{n+1} = \beta_1 m_n + (1-\beta_1) g_n, \qquad
        s_{n+1} = \beta_2 s_n + (1-\beta_2)(g_n - m_{n+1})^2 + \varepsilon,

        \theta_{n+1} = \theta_n - h\Big(\frac{m_{n+1}/(1-\beta_1^{n+1})}
            {\sqrt{s_{n+1}/(1-\beta_2^{n+1})} + \varepsilon} + \lambda\theta_n\Big).

    The ε added to :math:`s` at every step is an EMA of the constant
    :math:`\varepsilon/(1-\beta_2)`. On the modified trajectory
    :math:`g - m = O(h)`, so the belief is :math:`\varepsilon/(1-\beta_2) + O(h^2)`:
    the expansion holds for :math:`h^2\|\nabla^2 E\,\nabla E\|^2 \ll \varepsilon`
    (verify with a large ε; the paper's ε = 1e-16 leaves that regime at once).
    Reference: ``pytorch_optimizer.AdaBelief(rectify=False, weight_decouple=True,
    fixed_decay=False, ams_bound=False)``."""
    g = grad()
    m = ema(g, beta1)
    s = ema((g - m) ** 2 + eps / (1 - beta2), beta2, bias_correction=True)
    return -ema(g, beta1, bias_correction=True) / (sqrt(s) + eps) - weight_decay * theta


@optimizer(
    beta1=decay(0.98, r"\beta_1", "decay of the gradient average (1 - the paper's beta_1)"),
    beta2=decay(0.92, r"\beta_2", "decay of the gradient-difference average (1 - the paper's beta_2)"),
    beta3=decay(0.99, r"\beta_3", "decay of the second moment (1 - the paper's beta_3)"),
    eps=_EPS,
    weight_decay=nonnegative(0.0, r"\lambda", "weight decay (proximal, or decoupled with no_prox=True)"),
)
def adan(beta1, beta2, beta3, eps, weight_decay, *, no_prox=False):
    r"""Adan (Xie et al. 2022, Algorithm 1, with the bias corrections of the
    authors' implementation; the decays are one minus the paper's β):

    .. math::
        m_{n+1} = \beta_1 m_n + (1-\beta_1) g_n, \qquad
        d_{n+1} = \beta_2 d_n + (1-\beta_2)(g_n - g_{n-1}),

        u_n = g_n + \beta_2 (g_n - g_{n-1}), \qquad
        v_{n+1} = \beta_3 v_n + (1-\beta_3) u_n^2, \qquad
        D_n = \sqrt{v_{n+1}/(1-\beta_3^{n+1})} + \varepsilon,

        \theta_{n+1} = \Big(\theta_n - h\,\frac{\hat m_{n+1} + \beta_2 \hat d_{n+1}}{D_n}\Big)
            \Big/ (1 + h\lambda)

    with :math:`g_{-1} = g_0` and :math:`\hat x = x/(1-\beta^{n+1})`. With
    ``no_prox=True`` the weight decay is decoupled,
    :math:`\theta_{n+1} = (1-h\lambda)\theta_n - h(\hat m + \beta_2\hat d)/D_n`.
    Reference: ``pytorch_optimizer.Adan(max_grad_norm=0)``
    (``weight_decouple`` is ``no_prox``)."""
    g = grad()
    difference = g - lag(g, 1)
    m = ema(g, beta1, bias_correction=True)
    d = ema(difference, beta2, bias_correction=True)
    v = ema((g + beta2 * difference) ** 2, beta3, bias_correction=True)
    direction = -(m + beta2 * d) / (sqrt(v) + eps)
    if no_prox:
        return direction - weight_decay * theta
    return (direction - weight_decay * theta) / (1 + h * weight_decay)


@optimizer(
    beta1=decay(0.9, r"\beta_1", "fast first-moment decay"),
    beta2=decay(0.999, r"\beta_2", "second-moment decay"),
    beta3=decay(0.9999, r"\beta_3", "slow first-moment decay"),
    alpha=nonnegative(5.0, r"\alpha", "weight of the slow moving average"),
    eps=_EPS,
    weight_decay=_WEIGHT_DECAY,
)
def ademamix(beta1, beta2, beta3, alpha, eps, weight_decay):
    r"""AdEMAMix (Pagliardini et al. 2024, Algorithm 1) with constant α and
    :math:`\beta_3` (their warm-up schedulers need time in the description):

    .. math::
        m^{(1)}_{n+1} = \beta_1 m^{(1)}_n + (1-\beta_1) g_n, \quad
        m^{(2)}_{n+1} = \beta_3 m^{(2)}_n + (1-\beta_3) g_n, \quad
        v_{n+1} = \beta_2 v_n + (1-\beta_2) g_n^2,

        \theta_{n+1} = \theta_n - h\Big(\frac{\hat m^{(1)}_{n+1} + \alpha\,m^{(2)}_{n+1}}
            {\sqrt{\hat v_{n+1}} + \varepsilon} + \lambda\theta_n\Big)

    (the slow average is not bias-corrected). Reference:
    ``pytorch_optimizer.AdEMAMix(t_alpha_beta3=None, weight_decouple=True,
    fixed_decay=False)``."""
    g = grad()
    fast = ema(g, beta1, bias_correction=True)
    slow = ema(g, beta3)
    v = ema(g**2, beta2, bias_correction=True)
    return -(fast + alpha * slow) / (sqrt(v) + eps) - weight_decay * theta


@optimizer(
    beta1=decay(0.995, r"\beta_1", "first-moment decay"),
    beta2=decay(0.999, r"\beta_2", "second-moment decay"),
    nu1=nonnegative(0.7, r"\nu_1", "weight of the first moment against the gradient"),
    nu2=nonnegative(1.0, r"\nu_2", "weight of the second moment against the squared gradient"),
    eps=_EPS,
)
def qhadam(beta1, beta2, nu1, nu2, eps):
    r"""QHAdam (Ma & Yarats 2019, Algorithm 2; defaults their recommended
    :math:`\nu = (0.7, 1)`, :math:`\beta = (0.995, 0.999)`):

    .. math::
        \theta_{n+1} = \theta_n - h\,\frac{(1-\nu_1) g_n + \nu_1 \hat m_{n+1}}
            {\sqrt{(1-\nu_2) g_n^2 + \nu_2 \hat v_{n+1}} + \varepsilon}

    with Adam's bias-corrected moments :math:`\hat m`, :math:`\hat v`.
    Reference: ``pytorch_optimizer.QHAdam``."""
    g = grad()
    m = ema(g, beta1, bias_correction=True)
    v = ema(g**2, beta2, bias_correction=True)
    return -((1 - nu1) * g + nu1 * m) / (sqrt((1 - nu2) * g**2 + nu2 * v) + eps)


@optimizer(
    beta=decay(0.999, r"\beta", "momentum decay"),
    nu=nonnegative(0.7, r"\nu", "weight of the momentum against the gradient"),
)
def qhm(beta, nu):
    r"""Quasi-hyperbolic momentum (Ma & Yarats 2019, defaults their
    recommended :math:`\nu = 0.7`, :math:`\beta = 0.999`):

    .. math::
        m_{n+1} = \beta m_n + (1-\beta) g_n, \qquad
        \theta_{n+1} = \theta_n - h\big((1-\nu) g_n + \nu m_{n+1}\big).

    :math:`\nu = 1` is ``heavy_ball_ema``, :math:`\nu = 0` gradient descent.
    Reference: ``pytorch_optimizer.QHM``."""
    g = grad()
    return -((1 - nu) * g + nu * ema(g, beta))
