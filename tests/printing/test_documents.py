"""Standalone documents compile and fit the page: pdflatex's log has no
overfull box wider than 10pt (before the line breaking, ``derive adam
--order 2`` overflowed by 2006pt). CI sets MODEQ_REQUIRE_LATEX=1, so these
tests cannot skip there."""

import functools
import os
import re
import shutil
import subprocess

import pytest
from sympy import sqrt

import modeq
from modeq.optimizers import BUILTIN
from modeq.optimizers.base import nonnegative, optimizer, positive
from modeq.optimizers.language import ema, grad, theta
from modeq.printing.document import break_lines, estimate_width, split_sum

#: TeX's own tolerance for the tests: a box this much wider than its line fails.
OVERFULL_LIMIT = 10.0


@optimizer(alpha=positive(5.0, r"\alpha"), eps=positive(1e-8, r"\varepsilon"), wd=nonnegative(0.0, r"\lambda"))
def ademamix_like(alpha, eps, wd):
    g = grad()
    return -((1 + alpha) * g / (sqrt(ema(g**2, 0)) + eps) + wd * theta)


#: The built-ins at orders 1-3 (AdamW's order 3 costs minutes to derive and print; its terms have
#: the shape of Adam's, which is compiled). Built-ins added later are compiled at order 1: their
#: higher orders take minutes to print (Adan at order 2: 54 s to derive, 202 s to print).
ORDERS_1_TO_3 = ("gd", "heavy_ball", "heavy_ball_ema", "nesterov", "rmsprop", "adam", "adamw", "sam", "usam",
                 "signum", "lion")
HEAVY = {"adamw"}
CASES = [(name, order) for name in BUILTIN for order in (1, 2, 3)
         if order == 1 or name in ORDERS_1_TO_3 and (order < 3 or name not in HEAVY)]
CASES.append(("ademamix_like", 2))
#: Vector notation shares the layout code: the built-ins to order 2, and GD at order 3, stand for the
#: rest (printing the largest equations is what costs time).
NOTATION_CASES = [(notation, name, order) for notation in ("index", "vector") for name, order in CASES
                  if notation == "index" or name == "gd" or order < 3]


@functools.cache
def equation(name, order):
    return modeq.derive(ademamix_like if name == "ademamix_like" else BUILTIN[name], order=order)


def pdflatex():
    engine = shutil.which("pdflatex")
    if engine is None:
        if os.environ.get("MODEQ_REQUIRE_LATEX") == "1":
            pytest.fail("MODEQ_REQUIRE_LATEX=1 but pdflatex is not installed (apt-get install texlive-latex-base)")
        pytest.skip("pdflatex not installed")
    return engine


def compile_document(text, directory):
    """The log of pdflatex on ``text``; fails on a LaTeX error."""
    (directory / "eq.tex").write_text(text)
    result = subprocess.run([pdflatex(), "-interaction=nonstopmode", "-halt-on-error", "eq.tex"], cwd=directory,
                            capture_output=True, text=True, timeout=300)
    log = (directory / "eq.log").read_text(errors="replace")
    assert result.returncode == 0, log[-3000:]
    assert (directory / "eq.pdf").stat().st_size > 0
    return log


