r"""The order in which an evaluation plan runs: few vectors alive where memory peaks.

A plan (:class:`modeq.evaluation.Evaluator`) is a directed acyclic graph: node
:math:`i` reads the values of its inputs, and its *outputs* (the parts of the
terms) are consumed as soon as they are computed (added to the sum). A value
is held from its computation to its last reader, so every topological order
computes the same values (up to the rounding of the order in which the parts
are added) but not with the same memory. While node :math:`n` runs, the
evaluation holds

.. math:: M(n) = \ell(n) + c(n),

:math:`\ell(n)` the vectors computed before :math:`n` and read by :math:`n` or
later (scalars do not count) and, once an output has been computed, the sum
they are added to, :math:`c(n)` what :math:`n` allocates: its output
(one vector, if it is one) and its transient. The transient of a contraction
:math:`D_k` is the largest of an evaluation: it differentiates a graph of the
graph, :math:`3k` parameter vectors besides its output (measured chunked on
the :math:`10^6`-parameter MLP of ``benchmarks/torch_fields.py``: 4.1, 6.6 and
10.0 vectors for :math:`D_1, D_2, D_3`); an elementwise expression works on
slices and allocates its output only.

Minimising :math:`\max_n M(n)` over the topological orders is NP-hard in
general (it contains register sufficiency); the plans are small (tens to a
few hundred nodes) and shaped alike (a gradient, directions built from it,
contractions of the directions, parts that combine them), and a greedy rule
does well. Each step *completes one output*: it computes the output's inputs
not yet computed (children first, the costliest subtree first), then the
output, which is consumed at once. The output chosen is the one whose
completion leaves the fewest vectors alive: +1 for each vector it computes
that a node not yet run still reads, −1 for each vector alive whose last
reader it runs. So a value is computed just before the outputs that need it
(as late as possible), and once started, the outputs that read it are
completed (so that it dies) before others start new values. That rule leaves
ties, and it does not see the future (a contraction run now, beside few
values, or later, beside the values its own inputs keep alive), so several
schedules are made and the one of lowest modelled memory is kept (its peak
:math:`\max_n M(n)`, then :math:`M` at its contractions, largest first):
the ties broken by

* the costliest node first (the contraction of most directions, while few
  values are alive), or by the lowest peak of the step while it runs;
* or the lowest peak first, before the growth;
* or the costliest node first, before the growth;

each with or without the costliest node of the plan computed first, before
any output (the sum is then not yet held). The eight greedy passes
take 0.09 s on Adam's order-3 plan (117 nodes) and 0.8 s on AdamW's (342
nodes), once per order. On plans of 13 nodes shaped like the fields', the peak kept is the
least possible (an exhaustive search) in 277 of 300 random plans and one
vector above it in all but one of the others (``tests/test_evaluation_order.py``).
On Adam's order-3 field (chunked, 117 nodes) the vectors alive at a
:math:`D_2` go from up to 11 (every such contraction first, the rest after,
the previous order) to at most 5 (:math:`\nabla E`, the direction :math:`X`,
:math:`D_1[X]` from which the other directions are made, the contraction's
other direction, and the sum); on AdamW's from 29 to 7.
"""

from __future__ import annotations

from typing import Callable, Collection, Mapping, Sequence

__all__ = ["evaluation_order", "memory_along", "CONTRACTION_COST"]

#: Parameter vectors of transient memory per direction of a contraction (see the module docs).
CONTRACTION_COST = 3

#: A tie-break: ``key(growth, costliest, peak)`` of a step, lower first.
_Rule = Callable[[int, int, int], tuple]
_RULES: tuple[_Rule, ...] = (lambda growth, costliest, peak: (growth, -costliest, peak),
                             lambda growth, costliest, peak: (growth, peak),
                             lambda growth, costliest, peak: (peak, growth),
                             lambda growth, costliest, peak: (-costliest, growth, peak))


def evaluation_order(inputs: Mapping[int, Sequence[int]], outputs: Collection[int], vectors: Collection[int],
             costs: Mapping[int, int]) -> list[int]:
    r"""An order of the nodes of ``inputs`` (``{node: its inputs}``, closed under
    inputs) in which every node comes after its inputs, of low peak memory
    (see the module docs): ``outputs`` are consumed when computed, ``vectors``
    count 1 while held, ``costs`` are the transients :math:`c(n)` beyond the
    output (absent: 0)."""
    graph = _Graph(inputs, outputs, vectors, costs)
    costliest = max(graph.inputs, key=lambda i: (graph.costs[i], -i), default=None)
    orders = [graph.greedy(rule, first) for rule in _RULES for first in (None, costliest)]
    return min(orders, key=graph.peaks)


