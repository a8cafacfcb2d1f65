r"""The LaTeX names of the symbols of a modified equation, configurable.

Defaults: :math:`h` for the step size, :math:`\theta`, :math:`E` for the loss,
:math:`j` for the component, :math:`n` for the step, and each hyperparameter's
own ``latex`` (:math:`\beta`, :math:`\rho`, :math:`\varepsilon`). A user
renames any of them, e.g. ``{"h": r"\eta", "beta": r"\beta_1", "rho": r"\beta_2"}``.
"""

from __future__ import annotations

from typing import Mapping

from ..optimizers.base import Optimizer

__all__ = ["SymbolNames", "symbol_names"]

#: Names that every equation has, with their default LaTeX.
BASE_NAMES = {"h": "h", "theta": r"\theta", "E": "E", "j": "j", "n": "n"}

SymbolNames = dict[str, str]


def symbol_names(optimizer: Optimizer, symbols: Mapping[str, str] | None = None) -> SymbolNames:
    """The LaTeX of every name: defaults overridden by ``symbols``; an unknown
    name is an error that lists the known ones."""
    names = dict(BASE_NAMES)
    for hp in optimizer.hyperparameters:
        names[hp.name] = hp.latex or hp.name.replace("_", r"\_")
    for name, latex in (symbols or {}).items():
        if name not in names:
            raise ValueError(
                f"unknown symbol name {name!r} for {optimizer.name}; the names that can be renamed are: "
                f"{', '.join(names)} (e.g. symbols={{'h': r'\\eta'}})"
            )
        if not isinstance(latex, str) or not latex.strip():
            raise ValueError(f"the LaTeX for {name!r} must be a non-empty string, got {latex!r}")
        names[name] = latex
    return names
