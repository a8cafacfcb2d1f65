r"""The matrix maps of a saved equation as JSON, decoded through a whitelist.

A matrix-map atom :math:`D^kF(X)[Y_1..Y_k]` (:mod:`modeq.algebra.matrix_maps`)
holds its map :math:`F`, a frozen dataclass of a few parameters: Muon's
Newton–Schulz steps and polar factor, Shampoo's statistics and root
(:mod:`modeq.algebra.kronecker`). A map is written as its class name and
its fields (a rational as ``{"p": "..", "q": ".."}``, a tuple as a list); it is
read back only as one of :data:`MAPS`, each field of the type of the class's
default and within the map's domain (anything else is a
:class:`~modeq.codec.DecodeError`). A field added since a map was saved
(:data:`ADDED`: Shampoo's parts) may be absent and takes its default.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sympy

from .algebra.kronecker import MAX_PARTS, SIDES, GramStatistic, KroneckerRoot
from .algebra.matrix_maps import MatrixMap, NewtonSchulz, PolarFactor
from .codec import MAX_DIGITS, DecodeError

__all__ = ["MAPS", "map_json", "map_from_json"]

#: The maps a saved equation may hold, by class name.
MAPS: dict[str, type] = {cls.__name__: cls for cls in (NewtonSchulz, PolarFactor, GramStatistic, KroneckerRoot)}

#: Fields a map gained after its first saved form (absent in older files: the default, one part).
ADDED = {"part", "parts"}


def map_json(fmap: MatrixMap) -> dict:
    """A map as ``{"class": name, "fields": {...}}``."""
    if MAPS.get(type(fmap).__name__) is not type(fmap):
        raise ValueError(f"cannot save the matrix map {fmap!r}: the saved maps are {', '.join(MAPS)}")
    return {"class": type(fmap).__name__,
            "fields": {f.name: _field_json(getattr(fmap, f.name)) for f in dataclasses.fields(fmap)}}


def _field_json(value: Any) -> Any:
    if isinstance(value, sympy.Rational):
        return {"p": str(value.p), "q": str(value.q)}
    if isinstance(value, tuple):
        return [_field_json(v) for v in value]
    return value


def map_from_json(data: Any) -> MatrixMap:
    """The map written by :func:`map_json`, or a :class:`DecodeError`."""
    cls = MAPS.get(data.get("class")) if isinstance(data, dict) else None
    fields = data.get("fields") if cls is not None else None
    names = {f.name for f in dataclasses.fields(cls)} if cls is not None else set()
    if cls is None or not isinstance(fields, dict) or not names - ADDED <= set(fields) <= names:
        raise DecodeError(f"not a saved matrix map: {str(data)[:80]}")
    fmap = cls(**{f.name: _field(fields[f.name], f.default, f.name) for f in dataclasses.fields(cls) if f.name in fields})
    if not _valid(fmap):
        raise DecodeError(f"a saved matrix map outside its domain: {fmap!r}")
    return fmap


def _field(value: Any, like: Any, name: str) -> Any:
    """``value`` decoded as a field whose default is ``like``."""
    if isinstance(like, sympy.Rational):
        if not (isinstance(value, dict) and set(value) == {"p", "q"}
                and all(isinstance(v, str) and v.lstrip("-").isdigit() and len(v) <= MAX_DIGITS for v in value.values())
                and int(value["q"]) > 0):
            raise DecodeError(f"the field {name} of a saved matrix map is not a rational number")
        return sympy.Rational(int(value["p"]), int(value["q"]))
    if isinstance(like, tuple):
        if not (isinstance(value, list) and len(value) == len(like)):
            raise DecodeError(f"the field {name} of a saved matrix map has not {len(like)} entries")
        return tuple(_field(v, w, name) for v, w in zip(value, like))
    if type(value) is not type(like):
        raise DecodeError(f"the field {name} of a saved matrix map is not a {type(like).__name__}")
    return value


def _valid(fmap: MatrixMap) -> bool:
    """Whether the map's parameters are ones its constructors accept."""
    if isinstance(fmap, NewtonSchulz):
        return 1 <= fmap.steps <= 99
    if isinstance(fmap, GramStatistic):
        return fmap.side in SIDES and 0 <= fmap.part < MAX_PARTS and (fmap.part == 0 or fmap.side != "small")
    if isinstance(fmap, KroneckerRoot):
        return fmap.sides in (1, 2) and fmap.eps >= 0 and 1 <= fmap.parts <= MAX_PARTS and (fmap.sides == 2 or fmap.parts == 1)
    return fmap.eps >= 0  # PolarFactor
