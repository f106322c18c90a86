"""torchvision as the oracle of the transform tests: live where it imports, recorded everywhere else.

torchvision does not install beside the torch 2.13 of the test extra, so most machines (CI among them) have
no live torchvision. Every torchvision result the tests compare with goes through :func:`expect`, which

* with torchvision importable, computes it (and, when ``MINIDL_RECORD_TORCHVISION`` is set, keeps it for
  ``tests/torchvision_expected.npz``, written when the process exits);
* otherwise reads it from that recording, which is committed. A result missing from the recording fails
  the test (it never skips).

The inputs are fixed (seeded generators, ``minidl.manual_seed``), so a recorded result is exactly what live
torchvision returns for the same call. To re-record, in an environment with torchvision and Pillow
(``pip install torch==2.14.1 torchvision==0.29.1 pillow`` plus minidl; Pillow computes the PIL-image
results on both sides, so record with the Pillow version the tests run with)::

    MINIDL_RECORD_TORCHVISION=1 python -m pytest tests/test_transforms_torchvision.py -p no:randomly
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

RECORDING = Path(__file__).with_name("torchvision_expected.npz")

try:  # torchvision's wheel fails to import beside some torch builds
    import torch
    import torchvision

    LIVE = True
except Exception:  # pragma: no cover - depends on the environment
    torch = torchvision = None
    LIVE = False

_recorded: dict[str, np.ndarray] | None = None
_new: dict[str, np.ndarray] = {}


def _as_array(value: Any) -> np.ndarray:
    """A torchvision result as an array: tensors and PIL images by value, strings (PIL modes) as 0-d."""
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().numpy().copy()
    if isinstance(value, str):
        return np.array(value)
    return np.asarray(value)


def expect(key: str, compute: Callable[[], Any]) -> np.ndarray:
    """torchvision's result for ``key``: ``compute()`` when torchvision is live, else the recorded value."""
    if LIVE:
        value = _as_array(compute())
        if os.environ.get("MINIDL_RECORD_TORCHVISION"):
            assert key not in _new, f"two results recorded under {key!r}"
            _new[key] = value
        return value
    global _recorded
    if _recorded is None:
        if not RECORDING.is_file():
            pytest.fail(f"torchvision is not importable and {RECORDING.name} is missing")
        with np.load(RECORDING, allow_pickle=False) as f:
            _recorded = {k: f[k] for k in f.files}
    if key not in _recorded:
        pytest.fail(f"no recorded torchvision result for {key!r}: re-record (see tests/torchvision_oracle.py)")
    return _recorded[key]


def expect_str(key: str, compute: Callable[[], str]) -> str:
    return str(expect(key, compute))


@atexit.register
def _write() -> None:
    if not _new:
        return
    import PIL

    versions = np.array(f"torch {torch.__version__}, torchvision {torchvision.__version__}, Pillow {PIL.__version__}")
    tmp = RECORDING.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, __versions__=versions, **_new)
    tmp.replace(RECORDING)
