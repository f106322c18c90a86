"""``NIST36``: the course's 36-class character files, ``nist36_{train,valid,test}.mat``.

Each file holds ``<split>_data``, float rows of 1024 pixels (32×32 images, dark ink 0 on white paper 1,
stored column by column: each row is the image transposed, which is why the course transposes its crops),
and ``<split>_labels``, one-hot rows over the 36 classes A–Z, 0–9. They are read with
``scipy.io.loadmat`` (``pip install "minidl[ocr]"``), which reads MATLAB files without running code.

The dataset gives the images upright (``transpose=True`` undoes the column order) as uint8 ``data``
(N, 32, 32), ``round(255 x)``, so that it works like every minidl image dataset (DataLoader fast path,
``minidl train``, normalisation); 8-bit quantisation moves a pixel by at most 1/510. The file's exact
arrays stay available for the homework code as ``x`` (float64 (N, 1024), as stored) and ``y`` (one-hot
(N, 36)).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .._optional import require
from ..errors import DataError
from .base import ImageArrayDataset

__all__ = ["NIST36", "NIST36_CLASSES"]

NIST36_CLASSES = [chr(c) for c in range(ord("A"), ord("Z") + 1)] + [str(d) for d in range(10)]
_FILE_SPLITS = {"train": "train", "val": "valid", "valid": "valid", "test": "test"}


class NIST36(ImageArrayDataset):
    """One split of the NIST36 ``.mat`` files in ``root``.

    Args:
        root: the folder holding ``nist36_train.mat``, ``nist36_valid.mat`` and ``nist36_test.mat``.
        split: ``"train"``, ``"val"`` (or ``"valid"``) or ``"test"``.
        transform, target_transform: as for every image dataset (default: float32 (1, 32, 32) in [0, 1]).
        transpose: give the images upright (default); False keeps the file's column order.
    """

    classes = NIST36_CLASSES

    def __init__(self, root: str | os.PathLike, split: str = "train", transform: Callable | None = None,
                 target_transform: Callable | None = None, transpose: bool = True) -> None:
        if split not in _FILE_SPLITS:
            raise ValueError(f"NIST36: split must be 'train', 'val' or 'test', got {split!r}")
        name = _FILE_SPLITS[split]
        path = Path(root).expanduser() / f"nist36_{name}.mat"
        if not path.is_file():
            raise FileNotFoundError(f"NIST36: {path} not found (expected the course's nist36_{name}.mat in "
                                    f"{Path(root).expanduser()})")
        sio = require("scipy.io", "SciPy", "ocr", "reading MATLAB .mat files")
        unreadable = (ValueError, OSError, TypeError, NotImplementedError, sio.matlab.MatReadError)
        try:
            contents = sio.loadmat(str(path))
        except unreadable as e:
            raise DataError(f"NIST36: {path} is not a readable MATLAB file: {e}") from None
        keys = (f"{name}_data", f"{name}_labels")
        missing = [k for k in keys if k not in contents]
        if missing:
            found = sorted(k for k in contents if not k.startswith("__"))
            raise DataError(f"NIST36: {path} has no {missing} (it holds {found})")
        x = np.asarray(contents[keys[0]], dtype=np.float64)
        y = np.asarray(contents[keys[1]])
        k = len(NIST36_CLASSES)
        if x.ndim != 2 or x.shape[1] != 1024:
            raise DataError(f"NIST36: {path}: {keys[0]} must be (N, 1024) rows of 32x32 images, got {x.shape}")
        if y.shape != (len(x), k) or not np.all((y == 0) | (y == 1)) or not np.all(y.sum(axis=1) == 1):
            raise DataError(f"NIST36: {path}: {keys[1]} must be one-hot rows ({len(x)}, {k}), got shape {y.shape}")
        if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1:
            raise DataError(f"NIST36: {path}: pixels must lie in [0, 1], got [{np.nanmin(x)}, {np.nanmax(x)}]")
        self.split, self.root, self.x, self.y = split, Path(root), x, y.astype(np.float64)
        images = x.reshape(-1, 32, 32)
        if transpose:
            images = images.transpose(0, 2, 1)
        data = np.round(255.0 * images).astype(np.uint8)
        super().__init__(data, y.argmax(axis=1).astype(np.int64), transform, target_transform, source=path)
