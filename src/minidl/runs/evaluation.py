"""Evaluating a trained model on a dataset, and the figures and report of a run.

:func:`evaluate_dataset` runs the model once over a dataset (no graph, eval mode) and keeps everything the
report needs: outputs, targets, loss, accuracy, the confusion matrix and per-class accuracy.
:func:`write_figures` draws the run's figures (each one that cannot be drawn becomes a note instead of an
error) and :func:`write_run_report` writes ``report.md`` and ``report.html`` with
:func:`minidl.report.write_report`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import report
from ..nn import Conv2d, Linear, Module
from ..nn import functional as F
from ..tensor import Tensor, tensor
from ..training import History, predict
from ..utils.data import Subset
from .build import Data, make_loader

__all__ = ["Evaluation", "evaluate_dataset", "shard", "raw_arrays", "write_figures", "write_run_report",
           "per_class_rows"]


@dataclass
class Evaluation:
    """A model's outputs on a dataset: logits (classification) or reconstructions, and their scores."""

    outputs: np.ndarray
    targets: np.ndarray
    loss: float
    acc: float | None  # classification only
    probs: np.ndarray | None = None  # softmax of the logits
    confusion: np.ndarray | None = None
    psnr_db: float | None = None  # reconstruction only: mean PSNR of the reconstructions, pixels in [0, 1]

    @property
    def predictions(self) -> np.ndarray:
        return self.outputs.argmax(axis=1)


