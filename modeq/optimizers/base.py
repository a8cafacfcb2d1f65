r"""The :class:`Optimizer` type and its hyperparameters.

An optimizer is a name, a tuple of :class:`HyperParameter` specifications and a
*build* function that returns the update direction :math:`U_n`
(:math:`\theta_{n+1} = \theta_n + hU_n`) in the description language of
:mod:`modeq.optimizers.language`. Options that change the *form* of the update
(``eps_inside``, ``bias_correction``) are keyword-only arguments of the build
function; calling an optimizer with options returns a re-configured copy::

    adam(eps_inside=False).update()
"""

from __future__ import annotations

import collections.abc
import decimal
import inspect
import math
import numbers
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Callable, Mapping

import sympy

from ..parsing import parse_number
from ..description import structural_digest
from .language import MATRIX_ADVICE, RESERVED_NAMES, DescriptionError, check_smooth

__all__ = ["Domain", "HyperParameter", "Optimizer", "optimizer", "exact_number", "decay", "positive", "nonnegative", "real"]


class Domain(Enum):
    """Where a hyperparameter's value may lie."""

    UNIT_INTERVAL = "[0, 1)"
    POSITIVE = "(0, inf)"
    NONNEGATIVE = "[0, inf)"
    REAL = "(-inf, inf)"

    def contains(self, value: float) -> bool:
        return {
            Domain.UNIT_INTERVAL: 0 <= value < 1,
            Domain.POSITIVE: value > 0,
            Domain.NONNEGATIVE: value >= 0,
            Domain.REAL: True,
        }[self]

    def assumptions(self) -> dict[str, bool]:
        return {
            Domain.UNIT_INTERVAL: {"nonnegative": True},
            Domain.POSITIVE: {"positive": True},
            Domain.NONNEGATIVE: {"nonnegative": True},
            Domain.REAL: {"real": True},
        }[self]


def exact_number(value: Any) -> sympy.Expr:
    """A number as an exact SymPy number: floats by their shortest decimal
    (``0.9`` becomes ``9/10``), so derived coefficients stay exact. Text
    (``"0.9"``, ``"1/10"``) is parsed by :func:`modeq.parsing.parse_number`,
    never evaluated; containers and other objects are refused (``sympify``
    would evaluate the text inside them)."""
    if isinstance(value, sympy.Expr):
        return value
    if isinstance(value, str):
        return parse_number(value)
    if getattr(value, "shape", None) == () and hasattr(value, "item"):  # a NumPy scalar or 0-d array
        value = value.item()
    if isinstance(value, bool) or (isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real)):
        raise TypeError(f"expected a real number, got {value!r}")
    if isinstance(value, numbers.Integral):
        return sympy.Integer(int(value))
    if isinstance(value, numbers.Rational):  # fractions.Fraction
        return sympy.Rational(int(value.numerator), int(value.denominator))
    if isinstance(value, (numbers.Real, decimal.Decimal)):  # float and NumPy's floating types
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        return sympy.Rational(str(value) if isinstance(value, decimal.Decimal) else repr(float(value)))
    kind = "None" if value is None else f"a {type(value).__name__} ({value!r})"
    raise TypeError(f"expected one number such as 0.9 or '1/10', got {kind}")


@dataclass(frozen=True)
class HyperParameter:
    """A hyperparameter: its name, domain, default value, LaTeX and meaning."""

    name: str
    domain: Domain
    default: float | None = None
    latex: str | None = None
    description: str = ""

    @property
    def symbol(self) -> sympy.Symbol:
        return sympy.Symbol(self.name, **self.domain.assumptions())

    def validate(self, value: Any) -> sympy.Expr:
        """The value as an exact number, or a clear error naming the domain."""
        try:
            number = exact_number(value)
        except (TypeError, ValueError) as error:
            default = f" (leave {self.name} out to use its default {self.default:g})" \
                if value is None and self.default is not None else ""
            raise ValueError(f"hyperparameter {self.name}: {error}{default}") from None
        if number.free_symbols:
            return number
        if not number.is_real:
            raise ValueError(f"hyperparameter {self.name} must be a real number, got {value!r}")
        try:
            finite = math.isfinite(float(number))
        except (OverflowError, TypeError):
            finite = False
        if not finite:
            raise ValueError(f"hyperparameter {self.name} must be a finite number, got {value!r}")
        if not self.domain.contains(float(number)):
            raise ValueError(
                f"hyperparameter {self.name} = {value!r} is outside its domain {self.domain.value}"
                + (f" ({self.description})" if self.description else "")
            )
        return number


