"""modeq: modified equations (backward error analysis) of optimization algorithms.

Derive the ODE whose flow the iterates of an optimizer follow, to any order in
the step size ``h``, symbolically; print it; check it against the iterates.

>>> import modeq
>>> eq = modeq.derive(modeq.optimizers.adam, order=1)
>>> print(eq)  # doctest: +SKIP

The names below are imported on first use, so that loading a compiled field
from the cache (:mod:`modeq.numerics`) does not import SymPy.
"""

from ._lazy import lazy_exports

from .version import __version__

#: Public name -> module that defines it (imported on first access).
_EXPORTS = {
    "optimizers": ".optimizers",
    "analysis": ".analysis",
    "numerics": ".numerics",
    "derive": ".solver",
    "derive_components": ".solver",
    "ComponentField": ".equation",
    "ModifiedEquation": ".equation",
    "load": ".equation",
    "parse_loss": ".loss",
    "derive_epoch": ".epoch",
    "derive_steps": ".stepwise",
    "StepwiseEquation": ".stepwise",
    "verify": ".numerics.verify",
    "iterates": ".iteration",
    "VerificationReport": ".numerics.report",
}

__all__ = [*_EXPORTS, "__version__"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
