"""A loss declared a mean over samples (``data=``) is evaluated over ``chunks``
slices of its rows for the contractions of two or more directions (and, with
them, every contraction): the field equals the unchunked one to 1e-12 (float64,
relative to the term's size), because every atom is linear in the loss, on a
tanh MLP and on the 10-parameter polynomial, orders 0-3, with uneven chunks;
losses that are not means (or sums) over their rows are refused in one line."""

import pytest
import torch
from torch import nn

import modeq
import modeq.torch
from modeq.optimizers import BUILTIN
from test_agreement import polynomial

ADAM = {"eps": 0.1, "beta": 0.8, "rho": 0.95}


def equation(name, order):
    return modeq.derive(BUILTIN[name], order=order, values=ADAM if name == "adam" else {"beta": 0.8})


def worst(a, b):
    """The largest difference of two lists of terms, relative to each term's size."""
    return max(float((u - v).abs().max()) / max(1.0, float(u.abs().max())) for u, v in zip(a, b))


@pytest.fixture(scope="module")
def mlp():
    torch.manual_seed(0)
    X = torch.randn(37, 5, dtype=torch.float64)
    y = torch.randint(0, 3, (37,))
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    return model, (X, y)


def cross_entropy(m, X, y):
    return nn.functional.cross_entropy(m(X), y)


def shifted_polynomials(theta, C):
    """The mean over the rows c of C of the test polynomial at theta - c."""
    return torch.stack([polynomial(theta - c) for c in C]).mean()


@pytest.mark.parametrize("name, order", [("adam", 3), ("heavy_ball", 3)])
def test_chunked_mlp_field_is_the_field(mlp, name, order):
    model, data = mlp
    eq = equation(name, order)
    theta = modeq.torch.flat_parameters(model)
    whole = modeq.torch.compile(eq, cross_entropy, model=model, data=data, chunks=1)
    assert modeq.torch.compile(eq, cross_entropy, model=model, data=data).losses.chunks == 4  # the default
    for k in (2, 5):  # 5 chunks of 37 rows: 8, 8, 7, 7, 7 (weights n_c / n)
        chunked = modeq.torch.compile(eq, cross_entropy, model=model, data=data, chunks=k)
        for j in range(order + 1):  # each order on its own: orders 0-1 share a linearization, 2-3 chunk all
            assert worst(whole.terms(theta, order=j), chunked.terms(theta, order=j)) < 1e-12
        assert torch.allclose(chunked(theta, 0.01), whole(theta, 0.01), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["adam", "heavy_ball"])
def test_chunked_polynomial_field_is_the_field(name):
    rng = torch.Generator().manual_seed(1)
    C = 0.3 * torch.randn(6, 10, dtype=torch.float64, generator=rng)
    theta = torch.rand(10, dtype=torch.float64, generator=rng) * 2 - 1
    eq = equation(name, 3)
    whole = modeq.torch.compile(eq, shifted_polynomials, data=C, chunks=1).terms(theta)
    assert worst(modeq.torch.compile(eq, lambda t: shifted_polynomials(t, C)).terms(theta), whole) < 1e-12
    for k in (2, 4):
        assert worst(whole, modeq.torch.compile(eq, shifted_polynomials, data=C, chunks=k).terms(theta)) < 1e-12
    assert modeq.torch.compile(eq, shifted_polynomials, data=C[:3]).losses.chunks == 3  # at most the rows


@pytest.mark.parametrize("name", ["adagrad", "schedule_free_sgd"])
def test_truncated_field_with_slow_states_is_the_sum_of_its_terms(mlp, name):
    """With slow states the field (theta, s_1, ...) -> sum_k h^k (f_k, f^s_k, ...) adds each part as it is
    computed, as without: it equals the sum of the terms, whole and in chunks, orders 0-2."""
    model, data = mlp
    eq = modeq.derive(BUILTIN[name], order=2, values=BUILTIN[name].defaults())
    theta = modeq.torch.flat_parameters(model)
    for k in (1, 3):
        field = modeq.torch.compile(eq, cross_entropy, model=model, data=data, chunks=k)
        point = torch.cat([theta] + [theta.abs() + 0.5] * len(field.states))
        terms = field.terms(point)
        for order in range(3):
            expected = sum(0.05**j * terms[j] for j in range(order + 1))
            assert torch.allclose(field(point, 0.05, order), expected, rtol=1e-13, atol=1e-15)


