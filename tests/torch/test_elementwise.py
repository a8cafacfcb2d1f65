"""Elementwise expressions run slice by slice (modeq.torch.backend.Chunked) give the expression over the whole
vector, bit for bit: vectors of several slices and a remainder, 0-d tensors and numbers broadcast, float32 and
float64 (each slice computed in float64 and returned in the inputs' dtype)."""

import pytest
import sympy
import torch

from modeq.torch.backend import CHUNK, Chunked
from modeq.torch.printer import elementwise_function

x, y, s = sympy.symbols("x y s")
EXPR = (x**2 + s) / sympy.sqrt(y**2 + 1e-8) - x * y**3 / (1 + x**2) + sympy.exp(-y**2) * s


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sliced_expression_is_the_whole_expression(dtype):
    function = elementwise_function(EXPR, [x, y, s])
    size = 3 * CHUNK + 17
    torch.manual_seed(0)
    a, b = torch.randn(size, dtype=dtype), torch.randn(size, dtype=dtype)
    scale = torch.tensor(0.3, dtype=dtype)
    wide = [t.to(torch.float64) for t in (a, b, scale)]
    for third in (scale, 0.3):
        whole = function(*wide[:2], wide[2] if third is scale else third).to(dtype)
        sliced = Chunked(function)(a, b, third)
        assert sliced.shape == whole.shape and sliced.dtype == dtype
        assert torch.equal(sliced, whole)
    assert torch.equal(Chunked(function, chunk=5)(a[:12], b[:12], scale),
                       function(wide[0][:12], wide[1][:12], wide[2]).to(dtype))


@pytest.mark.parametrize("scale", [1e-2, 1e-4, 1e-6, 0.0])
def test_float32_fields_where_powers_of_eps_underflow(scale):
    """Adam's order-3 terms hold powers of eps = 1e-8 below float32's smallest normal number (a denominator
    336 g^10 + ... + 1.6e-39): computed in float32 that term was nan wherever |grad E| <~ 1e-4, and at the
    minimum. The slices are evaluated in float64: each term in float32 equals the float64 field at the same
    point (to float32 rounding of the contractions), and every term is 0 at the minimum."""
    import modeq
    import modeq.torch
    from modeq.optimizers import get

    adam = get("adam")
    field = modeq.torch.compile(modeq.derive(adam, order=3, values=adam.defaults()),
                                lambda theta: (theta**2).sum() / 2 + (theta**4).sum() / 4)
    point = scale * torch.linspace(-1.5, 1.0, 6, dtype=torch.float32)
    for low, high in zip(field.terms(point), field.terms(point.to(torch.float64))):
        assert low.dtype == torch.float32 and bool(torch.isfinite(low).all())
        size = float(high.abs().max())
        assert float((low.to(torch.float64) - high).abs().max()) <= 1e-4 * size
        if scale == 0.0:
            assert size == 0.0
