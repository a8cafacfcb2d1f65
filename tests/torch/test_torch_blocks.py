"""Parameter blocks on the torch backend (issue 16): the fields of Muon (both
forms), LARS, LAMB, Shampoo (its sums as slow states, one- and two-sided) and
one-sided Shampoo with moving averages by automatic differentiation
(modeq.torch.compile, the blocks taken from the model's tensors or from params) equal the same
equations evaluated by the NumPy backend on the SymPy loss (derivative tensors
by lambdify), on the two-layer linear network ½‖W₂W₁ − A‖² of the reference
tests, orders 0-2, to 1e-10 relative to each term's size."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import modeq
import modeq.torch
from modeq.evaluation import Evaluator, NumpyBackend, atom_table, constants_for
from modeq.optimizers import lamb, lars, muon, shampoo, shampoo_ema

sys.path.insert(0, str(Path(__file__).parents[1] / "reference"))
from two_layer import A, SQUARE_THETA0, THETA0, W1, W2, sympy_loss  # noqa: E402  (the reference tests' shared helper)


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.W1 = nn.Parameter(torch.tensor(W1))
        self.W2 = nn.Parameter(torch.tensor(W2))


def model_loss(model):
    return ((model.W2 @ model.W1 - torch.tensor(A)) ** 2).sum() / 2


def flat_loss(theta):
    return ((theta[6:].view(2, 3) @ theta[:6].view(3, 2) - torch.tensor(A)) ** 2).sum() / 2


CASES = [
    ("muon", muon, {"momentum": 0.5}),
    ("muon-msign", muon(orthogonalizer="msign"), {"momentum": 0.5}),
    ("lars", lars, {"momentum": 0.5, "trust": 0.3, "weight_decay": 0.1}),
    ("lamb", lamb, {"beta1": 0.5, "beta2": 0.6, "eps": 0.1}),
    # Shampoo's moving-average form (no slow state): a map of three blocks, inverse roots of the statistics
    ("shampoo_ema-one", shampoo_ema(sides="one"), {"beta2": 0.5}),
]


@pytest.mark.parametrize("name, opt, values", CASES, ids=[c[0] for c in CASES])
def test_block_fields_equal_the_numpy_backend(name, opt, values):
    equation = modeq.derive(opt, order=2, values=values)
    loss, params = sympy_loss()
    numpy_terms = Evaluator(equation.terms, atom_table(equation), NumpyBackend(loss, params),
                            constants_for(equation))(THETA0)
    theta = torch.tensor(THETA0)
    for field in (modeq.torch.compile(equation, model_loss, model=TwoLayer().double()),
                  modeq.torch.compile(equation, flat_loss, params={"W1": (3, 2), "W2": (2, 3)})):
        for k, (ours, expected) in enumerate(zip(field.terms(theta), numpy_terms)):
            assert np.abs(ours.numpy() - expected).max() < 1e-10 * np.abs(expected).max(), (name, k)


def square_loss(theta):
    return ((theta[4:].view(2, 2) @ theta[:4].view(2, 2) - torch.tensor(A)) ** 2).sum() / 2


@pytest.mark.parametrize("sides, parts", [("one", 1), ("both", 1), ("both", 2)], ids=["one", "both", "both-parts"])
def test_shampoo_slow_statistics_equal_the_numpy_backend(sides, parts):
    """Shampoo's sums (slow states L, R beside theta): the terms of theta and of each statistic at
    points (theta, L, R), as the NumPy backend's given the same statistics (zero, and the order-0
    statistic's term, a Gram matrix), orders 0-2; one-sided on the 3x2 / 2x3 model, two-sided on the
    square network (2x2 blocks) as a loss of a flat tensor, and in two parts on the 3x2 / 2x3 model."""
    equation = modeq.derive(shampoo(sides=sides, parts=parts), order=2)
    square = sides == "both" and parts == 1
    loss, params = sympy_loss(square=square)
    theta0 = SQUARE_THETA0 if square else THETA0
    names = [state.name for state in equation.states]
    terms = [t for k in range(3) for t in (equation.terms[k], *(state.terms[k] for state in equation.states))]
    evaluator = Evaluator(terms, atom_table(equation), NumpyBackend(loss, params), constants_for(equation))
    blocks = len(names) + 1
    grams = evaluator(theta0, blocks - 1, states={name: np.zeros(theta0.size) for name in names})[1:]
    field = (modeq.torch.compile(equation, square_loss, params={"W1": (2, 2), "W2": (2, 2)}) if square
             else modeq.torch.compile(equation, model_loss, model=TwoLayer().double()))
    assert field.states == tuple(names)
    for c in (0.0, 0.5):
        statistics = [c * gram for gram in grams]
        expected = evaluator(theta0, 3 * blocks - 1, states=dict(zip(names, statistics)))
        got = field.terms(torch.tensor(np.concatenate([theta0, *statistics])))
        for k in range(3):
            want = np.concatenate(expected[k * blocks:(k + 1) * blocks])
            assert np.abs(got[k].numpy() - want).max() < 1e-10 * np.abs(want).max(), (sides, parts, c, k)


def test_torch_muon_is_refused_by_the_torch_study_with_the_way_to_verify_it():
    with pytest.raises(ValueError, match=r"torch.optim.Muon is not run by this study: .*bfloat16.*modeq.verify\(muon"):
        modeq.torch.verify(torch.optim.Muon, model_loss, model=TwoLayer().double(), order=1)


def test_blocks_are_required_and_named():
    equation = modeq.derive(muon(orthogonalizer="msign"), order=0)
    with pytest.raises(ValueError, match="modeq.torch takes from the model"):
        modeq.torch.compile(equation, flat_loss).terms(torch.tensor(THETA0))
    with pytest.raises(ValueError, match="give params only for a loss of a flat tensor"):
        modeq.torch.compile(equation, model_loss, model=TwoLayer().double(), params="W1:3x2,W2:2x3")
    with pytest.raises(ValueError, match="the blocks of params have 12"):
        modeq.torch.compile(equation, flat_loss, params="W1:3x2,W2:2x3").terms(torch.zeros(10, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"the matrix block W1 \(3x2\) is rank-deficient here"):
        modeq.torch.compile(equation, model_loss, model=TwoLayer().double()).terms(torch.zeros(12, dtype=torch.float64))
