r"""Plain-text output in the papers' notation, in Unicode: what ``print(eq)`` and
``modeq derive`` show.

The text reads like the LaTeX of :mod:`modeq.printing.latex`, one line per
power of :math:`h`:

.. code-block:: text

    modified equation of adam (stationary regime, order 1):
      dθ̃_j/dt = f_0 + h f_1
      f_0 = -∇_j E/√(|∇_j E|² + ε)
      f_1 = -(2(β-ρ)/((1-β)(1-ρ)) + (1+ρ)/(1-ρ)·ε/(|∇_j E|² + ε))/(2√(|∇_j E|² + ε)) ∇_j‖∇E‖₁,ε
      notation: ∇_j E = ∂E/∂θ_j; ‖∇E‖₁,c = Σ_i √(|∇_i E|² + c)

A coefficient stands in front of its quantity as the papers write
``h/(4m) Σ_k ‖∇E_k‖²``; factors side by side multiply (``2h``, ``λθ̃_j``), and
``·`` separates factors that carry an index.

* :class:`TextPrinter` — a SymPy printer for index-form expressions:
  :math:`\nabla_j E` is ``∇_j E``, :math:`D_1[X]` is ``Σ_i ∇_{ji}E·X_i``
  (the argument written for component ``i``), :math:`S[|g|]` is ``‖∇E‖₁``,
  the parameter is ``θ̃_j``, hyperparameters are their LaTeX names in Unicode
  (``β``, ``ρ``, ``ε``, ``β₁``);
* :func:`equation_text` — a modified equation, laid out by
  :func:`modeq.printing.layout.arrange` like the LaTeX, with a one-line legend
  of the notation it uses;
* :func:`plain_math` — LaTeX math as Unicode text (hyperparameter names,
  docstrings in ``modeq list``); :func:`plain_docstring` — a reST docstring as
  readable text.

Unlike :class:`sympy.printing.str.StrPrinter` the output is for reading, not for
pasting into Python.
"""

from __future__ import annotations

import re
import textwrap
from decimal import Decimal
from typing import TYPE_CHECKING, Iterable

import sympy
from sympy.printing.str import StrPrinter

from ..algebra.base import STEP
from ..algebra.index import Contraction, Gradient, MatrixDerivative
from ..optimizers.base import Optimizer, exact_number
from ..optimizers.language import h
from ..quantities import atoms_of
from .layout import Block, Summand, arrange
from .notation import IndexNotation, function_names, map_arguments, printed_states

if TYPE_CHECKING:
    from ..terms import EquationTerms

__all__ = ["TextPrinter", "equation_text", "modified_loss_text", "scalar_text", "plain_math", "plain_docstring", "legend"]

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "varrho": "ϱ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "ϕ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ",
    "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
_SYMBOLS = {
    "nabla": "∇", "sum": "Σ", "prod": "Π", "partial": "∂", "infty": "∞", "cdot": "·", "times": "×",
    "|": "‖", "lVert": "‖", "rVert": "‖", "lvert": "|",
    "rvert": "|", "ell": "ℓ", "odot": "⊙", "circ": "∘", "pm": "±", "dots": "…", "ldots": "…",
    "cdots": "⋯", "langle": "⟨", "rangle": "⟩", "top": "ᵀ", ",": " ", ";": " ",
    ":": " ", "!": "", " ": " ", "{": "{", "}": "}", "_": "_", "%": "%", "&": "&", "#": "#",
}
_RELATIONS = {"le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈", "to": "→",
              "ll": "≪", "gg": "≫", "equiv": "≡", "propto": "∝", "Rightarrow": "⇒", "leftarrow": "←",
              "rightarrow": "→", "mapsto": "↦", "in": "∈", "sim": "∼", "quad": "", "qquad": ""}
_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303", "widetilde": "\u0303", "bar": "\u0304",
            "overline": "\u0305", "dot": "\u0307", "ddot": "\u0308", "vec": "\u20d7"}
_WORDS = ("operatorname", "mathrm", "text", "textrm", "mathit", "mathbf", "boldsymbol", "mathcal", "mathbb")
_DROP = ("left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr",
         "displaystyle", "limits", "nolimits")
