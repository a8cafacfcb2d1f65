r"""The index notation's decisions, shared by the LaTeX and the text printers.

The printers write one notation in two formats (one printer class per format,
as SymPy's printers are). *What* is written is decided here, once:

* which atom a symbol is — :math:`\tilde\theta_j`, a slow state :math:`\tilde V_j`, :math:`\nabla_j E`, the loss
  value :math:`E`, a contraction :math:`\sum_i \nabla_{ij} E\, X_i`, a
  reduction, a block sum :math:`\sum_{i \in B(j)} X_i`, a block's size
  :math:`|B(j)|`, a named gradient :math:`\nabla_j\|\nabla E\|^2`;
* which scalar is a named norm (:math:`\|\nabla E\|^2`, :math:`\|\nabla E\|_1`,
  :math:`\|\nabla E\|_{1,c}` and their powers);
* which power is a radical the papers write otherwise:
  :math:`(\|\nabla E\|^2)^e = \|\nabla E\|^{2e}`,
  :math:`(\sqrt{g^2})^k = |\nabla_j E|^k` and :math:`g^{2k} = |\nabla_j E|^{2k}`;
* the summation indices: a sum takes the first letter of :data:`INDEX_LETTERS`
  not in use, and gives it back when its argument is printed.

*How* it is written is each printer's: the hooks ``_theta``, ``_state``, ``_nabla``,
``_loss``, ``_contraction``, ``_reduction``, ``_block_sum``,
``_block_size``, ``_block_scale``, ``_matrix_map``, ``_norm``, ``_absolute`` and ``_parenthesized``.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, Mapping, Sequence

import sympy

from ..algebra.index import (AtomRegistry, BlockReduction, BlockScale, BlockSize, Contraction, Gradient, LossValue,
                             MatrixDerivative, Reduction, SlowState)
from ..optimizers.base import Domain
from ..quantities import loss_batch, named_gradient, norm_kind

__all__ = ["INDEX_LETTERS", "IndexNotation", "function_names", "map_arguments", "printed_states"]

#: Summation indices, in the order they are taken (the component's own is skipped): shampoo_ema at
#: order 3 nests more than ten sums in index notation.
INDEX_LETTERS = "iklmqrsuvwabcdfgopxyz"


def map_arguments(definition: MatrixDerivative, texts: Sequence[str], brackets: tuple[str, str] = ("(", ")")
                  ) -> tuple[str, list[str]]:
    """The printed point and directions of a matrix map's atom from its printed blocks
    (``texts``, in the order of ``definition.arguments``): the blocks of a map of several
    join with commas, and each of its directions is a tuple in ``brackets``."""
    a = definition.map.arity
    point = ", ".join(texts[:a])
    if a == 1:
        return point, list(texts[1:])
    opening, closing = brackets
    return point, [opening + ", ".join(texts[i:i + a]) + closing for i in range(a, len(texts), a)]


def printed_states(states: Sequence, state_terms: Sequence) -> list[tuple]:
    r"""The slow states (each with its terms, ``state_terms`` in the order of ``states``) in the
    order they are printed: the states named by one stem and a number (the parts
    :math:`L_0, \dots, L_{k-1}, R_0, \dots` of Shampoo's statistics, :func:`~modeq.optimizers.shampoo.shampoo`'s
    ``parts``) by stem, then number, in the places the equation holds them; every other state
    where the equation holds it. The equation's own order (the coordinates of its numerics) is
    its states' sort order in the derivation, which for such parts follows no number."""
    pairs = list(zip(states, state_terms))
    numbered = [i for i, (state, _) in enumerate(pairs) if _numbered(state.name)]
    for i, pair in zip(numbered, sorted((pairs[i] for i in numbered), key=lambda pair: _numbered(pair[0].name))):
        pairs[i] = pair
    return pairs


def _numbered(name: str) -> tuple[str, int] | None:
    """``(stem, number)`` of a name that ends in digits after a non-empty stem (``L10``: ``("L", 10)``)."""
    stem = name.rstrip("0123456789")
    return (stem, int(name[len(stem):])) if stem and stem != name else None


def function_names(definitions: Sequence[sympy.Expr], optimizer, taken: set[str], letters: Mapping[str, Sequence[str]],
                   indexed: Callable[[str, int], str]) -> list[str]:
    r"""Names for the opaque functions of time of ``definitions`` (expressions in :math:`t` and the
    hyperparameters of ``optimizer``), by role: a definition that holds a decay rate (a hyperparameter in
    :math:`[0, 1)`) is the schedule of a decay, named by ``letters["decay"]`` (NAdam's momentum
    :math:`\mu(t) = \beta_1(1 - \tfrac12 0.96^{\psi t})`, AdEMAMix's :math:`\beta_3(t)`); any other is a
    step-size schedule, named by ``letters["step"]`` (:math:`\eta(t)`). Within a role: the first letter
    whose names no symbol is printed as (``taken``, nor a name given before), :math:`\eta`, or
    :math:`\eta_1, \eta_2, \dots` by ``indexed(letter, n)`` for several; the last letter if every one is
    taken."""
    rates = {hp.symbol for hp in optimizer.hyperparameters if hp.domain is Domain.UNIT_INTERVAL}
    roles = ["decay" if d.free_symbols & rates else "step" for d in definitions]
    taken, chosen = set(taken), {}
    for role in ("step", "decay"):
        members = [n for n, r in enumerate(roles) if r == role]
        if not members:
            continue
        for letter in letters[role]:
            names = [letter] if len(members) == 1 else [indexed(letter, n) for n in range(1, len(members) + 1)]
            if taken.isdisjoint(names):
                break
        taken.update(names)
        chosen.update(zip(members, names))
    return [chosen[n] for n in range(len(definitions))]


