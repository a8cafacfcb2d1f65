r"""Reading off what an optimizer implicitly does.

* :func:`eps_limit` — the equation as :math:`\varepsilon \to 0` or :math:`\varepsilon \to \infty`;
* :func:`modified_loss` — :math:`\dot\theta = -P\nabla\tilde E`, or why not;
* :func:`spectral_modified_loss` — exact Muon: :math:`\dot\theta = -s\operatorname{msign}(\nabla\tilde E)`,
  :math:`\tilde E = E + h\kappa\sum_B s_B\|\nabla_B E\|_*`, or why not;
* :func:`classify` — penalizing / anti-penalizing, and when.

Table 1 of "On the Implicit Bias of Adam" derives, analyses and prints, so it
lives above this package: :func:`modeq.reports.table1`.
"""

from .limits import eps_limit
from .potential import ModifiedLoss, NotAGradient, modified_loss
from .spectral import SpectralModifiedLoss, spectral_modified_loss
from .verdict import Verdict, classify

__all__ = ["eps_limit", "ModifiedLoss", "NotAGradient", "modified_loss", "SpectralModifiedLoss", "spectral_modified_loss",
           "Verdict", "classify"]
