r"""Numba source for a matrix map and its Fréchet derivatives, by tracing.

The map's own code (:meth:`~modeq.algebra.matrix_maps.MatrixMap.__call__`,
written with ``@``, ``.T``, ``+`` and scalar ``*``) runs on a
:class:`_Traced` jet — the block and its mixed derivatives along :math:`k`
directions, an array of :math:`2^k` matrices indexed by bit masks — and
prints one statement per operation; products call one small Leibniz-rule
function (:data:`JET_FUNCTIONS`, plain loops: the matrices are blocks of a
few rows). The generated :math:`D^kF` is therefore the chain rule through the
map's steps, never the expanded polynomial, and the map is written once: the
compiled optimizer (:mod:`modeq.primitives.matrix`, :math:`k = 0`) and the
compiled fields (:mod:`modeq.numerics.matrix_code`) both call it. (Tracing
each matrix of the jet separately, with NumPy's ``@``, gave straight-line
functions of hundreds of matrix products that took numba minutes to compile.)
"""

from __future__ import annotations

import hashlib

__all__ = ["JET_FUNCTIONS", "function_name", "derivative_function", "source"]


class _Program:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def emit(self, code: str, shape: tuple[int, int]) -> "_Traced":
        name = f"t{len(self.lines)}"
        self.lines.append(f"{name} = {code}")
        return _Traced(self, name, shape)


class _Traced:
    """A jet of the traced program (an array ``(2^k, rows, cols)``, one matrix per
    subset of the directions): operations print statements."""

    def __init__(self, program: _Program, name: str, shape: tuple[int, int]) -> None:
        self.program, self.name, self.shape = program, name, shape

    @property
    def T(self) -> "_Traced":
        return self.program.emit(f"_jet_t({self.name})", (self.shape[1], self.shape[0]))

    def __add__(self, other: "_Traced") -> "_Traced":
        return self.program.emit(f"{self.name} + {other.name}", self.shape)

    def __mul__(self, scalar) -> "_Traced":
        return self.program.emit(f"{self.name} * {float(scalar)!r}", self.shape)

    __rmul__ = __mul__

    def __matmul__(self, other: "_Traced") -> "_Traced":
        return self.program.emit(f"_jet_matmul({self.name}, {other.name})", (self.shape[0], other.shape[1]))


#: Jets as arrays ``(2^k, rows, cols)`` (entry ``S`` a bit mask of directions):
#: the Leibniz product and the transpose of :class:`~modeq.algebra.matrix_maps.Jet`.
#: A generated function: its name, its signature and the lines of its body.
Function = tuple[str, str, list[str]]

#: The Leibniz product and the transpose of jets ``(2^k, rows, cols)``.
JET_FUNCTIONS: list[Function] = [
    ("_jet_matmul", "a, b", [
        "out = np.zeros((a.shape[0], a.shape[1], b.shape[2]))",
        "for s in range(a.shape[0]):",
        "    for t in range(b.shape[0]):",
        "        if s & t == 0:",
        "            for i in range(a.shape[1]):",
        "                for m in range(a.shape[2]):",
        "                    x = a[s, i, m]",
        "                    for c in range(b.shape[2]):",
        "                        out[s | t, i, c] += x * b[t, m, c]",
        "return out",
    ]),
    ("_jet_t", "a", [
        "out = np.empty((a.shape[0], a.shape[2], a.shape[1]))",
        "for s in range(a.shape[0]):",
        "    out[s] = a[s].T",
        "return out",
    ]),
]


def function_name(fmap, k: int) -> str:
    """The generated function of :math:`D^kF` (a digest of the map's parameters)."""
    return f"_{fmap.name.lower()}_{hashlib.sha256(repr(fmap).encode()).hexdigest()[:10]}_d{k}"


def derivative_function(fmap, k: int) -> Function:
    """``D^kF(x)[y0..]``: the jet of ``x`` along the directions through the traced map
    (it calls the :data:`JET_FUNCTIONS`)."""
    body = [f"jet = np.zeros(({1 << k}, x.shape[0], x.shape[1]))", "jet[0] = x",
            *(f"jet[{1 << a}] = y{a}" for a in range(k))]
    for orientation, shape in (("tall", (2, 1)), ("wide", (1, 2))):  # the map may branch on the orientation only
        program = _Program()
        result = fmap(_Traced(program, "jet", shape))
        lines = program.lines + [f"return {result.name}[{(1 << k) - 1}].copy()"]
        body += ["if x.shape[0] > x.shape[1]:", *(f"    {line}" for line in lines)] if orientation == "tall" else lines
    return function_name(fmap, k), ", ".join(["x", *(f"y{a}" for a in range(k))]), body


def source(function: Function, jit: str) -> str:
    """A generated function's source under the decorator ``jit``."""
    name, signature, lines = function
    return f"\n\n{jit}\ndef {name}({signature}):\n" + "".join(f"    {line}\n" for line in lines)
