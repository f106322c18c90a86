"""Using finished runs: load one (:func:`load_run`), evaluate it on a split (``minidl eval``), classify image
files with it (``minidl predict``) and compare several (``minidl compare``).

Images for ``predict`` are taken as they are and converted to the format of the run's dataset, exactly as
the dataset's own images are: PNG/JPG files are read with Pillow, converted to grayscale (one-channel
models) or RGB (three channels), resized to the model's H×W with bilinear filtering if their size differs,
then turned into float [0, 1] and normalised like the training images. Nothing else is done: in particular
colours are not inverted (Fashion-MNIST items are light on a black background; a photo of a dark item on
white paper should be inverted by the user). ``.npy`` files hold one input of the model's shape, or a batch
of them: uint8 0..255 or float in [0, 1] (as :class:`~minidl.transforms.ToTensor` gives), channels first or
last, and (H, W) arrays for one-channel models.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import report
from .._atomic import atomic_path
from ..nn import Module
from ..tensor import Tensor
from ..training import CheckpointError, History, load_checkpoint, predict
from ..training.checkpoint import load_model_state, warn_nonfinite
from ..transforms import Normalize
from ..transforms._image import open_image
from . import artifacts as A
from .build import RunError, build_model, eval_transform, evaluation_view, load_split, make_loss
from .config import RunConfig, resolve
from .evaluation import Evaluation, evaluate_dataset, per_class_rows

__all__ = ["LoadedRun", "load_run", "evaluate_run", "load_inputs", "predict_files", "Prediction", "top_classes",
           "compare_runs", "CompareRow", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
_IGNORED_IN_LABELS = ("out", "data_root", "download")


@dataclass
class LoadedRun:
    """A run directory with its model rebuilt and its final weights loaded."""

    run_dir: Path
    config: RunConfig
    meta: dict[str, Any]
    model: Module

    @property
    def task(self) -> str:
        return self.meta["task"]

    @property
    def classes(self) -> list[str]:
        return list(self.meta["classes"])

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.meta["input_shape"])


def _read_run_files(run_dir: Path) -> tuple[RunConfig, dict[str, Any]]:
    for name in (A.CONFIG_JSON, A.RUN_JSON):
        if not (run_dir / name).is_file():
            raise RunError(f"{str(run_dir)!r} is not a run directory of `minidl train` (no {name})")
    try:
        return resolve(A.read_json(run_dir / A.CONFIG_JSON)), A.read_json(run_dir / A.RUN_JSON)
    except (ValueError, OSError) as e:
        raise RunError(f"{str(run_dir)!r}: cannot read the run's files: {e}") from None


def load_run(path: str | Path) -> LoadedRun:
    """Rebuild a run's model and load its final weights (``model.npz``; for a run stopped before the end,
    the weights of its checkpoint)."""
    run_dir = Path(path)
    if not run_dir.is_dir():
        raise RunError(f"no run directory {str(run_dir)!r}")
    cfg, meta = _read_run_files(run_dir)
    num_classes = len(meta["classes"]) if meta["task"] == "classification" else None
    model = build_model(cfg.model, cfg.model_args, meta["input_shape"], num_classes, meta["task"])
    try:
        if (run_dir / A.MODEL).is_file():
            weights = A.load_model_weights(run_dir / A.MODEL)
            source = run_dir / A.MODEL
        elif (run_dir / A.CHECKPOINT).is_file():
            weights = load_checkpoint(run_dir / A.CHECKPOINT)["model"]
            source = run_dir / A.CHECKPOINT
        else:
            raise RunError(f"{str(run_dir)!r} has no weights ({A.MODEL} or {A.CHECKPOINT})")
        load_model_state(model, weights, source)
    except CheckpointError as e:
        raise RunError(str(e)) from None
    warn_nonfinite(model, source, "the run blew up before they were saved, so its outputs are NaN")
    model.eval()
    return LoadedRun(run_dir, cfg, meta, model)


# ============================================================================================ eval
def evaluate_run(run: LoadedRun, split: str = "test", dataset: str | None = None
                 ) -> tuple[Evaluation, list[tuple[str, float, int]], int]:
    """Loss, accuracy and per-class accuracy of the run's model on ``split`` of its dataset (or of
    ``dataset``, which must have the same input shape and classes). Returns the evaluation, the per-class
    rows and the number of samples."""
    if split not in ("train", "test"):
        raise RunError(f"split must be 'train' or 'test', got {split!r}")
    base = load_split(run.config, split == "train", dataset)
    ds = evaluation_view(base, run.meta.get("normalize_mean"), run.meta.get("normalize_std"), run.task)
    sample = np.asarray(ds[0][0])
    if tuple(sample.shape) != run.input_shape:
        raise RunError(f"dataset {dataset or run.config.dataset!r} has inputs of shape {list(sample.shape)}, "
                       f"the model was trained on {list(run.input_shape)}")
    loss_fn = make_loss(run.task, run.model, run.config.reg)
    evaluation = evaluate_dataset(run.model, ds, loss_fn, run.task, len(run.classes))
    if run.task == "classification" and int(evaluation.targets.max(initial=0)) >= len(run.classes):
        raise RunError(f"dataset {dataset!r} has labels up to {int(evaluation.targets.max())}, the model "
                       f"knows {len(run.classes)} classes")
    return evaluation, per_class_rows(evaluation, run.classes), len(ds)


# ============================================================================================ predict
@dataclass
class Prediction:
    """The top-k classes of one input: ``[(class name, probability), ...]``, most probable first, and their
    class indices."""

    source: str
    top: list[tuple[str, float]]
    indices: list[int]


def top_classes(probs: np.ndarray, names: Sequence[str], classes: Sequence[str], topk: int) -> list[Prediction]:
    """The ``topk`` most probable classes of each row of ``probs`` (ties: the lower class index first)."""
    k = min(topk, probs.shape[1])
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return [Prediction(name, [(classes[j], float(probs[i, j])) for j in order[i]], [int(j) for j in order[i]])
            for i, name in enumerate(names)]


def _read_image(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """A PNG/JPG as uint8 (H, W) or (H, W, C) in the model's channel count and size."""
    try:
        from PIL import Image
    except ImportError:
        raise RunError(f"{path}: reading {path.suffix} images needs Pillow, an optional extra of minidl: "
                       'pip install "minidl[images]"; or pass .npy arrays') from None
    c, h, w = shape
    if c not in (1, 3):
        raise RunError(f"{path}: the model takes {c}-channel images; only 1 (grayscale) or 3 (RGB) can be "
                       "read from image files")
    with open_image(path) as im:
        im = im.convert("L" if c == 1 else "RGB")
        if im.size != (w, h):
            im = im.resize((w, h), Image.Resampling.BILINEAR)
        return np.asarray(im, dtype=np.uint8)


