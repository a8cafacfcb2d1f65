r"""The result of a derivation as users meet it: :class:`ModifiedEquation`.

Its data (terms, regime, hyperparameter values, materialization) is
:class:`~modeq.terms.EquationTerms`, low in the layers; this class adds the
conveniences that print and analyse it, so it sits above
:mod:`modeq.printing` and :mod:`modeq.analysis`, which import only the data
class: the import graph stays acyclic (``tests/architecture``) without
deferred imports. The solvers (:mod:`modeq.solver`, :mod:`modeq.epoch`,
:mod:`modeq.stepwise`) build this class; analyses that derive a new equation
from one (``eps_limit``) keep its class with ``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .analysis.potential import ModifiedLoss, modified_loss
from .printing.document import equation_latex
from .printing.text import equation_text
from .storage import read, write
from .terms import ComponentField, EquationTerms

__all__ = ["ModifiedEquation", "ComponentField", "load"]


@dataclass(frozen=True)
class ModifiedEquation(EquationTerms):
    r"""The modified equation of an optimizer, terms :math:`f_0..f_N` in index form."""

    def latex(self, notation: str = "index", symbols: dict[str, str] | None = None, standalone: bool = False) -> str:
        r"""The equation in LaTeX, in the papers' notation (:mod:`modeq.printing`).

        ``notation`` is ``"index"`` (:math:`\nabla_j E`, :math:`\sum_i \nabla_{ij} E \dots`)
        or ``"vector"`` (:math:`\nabla^2 E\,\nabla E`) or, for optimizers on parameter
        blocks, ``"matrix"`` (:math:`G`, :math:`H[X]`, :math:`\lVert G\rVert_F`); ``symbols`` renames symbols,
        e.g. ``{"h": r"\eta", "beta": r"\beta_1"}``; ``standalone`` gives a
        complete document."""
        return equation_latex(self, notation, symbols, standalone)

    def modified_loss(self, order: int | None = None) -> ModifiedLoss:
        r""":math:`\dot{\tilde\theta} = -P\nabla\tilde E` through ``order``, or the
        reason there is no modified loss (:func:`modeq.analysis.modified_loss`)."""
        return modified_loss(self, order)

    def save(self, path) -> None:
        """Write the equation to ``path`` as JSON with its provenance (:mod:`modeq.storage`);
        :func:`modeq.load` reads it back, in any process."""
        write(self, path)

    def __str__(self) -> str:
        """The equation in the papers' notation, in Unicode, with a legend (:mod:`modeq.printing.text`)."""
        return equation_text(self)


def load(path) -> ModifiedEquation:
    """The equation saved at ``path`` (by :meth:`ModifiedEquation.save`); the file
    is read as untrusted data (:mod:`modeq.codec`)."""
    return ModifiedEquation(**read(path))
