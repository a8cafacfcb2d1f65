"""The second wave's built-ins against the records of the first, by independent
routes: two descriptions of the same iterates have the same modified equation.

Each check derives a new built-in today at hyperparameters where its iterates
are those of a built-in recorded before the core was rebuilt (``terms.json``,
issue 13), and compares components on the fixture's loss: equal as
expressions, or (different forms of one function) to 50 digits at exact
rational points and steps:

* ``torch SGD(momentum=beta)`` *is* ``heavy_ball`` (torch's buffer is the
  Polyak velocity; an ``ema`` against a ``lag``, exact regime included);
* ``torch SGD(momentum=beta)`` at step :math:`h' = h(1-\\beta)` *is*
  ``heavy_ball_ema`` at step :math:`h`, so, as both flows pass the same
  iterates at times :math:`nh` and :math:`nh'`,
  :math:`f_k^{\\mathrm{hb\\_ema}} = (1-\\beta)^{k+1} f_k^{\\mathrm{SGD}}`;
* ``qhm(nu=1)`` is ``heavy_ball_ema``, ``qhm(nu=0)`` is ``gd``;
* ``qhadam(nu1=nu2=1)``, ``ademamix(alpha=0)`` and ``torch Adam`` are
  ``adam(eps_inside=False)`` (with ``beta1, beta2`` for ``beta, rho``).

The new built-ins' own records (generic hyperparameters) then hold terms
derived by the code these checks cover. AdaBelief and Adan have no such
identity; their iterates are checked against ``pytorch_optimizer`` and their
slopes against the iterates (``tests/reference``, ``tests/numerics/test_variants.py``).
"""

import json
from pathlib import Path

import pytest
import sympy
from sympy import Rational

import modeq
from modeq.algebra.base import STEP
from modeq.codec import decode_nodes
from modeq.optimizers import BUILTIN
from modeq.optimizers.torch import TORCH

from .cases import PARAMS, materialize_terms, rational_values

FIXTURE = json.loads((Path(__file__).parent / "terms.json").read_text())


def _recorded(name: str) -> tuple[list, dict]:
    record = FIXTURE[name]
    nodes = decode_nodes(record["nodes"])
    return [[nodes[i] for i in term] for term in record["components"]], record


def _derived(optimizer, order: int, regime: str, values: dict) -> list:
    equation = modeq.derive(optimizer, order=order, regime=regime, values=values)
    return materialize_terms(list(equation.terms), equation.atoms, optimizer, values)


#: Exact points (and steps n of exact-regime fields) where the components of two
#: descriptions, written in different forms (|u| against sqrt(u^2), other
#: denominators, powers beta^n), are compared to 50 digits.
POINTS = [(Rational(1, 3), Rational(-2, 7)), (Rational(-5, 4), Rational(3, 2)), (Rational(2), Rational(1, 9))]
STEPS = (0, 3)


def _assert_equal(got: list, expected: list, scale=lambda k: 1) -> None:
    assert len(got) == len(expected)
    for k, (a, b) in enumerate(zip(got, expected)):
        for u, v in zip(a, b):
            difference = scale(k) * u - v
            if difference == 0:
                continue
            for point in POINTS:
                for n in STEPS:
                    value = difference.xreplace({**dict(zip(PARAMS, point)), STEP: n}).evalf(50)
                    assert abs(value) < 1e-40, (k, point, n, u, v)


def _cases(name: str, orders: dict[str, range], slow_from: int = 99):
    return [pytest.param(name, regime, order, id=f"{name}-{regime}-{order}",
                         marks=[pytest.mark.slow] if order >= slow_from else [])
            for regime, chosen in orders.items() for order in chosen]


ALL = {"stationary": range(4), "exact": range(2)}


@pytest.mark.parametrize("name, regime, order", _cases("heavy_ball", ALL))
def test_torch_sgd_momentum_is_heavy_ball(name, regime, order):
    expected, _ = _recorded(f"heavy_ball {regime} order {order}")
    beta = rational_values(BUILTIN["heavy_ball"])["beta"]
    _assert_equal(_derived(TORCH["SGD"], order, regime, {"momentum": beta, "weight_decay": 0}), expected)


@pytest.mark.parametrize("name, regime, order", _cases("heavy_ball_ema", ALL))
def test_torch_sgd_with_a_smaller_step_is_heavy_ball_ema(name, regime, order):
    expected, _ = _recorded(f"heavy_ball_ema {regime} order {order}")
    beta = rational_values(BUILTIN["heavy_ball_ema"])["beta"]
    got = _derived(TORCH["SGD"], order, regime, {"momentum": beta, "weight_decay": 0})
    _assert_equal(got, expected, scale=lambda k: (1 - beta) ** (k + 1))


@pytest.mark.parametrize("name, regime, order", _cases("qhm", ALL))
def test_qhm_at_the_ends_of_nu(name, regime, order):
    beta = rational_values(BUILTIN["heavy_ball_ema"])["beta"]
    _assert_equal(_derived(BUILTIN["qhm"], order, regime, {"beta": beta, "nu": 1}),
                  _recorded(f"heavy_ball_ema {regime} order {order}")[0])
    _assert_equal(_derived(BUILTIN["qhm"], order, regime, {"beta": beta, "nu": 0}),
                  _recorded(f"gd {regime} order {order}")[0])


ADAM = {"stationary": range(3), "exact": range(2)}


@pytest.mark.parametrize("name, regime, order", _cases("adam(eps_inside=False)", ADAM, slow_from=2))
def test_adam_relatives_reduce_to_adam_with_eps_outside(name, regime, order):
    expected, _ = _recorded(f"adam(eps_inside=False) {regime} order {order}")
    v = rational_values(BUILTIN["adam"](eps_inside=False))
    b1, b2, eps = v["beta"], v["rho"], v["eps"]
    reductions = [
        (BUILTIN["qhadam"], {"beta1": b1, "beta2": b2, "nu1": 1, "nu2": 1, "eps": eps}),
        (BUILTIN["ademamix"], {"beta1": b1, "beta2": b2, "beta3": sympy.Rational(1, 2), "alpha": 0, "eps": eps,
                               "weight_decay": 0}),
        (TORCH["Adam"], {"beta1": b1, "beta2": b2, "eps": eps, "weight_decay": 0}),
    ]
    for optimizer, values in reductions:
        _assert_equal(_derived(optimizer, order, regime, values), expected)