_SUPERSCRIPT = str.maketrans("0123456789-+()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾ⁿ")
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def superscript(text: str) -> str:
    """``text`` as Unicode superscript characters (``²``, ``ⁿ⁺¹``), or ``^(text)`` when some have none."""
    if text and all(c in "0123456789-+n" for c in text):
        return text.translate(_SUPERSCRIPT)
    wrapped = len(text) == 1 or text.startswith("(") and text.endswith(")") and text.count("(") == 1
    return f"^{text}" if wrapped else f"^({text})"


def subscript(text: str) -> str:
    """Digits as Unicode subscripts (``β₁``), anything else as ``_text`` or ``_{text}``."""
    if text.isdigit():
        return text.translate(_SUBSCRIPT)
    return f"_{text}" if len(text) == 1 else f"_{{{text}}}"


# -- LaTeX math and reST as text ------------------------------------------------------------------


def _group(text: str, start: int) -> tuple[str, int]:
    """The braced group (or single token) at ``start``: ``(content, end)``."""
    while start < len(text) and text[start] == " ":
        start += 1
    if start >= len(text):
        return "", start
    if text[start] == "{":
        depth = 0
        for end in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                return text[start + 1:end], end + 1
        return text[start + 1:], len(text)
    if text[start] == "\\":
        match = re.match(r"\\([A-Za-z]+|.)", text[start:])
        return match.group(0), start + len(match.group(0))
    return text[start], start + 1


_ATOM = re.compile(r"[\w∇][\u0300-\u036f]*(_\w|_\{[^{}]*\})?[⁰¹²³⁴⁵⁶⁷⁸⁹ⁿ⁺⁻₀₁₂₃₄₅₆₇₈₉]*")


def _atomic(text: str) -> bool:
    """Whether ``text`` reads as one symbol (``x``, ``D_n``, ``β₂``, ``m̂_{n+1}``): no parentheses needed."""
    return len(text) <= 1 or bool(_ATOM.fullmatch(text))


def plain_math(latex: str) -> str:
    r"""LaTeX math as Unicode text: ``\hat m_{n+1}/\sqrt{\hat\nu_{n+1}+\varepsilon}``
    becomes ``m̂_{n+1}/√(ν̂_{n+1}+ε)``, ``\beta_1`` becomes ``β₁``."""
    out, i = [], 0
    while i < len(latex):
        char = latex[i]
        if char == "\\":
            match = re.match(r"\\([A-Za-z]+|.)", latex[i:])
            name, i = match.group(1), i + len(match.group(0))
            if name.isalpha():  # TeX ignores the spaces after a control word
                while latex[i:i + 1] == " ":
                    i += 1
            if name in _RELATIONS:
                out.append(f" {_RELATIONS[name]} ")
            elif name in _GREEK:
                out.append(_GREEK[name])
            elif name in _SYMBOLS:
                out.append(_SYMBOLS[name])
            elif name in _ACCENTS:
                arg, i = _group(latex, i)
                arg = plain_math(arg)
                out.append(arg + _ACCENTS[name])
            elif name == "frac" or name in ("dfrac", "tfrac"):
                top, i = _group(latex, i)
                bottom, i = _group(latex, i)
                top, bottom = plain_math(top), plain_math(bottom)
                top = top if _atomic(top) else f"({top})"
                bottom = bottom if _atomic(bottom) else f"({bottom})"
                rest = latex[i:].lstrip()
                # a coefficient reads as one when a space follows it: h/4 ‖∇E‖²
                out.append(f"{top}/{bottom}" + (" " if rest and rest[0] not in "+-=,.;)]}&^_" else ""))
            elif name == "sqrt":
                arg, i = _group(latex, i)
                arg = plain_math(arg)
                out.append(f"√{arg}" if _atomic(arg) else f"√({arg})")
            elif name in _WORDS:
                arg, i = _group(latex, i)
                out.append(plain_math(arg))
            elif name in _DROP:
                if latex[i:i + 1] in ".":
                    i += 1
            else:
                out.append(name)
        elif char in "^_":
            arg, i = _group(latex, i + 1)
            arg = plain_math(arg)
            out.append(superscript(arg) if char == "^" else subscript(arg))
        elif char in "{}":
            i += 1
        elif char == "~":
            out.append(" ")
            i += 1
        else:
            out.append(char)
            i += 1
    return re.sub(r" {2,}", " ", "".join(out))


_ROLE = re.compile(r":(?:math|mod|func|class|meth|attr|data|obj|exc|ref):`~?([^`]*)`")


