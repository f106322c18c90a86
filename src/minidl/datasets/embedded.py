"""The embedded default dataset: a stratified Fashion-MNIST subset shipped inside the package.

5,000 training images (500 per class) from the official training split and 1,000 test images (100 per
class) from the official test split, stored in ``minidl/datasets/data/`` as gzipped IDX files read by the
same :func:`~minidl.datasets.idx.read_idx` as the full dataset, so it loads offline in milliseconds.

Selection (deterministic, and independent of NumPy's random streams, which may change between NumPy
versions): within each split and class, the images whose key ``sha256(f"{SEED}:{split}:{index}")``
(first 8 bytes, big-endian) is smallest, then sorted by their index in the official split. Those indices
are shipped too (``source_indices``), and ``fashion-mnist-small.json`` records the seed, the SHA-256 of
the source payloads (decompressed IDX bytes) and the SHA-256 of every shipped file, checked at load.

Built by ``scripts/build_embedded_dataset.py`` (which calls :func:`build`) from the full dataset.
Fashion-MNIST is (c) Zalando SE, MIT licence.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .._atomic import atomic_write_text
from .base import ImageArrayDataset
from .download import file_digest
from .idx import read_idx, write_idx
from .mnist import FashionMNIST

__all__ = [
    "FashionMNISTSmall", "load_embedded", "select_stratified", "build", "manifest",
    "DATA_DIR", "SEED", "PER_CLASS",
]  # fmt: skip

DATA_DIR = Path(__file__).resolve().parent / "data"
PREFIX = "fashion-mnist-small"
MANIFEST = f"{PREFIX}.json"
SEED = 20240917
#: images per class, per official split ("train" / "t10k").
PER_CLASS = {"train": 500, "t10k": 100}


def _files(split: str) -> dict[str, str]:
    return {
        "images": f"{PREFIX}-{split}-images-idx3-ubyte.gz",
        "labels": f"{PREFIX}-{split}-labels-idx1-ubyte.gz",
        "indices": f"{PREFIX}-{split}-indices-idx1-int32.gz",
    }


def _key(seed: int, split: str, index: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{split}:{index}".encode()).digest()[:8], "big")


def select_stratified(labels: np.ndarray, per_class: int, split: str, seed: int = SEED) -> np.ndarray:
    """Indices of ``per_class`` samples of every class in ``labels``, sorted (see the module docstring)."""
    keys = np.fromiter((_key(seed, split, i) for i in range(len(labels))), dtype=np.uint64, count=len(labels))
    picks = []
    for c in np.unique(labels):
        pool = np.flatnonzero(labels == c)
        if len(pool) < per_class:
            raise ValueError(f"select_stratified: class {c} has {len(pool)} samples, fewer than {per_class}")
        picks.append(pool[np.argsort(keys[pool], kind="stable")[:per_class]])
    return np.sort(np.concatenate(picks)).astype(np.int64)


def build(source_dir: str | os.PathLike, out_dir: str | os.PathLike = DATA_DIR,
          per_class: dict[str, int] | None = None, seed: int = SEED) -> dict:
    """Write the embedded subset of the Fashion-MNIST IDX files in ``source_dir`` into ``out_dir``.

    Returns (and writes as ``fashion-mnist-small.json``) the manifest.
    """
    source_dir, out_dir = Path(source_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    per_class = dict(PER_CLASS if per_class is None else per_class)
    manifest: dict = {
        "name": PREFIX,
        "source": "Fashion-MNIST (c) Zalando SE, MIT licence: official train and t10k splits",
        "selection": "per split and class, the images with the smallest "
        "int.from_bytes(sha256(f'{seed}:{split}:{index}').digest()[:8], 'big'), sorted by index",
        "seed": seed,
        "per_class": per_class,
        "source_payload_sha256": {},
        "files": {},
    }
    for split, k in per_class.items():
        names = {"images": f"{split}-images-idx3-ubyte.gz", "labels": f"{split}-labels-idx1-ubyte.gz"}
        for name in names.values():
            with open(source_dir / name, "rb") as f:
                payload = gzip.decompress(f.read())
            manifest["source_payload_sha256"][name.removesuffix(".gz")] = hashlib.sha256(payload).hexdigest()
        images = read_idx(source_dir / names["images"], ndim=3, dtype=np.uint8)
        labels = read_idx(source_dir / names["labels"], ndim=1, dtype=np.uint8)
        idx = select_stratified(labels, k, split, seed)
        out = _files(split)
        write_idx(out_dir / out["images"], images[idx])
        write_idx(out_dir / out["labels"], labels[idx])
        write_idx(out_dir / out["indices"], idx.astype(np.int32))
    for split in per_class:
        for name in _files(split).values():
            manifest["files"][name] = file_digest(out_dir / name)
    atomic_write_text(out_dir / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return manifest


def manifest(data_dir: str | os.PathLike = DATA_DIR) -> dict:
    """The embedded set's manifest (seed, selection rule, per-file SHA-256)."""
    return json.loads((Path(data_dir) / MANIFEST).read_text())


class FashionMNISTSmall(ImageArrayDataset):
    """The embedded Fashion-MNIST subset: 5,000 train / 1,000 test images, balanced over the 10 classes.

    Same interface as :class:`~minidl.datasets.FashionMNIST` (``data``, ``targets``, ``classes``,
    ``arrays()``, default float32 (1, 28, 28) images), plus ``source_indices``: each image's index in the
    official split. Needs no network and no files outside the package.
    """

    classes = FashionMNIST.classes

    def __init__(self, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, data_dir: str | os.PathLike = DATA_DIR) -> None:
        self.train = bool(train)
        self.root = Path(data_dir)
        files = _files("train" if self.train else "t10k")
        expected = manifest(self.root)["files"]
        for name in files.values():
            digest = file_digest(self.root / name)
            if digest != expected.get(name):
                raise ValueError(
                    f"{self.root / name}: SHA-256 {digest} differs from the manifest's {expected.get(name)}: "
                    "the embedded data is corrupt; reinstall minidl or rerun "
                    "scripts/build_embedded_dataset.py"
                )
        images = read_idx(self.root / files["images"], ndim=3, dtype=np.uint8)
        labels = read_idx(self.root / files["labels"], ndim=1, dtype=np.uint8)
        self.source_indices = read_idx(self.root / files["indices"], ndim=1, dtype=np.int32).astype(np.int64)
        if not len(images) == len(labels) == len(self.source_indices):
            raise ValueError(f"{self.root}: embedded files disagree on the number of samples")
        super().__init__(images, labels, transform, target_transform, source=self.root / files["labels"])


def load_embedded(train: bool = True, transform: Callable | None = None,
                  target_transform: Callable | None = None) -> FashionMNISTSmall:
    """The embedded Fashion-MNIST subset (see :class:`FashionMNISTSmall`)."""
    return FashionMNISTSmall(train=train, transform=transform, target_transform=target_transform)