def test_sum_reduction_and_batches_of_data(mlp):
    model, (X, y) = mlp
    theta = modeq.torch.flat_parameters(model)
    eq = equation("heavy_ball", 2)

    def summed(m, X, y):
        return nn.functional.cross_entropy(m(X), y, reduction="sum")

    whole = modeq.torch.compile(eq, summed, model=model, data=(X, y), chunks=1, reduction="sum").terms(theta)
    chunked = modeq.torch.compile(eq, summed, model=model, data=(X, y), chunks=3, reduction="sum").terms(theta)
    assert worst(whole, chunked) < 1e-12
    # batch losses E_1, E_2 over the rows of two batches (E their mean) for a mini-batch equation
    epoch = modeq.derive_epoch(BUILTIN["gd"], 2, order=2)
    batches = [(X[:20], y[:20]), (X[20:], y[20:])]
    listed = [lambda m, b=b: cross_entropy(m, *b) for b in batches]
    expected = modeq.torch.compile(epoch, listed, model=model).terms(theta)
    whole = modeq.torch.compile(epoch, cross_entropy, model=model, data=batches, chunks=1).terms(theta)
    assert worst(expected, whole) < 1e-12
    got = modeq.torch.compile(epoch, cross_entropy, model=model, data=batches, chunks=3).terms(theta)
    assert worst(expected, got) < 1e-12


def test_chunks_need_a_loss_over_data(mlp):
    model, (X, y) = mlp
    eq = equation("heavy_ball", 2)
    with pytest.raises(ValueError, match=r"chunks=4 evaluates the loss over parts of its samples.*give data=\(X, y\)"):
        modeq.torch.compile(eq, lambda m: cross_entropy(m, X, y), model=model, chunks=4)
    with pytest.raises(ValueError, match="chunks=40 is more than the 37 samples"):
        modeq.torch.compile(eq, cross_entropy, model=model, data=(X, y), chunks=40)
    with pytest.raises(ValueError, match="chunks must be a whole number >= 1, got 0"):
        modeq.torch.compile(eq, cross_entropy, model=model, data=(X, y), chunks=0)
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'sum'"):
        modeq.torch.compile(eq, cross_entropy, model=model, data=(X, y), reduction="max")
    with pytest.raises(ValueError, match=r"must share their first dimension.*\[\(37, 5\), \(36,\)\]"):
        modeq.torch.compile(eq, cross_entropy, model=model, data=(X, y[:36]))
    with pytest.raises(ValueError, match="data is an empty list"):
        modeq.torch.compile(eq, cross_entropy, model=model, data=[])
    with pytest.raises(TypeError, match="with data, loss_fn is one function of the parameters and the data"):
        modeq.torch.compile(eq, [cross_entropy], model=model, data=(X, y))


def test_a_loss_that_is_no_mean_over_its_rows_is_refused(mlp):
    model, data = mlp
    theta = modeq.torch.flat_parameters(model)

    def centered(m, X, y):  # batch statistics: the chunks' losses do not add up to the loss
        out = m(X)
        return ((out - out.mean(0)) ** 2).mean()

    field = modeq.torch.compile(equation("heavy_ball", 2), centered, model=model, data=data, chunks=2)
    with pytest.raises(ValueError, match="loss_fn over data is .*, but over its 2 chunks it sums to .*reduction='mean'"):
        field.terms(theta)
    summed = modeq.torch.compile(equation("heavy_ball", 2), cross_entropy, model=model, data=data, chunks=2,
                                 reduction="sum")  # declared a sum, but a mean
    with pytest.raises(ValueError, match="over its 2 chunks it sums to"):
        summed.terms(theta)


def test_verify_takes_a_loss_over_data():
    """torch.optim steps on the loss over all the rows; the modified flow's order-2 field is chunked."""
    C = torch.tensor([[0.1, -0.2], [0.0, 0.3], [-0.1, 0.1], [0.2, 0.0]], dtype=torch.float64)

    def shifted_bilinear(t, C):
        return ((1.5 - 2 * (t[0] - C[:, 0]) * (t[1] - C[:, 1])) ** 2 / 2).mean()

    report = modeq.torch.verify(torch.optim.SGD, shifted_bilinear, torch.tensor([0.6, 0.4], dtype=torch.float64),
                                order=2, values=dict(momentum=0.5), hs=[4e-3, 2e-3, 1e-3], T=0.05, checkpoints=2,
                                data=C, chunks=2)
    assert report.passed, report.table()
    assert [r.expected for r in report.orders] == [1, 2, 3]
