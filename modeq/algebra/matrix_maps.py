r"""Smooth maps of a matrix block and their directional (Fréchet) derivatives.

Muon orthogonalizes each weight matrix with five quintic Newton–Schulz steps,

.. math:: X_0 = X,\qquad A_i = X_i X_i^\top,\qquad
          X_{i+1} = a X_i + (bA_i + cA_i^2)\,X_i,\qquad
          \operatorname{NS}(X) = X_5 ,

a polynomial of degree :math:`5^5` in the entries of :math:`X`. Expanding it
(issue 16: a :math:`1\times n` stand-in did not derive order 1 in 300 s) is
never necessary. The derivation sees a map :math:`F` of a block only through
the opaque atoms

.. math:: D^kF(X)[Y_1, \dots, Y_k] ,

the :math:`k`-th Fréchet derivative at the block :math:`X` applied to the
directions :math:`Y_a` (symmetric and multilinear in them; :math:`k = 0` is
:math:`F(X)`), whose Lie derivative closes on the same family
(:mod:`modeq.algebra.index`):
:math:`L_f D^kF(X)[Y] = D^{k+1}F(X)[Y, L_fX] + \sum_a D^kF(X)[.., L_fY_a, ..]`.

Their *values* are computed only at evaluation time, by the chain rule through
the steps of the map: :meth:`MatrixMap.derivative` pushes a *jet*
(:class:`Jet`: the value and its mixed derivatives, one matrix per subset of
the directions) through the same code that computes :math:`F`, written with
``@``, ``.T``, ``+`` and scalar ``*`` only. The code therefore runs unchanged
on NumPy arrays, on SymPy matrices (the component materialization of compiled
fields, an unexpanded expression DAG) and on torch tensors, and its cost is
:math:`2^k` times that of :math:`F` (four matrix products per step at
:math:`k = 1`).

Why jets and not a symbolic atom table of matrix products (``G``, ``H[X]``,
products, transposes) for each Newton–Schulz step: the products of a step
would become atoms of the derivation, and the Lie derivative of step 5 holds
every earlier step's derivative — the derivation would again grow with the
number of steps. Kept as one operator node, the derivation does not know how
many steps there are.

Shape scalings (Muon's ``adjust_lr_fn``) are per-block constants
:math:`s(m, k)` of the block's shape: :data:`SHAPE_RULES`.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Sequence

import numpy as np
import sympy

from . import spectral

__all__ = ["MatrixMap", "NewtonSchulz", "PolarFactor", "inverse_root", "identity_like", "check_blocks", "DEFAULT_MAPS", "Jet", "SHAPE_RULES", "scale_of", "on_blocks", "check_matrix_blocks", "MUON_COEFFICIENTS"]

#: Muon's quintic Newton–Schulz coefficients :math:`(a, b, c)` (Jordan et al. 2024; torch.optim.Muon).
MUON_COEFFICIENTS = (sympy.Rational("3.4445"), sympy.Rational("-4.7750"), sympy.Rational("2.0315"))


class Jet:
    r"""A matrix and its mixed derivatives along directions :math:`1..k`:
    ``parts[S]`` is :math:`\partial_S X` for each subset :math:`S` present
    (absent subsets are zero). Products follow Leibniz,
    :math:`\partial_S(XY) = \sum_{T \subseteq S} \partial_T X\,\partial_{S\setminus T} Y`."""

    __slots__ = ("parts", "shape")

    def __init__(self, parts: dict[frozenset, Any], shape: tuple[int, int]) -> None:
        self.parts, self.shape = parts, shape

    @property
    def T(self) -> "Jet":
        return Jet({s: x.T for s, x in self.parts.items()}, (self.shape[1], self.shape[0]))

    def identity(self, part: int = 0) -> "Jet":
        """The (rectangular, shifted by ``part``: :func:`identity_like`) identity of this jet's shape, a constant."""
        return Jet({frozenset(): identity_like(self.parts[frozenset()], part)}, self.shape)

    def __add__(self, other: "Jet") -> "Jet":
        parts = dict(self.parts)
        for s, x in other.parts.items():
            parts[s] = parts[s] + x if s in parts else x
        return Jet(parts, self.shape)

    def __mul__(self, scalar) -> "Jet":
        return Jet({s: x * scalar for s, x in self.parts.items()}, self.shape)

    __rmul__ = __mul__

    def __matmul__(self, other: "Jet") -> "Jet":
        parts: dict[frozenset, Any] = {}
        for (s, x), (t, y) in itertools.product(self.parts.items(), other.parts.items()):
            if s & t:
                continue
            product = x @ y
            parts[s | t] = parts[s | t] + product if s | t in parts else product
        return Jet(parts, (self.shape[0], other.shape[1]))

    def inverse_root(self, q: int, eps: float) -> "Jet":
        r""":math:`(A + \varepsilon I)^{-1/2^q}` of a symmetric positive definite jet
        (:mod:`modeq.algebra.spectral`); numeric parts only."""
        if any(isinstance(x, sympy.MatrixBase) for x in self.parts.values()):
            raise ValueError("an inverse root (msign) has no closed form in the components of a loss; derive it in "
                             "index form (modeq.derive) and evaluate it numerically (modeq.verify, derived_field)")
        return Jet(spectral.inverse_root(self.parts, q, float(eps)), self.shape)