def overfull(log):
    """The widths (pt) by which boxes overflow, as TeX reports them."""
    return [float(w) for w in re.findall(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)", log)]


@pytest.mark.parametrize("notation, name, order", NOTATION_CASES)
def test_documents_fit_the_page(name, order, notation, tmp_path):
    text = equation(name, order).latex(notation=notation, standalone=True)
    log = compile_document(text, tmp_path)
    assert max(overfull(log), default=0.0) <= OVERFULL_LIMIT, overfull(log)
    # one align* block per order (and per order of each slow state's equation) and the legend
    equations = 1 + len(equation(name, order).states)
    assert text.count(r"\begin{align*}") == equations * (order + 1)
    assert r"\noindent Notation:" in text


def test_the_overflow_check_can_fail(tmp_path):
    """The same check sees an equation set on one line (what --standalone did before)."""
    one_line = equation("adam", 2).latex()
    text = "\n".join([r"\documentclass{article}", r"\usepackage{amsmath,amssymb}", r"\begin{document}",
                      rf"\[ {one_line} \]", r"\end{document}"])
    assert max(overfull(compile_document(text, tmp_path))) > 1000


def test_width_estimate_against_tex(tmp_path):
    """The estimate of a line's width is within 12% of what TeX sets (the
    breaking keeps 8% free), on the blocks of Adam, AdamW and GD."""
    pieces = []
    for name, order in (("adam", 2), ("adamw", 1), ("gd", 3), ("heavy_ball", 2)):
        for notation in ("index", "vector"):
            text = equation(name, order).latex(notation=notation, standalone=True)
            for line in re.findall(r"(?:&= |&\\quad )(.*?)(?: \\\\\n|\n\\end)", text):
                if "resizebox" not in line:
                    pieces.append(line.replace(r"\left. ", "").replace(r" \right.", ""))
    doc = [r"\documentclass{article}", r"\usepackage{amsmath,amssymb}", r"\begin{document}"]
    doc += [rf"\setbox0\hbox{{$\displaystyle {p}$}}\typeout{{W{n}:\the\wd0}}" for n, p in enumerate(pieces)]
    doc += ["Widths measured.", r"\end{document}"]
    log = compile_document("\n".join(doc), tmp_path)
    widths = {int(n): float(w) for n, w in re.findall(r"W(\d+):([\d.]+)pt", log)}
    assert len(widths) == len(pieces) > 20
    for n, piece in enumerate(pieces):
        if widths[n] > 30:
            assert 0.88 <= estimate_width(piece) / widths[n] <= 1.25, (piece, widths[n], estimate_width(piece))


def document_terms(text):
    """The right-hand sides ``f_k`` of a standalone document, each joined back into one line."""
    bodies = re.findall(r"\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}", text, re.S)
    joined = []
    for body in bodies:
        body = re.sub(r"\\resizebox\{[\d.]+pt\}\{!\}\{\$\\displaystyle (.*?)\$\}", r"\1", body)
        body = re.sub(r" \\\\\n&\\quad |\\left\. | \\right\.", " ", body.split("&= ", 1)[1])
        joined.append(body.replace(r"\cdot ", ""))
    return joined


@pytest.mark.parametrize("name, order", [("adabelief", 1), ("adam", 2)])
def test_documents_say_what_was_derived(name, order):
    """The document's broken lines, joined back, read as the derived terms (AdaBelief's
    document printed sqrt(-1/(-1 + beta_2)) and lambda theta_j over a fraction that does
    not cancel, the one-line LaTeX not: the document laid the terms out without knowing
    that beta_2 is a decay rate)."""
    from modeq.printing.reader import parse_latex, same_field

    eq = equation(name, order)
    for notation in ("index", "vector"):
        text = eq.latex(notation=notation, standalone=True)
        terms = document_terms(text)
        assert len(terms) == order + 1 and r"-1 + \beta" not in text
        for k, term in enumerate(terms):
            assert same_field(parse_latex(term, eq.optimizer, notation), eq.terms[k]), (k, term)


def test_breaking_keeps_every_term():
    """Lines joined back are the sum that was broken (signs and terms in order)."""
    tex = r"a + \frac{1}{2}\left(b - c + \frac{d}{e}\right) x - f"
    terms = split_sum(tex)
    assert terms == [(1, "a"), (1, r"\frac{1}{2}\left(b - c + \frac{d}{e}\right) x"), (-1, "f")]
    assert split_sum(r"- a^{-1} + \left(- b\right)") == [(-1, "a^{-1}"), (1, r"\left(- b\right)")]
    lines = break_lines(terms, 30.0)
    assert len(lines) > 2
    joined = re.sub(r"\\left\.|\\right\.|\\cdot|\s+", "", " ".join(lines))  # continuation marks
    assert joined == re.sub(r"\s+", "", tex)
    assert all(estimate_width(line) <= 30.0 or "resizebox" in line for line in lines)


#: Matrix notation (optimizers on parameter blocks): its own atoms (Frobenius norms, inner products,
#: msign(G), H[X]) must compile and fit the page too.
MATRIX_CASES = [("muon", {}, 1), ("muon", {"orthogonalizer": "msign"}, 2), ("lars", {}, 1), ("lamb", {}, 1)]


@pytest.mark.parametrize("name, options, order", MATRIX_CASES,
                         ids=[f"{n}{'-' if o else ''}{'-'.join(o.values())}-{k}" for n, o, k in MATRIX_CASES])
def test_matrix_documents_fit_the_page(name, options, order, tmp_path):
    from modeq.optimizers import get

    opt = get(name)(**options) if options else get(name)
    equation = modeq.derive(opt, order=order)
    text = equation.latex(notation="matrix", standalone=True)
    log = compile_document(text, tmp_path)
    assert max(overfull(log), default=0.0) <= OVERFULL_LIMIT, overfull(log)
    assert text.count(r"\begin{align*}") == order + 1 and r"$G = \nabla_{W} E$" in text
