"""Optimizer descriptions: the language, the :class:`Optimizer` type and the built-ins."""

from .base import Domain, HyperParameter, Optimizer, decay, nonnegative, optimizer, positive, real
from .language import (
    EMA,
    DescriptionError,
    Grad,
    Lag,
    ReduceSum,
    ema,
    grad,
    h,
    lag,
    norm,
    reduce_sum,
    smooth_sign,
    theta,
)
from .variants import adabelief, adan, ademamix, qhadam, qhm
from .library import BUILTIN, adam, adamw, gd, get, heavy_ball, heavy_ball_ema, lion, nesterov, rmsprop, sam, signum, usam

__all__ = [
    "Domain", "HyperParameter", "Optimizer", "decay", "nonnegative", "optimizer", "positive", "real",
    "EMA", "DescriptionError", "Grad", "Lag", "ReduceSum", "ema", "grad", "h", "lag", "norm", "reduce_sum",
    "smooth_sign", "theta", "BUILTIN", "get",
    "adabelief", "adan", "ademamix", "qhadam", "qhm",
    "adam", "adamw", "gd", "heavy_ball", "heavy_ball_ema", "lion", "nesterov", "rmsprop", "sam", "signum", "usam",
]
