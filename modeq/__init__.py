"""modeq: modified equations (backward error analysis) of optimization algorithms.

Derive the ODE whose flow the iterates of an optimizer follow, to any order in
the step size ``h``, symbolically; print it; check it against the iterates.

>>> import modeq
>>> eq = modeq.derive(modeq.optimizers.adam, order=1)
>>> print(eq)  # doctest: +SKIP
"""

from . import optimizers
from .solver import derive, derive_components
from .equation import ComponentField, ModifiedEquation
from .loss import parse_loss

__version__ = "0.1.0"

__all__ = ["optimizers", "derive", "derive_components", "ModifiedEquation", "ComponentField", "parse_loss", "__version__"]
