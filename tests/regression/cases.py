r"""The regression cases: every built-in's terms, recorded before the core was
rebuilt (issue 13) and compared after every change to it.

A case derives an equation and describes it without depending on how atoms are
named or stored:

* ``str`` of each term (what a user reads);
* each term materialized in components on :data:`LOSS` (two parameters,
  derivatives of every order non-zero) or, for mini-batch cases, on
  :data:`BATCHES`, with the hyperparameters at the exact rationals of
  :func:`rational_values` — compared exactly (``expand(a - b) == 0``);
* or, where the derivation refuses, the error's type and message.

Orders 0–2 are derived with symbolic hyperparameters (the terms users print);
orders 3–4 with the rational values substituted first (the same terms, far
cheaper). Order 4 is kept where it took under 10 s when recorded.

The built-ins added in the second wave (:data:`ADDED`) are recorded at the
orders that are cheap, listed per regime; ``tests/regression/test_identities.py``
checks them by independent routes (the same iterates written differently,
against the records of the first built-ins).

``python -m tests.regression.record --missing`` adds the cases the fixture
lacks and keeps every existing record; without ``--missing`` it rewrites
``terms.json`` (only when the terms are meant to change).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import sympy

import modeq
from modeq.optimizers import BUILTIN, adam, rmsprop
from modeq.optimizers.base import Domain, Optimizer
from modeq.optimizers.torch import TORCH

X, Y = sympy.symbols("x y", real=True)
PARAMS = (X, Y)
#: Non-quadratic, with non-zero derivatives of orders 1-4 in both parameters.
LOSS = X**4 / 4 + X**2 * Y / 2 + (X - 2 * Y) ** 2 / 2 + Y**3 / 3
BATCHES = (X**2 * Y + (X - Y) ** 2 / 2, Y**4 / 4 + (X + 2 * Y) ** 2 / 2)


def rational_values(optimizer: Optimizer) -> dict[str, sympy.Rational]:
    """Distinct exact values in each hyperparameter's domain."""
    values = {}
    for i, hp in enumerate(optimizer.hyperparameters, start=1):
        values[hp.name] = {
            Domain.UNIT_INTERVAL: sympy.Rational(i, i + 2),
            Domain.POSITIVE: sympy.Rational(1, i + 3),
            Domain.NONNEGATIVE: sympy.Rational(1, i + 5),
            Domain.REAL: sympy.Rational(2, 3),
        }[hp.domain]
    return values


@dataclass(frozen=True)
class Case:
    """One derivation: ``run(values)`` returns the terms (a list of index-form
    expressions, or of per-step lists) and the atom table they are defined in;
    ``batches`` materializes on :data:`BATCHES`."""

    name: str
    optimizer: Optimizer
    run: Callable[[dict | None], Any]
    symbolic: bool
    batches: bool = False


#: The built-ins of the recording (issue 13); later built-ins join when the
#: fixture is re-recorded.
RECORDED = ("gd", "heavy_ball", "heavy_ball_ema", "nesterov", "rmsprop", "adam", "adamw", "sam", "usam", "signum",
            "lion")


#: Built-ins added after the recording, with the orders recorded per regime:
#: the cheap ones (a few seconds at most on an idle machine; the recorded
#: seconds were measured under a heavy load). Exact order 2 of an ``ema`` over
#: step-dependent fields, and exact regimes whose step index sits inside a
#: root, are refusals, recorded as such. ``torch Adam`` from order 1 on is
#: ``adam(eps_inside=False)`` (``test_identities.py``).
ADDED: dict[str, tuple[Optimizer, dict[str, tuple[int, ...]]]] = {
    "adabelief": (BUILTIN["adabelief"], {"stationary": (0, 1, 2, 3), "exact": (1, 2, 3)}),
    "adan": (BUILTIN["adan"], {"stationary": (0, 1), "exact": (0,)}),
    "ademamix": (BUILTIN["ademamix"], {"stationary": (0, 1), "exact": (0,)}),
    "qhadam": (BUILTIN["qhadam"], {"stationary": (0, 1), "exact": (0,)}),
    "qhm": (BUILTIN["qhm"], {"stationary": (0, 1, 2, 3), "exact": (0, 2)}),
    "torch SGD": (TORCH["SGD"], {"stationary": (0, 1, 2, 3), "exact": (0, 3)}),
    "torch SGD(nesterov=True)": (TORCH["SGD"](nesterov=True), {"stationary": (0, 1, 2), "exact": (0, 1)}),
    "torch Adam": (TORCH["Adam"], {"stationary": (0,), "exact": (0,)}),
    "torch AdamW": (TORCH["AdamW"], {"stationary": (0, 1), "exact": (0,)}),
    "torch RMSprop": (TORCH["RMSprop"], {"stationary": (0,), "exact": (1,)}),
}