def _inline(text: str) -> str:
    def role(match: re.Match) -> str:
        kind = match.group(0)[1:].split(":")[0]
        body = match.group(1)
        if kind == "math":  # a formula is not broken across lines
            return plain_math(body).strip().replace(" ", "\N{NO-BREAK SPACE}")
        body = body.split(".")[-1] if match.group(0).split("`")[1].startswith("~") else body
        return body + "()" if kind in ("func", "meth") else body

    text = _ROLE.sub(role, text)
    return re.sub(r"``([^`]*)``", r"\1", text)


def _blocks(doc: str) -> list[tuple[str, str]]:
    """``(kind, text)`` of a docstring: ``"math"`` for each equation of a ``..
    math::`` directive (its indented lines, blank lines separating equations),
    ``"text"`` for each paragraph or bullet."""
    blocks, lines, n = [], doc.splitlines(), 0
    while n < len(lines):
        line = lines[n]
        if line.lstrip().startswith(".. math::"):
            indent = len(line) - len(line.lstrip())
            equation = [line.lstrip()[len(".. math::"):]]
            n += 1
            while n < len(lines) and (not lines[n].strip() or len(lines[n]) - len(lines[n].lstrip()) > indent):
                if lines[n].strip():
                    equation.append(lines[n])
                elif " ".join(equation).strip():
                    blocks.append(("math", " ".join(equation)))
                    equation = []
                n += 1
            if " ".join(equation).strip():
                blocks.append(("math", " ".join(equation)))
            continue
        if not line.strip():
            n += 1
            continue
        paragraph = []
        while n < len(lines) and lines[n].strip() and not lines[n].lstrip().startswith(".. math::"):
            if paragraph and re.match(r"\s*[*-] ", lines[n]):
                break
            paragraph.append(lines[n].strip())
            n += 1
        blocks.append(("text", " ".join(paragraph)))
    return blocks


def plain_docstring(doc: str, width: int = 88, indent: str = "") -> str:
    """A reST docstring as readable text: roles and math in Unicode, paragraphs
    re-wrapped to ``width``, each equation of a ``.. math::`` block on its own
    indented line."""
    paragraphs = []
    for kind, text in _blocks(textwrap.dedent(doc.strip("\n")).strip()):
        if kind == "math":  # equations set apart by \qquad go on lines of their own
            for equation in re.split(r"\\qquad|\\quad", text):
                paragraphs.append(indent + "    " + plain_math(" ".join(equation.split())).strip())
            continue
        bullet = re.match(r"[*-] ", text)
        first = indent + ("• " if bullet else "")
        rest = indent + ("  " if bullet else "")
        paragraphs.append(textwrap.fill(_inline(text[2:] if bullet else text), width, initial_indent=first,
                                        subsequent_indent=rest, break_on_hyphens=False, break_long_words=False))
    return "\n".join(paragraphs).replace("\N{NO-BREAK SPACE}", " ")


# -- the printer ----------------------------------------------------------------------------------


