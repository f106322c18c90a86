"""Optional dependencies: imported when a feature needs them, with a message naming the extra to install.

The core of minidl needs NumPy only. A feature built on another package (Pillow, scikit-image, SciPy,
scikit-learn) calls :func:`require` at the moment it needs it, never at ``import minidl``; when the package
is missing the user reads which ``pip install "minidl[<extra>]"`` provides it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


def require(module: str, package: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` (e.g. ``"skimage.measure"``), or raise ImportError saying that ``purpose`` needs
    ``package`` and which extra of minidl installs it."""
    parts = module.split(".")
    try:
        # the packages first: a sub-module already imported would otherwise be found even when its package
        # has since been made unavailable
        for k in range(1, len(parts)):
            importlib.import_module(".".join(parts[:k]))
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f'{purpose} needs {package}, an optional dependency: pip install "minidl[{extra}]"'
        ) from None
