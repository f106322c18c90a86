"""``minidl.linalg``: vector and matrix norms with PyTorch's names (see :mod:`minidl.functions.linalg`)."""

from .functions.linalg import linalg_norm as norm
from .functions.linalg import matrix_norm, vector_norm

__all__ = ["norm", "vector_norm", "matrix_norm"]
