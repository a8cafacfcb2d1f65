r"""Modified losses of spectral steepest descent (exact Muon).

With the exact polar factor, Muon's leading field is
:math:`f_0 = -a\,s_B\operatorname{msign}(\nabla_B E)` on each block :math:`B`:
steepest descent in the spectral norm, :math:`s\operatorname{msign}(G) =
\nabla N(G)` for :math:`N(G) = \sum_B s_B\|G_B\|_*` (the nuclear norm, the
spectral norm's dual: :math:`d\|G\|_* = \langle UV^\top, dG\rangle`). If the
first correction is

.. math:: f_1 = -a\,s_B\,D\operatorname{msign}(\nabla E)\big[\kappa\,\nabla N(\nabla E)\big],
          \qquad \nabla_\theta N(\nabla E) = D_1[s\operatorname{msign}(\nabla E)],

then :math:`f_0 + hf_1 = -a\,s_B\operatorname{msign}(\nabla\tilde E) + O(h^2)` with

.. math:: \tilde E = E + h\kappa\sum_B s_B\|\nabla_B E\|_*
          = E + h\kappa\sum_i s_{B(i)}\operatorname{msign}(\nabla E)_i\,\nabla_i E ,

the same method run on a loss that penalizes the nuclear norm of each
layer's gradient — as gradient descent's :math:`\tilde E = E +
\frac h4\|\nabla E\|^2` and sign descent's :math:`E + h\kappa\|\nabla E\|_1`
(:mod:`modeq.analysis.potential`) penalize the duals of their norms.
:func:`spectral_modified_loss` reads :math:`a` and :math:`\kappa` off an
equation (order 1) or says why the form does not hold (the Newton–Schulz
map is not a gradient of any function of :math:`G`; weight decay adds
:math:`-\lambda\theta`; a regularized :math:`\operatorname{msign}_\varepsilon`
has another potential). ``notebooks/muon.ipynb`` checks the result on a
network by finite differences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy

from ..algebra.index import BlockScale, Gradient, MatrixDerivative
from ..algebra.matrix_maps import NewtonSchulz, PolarFactor
from ..quantities import atoms_of

if TYPE_CHECKING:
    from ..terms import EquationTerms

__all__ = ["SpectralModifiedLoss", "spectral_modified_loss"]


@dataclass(frozen=True)
class SpectralModifiedLoss:
    r""":math:`\dot{\tilde\theta} = -a\,s_B\operatorname{msign}(\nabla_B\tilde E)`,
    :math:`\tilde E = E + h\kappa\sum_B s_B\|\nabla_B E\|_*` (``rate`` :math:`a`,
    ``penalty`` :math:`\kappa`, ``scale`` the block scale atom or 1), or the reason
    there is none (``rate`` None)."""

    equation: "EquationTerms"
    rate: sympy.Expr | None
    penalty: sympy.Expr | None
    scale: sympy.Expr = sympy.Integer(1)
    reason: str = ""

    def __bool__(self) -> bool:
        return self.rate is not None

    def __str__(self) -> str:
        from ..printing.text import TextPrinter, scalar_text

        head = f"spectral modified loss of {self.equation.optimizer.name} ({self.equation.regime} regime, order 1)"
        if not self:
            return f"{head}: none: {self.reason}"
        printer = TextPrinter(self.equation.optimizer, atoms_of(self.equation))
        scale = "" if self.scale == 1 else "s_B "
        rate = "" if self.rate == 1 else f"({scalar_text(printer, [self.rate])}) "
        return (f"{head}:\n  Ẽ = E + h ({scalar_text(printer, [self.penalty])}) Σ_B {scale}‖∇_B E‖_*"
                "   (‖·‖_* the nuclear norm: the sum of the singular values of each block's gradient)\n"
                f"  dθ̃_B/dt = -{rate}{scale}msign(∇_B Ẽ) + O(h²)")


def spectral_modified_loss(equation: "EquationTerms") -> SpectralModifiedLoss:
    r""":math:`a` and :math:`\kappa` of :math:`f_0 + hf_1 = -a\,s\operatorname{msign}(\nabla\tilde E)`,
    :math:`\tilde E = E + h\kappa N(\nabla E)`, for an equation of order :math:`\ge 1`."""
    if equation.order < 1:
        raise ValueError("a modified loss needs the first correction: derive the equation at order 1 or more")
    atoms = atoms_of(equation)
    f0, f1 = equation.terms[0], equation.terms[1]
    leading = _leading(f0, atoms)
    if isinstance(leading, str):
        return SpectralModifiedLoss(equation, None, None, reason=leading)
    rate, value, scale = leading
    field = sympy.expand(sympy.cancel(-f1 / (rate * scale)))
    gradient = atoms.definition(value).base
    direction = sympy.Integer(0)
    for term in sympy.Add.make_args(field):
        maps = [f for f in term.free_symbols if _is_map(atoms.definition(f), gradient, 1)]
        coefficient = term / maps[0] if len(maps) == 1 else None
        if coefficient is None or not _constant(coefficient, atoms):
            return SpectralModifiedLoss(equation, None, None, scale, "the first correction is not s·Dmsign(∇E)[Y] "
                                        f"(it has the term {term})")
        direction += coefficient * atoms.definition(maps[0]).directions[0]
    target = atoms.contraction([value * scale])
    penalty = sympy.factor(sympy.cancel(direction / target))
    if not _constant(penalty, atoms):
        return SpectralModifiedLoss(equation, None, None, scale, "the direction Y of the first correction is not a "
                                    "multiple of the gradient of the nuclear norm, D_1[s msign(∇E)]")
    return SpectralModifiedLoss(equation, rate, penalty, scale)


def _leading(f0: sympy.Expr, atoms):
    """``(a, msign atom, scale)`` with :math:`f_0 = -a\\,s\\operatorname{msign}(\\nabla E)`, or the reason."""
    values = [s for s in f0.free_symbols if isinstance(atoms.definition(s), MatrixDerivative)]
    if any(isinstance(atoms.definition(v).map, NewtonSchulz) for v in values):
        return ("f_0 applies Newton-Schulz steps to the normalized momentum, a map that is not the gradient of any "
                "function of ∇E (its Jacobian is not symmetric, notebooks/muon.ipynb): no modified loss of this form; "
                "muon(orthogonalizer='msign') has one")
    if len(values) != 1 or not _is_map(atoms.definition(values[0]), None, 0) or \
            not _is_gradient(atoms.definition(atoms.definition(values[0]).base)):
        return "the leading term f_0 is not -a·s·msign(∇E) (the exact polar factor of the gradient blocks)"
    (value,) = values
    scales = [s for s in f0.free_symbols if isinstance(atoms.definition(s), BlockScale)]
    scale = scales[0] if len(scales) == 1 else sympy.Integer(1)
    rate = sympy.factor(sympy.cancel(-f0 / (value * scale)))
    if not _constant(rate, atoms):
        return ("the leading term f_0 is not -a·s·msign(∇E): it has other terms (weight decay -λθ: derive with "
                "values={'weight_decay': 0})")
    return rate, value, scale


def _is_map(definition, gradient, directions: int) -> bool:
    """An exact polar factor atom at the gradient (``gradient``: that one) with ``directions`` directions."""
    return (isinstance(definition, MatrixDerivative) and definition.map == PolarFactor()
            and len(definition.directions) == directions and isinstance(definition.base, sympy.Symbol)
            and (gradient is None or definition.base == gradient))


def _is_gradient(definition) -> bool:
    return isinstance(definition, Gradient) and definition.loss is None


def _constant(expr: sympy.Expr, atoms) -> bool:
    """Free of atoms (hyperparameters only), and not zero."""
    return expr != 0 and expr.free_symbols.isdisjoint(atoms.component | atoms.scalar)
