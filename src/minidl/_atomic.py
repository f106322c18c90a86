"""Atomic file writes: the one implementation every file minidl writes goes through.

A file is written under a temporary name in its destination directory and, only once complete, renamed
onto the destination with :func:`os.replace`. Because the temporary file lives in the same directory, the
rename stays within one filesystem and is atomic (POSIX, and Windows for ``os.replace``): a reader, a
concurrent writer or a crash mid-write sees either the old file or the complete new one, never a torn one.

The steps of :func:`atomic_path`:

1. create the temporary file ``.<name>.<random>.tmp`` beside ``dest`` *exclusively* (``O_CREAT | O_EXCL``)
   with mode ``0o666`` filtered by the umask, so two writers of the same destination never share a temporary
   file, and the published file gets the user's usual permissions (``tempfile.mkstemp`` would leave it
   private, 0600);
2. let the caller write it (a NumPy or matplotlib writer, a subprocess given the path, ...);
3. on success fsync the file's data, ``os.replace`` it onto ``dest`` and fsync the directory, so that
   after a power loss the new name points at the new data;
4. on any exception (including ``KeyboardInterrupt``) delete the temporary file and re-raise: ``dest``
   keeps its old contents, or stays absent if there was none. An ``OSError`` of the writer that names no
   file (a full disk or a file-size limit met by ``write``) is re-raised naming ``dest``.

:func:`atomic_open`, :func:`atomic_write_text` and :func:`atomic_write_bytes` are built on it.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

__all__ = ["atomic_path", "atomic_open", "atomic_write_text", "atomic_write_bytes", "open_temp_beside",
           "remove_stale_temps"]

PathLike = str | os.PathLike

# long destination names are cut in the temporary name so that it stays under the 255-byte name limit
_NAME_KEEP = 120
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation on the raw descriptor


def open_temp_beside(dest: PathLike, suffix: str = ".tmp") -> tuple[BinaryIO, Path]:
    """A new temporary file ``.<dest name>.<random hex><suffix>`` in ``dest``'s directory, opened for binary
    writing, and its path.

    The file is created exclusively (a name clash with another writer raises inside and a fresh name is
    drawn), with the permissions ``0o666 & ~umask`` a plain ``open(..., "w")`` would give. The caller
    owns it: it must close it and either rename or delete it (:func:`atomic_path` does both).
    """
    dest = Path(dest)
    for _ in range(16):
        tmp = dest.parent / f".{dest.name[:_NAME_KEEP]}.{secrets.token_hex(8)}{suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o666)
        except FileExistsError:
            continue
        return os.fdopen(fd, "wb"), tmp
    raise FileExistsError(f"atomic write of {str(dest)!r}: could not create a unique temporary file beside it")


#: the names :func:`open_temp_beside` gives with the default suffix: ``.<name>.<16 hex digits>.tmp``
_TEMP_NAME = re.compile(r"\..+\.[0-9a-f]{16}\.tmp")


def remove_stale_temps(directory: PathLike) -> list[Path]:
    """Delete the temporary files a writer killed mid-write (SIGKILL, power loss) left in ``directory``.

    Only names of :func:`open_temp_beside`'s pattern are touched. Call it when a program that owns the
    directory starts (``minidl train`` does for its run directory): a writer still running there would lose
    its temporary file. Returns the paths removed.
    """
    removed = []
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in os.scandir(os.fspath(directory)):
            if entry.is_file(follow_symlinks=False) and _TEMP_NAME.fullmatch(entry.name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _fsync_file(path: Path) -> None:
    """Flush ``path``'s data to disk; an I/O error here means the data may be lost, so it propagates."""
    # Windows' fsync (_commit) needs a writable descriptor; POSIX accepts a read-only one
    fd = os.open(path, (os.O_RDWR | _BINARY) if os.name == "nt" else os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX); a no-op where directories cannot be opened or fsynced."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(dest: PathLike, *, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield the path of a new, empty temporary file beside ``dest``; on success it replaces ``dest``.

    Write the yielded path with anything that takes a file name (it may truncate or rewrite the file).
    When the block ends normally the file is fsync'ed, moved onto ``dest`` with :func:`os.replace` and the
    directory fsync'ed; when it raises, the temporary file is deleted and the exception propagates, leaving
    ``dest`` untouched. Missing parent directories of ``dest`` are created. ``suffix`` ends the temporary
    name (``.part`` for downloads). See the module docstring for the guarantees.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    f, tmp = open_temp_beside(dest, suffix)
    try:
        f.close()
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, dest)
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(e, OSError) and e.filename is None and e.errno is not None:  # a write() names no file
            raise OSError(e.errno, e.strerror, os.fspath(dest)) from e
        raise
    _fsync_dir(dest.parent)


@contextlib.contextmanager
def atomic_open(dest: PathLike, mode: str = "wb", *, encoding: str | None = None, newline: str | None = None,
                suffix: str = ".tmp") -> Iterator[IO[Any]]:
    """Open a file object that is written to a temporary file and atomically becomes ``dest`` on success.

    ``mode`` is a write mode: ``"wb"`` (default) or ``"w"``/``"wt"`` for text (``encoding`` defaults to
    UTF-8 then; ``newline`` as for :func:`open`). Raising inside the block discards everything written
    and leaves ``dest`` as it was, so checks on the data (a checksum, a size) belong inside the block.
    """
    if mode not in ("w", "wt", "wb"):
        raise ValueError(f"atomic_open: mode must be 'w', 'wt' or 'wb' (whole-file writes), got {mode!r}")
    if "b" in mode:
        if encoding is not None or newline is not None:
            raise ValueError("atomic_open: encoding and newline apply only to text mode, not 'wb'")
    elif encoding is None:
        encoding = "utf-8"
    with atomic_path(dest, suffix=suffix) as tmp, open(tmp, mode, encoding=encoding, newline=newline) as f:
        yield f


def atomic_write_text(dest: PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``dest`` atomically (like :meth:`pathlib.Path.write_text`); return ``dest`` as a Path."""
    with atomic_open(dest, "w", encoding=encoding) as f:
        f.write(text)
    return Path(dest)


def atomic_write_bytes(dest: PathLike, data: bytes | bytearray | memoryview) -> Path:
    """Write ``data`` to ``dest`` atomically; return ``dest`` as a :class:`~pathlib.Path`."""
    with atomic_open(dest, "wb") as f:
        f.write(data)
    return Path(dest)
