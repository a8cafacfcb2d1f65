"""Elementwise expressions run slice by slice (modeq.torch.backend.Chunked) give the expression over the whole
vector, bit for bit: vectors of several slices and a remainder, 0-d tensors and numbers broadcast, float32 and
float64."""

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
    for third in (scale, 0.3):
        whole = function(a, b, third)
        sliced = Chunked(function)(a, b, third)
        assert sliced.shape == whole.shape and sliced.dtype == dtype
        assert torch.equal(sliced, whole)
    assert torch.equal(Chunked(function, chunk=5)(a[:12], b[:12], scale), function(a[:12], b[:12], scale))
