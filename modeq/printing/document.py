r"""Standalone LaTeX documents that fit the page.

:func:`document` writes a complete ``article``: a title line, the equation
:math:`\dot{\tilde\theta}_j = f_0 + h f_1 + \dots`, one ``align*`` block per
term :math:`f_k`, and a legend of the notation the terms use. It needs only
``amsmath``, ``amssymb`` and ``geometry`` (all in TeX Live's basic LaTeX).

Long terms are broken over lines here, not by TeX: amsmath does not break
displayed equations, and ``breqn`` (which does) cannot break inside
``\left( \dots \right)`` and is fragile with the sums and radicals of these
fields. The printers' output is a sum of blocks; :func:`break_lines` fills
lines greedily with whole blocks, and a block wider than a line is broken at
the top-level signs inside its widest ``\left( \dots \right)`` group, which
is continued over lines with ``\left. \dots \right.`` (recursively, so a sum
nested in a sum breaks too). What does not fit even then (a single fraction
wider than the page) is shrunk to the line's width with ``\resizebox``, so no
line ever overflows. Widths are estimated from the LaTeX by
:func:`estimate_width` (Computer Modern metrics at 10pt, display style,
rounded up), which is precise enough to keep every line inside the text
width with a margin; the test compiles the documents and reads TeX's log.
"""

from __future__ import annotations

import re

import sympy
from typing import TYPE_CHECKING, Mapping

from .equation import decays, group_latex, join_signed, printed_form, printer_for, terms_latex
from .latex import IndexLatexPrinter, MatrixLatexPrinter, VectorLatexPrinter
from .layout import Group, arrange
from .notation import printed_states

if TYPE_CHECKING:
    from ..terms import EquationTerms

__all__ = ["equation_latex", "document", "break_lines", "estimate_width", "TEXT_WIDTH"]

#: The text width (pt) of the document: A4 with 2 cm margins.
TEXT_WIDTH = 483.0
#: A sum broken inside parentheses starts on the next line when less room than this (pt) is left.
MIN_ROOM = 120.0
#: Room kept free on every line for what the estimate misses (pt).
SAFETY = 0.92

# -- widths -----------------------------------------------------------------------------------

_SIZES = (1.0, 1.0, 0.7, 0.5)  # display, text, script, scriptscript
_GLYPH = {
    "nabla": 8.4, "sum": 14.5, "partial": 5.8, "infty": 10.0, "lVert": 5.0, "rVert": 5.0, "|": 5.0,
    "lvert": 2.8, "rvert": 2.8, "cdot": 7.2, "ldots": 13.4, "dots": 13.4, "cdots": 13.4, "varepsilon": 4.1,
    "epsilon": 4.1, "ell": 4.2, "odot": 7.8, "times": 7.8, "to": 10.0, "circ": 5.0,
}
_SPACE = {",": 1.7, ":": 2.2, ";": 2.8, "!": -1.7, " ": 3.3, "quad": 10.0, "qquad": 20.0}
_WRAP = ("tilde", "hat", "dot", "ddot", "bar", "vec", "mathrm", "mathbf", "boldsymbol", "text", "operatorname",
         "mathit", "displaystyle", "textstyle")


def _group_at(tex: str, i: int) -> tuple[str, int]:
    """The argument at ``i``: a braced group, a control sequence or one character."""
    while i < len(tex) and tex[i] == " ":
        i += 1
    if i >= len(tex):
        return "", i
    if tex[i] == "{":
        depth = 0
        for j in range(i, len(tex)):
            depth += {"{": 1, "}": -1}.get(tex[j], 0)
            if depth == 0:
                return tex[i + 1:j], j + 1
        return tex[i + 1:], len(tex)
    if tex[i] == "\\":
        match = re.match(r"\\([A-Za-z]+|.)", tex[i:])
        return match.group(0), i + len(match.group(0))
    return tex[i], i + 1