@dataclass(frozen=True)
class MatrixMap(ABC):
    r"""A smooth map :math:`F: \mathbb{R}^{m\times k} \to \mathbb{R}^{m\times k}` of one block.

    :meth:`__call__` computes :math:`F(X)` with ``@``, ``.T``, ``+``,
    scalar ``*`` and :func:`inverse_root` only, so that it runs on any
    matrix type, on :class:`Jet` and on the tracer of compiled code."""

    #: The operator's name in text (``NS``) and in LaTeX (``\operatorname{NS}``).
    name: ClassVar[str]
    latex: ClassVar[str]
    #: Whether :meth:`__call__` takes inverse roots (compiled code then needs the spectral interpreter).
    spectral: ClassVar[bool] = False
    #: How many blocks the map reads (:math:`F(X_1, \dots, X_a)`, every :math:`X_i` of the
    #: block's shape): a point and each direction are then ``a``-tuples (Shampoo's
    #: gradient and its packed statistics, :mod:`modeq.algebra.kronecker`).
    arity: ClassVar[int] = 1
    #: How errors name the map when its printed name would not say what it is.
    operator: ClassVar[str | None] = None

    @abstractmethod
    def __call__(self, *x: Any) -> Any:
        """:math:`F(X_1..X_a)` of matrices (or :class:`Jet` s)."""

    def derivative(self, x: Any, directions: Sequence[Any]) -> Any:
        r""":math:`D^kF(X)[Y_1..Y_k]` for matrices of one type (``k = 0``: :math:`F(X)`); with
        :attr:`arity` :math:`a > 1`, ``x`` and each direction are ``a``-tuples of matrices."""
        points = tuple(x) if self.arity > 1 else (x,)
        if not directions:
            return self(*points)
        lanes = [tuple(y) if self.arity > 1 else (y,) for y in directions]
        jets = [Jet({frozenset(): point, **{frozenset((a,)): y[i] for a, y in enumerate(lanes)}}, tuple(point.shape))
                for i, point in enumerate(points)]
        out = self(*jets)
        full = frozenset(range(len(directions)))
        return out.parts[full] if full in out.parts else 0 * points[0]

    def flatten(self, base: Any, directions: Sequence[Any]) -> list:
        """The point and the directions as one list of blocks (the order :meth:`evaluate` reads)."""
        if self.arity == 1:
            return [base, *directions]
        return [*base, *(y for direction in directions for y in direction)]

    def evaluate(self, *blocks: Any) -> Any:
        """:meth:`derivative` of the blocks of :meth:`flatten` (the evaluators' one call)."""
        a = self.arity
        if a == 1:
            return self.derivative(blocks[0], blocks[1:])
        return self.derivative(tuple(blocks[:a]), [tuple(blocks[i:i + a]) for i in range(a, len(blocks), a)])

    def check_shape(self, name: str, shape: tuple[int, int]) -> None:
        """A ``ValueError`` (one line) if the map is not defined on a block of ``shape``."""