class TextPrinter(IndexNotation, StrPrinter):
    r"""Index-form expressions as Unicode text, component ``j``."""

    printmethod = "_modeq_text"

    def __init__(self, optimizer: Optimizer | None = None, atoms=None) -> None:
        super().__init__()
        self.atoms = atoms_of(None) if atoms is None else atoms
        self.names: dict[sympy.Symbol, str] = {h: "h", STEP: "n"}
        for hp in optimizer.hyperparameters if optimizer is not None else ():
            self.names[hp.symbol] = hyperparameter_name(hp)
        self._index = "j"
        self._used = ["j"]
        self._bare = False
        #: The name of each opaque function of time printed (:func:`equation_text`).
        self.functions: dict[sympy.FunctionClass, str] = {}

    # -- opaque functions of time -----------------------------------------------------------------

    def _print_Function(self, expr: sympy.Expr) -> str:
        return self._time_function(expr, 0) if expr.func in self.functions else super()._print_Function(expr)

    def _print_Derivative(self, expr: sympy.Derivative) -> str:
        inner = expr.expr
        if inner.func in self.functions and set(expr.variables) == set(inner.args):
            return self._time_function(inner, expr.derivative_count)
        return super()._print_Derivative(expr)

    def _time_function(self, expr: sympy.Expr, order: int) -> str:
        """η(t), η'(t), η''(t), η⁽³⁾(t)."""
        primes = "'" * order if order < 3 else "⁽" + superscript(str(order)) + "⁾"
        return f"{self.functions[expr.func]}{primes}({', '.join(map(self._print, expr.args))})"

    # -- atoms --------------------------------------------------------------------------------

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        if expr in self.names:
            return self.names[expr]
        text = self._atom(expr)
        if text is not None:
            return text
        return plain_math(expr.name) if "\\" in expr.name else expr.name

    def _parenthesized(self, text: str) -> str:
        return f"({text})"

    def _theta(self) -> str:
        return f"θ̃_{self._index}"

    def _state(self, name: str) -> str:
        return f"{_GREEK.get(name, name)}\u0303_{self._index}"

    def _nabla(self) -> str:
        return f"∇_{self._index}"

    def _block_size(self) -> str:
        return f"|B({self._index})|"

    def _block_scale(self, rule: str) -> str:
        scale = "s" if rule == "original" else f"s_{rule}"
        return f"{scale}(B({self._index}))"

    def _loss(self, batch: int | None) -> str:
        return "E" if batch is None else "E" + subscript(str(batch))

    def _at(self, index: str, expr: sympy.Expr, last: bool = False) -> str:
        """``expr`` written for component ``index``, in parentheses unless it is one factor."""
        text = self._at_component(index, expr, last)
        simple = expr.is_Symbol or expr.is_Pow and expr.exp.is_Integer and expr.exp > 0 or expr.is_Function \
            or expr.is_Integer and expr >= 0  # the zero slot of a direction of several blocks
        return text if simple else f"({text})"

    def _contraction(self, definition: Contraction) -> str:
        with self._summed(len(definition.args)) as letters:
            last = len(definition.args) - 1
            args = [self._at(letter, arg, n == last) for n, (letter, arg) in enumerate(zip(letters, definition.args))]
        sums = letters[0] if len(letters) == 1 else "{" + ",".join(letters) + "}"
        derivative = f"∇_{{{self._index}{''.join(letters)}}}{self._loss(definition.loss)}"
        return f"Σ_{sums} " + "·".join([derivative] + args)

    def _norm(self, kind: tuple, power: sympy.Expr = sympy.Integer(1)) -> str:
        name, batch, c = kind
        vector = f"‖∇{self._loss(batch)}‖"
        if name == "2":
            exponent = 2 * power
            return vector + ("" if exponent == 1 else self._exponent(exponent))
        if name == "1":
            base = vector + "₁"
        else:
            constant = self._print(c)
            base = vector + (f"₁,{constant}" if len(constant) == 1 else f"_{{1,{constant}}}")
        return base if power == 1 else f"({base}){self._exponent(power)}"

    def _reduction(self, arg: sympy.Expr) -> str:
        with self._summed(1) as (letter,):
            return f"Σ_{letter} {self._at(letter, arg, last=True)}"

    def _matrix_map(self, definition: MatrixDerivative) -> str:
        """``D²NS[X_k][Y_k, Z_k]_j``: the map of the block whose entries are ``X_k``
        (``k`` over the block of ``j``), its component ``j``."""
        with self._summed(1) as (letter,):
            point, directions = map_arguments(definition, [self._at(letter, a) for a in definition.arguments])
        k = len(definition.directions)
        name = definition.map.name if k == 0 else f"D{'' if k == 1 else superscript(str(k))}{definition.map.name}"
        return f"{name}[{point}]" + (f"[{', '.join(directions)}]" if k else "") + f"_{self._index}"

    def _block_sum(self, arg: sympy.Expr) -> str:
        """:math:`S_B[X]_j` as ``Σ_{i∈B(j)} X_i``: the sum over the block of the current index."""
        with self._summed(1) as (letter,):
            return f"Σ_{{{letter}∈B({self._index})}} {self._at(letter, arg, last=True)}"

    # -- numbers, powers, products and sums ---------------------------------------------------

    def _exponent(self, exponent: sympy.Expr) -> str:
        if exponent.is_Add:  # n+1, not 1+n
            terms = sorted(sympy.Add.make_args(exponent), key=lambda t: (t.is_Number, sympy.default_sort_key(t)))
            text = "".join(("" if n == 0 or t.could_extract_minus_sign() else "+") + self._print(t)
                           for n, t in enumerate(terms))
            return superscript(text.replace(" ", ""))
        return superscript(self._print(exponent).replace(" ", ""))

    def _print_Rational(self, expr: sympy.Rational) -> str:
        return decimal(expr) or (str(expr.p) if expr.q == 1 else f"{expr.p}/{expr.q}")

    def _print_Integer(self, expr: sympy.Integer) -> str:
        return decimal(expr) or str(expr.p)

    def _print_Float(self, expr: sympy.Float) -> str:
        return f"{float(expr):g}"

    def _print_Pi(self, expr: sympy.Expr) -> str:
        return "π"

    def _print_Abs(self, expr: sympy.Expr) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_sign(self, expr: sympy.Expr) -> str:
        return f"sign({self._print(expr.args[0])})"

    def _base(self, base: sympy.Expr) -> str:
        text = self._print(base)
        if base.is_Add or base.is_Mul or base.is_Pow or base.is_Rational and not base.is_Integer or text.startswith("-"):
            return f"({text})"
        if isinstance(base, sympy.Symbol) and isinstance(self.atoms.definition(base), Gradient):
            return f"({text})"
        return text

    def _print_Pow(self, expr: sympy.Pow) -> str:
        base, exponent = expr.as_base_exp()
        if exponent.is_Rational and exponent < 0:
            return self._print_Mul(expr)
        text = self._radical_power(base, exponent)
        if text is not None:
            return text
        if exponent == sympy.S.Half:
            text = self._print(base)
            return f"√{text}" if isinstance(base, sympy.Symbol) and len(text) == 1 or base.is_Integer else f"√({text})"
        return self._base(base) + self._exponent(exponent)

    def _absolute(self, gradient: sympy.Symbol, exponent: sympy.Expr) -> str:
        text = f"|{self._print(gradient)}|"
        return text if exponent == 1 else text + self._exponent(exponent)

    def _factor_key(self, factor: sympy.Expr):
        if factor.is_Number:
            rank = 0
        elif self.atoms.is_component(factor) or factor.free_symbols & self.atoms.scalar:
            rank = 4 if any(isinstance(self.atoms.definition(s), Contraction) for s in factor.free_symbols) else 3
        else:
            base, exponent = factor.as_base_exp()
            rank = 2 if base.is_Add else 1.5 if not exponent.is_Number else 1
        return rank, sympy.default_sort_key(factor)

    def _factor(self, factor: sympy.Expr, last: bool) -> str:
        if factor.is_Add:
            return f"({self._print(factor)})"
        self._bare = last and isinstance(factor, sympy.Symbol)
        try:
            return self._print(factor)
        finally:
            self._bare = False

    def factors_text(self, factors: Iterable[sympy.Expr], last_bare: bool = True) -> list[str]:
        """Each factor printed, sums in parentheses, sorted as a person writes them
        (number, :math:`h`, hyperparameters, their sums, component factors, sums over indices)."""
        factors = sorted((f for f in factors if f != 1), key=self._factor_key)
        return [self._factor(f, last_bare and n == len(factors) - 1) for n, f in enumerate(factors)]

    def _print_Mul(self, expr: sympy.Expr) -> str:
        if any(f.is_Pow and not f.exp.is_Number for f in sympy.Mul.make_args(expr)):
            combined = sympy.powsimp(expr, combine="exp")  # β·βⁿ is βⁿ⁺¹ (the exact regime's coefficients)
            if not combined.is_Mul:
                return self._print(combined)
            expr = combined
        number, rest = expr.as_coeff_Mul()
        sign = "-" if number < 0 else ""
        number = abs(number)
        num, den = [], []
        if number.is_Rational:
            num += [sympy.Integer(number.p)] if number.p != 1 else []
            den += [sympy.Integer(number.q)] if number.q != 1 else []
        elif number != 1:
            num.append(number)
        for factor in sympy.Mul.make_args(rest):
            base, exponent = factor.as_base_exp()
            if base.is_Add and exponent.is_Integer and base.as_coeff_Add()[0] < 0:
                base = sympy.Add(*(-t for t in base.args), evaluate=False)  # 1-β, not -1+β
                sign = ("" if sign else "-") if exponent % 2 else sign
                factor = sympy.Pow(base, exponent, evaluate=False)
            if exponent.is_Rational and exponent < 0:
                den.append(sympy.Pow(base, -exponent, evaluate=False) if exponent != -1 else base)
            elif factor != 1:
                num.append(factor)
        bottom = self.factors_text(den)
        top = self.factors_text(num, last_bare=not bottom)
        return sign + fraction(top, bottom)

    def _print_Add(self, expr: sympy.Expr, order=None) -> str:
        if expr.has(sympy.Pow) and any(p.is_Pow and not p.exp.is_Number for p in expr.atoms(sympy.Pow)):
            combined = sympy.powsimp(expr, combine="exp")  # and like terms collect
            if not combined.is_Add:
                return self._print(combined)
            expr = combined
        text = super()._print_Add(expr, order)
        if not self.atoms.is_component(expr) and not expr.free_symbols & self.atoms.scalar and len(expr.args) <= 3:
            text = text.replace(" + ", "+").replace(" - ", "-")
        return text

    def _as_ordered_terms(self, expr: sympy.Expr, order=None) -> list[sympy.Expr]:
        """Numbers first (``1-β``), then terms that vary with the component, then the rest."""
        def key(term: sympy.Expr):
            rank = 0 if term.is_Number else 1 if self.atoms.is_component(term) else 2
            return rank, sympy.default_sort_key(term)

        return sorted(sympy.Add.make_args(expr), key=key)


