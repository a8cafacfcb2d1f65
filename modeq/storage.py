r"""Modified equations as JSON files with provenance (``eq.save(path)``,
``modeq.load(path)``).

The file holds, beside the terms: the modeq version and the date, the
optimizer (its name, options, hyperparameters with domains, defaults, LaTeX
and meaning, and its update :math:`U_n` as an expression tree, so an
optimizer that no importable module defines can still produce its update for
``verify``), the fixed hyperparameter values, the regime, the order and the
assumptions. Expressions are one node table (:mod:`modeq.codec`: a whitelist
of node kinds, never ``sympify``/``eval``); index-form atoms are stored by
their structured definitions (``gradient``, ``contraction``, ``reduction``,
``block_reduction``, ``block_size``) and interned again on load, children
first, into a new atom table that the loaded equation carries (``eq.atoms``).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import sympy

from .algebra.index import (AtomRegistry, BlockReduction, BlockScale, BlockSize, Contraction, Gradient, LossValue,
                            MatrixDerivative, Reduction, SlowState)
from .algebra.matrix_maps import SHAPE_RULES
from .codec import DecodeError, Encoder, decode_nodes
from .description import DescriptionError
from .map_codec import map_from_json, map_json
from .optimizers.base import Domain, HyperParameter, Optimizer
from .optimizers.library import builtin as builtin_named
from .primitives import Primitive
from .terms import OpaqueTime, SlowStateTerms
from .version import __version__

__all__ = ["FORMAT", "to_json", "from_json", "SavedEquation", "DecodeError"]

#: The format tag of saved equations.
FORMAT = "modeq.modified-equation/1"


def _primitive_classes() -> dict[str, type]:
    """Every primitive class by name (subclasses register themselves by existing)."""
    found, stack = {}, [Primitive]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            found[sub.__name__] = sub
            stack.append(sub)
    return found


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return str(value)


def to_json(equation) -> dict:
    """The saved form of a :class:`~modeq.terms.EquationTerms`."""
    encoder = Encoder(_primitive_classes())
    atoms = equation.atoms.atoms(list(equation.terms) + [t for state in equation.states for t in state.terms]
                                 + [state.value for state in equation.states])
    optimizer = equation.optimizer
    return {
        "format": FORMAT,
        "provenance": {"modeq": __version__,
                       "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")},
        "optimizer": {
            "name": optimizer.name,
            "builtin": builtin_named(optimizer.name) is not None,
            "options": {k: _jsonable(v) for k, v in optimizer.options.items()},
            "description": optimizer.description,
            "hyperparameters": [{"name": hp.name, "domain": hp.domain.name, "default": hp.default, "latex": hp.latex,
                                 "description": hp.description} for hp in optimizer.hyperparameters],
            "update": encoder.add(optimizer.update()),
        },
        "values": {k: _jsonable(v) for k, v in equation.values.items()},
        "regime": equation.regime,
        "regime_description": equation.regime_description,
        "order": equation.order,
        "assumptions": list(equation.assumptions),
        "atoms": [_atom_json(symbol, definition, encoder) for symbol, definition in atoms.items()],
        "terms": [encoder.add(t) for t in equation.terms],
        "states": [{"name": state.name, "value": encoder.add(state.value), "init": encoder.add(state.init),
                    "terms": [encoder.add(t) for t in state.terms]} for state in equation.states],
        **_opaque_json(equation, encoder),
        "expressions": encoder.nodes,
    }


def _opaque_json(equation, encoder: Encoder) -> dict:
    """The terms with opaque functions of time (:class:`~modeq.terms.OpaqueTime`), if the equation has them."""
    form = equation.opaque_time()
    if form is None:
        return {}
    return {"time_functions": {"functions": [[encoder.add(f), encoder.add(d)] for f, d in form.functions],
                               "terms": [encoder.add(t) for t in form.terms],
                               "states": [[encoder.add(t) for t in own] for own in form.states]}}


def _atom_json(symbol, definition, encoder: Encoder) -> dict:
    if isinstance(definition, Gradient):
        return {"symbol": encoder.add(symbol), "kind": "gradient", "loss": definition.loss}
    if isinstance(definition, LossValue):
        return {"symbol": encoder.add(symbol), "kind": "loss", "loss": definition.loss}
    if isinstance(definition, Contraction):
        return {"symbol": encoder.add(symbol), "kind": "contraction", "loss": definition.loss,
                "args": [encoder.add(a) for a in definition.args]}
    if isinstance(definition, Reduction):
        return {"symbol": encoder.add(symbol), "kind": "reduction", "arg": encoder.add(definition.arg)}
    if isinstance(definition, BlockReduction):
        return {"symbol": encoder.add(symbol), "kind": "block_reduction", "arg": encoder.add(definition.arg)}
    if isinstance(definition, BlockSize):
        return {"symbol": encoder.add(symbol), "kind": "block_size"}
    if isinstance(definition, SlowState):
        return {"symbol": encoder.add(symbol), "kind": "state", "key": definition.key, "name": definition.name}
    if isinstance(definition, BlockScale):
        return {"symbol": encoder.add(symbol), "kind": "block_scale", "rule": definition.rule}
    if isinstance(definition, MatrixDerivative):
        fmap = definition.map
        return {"symbol": encoder.add(symbol), "kind": "matrix_map", "map": map_json(fmap),
                "blocks": [encoder.add(a) for a in definition.arguments]}
    raise TypeError(f"the atom {symbol} ({type(definition).__name__}) has no saved form")


class SavedEquation(dict):
    """The fields of a saved equation, decoded (the constructor arguments of a
    :class:`~modeq.equation.ModifiedEquation`)."""


def from_json(data: Any) -> SavedEquation:
    """Decode a saved equation, refusing anything modeq does not write."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DecodeError(f"not a saved modified equation (expected format {FORMAT!r})")
    try:
        nodes = decode_nodes(data["expressions"], _primitive_classes())

        def node(index):
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(nodes):
                raise DecodeError(f"no expression number {index!r}")
            return nodes[index]

        table, mapping = AtomRegistry(), {}
        for atom in data["atoms"]:
            old = node(atom["symbol"])
            loss = atom.get("loss")
            if loss is not None and (not isinstance(loss, int) or isinstance(loss, bool)):
                raise DecodeError(f"bad batch label {loss!r}")
            if atom["kind"] == "gradient":
                new = table.intern(Gradient(loss))
            elif atom["kind"] == "loss":
                new = table.intern(LossValue(loss))
            elif atom["kind"] == "contraction":
                new = table.contraction([node(a).xreplace(mapping) for a in atom["args"]], loss)
            elif atom["kind"] == "reduction":
                new = table.reduction(node(atom["arg"]).xreplace(mapping))
            elif atom["kind"] == "block_reduction":
                new = table.block_reduction(node(atom["arg"]).xreplace(mapping))
            elif atom["kind"] == "block_size":
                new = table.intern(BlockSize())
            elif atom["kind"] == "state":
                new = table.intern(SlowState(str(atom["key"]), str(atom["name"])))
            elif atom["kind"] == "block_scale" and atom["rule"] in SHAPE_RULES:
                new = table.intern(BlockScale(atom["rule"]))
            elif atom["kind"] == "matrix_map":
                new = _matrix_atom(table, map_from_json(atom["map"]), [node(a).xreplace(mapping) for a in atom["blocks"]])
            else:
                raise DecodeError(f"unknown atom kind {atom['kind']!r}")
            mapping[old] = new
        opt = data["optimizer"]
        optimizer = _optimizer(opt, node(opt["update"]))
        terms = tuple(node(t).xreplace(mapping) for t in data["terms"])
        order = data["order"]
        if not isinstance(order, int) or order != len(terms) - 1:
            raise DecodeError("the order does not match the number of terms")
        states = tuple(SlowStateTerms(str(st["name"]), mapping[node(st["value"])], node(st["init"]),
                                      tuple(node(t).xreplace(mapping) for t in st["terms"]))
                       for st in data.get("states", ()))
        if any(len(state.terms) != len(terms) for state in states):
            raise DecodeError("a slow state's terms do not match the order")
        opaque = _opaque_form(data.get("time_functions"), node, mapping, terms, states)
        return SavedEquation(optimizer=optimizer, order=order, regime=str(data["regime"]),
                             values=dict(data["values"]), terms=terms, states=states,
                             regime_description=str(data["regime_description"]),
                             assumptions=tuple(str(a) for a in data["assumptions"]), atoms=table,
                             time_functions=opaque)
    except (KeyError, TypeError, AttributeError) as error:
        raise DecodeError(f"a saved equation with a missing or malformed field ({error})") from None


