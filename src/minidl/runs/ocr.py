"""Reading a page: :func:`minidl.vision.find_letters`, then a character classifier, then the text line by line.

The classifier is a run directory of ``minidl train`` whose classes are single characters (a model trained
on :class:`~minidl.datasets.SyntheticCharacters` or :class:`~minidl.datasets.NIST36`). Without one,
:func:`ready_model` gives the ready classifier: it loads the cached model, or trains it once and caches it.

**The ready model.** LeNet-5 trained with ``minidl train`` on ``SyntheticCharacters`` (the training fonts;
the held-out test fonts never), :data:`READY_EPOCHS` epochs with Adam and a cosine schedule. It lives in
``$MINIDL_CACHE/ocr/`` (default ``~/.cache/minidl/ocr/``) as an ordinary run directory (with its report),
named by :data:`READY_MODEL_VERSION`, the character generator's version, the seed and a hash of the
training settings, so a change of any of them trains a new one instead of reusing a stale model. It is
trained in a temporary folder beside its final place and renamed into place only when complete (a
directory rename is atomic), so an interrupted or concurrent training never leaves a half-written model
behind; when two processes train at once, the first to finish wins and the other's copy is discarded.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, cast

import numpy as np

from .._cache import cache_dir, cache_key
from ..errors import DataError
from ..tensor import Tensor
from ..training import predict
from ..transforms import Transform
from ..vision import find_letters, word_starts
from .analysis import load_run
from .build import eval_transform
from .config import resolve
from .train import train_run

__all__ = ["OCRResult", "read_text", "classify_crops", "ready_model", "ready_model_dir", "READY_MODEL_VERSION",
           "READY_EPOCHS"]

#: bump when the ready model's recipe changes, so cached models are retrained
READY_MODEL_VERSION = 1
READY_EPOCHS = 12
_READY_SETTINGS = {"model": "lenet5", "dataset": "synthetic-characters", "epochs": READY_EPOCHS, "batch_size": 64,
                   "optimizer": "adam", "scheduler": "cosine", "val_split": 0.1}


@dataclass
class OCRResult:
    """What was read on a page: the ``text`` (lines joined by newlines, words by spaces), its ``lines``, and
    per letter (reading order) its ``boxes`` (N, 4), ``line_ids``, recognised ``chars`` and their
    ``probs`` (the classifier's probability of the chosen class)."""

    text: str
    lines: list[str]
    boxes: np.ndarray
    line_ids: np.ndarray
    chars: list[str]
    probs: np.ndarray


def _input_size(run: Any) -> int:
    shape = tuple(run.input_shape)
    if run.task != "classification" or len(shape) != 3 or shape[0] != 1 or shape[1] != shape[2]:
        raise DataError(f"{run.run_dir}: a character classifier takes one-channel square images; this run's "
                        f"model ({run.config.model}, {run.task}) takes inputs of shape {list(shape)}")
    bad = [c for c in run.classes if len(c) != 1]
    if bad:
        raise DataError(f"{run.run_dir}: a character classifier's classes are single characters; this run's "
                        f"classes include {bad[:3]}")
    return int(shape[1])


def classify_crops(run: Any, crops: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The character and its probability for each crop (N, S, S) float in [0, 1] (ink dark, as
    :func:`find_letters` gives), with the run's model and its input normalisation."""
    if len(crops) == 0:
        return [], np.zeros(0)
    x: Any = Tensor._wrap(np.asarray(crops, dtype=np.float32)[:, None])
    transform = eval_transform(run.meta.get("normalize_mean"), run.meta.get("normalize_std"))
    for step in transform.transforms[1:]:  # the crops are float in [0, 1] already: ToTensor's work is done
        x = cast(Transform, step).batch(x)
    probs = predict(run.model, x, probs=True)
    best = probs.argmax(axis=1)
    return [run.classes[k] for k in best], probs[np.arange(len(best)), best]


def read_text(image: Any, run: Any = None) -> OCRResult:
    """Find the letters on ``image`` (see :func:`minidl.vision.find_letters`), classify them with ``run`` (a loaded run,
    see :func:`load_run`; default :func:`ready_model`) and assemble the text: one line per text
    line, a space where the gap between letters exceeds 0.6 of the median letter height."""
    run = ready_model() if run is None else run
    boxes, line_ids, crops = find_letters(image, size=_input_size(run))
    chars, probs = classify_crops(run, crops)
    starts = word_starts(boxes, line_ids)
    lines: list[str] = []
    for k, c in enumerate(chars):
        if k == 0 or line_ids[k] != line_ids[k - 1]:
            lines.append(c)
        else:
            lines[-1] += (" " if starts[k] else "") + c
    return OCRResult("\n".join(lines), lines, boxes, line_ids, chars, probs)


def ready_model_dir(seed: int = 0, settings: dict[str, Any] | None = None) -> Path:
    """Where the ready model trained with ``seed`` (and ``settings`` on top of the defaults) is cached."""
    from ..datasets.characters import GENERATOR_VERSION

    full = {**_READY_SETTINGS, **(settings or {}), "seed": seed}
    key = cache_key({"version": READY_MODEL_VERSION, "generator": GENERATOR_VERSION, **full})
    return cache_dir("ocr") / f"{full['model']}-chars-v{READY_MODEL_VERSION}-seed{seed}-{key}"


def ready_model(seed: int = 0, *, retrain: bool = False, settings: dict[str, Any] | None = None,
                log: TextIO | None = None) -> Any:
    """The ready character classifier as a loaded run: from the cache, or trained now and cached (see the
    module docstring). ``settings`` override run options of the recipe (``epochs``, ``train_samples``,
    ``dataset``, ...); ``retrain`` trains anew even when a cached model exists. Progress goes to ``log``
    (default stderr)."""
    final = ready_model_dir(seed, settings)
    if final.is_dir() and not retrain:
        return load_run(final)
    log = sys.stderr if log is None else log
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.{secrets.token_hex(6)}.tmp"
    values = {**_READY_SETTINGS, **(settings or {}), "seed": seed, "out": str(tmp)}
    print(f"minidl: training the character classifier once ({values['model']} on {values['dataset']}, "
          f"{values['epochs']} epochs); it will be cached in {final}", file=log, flush=True)
    try:
        result = train_run(resolve(values, set(values)), progress=False, out=io.StringIO())
        if retrain and final.is_dir():
            shutil.rmtree(final)
        try:
            os.rename(tmp, final)
        except OSError:  # another process published its model first: use that one
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    acc = result.metrics.get("test_acc")
    if acc is not None:
        print(f"minidl: character classifier ready: {100 * acc:.2f}% accuracy on held-out fonts", file=log)
    return load_run(final)
