"""``Digits``: scikit-learn's bundled handwritten digits (UCI optdigits test set), a small offline MNIST.

1,797 real handwritten digits, 8×8 pixels of 17 grey levels (0–16), shipped inside scikit-learn
(``pip install "minidl[digits]"``), so no download is needed. The split is stratified and fixed by
``seed``: in each class, a ``test_fraction`` of the images (rounded) chosen by a permutation from
``numpy.random.default_rng(seed)`` is the test split. Pixels are stored as uint8 ``round(255 v / 16)``
(an exact one-to-one map of the 17 levels), so ``ToTensor`` gives ``v / 16`` to within 1/510.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._optional import require
from .base import ImageArrayDataset

__all__ = ["Digits"]


class Digits(ImageArrayDataset):
    """The train or test split of scikit-learn's digits: uint8 ``data`` (N, 8, 8), ``targets`` 0–9.

    Args:
        train: the training split, else the test split.
        test_fraction: share of each class held out for testing (default 0.2).
        seed: seed of the split.
        transform, target_transform: as for every image dataset (default: float32 (1, 8, 8) in [0, 1]).
    """

    classes = [str(d) for d in range(10)]

    def __init__(self, train: bool = True, test_fraction: float = 0.2, seed: int = 0,
                 transform: Callable | None = None, target_transform: Callable | None = None) -> None:
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"Digits: test_fraction must be in (0, 1), got {test_fraction}")
        sk_datasets = require("sklearn.datasets", "scikit-learn", "digits", "the Digits dataset")
        bunch = sk_datasets.load_digits()
        images = np.asarray(bunch.images)
        labels = np.asarray(bunch.target, dtype=np.int64)
        rng = np.random.default_rng(seed)
        test = np.zeros(len(labels), bool)
        for c in range(10):
            members = np.flatnonzero(labels == c)
            test[rng.permutation(members)[: int(round(test_fraction * len(members)))]] = True
        keep = ~test if train else test
        self.train = bool(train)
        data = np.round(images[keep] * (255.0 / 16.0)).astype(np.uint8)
        super().__init__(data, labels[keep], transform, target_transform, source="scikit-learn load_digits")
