"""``ImageFolder``: one sub-folder per class, image files read with Pillow (optional extra ``images``);
:func:`load_image_folder`: a split of such a folder decoded into memory, for training runs."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..transforms._image import pillow
from ..utils.data.dataset import Dataset
from .base import transformed

__all__ = ["ImageFolder", "pil_loader", "IMG_EXTENSIONS", "load_image_folder"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")


def pil_loader(path: str | os.PathLike) -> Any:
    """The image at ``path`` as an RGB PIL image, read in full (grayscale and palette images are converted),
    as torchvision's loader gives it."""
    with pillow().open(path) as im:
        return im.convert("RGB")


class ImageSamples(Dataset):
    """A dataset of ``samples``, (image path, target) pairs, each image decoded by ``loader`` when indexed and
    passed through ``transform`` (the target through ``target_transform``); the image folders derive from it."""

    samples: list[tuple[str, Any]]
    root: Any
    loader: Callable[[str], Any]
    transform: Callable[[Any], Any] | None
    target_transform: Callable[[Any], Any] | None

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        path, target = self.samples[index]
        return transformed(self.loader(path), target, self.transform, self.target_transform)

    def __repr__(self) -> str:
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Root location: {self.root}")


class ImageFolder(ImageSamples):
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



SPLIT_FOLDERS = {True: ("train",), False: ("test", "val")}


def load_image_folder(root: str | os.PathLike, train: bool = True, image_size: int | None = None) -> Any:
    """One split of an image-classification folder as an in-memory :class:`ImageArrayDataset` (uint8
    (N, H, W, 3) RGB images), what a training run needs: ``root/train/<class>/...`` for ``train=True``,
    ``root/test/<class>/...`` (or ``root/val/``) otherwise, decoded once with Pillow.

    Images must share one size, or ``image_size`` gives one: the shorter side is resized to it (bilinear)
    and the centre square cropped. The two splits must have the same classes.
    """
    from .base import ImageArrayDataset

    base = Path(root).expanduser()
    split = next((base / s for s in SPLIT_FOLDERS[train] if (base / s).is_dir()), None)
    if split is None:
        wanted = " or ".join(f"{base / s}" for s in SPLIT_FOLDERS[train])
        raise FileNotFoundError(f"image folder {base}: no {wanted} folder (one sub-folder per class inside)")
    folder = ImageFolder(split)
    if not train:
        other = next((base / s for s in SPLIT_FOLDERS[True] if (base / s).is_dir()), None)
        train_classes = ImageFolder(other).classes if other is not None else folder.classes
        if train_classes != folder.classes:
            raise ValueError(f"image folder {base}: the splits have different classes: {train_classes} and "
                             f"{folder.classes}")
    images = []
    for path, _ in folder.samples:
        im = pil_loader(path)
        if image_size is not None:
            im = _square(im, image_size)
        images.append(np.asarray(im, dtype=np.uint8))
    sizes = {a.shape for a in images}
    if len(sizes) > 1:
        raise ValueError(f"image folder {split}: the images have {len(sizes)} different sizes (e.g. "
                         f"{sorted(sizes)[:3]}); give an image size to resize them to")
    data = ImageArrayDataset(np.stack(images), np.asarray(folder.targets, dtype=np.int64), source=split)
    data.classes = list(folder.classes)
    return data


def _square(im: Any, size: int) -> Any:
    """The shorter side resized to ``size`` (bilinear), then the centre ``size`` × ``size`` crop."""
    w, h = im.size
    scale = size / min(w, h)
    im = im.resize((max(size, round(w * scale)), max(size, round(h * scale))), pillow().BILINEAR)
    w, h = im.size
    left, top = (w - size) // 2, (h - size) // 2
    return im.crop((left, top, left + size, top + size))
