r"""Numba source for a matrix map and its Fréchet derivatives, by tracing.

The map's own code (:meth:`~modeq.algebra.matrix_maps.MatrixMap.__call__`,
written with ``@``, ``.T``, ``+`` and scalar ``*``) runs on a
:class:`_Traced` jet — the block and its mixed derivatives along :math:`k`
directions, :math:`2^k` matrices indexed by bit masks — and records one
instruction per operation. The generated :math:`D^kF` hands its program (a
tuple of integers and one of coefficients) to one small interpreter,
:data:`JET_FUNCTIONS`' ``_jet_run``, whose matrix product is the Leibniz rule
:math:`\partial_S(XY) = \sum_{T\subseteq S}\partial_TX\,\partial_{S\setminus T}Y`
in plain loops (the matrices are blocks of a few rows) into a preallocated
workspace. The derivative is therefore the chain rule through the map's
steps, never the expanded polynomial, and the map is written once: the
compiled optimizer (:mod:`modeq.primitives.matrix`, :math:`k = 0`) and the
compiled fields (:mod:`modeq.numerics.matrix_code`) both call it.

Why an interpreter and not straight-line code. Printed as one statement per
operation calling small jet functions, five Newton–Schulz steps are some 45
calls per orientation; LLVM inlines every call, and compiling the single
:math:`\operatorname{NS}` took 200 s of CPU (an object file of 3.4 MB), its
first derivative as long again — a verification at order 2 did not finish
(issue 16). The interpreter is compiled once per module whatever the map,
the number of steps and :math:`k` (about 10 s above numba's fixed cost), and
runs a call on a 2×3 block in about 13 µs. (Tracing each matrix of the jet
separately, with NumPy's ``@``, gave straight-line functions of hundreds of
matrix products that took numba minutes to compile as well.)
"""

from __future__ import annotations

import hashlib

__all__ = ["JET_FUNCTIONS", "function_name", "derivative_function", "source"]

#: The interpreter's operations: ``MATMUL a b`` (Leibniz), ``TRANSPOSE a``,
#: ``ADD a b``, ``SCALE a`` (by the instruction's coefficient).
MATMUL, TRANSPOSE, ADD, SCALE = range(4)


class _Program:
    """Instructions ``(operation, a, b)`` and their coefficients; register 0 is the
    input jet, register ``i + 1`` the result of instruction ``i``."""

    def __init__(self) -> None:
        self.code: list[tuple[int, int, int]] = []
        self.coefficients: list[float] = []

    def emit(self, operation: int, a: "_Traced", b: "_Traced | None" = None, coefficient: float = 0.0,
             shape: tuple[int, int] = (0, 0)) -> "_Traced":
        self.code.append((operation, a.register, b.register if b is not None else 0))
        self.coefficients.append(coefficient)
        return _Traced(self, len(self.code), shape)


class _Traced:
    """A jet of the traced program (register ``register``): operations record instructions."""

    def __init__(self, program: _Program, register: int, shape: tuple[int, int]) -> None:
        self.program, self.register, self.shape = program, register, shape

    @property
    def T(self) -> "_Traced":
        return self.program.emit(TRANSPOSE, self, shape=(self.shape[1], self.shape[0]))

    def __add__(self, other: "_Traced") -> "_Traced":
        return self.program.emit(ADD, self, other, shape=self.shape)

    def __mul__(self, scalar) -> "_Traced":
        return self.program.emit(SCALE, self, coefficient=float(scalar), shape=self.shape)

    __rmul__ = __mul__

    def __matmul__(self, other: "_Traced") -> "_Traced":
        return self.program.emit(MATMUL, self, other, shape=(self.shape[0], other.shape[1]))


#: A generated function: its name, its signature and the lines of its body.
Function = tuple[str, str, list[str]]

#: The interpreter of traced programs: ``code`` the instructions (one row each),
#: ``coefficients`` theirs, ``jet`` the input ``(2^k, rows, cols)``; returns the
#: last register's jet. Shapes are followed at run time, so one program serves
#: every block of its orientation.
JET_FUNCTIONS: list[Function] = [
    ("_jet_run", "code, coefficients, jet", [
        "n, k = code.shape[0], jet.shape[0]",
        "size = max(jet.shape[1], jet.shape[2])",
        "work = np.zeros((n + 1, k, size, size))",
        "rows = np.empty(n + 1, np.int64)",
        "cols = np.empty(n + 1, np.int64)",
        "rows[0], cols[0] = jet.shape[1], jet.shape[2]",
        "work[0, :, :rows[0], :cols[0]] = jet",
        "for i in range(n):",
        "    op, a, b, r = code[i, 0], code[i, 1], code[i, 2], i + 1",
        f"    if op == {MATMUL}:",
        "        rows[r], cols[r] = rows[a], cols[b]",
        "        for s in range(k):",
        "            for t in range(k):",
        "                if s & t == 0:",
        "                    for p in range(rows[a]):",
        "                        for m in range(cols[a]):",
        "                            x = work[a, s, p, m]",
        "                            for c in range(cols[b]):",
        "                                work[r, s | t, p, c] += x * work[b, t, m, c]",
        f"    elif op == {TRANSPOSE}:",
        "        rows[r], cols[r] = cols[a], rows[a]",
        "        for s in range(k):",
        "            for p in range(rows[a]):",
        "                for m in range(cols[a]):",
        "                    work[r, s, m, p] = work[a, s, p, m]",
        f"    elif op == {ADD}:",
        "        rows[r], cols[r] = rows[a], cols[a]",
        "        work[r] = work[a] + work[b]",
        "    else:",
        "        rows[r], cols[r] = rows[a], cols[a]",
        "        work[r] = work[a] * coefficients[i]",
        "return work[n, :, :rows[n], :cols[n]]",
    ]),
]


def function_name(fmap, k: int) -> str:
    """The generated function of :math:`D^kF` (a digest of the map's parameters)."""
    return f"_{fmap.name.lower()}_{hashlib.sha256(repr(fmap).encode()).hexdigest()[:10]}_d{k}"


def _run(fmap, k: int, shape: tuple[int, int]) -> str:
    """The call of ``_jet_run`` on the map's program traced for blocks shaped like ``shape``."""
    program = _Program()
    fmap(_Traced(program, 0, shape))
    code = tuple(x for row in program.code for x in row)
    return (f"_jet_run(np.array({code!r}, dtype=np.int64).reshape({len(program.code)}, 3), "
            f"np.array({tuple(program.coefficients)!r}), jet)[{(1 << k) - 1}].copy()")


def derivative_function(fmap, k: int) -> Function:
    """``D^kF(x)[y0..]``: the jet of ``x`` along the directions through the traced map
    (it calls the :data:`JET_FUNCTIONS`); the map may branch on the orientation only."""
    body = [f"jet = np.zeros(({1 << k}, x.shape[0], x.shape[1]))", "jet[0] = x",
            *(f"jet[{1 << a}] = y{a}" for a in range(k)),
            "if x.shape[0] > x.shape[1]:", f"    return {_run(fmap, k, (2, 1))}", f"return {_run(fmap, k, (1, 2))}"]
    return function_name(fmap, k), ", ".join(["x", *(f"y{a}" for a in range(k))]), body


def source(function: Function, jit: str) -> str:
    """A generated function's source under the decorator ``jit``."""
    name, signature, lines = function
    return f"\n\n{jit}\ndef {name}({signature}):\n" + "".join(f"    {line}\n" for line in lines)
