"""Callbacks for :meth:`minidl.training.Trainer.fit` (Keras-style hooks).

A callback sees the running :class:`~minidl.training.Trainer` as ``self.trainer`` (its ``model``,
``optimizer``, ``history``, and ``stop_training``, which a callback sets to end the run after this epoch).
Hooks receive a ``logs`` dict:

* ``on_batch_begin(batch, logs)``: ``data`` (the batch as the loader yielded it);
* ``on_batch_end(batch, logs)``: ``loss`` (float), ``acc`` (batch accuracy or ``None``), ``size`` (samples);
* ``on_epoch_end(epoch, logs)``: ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc``, ``lr``, ``time``.

Epochs and batches are 0-based. A callback whose behaviour depends on the past (early stopping's patience
counter, best value so far) returns that in ``state_dict()`` so that a resumed run continues exactly. A
checkpoint keeps each such state under the callback's :attr:`Callback.state_key` and a resumed run gives it
back by that key; a callback whose key the checkpoint does not hold starts afresh, with a warning.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..tensor import Tensor
from .history import is_improvement, resolve_mode

__all__ = [
    "Callback",
    "LambdaCallback",
    "EarlyStopping",
    "ModelCheckpoint",
    "ProgressBar",
    "CallbackList",
    "snapshot_state",
    "has_state",
]


def snapshot_state(model: Any) -> dict[str, np.ndarray]:
    """A detached copy of ``model.state_dict()`` as arrays (later training steps do not change it)."""
    return {k: np.array(v._data if isinstance(v, Tensor) else v, copy=True) for k, v in model.state_dict().items()}


def has_state(callback: Callback) -> bool:
    """Whether ``callback`` carries state across a checkpoint (its class defines ``state_dict``)."""
    return type(callback).state_dict is not Callback.state_dict


class Callback:
    """Base class: override any of the hooks. ``self.trainer`` is set when training starts."""

    trainer: Any = None
    #: attribute names whose values, with the class name, make the default :attr:`state_key`
    state_key_settings: tuple[str, ...] = ()
    _state_key: str | None = None

    def set_trainer(self, trainer: Any) -> None:
        self.trainer = trainer

    @property
    def state_key(self) -> str:
        """The key of this callback's state in a checkpoint, by which a resumed run finds it again.

        By default the class name with the settings named in ``state_key_settings``, e.g.
        ``EarlyStopping(monitor='val_loss', mode='min')``, so two callbacks of one class that watch different
        things keep their states apart. Assign a string to choose it yourself.
        """
        if self._state_key is not None:
            return self._state_key
        settings = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.state_key_settings)
        return f"{type(self).__qualname__}({settings})" if settings else type(self).__qualname__

    @state_key.setter
    def state_key(self, key: str) -> None:
        self._state_key = str(key)

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        """Called once before the first epoch (after a resume has restored state)."""

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        """Called before each epoch."""

    def on_batch_begin(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        """Called before each training step."""

    def on_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        """Called after each optimizer step."""

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        """Called after each epoch's validation and scheduler step."""

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        """Called once when training stops."""

    def state_dict(self) -> dict[str, Any]:
        """State to carry across a checkpoint/resume (arrays and JSON-able values)."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(logs))``."""

    def __init__(self, on_train_begin: Callable[..., Any] | None = None,
                 on_epoch_begin: Callable[..., Any] | None = None, on_batch_end: Callable[..., Any] | None = None,
                 on_epoch_end: Callable[..., Any] | None = None, on_train_end: Callable[..., Any] | None = None,
                 on_batch_begin: Callable[..., Any] | None = None) -> None:
        self._fns = {"on_train_begin": on_train_begin, "on_epoch_begin": on_epoch_begin,
                     "on_batch_begin": on_batch_begin, "on_batch_end": on_batch_end, "on_epoch_end": on_epoch_end,
                     "on_train_end": on_train_end}
        for name, fn in self._fns.items():
            if fn is not None and not callable(fn):
                raise TypeError(f"LambdaCallback: {name} must be callable, got {type(fn).__name__}")

    def _call(self, name: str, *args: Any) -> None:
        fn = self._fns[name]
        if fn is not None:
            fn(*args)

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self._call("on_train_begin", logs)

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._call("on_epoch_begin", epoch, logs)

    def on_batch_begin(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._call("on_batch_begin", batch, logs)

    def on_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._call("on_batch_end", batch, logs)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._call("on_epoch_end", epoch, logs)

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        self._call("on_train_end", logs)


class _Monitor(Callback):
    """Shared logic of callbacks that follow the best value of one logged metric."""

    def __init__(self, monitor: str, mode: str, min_delta: float = 0.0) -> None:
        self.monitor = monitor
        self.mode = resolve_mode(monitor, mode)
        self.min_delta = abs(float(min_delta))
        self.best: float | None = None
        self.best_epoch: int | None = None
        self._warned = False

    def _value(self, logs: Mapping[str, Any] | None) -> float | None:
        value = None if logs is None else logs.get(self.monitor)
        if value is None and not self._warned:
            self._warned = True
            available = sorted(k for k, v in (logs or {}).items() if v is not None)
            warnings.warn(f"{type(self).__name__}: metric {self.monitor!r} is not available "
                          f"(available: {available}); skipping", UserWarning, stacklevel=3)
        return value

    def _improved(self, value: float, epoch: int) -> bool:
        if is_improvement(value, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch = float(value), epoch
            return True
        return False

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.best, self.best_epoch = state["best"], state["best_epoch"]


class EarlyStopping(_Monitor):
    """Stop training when ``monitor`` has not improved (by more than ``min_delta``) for ``patience`` epochs.

    ``mode='auto'`` maximises accuracies and minimises everything else. With ``restore_best_weights`` the
    model gets the weights of its best epoch back when training ends.
    """

    state_key_settings = ("monitor", "mode")

    def __init__(self, monitor: str = "val_acc", patience: int = 5, mode: str = "auto", min_delta: float = 0.0,
                 restore_best_weights: bool = False, verbose: bool = False) -> None:
        super().__init__(monitor, mode, min_delta)
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, got {patience!r}")
        self.patience = patience
        self.restore_best_weights = restore_best_weights
        self.verbose = verbose
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.best_weights: dict[str, np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        value = self._value(logs)
        if value is None:
            return
        if self._improved(value, epoch):
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = snapshot_state(self.trainer.model)
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            if self.verbose:
                best_at = "-" if self.best_epoch is None else self.best_epoch + 1
                print(f"EarlyStopping: no improvement of {self.monitor} for {self.wait} epochs; "
                      f"best {self.best:.4g} at epoch {best_at}, stopping after epoch {epoch + 1}")

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "wait": self.wait, "stopped_epoch": self.stopped_epoch,
                "best_weights": self.best_weights}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        self.wait, self.stopped_epoch = state["wait"], state["stopped_epoch"]
        self.best_weights = state.get("best_weights")


class ModelCheckpoint(_Monitor):
    """Save a full checkpoint (see :func:`minidl.training.save_checkpoint`) after epochs.

    ``path`` may contain ``{epoch}`` (1-based) and any logged metric, e.g. ``"ckpt/e{epoch:02d}-{val_acc:.3f}.npz"``.
    With ``save_best_only`` a checkpoint is written only when ``monitor`` improves.
    """

    state_key_settings = ("path", "monitor", "mode", "save_best_only")

    def __init__(self, path: str | os.PathLike, monitor: str = "val_acc", save_best_only: bool = False,
                 mode: str = "auto", verbose: bool = False) -> None:
        super().__init__(monitor, mode)
        self.path = os.fspath(path)
        self.save_best_only = save_best_only
        self.verbose = verbose
        self.last_saved: str | None = None

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        logs = dict(logs or {})
        if self.save_best_only:
            value = self._value(logs)
            if value is None or not self._improved(value, epoch):
                return
        try:
            path = self.path.format(epoch=epoch + 1, **logs)
        except (KeyError, ValueError, TypeError, IndexError) as e:
            raise ValueError(f"ModelCheckpoint: cannot format path {self.path!r} with epoch and {sorted(logs)}: "
                             f"{e}") from e
        self.trainer.save_checkpoint(path, epoch + 1)
        self.last_saved = path
        if self.verbose:
            print(f"ModelCheckpoint: saved {path}")

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "last_saved": self.last_saved}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        self.last_saved = state.get("last_saved")


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.4f}"