def _terms(equation) -> tuple[list, Any]:
    """The terms of a derived equation (per-step lists for stepwise ones) and its atom table."""
    terms = [list(t) if isinstance(t, tuple) else t for t in equation.terms]
    return terms, equation.atoms


def _derive(opt, order, regime):
    return lambda values: _terms(modeq.derive(opt, order=order, regime=regime, values=values, max_seconds=None))


def _cases() -> list[Case]:
    cases = []
    variants = {name: BUILTIN[name] for name in RECORDED}
    variants["adam(eps_inside=False)"] = adam(eps_inside=False)
    variants["adam(bias_correction=False)"] = adam(bias_correction=False)
    variants["rmsprop(bias_correction=True)"] = rmsprop(bias_correction=True)
    for name, opt in variants.items():
        for regime in ("stationary", "exact"):
            for order in range(5):
                cases.append(Case(f"{name} {regime} order {order}", opt, _derive(opt, order, regime), order <= 2))
    for name, (opt, orders) in ADDED.items():
        for regime, chosen in orders.items():
            for order in chosen:
                cases.append(Case(f"{name} {regime} order {order}", opt, _derive(opt, order, regime), order <= 2))
    gd, sam, hb = BUILTIN["gd"], BUILTIN["sam"], BUILTIN["heavy_ball"]
    for order in (1, 2):
        cases.append(Case(f"gd epoch shuffled m=2 order {order}", gd,
                          lambda v, o=order: _terms(modeq.derive_epoch(gd, 2, order=o, values=v)), True, True))
    cases.append(Case("sam epoch cyclic m=2 order 1", sam,
                      lambda v: _terms(modeq.derive_epoch(sam, 2, order=1, schedule="cyclic", values=v)), True, True))
    cases.append(Case("adam steps 3 batches 2 order 1", adam,
                      lambda v: _terms(modeq.derive_steps(adam, 3, order=1, batches=2, values=v)),
                      False, True))
    cases.append(Case("heavy_ball steps 3 order 2", hb,
                      lambda v: _terms(modeq.derive_steps(hb, 3, order=2, values=v)), False))
    return cases


CASES = _cases()


def _materialize(terms: list, atoms, case: Case, values: dict) -> list:
    if terms and isinstance(terms[0], list):  # per-step terms
        return [_materialize(t, atoms, case, values) for t in terms]
    return materialize_terms(terms, atoms, case.optimizer, values, case.batches)


def materialize_terms(terms: list, atoms, optimizer: Optimizer, values: dict, batches: bool = False) -> list:
    """Index-form ``terms`` (atoms in the table ``atoms``) in components on
    :data:`LOSS` (or :data:`BATCHES`), hyperparameters at ``values``."""
    substitutions = optimizer.substitutions(values)
    loss, batches = (None, BATCHES) if batches else (LOSS, None)
    equation = modeq.ModifiedEquation(optimizer, len(terms) - 1, "", {}, tuple(terms), atoms=atoms)
    components = equation.materialize(loss, PARAMS, batches).terms
    return [[c.xreplace(substitutions) for c in term] for term in components]


def _strings(terms: list) -> list:
    return [_strings(t) if isinstance(t, list) else str(t) for t in terms]


def describe(case: Case) -> dict:
    """The case's record: ``terms`` (str) and ``components`` (expressions), or
    ``error``; ``seconds`` is the derivation time (informative)."""
    values = rational_values(case.optimizer)
    start = time.perf_counter()
    try:
        terms, atoms = case.run(None if case.symbolic else values)
    except Exception as error:  # noqa: BLE001 - a refusal is part of the record
        return {"error": [type(error).__name__, str(error)], "seconds": time.perf_counter() - start}
    seconds = time.perf_counter() - start
    return {"terms": _strings(terms), "components": _materialize(terms, atoms, case, values), "seconds": seconds}
