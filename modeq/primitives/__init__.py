r"""The primitives of the optimizer description language, one class per file
(:mod:`.base` says what a primitive carries). Users build them with the
constructors re-exported by :mod:`modeq.optimizers.language`."""

from .base import Lowering, Primitive
from .block_sum import BlockSum, block_norm, block_sum
from .ema import EMA, ema
from .grad import Grad, grad
from .history import History
from .hvp import HVP, hvp
from .lag import Lag, lag
from .loss_value import Loss, loss
from .matrix import NewtonSchulzMap, PolarFactorMap, ShapeScale, msign, newton_schulz, shape_scale
from .kronecker import GramMap, KroneckerRootMap, gram, kronecker_root
from .reduce_sum import ReduceSum, norm, reduce_sum
from .joint_state import JointState, states
from .state import State, state

__all__ = ["Primitive", "Lowering", "History", "Grad", "grad", "Lag", "lag", "EMA", "ema", "ReduceSum",
           "reduce_sum", "norm", "HVP", "hvp", "State", "state", "JointState", "states", "Loss", "loss", "BlockSum", "block_sum",
           "block_norm", "NewtonSchulzMap", "newton_schulz", "PolarFactorMap", "msign", "ShapeScale", "shape_scale",
           "GramMap", "gram", "KroneckerRootMap", "kronecker_root"]
