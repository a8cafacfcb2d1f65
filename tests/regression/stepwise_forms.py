r"""The step-by-step fields of :func:`modeq.derive_steps` in their earlier
canonical form, recorded before that form changed (issue 17).

Until then a numeric coefficient of a step field was ``expand``-ed, which
multiplied out its denominators (:math:`V^{3/2}` became a sum of
:math:`g_b^2\sqrt V` terms); since then it is distributed over numerators
only (:mod:`modeq.algebra.distributed`). ``stepwise_forms.json`` holds the
terms of the cases below as that earlier implementation derived them (commit
46dfd6d); ``test_stepwise_forms.py`` proves the new terms equal to them
exactly. Recording again is meaningless once the form has changed; it is kept
to show how the records were made::

    git archive 46dfd6d modeq | tar -x -C OLD
    PYTHONPATH=OLD:. python -m tests.regression.stepwise_forms
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import modeq
from modeq.algebra.index import BlockReduction, Contraction, Reduction
from modeq.codec import Encoder
from modeq.optimizers import BUILTIN, adam, lookahead
from modeq.optimizers.torch import TORCH

from .cases import rational_values

FIXTURE = Path(__file__).with_name("stepwise_forms.json")

#: The benchmark's hyperparameters (``benchmarks/derive.py``, ``tests/engine/test_stepwise.py``).
BENCH = {"beta": 0.9, "rho": 0.95, "eps": 1e-3}


def _cases() -> dict[str, Callable[[], Any]]:
    """Name -> a derivation returning a :class:`~modeq.stepwise.StepwiseEquation`."""
    cases: dict[str, Callable[[], Any]] = {}
    for name, opt in BUILTIN.items():  # every built-in: 3 steps, 2 batches, order 1
        if name != "lookahead":  # 5 Adam steps a step: below, with 1 and 2
            cases[f"{name} steps 3 batches 2 order 1"] = (
                lambda opt=opt: modeq.derive_steps(opt, 3, order=1, batches=2, values=rational_values(opt)))
    for k in (1, 2):  # tests/engine/test_joint_states.py
        inner = lookahead(k=k)
        cases[f"lookahead(k={k}) steps 2 order 1"] = (
            lambda inner=inner: modeq.derive_steps(inner, 2, order=1, values={**rational_values(inner), "alpha": 1}))
    cases["adam steps 2 batches 2 order 2"] = lambda: modeq.derive_steps(adam, 2, order=2, batches=2,
                                                                         values=rational_values(adam))
    hb = BUILTIN["heavy_ball"]
    cases["heavy_ball steps 3 order 2"] = lambda: modeq.derive_steps(hb, 3, order=2, values=rational_values(hb))
    outside = adam(eps_inside=False)
    cases["adam(eps_inside=False) steps 3 batches 2 order 1"] = (
        lambda: modeq.derive_steps(outside, 3, order=1, batches=2, values=rational_values(outside)))
    cases["torch Adam steps 2 batches 2 order 1"] = (
        lambda: modeq.derive_steps(TORCH["Adam"], 2, order=1, batches=2, values=rational_values(TORCH["Adam"])))
    cases["adam steps 8 batches 3 order 1 (benchmark values)"] = (
        lambda: modeq.derive_steps(adam, 8, order=1, batches=3, values=BENCH))
    cases["adam steps 5 batches 3 schedule 2,3,1 order 1 (benchmark values)"] = (
        lambda: modeq.derive_steps(adam, 5, order=1, batches=3, schedule=(2, 3, 1), values=BENCH))
    return cases


CASES = _cases()


def arguments(definition) -> tuple | None:
    """``(kind, loss, args)`` of an atom taking arguments (contractions, reductions), else ``None``."""
    if isinstance(definition, Contraction):
        return "D", definition.loss, definition.args
    if isinstance(definition, (Reduction, BlockReduction)):
        return type(definition).__name__, None, (definition.arg,)
    return None


def record() -> dict:
    """The cases' terms (node indices into one table), and the definitions of
    their atoms that take arguments ``name -> [kind, loss, [args]]``; or their refusal."""
    encoder, records = Encoder(), {}
    for name, run in CASES.items():
        try:
            derived = run()
        except Exception as error:  # noqa: BLE001 - a refusal is recorded as such
            records[name] = {"error": [type(error).__name__, str(error)]}
            continue
        atoms = {}
        for symbol, definition in derived.atoms.atoms([t for step in derived.terms for t in step]).items():
            found = arguments(definition)
            if found is not None:
                atoms[symbol.name] = [found[0], found[1], [encoder.add(a) for a in found[2]]]
        records[name] = {"terms": [[encoder.add(t) for t in step] for step in derived.terms], "atoms": atoms}
    return {"cases": records, "nodes": encoder.nodes}


if __name__ == "__main__":
    FIXTURE.write_text(json.dumps(record(), separators=(",", ":")) + "\n")
