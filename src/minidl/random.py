"""Random state: one seeded NumPy ``Generator`` shared by init, dropout, data shuffling and the random
functions, plus PyTorch's ``Generator`` objects for explicit streams (``generator=`` arguments).

minidl draws with NumPy's PCG64, so seeded draws are reproducible run to run but are not the numbers PyTorch
would draw for the same seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["manual_seed", "seed", "initial_seed", "default_generator", "get_rng_state", "set_rng_state",
           "Generator", "numpy_generator"]

_generator = np.random.default_rng()
_initial_seed: int | None = None


def manual_seed(seed: int) -> np.random.Generator:
    """Seed minidl's global generator (like ``torch.manual_seed``) and return it."""
    global _generator, _initial_seed
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
    _initial_seed = int(seed)
    _generator = np.random.default_rng(_initial_seed)
    return _generator


def _fresh_seed() -> int:
    """63 bits of fresh OS entropy (a SeedSequence's ``entropy`` is an int when no seed is given)."""
    entropy = np.random.SeedSequence().entropy
    assert isinstance(entropy, int)
    return entropy % (2**63)


def seed() -> int:
    """Seed the global generator from fresh entropy and return the seed used (``torch.seed``)."""
    s = _fresh_seed()
    manual_seed(s)
    return s


def initial_seed() -> int:
    """The seed last given to :func:`manual_seed` (or drawn by :func:`seed`)."""
    global _initial_seed
    if _initial_seed is None:
        return seed()
    return _initial_seed


def default_generator() -> np.random.Generator:
    """The generator minidl draws from when no explicit one is given."""
    return _generator


def get_rng_state() -> dict:
    """The global generator's state, JSON-serialisable (for checkpoints)."""
    return dict(_generator.bit_generator.state)


def set_rng_state(state: dict) -> None:
    """Restore a state returned by :func:`get_rng_state`."""
    _generator.bit_generator.state = state


class Generator:
    """An explicit random stream (``torch.Generator``): ``g = minidl.Generator().manual_seed(0)``, then pass
    ``generator=g`` to random functions, ``DataLoader``, ``random_split``, samplers and init functions."""

    def __init__(self, device: Any = "cpu") -> None:
        from .device import check_device

        check_device(device)
        self._seed = _fresh_seed()
        self.rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
            raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        self.manual_seed(_fresh_seed())
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return dict(self.rng.bit_generator.state)

    def set_state(self, state: dict) -> Generator:
        self.rng.bit_generator.state = state
        return self

    @property
    def device(self) -> Any:
        from .device import CPU

        return CPU


def numpy_generator(generator: Any) -> np.random.Generator:
    """The NumPy generator to draw from: that of ``generator`` (a :class:`Generator` or a NumPy one), or the
    global one when ``None`` (looked up now, since :func:`manual_seed` replaces it)."""
    if generator is None:
        return _generator
    if isinstance(generator, Generator):
        return generator.rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError("generator must be a minidl.Generator (or a numpy.random.Generator), got "
                    f"{type(generator).__name__}")
