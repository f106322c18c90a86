"""``minidl.datasets``: ready-made datasets (torchvision's names) and toy 2-D sets.

* :class:`FashionMNIST`, :class:`MNIST`: standard IDX ``.gz`` files, found on disk or downloaded
  (search order in :mod:`minidl.datasets.download`).
* :class:`CIFAR10`: the official binary format.
* :class:`ImageFolder`: one folder per class, read with Pillow (``pip install "minidl[images]"``).
* :class:`FashionMNISTSmall` / :func:`load_embedded`: a 6,000-image stratified Fashion-MNIST subset
  shipped in the package, for offline use and fast tests.
* :class:`SyntheticCharacters`: A–Z, 0–9 rendered from the machine's fonts, splits with disjoint fonts;
  :class:`SyntheticTextPage`: pages of printed text with ground truth, for OCR (``minidl[ocr]``).
* :class:`NIST36`: the course's ``nist36_*.mat`` character files (``minidl[ocr]``, for SciPy).
* :class:`ImageLabelFolder`: images in one folder, labels as ``.txt`` files or one CSV (the gaze layout).
* :class:`SyntheticGaze`: 36×120 eye images labelled with 4 gaze quadrants (NumPy only).
* :class:`Digits`: scikit-learn's bundled 8×8 handwritten digits (``minidl[digits]``).
* :func:`make_xor`, :func:`make_moons`, :func:`make_spirals`, :func:`make_blobs`: toy 2-D sets.
* :func:`get`: any of them by name.

The in-memory datasets return ``(float32 image (C, H, W) in [0, 1], int label)`` by default, and give
the DataLoader a batched fast path.
"""

from .base import ImageArrayDataset
from .characters import SyntheticCharacters
from .chartext import CharSequences, docstring_text
from .cifar import CIFAR10
from .digits import Digits
from .download import ChecksumError, DownloadError
from .embedded import FashionMNISTSmall, load_embedded
from .folder import ImageFolder
from .gaze import SyntheticGaze
from .idx import read_idx, write_idx
from .labelfolder import ImageLabelFolder, write_image_label_folder
from .mnist import MNIST, FashionMNIST
from .nist36 import NIST36
from .registry import available, get, register
from .textpage import SyntheticTextPage, TextPage, photo_like
from .toy import make_blobs, make_moons, make_spirals, make_xor

__all__ = [
    "ImageArrayDataset", "MNIST", "FashionMNIST", "CIFAR10", "ImageFolder", "FashionMNISTSmall",
    "load_embedded", "make_xor", "make_moons", "make_spirals", "make_blobs", "get", "register", "available",
    "read_idx", "write_idx", "DownloadError", "ChecksumError",
    "SyntheticCharacters", "SyntheticTextPage", "TextPage", "photo_like", "NIST36", "ImageLabelFolder",
    "write_image_label_folder", "SyntheticGaze", "Digits", "CharSequences", "docstring_text",
]  # fmt: skip
