"""Layout and memory-format names PyTorch code passes around (``minidl.strided``, ``minidl.channels_last``,
...). minidl keeps its own internal layouts (convolutions work channels-last whatever is asked), so these
are accepted wherever PyTorch takes them and change no result."""

from __future__ import annotations

__all__ = ["layout", "memory_format", "strided", "sparse_coo", "contiguous_format", "channels_last",
           "preserve_format", "channels_last_3d"]


class layout:  # noqa: N801 - PyTorch's name
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"minidl.{self.name}"


class memory_format:  # noqa: N801 - PyTorch's name
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"minidl.{self.name}"


strided, sparse_coo = layout("strided"), layout("sparse_coo")
contiguous_format, channels_last = memory_format("contiguous_format"), memory_format("channels_last")
preserve_format, channels_last_3d = memory_format("preserve_format"), memory_format("channels_last_3d")
