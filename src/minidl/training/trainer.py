"""``Trainer``: the training loop, with callbacks, progress, history, best-model tracking and exact resume.

One epoch of :meth:`Trainer.fit`::

    on_epoch_begin
    for x, y in train_loader:              model in train mode
        loss = loss_fn(model(x), y); zero_grad; loss.backward(); optimizer.step(); on_batch_end
    evaluate(model, val_loader)            no_grad, eval mode
    history, best weights                  copy of state_dict when the monitored metric improves
    scheduler.step()                       ReduceLROnPlateau: scheduler.step(val metric)
    on_epoch_end                           early stopping, model checkpoints
    save_checkpoint(checkpoint)            atomic; everything needed to continue bit for bit

Resuming restores the model, optimizer, scheduler, RNG states (minidl's, NumPy's, the loader's shuffle
generator), history, best weights and callback states, then continues with the next epoch: the final weights
are bitwise identical to those of an uninterrupted run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..nn import functional as F
from ..tensor import Tensor, no_grad
from .callbacks import Callback, CallbackList, ProgressBar, snapshot_state
from .checkpoint import CheckpointError, restore_checkpoint, save_checkpoint
from .history import History

__all__ = ["Trainer", "evaluate", "predict", "count_correct"]

LossFn = Callable[[Tensor, Tensor], Tensor]


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _split_batch(batch: Any, where: str) -> tuple[Tensor, Tensor]:
    """A loader's batch as (inputs, targets) tensors."""
    if isinstance(batch, Sequence) and not isinstance(batch, str) and len(batch) == 2:
        return _as_tensor(batch[0]), _as_tensor(batch[1])
    raise TypeError(f"{where}: each batch must be an (inputs, targets) pair, got {type(batch).__name__}"
                    + (f" of length {len(batch)}" if isinstance(batch, Sequence) else ""))


def count_correct(output: np.ndarray, target: np.ndarray) -> int | None:
    """Correct predictions of class scores ``output`` (N, C, ...) against class indices ``target`` (N, ...).

    The prediction is argmax over axis 1. Returns ``None`` when the pair is not a classification
    (float targets, or shapes that do not fit), so regression losses simply have no accuracy.
    """
    if target.dtype.kind not in "iu" or output.ndim < 2 or target.shape != output.shape[:1] + output.shape[2:]:
        return None
    return int(np.count_nonzero(output.argmax(axis=1) == target))


def _default_loss(output: Tensor, target: Tensor) -> Tensor:
    """Softmax cross-entropy, the default loss of :meth:`Trainer.fit` and :func:`evaluate`."""
    return F.cross_entropy(output, target)


def _training_flag(model: Any) -> bool:
    return bool(getattr(model, "training", True))


def _set_mode(model: Any, training: bool) -> None:
    model.train(training)


def evaluate(model: Any, loader: Iterable[Any], loss_fn: LossFn | None = None) -> dict[str, float | None]:
    """Mean loss and accuracy of ``model`` over ``loader``, under ``no_grad`` and in eval mode.

    Returns ``{'loss': ..., 'acc': ...}``; ``acc`` is ``None`` when the targets are not class indices.
    Per-batch mean losses are weighted by batch size, so the result is the mean over all samples. The
    model's train/eval mode is restored afterwards.
    """
    loss_fn = loss_fn or _default_loss
    was_training = _training_flag(model)
    _set_mode(model, False)
    total = loss_sum = 0.0
    correct: int | None = 0
    try:
        with no_grad():
            for batch in loader:
                x, y = _split_batch(batch, "evaluate")
                out = model(x)
                n = len(x)
                loss_sum += float(loss_fn(out, y).item()) * n
                c = count_correct(out._data, y._data)
                correct = None if c is None or correct is None else correct + c
                total += n
    finally:
        _set_mode(model, was_training)
    if total == 0:
        raise ValueError("evaluate: the loader yielded no samples")
    return {"loss": loss_sum / total, "acc": None if correct is None else correct / total}


def predict(model: Any, data: Any, batch_size: int = 256, probs: bool = False) -> np.ndarray:
    """Outputs of ``model`` for ``data`` (a loader, an array or a tensor), under ``no_grad`` in eval mode.

    Returns the raw outputs (logits) stacked into one array, or softmax probabilities over axis 1 with
    ``probs=True``. A loader may yield inputs alone or (inputs, targets) pairs; arrays are split into
    batches of ``batch_size``.
    """
    if isinstance(data, Tensor | np.ndarray):
        arr = data._data if isinstance(data, Tensor) else data
        if arr.ndim == 0:
            raise ValueError(f"predict: expected a batch of inputs, got a 0-d array of shape {arr.shape}")
        batches: Iterable[Any] = (arr[i:i + batch_size] for i in range(0, len(arr), batch_size))
    else:
        batches = data
    was_training = _training_flag(model)
    _set_mode(model, False)
    outs: list[np.ndarray] = []
    try:
        with no_grad():
            for batch in batches:
                if isinstance(batch, list | tuple):
                    batch = batch[0]
                out = model(_as_tensor(batch))
                if probs:
                    out = F.softmax(out, dim=1)
                outs.append(out._data)
    finally:
        _set_mode(model, was_training)
    if not outs:
        raise ValueError("predict: no inputs given")
    return np.concatenate(outs, axis=0)


