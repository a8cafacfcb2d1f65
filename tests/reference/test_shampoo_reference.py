"""Shampoo (issue 16) against ``pytorch_optimizer.Shampoo`` (4.1) in float64: 50
steps on the square two-layer network ½‖W₂W₁ − A‖² (two 2×2 blocks: two-sided
Shampoo stores both statistics in states of the block's shape) and on the 3×2 /
2×3 one (``parts=2``: each 3×3 statistic in two states), to 1e-12. The
reference has no one-sided option: the one-sided form is compared with the
paper's formula :math:`W \\leftarrow W - \\eta L^{-1/2}G` (smaller side) in a
float64 torch loop on the 3×2 / 2×3 network (both orientations).

modeq runs the rescaled form (:mod:`modeq.optimizers.shampoo`): step size
:math:`h = \\eta^2` and ``eps`` :math:`= \\eta^2` ``matrix_eps``. The moving-average
form (``shampoo_ema``, :math:`h = \\eta`) has no reference implementation without
grafting: its formula runs in a float64 torch loop too, on both networks (``parts=2`` on the
3×2 / 2×3 one)."""

import numpy as np
import pytest
import sympy
import torch
from pytorch_optimizer import Shampoo

import modeq
from modeq.description import DescriptionError
from modeq.optimizers import shampoo, shampoo_ema

from two_layer import SQUARE, SQUARE_THETA0, STEPS, THETA0, sympy_loss, torch_iterates

ETA, MATRIX_EPS = 0.05, 1e-3


class OneSidedShampoo(torch.optim.Optimizer):
    """:math:`S \\leftarrow S + GG^\\top` (:math:`G^\\top G` for a tall block) from
    :math:`\\epsilon I`, :math:`W \\leftarrow W - \\eta S^{-1/2}G` (:math:`GS^{-1/2}`), by eigh."""

    def __init__(self, params, lr, matrix_eps):
        super().__init__(params, {"lr": lr, "matrix_eps": matrix_eps})

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for w in group["params"]:
                g = w.grad
                wide = g.shape[0] <= g.shape[1]
                state = self.state[w]
                if not state:
                    state["S"] = group["matrix_eps"] * torch.eye(min(g.shape), dtype=g.dtype)
                state["S"] += g @ g.T if wide else g.T @ g
                lam, q = torch.linalg.eigh(state["S"])
                root = q @ torch.diag(lam ** -0.5) @ q.T
                w -= group["lr"] * (root @ g if wide else g @ root)


class MovingAverageShampoo(torch.optim.Optimizer):
    """:math:`L \\leftarrow \\beta L + (1-\\beta)GG^\\top`, :math:`R` likewise, from 0;
    :math:`W \\leftarrow W - \\eta(L+\\epsilon I)^{-1/4}G(R+\\epsilon I)^{-1/4}`, by eigh."""

    def __init__(self, params, lr, beta, eps):
        super().__init__(params, {"lr": lr, "beta": beta, "eps": eps})

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for w in group["params"]:
                g, state, beta = w.grad, self.state[w], group["beta"]
                if not state:
                    state["L"], state["R"] = torch.zeros_like(g @ g.T), torch.zeros_like(g.T @ g)
                state["L"].mul_(beta).add_((1 - beta) * (g @ g.T))
                state["R"].mul_(beta).add_((1 - beta) * (g.T @ g))
                roots = []
                for s in (state["L"], state["R"]):
                    lam, q = torch.linalg.eigh(s + group["eps"] * torch.eye(len(s), dtype=s.dtype))
                    roots.append(q @ torch.diag(lam ** -0.25) @ q.T)
                w -= group["lr"] * roots[0] @ g @ roots[1]


def test_the_moving_average_form_equals_its_formula(cache):
    expected = torch_iterates(lambda params: MovingAverageShampoo(params, lr=ETA, beta=0.9, eps=1e-4), start=SQUARE)
    loss, params = sympy_loss(square=True)
    got = modeq.iterates(shampoo_ema(eps=1e-4), loss, params, SQUARE_THETA0, ETA, STEPS, values={"beta2": 0.9},
                         cache_dir=cache)
    assert np.abs(expected[-1] - SQUARE_THETA0).max() > 0.3
    assert np.abs(got - expected).max() < 1e-12


