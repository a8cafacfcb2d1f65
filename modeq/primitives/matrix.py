r"""Matrix operations on parameter blocks (Muon).

``newton_schulz(x, steps=5, coefficients=(3.4445, -4.7750, 2.0315))``
    Component :math:`j` of :math:`\operatorname{NS}(X_B)`, the quintic
    Newton–Schulz orthogonalization (:class:`~modeq.algebra.matrix_maps.NewtonSchulz`)
    of the matrix block :math:`X_B` of ``x`` that holds component :math:`j`
    (:mod:`modeq.blocks`; the whole block is read, as a matrix).
``msign(x, eps=0)``
    Component :math:`j` of the exact polar factor
    :math:`\operatorname{msign}(X_B) = (X_BX_B^\top + \varepsilon I)^{-1/2}X_B`
    (:class:`~modeq.algebra.matrix_maps.PolarFactor`, :math:`UV^\top` of
    :math:`X_B = U\Sigma V^\top` at :math:`\varepsilon = 0`): the limit of the
    Newton–Schulz steps; its derivatives are jets of an inverse root
    (:mod:`modeq.algebra.spectral`).
``shape_scale(rule="original")``
    The scale :math:`s(m, k)` of the :math:`m\times k` block of component
    :math:`j` (:data:`~modeq.algebra.matrix_maps.SHAPE_RULES`: torch's Muon
    ``adjust_lr_fn``), a block constant.

Expansion of a matrix map (:class:`BlockMap`): with :math:`X = X_0 + \delta`,
:math:`\delta = \sum_{i\ge1} h^iX_i`, the Taylor series
:math:`\sum_r \frac{1}{r!}D^r\operatorname{NS}(X_0)[\delta, \dots, \delta]`, each
:math:`D^r\operatorname{NS}(X_0)[X_{i_1}, \dots]` one opaque atom of the
algebra (never the polynomial of degree :math:`5^5`). Lowering: the map's
traced programs (:mod:`modeq.algebra.matrix_trace`, which compiled fields run
too) on each block (wide orientation, as torch does).
The index-form derivation does not know the blocks' shapes; a matrix
operation on a vector block or on plain parameters is refused where the
shapes are known (iterates, verification) with one line.
"""

from __future__ import annotations

import sympy

from ..algebra.matrix_trace import call, functions, constant_names, constants, layout_arrays
from ..algebra.matrix_maps import (MUON_COEFFICIENTS, SHAPE_RULES, MatrixMap, NewtonSchulz, PolarFactor,
                                   check_matrix_blocks, scale_of)
from ..blocks import block_labels, block_layout
from ..description import DescriptionError
from ..series import Series
from .base import Primitive
from .grad import taylor_terms

__all__ = ["BlockMap", "NewtonSchulzMap", "PolarFactorMap", "ShapeScale", "newton_schulz", "msign", "shape_scale"]


class BlockMap(Primitive):
    r"""A matrix map :math:`F(X_B)_j` of the block of its first argument (of its
    first :attr:`~modeq.algebra.matrix_maps.MatrixMap.arity` arguments,
    :math:`F(X_{1,B}, \dots, X_{a,B})_j`; the map itself, :attr:`map`, from the
    remaining arguments): one expansion and one lowering for every map."""

    #: The constructor's name, in errors.
    operator: str

    @property
    def map(self) -> MatrixMap:
        raise NotImplementedError

    def smooth_args(self):
        return self.args[:self.map.arity]

    def expand(self, expander, order):
        alg, fmap = expander.algebra, self.map
        lanes = [expander.expand(a, order).coeffs for a in self.args[:fmap.arity]]
        if fmap.arity == 1:
            x = lanes[0]
            trivial = alg.is_trivially_zero
        else:  # the coefficients of h^i of the blocks together: a point and directions of tuples
            x = [sympy.Tuple(*(lane[i] for lane in lanes)) for i in range(order + 1)]
            trivial = lambda y: all(alg.is_trivially_zero(v) for v in y)  # noqa: E731
        coeffs = [alg.matrix_map(fmap, x[0])] + [alg.zero] * order
        for indices, power, weight in taylor_terms(order):
            directions = [x[i] for i in indices]
            if any(trivial(y) for y in directions):
                continue
            coeffs[power] = alg.add(coeffs[power], alg.mul(alg.constant(weight), alg.matrix_map(fmap, x[0], directions)))
        return Series(alg, coeffs)

    def lower(self, out, name, args):
        fmap = self.map
        layout = block_layout(out.params)
        try:
            check_matrix_blocks(layout, self.operator)
            for label, shape, _ in layout:
                fmap.check_shape(label, shape)
        except ValueError as error:
            raise DescriptionError(str(error)) from None
        programs = constant_names(fmap)[0]
        out.function(programs, lambda o: o.constants(programs, constants(fmap)))
        generated = functions(fmap)
        out.function(generated[-1][0], lambda o: [o.define(*f) for f in generated])
        index, blocks = layout_arrays(layout)
        out.setup(f"{name} = np.empty(p)", f"in_{name} = np.empty(({fmap.arity}, p))",
                  f"ix_{name} = np.array({index!r}, dtype=np.int64)",
                  f"bl_{name} = np.array({blocks!r}, dtype=np.int64).reshape({len(blocks)}, 4)")
        for row in range(fmap.arity):
            out.step("for j in range(p):", f"    in_{name}[{row}, j] = {out.code(args[row])}")
        out.step(call(fmap, f"in_{name}", name, f"ix_{name}", f"bl_{name}"))


