"""In-memory image datasets: the common base of MNIST, Fashion-MNIST, CIFAR-10 and the embedded set."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np

from ..transforms import ToTensor, is_batchable
from ..utils.data.dataset import BatchFetcher, Dataset

__all__ = ["ImageArrayDataset"]

_TO_TENSOR = ToTensor()


def transformed(img: Any, target: Any, transform: Callable[[Any], Any] | None,
                target_transform: Callable[[Any], Any] | None) -> tuple[Any, Any]:
    """A sample as the image datasets return it: ``transform(img)`` (``ToTensor()`` when there is none) and
    ``target_transform(target)`` (the target itself when there is none)."""
    img = transform(img) if transform is not None else _TO_TENSOR(img)
    return img, target if target_transform is None else target_transform(target)


class ImageArrayDataset(Dataset):
    """Images in one uint8 array ``data`` of shape (N, H, W) or (N, H, W, C), labels in int64 ``targets``.

    ``ds[i]`` is ``(image, label)``: ``transform(data[i])`` if a transform is given, else the default
    conversion :class:`~minidl.transforms.ToTensor` (float32 (C, H, W) in [0, 1]); the label is a Python
    int, passed through ``target_transform`` if given. When both transforms are batchable (or absent),
    the DataLoader gathers whole batches with one fancy index (:meth:`batch_fetcher`).
    """

    classes: list[str] = []

    def __init__(self, data: np.ndarray, targets: np.ndarray, transform: Callable | None = None,
                 target_transform: Callable | None = None, source: object = None) -> None:
        # ``source`` (the files the arrays came from) is named in error messages
        name = type(self).__name__ if source is None else f"{type(self).__name__} ({source})"
        if data.dtype != np.uint8 or data.ndim not in (3, 4):
            raise ValueError(
                f"{name}: images must be uint8 (N, H, W) or (N, H, W, C), got {data.dtype} {data.shape}"
            )
        if targets.ndim != 1 or len(targets) != len(data):
            raise ValueError(f"{name}: {len(data)} images but labels of shape {targets.shape}")
        if self.classes and len(targets) and (targets.min() < 0 or targets.max() >= len(self.classes)):
            raise ValueError(
                f"{name}: labels must lie in [0, {len(self.classes)}), "
                f"got range [{targets.min()}, {targets.max()}]"
            )
        self.data = data
        self.targets = targets.astype(np.int64, copy=False)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return transformed(self.data[index], int(self.targets[index]), self.transform, self.target_transform)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All images as float32 (N, C, H, W) in [0, 1] and labels as int64 (N,), ignoring the transforms."""
        return _TO_TENSOR.batch(self.data).numpy(), self.targets

    def batch_fetcher(self) -> BatchFetcher | None:
        transform = self.transform if self.transform is not None else _TO_TENSOR
        target_transform = self.target_transform
        if not is_batchable(transform) or not (target_transform is None or is_batchable(target_transform)):
            return None
        data, targets = self.data, self.targets

        def fetch(idx: np.ndarray) -> tuple[Any, Any]:
            y = targets[idx]
            # both are batchable (checked above): Transforms with a batch form
            batched = cast(Any, transform).batch(data[idx])
            return batched, (y if target_transform is None else cast(Any, target_transform).batch(y))

        return fetch

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}"]
        split = getattr(self, "train", None)
        if split is not None:
            lines.append(f"    Split: {'Train' if split else 'Test'}")
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)
