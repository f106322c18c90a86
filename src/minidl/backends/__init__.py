"""``minidl.backends``: PyTorch's backend switches that scripts set or query (``backends.cudnn.benchmark``,
``backends.mps.is_available()``). minidl runs on NumPy only, so no accelerator is available and the
switches are plain attributes that change nothing."""

from __future__ import annotations

from types import SimpleNamespace

__all__ = ["cudnn", "mps", "cuda", "mkldnn", "openmp"]


def _false() -> bool:
    return False


cudnn = SimpleNamespace(enabled=False, benchmark=False, deterministic=False, allow_tf32=False,
                        is_available=_false, version=lambda: None)
mps = SimpleNamespace(is_available=_false, is_built=_false)
cuda = SimpleNamespace(is_built=_false, matmul=SimpleNamespace(allow_tf32=False))
mkldnn = SimpleNamespace(is_available=_false, enabled=False)
openmp = SimpleNamespace(is_available=_false)
