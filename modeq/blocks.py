r"""Parameter blocks: named, shaped groups of parameters (layers).

A network's parameters come in blocks — a weight matrix :math:`W \in
\mathbb{R}^{m\times k}`, a bias vector — and layer-wise optimizers (LARS,
LAMB, SAM with a per-layer radius) reduce over each block. A block is given
by its name and shape: ``"W1:3x2,W2:2x3,b:2"`` on the command line,
``{"W1": (3, 2), "W2": (2, 3), "b": (2,)}`` in Python; a name without a shape
is a scalar block.

The parameter vector :math:`\theta \in \mathbb{R}^p` is the blocks' entries
flattened in order (row-major inside a block, as NumPy and PyTorch store a
matrix). Each entry is an :class:`Entry`: a SymPy symbol that carries its
block, index and shape as structure (never recovered from its name), so the
partition travels with the parameters through every function that takes
``params`` — materialization, compiled fields, compiled iterates, caches —
and only the places that reduce over a block read it (:func:`block_labels`).
Plain symbols (``--params x,y``) form one unnamed block together: the whole
vector is one layer.

Why symbols with structure rather than a separate argument: every existing
entry point already passes ``params`` down; a second argument would have had
to follow it through a dozen signatures and could disagree with it.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import sympy

from .parsing import ExpressionError, parse_names

__all__ = ["Entry", "Block", "Blocks", "parse_blocks", "as_blocks", "block_labels", "param_key", "block_ids", "block_layout", "names_of", "describe_params", "is_block_spec", "UNNAMED", "MAX_ENTRIES"]

#: The block label of plain symbols (all of them are one block).
UNNAMED = ""

#: The largest number of entries of one block (a derivation materializes every one).
MAX_ENTRIES = 4096


class Entry(sympy.Symbol):
    r"""One entry :math:`W_{ab}` of the block ``block`` of shape ``shape``
    (a real symbol named ``W[a,b]``, or ``W`` for a scalar block)."""

    __slots__ = ("block", "index", "shape")

    def __new__(cls, block: str, index: tuple[int, ...] = (), shape: tuple[int, ...] = ()):
        name = f"{block}[{','.join(map(str, index))}]" if shape else block
        obj = sympy.Symbol.__xnew__(cls, name, real=True)
        obj.block, obj.index, obj.shape = block, tuple(index), tuple(shape)
        return obj

    def __getnewargs_ex__(self):
        return ((self.block, self.index, self.shape), {})

    def _hashable_content(self):
        return sympy.Symbol._hashable_content(self) + (self.block, self.index, self.shape)

    def _sympystr(self, printer) -> str:
        return self.name


@dataclass(frozen=True)
class Block:
    """A named block of parameters with a shape (``()`` scalar, ``(n,)`` vector, ``(m, k)`` matrix)."""

    name: str
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def entries(self) -> tuple[Entry, ...]:
        """The entries, row-major."""
        if not self.shape:
            return (Entry(self.name),)
        return tuple(Entry(self.name, index, self.shape) for index in itertools.product(*map(range, self.shape)))

    @property
    def value(self) -> sympy.Expr | sympy.ImmutableMatrix:
        """The block as a SymPy value: a matrix of its entries (a vector is a
        column), or the symbol of a scalar block."""
        entries = self.entries
        if not self.shape:
            return entries[0]
        rows, cols = (self.shape[0], 1) if len(self.shape) == 1 else self.shape
        return sympy.ImmutableMatrix(rows, cols, entries)

    def describe(self) -> str:
        return f"{self.name}:{'x'.join(map(str, self.shape))}" if self.shape else self.name


@dataclass(frozen=True)
class Blocks:
    """The blocks of a model, in order."""

    blocks: tuple[Block, ...]

    @property
    def params(self) -> tuple[Entry, ...]:
        r"""The flattened parameter vector :math:`\theta`."""
        return tuple(e for b in self.blocks for e in b.entries)

    @property
    def values(self) -> dict[str, sympy.Expr | sympy.ImmutableMatrix]:
        """Name -> the block's value (what a loss given as text refers to)."""
        return {b.name: b.value for b in self.blocks}

    def describe(self) -> str:
        return ",".join(b.describe() for b in self.blocks)


_SHAPE = re.compile(r"^\s*([0-9]+)\s*(?:x\s*([0-9]+)\s*)?$")


def _shape(text: str, name: str, what: str) -> tuple[int, ...]:
    match = _SHAPE.match(text)
    if match is None:
        raise ExpressionError(f"{what}: the shape of {name} must be sizes such as 3x2 (a matrix) or 4 (a vector), "
                              f"got {text!r}")
    return _checked(tuple(int(s) for s in match.groups() if s is not None), name, what)


def _checked(shape: tuple[int, ...], name: str, what: str) -> tuple[int, ...]:
    if len(shape) > 2 or any(n < 1 for n in shape):
        raise ExpressionError(f"{what}: the shape of {name} must be one or two positive sizes, got {shape}")
    if math.prod(shape) > MAX_ENTRIES:
        raise ExpressionError(f"{what}: {name} has {math.prod(shape)} entries; the limit is {MAX_ENTRIES} per block")
    return shape