_NUMBER = re.compile(r"[\d.]+(e-?\d+)?")


def _separator(previous: str, piece: str) -> str:
    """How two factors are written side by side: ``2h``, ``h(1+β)``, ``λθ̃_j`` juxtaposed;
    ``∇_{ji}E·∇_i E`` with a dot after anything that carries an index; a space before a sum;
    a dot between letters where one side is a word (``floor·cos(πt/T)``, not ``floorcos``)."""
    if piece[:1].isdigit():
        return "·"
    if piece.startswith("Σ"):
        return " "
    before, after = re.search(r"[A-Za-z]*$", previous).group(), re.match(r"[A-Za-z]*", piece).group()
    if before and after and max(len(before), len(after)) > 1:
        return "·"
    if _NUMBER.fullmatch(previous) and "e" not in previous or not any(c in previous for c in "∇θ|‖_ΣEe"):
        return ""
    return "·"


def product(pieces: list[str]) -> str:
    """Factors side by side where that reads unambiguously, else joined by ``·``."""
    text, previous = "", ""
    for piece in pieces:
        text += piece if not text else _separator(previous, piece) + piece
        previous = piece
    return text


def fraction(top: list[str], bottom: list[str]) -> str:
    """``top/bottom`` with parentheses only where a product or sum needs them."""
    numerator = product(top) or "1"
    if not bottom:
        return numerator
    denominator = product(bottom)
    if len(bottom) > 1 or not (_atomic(denominator) or re.fullmatch(
            r"[\w\u0300-\u036f\u0370-\u03ff⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉]+|\(.*\)|√\(.*\)|\|.*\|[⁰¹²³⁴⁵⁶⁷⁸⁹]*", denominator)):
        denominator = f"({denominator})"
    return f"{numerator}/{denominator}"