def _is_plateau(scheduler: Any) -> bool:
    """ReduceLROnPlateau is stepped with a metric, every other scheduler per epoch without one."""
    try:
        from ..optim.lr_scheduler import ReduceLROnPlateau
    except ImportError:  # pragma: no cover - optim.lr_scheduler is part of the package
        return type(scheduler).__name__ == "ReduceLROnPlateau"
    return isinstance(scheduler, ReduceLROnPlateau)


class Trainer:
    """Runs :meth:`fit`; keeps the run's state for callbacks (``model``, ``optimizer``, ``history``, ...).

    Parameters
    ----------
    progress:
        show a progress bar (tqdm if installed, else a plain line every ``log_every`` batches) and one
        summary line per epoch; ``False`` trains silently.
    monitor, mode:
        the metric that defines the best epoch (``'val_acc'``, ``'val_loss'``, ``'train_loss'``, ...), and
        whether higher or lower is better (``'auto'``: max for accuracies). The best weights are kept in
        ``best_state``.
    restore_best:
        load ``best_state`` into the model when training ends.
    config:
        JSON-able run settings (hyperparameters, data options) stored in every checkpoint's ``config``.
    plateau_metric:
        the metric passed to ``ReduceLROnPlateau.step``; by default ``'val_loss'`` for a scheduler in
        ``mode='min'`` and ``'val_acc'`` in ``mode='max'`` (the ``train_`` ones without a validation set).
    """

    def __init__(self, progress: bool = True, log_every: int = 100, monitor: str = "val_acc", mode: str = "auto",
                 restore_best: bool = False, plateau_metric: str | None = None,
                 config: Mapping[str, Any] | None = None) -> None:
        self.progress = progress
        self.config = dict(config or {})
        self.log_every = log_every
        self.monitor = monitor
        self.mode = mode
        self.restore_best = restore_best
        self.plateau_metric = plateau_metric
        self.model: Any = None
        self.optimizer: Any = None
        self.scheduler: Any = None
        self.loss_fn: LossFn | None = None
        self.train_loader: Any = None
        self.history = History(monitor, mode)
        self.best_state: dict[str, np.ndarray] | None = None
        self.stop_training = False
        self.epoch = 0
        self.epochs = 0
        self.batches_per_epoch: int | None = None
        self._callbacks: list[Callback] = []
        self._config: dict[str, Any] = {}

    # ------------------------------------------------------------------------------------------ fit
    def fit(self, model: Any, train_loader: Iterable[Any], val_loader: Iterable[Any] | None = None,
            loss_fn: LossFn | None = None, optimizer: Any = None, scheduler: Any = None, epochs: int = 1,
            callbacks: Iterable[Callback] = (), resume: str | os.PathLike | None = None,
            checkpoint: str | os.PathLike | None = None) -> History:
        """Train ``model`` until ``epochs`` epochs are complete and return the :class:`History`.

        ``loss_fn(output, target)`` defaults to cross-entropy, ``optimizer`` to ``Adam(lr=1e-3)``.
        ``epochs`` is the total: a run resumed from a checkpoint taken after epoch k trains ``epochs - k``
        more. ``checkpoint`` is a path rewritten (atomically) after every epoch; ``resume`` is a path to
        continue from (it may be the same file).
        """
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"Trainer.fit: epochs must be an int >= 0, got {epochs!r}")
        if optimizer is None:
            from ..optim import Adam

            optimizer = Adam(model.parameters(), lr=1e-3)
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.loss_fn = loss_fn or _default_loss
        self.train_loader, self.epochs = train_loader, epochs
        self.history = History(self.monitor, self.mode)
        self.best_state, self.stop_training, self.epoch = None, False, 0
        try:
            self.batches_per_epoch = len(train_loader)  # type: ignore[arg-type]
        except TypeError:
            self.batches_per_epoch = None
        self._callbacks = list(callbacks)
        self._config = {**self.config, "epochs": epochs, "monitor": self.monitor, "mode": self.history.mode,
                        "loss_fn": getattr(self.loss_fn, "__name__", type(self.loss_fn).__name__)}
        if resume is not None:
            self._resume(resume)
        extra = [ProgressBar(self.log_every)] if self.progress else []
        cbs = CallbackList(self._callbacks + extra, self)

        cbs.on_train_begin({})
        while self.epoch < epochs and not self.stop_training:
            epoch = self.epoch
            cbs.on_epoch_begin(epoch, {})
            t0 = time.perf_counter()
            lr = self._lr()
            logs = self._train_epoch(cbs)
            if val_loader is not None:
                val = evaluate(model, val_loader, self.loss_fn)
                logs.update(val_loss=val["loss"], val_acc=val["acc"])
            logs.update(lr=lr, time=time.perf_counter() - t0)
            if self.history.log_epoch(logs):
                self.best_state = snapshot_state(model)
            self._step_scheduler(logs)
            self.epoch = epoch + 1
            cbs.on_epoch_end(epoch, logs)
            if checkpoint is not None:
                self.save_checkpoint(checkpoint)
        cbs.on_train_end({})
        if self.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)
        return self.history

    def _lr(self) -> float | None:
        groups = getattr(self.optimizer, "param_groups", None)
        return float(groups[0]["lr"]) if groups else None

    def _train_epoch(self, cbs: CallbackList) -> dict[str, Any]:
        model, optimizer, loss_fn = self.model, self.optimizer, self.loss_fn
        model.train()
        seen = 0
        loss_sum = 0.0
        correct: int | None = 0
        for i, batch in enumerate(self.train_loader):
            x, y = _split_batch(batch, "Trainer.fit")
            out = model(x)
            loss = loss_fn(out, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            n = len(x)
            value = float(loss.item())
            c = count_correct(out._data, y._data)
            correct = None if c is None or correct is None else correct + c
            seen += n
            loss_sum += value * n
            self.history.log_batch(value)
            cbs.on_batch_end(i, {"loss": value, "acc": None if c is None else c / n, "size": n})
        if seen == 0:
            raise ValueError("Trainer.fit: the training loader yielded no samples")
        return {"train_loss": loss_sum / seen, "train_acc": None if correct is None else correct / seen}

    def _step_scheduler(self, logs: Mapping[str, Any]) -> None:
        if self.scheduler is None:
            return
        if _is_plateau(self.scheduler):
            key = self.plateau_metric
            if key is None:  # the metric matching the scheduler's direction, validation when measured
                kind = "acc" if getattr(self.scheduler, "mode", "min") == "max" else "loss"
                key = f"val_{kind}" if logs.get(f"val_{kind}") is not None else f"train_{kind}"
            if logs.get(key) is None:
                raise ValueError(f"Trainer.fit: ReduceLROnPlateau needs the metric {key!r}, which was not "
                                 f"measured (available: {sorted(k for k, v in logs.items() if v is not None)})")
            self.scheduler.step(logs[key])
        else:
            self.scheduler.step()

    # ------------------------------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, path: str | os.PathLike, epoch: int | None = None) -> None:
        """Atomically write everything needed to resume after ``epoch`` (default: the epochs completed)."""
        extra = {
            "best_state": self.best_state,
            "callbacks": [{"class": type(cb).__name__, "state": cb.state_dict()} for cb in self._callbacks],
            "stop_training": self.stop_training,
        }
        save_checkpoint(path, self.model, self.optimizer, self.scheduler,
                        epoch=self.epoch if epoch is None else epoch, history=self.history, config=self._config,
                        loaders=[self.train_loader], extra=extra)

    def _resume(self, path: str | os.PathLike) -> None:
        tree = restore_checkpoint(path, self.model, self.optimizer, self.scheduler, loaders=[self.train_loader])
        try:
            self.history = History.from_dict(tree["history"])
        except (ValueError, TypeError, KeyError) as e:
            raise CheckpointError(path, f"bad history ({e})") from e
        if self.history.monitor != self.monitor:
            raise CheckpointError(path, f"the run monitored {self.history.monitor!r}, this trainer monitors "
                                        f"{self.monitor!r}")
        self.epoch = int(tree["epoch"])
        extra = tree.get("extra", {})
        self.best_state = extra.get("best_state")
        self.stop_training = bool(extra.get("stop_training", False))
        saved = extra.get("callbacks", [])
        # a callback gets back the state saved for the callback of the same class at the same position
        for cb, entry in zip(self._callbacks, saved, strict=False):
            if entry.get("class") == type(cb).__name__:
                cb.load_state_dict(entry["state"])

    # ------------------------------------------------------------------------------------------ shortcuts
    def evaluate(self, model: Any, loader: Iterable[Any], loss_fn: LossFn | None = None) -> dict[str, float | None]:
        """See :func:`evaluate`."""
        return evaluate(model, loader, loss_fn or self.loss_fn)

    def predict(self, model: Any, data: Any, batch_size: int = 256, probs: bool = False) -> np.ndarray:
        """See :func:`predict`."""
        return predict(model, data, batch_size, probs)
