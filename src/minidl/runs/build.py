"""Building what a run trains from its config: datasets and loaders, the model, the loss, the optimizer and
the learning-rate schedule. ``minidl train``, ``eval``, ``predict``, ``graph`` and ``gradcheck`` all build
through these functions, so a run directory is re-created exactly as it was trained.

Data: the training split of the dataset is shuffled with ``seed``; the first ``val_split`` of it is held
out for validation and ``train_samples`` (if set) of the rest are trained on. Images become float32
``(C, H, W)`` in [0, 1] (:class:`~minidl.transforms.ToTensor`), then, with ``normalize``, are standardised
per channel with the mean and standard deviation of the whole training split; ``augment`` adds random
crops after 2-pixel zero padding and horizontal flips to the training images only. 2-D toy sets (``xor``,
``moons``, ...) are used as they are. Models that reconstruct their input (the autoencoder) get the image
as the target, are trained with the mean squared error, and see un-normalised images (their sigmoid
output lies in [0, 1]).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import models, optim
from .. import random as mrandom
from ..datasets import ImageArrayDataset
from ..datasets import get as get_dataset
from ..errors import MinidlError
from ..nn import Module
from ..nn import functional as F
from ..nn.utils import evaluating
from ..optim import lr_scheduler
from ..tensor import Tensor, tensor
from ..transforms import Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToTensor
from ..utils.data import DataLoader, Dataset, Subset, TensorDataset
from .config import RunConfig

__all__ = [
    "RunError", "Data", "ModelSpec", "model_spec", "default_input_shape", "build_model", "build_data",
    "load_split", "evaluation_view", "eval_transform", "make_loss", "make_optimizer", "make_scheduler",
    "make_loader", "EVAL_BATCH",
]  # fmt: skip

EVAL_BATCH = 500
CROP_PADDING = 2
_STATS_CHUNK = 4096  # images per chunk when computing the normalisation statistics


class RunError(MinidlError, ValueError):
    """A run cannot be set up or loaded (unknown name, missing files, a model that does not fit the data)."""


# ============================================================================================ models
@dataclass(frozen=True)
class ModelSpec:
    """What a zoo model's constructor accepts, and its task: ``'classification'`` or ``'reconstruction'``."""

    name: str
    params: dict[str, Any]  # constructor argument -> its default (inspect.Parameter.empty if none)
    task: str


def model_spec(name: str) -> ModelSpec:
    """The constructor arguments and task of the zoo model ``name``.

    Builds one default instance to look at its class; minidl's random state is restored afterwards, so this
    does not change what a seeded run draws.
    """
    state = mrandom.get_rng_state()
    try:
        model = models.get(name)
    except ValueError as e:
        raise RunError(str(e)) from None
    except TypeError:  # a registered factory that needs arguments: nothing can be derived for it
        return ModelSpec(name, {}, "classification")
    finally:
        mrandom.set_rng_state(state)
    params = {k: p.default for k, p in inspect.signature(type(model)).parameters.items()}
    task = "reconstruction" if isinstance(model, models.Autoencoder) else "classification"
    return ModelSpec(name, params, task)


def default_input_shape(name: str) -> tuple[int, ...]:
    """The input shape (no batch axis) a zoo model takes by default: (in_features,) for models of vectors
    such as ``xor``, else a 1×28×28 image (an MLP or autoencoder flattens it)."""
    spec = model_spec(name)
    if isinstance(spec.params.get("in_features"), int):
        return (spec.params["in_features"],)
    return (1, 28, 28)