def _as_batch(arr: np.ndarray, shape: tuple[int, ...], source: str) -> np.ndarray:
    """An array of one input or a batch, in the model's (N, *shape) layout (channels first)."""
    if tuple(arr.shape) == shape:
        return arr[None]
    if len(shape) == 3 and shape[0] == 1 and tuple(arr.shape) == shape[1:]:
        return arr[None, None]
    if len(shape) == 3 and tuple(arr.shape) == (shape[1], shape[2], shape[0]):
        return arr.transpose(2, 0, 1)[None]
    if arr.ndim == len(shape) + 1 and tuple(arr.shape[1:]) == shape:
        return arr
    if len(shape) == 3 and shape[0] == 1 and arr.ndim == 3 and tuple(arr.shape[1:]) == shape[1:]:
        return arr[:, None]
    if len(shape) == 3 and arr.ndim == 4 and tuple(arr.shape[1:]) == (shape[1], shape[2], shape[0]):
        return arr.transpose(0, 3, 1, 2)
    raise RunError(f"{source}: array of shape {list(arr.shape)} does not fit the model's input {list(shape)} "
                   f"(or a batch of them)")


def load_inputs(paths: Sequence[str], run: LoadedRun) -> tuple[np.ndarray, list[str]]:
    """Model inputs (N, *input_shape), converted and normalised like the run's data, and their names."""
    shape = run.input_shape
    mean, std = run.meta.get("normalize_mean"), run.meta.get("normalize_std")
    to_model = eval_transform(mean, std)
    normalize = Normalize(mean, std) if mean is not None and std is not None else None
    batches: list[np.ndarray] = []
    names: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            raise RunError(f"{raw}: is a directory; give image or .npy files (with --model NAME, predict also "
                           "takes folders of images)")
        if not path.is_file():
            raise RunError(f"{raw}: no such file")
        suffix = path.suffix.lower()
        if suffix == ".npy":
            try:
                arr = np.load(path, allow_pickle=False)
            except (OSError, ValueError) as e:
                raise RunError(f"{raw}: cannot read the array: {e}") from None
            if arr.dtype == np.uint8:
                x = _as_batch(arr, shape, raw).astype(np.float32) / np.float32(255.0)
            elif arr.dtype.kind == "f" and run.meta.get("data_kind") == "image":
                x = _as_batch(arr, shape, raw).astype(np.float32)
                if not (np.all(np.isfinite(x)) and x.min() >= 0.0 and x.max() <= 1.0):
                    raise RunError(f"{raw}: float images must hold values in [0, 1] (as ToTensor gives); "
                                   f"got range [{np.nanmin(x)}, {np.nanmax(x)}]")
            elif arr.dtype.kind in "fiu":
                x = _as_batch(arr, shape, raw).astype(np.float32)
            else:
                raise RunError(f"{raw}: expected a numeric array, got dtype {arr.dtype}")
            if normalize is not None:
                x = normalize.batch(Tensor._wrap(x)).numpy()
        elif suffix in IMAGE_SUFFIXES:
            if len(shape) != 3:
                raise RunError(f"{raw}: the model takes inputs of shape {list(shape)}, not images")
            x = to_model(_read_image(path, shape)).numpy()[None]
        else:
            raise RunError(f"{raw}: unknown file type {suffix or '(none)'!r}; use .npy or an image "
                           f"({', '.join(IMAGE_SUFFIXES)})")
        batches.append(x.astype(np.float32, copy=False))
        names += [raw] if len(x) == 1 else [f"{raw}[{i}]" for i in range(len(x))]
    return np.concatenate(batches), names


