"""Lookahead around Adam: each term of the modified field of its cycle map gains one order in h
(DESIGN.md §1.6). beta = rho = 0.5 (cycle rates 1/32) and eps = 1, as for the timed built-ins in
test_numerics_orders.py: h << 1 - beta^k and a normalization that is smooth in the gradient."""

import pytest

from modeq import verify
from modeq.optimizers import lookahead

from test_numerics_orders import assert_slopes


@pytest.mark.slow  # ~13 s of CPU: the order-2 derivation (~10 s) and its compilation
def test_lookahead_orders_0_to_2(cache):
    report = verify(lookahead, "(x*y - 1)**2/2 + x**4/4", "x,y", [1.0, 0.5], order=2,
                    values={"beta": 0.5, "rho": 0.5, "eps": 1.0, "alpha": 0.5}, T=1.0,
                    hs=[0.04, 0.02, 0.01, 0.005], cache_dir=cache)
    assert report.method == "history"
    assert_slopes(report)
    assert [round(r.fitted) for r in report.orders] == [1, 2, 3]
