"""Pretrained ImageNet models from the command line: ``minidl predict --model NAME --weights W IMAGE|DIR ...``.

The model is a zoo classifier (:data:`minidl.models.IMAGENET_MODELS`) with weights from a file or a weights
table entry (downloaded by :mod:`minidl.hub`). Images get the weights' evaluation preprocessing, torchvision's
standard ImageNet one: the shorter side resized to 256 (bilinear, antialiased), a 224×224 centre crop, scaling
to [0, 1] and normalisation with the ImageNet mean and standard deviation. Class names are the 1000 ImageNet
categories for a 1000-class model; a file from a minidl run directory uses its run's class names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import models
from ..datasets.folder import IMG_EXTENSIONS, pil_loader
from ..models._pretrained import head_name
from ..models.weights import Weights, get_weights, imagenet_categories, is_weights_file
from ..nn import Module
from ..training import predict
from . import artifacts as A
from .analysis import Prediction, top_classes
from .build import RunError

__all__ = ["load_pretrained", "image_paths", "predict_images", "as_json"]


def load_pretrained(name: str, weights: str | os.PathLike | None) -> tuple[Module, Weights, list[str]]:
    """The zoo model ``name`` with ``weights`` loaded, the table entry whose preprocessing its inputs get (the
    named entry, or the model's default for a file) and its class names."""
    if name not in models.IMAGENET_MODELS:
        raise RunError(f"unknown pretrained model {name!r}; available: {', '.join(models.IMAGENET_MODELS)}")
    if weights is None:
        raise RunError(f"--model {name} needs --weights: a .pth/.safetensors/.npz file or a weights name "
                       f"({', '.join(models.list_weights(name))})")
    try:
        model = models.IMAGENET_MODELS[name](weights=weights)
        entry = get_weights("DEFAULT" if is_weights_file(weights) else str(weights), name)
    except (ValueError, OSError) as e:  # unknown name, a file that does not fit, a failed download
        raise RunError(f"--weights {weights}: {e}") from None
    n = model.num_classes if hasattr(model, "num_classes") else _outputs(model)
    return model.eval(), entry, _class_names(weights, n)


def _outputs(model: Module) -> int:
    return int(model.get_submodule(head_name(model)).weight.shape[0])


def _class_names(weights: Any, n: int) -> list[str]:
    if n == 1000:
        return list(imagenet_categories())
    if is_weights_file(weights):  # a model file of a minidl run directory: the run knows its classes
        meta = Path(weights).expanduser().parent / A.RUN_JSON
        if meta.is_file():
            classes = A.read_json(meta).get("classes")
            if isinstance(classes, list) and len(classes) == n:
                return [str(c) for c in classes]
    return [f"class {i}" for i in range(n)]


def image_paths(inputs: Sequence[str]) -> list[Path]:
    """The image files named, with every image in a named folder (recursively, sorted)."""
    out: list[Path] = []
    for raw in inputs:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMG_EXTENSIONS)
            if not found:
                raise RunError(f"{raw}: the folder holds no image ({', '.join(IMG_EXTENSIONS)})")
            out += found
        elif p.is_file():
            out.append(p)
        else:
            raise RunError(f"{raw}: no such file or folder")
    return out


def predict_images(name: str, weights: str | os.PathLike | None, inputs: Sequence[str], topk: int = 5,
                   batch_size: int = 16) -> list[Prediction]:
    """The ``topk`` most probable classes of each image (files, or folders of images)."""
    if topk < 1:
        raise RunError(f"--topk must be >= 1, got {topk}")
    model, entry, classes = load_pretrained(name, weights)
    preprocess = entry.transforms()
    paths = image_paths(inputs)
    batch = []
    for p in paths:
        try:
            batch.append(preprocess(pil_loader(p)).numpy())
        except OSError as e:  # not an image Pillow can read
            raise RunError(f"{p}: cannot read the image: {e}") from None
    probs = predict(model, np.stack(batch), batch_size=batch_size, probs=True)
    return top_classes(probs, [str(p) for p in paths], classes, topk)


def as_json(predictions: Sequence[Prediction]) -> str:
    """The predictions as JSON: ``[{"image": ..., "top": [{"label", "index", "probability"}, ...]}, ...]``."""
    return json.dumps([{"image": p.source, "top": [{"label": label, "index": index, "probability": prob}
                                                   for (label, prob), index in zip(p.top, p.indices, strict=True)]}
                       for p in predictions], indent=2)
