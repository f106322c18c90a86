"""Toy 2-D classification sets: ``X`` float32 (n, 2), ``y`` int64 (n,).

Each takes ``generator``: a ``numpy.random.Generator``, an int seed, or ``None`` for minidl's global
generator (so ``minidl.manual_seed`` fixes them). ``noise`` is the standard deviation of Gaussian noise
added to each coordinate. Classes are as balanced as ``n`` allows (sizes differ by at most one) and the
samples come shuffled. Wrap them with ``TensorDataset(X, y)`` for a DataLoader.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..random import default_generator
from ..utils.data.sampler import resolve_generator

__all__ = ["make_xor", "make_moons", "make_spirals", "make_blobs"]


def _check(owner: str, n: int, noise: float, classes: int = 1) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"{owner}: n must be a positive int, got {n!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"{owner}: noise must be a finite non-negative number, got {noise!r}")
    if n < classes:
        raise ValueError(f"{owner}: n={n} is smaller than the number of classes {classes}")


def _class_sizes(n: int, k: int) -> np.ndarray:
    return np.full(k, n // k) + (np.arange(k) < n % k)


def _finish(x: np.ndarray, y: np.ndarray, noise: float, g: np.random.Generator) -> tuple:
    """Add coordinate noise, shuffle, cast to (float32, int64)."""
    if noise:
        x = x + noise * g.standard_normal(x.shape)
    perm = g.permutation(len(x))
    return x[perm].astype(np.float32), y[perm].astype(np.int64)


def _rng(generator: Any, owner: str) -> np.random.Generator:
    return resolve_generator(generator, owner) or default_generator()


def make_xor(n: int, noise: float = 0.0, generator: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-1, 1]^2 labelled by XOR of the signs: ``y = 1`` where ``x0 * x1 < 0``."""
    _check("make_xor", n, noise)
    g = _rng(generator, "make_xor")
    x = g.uniform(-1.0, 1.0, size=(n, 2))
    y = (x[:, 0] * x[:, 1] < 0).astype(np.int64)
    return _finish(x, y, noise, g)


def make_moons(n: int, noise: float = 0.0, generator: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's moons).

    Class 0: ``(cos t, sin t)``; class 1: ``(1 - cos t, 1/2 - sin t)``, t evenly spaced in [0, pi].
    """
    _check("make_moons", n, noise, 2)
    g = _rng(generator, "make_moons")
    n0, n1 = _class_sizes(n, 2)
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    outer = np.stack([np.cos(t0), np.sin(t0)], 1)
    inner = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1)
    x = np.concatenate([outer, inner])
    y = np.repeat([0, 1], [n0, n1])
    return _finish(x, y, noise, g)


def make_spirals(n: int, classes: int = 3, noise: float = 0.0,
                 generator: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms (CS231n's spiral set).

    Arm k: radius r evenly spaced in [0, 1] and angle ``theta = 4 (k + r)`` radians; the point is
    ``(r sin theta, r cos theta)``.
    """
    _check("make_spirals", n, noise, classes)
    if isinstance(classes, bool) or not isinstance(classes, int | np.integer) or classes < 1:
        raise ValueError(f"make_spirals: classes must be a positive int, got {classes!r}")
    g = _rng(generator, "make_spirals")
    sizes = _class_sizes(n, classes)
    r = np.concatenate([np.linspace(0.0, 1.0, s) for s in sizes])
    y = np.repeat(np.arange(classes), sizes)
    theta = 4.0 * y + 4.0 * r
    x = np.stack([r * np.sin(theta), r * np.cos(theta)], 1)
    return _finish(x, y, noise, g)


def make_blobs(n: int, centers: int | np.ndarray = 3, std: float = 1.0, generator: Any = None,
               center_box: tuple[float, float] = (-10.0, 10.0)) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs of standard deviation ``std`` around ``centers``.

    ``centers``: a count (centres drawn uniformly in ``center_box`` squared) or a (k, 2) array.
    """
    _check("make_blobs", n, std)
    g = _rng(generator, "make_blobs")
    if isinstance(centers, int | np.integer) and not isinstance(centers, bool):
        if centers < 1:
            raise ValueError(f"make_blobs: centers must be positive, got {centers}")
        c = g.uniform(center_box[0], center_box[1], size=(int(centers), 2))
    else:
        c = np.asarray(centers, dtype=np.float64)
        if c.ndim != 2 or c.shape[1] != 2 or len(c) == 0:
            raise ValueError(f"make_blobs: centers must be an int or a (k, 2) array, got shape {c.shape}")
    if n < len(c):
        raise ValueError(f"make_blobs: n={n} is smaller than the number of centers {len(c)}")
    y = np.repeat(np.arange(len(c)), _class_sizes(n, len(c)))
    return _finish(c[y], y, std, g)