class IndexNotation:
    """A mixin for printers of index-form expressions (before the SymPy printer
    in the bases). The printer sets ``atoms``, ``_index`` (the current
    component), ``_used`` (the indices in use) and ``_bare`` (the symbol
    printed stands last in its term, so a lone sum needs no parentheses)."""

    atoms: AtomRegistry
    _index: str
    _used: list[str]
    _bare: bool

    def quantity(self, expr: sympy.Expr) -> str:
        """A quantity standing last in a term (the layout's entry point): a lone
        sum needs no parentheses."""
        self._bare = isinstance(expr, sympy.Symbol)
        try:
            return self._print(expr)
        finally:
            self._bare = False

    def _atom(self, expr: sympy.Symbol) -> str | None:
        """``expr`` written as the atom it is, or ``None`` if it is no atom."""
        bare, self._bare = self._bare, False
        definition = self.atoms.definition(expr)
        if definition == "theta":
            return self._theta()
        if isinstance(definition, SlowState):
            return self._state(definition.name)
        if isinstance(definition, Gradient):
            return self._gradient(definition.loss)
        if isinstance(definition, LossValue):
            return self._loss(definition.loss)
        if isinstance(definition, Contraction):
            text = self._contraction(definition)
            return text if bare else self._parenthesized(text)
        if isinstance(definition, Reduction):
            return self._scalar(expr)
        if isinstance(definition, BlockReduction):
            return self._block_sum(definition.arg)
        if isinstance(definition, BlockSize):
            return self._block_size()
        if isinstance(definition, MatrixDerivative):
            return self._matrix_map(definition)
        if isinstance(definition, BlockScale):
            return self._block_scale(definition.rule)
        if expr == self.atoms.dimension:
            return "p"
        scalar = named_gradient(expr)
        if scalar is not None:
            return self._nabla() + self._scalar(scalar)
        is_loss, batch = loss_batch(expr)
        return self._loss(batch) if is_loss else None

    def _gradient(self, batch: int | None) -> str:
        return f"{self._nabla()} {self._loss(batch)}"

    def _at_component(self, index: str, expr: sympy.Expr, last: bool) -> str:
        """``expr`` printed for component ``index`` (a summation index); ``last``:
        it stands last in its product (a lone sum there needs no parentheses)."""
        outer, self._index = self._index, index
        self._bare = last and isinstance(expr, sympy.Symbol)
        try:
            return self._print(expr)
        finally:
            self._index, self._bare = outer, False

    @contextmanager
    def _summed(self, count: int) -> Iterator[list[str]]:
        """``count`` fresh summation indices, in use inside the ``with`` block."""
        letters = [c for c in INDEX_LETTERS if c not in self._used][:count]
        if len(letters) < count:
            raise ValueError("the expression nests more sums than there are index letters")
        self._used += letters
        try:
            yield letters
        finally:
            del self._used[-count:]

    def _scalar(self, scalar: sympy.Expr) -> str:
        """A scalar: a named norm (or its power), a reduction, or anything else."""
        kind = norm_kind(scalar, self.atoms)
        if kind is not None:
            return self._norm(kind)
        if scalar.is_Pow and norm_kind(scalar.base, self.atoms) is not None:
            return self._norm(norm_kind(scalar.base, self.atoms), scalar.exp)
        definition = self.atoms.definition(scalar)
        if isinstance(definition, Reduction):
            return self._reduction(definition.arg)
        return self._print(scalar)

    def _radical_power(self, base: sympy.Expr, exponent: sympy.Expr) -> str | None:
        r"""A power the papers write otherwise: a positive power of the 2-norm
        :math:`\|\nabla E\|^{2e}`, :math:`(\sqrt{g^2})^e = |\nabla_j E|^e`, an even
        power :math:`g^{2k} = |\nabla_j E|^{2k}`; ``None`` for any other power."""
        kind = norm_kind(base, self.atoms) if isinstance(base, sympy.Symbol) else None
        if kind is not None and kind[0] == "2" and exponent.is_Rational and exponent > 0:
            return self._norm(kind, exponent)
        if base.is_Pow and base.exp == 2 and isinstance(self.atoms.definition(base.base), Gradient):
            return self._absolute(base.base, 2 * exponent)
        if (isinstance(base, sympy.Symbol) and isinstance(self.atoms.definition(base), Gradient)
                and exponent.is_Integer and exponent > 0 and exponent.is_even):
            return self._absolute(base, exponent)
        return None