def build_model(name: str, model_args: dict[str, Any], input_shape: Sequence[int], num_classes: int | None,
                task: str | None = None) -> Module:
    """The zoo model ``name`` sized for ``input_shape`` (no batch axis) and ``num_classes``.

    Arguments the constructor takes are derived from the data: ``in_channels`` (C), ``num_classes``,
    ``input_dim``/``in_features`` (the flattened size) and ``image_size`` (H of square images);
    ``model_args`` come on top. One forward pass of two samples checks that the model fits the data.
    """
    spec = model_spec(name)
    shape = tuple(int(d) for d in input_shape)
    derived: dict[str, Any] = {"input_dim": math.prod(shape), "in_features": math.prod(shape)}
    if len(shape) == 3:
        derived["in_channels"] = shape[0]
        if shape[1] == shape[2]:
            derived["image_size"] = shape[1]
    if num_classes is not None:
        derived["num_classes"] = num_classes
    kwargs = {k: v for k, v in derived.items() if k in spec.params}
    unknown = [k for k in model_args if spec.params and k not in spec.params]
    if unknown:
        raise RunError(f"model {name!r} takes no argument {', '.join(map(repr, unknown))}; "
                       f"it takes: {', '.join(sorted(spec.params))}")
    kwargs.update(model_args)
    try:
        model = models.get(name, **kwargs)
    except (TypeError, ValueError) as e:
        raise RunError(f"cannot build model {name!r} with {kwargs}: {e}") from None
    _check_fits(model, name, shape, num_classes, task or spec.task)
    return model


def _check_fits(model: Module, name: str, shape: tuple[int, ...], num_classes: int | None, task: str) -> None:
    """One eval-mode forward pass of two zero samples; a clear error when the shapes do not fit."""
    x = tensor(np.zeros((2, *shape), dtype=np.float32))
    try:
        with evaluating(model):
            out = model(x)
    except (ValueError, TypeError, IndexError) as e:
        message = f"model {name!r} does not accept inputs of shape {list(shape)} (per sample): {e}"
        raise RunError(message) from None
    if task == "reconstruction":
        ok, expected = tuple(out.shape) == (2, *shape), f"{[2, *shape]}"
    elif num_classes is not None:
        ok, expected = tuple(out.shape) == (2, num_classes), f"{[2, num_classes]}"
    else:
        ok, expected = out.ndim == 2, "(2, classes) scores"
    if not ok:
        raise RunError(f"model {name!r} gives outputs of shape {list(out.shape)} for a batch of 2 inputs of "
                       f"shape {list(shape)}; {task} needs {expected}")


# ============================================================================================ data
@dataclass
class Data:
    """The datasets of a run and what the rest of the run needs to know about them."""

    train: Dataset
    val: Dataset | None
    test: Dataset
    input_shape: tuple[int, ...]
    classes: list[str]
    task: str
    kind: str  # "image" or "vector"
    mean: list[float] | None
    std: list[float] | None


class _InputAsTarget(Dataset):
    """``(x, x)`` pairs from a dataset of ``(x, y)``: the targets of a reconstruction model are its inputs."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        x = self.dataset[index][0]
        return x, x

    def batch_fetcher(self) -> Callable[[np.ndarray], tuple[Any, Any]] | None:
        make = getattr(self.dataset, "batch_fetcher", None)
        inner = make() if make is not None else None
        if inner is None:
            return None

        def fetch(idx: np.ndarray) -> tuple[Any, Any]:
            x = inner(idx)[0]
            return x, x

        return fetch


def load_split(cfg: RunConfig, train: bool, name: str | None = None) -> Dataset:
    """The raw split of the run's dataset (or of ``name``) from the registry, with errors made clear."""
    name = name or cfg.dataset
    kwargs: dict[str, Any] = {} if cfg.get("download") is None else {"download": cfg["download"]}
    if cfg.get("image_size") is not None:
        kwargs["image_size"] = cfg["image_size"]
    try:
        return get_dataset(name, train=train, root=cfg.get("data_root"), **kwargs)
    except TypeError as e:
        if "image_size" in kwargs:
            raise RunError(f"dataset {name!r} has no image_size setting (the folder dataset has): {e}") from None
        if kwargs:
            message = f"dataset {name!r} cannot be downloaded (drop --download/--no-download): {e}"
            raise RunError(message) from None
        raise
    except (ValueError, OSError) as e:  # unknown name; files missing (FileNotFoundError), download failed
        raise RunError(f"dataset {name!r}: {e}") from None