def estimate_width(tex: str, style: int = 0) -> float:
    r"""The width in pt of the math ``tex`` set in ``style`` (0 display, 1 text,
    2 script, 3 scriptscript), estimated from Computer Modern's metrics at 10pt
    and rounded up: ``\frac`` is as wide as its wider part, a sum's limits sit
    below it in display style, sub- and superscripts are smaller."""
    size = _SIZES[style]
    inner = min(style + 1, 3) if style >= 1 else 1
    script = min(max(style, 1) + 1, 3)
    total, i, previous = 0.0, 0, ""
    while i < len(tex):
        char = tex[i]
        if char == "\\":
            match = re.match(r"\\([A-Za-z]+|.)", tex[i:])
            name, i = match.group(1), i + len(match.group(0))
            if name in ("frac", "dfrac", "tfrac"):
                top, i = _group_at(tex, i)
                bottom, i = _group_at(tex, i)
                part = 1 if name == "dfrac" else inner
                total += max(estimate_width(top, part), estimate_width(bottom, part)) + 2.4 * size
            elif name == "sqrt":
                arg, i = _group_at(tex, i)
                total += estimate_width(arg, style) + 9.0 * size
            elif name in ("left", "right", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr"):
                delimiter, i = _group_at(tex, i)
                total += 0.0 if delimiter == "." else 5.6 * size
            elif name in _WRAP:
                arg, i = _group_at(tex, i)
                total += estimate_width(arg, style) * (1.05 if name in ("text", "operatorname", "mathrm") else 1.0)
            elif name in _SPACE:
                total += _SPACE[name] * size
            elif name == "sum":
                limits = ""
                while tex[i:i + 1] in ("_", "^"):
                    arg, i = _group_at(tex, i + 1)
                    limits = arg if len(arg) > len(limits) else limits
                glyph = (14.5 if style == 0 else 10.6) * size
                below = estimate_width(limits, script) if style == 0 else 0.0
                total += max(glyph, below) + (0.0 if style == 0 else estimate_width(limits, script)) + 1.7 * size
            elif name in _GLYPH:
                total += _GLYPH[name] * size
            else:  # a Greek letter or another symbol
                total += 6.2 * size
            previous = name
            continue
        if char in "^_":
            arg, i = _group_at(tex, i + 1)
            total += estimate_width(arg, script) + 0.6 * size
        elif char in "{}":
            i += 1
        elif char == " ":
            i += 1
        elif char in "+-":
            binary = previous not in ("", "(", "[", "{", "=", "&", "+", "-", ",") and style <= 1
            total += (7.8 + (4.4 if binary else 0.0)) * size
            previous = char
            i += 1
        elif char in "=<>":
            total += (7.8 + (5.6 if style <= 1 else 0.0)) * size
            previous = char
            i += 1
        elif char in "()[]":
            total += 3.9 * size
            previous = char
            i += 1
        elif char == ",":
            total += 2.8 * size + (1.7 * size if style <= 1 else 0.0)
            previous = char
            i += 1
        elif char == "&":
            i += 1
        else:
            total += (5.0 if char.isdigit() else 5.8 if char.isupper() else 5.3) * size
            previous = char
            i += 1
    return total


# -- breaking sums over lines -------------------------------------------------------------------


def _scan(tex: str):
    """``(index, depth)`` of every character, depth counting braces and ``\\left``/``\\right``."""
    depth, i = 0, 0
    while i < len(tex):
        if tex.startswith("\\left", i) and not tex[i + 5:i + 6].isalpha():
            yield i, depth
            depth += 1
            i += 5
            continue
        if tex.startswith("\\right", i) and not tex[i + 6:i + 7].isalpha():
            depth -= 1
            yield i, depth
            i += 6
            continue
        if tex[i] == "\\":
            match = re.match(r"\\([A-Za-z]+|.)", tex[i:])
            yield i, depth
            i += len(match.group(0))
            continue
        if tex[i] == "{":
            depth += 1
        elif tex[i] == "}":
            depth -= 1
        yield i, depth
        i += 1


def split_sum(tex: str) -> list[tuple[int, str]]:
    """``tex`` as its top-level signed terms ``[(sign, term), ...]``."""
    terms, start, sign, last = [], 0, 1, ""
    for i, depth in _scan(tex):
        char = tex[i]
        if depth == 0 and char in "+-":
            if tex[start:i].strip() and last not in ("^", "_", "(", "[", "=", "&", "{"):
                terms.append((sign, tex[start:i].strip()))
                sign, start = (1 if char == "+" else -1), i + 1
            elif not tex[start:i].strip():
                sign, start = (sign if char == "+" else -sign), i + 1
        if not tex[i].isspace():
            last = char
    terms.append((sign, tex[start:].strip()))
    return terms


def _groups(tex: str) -> list[tuple[int, int, int, int]]:
    r"""Top-level ``\left( \dots \right)`` groups: ``(start, open_end, close_start, end)``."""
    found, stack = [], []
    for i, depth in _scan(tex):
        if tex.startswith("\\left", i) and not tex[i + 5:i + 6].isalpha():
            _, open_end = _group_at(tex, i + 5)
            stack.append((i, open_end, depth))
        elif tex.startswith("\\right", i) and not tex[i + 6:i + 7].isalpha():
            start, open_end, depth0 = stack.pop()
            _, end = _group_at(tex, i + 6)
            if depth0 == 0 and len(split_sum(tex[open_end:i])) > 1:
                found.append((start, open_end, i, end))
    return found


def _signed(sign: int, term: str, first: bool) -> str:
    if first:
        return ("- " if sign < 0 else "") + term
    return ("- " if sign < 0 else "+ ") + term


def break_lines(terms: list[tuple[int, str]], width: float, first: float | None = None) -> list[str]:
    """The signed terms of a sum set on lines no wider than ``width`` (pt; the
    first line ``first``): whole terms fill lines greedily; a term wider than a
    line is broken inside its widest ``\\left( \\dots \\right)`` group, or else
    shrunk to the line."""
    lines: list[str] = []
    for n, (sign, term) in enumerate(terms):
        room = width if lines or first is None else first
        text = _signed(sign, term, n == 0)
        candidate = f"{lines[-1]} {text}" if lines else text
        if lines and estimate_width(candidate) <= (first if len(lines) == 1 and first is not None else width):
            lines[-1] = candidate
        elif estimate_width(text) <= room:
            lines.append(text)
        else:
            broken = _break_term(term, width, room)
            broken[0] = _signed(sign, broken[0], n == 0)
            lines += broken
    return lines


def _break_term(term: str, width: float, first: float) -> list[str]:
    """One product wider than ``width`` (its first line: ``first``), over several lines."""
    groups = _groups(term)
    if not groups:
        return [_shrink(term, first)]
    start, open_end, close_start, end = max(groups, key=lambda g: estimate_width(term[g[1]:g[2]]))
    prefix, opening = term[:start], term[start:open_end]
    closing, suffix = term[close_start:end], term[end:]
    room = first - estimate_width(prefix + opening) - 12.0
    lead = [] if room >= MIN_ROOM else [f"{prefix}{opening} \\right."]  # no room left: the sum starts below
    inner = break_lines(split_sum(term[open_end:close_start]), width - 12.0, room if not lead else width - 12.0)
    if lead:
        prefix, opening = "", "\\left."
    lines = lead + [f"{prefix}{opening} {inner[0]} \\right."]
    lines += [f"\\left. {line} \\right." for line in inner[1:]]
    lines[-1] = lines[-1][: -len("\\right.")] + closing
    if suffix.strip():
        if estimate_width(f"{lines[-1]} {suffix}") <= width:
            lines[-1] += suffix
        else:
            lines.append(r"\cdot " + suffix.strip() if estimate_width(suffix) <= width else _shrink(suffix, width))
    return [line if estimate_width(line) <= (first if n == 0 else width) else _shrink(line, first if n == 0 else width)
            for n, line in enumerate(lines)]


def _shrink(tex: str, width: float) -> str:
    """``tex`` scaled down to ``width`` (the last resort for an unbreakable piece)."""
    return rf"\resizebox{{{width:.0f}pt}}{{!}}{{$\displaystyle {tex}$}}"


# -- the document ---------------------------------------------------------------------------------


def _escape(text: str) -> str:
    for char, replacement in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("&", r"\&"), ("%", r"\%"),
                              ("#", r"\#"), ("$", r"\$"), ("{", r"\{"), ("}", r"\}"), ("^", r"\^{}"), ("~", r"\~{}")):
        text = text.replace(char, replacement)
    return text.encode("ascii", "replace").decode().replace("?", " ")


