"""Datasets by name, for the command line: ``minidl.datasets.get("fashion-mnist", train=True)``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..utils.data.dataset import Dataset, TensorDataset
from .characters import SyntheticCharacters
from .cifar import CIFAR10
from .digits import Digits
from .embedded import FashionMNISTSmall
from .folder import load_image_folder
from .gaze import SyntheticGaze
from .mnist import MNIST, FashionMNIST
from .nist36 import NIST36
from .toy import make_blobs, make_moons, make_spirals, make_xor

__all__ = ["get", "register", "available"]

_FACTORIES: dict[str, Callable[..., Dataset]] = {}
_ALIASES: dict[str, str] = {}

#: default sizes and seeds of the toy sets: train and test differ, and both are fixed.
TOY_SIZES = {True: 1000, False: 500}
TOY_SEEDS = {True: 0, False: 1}


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def register(name: str, factory: Callable[..., Dataset], aliases: tuple[str, ...] = ()) -> None:
    """Make ``get(name, train, root, **kwargs)`` call ``factory(train=train, root=root, **kwargs)``."""
    _FACTORIES[_key(name)] = factory
    for a in aliases:
        _ALIASES[_key(a)] = _key(name)


def available() -> list[str]:
    """The registered names (aliases not included)."""
    return sorted(_FACTORIES)


def get(name: str, train: bool = True, root: str | os.PathLike | None = None, **kwargs: Any) -> Dataset:
    """The dataset called ``name`` (case and ``_``/``-`` insensitive); extra ``kwargs`` go to its class.

    Names: fashion-mnist, mnist, cifar10, embedded (alias fashion-mnist-small), synthetic-characters
    (alias chars), synthetic-gaze (alias gaze), digits, nist36 (the ``.mat`` files in ``root``), folder (an
    image folder with train/ and test/ splits, at ``root``), xor, moons, spirals, blobs. The synthetic sets and
    NIST36 give their ``"train"`` split for ``train=True`` and their ``"test"`` split (held-out fonts for the
    characters) otherwise. Toy sets come as a :class:`TensorDataset` of ``n`` points (1,000 train / 500 test
    by default) with fixed, different seeds for the two splits unless ``generator`` is given.
    """
    key = _key(name)
    key = _ALIASES.get(key, key)
    if key not in _FACTORIES:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(available())}")
    return _FACTORIES[key](train=train, root=root, **kwargs)


def _folder_root(root: str | os.PathLike | None) -> str | os.PathLike:
    if root is None:
        raise ValueError("dataset 'folder' reads DATA_ROOT/train/<class>/* and DATA_ROOT/test/<class>/*: give the "
                         "folder as data_root (--data-root DIR)")
    return root


def _toy(make: Callable[..., tuple]) -> Callable[..., Dataset]:
    def factory(train: bool = True, root: Any = None, n: int | None = None, generator: Any = None,
                **kwargs: Any) -> Dataset:
        n = TOY_SIZES[bool(train)] if n is None else n
        generator = TOY_SEEDS[bool(train)] if generator is None else generator
        return TensorDataset(*make(n, generator=generator, **kwargs))

    factory.__doc__ = f"TensorDataset of :func:`{make.__name__}`."
    return factory


register("fashion-mnist", lambda train=True, root=None, **kw: FashionMNIST(root, train=train, **kw),
         aliases=("fashionmnist", "fmnist"))
register("mnist", lambda train=True, root=None, **kw: MNIST(root, train=train, **kw))
register("cifar10", lambda train=True, root=None, **kw: CIFAR10(root, train=train, **kw),
         aliases=("cifar-10",))
register("embedded", lambda train=True, root=None, **kw: FashionMNISTSmall(train=train, **kw),
         aliases=("fashion-mnist-small",))
register("folder", lambda train=True, root=None, **kw: load_image_folder(_folder_root(root), train, **kw),
         aliases=("imagefolder", "image-folder"))
register("synthetic-characters", lambda train=True, root=None, **kw: SyntheticCharacters(
    "train" if train else "test", **kw), aliases=("chars", "synthetic-chars"))
register("synthetic-gaze", lambda train=True, root=None, **kw: SyntheticGaze("train" if train else "test", **kw),
         aliases=("gaze",))
register("digits", lambda train=True, root=None, **kw: Digits(train=train, **kw))
register("nist36", lambda train=True, root=None, **kw: NIST36(root if root is not None else ".",
                                                              "train" if train else "test", **kw))
register("xor", _toy(make_xor))
register("moons", _toy(make_moons))
register("spirals", _toy(make_spirals))
register("blobs", _toy(make_blobs))
