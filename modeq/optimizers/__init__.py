"""Optimizer descriptions: the language, the :class:`Optimizer` type and the built-ins."""

from .base import Domain, HyperParameter, Optimizer, decay, nonnegative, optimizer, positive, real
from .language import *  # noqa: F403 - the description language: h, theta, the primitives
from .language import __all__ as _LANGUAGE
from .layerwise import lamb, lars
from .muon import muon
from .shampoo import shampoo, shampoo_ema
from .variants import adabelief, adan, ademamix, qhadam, qhm
from .timed import ademamix_warmup, nadam
from .schedules import Schedule, schedule, scheduled
from .schedule_free import schedule_free_adamw, schedule_free_sgd
from .lookahead import lookahead
from .library import (BUILTIN, adagrad, adam, adam_warmup_cosine, adamw, gd, get, heavy_ball, heavy_ball_ema, lion, nesterov, polyak, rmsprop,
                      sam, signum, usam)

__all__ = [
    "Domain", "HyperParameter", "Optimizer", "decay", "nonnegative", "optimizer", "positive", "real",
    *_LANGUAGE, "BUILTIN", "get",
    "adabelief", "adan", "ademamix", "qhadam", "qhm", "lars", "lamb", "muon", "shampoo", "shampoo_ema", "schedule_free_sgd",
    "schedule_free_adamw", "lookahead",
    "Schedule", "schedule", "scheduled", "adam_warmup_cosine", "nadam", "ademamix_warmup",
    "adagrad", "adam", "adamw", "gd", "heavy_ball", "heavy_ball_ema", "lion", "nesterov", "polyak", "rmsprop", "sam", "signum",
    "usam",
]
