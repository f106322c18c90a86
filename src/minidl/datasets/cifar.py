"""CIFAR-10 from the official *binary* distribution (no pickle anywhere).

``cifar-10-binary.tar.gz`` unpacks to ``cifar-10-batches-bin/`` with ``data_batch_1.bin`` ...
``data_batch_5.bin`` (training) and ``test_batch.bin``. Each file is a run of 3073-byte records: one
label byte (0-9), then 3072 pixel bytes, the 1024 red, 1024 green and 1024 blue values of a 32x32 image
in row-major order, i.e. one (3, 32, 32) CHW image.

The archive is verified against the MD5 published on the dataset's page,
``c32a1d4ab5d03f1284b67883e8d87530`` (the only checksum its authors publish), and unpacked with
:func:`minidl.datasets.download.safe_extract_tar`, which rejects any member escaping the folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .base import ImageArrayDataset
from .download import download_file, locate, safe_extract_tar

__all__ = ["CIFAR10", "read_cifar_batch"]

_RECORD = 1 + 3 * 32 * 32


def read_cifar_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One binary batch file as uint8 images (N, 3, 32, 32) and int64 labels (N,).

    Raises ``ValueError`` naming the file if its size is not a whole number of records or a label is not
    in 0-9.
    """
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % _RECORD:
        raise ValueError(
            f"{path}: not a CIFAR-10 binary batch: {raw.size} bytes is not a positive multiple of the "
            f"{_RECORD}-byte record (1 label byte + 3072 pixel bytes)"
        )
    records = raw.reshape(-1, _RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise ValueError(f"{path}: corrupt CIFAR-10 batch: label {labels.max()} is not in 0-9")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


class CIFAR10(ImageArrayDataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images of 32x32 pixels, 10 classes.

    ``data`` is uint8 (N, 32, 32, 3), HWC as in torchvision (a view of the CHW records, no copy);
    ``transform`` receives one such HWC image, and the default conversion gives float32 (3, 32, 32) in
    [0, 1]. Files are searched like the other datasets (folder name ``cifar10``, each holding
    ``cifar-10-batches-bin/``); ``download=True`` fetches and unpacks the archive when they are missing.
    """

    name = "cifar10"
    aliases: tuple[str, ...] = ()
    base_folder = "cifar-10-batches-bin"
    mirrors = ["https://www.cs.toronto.edu/~kriz/"]
    archive = ("cifar-10-binary.tar.gz", "md5:c32a1d4ab5d03f1284b67883e8d87530")
    train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list = ["test_batch.bin"]
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(self, root: str | Path | None = None, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        self.train = bool(train)
        files = [f"{self.base_folder}/{f}" for f in (self.train_list if self.train else self.test_list)]

        def fetch(folder: Path) -> None:
            name, checksum = self.archive
            tarball = download_file(name, checksum, self.mirrors, folder)
            safe_extract_tar(tarball, folder)
            tarball.unlink()

        self.root = locate(self.name, files, root, download, fetch, self.aliases)
        parts = [read_cifar_batch(self.root / f) for f in files]
        chw = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        labels = np.concatenate([p[1] for p in parts])
        # HWC view of the CHW records, like torchvision's ``data``; ToTensor moves the axis back
        super().__init__(chw.transpose(0, 2, 3, 1), labels, transform, target_transform, source=self.root)