def _matrix_atom(table: AtomRegistry, fmap, blocks: list) -> sympy.Expr:
    """The atom :math:`D^kF(X)[Y_1..Y_k]` from its blocks in the order of ``MatrixDerivative.arguments``."""
    a = fmap.arity
    if not blocks or len(blocks) % a:
        raise DecodeError(f"a saved {fmap.name} atom with {len(blocks)} blocks (a multiple of {a} is needed)")
    groups = [blocks[i:i + a] for i in range(0, len(blocks), a)]
    point, *directions = (sympy.Tuple(*g) if a > 1 else g[0] for g in groups)
    return table.matrix_derivative(fmap, point, directions)


def _opaque_form(data, node, mapping, terms, states) -> OpaqueTime | None:
    """The saved :class:`~modeq.terms.OpaqueTime` (``None`` if there is none), standing for the saved terms."""
    if data is None:
        return None
    functions = tuple((node(f), node(d)) for f, d in data["functions"])
    opaque = tuple(node(t).xreplace(mapping) for t in data["terms"])
    own = tuple(tuple(node(t).xreplace(mapping) for t in ts) for ts in data["states"])
    if len(opaque) != len(terms) or len(own) != len(states) or any(len(o) != len(terms) for o in own):
        raise DecodeError("the terms in opaque functions of time do not match the terms")
    return OpaqueTime(functions, opaque, own, (terms, *(state.terms for state in states)))


def _optimizer(opt: dict, update: sympy.Expr) -> Optimizer:
    hyperparameters = tuple(
        HyperParameter(str(hp["name"]), Domain[hp["domain"]], hp["default"], hp["latex"], str(hp["description"]))
        for hp in opt["hyperparameters"])
    builtin = builtin_named(opt["name"]) if opt.get("builtin") else None
    if builtin is not None:
        try:  # an option saved as its text (a tuple of rationals: Muon's coefficients) is not the option itself
            configured = builtin(**opt["options"]) if opt["options"] else builtin
            if configured.hyperparameters == hyperparameters and configured.update() == update:
                return configured
        except (DescriptionError, TypeError, ValueError):
            pass
    symbols = {hp.name: hp.symbol for hp in hyperparameters}

    def build(**given):
        return update.xreplace({symbols[name]: value for name, value in given.items()})

    return Optimizer(str(opt["name"]), build, hyperparameters, {}, str(opt["description"]))


def write(equation, path) -> None:
    """Write ``equation`` to ``path`` as JSON."""
    Path(path).write_text(json.dumps(to_json(equation), separators=(",", ":")) + "\n")


def read(path) -> SavedEquation:
    """Read a saved equation's fields from ``path``."""
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise DecodeError(f"{path} is not JSON: {error}") from None
    return from_json(data)