class NewtonSchulzMap(BlockMap):
    r"""``NewtonSchulzMap(x, a, b, c, steps)``: :math:`\operatorname{NS}(X_B)_j`."""

    nargs = 5
    operator = "newton_schulz"

    @property
    def map(self) -> NewtonSchulz:
        x, a, b, c, steps = self.args
        return NewtonSchulz((a, b, c), int(steps))


class PolarFactorMap(BlockMap):
    r"""``PolarFactorMap(x, eps)``: :math:`\operatorname{msign}(X_B)_j`, the polar factor
    :math:`(X_BX_B^\top + \varepsilon I)^{-1/2}X_B`."""

    nargs = 2
    operator = "msign"

    @property
    def map(self) -> PolarFactor:
        return PolarFactor(self.args[1])


class ShapeScale(Primitive):
    r"""``ShapeScale(rule)``: :math:`s(m, k)` of the block of component :math:`j`
    (``rule`` indexes :data:`~modeq.algebra.matrix_maps.SHAPE_RULES`)."""

    nargs = 1

    @property
    def rule(self) -> str:
        return list(SHAPE_RULES)[int(self.args[0])]

    def smooth_args(self):
        return ()

    def expand(self, expander, order):
        return expander.constant(expander.algebra.block_scale(self.rule), order)

    def lower(self, out, name, args):
        scales = {label: float(scale_of(self.rule, shape, label)) for label, shape, _ in block_layout(out.params)}
        values = [scales[label] for label in block_labels(out.params)]
        out.setup(f"{name} = np.array({values!r})")


def newton_schulz(x, steps: int = 5, coefficients=MUON_COEFFICIENTS) -> sympy.Expr:
    r""":math:`\operatorname{NS}(X_B)_j`: ``steps`` quintic Newton–Schulz steps
    :math:`X \leftarrow aX + (bA + cA^2)X`, :math:`A = XX^\top`, on the matrix block of ``x``."""
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 99:
        raise DescriptionError(f"newton_schulz: steps must be a whole number from 1 to 99, got {steps!r}")
    if len(coefficients) != 3:
        raise DescriptionError(f"newton_schulz: coefficients must be three numbers (a, b, c), got {coefficients!r}")
    a, b, c = (_exact(v) for v in coefficients)
    return NewtonSchulzMap(sympy.sympify(x), a, b, c, sympy.Integer(steps))


def msign(x, eps=0) -> sympy.Expr:
    r""":math:`\operatorname{msign}(X_B)_j = ((X_BX_B^\top + \varepsilon I)^{-1/2}X_B)_j`, the exact
    polar factor :math:`UV^\top` of the matrix block of ``x`` (``eps`` a number
    :math:`\ge 0`; 0, the default, is exact and refuses a rank-deficient block)."""
    value = _exact(eps, "msign")
    if value < 0:
        raise DescriptionError(f"msign: eps must be a number >= 0, got {eps!r}")
    return PolarFactorMap(sympy.sympify(x), value)


def _exact(value, what: str = "newton_schulz") -> sympy.Rational:
    """A coefficient as an exact number (a float by its shortest decimal, as hyperparameters are)."""
    if isinstance(value, sympy.Rational):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return sympy.Integer(value)
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return sympy.Rational(repr(value))
    raise DescriptionError(f"{what}: a coefficient must be a finite number such as 3.4445, got {value!r}")


def shape_scale(rule: str = "original") -> sympy.Expr:
    r"""The per-block scale :math:`s(m, k)` (``"original"``: :math:`\sqrt{\max(1, m/k)}`,
    ``"match_rms_adamw"``: :math:`0.2\sqrt{\max(m, k)}`)."""
    if rule not in SHAPE_RULES:
        raise DescriptionError(f"shape_scale: the rule must be one of {', '.join(SHAPE_RULES)}, got {rule!r}")
    return ShapeScale(sympy.Integer(list(SHAPE_RULES).index(rule)))