def decimal(number: sympy.Rational) -> str | None:
    """A number given in decimals, such as ``1e-8``, ``1e8`` or ``0.999``, written
    that way (it was exact, so the text is too); ``None`` for other numbers."""
    p, q = abs(int(number.p)), int(number.q)
    sign = "-" if number < 0 else ""
    if q == 1:
        mantissa = str(p).rstrip("0")
        return f"{sign}{mantissa}e{len(str(p)) - len(mantissa)}" if p >= 10**5 and len(mantissa) == 1 else None
    digits = len(str(q)) - 1
    if q != 10**digits:
        return None
    value = Decimal(p).scaleb(-digits)
    if digits < 5:
        return sign + format(value, "f")
    mantissa, exponent = f"{value:e}".split("e")
    return f"{sign}{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def hyperparameter_name(hp) -> str:
    """A hyperparameter in text: its LaTeX name in Unicode (``β₁``, ``η_{min}``, ``T_{αβ₃}``: one
    symbol, perhaps subscripted), or its own name."""
    if hp.latex:
        text = plain_math(hp.latex).strip()
        if text and "\\" not in text and (len(text) <= 4 or _atomic(text)):
            return text
    return hp.name


# -- the layout as text ---------------------------------------------------------------------------


def _summand_text(printer: TextPrinter, summand: Summand) -> str:
    """A summand inside a bracket: its scalar fraction, then its elementwise one
    (``(1+ρ)/(1-ρ)·ε/(|∇_j E|² + ε)``)."""
    top, bottom = (printer.factors_text(f) for f in summand.fraction_factors(sympy.Integer(1)))
    unit = Summand(1, sympy.Integer(1), (), 1)
    ctop, cbottom = (printer.factors_text(f) for f in unit.fraction_factors(summand.component))
    if not bottom or not ctop:
        return fraction(top + ctop, bottom + cbottom)
    return fraction(top, bottom) + "·" + fraction(ctop, cbottom)


