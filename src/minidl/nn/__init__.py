"""``minidl.nn``: functional API today; modules, layers and losses build on it."""

from . import functional

__all__ = ["functional"]