def _lhs(printer: IndexLatexPrinter) -> str:
    theta = printer.names["theta"]
    index = "" if isinstance(printer, VectorLatexPrinter) else f"_{{{printer.names['j']}}}"
    return rf"\dot{{\tilde{{{theta}}}}}{index}"


#: Matrix notation's legend: what each piece means, said when the body prints it.
_MATRIX_LEGEND = [
    (r"H\left[", r"$H[V]$ the ${W}$ block of the Hessian of ${E}$ applied to the direction $V$ (all blocks)"),
    (r"\nabla^{", r"$\nabla^{k+1} {E}[V_1, \dots, V_k]$ the $(k+1)$-th derivative applied to $V_1, \dots, V_k$"),
    (r"\rVert_{F}", r"$\lVert V\rVert_F$ the Frobenius norm"),
    (r"\langle", r"$\langle A, B\rangle = \operatorname{tr}(A^\top B)$"),
    (r"\operatorname{msign}", r"$\operatorname{msign}(V) = (VV^\top)^{-1/2}V$ the polar factor"),
    (r"\operatorname{NS}", r"$\operatorname{NS}$ the Newton--Schulz steps"),
    (r"\operatorname{Sh}", r"$\operatorname{Sh}(V, A, B) = (A + \varepsilon I)^{-1/4}V(B + \varepsilon I)^{-1/4}$ Shampoo's "
                            r"direction ($\operatorname{Sh}(V, S) = (S + \varepsilon I)^{-1/2}V$ one-sided, on the smaller side), "
                            r"$D\operatorname{Sh}(V, A, B)[(U, C, D)]$ its derivative along the three blocks together"),
    (r"\operatorname{Gram}", r"$\operatorname{Gram}_L(V) = VV^\top$, $\operatorname{Gram}_R(V) = V^\top V$ "
                              r"($\operatorname{Gram}(V)$ the smaller side's); $\tilde{L}$, $\tilde{R}$ their sums, "
                              r"Shampoo's statistics less their start $\varepsilon I$"),
    ("D ", r"$DF(V)[U]$ the derivative of $F$ at $V$ in the direction $U$"),
    ("s_{W}", r"$s_W$ the step scale of the shape of ${W}$"),
]


