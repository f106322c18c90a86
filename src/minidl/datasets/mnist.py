"""MNIST and Fashion-MNIST from their standard IDX ``.gz`` files.

Files are searched as described in :mod:`minidl.datasets.download` (``<root>/<name>/``,
``$MINIDL_DATA/<name>/``, ``~/.cache/minidl/<name>/``, ``/usr/share/datasets/<name>/``, with ``name``
``"mnist"`` or ``"fashion-mnist"``) and downloaded from ``mirrors`` when missing and ``download=True``.

Checksums: the official publishers give MD5 sums of the ``.gz`` files (Zalando's Fashion-MNIST README,
torchvision's lists), and those are what ``resources`` holds. SHA-256 sums cannot be derived from
Debian's ``dataset-fashion-mnist`` copies: Debian re-wrote the gzip headers (no file name, a 2020 mtime),
so those files differ byte-wise from the official ones (same images). Files found on disk are not hashed;
the IDX reader validates their structure instead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .base import ImageArrayDataset
from .download import download_file, locate
from .idx import read_idx

__all__ = ["MNIST", "FashionMNIST"]


class MNIST(ImageArrayDataset):
    """The MNIST digits: 60,000 training and 10,000 test images, uint8 (N, 28, 28).

    Args:
        root: a folder to look in first (and to download into), see the module docstring.
        train: the training split, else the test split.
        transform: applied to each uint8 (28, 28) image; default: float32 (1, 28, 28) in [0, 1].
        target_transform: applied to each int label.
        download: fetch missing files from ``mirrors`` (checked against ``resources``).

    Attributes: ``data`` (uint8, read-only), ``targets`` (int64), ``classes``, ``class_to_idx``;
    ``arrays()`` gives float32 (N, 1, 28, 28) images and int64 labels for whole-set use.
    """

    #: folder name under each data root.
    name = "mnist"
    #: torchvision's layout, also accepted under ``root``.
    aliases = ("MNIST/raw",)
    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/"]
    #: (file name, checksum): a SHA-256 hex digest, or ``"md5:<hex>"``.
    resources = [
        ("train-images-idx3-ubyte.gz", "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "md5:d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "md5:9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "md5:ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]  # fmt: skip

    def __init__(self, root: str | Path | None = None, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = True) -> None:
        self.train = bool(train)
        prefix = "train" if self.train else "t10k"
        files = [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"]
        checksums = dict(self.resources)

        def fetch(folder: Path) -> None:
            for f in files:
                if not (folder / f).is_file():
                    download_file(f, checksums.get(f), self.mirrors, folder)

        self.root = locate(self.name, files, root, download, fetch, self.aliases)
        images = read_idx(self.root / files[0], ndim=3, dtype=np.uint8)
        labels = read_idx(self.root / files[1], ndim=1, dtype=np.uint8)
        if len(images) != len(labels):
            raise ValueError(
                f"{type(self).__name__}: {self.root / files[0]} holds {len(images)} images but "
                f"{self.root / files[1]} holds {len(labels)} labels"
            )
        super().__init__(images, labels, transform, target_transform, source=self.root / files[1])


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: same format and sizes as MNIST, 10 clothing classes."""

    name = "fashion-mnist"
    aliases = ("FashionMNIST/raw",)
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "md5:25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "md5:bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "md5:bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]  # fmt: skip
