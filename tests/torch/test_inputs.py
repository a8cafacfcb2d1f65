"""Bad input to modeq.torch gets one clear line (ValueError/TypeError naming the
argument and the fix); non-smooth models and losses get a warning that points
to smooth activations; models work through their trainable parameters."""

import warnings

import pytest
import torch
from torch import nn

import modeq
import modeq.torch
from modeq.optimizers import BUILTIN

EQ = modeq.derive(BUILTIN["gd"], order=1)


def bilinear(t):
    return (1.5 - 2 * t[0] * t[1]) ** 2 / 2


def point(*values, dtype=torch.float64):
    return torch.tensor(values, dtype=dtype)


def mlp(activation=nn.Tanh, extra=()):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), activation(), *extra, nn.Linear(4, 1)).double()


DATA = torch.linspace(-1, 1, 15, dtype=torch.float64).reshape(5, 3)


def model_loss(model):
    return (model(DATA) ** 2).mean()


def test_loss_must_return_a_scalar():
    field = modeq.torch.compile(EQ, lambda t: t**2)
    with pytest.raises(ValueError, match=r"loss_fn must return a scalar \(a 0-d tensor\), got shape \(2,\)"):
        field.terms(point(0.1, 0.2))


def test_point_shape_and_dtype():
    field = modeq.torch.compile(EQ, bilinear)
    with pytest.raises(ValueError, match="flat"):
        field.terms(torch.zeros(2, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="floating dtype"):
        field.terms(torch.tensor([1, 2]))
    with pytest.raises(TypeError, match="torch tensor"):
        field.terms([0.1, 0.2])
    model = mlp()
    field = modeq.torch.compile(EQ, model_loss, model=model)
    theta = modeq.torch.flat_parameters(model)
    with pytest.raises(ValueError, match=r"has 3 values, but the model has 21 trainable parameters"):
        field.terms(theta[:3])
    with pytest.raises(ValueError, match="dtype torch.float32 but the model's parameters are torch.float64"):
        field.terms(theta.float())
    with pytest.raises(ValueError, match="order must be a whole number between 0 and 1"):
        field.terms(theta, order=2)


def test_model_field_is_the_flat_field():
    """A model's field equals the field of the same loss written on the flat vector."""
    model = mlp()
    theta = modeq.torch.flat_parameters(model)
    sizes = [p.numel() for p in model.parameters()]

    def flat(t):
        w1, b1, w2, b2 = torch.split(t, sizes)
        hidden = torch.tanh(DATA @ w1.view(4, 3).T + b1)
        return ((hidden @ w2.view(1, 4).T + b2) ** 2).mean()

    eq = modeq.derive(BUILTIN["adam"], order=2, values={"eps": 0.01})
    a = modeq.torch.compile(eq, model_loss, model=model)(theta, 0.01)
    b = modeq.torch.compile(eq, flat)(theta, 0.01)
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_frozen_parameters_are_constants_and_all_frozen_is_an_error():
    model = mlp()
    model[0].weight.requires_grad_(False)
    field = modeq.torch.compile(EQ, model_loss, model=model)
    assert modeq.torch.flat_parameters(model).numel() == 21 - 12
    assert field.terms(modeq.torch.flat_parameters(model))[0].shape == (9,)
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="no parameters that require gradients"):
        modeq.torch.compile(EQ, model_loss, model=model)


@pytest.mark.parametrize("layer", [nn.Dropout(0.1), nn.BatchNorm1d(4)], ids=["dropout", "batchnorm"])
def test_training_mode_with_dropout_or_batchnorm_is_refused(layer):
    model = mlp(extra=(layer,))
    with pytest.raises(ValueError, match=r"training mode .* call model.eval\(\)"):
        modeq.torch.compile(EQ, model_loss, model=model)
    model.eval()
    field = modeq.torch.compile(EQ, model_loss, model=model)
    assert torch.isfinite(field.terms(modeq.torch.flat_parameters(model))[1]).all()


def test_relu_model_and_functional_relu_warn_and_point_to_smooth_activations():
    with pytest.warns(modeq.torch.NonSmoothWarning, match="ReLU.*tanh, GELU, softplus"):
        modeq.torch.compile(EQ, model_loss, model=mlp(nn.ReLU))
    field = modeq.torch.compile(EQ, lambda t: torch.relu(t).sum() + (t**2).sum())
    with pytest.warns(modeq.torch.NonSmoothWarning, match="relu"):
        field.terms(point(0.3, -0.2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        modeq.torch.compile(EQ, model_loss, model=mlp(nn.GELU)).terms(modeq.torch.flat_parameters(mlp(nn.GELU)))


def test_batch_losses_and_missing_batches():
    eq = modeq.derive_epoch(BUILTIN["gd"], 2, order=1)
    field = modeq.torch.compile(eq, [lambda t: (t**2).sum(), lambda t: ((t - 1) ** 2).sum()])
    f0, f1 = field.terms(point(0.5, 0.25))
    torch.testing.assert_close(f0, -(2 * point(0.5, 0.25) - 1))  # -(grad E_1 + grad E_2)/2
    with pytest.raises(ValueError, match="needs the batch loss E_2, but loss_fn gives only E_1, E"):
        modeq.torch.compile(eq, {1: lambda t: (t**2).sum()}).terms(point(0.5, 0.25))
    with pytest.raises(ValueError, match="batch labels 1, 2"):
        modeq.torch.compile(eq, {0: bilinear})


def test_exact_regime_is_refused():
    eq = modeq.derive(BUILTIN["adam"], order=1, regime="exact", values={"eps": 0.1})
    with pytest.raises(ValueError, match="regime='stationary'"):
        modeq.torch.compile(eq, bilinear)


def test_import_modeq_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, modeq; modeq.derive(modeq.optimizers.gd, order=1); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
