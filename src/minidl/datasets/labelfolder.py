"""``ImageLabelFolder``: a folder of images and their labels kept apart (the course's gaze-data layout).

Two layouts are read::

    root/Image/0001.png          root/Image/0001.png
    root/Image/0002.png          root/Image/0002.png
    root/Label/0001.txt          root/labels.csv        (rows "0001.png,3"; a header row is allowed)
    root/Label/0002.txt

``labels`` names either a folder holding one text file per image (same stem, ``.txt``, the label as its
content) or a CSV file of ``file,label`` rows (the file named with or without its extension; a first row
naming no image is taken for a header). Labels that are all integers are class indices (classes ``"0"``,
``"1"``, ...); otherwise they are class names, numbered in sorted order. Every image needs a label, and
every CSV row must name an image: anything else is a :class:`~minidl.errors.DataError` naming the file.

Images are read with Pillow (``pip install "minidl[images]"``) when a sample is asked for; greyscale files
stay one-channel, others become RGB. :func:`write_image_label_folder` writes a dataset in either layout.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_path, atomic_write_text
from ..errors import DataError
from ..transforms._image import open_image, pillow
from .folder import IMG_EXTENSIONS, ImageSamples

__all__ = ["ImageLabelFolder", "write_image_label_folder", "read_image"]

_GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")


def read_image(path: str | os.PathLike) -> np.ndarray:
    """The image at ``path`` as uint8: (H, W) for greyscale files, (H, W, 3) RGB for the others."""
    with open_image(path) as im:
        if im.mode in ("I", "I;16", "F"):  # 16-bit or float greyscale: scale to 8 bits
            a = np.asarray(im, dtype=np.float64)
            return np.round(255.0 * a / max(float(a.max()), 1.0)).astype(np.uint8)
        return np.asarray(im.convert("L" if im.mode in _GREY_MODES else "RGB"))


def _read_label_files(folder: Path, images: list[Path]) -> list[str]:
    labels = []
    for img in images:
        txt = folder / f"{img.stem}.txt"
        if not txt.is_file():
            raise DataError(f"ImageLabelFolder: no label for {img}: {txt} does not exist")
        text = txt.read_text(encoding="utf-8").strip()
        if not text:
            raise DataError(f"ImageLabelFolder: label file {txt} is empty")
        labels.append(text.split()[0])
    return labels


def _read_label_csv(path: Path, images: list[Path]) -> list[str]:
    by_name: dict[str, int] = {}
    for i, img in enumerate(images):
        by_name[img.name] = i
        by_name.setdefault(img.stem, i)
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    if rows and rows[0][0].strip() not in by_name:
        rows = rows[1:]  # a header
    labels: list[str | None] = [None] * len(images)
    for line, row in enumerate(rows, start=1):
        if len(row) < 2:
            raise DataError(f"ImageLabelFolder: {path} row {line} {row!r}: expected 'file,label'")
        name, label = row[0].strip(), row[1].strip()
        if name not in by_name:
            raise DataError(f"ImageLabelFolder: {path} row {line} names {name!r}, which is not an image in "
                            f"{images[0].parent if images else path.parent}")
        labels[by_name[name]] = label
    missing = [str(images[i]) for i, v in enumerate(labels) if v is None]
    if missing:
        raise DataError(f"ImageLabelFolder: {len(missing)} image(s) have no row in {path}, e.g. {missing[0]}")
    return [str(v) for v in labels]


class ImageLabelFolder(ImageSamples):
    """Images in ``root/images`` with labels in ``root/labels`` (a folder of ``.txt`` files or a CSV file).

    ``ds[i]`` is ``(image, label index)``: ``transform(image)`` if given, else float32 (C, H, W) in [0, 1];
    the image as uint8 (H, W) or (H, W, 3) from ``loader`` (default :func:`read_image`). Attributes:
    ``classes``, ``class_to_idx``, ``samples`` (list of (path, index)), ``targets``.
    """

    def __init__(self, root: str | os.PathLike, images: str = "Image", labels: str = "Label",
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 loader: Callable[[str], Any] | None = None, extensions: Sequence[str] = IMG_EXTENSIONS) -> None:
        self.root = Path(root).expanduser()
        image_dir, label_path = self.root / images, self.root / labels
        if not image_dir.is_dir():
            raise FileNotFoundError(f"ImageLabelFolder: image folder {image_dir} does not exist")
        if loader is None:
            pillow()  # fail now, not at the first sample
            loader = read_image
        exts = tuple(e.lower() for e in extensions)
        files = sorted(p for p in image_dir.iterdir() if p.is_file() and p.suffix.lower() in exts)
        if not files:
            raise FileNotFoundError(f"ImageLabelFolder: no image ({', '.join(exts)}) in {image_dir}")
        if label_path.is_dir():
            raw = _read_label_files(label_path, files)
        elif label_path.is_file():
            raw = _read_label_csv(label_path, files)
        else:
            raise FileNotFoundError(f"ImageLabelFolder: labels {label_path} are neither a folder of .txt files "
                                    "nor a CSV file")
        if all(r.lstrip("-").isdigit() for r in raw):
            ints = [int(r) for r in raw]
            if min(ints) < 0:
                raise DataError(f"ImageLabelFolder: integer labels must be >= 0, got {min(ints)} in {label_path}")
            self.classes = [str(i) for i in range(max(ints) + 1)]
            targets = ints
        else:
            self.classes = sorted(set(raw))
            targets = [self.classes.index(r) for r in raw]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self.samples = [(str(p), t) for p, t in zip(files, targets, strict=True)]
        self.targets = targets
        self.loader = loader
        self.transform = transform
        self.target_transform = target_transform



def write_image_label_folder(images: np.ndarray, labels: Sequence[Any], root: str | os.PathLike,
                             images_dir: str = "Image", labels_to: str = "Label") -> Path:
    """Write uint8 ``images`` (N, H, W) or (N, H, W, 3) as PNG files ``root/images_dir/00000.png``, ... and
    their ``labels``: one ``.txt`` per image in the folder ``root/labels_to``, or, when ``labels_to`` ends
    in ``.csv``, one CSV file of ``file,label`` rows with a header. Every file is written atomically."""
    image_module = pillow()
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim not in (3, 4) or len(images) != len(labels):
        raise DataError(f"write_image_label_folder: expected uint8 images (N, H, W[, 3]) and N labels, got "
                        f"{images.dtype} {images.shape} and {len(labels)} labels")
    root = Path(root)
    (root / images_dir).mkdir(parents=True, exist_ok=True)
    width = max(5, len(str(len(images) - 1)))
    names = [f"{i:0{width}d}.png" for i in range(len(images))]
    for name, img in zip(names, images, strict=True):
        with atomic_path(root / images_dir / name) as tmp:
            image_module.fromarray(img).save(tmp, format="PNG")
    if labels_to.lower().endswith(".csv"):
        rows = ["file,label"] + [f"{n},{lab}" for n, lab in zip(names, labels, strict=True)]
        atomic_write_text(root / labels_to, "\n".join(rows) + "\n")
    else:
        for name, lab in zip(names, labels, strict=True):
            atomic_write_text(root / labels_to / f"{Path(name).stem}.txt", f"{lab}\n")
    return root
