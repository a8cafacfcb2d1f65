"""The autodiff field equals the numba-compiled field on a 10-parameter
polynomial at orders 0-2 (order 3 where it compiles in seconds), for every
built-in but those with schedules or Lookahead's cycles (compared on the bilinear loss only; those
with slow states at points of theta and the states); the helpers and the bilinear
cases are in ``test_agreement.py``. A file of its own, so that parallel runs
(``pytest -n``, one file per worker) share the agreement checks between two
workers."""

import numpy as np
import pytest

import modeq
from modeq.optimizers import BUILTIN
from test_agreement import (CHEAP_AT_ORDER_3, POLYNOMIAL, REFUSED, SHORT_CYCLES, SLOW_STATES, TIMED, P, compare,
                            polynomial)


#: Schedule-free AdamW on the polynomial agrees as well (order 2, 66 s of derivation and compilation on the
#: shared machine): left to the bilinear loss.
COSTLY = {"schedule_free_adamw"}


@pytest.mark.parametrize("name", [name for name in BUILTIN if name not in REFUSED | TIMED | set(SHORT_CYCLES) | COSTLY])
def test_polynomial_in_ten_parameters(name, cache):
    rng = np.random.default_rng(0)
    points = [rng.uniform(-1, 1, 10) for _ in range(2)]
    if name in SLOW_STATES:  # points (theta, s_1, ...): positive states (AdaGrad's V, schedule-free's tau)
        states = len(modeq.derive(BUILTIN[name], order=0).states)
        points = [np.concatenate([p] + [rng.uniform(0.1, 1.5, 10) for _ in range(states)]) for p in points]
    order = 3 if name in CHEAP_AT_ORDER_3 else 2
    assert compare(BUILTIN[name], POLYNOMIAL, P, polynomial, order, points, cache) < 1e-10
