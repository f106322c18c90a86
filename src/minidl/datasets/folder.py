"""``ImageFolder``: one sub-folder per class, image files read with Pillow (optional extra ``images``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..transforms._image import pillow
from ..utils.data.dataset import Dataset
from .base import transformed

__all__ = ["ImageFolder", "pil_loader", "IMG_EXTENSIONS"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")


def pil_loader(path: str | os.PathLike) -> Any:
    """The image at ``path`` as an RGB PIL image, read in full (grayscale and palette images are converted),
    as torchvision's loader gives it."""
    with pillow().open(path) as im:
        return im.convert("RGB")


class ImageFolder(Dataset):
    """Images arranged as ``root/<class>/**/<file>``; classes are the sub-folder names, sorted.

    ``ds[i]`` is ``(image, class index)``: ``transform(loader(path))`` if a transform is given, else
    a float32 (3, H, W) Tensor in [0, 1] (torchvision would return the PIL image). The default loader
    returns an RGB PIL image, as torchvision's, so transforms behave exactly as there; pass ``loader`` to
    read other formats. Attributes as in torchvision: ``classes``, ``class_to_idx``,
    ``samples`` (list of (path, class index)), ``imgs`` (same), ``targets``.
    """

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 target_transform: Callable | None = None, loader: Callable[[str], Any] | None = None,
                 extensions: Sequence[str] = IMG_EXTENSIONS) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"ImageFolder: {self.root} is not a folder")
        if loader is None:
            pillow()  # fail now, not at the first sample
            loader = pil_loader
        exts = tuple(e.lower() for e in extensions)
        self.classes = sorted(e.name for e in os.scandir(self.root) if e.is_dir())
        if not self.classes:
            raise FileNotFoundError(f"ImageFolder: no class sub-folders in {self.root}")
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        samples: list[tuple[str, int]] = []
        for c in self.classes:
            found = sorted(
                os.path.join(dirpath, f)
                for dirpath, _, names in os.walk(self.root / c, followlinks=True)
                for f in names
                if f.lower().endswith(exts)
            )
            if not found:
                raise FileNotFoundError(
                    f"ImageFolder: class folder {self.root / c} holds no file with extension {list(exts)}"
                )
            samples += [(p, self.class_to_idx[c]) for p in found]
        self.samples = samples
        self.imgs = samples
        self.targets = [t for _, t in samples]
        self.loader = loader
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        path, target = self.samples[index]
        return transformed(self.loader(path), target, self.transform, self.target_transform)

    def __repr__(self) -> str:
        return f"Dataset ImageFolder\n    Number of datapoints: {len(self)}\n    Root location: {self.root}"
