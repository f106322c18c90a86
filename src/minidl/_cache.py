"""minidl's cache folder: generated datasets and the ready OCR model live here, rebuilt when stale.

The folder is ``$MINIDL_CACHE`` when set, else ``~/.cache/minidl``. Every entry's file name carries a key
(a hash of everything that determines its content: a format version, the generator's settings, the seed,
the fonts used), so a change of any of them makes a new entry instead of reusing a stale one. Entries are
written atomically (:mod:`minidl._atomic`) and read without unpickling, so an interrupted or concurrent
build never leaves a torn file and a cache file cannot execute code.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._atomic import atomic_path

__all__ = ["cache_root", "cache_dir", "cache_key", "cached_arrays"]


def cache_root() -> Path:
    """``$MINIDL_CACHE`` if set, else ``~/.cache/minidl``."""
    env = os.environ.get("MINIDL_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "minidl"


def cache_dir(*parts: str) -> Path:
    """The cache sub-folder ``<cache_root>/<parts...>`` (not created)."""
    return cache_root().joinpath(*parts)


def cache_key(spec: Mapping[str, Any], length: int = 16) -> str:
    """A short hex key of ``spec`` (its canonical JSON), for file names."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def cached_arrays(path: Path, build: Callable[[], dict[str, np.ndarray]], enabled: bool = True
                  ) -> dict[str, np.ndarray]:
    """The arrays stored at ``path`` (an ``.npz``), or ``build()``'s, saved there atomically first.

    A file that cannot be read (truncated by a crash of an older writer, or not an npz) is rebuilt.
    With ``enabled=False`` nothing is read or written.
    """
    if enabled and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError):
            pass  # unreadable: rebuild below and replace it
    arrays = build()
    if enabled:
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, allow_pickle=False, **arrays)
    return arrays