def predict_files(run: LoadedRun, paths: Sequence[str], topk: int = 3) -> list[Prediction]:
    """The ``topk`` most probable classes of each input file (softmax of the model's scores)."""
    if run.task != "classification":
        raise RunError(f"model {run.config.model!r} reconstructs its input; predict needs a classifier")
    if topk < 1:
        raise RunError(f"--topk must be >= 1, got {topk}")
    x, names = load_inputs(paths, run)
    return top_classes(predict(run.model, x, probs=True), names, run.classes, topk)


# ============================================================================================ compare
@dataclass
class CompareRow:
    """Final and best numbers of one run in a comparison."""

    label: str
    run_dir: Path
    epochs: int
    final_train_loss: float | None
    final_val_acc: float | None
    best_val_acc: float | None
    best_epoch: int | None
    test_acc: float | None
    test_loss: float | None


def _labels(configs: list[dict[str, Any]], dirs: list[Path]) -> list[str]:
    """Name each run by the settings that differ between the runs (``optimizer=adam lr=0.001``), else by
    its directory; the directory is appended where labels would repeat."""
    keys = [k for k in configs[0] if k not in _IGNORED_IN_LABELS
            and len({repr(c.get(k)) for c in configs}) > 1]
    keys += [k for c in configs for k in c if k not in keys and k not in _IGNORED_IN_LABELS
             and any(k not in other for other in configs)]
    # settings every run has come first: "momentum=None" (not applicable to Adam) says little
    keys.sort(key=lambda k: any(c.get(k) is None for c in configs))
    if not keys:
        return [d.name for d in dirs]
    labels = [" ".join(f"{k}={c.get(k)}" for k in keys[:3]) for c in configs]
    if len(set(labels)) < len(labels):
        labels = [f"{lab} ({d.name})" for lab, d in zip(labels, dirs, strict=True)]
    return labels