def test_the_moving_average_form_on_non_square_blocks_equals_its_formula(cache):
    """The 3×2 / 2×3 network: ``parts=2`` stores each 3×3 moving average in two states of the block's
    shape; the loop keeps the full m×m and n×n matrices. β₂ = 0.99: with β₂ = 0.9 this run is
    ill-conditioned (the 3×3 averages of rank-two Gram matrices keep an eigenvalue near 0, so the
    step reacts to it through ε^{-1/4}; a 1e-12 change of θ₀ moves the 50th iterate by 5e-5, and
    both modeq and this loop drift 1e-5 from a 50-digit mpmath run of the formula); at 0.99 the
    same change moves it by 1.4e-12."""
    expected = torch_iterates(lambda params: MovingAverageShampoo(params, lr=ETA, beta=0.99, eps=1e-4))
    loss, params = sympy_loss()
    got = modeq.iterates(shampoo_ema(eps=1e-4, parts=2), loss, params, THETA0, ETA, STEPS, values={"beta2": 0.99},
                         cache_dir=cache)
    assert np.abs(expected[-1] - THETA0).max() > 0.3
    assert np.abs(got - expected).max() < 1e-12


def ours(form, square, values=None, cache=None):
    loss, params = sympy_loss(square)
    return modeq.iterates(form(eps=ETA**2 * MATRIX_EPS), loss, params, SQUARE_THETA0 if square else THETA0, ETA**2,
                          STEPS, values=values, cache_dir=cache)


def test_two_sided_equals_pytorch_optimizer_shampoo(cache):
    expected = torch_iterates(lambda params: Shampoo(params, lr=ETA, matrix_eps=MATRIX_EPS, momentum=0.0,
                                                     preconditioning_compute_steps=1), start=SQUARE)
    got = ours(shampoo, square=True, cache=cache)
    assert np.abs(expected[-1] - SQUARE_THETA0).max() > 0.3  # the run moves
    assert np.abs(got - expected).max() < 1e-12


def test_two_sided_on_non_square_blocks_equals_pytorch_optimizer_shampoo(cache):
    """The 3×2 / 2×3 network: each block's larger statistic (3×3) in two states of the block's shape."""
    expected = torch_iterates(lambda params: Shampoo(params, lr=ETA, matrix_eps=MATRIX_EPS, momentum=0.0,
                                                     preconditioning_compute_steps=1))
    got = ours(shampoo(parts=2), square=False, cache=cache)
    assert np.abs(expected[-1] - THETA0).max() > 0.3  # the run moves
    assert np.abs(got - expected).max() < 1e-12


def test_one_sided_equals_the_papers_formula_on_both_orientations(cache):
    expected = torch_iterates(lambda params: OneSidedShampoo(params, lr=ETA, matrix_eps=MATRIX_EPS))
    got = ours(shampoo(sides="one"), square=False, cache=cache)
    assert np.abs(expected[-1] - THETA0).max() > 0.3
    assert np.abs(got - expected).max() < 1e-12


@pytest.mark.slow  # a second compiled optimizer (about 25 s); the weight decay of the gradient
def test_weight_decay_equals_pytorch_optimizer_shampoo(cache):
    expected = torch_iterates(lambda params: Shampoo(params, lr=ETA, matrix_eps=MATRIX_EPS, weight_decay=0.1,
                                                     preconditioning_compute_steps=1), start=SQUARE)
    assert np.abs(ours(shampoo, square=True, values={"weight_decay": 0.1}, cache=cache) - expected).max() < 1e-12


def test_blocks_two_sided_shampoo_cannot_hold_are_refused_before_compiling(cache):
    loss, params = sympy_loss()
    with pytest.raises(DescriptionError, match=r"the left one of the block W1 \(3x2\) is 3x3, larger than 1 part.*"
                                               r"use shampoo\(parts=2\)"):
        modeq.iterates(shampoo, loss, params, THETA0, 0.01, 3, cache_dir=cache)
    blocks = modeq.blocks.as_blocks({"W": (2, 2), "b": (2,)})
    vector_loss = sum(x**2 for x in blocks.params) / 2 + sympy.Integer(0)
    with pytest.raises(DescriptionError, match=r"acts on matrix blocks, but the block b has shape \(2,\)"):
        modeq.iterates(shampoo(sides="one"), vector_loss, blocks.params, np.ones(6), 0.01, 3, cache_dir=cache)
