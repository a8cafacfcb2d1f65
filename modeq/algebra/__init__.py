"""Field algebras: the representations of vector fields the derivation runs on."""

from .base import FieldAlgebra, ImplicitUpdateError
from .component import ComponentAlgebra, check_loss
from .index import ATOMS, D, IndexAlgebra, S, g, p, theta

__all__ = ["FieldAlgebra", "ImplicitUpdateError", "ComponentAlgebra", "check_loss", "ATOMS", "D", "IndexAlgebra", "S", "g", "p", "theta"]