def legend(body: str, printer: IndexLatexPrinter) -> str:
    """One paragraph explaining the notation that ``body`` uses."""
    E, theta, j = printer.names["E"], printer.names["theta"], printer.names["j"]
    vector = isinstance(printer, VectorLatexPrinter)
    items = []
    if isinstance(printer, MatrixLatexPrinter):
        items.append(rf"each parameter block (layer) ${theta}$ is a matrix and $G = \nabla_{{{theta}}} {E}$ its gradient block")
        items += [text.replace("{W}", theta).replace("{E}", E) for mark, text in _MATRIX_LEGEND if mark in body]
        items.append("other products, quotients and powers of matrices are taken elementwise")
    elif vector:
        items.append(rf"$\nabla {E}$ is the gradient of the loss ${E}$, $\nabla^2 {E}\, v$ the Hessian applied to $v$, "
                     rf"$\nabla^{{k+1}} {E}[v_1, \dots, v_k]$ the $(k+1)$-th derivative applied to $v_1, \dots, v_k$; "
                     "products, quotients and powers of vectors are taken elementwise")
    else:
        items.append(rf"$\nabla_{{{j}}} {E} = \partial {E}/\partial {theta}_{{{j}}}$")
        if re.search(r"\\nabla_\{\w\w", body):
            items.append(rf"$\nabla_{{i{j}}} {E} = \partial^2 {E}/\partial {theta}_i\partial {theta}_{{{j}}}$ "
                         "(more indices: higher derivatives)")
        if re.search(r"\\sum_\{[\w,]+\}", body):
            items.append("sums run over all parameters")
    if r"B(" in body or r"_{B}" in body or r"\lvert B" in body:  # also matrix notation's rare sum_B(X)
        items.append(rf"$B({j})$ is the parameter block (layer) of ${theta}_{{{j}}}$; "
                     r"$\operatorname{sum}_B$ sums each block and $\lvert B\rvert$ is its size")
    if r"\tilde{" in body:
        items.append(rf"$\tilde{{{theta}}}$ the parameters on the modified flow")
    if re.search(r"\\rVert(?!_)", body):
        items.append(rf"$\lVert \nabla {E}\rVert^2 = \sum_i (\nabla_i {E})^2$")
    if r"\rVert_{1}" in body:
        items.append(rf"$\lVert \nabla {E}\rVert_1 = \sum_i \lvert\nabla_i {E}\rvert$")
    if r"\rVert_{1," in body:
        items.append(rf"$\lVert \nabla {E}\rVert_{{1,c}} = \sum_i \sqrt{{(\nabla_i {E})^2 + c}}$")
    if re.search(rf"{re.escape(E)}_{{\d+}}", body):
        items.append(rf"${E}_b$ is the loss of batch $b$ and ${E}$ their mean")
    return r"\noindent Notation: " + "; ".join(items) + "."