def memory_along(order: Sequence[int], inputs: Mapping[int, Sequence[int]], outputs: Collection[int],
          vectors: Collection[int], costs: Mapping[int, int]) -> list[int]:
    r""":math:`M(n)` of each node of ``order`` (see the module docs)."""
    return _Graph(inputs, outputs, vectors, costs).memory(order)


class _Graph:
    def __init__(self, inputs, outputs, vectors, costs) -> None:
        self.inputs = {i: tuple(dict.fromkeys(js)) for i, js in inputs.items()}
        self.outputs = set(outputs)
        self.vectors = set(vectors)
        self.costs = {i: costs.get(i, 0) + (i in self.vectors) for i in self.inputs}
        self.readers = {i: 0 for i in self.inputs}
        for js in self.inputs.values():
            for j in js:
                self.readers[j] += 1
        # the costliest node of each node's subtree: its inputs first if it is costlier
        self.subtree: dict[int, int] = {}
        for i in self.inputs:
            self._subtree(i)

    def _subtree(self, i: int) -> int:
        if i not in self.subtree:
            self.subtree[i] = max([self.costs[i]] + [self._subtree(j) for j in self.inputs[i]])
        return self.subtree[i]

    def memory(self, order: Sequence[int]) -> list[int]:
        """:math:`M(n)` along ``order``."""
        left = dict(self.readers)
        alive: set[int] = set()
        out = []
        summing = False
        for i in order:
            out.append(len(alive) + self.costs[i] + summing)
            self._run(i, left, alive)
            summing = summing or i in self.outputs
        return out

    def peaks(self, order: Sequence[int]) -> list[int]:
        """The peak, then the memory at each contraction, largest first (compared in this order)."""
        memory = self.memory(order)
        return [max(memory, default=0)] + sorted((m for i, m in zip(order, memory) if self.costs[i] > 1), reverse=True)

    def _run(self, i: int, left: dict[int, int], alive: set[int]) -> None:
        for j in self.inputs[i]:
            left[j] -= 1
            if not left[j]:
                alive.discard(j)
        if i in self.vectors and left[i]:
            alive.add(i)

    def greedy(self, rule: _Rule, first: int | None = None) -> list[int]:
        """Outputs completed one at a time, the one of least growth of the vectors alive (ties: ``rule``);
        ``first``: the node computed before (with its inputs), while no output is held."""
        done: set[int] = set()
        left = dict(self.readers)
        alive: set[int] = set()
        order: list[int] = []
        for i in self._missing(first, done) if first is not None else ():
            self._run(i, left, alive)
            done.add(i)
            order.append(i)
        todo = set(self.outputs) - done
        while todo:
            summing = len(todo) < len(self.outputs)
            best = None
            for output in sorted(todo):
                steps = self._missing(output, done)
                trial_left = {}
                trial = set(alive)
                peak = 0
                for i in steps:
                    peak = max(peak, len(trial) + self.costs[i] + summing)
                    for j in self.inputs[i]:
                        trial_left[j] = trial_left.get(j, left[j]) - 1
                        if not trial_left[j]:
                            trial.discard(j)
                    if i in self.vectors and trial_left.get(i, left[i]):
                        trial.add(i)
                key = rule(len(trial) - len(alive), max(self.costs[i] for i in steps), peak)
                if best is None or key < best[0]:
                    best = (key, steps)
            for i in best[1]:
                self._run(i, left, alive)
                done.add(i)
                order.append(i)
            todo -= done
        return order

    def _missing(self, output: int, done: set[int]) -> list[int]:
        """The nodes ``output`` needs that are not ``done``, children first, the costliest subtree first."""
        steps: list[int] = []
        seen: set[int] = set()
        stack = [(output, False)]
        while stack:
            i, expanded = stack.pop()
            if expanded:
                steps.append(i)
                continue
            if i in done or i in seen:
                continue
            seen.add(i)
            stack.append((i, True))
            # pushed in reverse so that the costliest subtree (then the lowest index) is visited first
            for j in sorted(self.inputs[i], key=lambda j: (-self.subtree[j], j), reverse=True):
                stack.append((j, False))
        return steps
