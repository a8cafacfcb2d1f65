r"""Built-ins whose update depends on the time :math:`t = nh`.

Their modified equations are non-autonomous, :math:`f_k(\theta, t)`
(:mod:`modeq.algebra.base`), derived in the stationary regime: every bias
correction and product of decays is :math:`O(\beta^{t/h})`, beyond all orders
in :math:`h` at a fixed time :math:`t > 0`, so it does not enter the terms (the
compiled iterates keep them exactly). Each is checked against its reference
implementation in ``tests/reference`` (``adam_warmup_cosine``, a schedule
times Adam, is in :mod:`modeq.optimizers.library`).

Step counts become times. A reference counts steps :math:`k = n+1` (torch's
``step`` after its increment), so a schedule evaluated at step :math:`k` is a
function of :math:`kh = t + h`; its time scale in steps :math:`N` is
:math:`T = Nh` here.
"""

from __future__ import annotations

import sympy
from sympy import sqrt

from .base import decay, nonnegative, optimizer, positive
from .language import ema, grad, h, t, theta

__all__ = ["nadam", "ademamix_warmup", "momentum_schedule", "nadam_direction"]

_EPS = positive(1e-8, r"\varepsilon", "added to the root of the second moment (outside the root)")


def momentum_schedule(beta1, exponent) -> sympy.Expr:
    r"""NAdam's momentum :math:`\mu = \beta_1(1 - \tfrac12\,0.96^{x})` at :math:`x` = ``exponent``."""
    return beta1 * (1 - sympy.Rational(1, 2) * sympy.Rational(24, 25) ** exponent)


def nadam_direction(beta1, beta2, eps, g, mu, mu_next) -> sympy.Expr:
    r"""NAdam's step direction from the momenta :math:`\mu_k` (``mu``) and
    :math:`\mu_{k+1}` (``mu_next``) of step :math:`k = n+1`:

    .. math:: \frac{(1-\mu_k)\,g_n/(1-P_k) + \mu_{k+1}\,m_{n+1}/(1-P_{k+1})}{\sqrt{\hat v_{n+1}} + \varepsilon},
              \qquad P_k = \prod_{i\le k}\mu_i ,

    with :math:`m` the EMA of :math:`g` at the constant :math:`\beta_1` and
    :math:`\hat v` Adam's bias-corrected second moment. :math:`P_k` is an
    ``ema`` of 0 started at 1 whose decay is the scheduled :math:`\mu_k`."""
    product = ema(0, mu, init=1)
    m = ema(g, beta1)
    v = ema(g**2, beta2, bias_correction=True)
    return ((1 - mu) * g / (1 - product) + mu_next * m / (1 - mu_next * product)) / (sqrt(v) + eps)


@optimizer(
    beta1=decay(0.9, r"\beta_1", "first-moment decay and the limit of the momentum schedule"),
    beta2=decay(0.999, r"\beta_2", "second-moment decay"),
    eps=_EPS,
    momentum_decay=positive(4.0, r"\psi", "rate of the momentum schedule per unit time (torch's per-step "
                                          "momentum_decay divided by lr)"),
    weight_decay=nonnegative(0.0, r"\lambda", "decoupled weight decay (torch: decoupled_weight_decay=True)"),
)
def nadam(beta1, beta2, eps, momentum_decay, weight_decay):
    r"""NAdam (Dozat 2016) as ``torch.optim.NAdam`` runs it, with its momentum
    schedule in time: step :math:`k = n+1` uses
    :math:`\mu_k = \mu(kh)`, :math:`\mu(\tau) = \beta_1(1 - \tfrac12\,0.96^{\psi\tau})`,

    .. math:: \theta_{n+1} = \theta_n - h\Big(\frac{(1-\mu_k)\,g_n/(1-P_k) + \mu_{k+1}\,m_{n+1}/(1-P_{k+1})}
              {\sqrt{\hat v_{n+1}} + \varepsilon} + \lambda\theta_n\Big),

    :math:`P_k = \prod_{i\le k}\mu_i`, :math:`g_n = \nabla E(\theta_n)`: the weight
    decay is torch's ``decoupled_weight_decay=True``. (torch's default L2 form,
    :math:`g_n = \nabla E + \lambda\theta_n` inside both moments, is
    :class:`modeq.optimizers.torch.NAdam`'s; with a symbolic :math:`\lambda`
    every term of the expansion then holds :math:`(g + \lambda\theta)^k` under
    the root, which multiplies the order-1 term's size by 30 and makes order 2
    take minutes, as for ``torch.Adam(weight_decay)``.)

    *The schedule and the step size.* torch writes :math:`0.96^{k\psi_{step}}`
    with a per-step rate (``momentum_decay`` = 0.004). Held fixed as
    :math:`h \to 0`, that schedule runs over :math:`k \sim 1/\psi_{step}` steps,
    a time :math:`h/\psi_{step} \to 0`: at any fixed :math:`t > 0` the momentum
    is :math:`\beta_1` up to :math:`0.96^{\psi_{step} t/h}`, beyond all orders, and
    the schedule only shapes an initial layer of vanishing width. The schedule
    is visible on the time scale of training only with the rate per unit
    *time* held fixed, :math:`\psi = \psi_{step}/h` (torch's default at
    ``lr=1e-3`` is :math:`\psi = 4`): that is this description's
    ``momentum_decay``, and the modified equation follows
    :math:`\mu(t)` and :math:`\mu'(t)`. With :math:`\psi = \psi_{step}/h` for the run's
    :math:`h` the iterates are torch's exactly (tested);
    :class:`modeq.optimizers.torch.NAdam` is the per-step form, whose iterates
    are the same and which has no expansion in :math:`h`. In the stationary
    regime :math:`P_k \to 0` (below :math:`\beta_1^k`), so the terms hold
    :math:`1-\mu(t)` and :math:`\mu(t)` only."""
    mu = momentum_schedule(beta1, momentum_decay * (t + h))
    mu_next = momentum_schedule(beta1, momentum_decay * (t + 2 * h))
    return -nadam_direction(beta1, beta2, eps, grad(), mu, mu_next) - weight_decay * theta