def _channel_stats(data: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation of uint8 images (N, H, W) or (N, H, W, C), scaled to [0, 1].

    Accumulated in float64 over chunks of images, so a large dataset is never converted whole.
    """
    axes_c = data.shape[3] if data.ndim == 4 else 1
    s = np.zeros(axes_c)
    s2 = np.zeros(axes_c)
    for start in range(0, len(data), _STATS_CHUNK):
        chunk = data[start:start + _STATS_CHUNK].astype(np.float64).reshape(-1, axes_c)
        s += chunk.sum(axis=0)
        s2 += np.einsum("ij,ij->j", chunk, chunk)
    n = data.size // axes_c
    mean = s / n
    var = np.maximum(s2 / n - mean * mean, 0.0)
    std = np.sqrt(var)
    std[std == 0] = 255.0  # a constant channel: leave its values where they are
    return (mean / 255.0).tolist(), (std / 255.0).tolist()


def _image_view(base: ImageArrayDataset, transform: Any) -> ImageArrayDataset:
    """The same uint8 arrays (no copy) under another transform, keeping the class names."""
    view = ImageArrayDataset(base.data, base.targets, transform)
    view.classes = list(base.classes)
    return view


def eval_transform(mean: list[float] | None, std: list[float] | None) -> Compose:
    """ToTensor, then Normalize when the run normalises (what validation, test and predict images get)."""
    steps: list[Any] = [ToTensor()]
    if mean is not None and std is not None:
        steps.append(Normalize(mean, std))
    return Compose(steps)


def evaluation_view(base: Any, mean: list[float] | None, std: list[float] | None, task: str) -> Any:
    """A raw split as the model sees it in evaluation: images converted (and normalised when the run
    normalises), 2-D points as they are; ``(x, x)`` pairs for a reconstruction model."""
    view = _image_view(base, eval_transform(mean, std)) if isinstance(base, ImageArrayDataset) else base
    return _InputAsTarget(view) if task == "reconstruction" else view


def _class_names(base: Any, targets: np.ndarray) -> list[str]:
    names = list(getattr(base, "classes", []) or [])
    return names if names else [str(i) for i in range(int(targets.max(initial=0)) + 1)]


def build_data(cfg: RunConfig, task: str, stats: tuple[list[float], list[float]] | None = None) -> Data:
    """Training, validation and test sets of a run (see the module docstring); ``stats`` replaces the
    normalisation statistics of the training set (pretrained weights come with their own)."""
    base_train = load_split(cfg, True)
    base_test = load_split(cfg, False)
    if isinstance(base_train, ImageArrayDataset):
        kind = "image"
        targets = base_train.targets
        normalize = cfg.normalize and task == "classification"
        mean, std = (stats or _channel_stats(base_train.data)) if normalize else (None, None)
        evaluation = eval_transform(mean, std)
        steps = list(evaluation.transforms)
        if cfg.augment:
            h, w = base_train.data.shape[1:3]
            steps += [RandomCrop((h, w), padding=CROP_PADDING), RandomHorizontalFlip()]
        train_full: Any = _image_view(base_train, Compose(steps))
        val_full: Any = _image_view(base_train, evaluation)
        input_shape = tuple(int(d) for d in np.shape(val_full[0][0]))
    elif isinstance(base_train, TensorDataset) and len(base_train.arrays()) == 2:
        kind, mean, std = "vector", None, None
        x, targets = base_train.arrays()
        if cfg.augment:
            raise RunError(f"augment (random crops and flips) applies to image datasets, not {cfg.dataset!r}")
        if targets.dtype.kind not in "iu" and task == "classification":
            raise RunError(f"dataset {cfg.dataset!r} has {targets.dtype} targets, not class labels")
        train_full = val_full = base_train
        input_shape = tuple(int(d) for d in x.shape[1:])
    else:
        raise RunError(f"dataset {cfg.dataset!r} ({type(base_train).__name__}) is neither an image dataset "
                       "nor a (features, labels) TensorDataset")
    classes = _class_names(base_train, np.asarray(targets))

    n = len(train_full)
    perm = np.random.default_rng(cfg.seed).permutation(n)
    n_val = int(round(cfg.val_split * n))
    if cfg.val_split > 0 and n_val == 0 and n > 1:
        n_val = 1
    train_idx, val_idx = perm[n_val:], np.sort(perm[:n_val])
    if cfg.train_samples is not None:
        if cfg.train_samples > len(train_idx):
            raise RunError(f"train_samples {cfg.train_samples} exceeds the {len(train_idx)} training samples "
                           f"of {cfg.dataset!r} left after holding out {n_val} for validation")
        train_idx = train_idx[:cfg.train_samples]
    if len(train_idx) == 0:
        raise RunError(f"no training samples left: {cfg.dataset!r} has {n} and val_split {cfg.val_split} "
                       f"holds out {n_val}")
    train: Any = Subset(train_full, np.sort(train_idx))
    val: Any = Subset(val_full, val_idx) if n_val else None
    if task == "reconstruction":
        train = _InputAsTarget(train)
        val = _InputAsTarget(val) if val is not None else None
    test = evaluation_view(base_test, mean, std, task)
    return Data(train, val, test, input_shape, classes, task, kind, mean, std)


def make_loader(dataset: Dataset, batch_size: int = EVAL_BATCH, shuffle: bool = False,
                seed: int | None = None) -> DataLoader:
    """A loader; a shuffling one draws its order from its own generator seeded with ``seed``, which
    checkpoints save with the loader, so a resumed run sees the same batches."""
    generator = np.random.default_rng(seed) if shuffle else None
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)


# ============================================================================================ training parts
def make_loss(task: str, model: Module, reg: float = 0.0) -> Callable[[Tensor, Tensor], Tensor]:
    r"""Cross-entropy (classification) or mean squared error (reconstruction), plus with ``reg`` > 0 the
    L2 penalty :math:`\tfrac{1}{2}\,\mathrm{reg} \sum_W \lVert W \rVert^2` over the parameters with two or
    more axes (weight matrices and kernels; biases and normalisation scales are not penalised)."""
    base = F.cross_entropy if task == "classification" else F.mse_loss
    if reg == 0:
        return base
    weights = [p for p in model.parameters() if p.ndim >= 2]
    half_reg = 0.5 * float(reg)

    def loss_with_l2(output: Tensor, target: Tensor) -> Tensor:
        loss = base(output, target)
        for w in weights:
            loss = loss + (w * w).sum() * half_reg
        return loss

    loss_with_l2.__name__ = f"{base.__name__}+l2"
    return loss_with_l2


def make_optimizer(cfg: RunConfig, params: Any) -> optim.Optimizer:
    """The optimizer ``cfg.optimizer`` with the resolved settings (``momentum`` is SGD with momentum)."""
    name, lr, wd = cfg.optimizer, cfg.lr, cfg.weight_decay
    if name in ("sgd", "momentum"):
        return optim.SGD(params, lr=lr, momentum=cfg.momentum, weight_decay=wd)
    if name == "adam":
        return optim.Adam(params, lr=lr, betas=tuple(cfg.betas), weight_decay=wd)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, betas=tuple(cfg.betas), weight_decay=wd)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=cfg.momentum, weight_decay=wd)
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr, weight_decay=wd)
    raise RunError(f"unknown optimizer {name!r}")  # pragma: no cover - resolve() checked the name


def make_scheduler(cfg: RunConfig, optimizer: optim.Optimizer) -> Any:
    """The learning-rate schedule named by ``cfg.scheduler`` (None for ``'none'``), stepped once per epoch."""
    name = cfg.scheduler
    if name == "none":
        return None
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=cfg.step_size, gamma=cfg.gamma)
    if name == "multistep":
        return lr_scheduler.MultiStepLR(optimizer, milestones=cfg.milestones, gamma=cfg.gamma)
    if name == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=cfg.gamma)
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.t_max, eta_min=cfg.eta_min)
    if name == "plateau":
        return lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=cfg.factor, patience=cfg.patience)
    raise RunError(f"unknown scheduler {name!r}")  # pragma: no cover - resolve() checked the name
