r"""Numerics: compiled fields, compiled optimizers, integration, verification.

* :mod:`~modeq.numerics.codegen` — component expressions → CSE → numba module;
* :mod:`~modeq.numerics.field` — a compiled field (loads without SymPy);
* :mod:`~modeq.numerics.integrate` — the compiled integrator of the modified ODE;
* :mod:`~modeq.numerics.discrete` — the optimizer compiled from its description;
* :mod:`~modeq.numerics.store` — derive-and-compile, cached by what was derived;
* :mod:`~modeq.numerics.history` — history-consistent starts;
* :mod:`~modeq.numerics.verify`, :mod:`~modeq.numerics.report` — convergence studies.

Names are imported on first use: loading a cached field
(``modeq.numerics.load_field``) imports neither SymPy nor the derivation engine.
``modeq.numerics.verify`` is the submodule (a name mapped to its own module);
the function is :func:`modeq.verify` (``modeq.numerics.verify.verify``).
"""

from .._lazy import lazy_exports

_EXPORTS = {
    "CompiledField": ".field",
    "load_field": ".field",
    "compile_field": ".codegen",
    "derived_field": ".store",
    "CompiledOptimizer": ".discrete",
    "compile_optimizer": ".discrete",
    "verify": ".verify",
    "VerificationReport": ".report",
    "cache_dir": ".cache",
}

__all__ = list(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
