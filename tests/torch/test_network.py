"""The network check of issue 15: a tanh MLP on scikit-learn's digits
(61 -> 80 -> 10, 5,370 parameters, 500 images, full batch, float64) against
torch.optim's own iterates (global error from a history-consistent start).

* SGD with momentum 0.9: orders 0-2 confirmed (measured: slopes 1.10, 2.14,
  3.20).
* Adam with a large eps (eps = 1, beta1 = 0.9, beta2 = 0.999; root test of
  the terms 0.017..0.0041): orders 0-2 confirmed (measured: slopes 1.06,
  2.10, 3.02). Marked slow: beta2 = 0.999 makes the history-consistent start
  integrate the order-2 field (about 25 gradients per evaluation) back over
  9.4 h/(1 - beta2), about one unit of flow time, per step size; measured
  22.5 s (the SGD case 9.3 s, the small-eps case 0.4 s; 22 s of CPU for the
  three together, load average 2 on 2 cores).
* Adam with eps = 1e-8 (beta1 = 0.9, beta2 = 0.999): the modified equation is
  an expansion in h at fixed eps and fixed gradient. Its terms grow like
  a_j^k with a_j = h beta2/(1-beta2) |d/dt grad_j E| / (|grad_j E| + eps): the
  moving average of g_j^2 over the last ~1/(1-beta2) steps is expanded around
  g_j^2, which holds only while g_j changes by less than its own size (or eps)
  within that memory. On this network a_j reaches 4e3 at h = 1e-4 and 1e3 at
  h = 2.5e-5 (median 2.5 and 0.6): at every step size where errors of order
  h^3 are above rounding, no truncation approximates Adam. verify says so
  (FIELD BLOWS UP, with the root-test number of the terms at theta0) without
  running the flows. The same eps = 1e-8 and beta2 = 0.999 are confirmed
  where the expansion holds (tests/torch/test_verify.py, bilinear loss)."""

import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

import modeq.torch


@pytest.fixture(scope="module")
def network():
    X, y = load_digits(return_X_y=True)
    X, y = X[:500], y[:500]
    X = X[:, X.std(0) > 0]  # constant pixels: their weights never move (g = 0 exactly)
    X = torch.tensor((X - X.mean(0)) / X.std(0), dtype=torch.float64)
    y = torch.tensor(y)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(X.shape[1], 80), nn.Tanh(), nn.Linear(80, 10)).double()
    assert modeq.torch.flat_parameters(model).numel() >= 5000
    return model, lambda m: nn.functional.cross_entropy(m(X), y)


@pytest.mark.parametrize("optimizer, values, hs, T, max_step", [
    (torch.optim.SGD, dict(momentum=0.9), [1e-3, 5e-4, 2.5e-4], 0.01, 0.05),
    pytest.param(torch.optim.Adam, dict(betas=(0.9, 0.999), eps=1.0), [1e-4, 5e-5, 2.5e-5], 0.005, 0.1,
                 marks=pytest.mark.slow),
], ids=["sgd-momentum", "adam-large-eps"])
def test_orders_0_to_2_against_torch_optim(network, optimizer, values, hs, T, max_step):
    model, loss = network
    report = modeq.torch.verify(optimizer, loss, model=model, order=2, values=values, hs=hs, T=T, checkpoints=2,
                                max_step=max_step)
    assert report.method == "history"
    assert report.passed, report.table()
    assert [r.expected for r in report.orders] == [1, 2, 3]


def test_adam_small_eps_is_outside_the_expansion_and_says_so(network):
    model, loss = network
    report = modeq.torch.verify(torch.optim.Adam, loss, model=model, order=2,
                                values=dict(betas=(0.9, 0.999), eps=1e-8), hs=[1e-4, 5e-5, 2.5e-5], T=0.005)
    assert [r.status for r in report.orders] == ["FIELD BLOWS UP"] * 3, report.table()
    growth = next(n for n in report.notes if n.startswith("terms at theta0"))
    assert min(float(x) for x in growth.split("= ")[1].split(" at")[0].split(", ")) > 100, growth
    assert any("moving averages' memory" in n for n in report.notes)
