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
"""

import importlib

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


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'modeq.numerics' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