def document(equation: "EquationTerms", printer: IndexLatexPrinter) -> str:
    r"""A standalone ``article``: :math:`\dot{\tilde\theta} = \sum_k h^k f_k`, one
    ``align*`` per term :math:`f_k` broken over lines that fit the page, and
    the legend of the notation used."""
    values = ", ".join(f"{k} = {v}" for k, v in equation.values.items())
    hname = printer.names["h"]
    title = (f"Modified equation of \\texttt{{{_escape(equation.optimizer.name)}}} "
             f"({_escape(equation.regime)} regime, terms up to order {equation.order} in ${hname}$"
             + (f"; {_escape(values)}" if values else "") + ").")
    powers = ["f_0"] + [f"{hname}{'' if k == 1 else f'^{{{k}}}'} f_{{{k}}}" for k in range(1, equation.order + 1)]
    rates = decays(equation.optimizer)
    terms, state_terms, definitions = printed_form(equation, printer)
    blocks = _term_blocks(printer, terms, "f", rates)
    for state, own in printed_states(equation.states, state_terms):
        value = printer.doprint(state.value)
        label = sympy.latex(sympy.Symbol(state.name))
        state_powers = " + ".join(p.replace("f_", f"f^{{{label}}}_") for p in powers)
        blocks.append(rf"\[ \dot{{{value}}} = {state_powers}, \qquad "
                      rf"\tilde{{{label}}}(0) = {printer.doprint(state.init)} \]")
        blocks += _term_blocks(printer, own, f"f^{{{label}}}", rates)
    blocks += [rf"\noindent where \[ {definition} \]" if n == 0 else rf"\[ {definition} \]"
               for n, definition in enumerate(definitions)]
    text = "\n".join(blocks)
    return "\n".join([
        r"\documentclass{article}",
        r"\usepackage[a4paper,margin=2cm]{geometry}",
        r"\usepackage{amsmath,amssymb,graphicx}",
        r"\allowdisplaybreaks",
        r"\begin{document}",
        r"\noindent " + title,
        rf"\[ {_lhs(printer)} = {' + '.join(powers)} \]",
        text,
        legend(text, printer),
        r"\end{document}",
        "",
    ])


def _term_blocks(printer: IndexLatexPrinter, terms, label: str, rates: frozenset[sympy.Symbol]) -> list[str]:
    """One ``align*`` per term ``label_k``, broken over lines that fit the page, laid out
    as the one-line LaTeX is (``rates``: the decay rates, so :math:`1-\\beta > 0`)."""
    groups = {g.power: g for g in arrange(terms, printer.atoms, rates)}
    width = (TEXT_WIDTH - 40.0) * SAFETY
    blocks = []
    for k in range(len(terms)):
        group = groups.get(k)
        parts = [group_latex(printer, Group(0, (block,))) for block in group.blocks] if group else [(1, "0")]
        lines = break_lines(parts, width)
        body = f"{label}_{{{k}}} &= {lines[0]}" + "".join(f" \\\\\n&\\quad {line}" for line in lines[1:])
        blocks.append("\\begin{align*}\n" + body + "\n\\end{align*}")
    return blocks


def equation_latex(equation: "EquationTerms", notation: str = "index",
                   symbols: Mapping[str, str] | None = None, standalone: bool = False) -> str:
    r"""The modified equation as one line of LaTeX math, or (``standalone``) a
    complete document that compiles as it is and fits the page (:func:`document`).

    Defined here, above :mod:`~modeq.printing.equation` whose pieces it
    assembles, so that the two modules do not import each other."""
    printer = printer_for(equation.optimizer, notation, symbols, getattr(equation, "atoms", None))
    if notation == "matrix" and not on_blocks(equation.optimizer):
        raise ValueError(f"matrix notation is for optimizers on parameter blocks (muon, lars, lamb, "
                         f"sam(per_layer=True)); the equation of {equation.optimizer.name} has none: "
                         f"print it in index or vector notation")
    if standalone:
        return document(equation, printer)
    terms, state_terms, definitions = printed_form(equation, printer)
    groups = terms_latex(equation, printer, terms) or [(1, "0")]
    states = [rf"\dot{{{printer.doprint(state.value)}}} = " + join_signed(terms_latex(equation, printer, own) or [(1, "0")])
              for state, own in printed_states(equation.states, state_terms)]
    return r", \qquad ".join([f"{_lhs(printer)} = {join_signed(groups)}"] + states + definitions)


def on_blocks(optimizer) -> bool:
    r"""Whether ``optimizer`` acts on parameter blocks: its update sums over a
    block, applies a matrix map or scales by a block's shape (matrix notation
    says nothing that vector notation does not about any other; its
    :math:`f_0` may have no block atom, e.g. ``sam(per_layer=True)``'s)."""
    from ..primitives.block_sum import BlockSum
    from ..primitives.matrix import BlockMap, ShapeScale

    return optimizer.update().has(BlockSum, BlockMap, ShapeScale)