@optimizer(
    beta1=decay(0.9, r"\beta_1", "fast first-moment decay (and the start of the beta3 schedule)"),
    beta2=decay(0.999, r"\beta_2", "second-moment decay"),
    beta3=decay(0.9999, r"\beta_3", "slow first-moment decay, reached at the end of the warm-up"),
    alpha=nonnegative(5.0, r"\alpha", "weight of the slow moving average, reached at the end of the warm-up"),
    warmup=positive(1.0, r"T_{\alpha\beta_3}", "warm-up time of alpha and beta3 (t_alpha_beta3 steps times h)"),
    eps=_EPS,
    weight_decay=nonnegative(0.0, r"\lambda", "decoupled weight decay"),
)
def ademamix_warmup(beta1, beta2, beta3, alpha, warmup, eps, weight_decay):
    r"""AdEMAMix (Pagliardini et al. 2024, Algorithm 1) during the warm-up of
    its schedulers: at step :math:`k = n+1`, :math:`s = kh/T_{\alpha\beta_3} = (t+h)/T_{\alpha\beta_3}`,

    .. math::
        \alpha_k = \alpha s, \qquad
        \beta_{3,k} = \exp\Big(\frac{\ln\beta_1 \ln\beta_3}{(1-s)\ln\beta_3 + s\ln\beta_1}\Big),

        m^{(2)}_{n+1} = \beta_{3,k} m^{(2)}_n + (1-\beta_{3,k}) g_n, \qquad
        \theta_{n+1} = \theta_n - h\Big(\frac{\hat m^{(1)}_{n+1} + \alpha_k m^{(2)}_{n+1}}
            {\sqrt{\hat v_{n+1}} + \varepsilon} + \lambda\theta_n\Big),

    the rest as :func:`~modeq.optimizers.variants.ademamix`. The reference
    schedulers are ``min(α s, α)`` and ``min(β_3(s), β_3)``: they stop at
    :math:`s = 1`, a kink with no expansion in :math:`h` across it. This
    description is the smooth warm-up phase :math:`t + h < T_{\alpha\beta_3}`;
    after it the optimizer is ``ademamix`` (constant α, β₃), whose modified
    equation holds from there on. The slow average is an ``ema`` with the
    scheduled decay :math:`\beta_3(t+h)`, expanded through its invariant
    manifold (:mod:`modeq.primitives.ema`). Reference:
    ``pytorch_optimizer.AdEMAMix(t_alpha_beta3=T/h, weight_decouple=True, fixed_decay=False)``
    over fewer than ``t_alpha_beta3`` steps."""
    g = grad()
    s = (t + h) / warmup
    log1, log3 = sympy.log(beta1), sympy.log(beta3)
    beta3_t = sympy.exp(log1 * log3 / ((1 - s) * log3 + s * log1))
    fast = ema(g, beta1, bias_correction=True)
    slow = ema(g, beta3_t)
    v = ema(g**2, beta2, bias_correction=True)
    return -(fast + alpha * s * slow) / (sqrt(v) + eps) - weight_decay * theta