def _signed(parts: list[tuple[int, str]]) -> str:
    text = ""
    for n, (sign, body) in enumerate(parts):
        text += ("-" if sign < 0 else "") + body if n == 0 else (" - " if sign < 0 else " + ") + body
    return text


def _block_text(printer: TextPrinter, block: Block, hpower: sympy.Expr) -> tuple[int, str]:
    """``coefficient quantity``, as the papers write ``h/(4m) Σ_k ‖∇E_k‖²``; a quantity that is a
    reciprocal (of a slow state, ``1/τ̃_j``) joins the coefficient's denominator: ``β∇_j E/(2τ̃_j)``,
    not ``β∇_j E/2 1/τ̃_j``."""
    shown, hpower = block.printed_quantity(hpower)
    quantity = "" if shown is None else printer.quantity(shown)
    if len(block.summands) == 1:
        scaled = block.lone_summand()
        sign = scaled.sign
        component = block.outer * scaled.component
        num, den = scaled.fraction_factors(hpower)
        ctop, cbottom = sympy.fraction(component)
        if block.quantity == 1 and component != 1 and cbottom == 1 and any(f != 1 for f in den):
            # a scalar fraction in front of a plain elementwise factor: -1/(1-β) ∇_j E
            quantity = product(printer.factors_text(sympy.Mul.make_args(ctop)))
        else:
            num, den = scaled.fraction_factors(hpower * component)
        coefficient = fraction(printer.factors_text(num, last_bare=not quantity), printer.factors_text(den))
    else:
        sign = 1 if block.prefactor > 0 else -1
        num, den = Summand(1, abs(block.prefactor), (), 1).fraction_factors(hpower * block.outer)
        inner = _signed([(s.sign, _summand_text(printer, s)) for s in block.summands])
        coefficient = fraction(printer.factors_text(num) + [f"({inner})"], printer.factors_text(den))
    if not quantity:
        return sign, coefficient
    return sign, quantity if coefficient == "1" else f"{coefficient} {quantity}"


def legend(text: str) -> str:
    """One line explaining the notation that ``text`` uses."""
    items = ["∇_j E = ∂E/∂θ_j"]
    if "θ̃" in text:
        items.append("θ̃ the parameters on the modified flow")
    if re.search(r"∇_\{j\w+\}", text):
        items.append("∇_{ji}E = ∂²E/∂θ_j∂θ_i (more indices: higher derivatives)")
    if re.search(r"Σ_(?!\{\w∈)", text):
        items.append("Σ_i sums over all parameters i")
    if "∈B(" in text or "|B(" in text:
        items.append("B(j) the parameter block (layer) of θ_j, |B(j)| its size")
    if "‖²" in text or "‖∇E‖" in text and "‖∇E‖₁" not in text and "‖∇E‖_" not in text:
        items.append("‖∇E‖² = Σ_i |∇_i E|²")
    if "‖₁," in text or "‖_{1," in text:
        items.append("‖∇E‖₁,c = Σ_i √(|∇_i E|² + c)")
    if re.search(r"‖∇E[₀-₉]*‖₁(?!,)", text):
        items.append("‖∇E‖₁ = Σ_i |∇_i E|")
    if re.search(r"E[₀-₉]", text):
        items.append("E_b the loss of batch b, E their mean")
    if "p" in re.findall(r"\b\w\b", text):
        items.append("p the number of parameters")
    return "notation: " + "; ".join(items)


