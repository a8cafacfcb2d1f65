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

from .spectral import KERNEL_FUNCTIONS, singular_message

__all__ = ["JET_FUNCTIONS", "jet_functions", "functions", "constant_names", "constants", "layout_arrays", "call", "source"]

#: The interpreter's operations: ``MATMUL a b`` (Leibniz), ``TRANSPOSE a``,
#: ``ADD a b``, ``SCALE a`` (by the instruction's coefficient), ``INVERSE_ROOT a q``
#: (:math:`(A + \varepsilon I)^{-1/2^q}` of a symmetric jet, :math:`\varepsilon` the
#: coefficient: :mod:`modeq.algebra.spectral`), ``EYE a`` (the rectangular identity of
#: the shape of ``a``, a constant: Shampoo's packing of its statistics, :mod:`modeq.algebra.kronecker`;
#: shifted by the part ``b``, :func:`~modeq.algebra.matrix_maps.identity_like`).
MATMUL, TRANSPOSE, ADD, SCALE, INVERSE_ROOT, EYE = range(6)


class _Program:
    """Instructions ``(operation, a, b)`` and their coefficients; registers
    ``0..inputs-1`` are the input jets (the map's arguments), register
    ``i + inputs`` the result of instruction ``i``."""

    def __init__(self, inputs: int = 1) -> None:
        self.code: list[tuple[int, int, int]] = []
        self.coefficients: list[float] = []
        self.inputs = inputs

    def emit(self, operation: int, a: "_Traced", b: "_Traced | int" = 0, coefficient: float = 0.0,
             shape: tuple[int, int] = (0, 0)) -> "_Traced":
        self.code.append((operation, a.register, b if isinstance(b, int) else b.register))
        self.coefficients.append(coefficient)
        return _Traced(self, len(self.code) + self.inputs - 1, shape)


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

    def inverse_root(self, q: int, eps: float) -> "_Traced":
        return self.program.emit(INVERSE_ROOT, self, q, coefficient=float(eps), shape=self.shape)

    def identity(self, part: int = 0) -> "_Traced":
        return self.program.emit(EYE, self, part, shape=self.shape)


#: The refusal of a singular block, around the words naming it.
_SINGULAR = singular_message("\0").split("\0")

#: A generated function: its name, its signature and the lines of its body.
Function = tuple[str, str, list[str]]


def jet_functions(spectral: bool) -> list[Function]:
    """The interpreter of traced programs and its driver over blocks; with
    ``spectral``, also the ``INVERSE_ROOT`` instruction and its kernel
    (:mod:`modeq.algebra.spectral`), under the names ``_jet_run_spectral``
    and ``_map_blocks_spectral``. Maps without inverse roots (Newton–Schulz)
    get the plain pair: numba compiles every branch an interpreter has, and
    the kernel cost their modules about 4 s of CPU.

    ``_jet_run(code, coefficients, jet)``: ``code`` the instructions (one row
    each), ``coefficients`` theirs, ``jet`` the inputs ``(arity, 2^k, rows, cols)``;
    returns the last register's jet (no parts: a singular inverse root).
    Shapes are followed at run time, so one program serves every block of
    its orientation. Plain loops, no array expressions or slice assignments:
    numba compiled the same interpreter written with
    ``work[r] = work[a] + work[b]`` in 3.7 s of CPU, this in 0.7 s.
    ``_map_blocks(wide, wide_c, tall, tall_c, arity, args, out, index, blocks)``:
    :math:`D^kF(X_B)[Y_{1,B}..Y_{k,B}]` into ``out`` for every block, ``args``
    the rows :math:`X, Y_1..Y_k` (length :math:`p` each; ``arity`` rows each for a
    map of several blocks), block ``b`` the
    components ``index[blocks[b, 0]:blocks[b, 1]]`` read row-major as a
    ``blocks[b, 2]`` × ``blocks[b, 3]`` matrix, the wide program for
    blocks with no more rows than columns, the tall one otherwise."""
    run, driver = _names(spectral)
    inverse_root = [
        f"    elif op == {INVERSE_ROOT}:",
        "        rows[r], cols[r] = rows[a], cols[a]",
        "        if not _jet_inverse_root(work, a, r, rows[a], k, b, coefficients[i]):",
        "            return np.empty((0, 0, 0))",
    ] if spectral else []
    singular = [
        "    if result.shape[0] == 0:",
        f"        raise ValueError({_SINGULAR[0]!r} + 'the matrix block ' + str(b + 1) + ' of the parameters (' + str(rows)"
        f" + 'x' + str(cols) + ')' + {_SINGULAR[1]!r})",
    ] if spectral else []
    return (KERNEL_FUNCTIONS if spectral else []) + [
        (run, "code, coefficients, jet", [
            "n, inputs, k = code.shape[0], jet.shape[0], jet.shape[1]",
            "size = max(jet.shape[2], jet.shape[3])",
            "work = np.zeros((n + inputs, k, size, size))",
            "rows = np.empty(n + inputs, np.int64)",
            "cols = np.empty(n + inputs, np.int64)",
            "for x in range(inputs):",
            "    rows[x], cols[x] = jet.shape[2], jet.shape[3]",
            "    for s in range(k):",
            "        for p in range(rows[x]):",
            "            for m in range(cols[x]):",
            "                work[x, s, p, m] = jet[x, s, p, m]",
            "for i in range(n):",
            "    op, a, b, r = code[i, 0], code[i, 1], code[i, 2], i + inputs",
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
            f"    elif op == {EYE}:",
            "        rows[r], cols[r] = rows[a], cols[a]",
            "        shift = b * cols[a] if b >= 0 else b * rows[a]",
            "        for p in range(rows[a]):",
            "            m = p - shift",
            "            if m >= 0 and m < cols[a]:",
            "                work[r, 0, p, m] = 1.0",
        ] + inverse_root + [
            "    else:",
            "        rows[r], cols[r] = rows[a], cols[a]",
            "        w = coefficients[i]",
            "        for s in range(k):",
            "            for p in range(rows[a]):",
            "                for m in range(cols[a]):",
            f"                    if op == {ADD}:",
            "                        work[r, s, p, m] = work[a, s, p, m] + work[b, s, p, m]",
            "                    else:",
            "                        work[r, s, p, m] = work[a, s, p, m] * w",
            "last = n + inputs - 1",
            "out = np.empty((k, rows[last], cols[last]))",
            "for s in range(k):",
            "    for p in range(rows[last]):",
            "        for m in range(cols[last]):",
            "            out[s, p, m] = work[last, s, p, m]",
            "return out",
        ]),
        (driver, "wide, wide_c, tall, tall_c, arity, args, out, index, blocks", [
            "k = args.shape[0] // arity - 1",
            "for b in range(blocks.shape[0]):",
            "    start, stop, rows, cols = blocks[b, 0], blocks[b, 1], blocks[b, 2], blocks[b, 3]",
            "    jet = np.zeros((arity, 1 << k, rows, cols))",
            "    for a in range(k + 1):",
            "        part = 0 if a == 0 else 1 << (a - 1)",
            "        for x in range(arity):",
            "            for q in range(stop - start):",
            "                jet[x, part, q // cols, q % cols] = args[a * arity + x, index[start + q]]",
            "    if rows > cols:",
            f"        result = {run}(tall, tall_c, jet)",
            "    else:",
            f"        result = {run}(wide, wide_c, jet)",
        ] + singular + [
            "    last = (1 << k) - 1",
            "    for q in range(stop - start):",
            "        out[index[start + q]] = result[last, q // cols, q % cols]",
        ]),
    ]


