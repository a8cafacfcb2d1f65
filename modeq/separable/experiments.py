"""One-call experiments: run optimizers on a data set and track ``cos(w_t, reference)``.

The references are max-margin directions (``"l2"``, ``"linf"``, ``"l1"``) and
``"proxy"``, the Adam proxy's predicted limit from the dual fixed point.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from .datasets import SeparableData
from .fixed_point import solve_fixed_point
from .margins import max_margin
from .optimizers import Optimizer, Trajectory

__all__ = ["Experiment", "REFERENCES", "reference_directions", "run_experiment"]

REFERENCES: tuple[str, ...] = ("l2", "linf", "l1", "proxy")
_LABELS = {"l2": "ℓ2 max-margin", "linf": "ℓ∞ max-margin", "l1": "ℓ1 max-margin", "proxy": "proxy fixed point"}


def reference_directions(data: SeparableData, references: Sequence[str] = ("l2", "linf")) -> dict[str, np.ndarray]:
    """The named reference directions of ``data``."""
    unknown = [name for name in references if name not in REFERENCES]
    if unknown:
        raise ValueError(f"unknown reference {unknown[0]!r}; choose from {', '.join(REFERENCES)}")
    return {name: solve_fixed_point(data).direction if name == "proxy" else max_margin(data, name).direction
            for name in references}


@dataclass(frozen=True)
class Experiment:
    """Trajectories of several optimizers on one data set, compared with reference directions."""

    data: SeparableData
    references: dict[str, np.ndarray]
    trajectories: dict[str, Trajectory]

    def cosines(self, optimizer: str, reference: str) -> np.ndarray:
        """``cos(w_t, reference)`` at the recorded steps of ``optimizer`` (by name)."""
        return self.trajectories[optimizer].cosines(self.references[reference])

    def final_cosines(self) -> dict[str, dict[str, float]]:
        """``{optimizer: {reference: cos(w_T, reference)}}`` at the last step."""
        return {name: {ref: float(self.cosines(name, ref)[-1]) for ref in self.references}
                for name in self.trajectories}

    def first_step_above(self, optimizer: str, reference: str, level: float = 0.99) -> int | None:
        """The first recorded step from which the cosine stays ``≥ level``, or ``None``."""
        return self.trajectories[optimizer].first_step_above(self.references[reference], level)

    def table(self) -> str:
        """The final cosines as a plain-text table."""
        refs = list(self.references)
        width = max(len(name) for name in self.trajectories)
        lines = [f"{'optimizer':<{width}}  steps  " + "  ".join(f"{ref:>8}" for ref in refs)]
        for name, traj in self.trajectories.items():
            values = "  ".join(f"{self.cosines(name, ref)[-1]:8.4f}" for ref in refs)
            lines.append(f"{name:<{width}}  {traj.steps[-1]:>5}  {values}")
        return "\n".join(lines)

    def plot(self, path: str | Path | None = None) -> Figure:
        """One panel per optimizer: cosine to each reference against the step (log scale)."""
        count = len(self.trajectories)
        columns = min(count, 3)
        rows = -(-count // columns)
        fig = Figure(figsize=(4.2 * columns, 3.2 * rows), layout="constrained")
        axes = fig.subplots(rows, columns, squeeze=False).ravel()
        for ax, (name, traj) in zip(axes, self.trajectories.items()):
            for ref in self.references:
                ax.plot(traj.steps, self.cosines(name, ref), label=_LABELS[ref])
            ax.set_xscale("log")
            ax.set_title(name, fontsize=10)
            ax.set_xlabel("step")
            ax.set_ylabel("cosine")
            ax.grid(alpha=0.3)
        for ax in axes[count:]:
            ax.set_visible(False)
        axes[0].legend(fontsize=8)
        fig.suptitle(self.data.name, fontsize=11)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, dpi=110)
        return fig


def run_experiment(data: SeparableData, optimizers: Sequence[Optimizer], steps: int,
                   references: Sequence[str] = ("l2", "linf"), record: np.ndarray | None = None) -> Experiment:
    """Run every optimizer for ``steps`` steps from ``w = 0`` and compare with ``references``."""
    names = [opt.name for opt in optimizers]
    if not names:
        raise ValueError("give at least one optimizer")
    if len(set(names)) != len(names):
        raise ValueError(f"optimizer names must be distinct, got {names}; rename with dataclasses.replace(opt, name=...)")
    refs = reference_directions(data, references)
    return Experiment(data, refs, {opt.name: opt.run(data, steps, record) for opt in optimizers})