def shard(dataset: Any) -> Any:
    """This rank's contiguous share of ``dataset`` in a data-parallel job (the whole of it otherwise): rank k
    of N takes samples ⌊k·n/N⌋ … ⌊(k+1)·n/N⌋ − 1, so the shards in rank order are the dataset, each sample once."""
    from ..distributed import rank_and_size

    (k, world), n = rank_and_size(), len(dataset)
    if world == 1:
        return dataset
    return Subset(dataset, range(k * n // world, (k + 1) * n // world))


def evaluate_dataset(model: Module, dataset: Any, loss_fn: Callable[[Tensor, Tensor], Tensor], task: str,
                     num_classes: int | None = None) -> Evaluation:
    """One pass of ``model`` over ``dataset`` (eval mode, no graph); ``loss_fn`` over all samples at once.

    In a data-parallel job each rank runs the model on its :func:`shard` and every rank gets all the outputs
    (gathered in rank order, i.e. in the dataset's order)."""
    from ..distributed import gather_rows

    targets: list[np.ndarray] = []

    def inputs() -> Any:
        # hand predict() the inputs and keep the targets of the same batches
        for x, y in make_loader(shard(dataset)):
            targets.append(np.asarray(y._data if isinstance(y, Tensor) else y))
            yield x

    outputs = gather_rows(predict(model, inputs()))
    y = gather_rows(np.concatenate(targets))
    loss = float(loss_fn(tensor(outputs), tensor(y)).item())
    if task != "classification":
        flat = y.reshape(len(y), -1)
        psnr_db = float(np.mean(report.psnr(flat, outputs.reshape(flat.shape), 1.0, batch=True)))
        return Evaluation(outputs, y, loss, None, psnr_db=psnr_db)
    pred = outputs.argmax(axis=1)
    probs = F.softmax(tensor(outputs), dim=1)._data
    k = num_classes or outputs.shape[1]
    return Evaluation(outputs, y, loss, float(np.mean(pred == y)), probs, report.confusion_matrix(y, pred, k))


def per_class_rows(evaluation: Evaluation, classes: list[str]) -> list[tuple[str, float, int]]:
    """``(class name, accuracy, samples)`` per class, for the report and ``minidl eval``."""
    if evaluation.confusion is None:
        return []
    acc = report.per_class_accuracy(evaluation.confusion)
    counts = evaluation.confusion.sum(axis=1)
    return [(classes[i] if i < len(classes) else str(i), float(acc[i]), int(counts[i]))
            for i in range(len(acc))]


def raw_arrays(dataset: Any) -> tuple[np.ndarray, np.ndarray]:
    """A test set's samples without normalisation, for display: images float (N, C, H, W) in [0, 1] or
    points (N, D), and the labels."""
    inner = getattr(dataset, "dataset", None)
    if inner is not None and not hasattr(dataset, "arrays"):  # the reconstruction wrapper
        return raw_arrays(inner)
    x, y = dataset.arrays()
    return np.asarray(x), np.asarray(y)


def _first_layer_weights(model: Module) -> np.ndarray | None:
    for _, m in model.named_modules():
        if isinstance(m, Conv2d | Linear):
            return np.asarray(m.weight._data)
    return None


def _filters_figure(model: Module, data: Data, path: Path) -> Path | None:
    """First-layer conv filters, or the rows of a first Linear layer shaped as input images."""
    w = _first_layer_weights(model)
    if w is None:
        return None
    if w.ndim == 4 and w.shape[1] in (1, 3):
        return report.plot_filters(w, path, max_filters=64)
    if w.ndim == 2 and data.kind == "image" and w.shape[1] == int(np.prod(data.input_shape)):
        return report.plot_filters(w, path, image_shape=data.input_shape, max_filters=64,
                                   title=f"First-layer weights as images ({min(64, w.shape[0])} of "
                                         f"{w.shape[0]} units)")
    return None


def write_figures(run_dir: Path, history: History, data: Data, evaluation: Evaluation, model: Module
                  ) -> tuple[dict[str, Path], list[str]]:
    """Draw the figures of a run into ``run_dir``; return ``{caption: path}`` and notes on skipped ones.

    Curves (loss per iteration, accuracy and loss per epoch, learning rate); for classifiers the confusion
    matrix with class names, the per-class accuracy and, for images, the most confident mistakes and the
    first-layer filters, for 2-D points the decision boundary; for reconstruction models the reconstructions
    and filters.
    """
    if not report.plots_available():
        return {}, [f"Plots were skipped: {report.PLOT_INSTALL_HINT}."]
    figures: dict[str, Path] = {}
    notes: list[str] = []

    def attempt(caption: str, draw: Callable[[], Path | None]) -> None:
        try:
            path = draw()
        except (ValueError, TypeError) as e:  # one figure that cannot be drawn must not sink the run
            notes.append(f"Figure '{caption}' was skipped: {e}")
            return
        if path is not None:
            figures[caption] = path

    try:
        figures.update(report.plot_history(history, run_dir))
    except ValueError as e:
        notes.append(f"Training curves were skipped: {e}")
    x_test, y_test = raw_arrays(data.test)
    names = data.classes
    if data.task == "classification":
        attempt("Confusion matrix (test set)", lambda: report.plot_confusion_matrix(
            evaluation.targets, evaluation.predictions, names, run_dir / "confusion_matrix.png"))
        attempt("Per-class accuracy (test set)", lambda: report.plot_per_class_accuracy(
            evaluation.targets, evaluation.predictions, names, run_dir / "per_class_accuracy.png"))
        if data.kind == "image":
            attempt("Misclassified test samples", lambda: report.plot_misclassified(
                x_test, evaluation.targets, evaluation.predictions, names, run_dir / "misclassified.png",
                probs=evaluation.probs))
        elif x_test.ndim == 2 and x_test.shape[1] == 2:
            attempt("Decision boundary (test points)", lambda: report.plot_decision_boundary(
                lambda pts: predict(model, pts), x_test, y_test, run_dir / "decision_boundary.png",
                class_names=names))
    else:
        attempt("Reconstructions of test images", lambda: report.plot_reconstructions(
            x_test, evaluation.outputs.reshape(x_test.shape), run_dir / "reconstructions.png",
            data_range=1.0))
    attempt("First-layer filters", lambda: _filters_figure(model, data, run_dir / "filters.png"))
    return figures, notes


def write_run_report(run_dir: Path, title: str, config: dict[str, Any], summary_text: str,
                     metrics: dict[str, Any], history: History, per_class: list[tuple[str, float, int]],
                     figures: dict[str, Path], notes: list[str]) -> report.ReportFiles:
    """``report.md`` and ``report.html`` of the run (figures inlined as data URIs in the HTML)."""
    return report.write_report(run_dir, title=title, config=config, model_summary=summary_text,
                               metrics=metrics, history=history, per_class=per_class or None,
                               figures=figures, notes=notes)
