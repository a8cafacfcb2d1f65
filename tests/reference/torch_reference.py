"""Shared pieces of the reference tests (imported as a module; the fixture is in conftest.py): a small non-quadratic loss, written
once for SymPy (modeq) and once for torch (the references), and a runner that
records a reference optimizer's iterates in float64."""

import numpy as np
import sympy
import torch

X, Y, Z = sympy.symbols("x y z", real=True)
PARAMS = (X, Y, Z)
#: The bilinear loss plus a quartic coupling and a quadratic term.
LOSS = (sympy.Rational(3, 2) - 2 * X * Y) ** 2 / 2 + (X - Z) ** 4 / 4 + Z**2 / 2
THETA0 = (1.2, 0.8, -0.5)
STEPS = 100
TOLERANCE = 1e-12


def torch_loss(t: torch.Tensor) -> torch.Tensor:
    x, y, z = t[0], t[1], t[2]
    return (1.5 - 2 * x * y) ** 2 / 2 + (x - z) ** 4 / 4 + z**2 / 2


def reference_iterates(make, theta0=THETA0, steps=STEPS, loss=torch_loss) -> np.ndarray:
    """Iterates of the torch optimizer ``make([param])`` (float64), shape ``(steps+1, p)``."""
    param = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    opt = make([param])
    rows = [param.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        loss(param).backward()
        opt.step()
        rows.append(param.detach().numpy().copy())
    return np.array(rows)