def _names(spectral: bool) -> tuple[str, str]:
    return ("_jet_run_spectral", "_map_blocks_spectral") if spectral else ("_jet_run", "_map_blocks")


#: The plain interpreter and driver (:func:`jet_functions`).
JET_FUNCTIONS: list[Function] = jet_functions(False)


def functions(fmap) -> list[Function]:
    """The generated functions the map's code calls (the driver last)."""
    return jet_functions(fmap.spectral)


def constant_names(fmap) -> tuple[str, str, str, str]:
    """The module-level arrays of the map's traced programs: wide code and
    coefficients, tall code and coefficients (a digest of the map's parameters)."""
    stem = f"_{fmap.name.upper()}_{hashlib.sha256(repr(fmap).encode()).hexdigest()[:10]}"
    return f"{stem}_WIDE", f"{stem}_WIDE_C", f"{stem}_TALL", f"{stem}_TALL_C"


def constants(fmap) -> list[str]:
    """Module-level assignments of the map's programs, traced once per orientation
    (numba freezes global arrays into the compiled code: one copy per module,
    however many stages call the map); the map may branch on the orientation only."""
    lines = []
    for (code_name, coefficient_name), shape in zip(_pairs(constant_names(fmap)), ((1, 2), (2, 1))):
        program = _Program(fmap.arity)
        fmap(*(_Traced(program, x, shape) for x in range(fmap.arity)))
        code = tuple(x for row in program.code for x in row)
        lines.append(f"{code_name} = np.array({code!r}, dtype=np.int64).reshape({len(program.code)}, 3)")
        lines.append(f"{coefficient_name} = np.array({tuple(program.coefficients)!r})")
    return lines


def _pairs(names):
    return (names[0], names[1]), (names[2], names[3])


def layout_arrays(layout) -> tuple[list[int], list[tuple[int, int, int, int]]]:
    """The ``index`` and ``blocks`` arguments of ``_map_blocks`` for a
    :func:`modeq.blocks.block_layout` of matrix blocks."""
    index, blocks = [], []
    for _, (rows, cols), positions in layout:
        blocks.append((len(index), len(index) + len(positions), rows, cols))
        index += list(positions)
    return index, blocks


def call(fmap, args: str, out: str, index: str, blocks: str) -> str:
    """The statement computing :math:`D^kF` of every block of the rows ``args``
    (:math:`X, Y_1..Y_k`, each :attr:`~modeq.algebra.matrix_maps.MatrixMap.arity` rows) into ``out``."""
    return f"{_names(fmap.spectral)[1]}({', '.join(constant_names(fmap))}, {fmap.arity}, {args}, {out}, {index}, {blocks})"


def source(function: Function, jit: str) -> str:
    """A generated function's source under the decorator ``jit``."""
    name, signature, lines = function
    return f"\n\n{jit}\ndef {name}({signature}):\n" + "".join(f"    {line}\n" for line in lines)