@dataclass(frozen=True)
class Optimizer:
    """An optimizer described by its update direction :math:`U_n`."""

    name: str
    build: Callable[..., sympy.Expr] = field(repr=False)
    hyperparameters: tuple[HyperParameter, ...]
    options: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self):
        for hp in self.hyperparameters:
            if hp.name in RESERVED_NAMES:
                raise DescriptionError(f"hyperparameter name {hp.name!r} is reserved (h is the step size, theta the iterate, t the time)")

    def __call__(self, **options) -> "Optimizer":
        """A copy with some options changed, e.g. ``adam(eps_inside=False)``."""
        unknown = set(options) - set(self.options)
        if unknown:
            known = ", ".join(sorted(self.options)) or "none"
            raise TypeError(f"{self.name} has no option {', '.join(sorted(unknown))}; its options are: {known}")
        return Optimizer(self.name, self.build, self.hyperparameters, {**self.options, **options}, self.description)

    @property
    def symbols(self) -> dict[str, sympy.Symbol]:
        return {hp.name: hp.symbol for hp in self.hyperparameters}

    def hyperparameter(self, name: str) -> HyperParameter:
        for hp in self.hyperparameters:
            if hp.name == name:
                return hp
        known = ", ".join(hp.name for hp in self.hyperparameters) or "none"
        raise ValueError(f"{self.name} has no hyperparameter {name!r}; its hyperparameters are: {known}")

    def substitutions(self, values: Mapping[str, Any] | None) -> dict[sympy.Symbol, sympy.Expr]:
        """Validated ``{symbol: exact value}`` for the given ``{name: value}``."""
        return {self.hyperparameter(name).symbol: self.hyperparameter(name).validate(v)
                for name, v in self._mapping(values).items()}

    def defaults(self) -> dict[str, float]:
        return {hp.name: hp.default for hp in self.hyperparameters if hp.default is not None}

    def numbers(self, values: Mapping[str, Any] | None = None) -> dict[str, float]:
        """Every hyperparameter as a float: the given ``values`` (validated: names
        and domains), the defaults for the rest; an error names the ones without
        either."""
        merged = {**self.defaults(), **dict(self._mapping(values))}
        exact = self.substitutions(merged)
        missing = [hp.name for hp in self.hyperparameters if hp.name not in merged]
        if missing:
            raise ValueError(f"give values for the hyperparameters {', '.join(missing)} of {self.name} (values={{...}})")
        return {name: float(exact[self.hyperparameter(name).symbol]) for name in merged}

    @staticmethod
    def _mapping(values: Any) -> Mapping[str, Any]:
        if values is not None and not isinstance(values, collections.abc.Mapping):
            raise TypeError(f"values must map hyperparameter names to numbers, e.g. values=dict(beta=0.9), got {values!r}")
        return values or {}

    def update(self, values: Mapping[str, Any] | None = None) -> sympy.Expr:
        r"""The update direction :math:`U_n`, checked for smoothness, with the
        given hyperparameter values substituted."""
        built = self.build(**self.symbols, **self.options)
        if isinstance(built, (sympy.MatrixBase, sympy.MatrixExpr)):
            raise DescriptionError(f"the build function of {self.name} returns a SymPy matrix; {MATRIX_ADVICE}")
        if not isinstance(built, (sympy.Basic, int, float)):  # sympify would evaluate text, also inside containers
            raise DescriptionError(f"the build function of {self.name} must return an expression such as "
                                   f"-ema(grad(), beta), got {type(built).__name__}")
        expr = sympy.sympify(built)
        check_smooth(expr, f"the update of {self.name}")
        return expr.xreplace(self.substitutions(values)) if values else expr

    def key(self, values: Mapping[str, Any] | None = None) -> str:
        """A stable hash of the description (for caches)."""
        return structural_digest(self.update(values))[:16]


def optimizer(**hyperparameters: HyperParameter) -> Callable[[Callable[..., sympy.Expr]], Optimizer]:
    """Declare an optimizer from its build function.

    The build function takes the hyperparameter symbols (by name) and options
    (keyword-only arguments with defaults) and returns the update direction::

        @optimizer(beta=decay(0.9, r"\\beta", "momentum"))
        def heavy_ball_ema(beta):
            return -ema(grad(), beta)
    """

    def wrap(build: Callable[..., sympy.Expr]) -> Optimizer:
        signature = inspect.signature(build)
        options = {
            name: parameter.default
            for name, parameter in signature.parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY
        }
        positional = [n for n, p in signature.parameters.items() if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        if set(positional) != set(hyperparameters):
            raise DescriptionError(
                f"{build.__name__}: the build function's arguments {positional} must be the declared hyperparameters {list(hyperparameters)}"
            )
        specs = tuple(replace(hyperparameters[name], name=name) for name in positional)
        doc = inspect.getdoc(build) or ""
        return Optimizer(build.__name__, build, specs, options, doc)

    return wrap


def decay(default: float | None = None, latex: str | None = None, description: str = "") -> HyperParameter:
    """A decay rate in :math:`[0, 1)` (EMA and momentum parameters)."""
    return HyperParameter("", Domain.UNIT_INTERVAL, default, latex, description)


def positive(default: float | None = None, latex: str | None = None, description: str = "") -> HyperParameter:
    """A positive hyperparameter (:math:`\\varepsilon`, radii, smoothing widths)."""
    return HyperParameter("", Domain.POSITIVE, default, latex, description)


def nonnegative(default: float | None = None, latex: str | None = None, description: str = "") -> HyperParameter:
    """A nonnegative hyperparameter (weight decay)."""
    return HyperParameter("", Domain.NONNEGATIVE, default, latex, description)


def real(default: float | None = None, latex: str | None = None, description: str = "") -> HyperParameter:
    """A real hyperparameter without constraints."""
    return HyperParameter("", Domain.REAL, default, latex, description)