class ProgressBar(Callback):
    """Per-epoch progress with the running loss and accuracy, and a summary line per epoch.

    Uses ``tqdm`` when it is installed (the optional ``progress`` extra) and ``use_tqdm`` is not False;
    otherwise prints a plain line every ``log_every`` batches (``None``: epoch summaries only).
    Output goes to ``file`` (default ``sys.stderr``). ``Trainer(progress=False)`` turns it off.
    """

    def __init__(self, log_every: int | None = 100, use_tqdm: bool | None = None, file: Any = None) -> None:
        self.log_every = None if log_every is None else max(1, int(log_every))
        self.file = file
        self._tqdm = None
        if use_tqdm is not False:
            try:
                from tqdm.auto import tqdm  # optional dependency, imported only when a bar is wanted
            except ImportError:
                if use_tqdm:
                    raise
            else:
                self._tqdm = tqdm
        self._bar: Any = None

    def _out(self) -> Any:
        return self.file if self.file is not None else sys.stderr

    def _print(self, text: str) -> None:
        if self._tqdm is not None:
            self._tqdm.write(text, file=self._out())
        else:
            print(text, file=self._out(), flush=True)

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._epoch, self._seen, self._loss_sum, self._correct, self._counted = epoch, 0, 0.0, 0.0, 0
        self._t0 = time.perf_counter()
        total = self.trainer.batches_per_epoch
        self._desc = f"epoch {epoch + 1}/{self.trainer.epochs}"
        self._total = total
        if self._tqdm is not None:
            self._bar = self._tqdm(total=total, desc=self._desc, leave=False, file=self._out(), dynamic_ncols=True)

    def on_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        logs = logs or {}
        n = int(logs.get("size", 1))
        self._seen += n
        self._loss_sum += float(logs["loss"]) * n
        if logs.get("acc") is not None:
            self._correct += float(logs["acc"]) * n
            self._counted += n
        loss = self._loss_sum / self._seen
        acc = self._correct / self._counted if self._counted else None
        if self._bar is not None:
            post = {"loss": f"{loss:.4f}"}
            if acc is not None:
                post["acc"] = f"{acc:.4f}"
            self._bar.set_postfix(post, refresh=False)
            self._bar.update(1)
        elif self.log_every is not None and (batch + 1) % self.log_every == 0:
            of = f"/{self._total}" if self._total else ""
            self._print(f"{self._desc} [{batch + 1}{of}] loss {loss:.4f} acc {_fmt(acc)}")

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        if self._bar is not None:
            self._bar.refresh()  # show the final running loss/accuracy even if the last update was throttled
            self._bar.close()
            self._bar = None
        logs = logs or {}
        parts = [f"{k} {_fmt(logs.get(k))}" for k in ("train_loss", "train_acc", "val_loss", "val_acc")
                 if logs.get(k) is not None]
        lr = logs.get("lr")
        if lr is not None:
            parts.append(f"lr {lr:.3g}")
        self._print(f"{self._desc}: " + "  ".join(parts) + f"  ({time.perf_counter() - self._t0:.1f} s)")

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class CallbackList:
    """Calls each hook on every callback, in order."""

    def __init__(self, callbacks: Iterable[Callback], trainer: Any) -> None:
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Trainer.fit: callbacks must be Callback instances, got {type(cb).__name__}")
            cb.set_trainer(trainer)

    def __iter__(self):  # noqa: ANN204 - simple iterator
        return iter(self.callbacks)

    def __getattr__(self, hook: str) -> Callable[..., None]:
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args: Any) -> None:
            for cb in self.callbacks:
                getattr(cb, hook)(*args)

        return call