def parse_blocks(text: str, what: str = "--params") -> Blocks:
    """``"W1:3x2,W2:2x3,b:2,c"`` as :class:`Blocks` (``c`` a scalar block)."""
    if not isinstance(text, str):
        raise ExpressionError(f"{what} must be text such as W1:3x2,W2:2x3,b:2, got {type(text).__name__}")
    items = [item.partition(":") for item in text.split(",")]
    names = parse_names([name for name, _, _ in items], what)
    return Blocks(tuple(Block(name, _shape(shape, name, what) if colon else ())
                        for name, (_, colon, shape) in zip(names, items)))


def as_blocks(spec: Mapping[str, Sequence[int] | int] | str, what: str = "params") -> Blocks:
    """Blocks from ``{"W1": (3, 2), "b": 2, "c": ()}`` or from text ``"W1:3x2,b:2,c"``."""
    if isinstance(spec, str):
        return parse_blocks(spec, what)
    if not isinstance(spec, Mapping):
        raise ExpressionError(f"{what} must map block names to shapes, e.g. {{'W1': (3, 2), 'b': (2,)}}, got {spec!r}")
    names = parse_names(list(spec), what)
    blocks = []
    for name in names:
        shape = spec[name]
        shape = (shape,) if isinstance(shape, int) and not isinstance(shape, bool) else shape
        if not (isinstance(shape, (tuple, list)) and all(isinstance(n, int) and not isinstance(n, bool) for n in shape)):
            raise ExpressionError(f"{what}: the shape of {name} must be a tuple of sizes such as (3, 2), got {shape!r}")
        blocks.append(Block(name, _checked(tuple(shape), name, what)))
    return Blocks(tuple(blocks))


def is_block_spec(params) -> bool:
    """Whether ``params`` names blocks with shapes (a mapping, or text with ``:``)."""
    return isinstance(params, Mapping) or (isinstance(params, str) and ":" in params)


def names_of(params: Sequence[sympy.Symbol]) -> dict[str, sympy.Expr | sympy.ImmutableMatrix]:
    """What text may call the parameters: plain symbols by name, the entries
    of a complete block as its matrix (a vector as a column), in order."""
    names: dict = {}
    entries: dict[str, list[Entry]] = {}
    for s in params:
        if isinstance(s, Entry):
            entries.setdefault(s.block, []).append(s)
            names.setdefault(s.block, None)
        else:
            names[s.name] = s
    for name, found in entries.items():
        block = Block(name, found[0].shape)
        if set(found) != set(block.entries):
            raise ExpressionError(f"the parameters hold only some entries of the block {name} "
                                  f"({len(found)} of {block.size}); give whole blocks")
        names[name] = block.value
    return names


def describe_params(params: Sequence[sympy.Symbol]) -> str:
    """The parameters for a message: names, blocks as ``W1:3x2 (row-major)``."""
    parts = []
    for s in params:
        part = f"{s.block}:{'x'.join(map(str, s.shape))}" if isinstance(s, Entry) and s.shape else s.name
        if part not in parts:
            parts.append(part)
    blocks = any(isinstance(s, Entry) and s.shape for s in params)
    return ", ".join(parts) + (", each block's entries row-major" if blocks else "")


def block_labels(params: Iterable[sympy.Symbol]) -> tuple[str, ...]:
    """The block of each parameter (:data:`UNNAMED` for plain symbols)."""
    return tuple(s.block if isinstance(s, Entry) else UNNAMED for s in params)


def block_ids(params: Iterable[sympy.Symbol]) -> tuple[int, ...]:
    """Each parameter's block as a number ``0..B-1`` (blocks in order of first appearance)."""
    labels = block_labels(params)
    numbers = {label: n for n, label in enumerate(dict.fromkeys(labels))}
    return tuple(numbers[label] for label in labels)


def block_layout(params: Sequence[sympy.Symbol]) -> list[tuple[str, tuple[int, ...], list[int]]]:
    """Each block as ``(name, shape, positions)``: its label, its shape (``()``
    for a scalar block and for plain symbols, which have none) and the
    positions of its entries in ``params``, in order (row-major for a block)."""
    layout: dict[str, tuple[str, tuple[int, ...], list[int]]] = {}
    for position, s in enumerate(params):
        label = s.block if isinstance(s, Entry) else UNNAMED
        shape = s.shape if isinstance(s, Entry) else ()
        layout.setdefault(label, (label, shape, []))[2].append(position)
    return list(layout.values())


def param_key(params: Sequence[sympy.Symbol]) -> list:
    """The parameters as they enter a cache key: their names, and their
    blocks when there are any (the partition changes compiled code)."""
    names = [s.name for s in params]
    labels = block_labels(params)
    return names if all(label == UNNAMED for label in labels) else [names, list(labels)]
