"""The autodiff field equals the numba-compiled field on a 10-parameter
polynomial at orders 0-2 (order 3 where it compiles in seconds), for every
built-in but those with slow states (refused), schedules or Lookahead's cycles (compared on the
bilinear loss only); the helpers and the bilinear
cases are in ``test_agreement.py``. A file of its own, so that parallel runs
(``pytest -n``, one file per worker) share the agreement checks between two
workers."""

import numpy as np
import pytest

from modeq.optimizers import BUILTIN
from test_agreement import CHEAP_AT_ORDER_3, POLYNOMIAL, REFUSED, SHORT_CYCLES, TIMED, P, compare, polynomial


@pytest.mark.parametrize("name", [name for name in BUILTIN if name not in REFUSED | TIMED | set(SHORT_CYCLES)])
def test_polynomial_in_ten_parameters(name, cache):
    rng = np.random.default_rng(0)
    points = [rng.uniform(-1, 1, 10) for _ in range(2)]
    order = 3 if name in CHEAP_AT_ORDER_3 else 2
    assert compare(BUILTIN[name], POLYNOMIAL, P, polynomial, order, points, cache) < 1e-10
