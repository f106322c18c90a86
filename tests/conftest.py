"""Shared test fixtures: seeding, and PyTorch as an optional oracle (tests using it skip without it)."""

from __future__ import annotations

import numpy as np
import pytest

import minidl

try:  # PyTorch is a test oracle only, never a runtime dependency
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="PyTorch, the parity oracle, is not installed (the test "
                                                        "extra brings it: pip install -e '.[test]')")


@pytest.fixture(autouse=True)
def _seed() -> None:
    minidl.manual_seed(0)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def to_torch(a: np.ndarray, requires_grad: bool = False):
    """A float64 torch leaf holding a copy of ``a``."""
    return torch.tensor(np.array(a), requires_grad=requires_grad)
