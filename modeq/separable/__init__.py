"""Implicit bias of GD, Adam variants and Signum on linearly separable data.

Logistic regression on separable data, after "Implicit Bias of Per-sample Adam
on Separable Data: Departure from the Full-batch Regime" (Baek, Song, Yun,
2025): max-margin directions (:mod:`.margins`), data sets (:mod:`.datasets`),
compiled optimizers (:mod:`.optimizers`), the epoch recurrence and ``β2 → 1``
proxy of incremental Adam (:mod:`.proxy`), the dual fixed point that predicts
the proxy's limit (:mod:`.fixed_point`) and one-call experiments
(:mod:`.experiments`).

>>> from modeq import separable as sep
>>> data = sep.gaussian_clusters(n=20, d=50)
>>> exp = sep.run_experiment(data, [sep.signum(), sep.gd(normalized=True)], steps=20_000)
>>> print(exp.table())  # doctest: +SKIP
"""

from .datasets import (SeparableData, from_arrays, from_csv, gaussian_clusters, generalized_rademacher,
                       shifted_diagonal)
from .experiments import REFERENCES, Experiment, reference_directions, run_experiment
from .fixed_point import FixedPointError, ProxyPrediction, proxy_metric, solve_fixed_point
from .margins import NORMS, MaxMargin, NotSeparableError, cosine, max_margin
from .optimizers import (DivergenceError, Optimizer, Trajectory, adam, gd, incremental_adam, log_steps, sgd,
                         signum)
from .proxy import adam_proxy, c_inc, incremental_adam_epochs

__all__ = [
    "DivergenceError", "Experiment", "FixedPointError", "MaxMargin", "NORMS", "NotSeparableError", "Optimizer",
    "ProxyPrediction", "REFERENCES", "SeparableData", "Trajectory", "adam", "adam_proxy", "c_inc", "cosine",
    "from_arrays", "from_csv", "gaussian_clusters", "generalized_rademacher", "gd", "incremental_adam",
    "incremental_adam_epochs", "log_steps", "max_margin", "proxy_metric", "reference_directions",
    "run_experiment", "sgd", "shifted_diagonal", "signum", "solve_fixed_point",
]
