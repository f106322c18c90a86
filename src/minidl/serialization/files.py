"""File plumbing shared by every format :func:`minidl.save` writes and :func:`minidl.load` reads.

``f`` is a path (``str`` or :class:`os.PathLike`) or a binary file object, as in ``torch.save``/``torch.load``.
A path is written atomically (:mod:`minidl._atomic`): a crash mid-write leaves the old file or the new one,
never a torn one. A file object is written where it stands, and is read from its current position.

Errors about a file are :class:`CheckpointError` s whose message starts with the file's name; anything
that goes wrong deep inside a reader (a bad zip directory, a short read, a malformed pickle) is reported as
a corrupt or truncated file, never as a traceback from the zip, pickle or NumPy internals.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, TypeGuard, cast

import numpy as np

from .. import errors
from .._atomic import atomic_open
from ..functions import from_numpy
from ..tensor import Tensor

__all__ = ["FileLike", "CheckpointError", "is_path", "name_of", "open_for_reading", "open_for_writing",
           "translating_errors", "to_tensor", "member_start", "read_member", "read_exact"]

FileLike = str | os.PathLike | IO[bytes]


class CheckpointError(errors.CheckpointError):
    """:class:`minidl.errors.CheckpointError` about one file: the message names it, ``.path`` keeps it."""

    def __init__(self, path: Any, message: str) -> None:
        self.path = str(path)
        super().__init__(f"checkpoint {self.path!r}: {message}")


def is_path(f: Any) -> TypeGuard[str | os.PathLike]:
    return isinstance(f, str | os.PathLike)


def name_of(f: Any) -> str:
    """What error messages call ``f``: the path, or a file object's ``name`` when it has a usable one."""
    if is_path(f):
        return os.fspath(f)
    name = getattr(f, "name", None)
    return name if isinstance(name, str) else f"<{type(f).__name__}>"


@contextlib.contextmanager
def open_for_reading(f: FileLike) -> Iterator[IO[bytes]]:
    """A seekable binary file to read ``f`` from: the opened path, or ``f`` itself (read into memory first
    when it cannot seek, as the zip and pickle readers need to)."""
    if is_path(f):
        path = Path(f)
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {os.fspath(f)!r}")
        with open(path, "rb") as fp:
            yield fp
        return
    if not callable(getattr(f, "read", None)):
        raise TypeError(f"minidl.load expects a path or a binary file object, got {type(f).__name__}")
    fobj = cast(IO[bytes], f)
    if not (callable(getattr(fobj, "seekable", None)) and fobj.seekable()):
        fobj = io.BytesIO(fobj.read())
    yield fobj


@contextlib.contextmanager
def open_for_writing(f: FileLike) -> Iterator[IO[bytes]]:
    """A binary file to write ``f`` through: a temporary file that atomically replaces the path on success,
    or the caller's file object."""
    if is_path(f):
        with atomic_open(f, "wb") as fp:
            yield fp
        return
    if not callable(getattr(f, "write", None)):
        raise TypeError(f"minidl.save expects a path or a binary file object, got {type(f).__name__}")
    yield cast(IO[bytes], f)


# what the zip, pickle, struct and NumPy readers raise on damaged input
_DAMAGE = (zipfile.BadZipFile, zipfile.LargeZipFile, pickle.UnpicklingError, struct.error, EOFError, OSError,
           NotImplementedError,  # zipfile: a damaged "version needed" or compression method field
           ValueError, KeyError, IndexError, TypeError, AttributeError, UnicodeDecodeError, OverflowError)


@contextlib.contextmanager
def translating_errors(name: str) -> Iterator[None]:
    """Report damaged input met inside the block as a :class:`CheckpointError` naming the file.

    minidl's own errors (refusals, device errors) pass through unchanged.
    """
    try:
        yield
    except errors.MinidlError:
        raise
    except RecursionError as e:
        raise CheckpointError(name, "nested too deeply to be read") from e
    except _DAMAGE as e:
        raise CheckpointError(name, f"corrupt or truncated file ({type(e).__name__}: {e})") from e


def to_tensor(arr: np.ndarray, name: str) -> Tensor:
    """``arr`` as a minidl tensor sharing its memory (native byte order first), or a :class:`CheckpointError`
    naming the file when minidl has no tensors of that dtype."""
    arr = arr.astype(arr.dtype.newbyteorder("="), copy=False)
    try:
        return from_numpy(arr)
    except TypeError as e:
        raise CheckpointError(name, f"holds a {arr.dtype} tensor, which minidl cannot represent ({e})") from e


def member_start(fp: IO[bytes], info: zipfile.ZipInfo) -> int:
    """Where a zip member's bytes start in ``fp``: after its local header, whose extra field may differ in
    length from the central directory's."""
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header of member {info.filename!r}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len


def read_member(zf: zipfile.ZipFile, fp: IO[bytes], info: zipfile.ZipInfo) -> np.ndarray:
    """A member's bytes as a new, writable uint8 array, its CRC-32 checked.

    A stored (uncompressed) member, which is what both NumPy and torch write, is read with one read from
    ``fp`` straight into the array, without the copies of :meth:`zipfile.ZipFile.read`.
    """
    if info.compress_type != zipfile.ZIP_STORED:
        return np.frombuffer(bytearray(zf.read(info)), dtype=np.uint8)
    out = np.empty(info.file_size, dtype=np.uint8)
    fp.seek(member_start(fp, info))
    read_exact(fp, out, f"member {info.filename!r}")
    if zlib.crc32(out.data) != info.CRC:
        raise zipfile.BadZipFile(f"member {info.filename!r} fails its CRC-32 check (the file is damaged)")
    return out


def read_exact(fp: Any, buffer: Any, what: str) -> None:  # fp: a binary file with readinto
    """Fill ``buffer`` (a writable bytes-like object) from ``fp``; a short file raises ``EOFError``."""
    view = memoryview(buffer).cast("B")
    done = 0
    while done < len(view):
        n = fp.readinto(view[done:])
        if not n:
            raise EOFError(f"{what}: the file ends after {done} of {len(view)} bytes")
        done += n