def _last(history: History, key: str) -> float | None:
    values = [v for v in history.metrics.get(key, []) if v is not None]
    return values[-1] if values else None


def compare_runs(paths: Sequence[str], out: str | Path | None) -> tuple[list[CompareRow], Path | None]:
    """The comparison table of several runs, and (when matplotlib is installed and ``out`` is given) one PNG
    with their training loss per iteration above their validation accuracy per epoch."""
    dirs = [Path(p) for p in paths]
    configs: list[dict[str, Any]] = []
    histories: list[History] = []
    results: list[dict[str, Any]] = []
    for d in dirs:
        if not (d / A.CONFIG_JSON).is_file() or not (d / A.HISTORY).is_file():
            raise RunError(f"{str(d)!r} is not a run directory with a history ({A.CONFIG_JSON}, {A.HISTORY})")
        try:
            configs.append(A.read_json(d / A.CONFIG_JSON))
            histories.append(A.read_history(d))
            results.append(A.read_json(d / A.RESULTS).get("metrics", {}) if (d / A.RESULTS).is_file() else {})
        except (ValueError, OSError) as e:
            raise RunError(f"{str(d)!r}: cannot read the run's files: {e}") from None
    labels = _labels(configs, dirs)
    rows = []
    for label, d, h, res in zip(labels, dirs, histories, results, strict=True):
        val = [v for v in h.metrics.get("val_acc", []) if v is not None]
        best = max(range(len(val)), key=val.__getitem__) if val else None
        rows.append(CompareRow(label, d, h.epochs, _last(h, "train_loss"), _last(h, "val_acc"),
                               val[best] if best is not None else None, None if best is None else best + 1,
                               res.get("test_acc"), res.get("test_loss")))
    figure = None
    if out is not None and report.plots_available():
        figure = _compare_figure({lab: h for lab, h in zip(labels, histories, strict=True)}, Path(out))
    return rows, figure


def _compare_figure(runs: dict[str, History], out: Path) -> Path:
    """Per-iteration loss curves above per-epoch accuracy curves (validation, else training), as one PNG."""
    import matplotlib.image as mpimg

    def has(key: str) -> bool:
        return all(any(v is not None for v in h.metrics.get(key, [])) for h in runs.values())

    second = next((k for k in ("val_acc", "train_acc", "val_loss", "train_loss") if has(k)), None)
    panels = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        report.plot_curves(runs, tmp / "loss.png", "loss",
                           title="Training loss per iteration (moving average)")
        panels.append(mpimg.imread(tmp / "loss.png"))
        if second is not None:
            title = {"val_acc": "Validation accuracy", "train_acc": "Training accuracy",
                     "val_loss": "Validation loss", "train_loss": "Training loss"}[second] + " per epoch"
            report.plot_curves(runs, tmp / "second.png", second, title=title)
            panels.append(mpimg.imread(tmp / "second.png"))
    # plot_curves draws every panel at the same default width (800 px), so they stack into one image
    width = max(p.shape[1] for p in panels)
    panels = [np.pad(p, ((0, 0), (0, width - p.shape[1]), (0, 0)), constant_values=1.0) for p in panels]
    with atomic_path(out) as tmp_png:
        mpimg.imsave(tmp_png, np.concatenate(panels, axis=0), format="png")
    return out


def fmt_pct(v: float | None) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{100 * v:.2f}%"


def fmt_num(v: float | None) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:.4f}"
