r"""Modified equations on torch models: fields by automatic differentiation.

* :func:`compile` — a derived :class:`~modeq.equation.ModifiedEquation` as a
  function of a flat parameter tensor (:class:`TorchField`), evaluated by
  automatic differentiation (DESIGN.md §5.4, :mod:`modeq.torch.backend`);
* :func:`flat_parameters` — a model's trainable parameters as that tensor;
* :func:`verify` — the modified equation against ``torch.optim``'s own iterates.

Part of the ``network`` extra (``pip install modeq[network]``); ``import modeq``
does not import torch.
"""

from .field import TorchField, compile
from .losses import NonSmoothWarning, flat_parameters
from .verify import verify

__all__ = ["compile", "TorchField", "flat_parameters", "verify", "NonSmoothWarning"]