@dataclass(frozen=True)
class NewtonSchulz(MatrixMap):
    r"""``steps`` quintic Newton–Schulz steps :math:`X \leftarrow aX + (bA + cA^2)X`,
    :math:`A = XX^\top` (:math:`A = X^\top X` on the right for a tall block, the same
    polynomial map: :math:`p(XX^\top)X = Xp(X^\top X)`, as torch.optim.Muon computes it)."""

    coefficients: tuple[sympy.Rational, sympy.Rational, sympy.Rational] = MUON_COEFFICIENTS
    steps: int = 5

    name: ClassVar[str] = "NS"
    latex: ClassVar[str] = r"\operatorname{NS}"

    def __call__(self, x):
        a, b, c = (_number(v, x) for v in self.coefficients)
        tall = x.shape[0] > x.shape[1]
        y = x.T if tall else x
        for _ in range(self.steps):
            gram = y @ y.T
            y = y * a + (gram * b + (gram @ gram) * c) @ y
        return y.T if tall else y


@dataclass(frozen=True)
class PolarFactor(MatrixMap):
    r"""The exact polar factor :math:`\operatorname{msign}(X) = UV^\top =
    (XX^\top + \varepsilon I)^{-1/2}X` of :math:`X = U\Sigma V^\top` (the limit of
    Newton–Schulz steps; :math:`\varepsilon = 0`: exact, defined where :math:`X`
    has full rank; :math:`X(X^\top X + \varepsilon I)^{-1/2}` for a tall block, the
    same map). Its first derivative is
    :math:`D\operatorname{msign}(X)[Y] = UKV^\top` with :math:`C = U^\top YV`,
    :math:`K_{ij} = (C_{ij} - C_{ji})/(\sigma_i + \sigma_j)` for a square block;
    every order comes from the jet of the inverse root (:mod:`modeq.algebra.spectral`)."""

    eps: sympy.Rational = sympy.Integer(0)

    name: ClassVar[str] = "msign"
    latex: ClassVar[str] = r"\operatorname{msign}"
    spectral: ClassVar[bool] = True

    def __call__(self, x):
        tall = x.shape[0] > x.shape[1]
        y = x.T if tall else x
        out = inverse_root(y @ y.T, 1, self.eps) @ y
        if self.eps == 0:
            # one Newton-Schulz step P <- (3P - PP^T P)/2: the identity on U V^T (so every derivative is still
            # msign's), and it restores the unit singular values that the Gram matrix's squared condition number
            # spoils (50 Muon steps on the reference network: 7e-13 from the SVD's iterates without it, 1e-14 with)
            out = out * _number(sympy.Rational(3, 2), out) + (out @ out.T) @ out * _number(sympy.Rational(-1, 2), out)
        return out.T if tall else out


def identity_like(x: Any, part: int = 0) -> Any:
    r"""The rectangular identity of ``x``'s shape (:math:`m\times n`), of its kind (a :class:`Jet`,
    a traced jet, a SymPy or NumPy matrix); shifted by ``part`` :math:`c`: ones at
    :math:`(i, j)` with :math:`i - j = cn` for :math:`c > 0` (:math:`E_c`, whose columns are
    :math:`e_{cn+1}..e_{cn+n}` of :math:`\mathbb{R}^m`), :math:`i - j = cm` for :math:`c < 0`
    (:math:`F_{|c|}`, whose rows are :math:`e_{|c|m+1}^\top..e_{|c|m+m}^\top` of :math:`\mathbb{R}^n`)."""
    if hasattr(x, "identity"):
        return x.identity(part) if part else x.identity()
    rows, cols = x.shape
    shift = part * (cols if part > 0 else rows)
    if isinstance(x, sympy.MatrixBase):
        return sympy.Matrix(rows, cols, lambda i, j: 1 if i - j == shift else 0)
    return np.eye(rows, cols, -shift)


def inverse_root(a: Any, q: int, eps) -> Any:
    r""":math:`(A + \varepsilon I)^{-1/2^q}` of a symmetric positive definite matrix, :class:`Jet`
    or traced jet (:mod:`modeq.algebra.spectral`; a singular :math:`A` raises
    :class:`~modeq.algebra.spectral.SingularBlock`)."""
    if hasattr(a, "inverse_root"):
        return a.inverse_root(q, eps)
    return Jet({frozenset(): a}, tuple(a.shape)).inverse_root(q, eps).parts[frozenset()]


