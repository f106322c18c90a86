"""Whether ops record the autograd graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``inference_mode`` (PyTorch's names; each works as a context manager and as a decorator)."""

from __future__ import annotations

import contextlib
from typing import Any

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled", "state"]


class _State:
    """The one switch the engine reads on every op (``state.enabled``)."""

    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = True


state = _State()


def is_grad_enabled() -> bool:
    return state.enabled


class set_grad_enabled(contextlib.ContextDecorator):  # noqa: N801 - PyTorch's name
    """Turn graph recording on or off: ``set_grad_enabled(False)`` as a call, a ``with`` block or a decorator."""

    def __init__(self, mode: bool) -> None:
        self.prev = state.enabled
        self.mode = bool(mode)
        state.enabled = self.mode  # as in torch, calling it (without ``with``) switches at once

    def __call__(self, fn: Any) -> Any:
        state.enabled = self.prev  # used as a decorator: the switch applies inside the function only
        return super().__call__(fn)

    def __enter__(self) -> None:
        state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        state.enabled = self.prev

    def clone(self) -> set_grad_enabled:
        return type(self)(self.mode)


class _GradModeBlock(contextlib.ContextDecorator):
    """A ``with`` block (or decorator) that sets the mode on entry and restores it on exit."""

    mode = True

    def __enter__(self) -> None:
        self.prev = state.enabled
        state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        state.enabled = self.prev


class no_grad(_GradModeBlock):  # noqa: N801
    """Run without recording a graph: no nodes, no caches kept (``with minidl.no_grad(): ...``)."""

    mode = False


class enable_grad(_GradModeBlock):  # noqa: N801
    """Re-enable graph recording inside a ``no_grad`` block."""

    mode = True


class inference_mode(_GradModeBlock):  # noqa: N801
    """PyTorch's faster ``no_grad`` for inference; in minidl the same as :class:`no_grad`."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode
