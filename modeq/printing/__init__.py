r"""Paper-ready output of modified equations.

* :mod:`~modeq.printing.latex` — the SymPy printers, one per notation
  (:class:`IndexLatexPrinter`, :class:`VectorLatexPrinter`, :class:`MatrixLatexPrinter` for parameter blocks);
* :mod:`~modeq.printing.notation` — what the LaTeX and text printers share (atoms, norms, radicals, indices);
* :mod:`~modeq.printing.layout` — how a term is collected and ordered;
* :mod:`~modeq.printing.equation` — the equation and the standalone document;
* :mod:`~modeq.printing.symbols` — the user's symbol names;
* :mod:`~modeq.printing.reader` — the LaTeX read back (:func:`parse_latex`, :func:`parse_system`
  with slow states), the round trip.
"""

from .document import equation_latex
from .equation import NOTATIONS, printer_for
from .latex import IndexLatexPrinter, MatrixLatexPrinter, VectorLatexPrinter
from .layout import arrange
from .reader import parse_latex, parse_system

__all__ = ["NOTATIONS", "equation_latex", "printer_for", "IndexLatexPrinter", "VectorLatexPrinter", "MatrixLatexPrinter", "arrange", "parse_latex",
           "parse_system"]