def equation_text(equation: "EquationTerms") -> str:
    r"""The equation as text: a header, :math:`\dot{\tilde\theta}_j = f_0 + h f_1 + \dots`,
    one line per term :math:`f_k`, and a legend."""
    printer = TextPrinter(equation.optimizer, atoms_of(equation))
    names = {hp.name: printer.names[hp.symbol] for hp in equation.optimizer.hyperparameters}
    values = ", ".join(f"{names.get(k, k)} = {printer.doprint(exact_number(v))}" for k, v in equation.values.items())
    header = f"modified equation of {equation.optimizer.name} ({equation.regime} regime, order {equation.order}"
    lines = [header + (f", {values}" if values else "") + "):"]
    powers = ["f_0"] + [f"h{superscript(str(k)) if k > 1 else ''} f_{k}" for k in range(1, equation.order + 1)]
    lines.append("  dθ̃_j/dt = " + " + ".join(powers))
    terms, state_terms, definitions = _printed_form(equation, printer)
    lines += _term_lines(printer, terms, "f")
    for state, own in printed_states(equation.states, state_terms):
        name, label = printer.doprint(state.value), _GREEK.get(state.name, state.name)
        lines.append(f"  d{name}/dt = " + " + ".join(p.replace("f_", f"f^{label}_") for p in powers)
                     + f",  {name.replace('_j', '')}(0) = {printer.doprint(state.init)}")
        lines += _term_lines(printer, own, f"f^{label}")
    lines += [f"  {'where ' if n == 0 else '      '}{d}" for n, d in enumerate(definitions)]
    lines.append("  " + legend("\n".join(lines[2:])))
    return "\n".join(lines)


#: Letters for the opaque functions of time (as :data:`modeq.printing.equation.FUNCTION_LETTERS`).
FUNCTION_LETTERS = {"step": ("η", "φ", "ψ", "χ"), "decay": ("μ", "κ", "ω")}


def _printed_form(equation: "EquationTerms", printer: TextPrinter) -> tuple[tuple, tuple, list[str]]:
    """The terms, the slow states' terms and the definitions of the functions of time, as
    :func:`modeq.printing.equation.printed_form` chooses them for the LaTeX."""
    form = equation.opaque_time()
    if form is None:
        return equation.terms, tuple(s.terms for s in equation.states), []
    names = function_names([d for _, d in form.functions], equation.optimizer, set(printer.names.values()),
                           FUNCTION_LETTERS, lambda letter, n: letter + subscript(str(n)))
    printer.functions = {function.func: name for (function, _), name in zip(form.functions, names)}
    definitions = [f"{printer.doprint(function)} = {printer.doprint(definition)}" for function, definition in form.functions]
    return form.terms, form.states, definitions


def _term_lines(printer: TextPrinter, terms, label: str) -> list[str]:
    """``label_k = ...``, one line per term."""
    groups = {group.power: group for group in arrange(terms, printer.atoms)}
    lines = []
    for k in range(len(terms)):
        group = groups.get(k)
        body = _signed([_block_text(printer, b, sympy.Integer(1)) for b in group.blocks]) if group else "0"
        lines.append(f"  {label}_{k} = {body}")
    return lines


def scalar_text(printer: TextPrinter, terms: Iterable[sympy.Expr]) -> str:
    r""":math:`\sum_k h^k \Phi_k` with each order laid out like an equation's term."""
    from .layout import term_blocks

    parts = [_block_text(printer, block, h**k) for k, term in enumerate(terms) if term != 0
             for block in term_blocks(term, printer.atoms)]
    return _signed(parts) or "0"


def modified_loss_text(loss) -> str:
    r"""A :class:`~modeq.analysis.ModifiedLoss` as text: :math:`\tilde E`, the
    preconditioned flow when :math:`P \ne 1`, the part that is not a gradient
    (a fixed batch order), or the reason there is no modified loss."""
    equation = loss.equation
    head = f"modified loss of {equation.optimizer.name} ({equation.regime} regime, order {loss.order})"
    if loss.terms is None:
        return f"{head}: none: {loss.reason}"
    printer = TextPrinter(equation.optimizer, atoms_of(equation))
    lines = [head + ":", "  Ẽ = " + scalar_text(printer, loss.terms)]
    if loss.preconditioner != 1:
        lines.append("  dθ̃_j/dt = -P_j ∇_j Ẽ,  P_j = " + scalar_text(printer, [loss.preconditioner]))
    rest = [(k, r) for k, r in enumerate(loss.remainder) if r != 0]
    if rest:
        flow = "-P_j ∇_j Ẽ" if loss.preconditioner != 1 else "-∇_j Ẽ"
        lines.append(f"  not a gradient flow: dθ̃_j/dt = {flow} + " + " + ".join(
            f"h{superscript(str(k)) if k > 1 else ''} N_{k}" for k, _ in rest))
        lines += [f"  N_{k} = {scalar_text(printer, [r])}  (not a gradient: its Jacobian is not symmetric)"
                  for k, r in rest]
    lines.append("  " + legend("\n".join(lines[1:])))
    return "\n".join(lines)
