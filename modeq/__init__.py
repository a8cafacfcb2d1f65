"""modeq: modified equations (backward error analysis) of optimization algorithms.

Derive the ODE whose flow the iterates of an optimizer follow, to any order in
the step size ``h``, symbolically; print it; check it against the iterates.

>>> import modeq
>>> eq = modeq.derive(modeq.optimizers.adam, order=1)
>>> print(eq)  # doctest: +SKIP

The names below are imported on first use, so that loading a compiled field
from the cache (:mod:`modeq.numerics`) does not import SymPy.
"""

import importlib

__version__ = "0.1.0"

#: Public name -> module that defines it (imported on first access).
_EXPORTS = {
    "derive": ".solver",
    "derive_components": ".solver",
    "ComponentField": ".equation",
    "ModifiedEquation": ".equation",
    "parse_loss": ".loss",
    "derive_epoch": ".epoch",
    "derive_steps": ".stepwise",
    "StepwiseEquation": ".stepwise",
    "verify": ".numerics.verify",
    "VerificationReport": ".numerics.report",
}

__all__ = ["optimizers", "derive", "derive_components", "ModifiedEquation", "ComponentField", "parse_loss",
           "derive_epoch", "derive_steps", "StepwiseEquation", "verify", "VerificationReport", "__version__"]


def __getattr__(name: str):
    if name == "optimizers":
        return importlib.import_module(".optimizers", __name__)
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'modeq' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