#: The matrix maps a LaTeX text may name when its atom table has none: each kind with its defaults.
DEFAULT_MAPS = (NewtonSchulz(), PolarFactor())


def _number(value: sympy.Rational, like: Any):
    """An exact coefficient as SymPy keeps it, a float for numeric matrices."""
    parts = like.parts.values() if isinstance(like, Jet) else (like,)
    return value if any(isinstance(p, sympy.MatrixBase) for p in parts) else float(value)


def _original(rows: int, cols: int) -> sympy.Expr:
    return sympy.sqrt(sympy.Max(1, sympy.Rational(rows, cols)))


def _match_rms_adamw(rows: int, cols: int) -> sympy.Expr:
    return sympy.Rational(1, 5) * sympy.sqrt(max(rows, cols))


#: Muon's step-length scalings :math:`s(m, k)` of an :math:`m \times k` block
#: (torch.optim.Muon's ``adjust_lr_fn``): ``original`` :math:`\sqrt{\max(1, m/k)}`
#: (Jordan), ``match_rms_adamw`` :math:`0.2\sqrt{\max(m, k)}` (Moonshot).
SHAPE_RULES: dict[str, Callable[[int, int], sympy.Expr]] = {"original": _original, "match_rms_adamw": _match_rms_adamw}


def scale_of(rule: str, shape: tuple[int, ...], block: str) -> sympy.Expr:
    """The exact scale of the rule for a block of ``shape`` (named ``block`` in errors)."""
    if len(shape) != 2:
        raise ValueError(f"the shape scaling {rule!r} needs matrix blocks; the block {block or 'of plain parameters'} "
                         f"has shape {shape or 'scalar'}: give matrix blocks, e.g. params={{'W': (3, 2)}}")
    return SHAPE_RULES[rule](*shape)


def check_matrix_blocks(layout, what: str) -> None:
    """One line if a block of ``layout`` (:func:`modeq.blocks.block_layout`) is
    not a matrix: ``what`` (an operator) needs matrix blocks."""
    for name, shape, _ in layout:
        if len(shape) != 2:
            kind = f"the block {name} has shape {shape}" if name and shape else \
                f"the block {name} is a scalar" if name else "the parameters are plain symbols (no matrix block)"
            raise ValueError(f"{what} acts on matrix blocks, but {kind}; give matrix blocks, "
                             "e.g. params={'W1': (3, 2), 'W2': (2, 3)}, and leave vectors to another optimizer")


def check_blocks(layout, fmap: MatrixMap) -> None:
    """:func:`check_matrix_blocks` for the map ``fmap``, and its own condition on each block's shape."""
    check_matrix_blocks(layout, fmap.operator or fmap.name)
    for name, shape, _ in layout:
        fmap.check_shape(name, shape)


def on_block(function: Callable[..., Any], name: str, shape: tuple[int, int], matrices: Sequence[Any]) -> Any:
    """``function(*matrices)`` for the block ``name`` of ``shape``; an inverse root of a
    singular matrix there is refused with the block named."""
    try:
        return function(*matrices)
    except spectral.SingularBlock:
        where = f"the matrix block {name} ({shape[0]}x{shape[1]})"
        raise spectral.SingularBlock(spectral.singular_message(where)) from None


def on_blocks(function: Callable[..., Any], layout, vectors: Sequence[Sequence[Any]], matrix: Callable, flatten: Callable,
              what: str) -> list:
    """``function`` applied to each block of ``vectors`` (each of length :math:`p`)
    as matrices, the results put back in place: ``layout`` is
    :func:`modeq.blocks.block_layout`, ``matrix(values, shape)`` and
    ``flatten(matrix)`` convert (row-major), ``what`` names the operator in errors."""
    check_matrix_blocks(layout, what)
    out: list = [None] * sum(len(positions) for _, _, positions in layout)
    for name, shape, positions in layout:
        results = flatten(on_block(function, name, shape, [matrix([v[i] for i in positions], shape) for v in vectors]))
        for i, value in zip(positions, results):
            out[i] = value
    return out
