"""``minidl.func``: PyTorch's ``torch.func`` namespace (function transforms over modules).

* :func:`functional_call`: call a module with other tensors in place of its parameters and buffers
  (implemented in :mod:`minidl.nn.stateless`).
"""

from ..nn.stateless import functional_call

__all__ = ["functional_call"]
