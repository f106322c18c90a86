"""Training: the :class:`Trainer` loop (callbacks, progress, history, safe checkpoints, exact resume) and the
homework :class:`Solver` with the classic update rules."""

from .callbacks import Callback, EarlyStopping, LambdaCallback, ModelCheckpoint, ProgressBar
from .checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_tree,
    nonfinite_parameters,
    restore_checkpoint,
    save_checkpoint,
    save_tree,
)
from .history import History
from .optim_rules import adam, rmsprop, sgd, sgd_momentum
from .solver import Solver
from .trainer import Trainer, evaluate, predict, unpack_batch

__all__ = [
    "Trainer", "evaluate", "predict", "unpack_batch", "History",
    "Callback", "LambdaCallback", "EarlyStopping", "ModelCheckpoint", "ProgressBar",
    "CheckpointError", "save_checkpoint", "load_checkpoint", "restore_checkpoint", "save_tree", "load_tree",
    "nonfinite_parameters",
    "Solver", "sgd", "sgd_momentum", "rmsprop", "adam",
]  # fmt: skip
