"""Finding dataset files on disk, and downloading them safely when they are missing.

Where a dataset called ``name`` is looked for, in order (the first folder holding every needed file wins):

1. the ``root`` argument, if given: ``<root>/<name>/``, torchvision's ``<root>/<TorchvisionName>/raw/``,
   then ``<root>/`` itself;
2. ``$MINIDL_DATA/<name>/``;
3. ``~/.cache/minidl/<name>/``;
4. ``/usr/share/datasets/<name>/`` (where Debian's ``dataset-fashion-mnist`` package installs).

Shared caches (2-4) are only searched under ``<name>/`` because MNIST and Fashion-MNIST use the very same
file names. Downloads go to ``<first writable of root, $MINIDL_DATA, ~/.cache/minidl>/<name>/``.

A download tries each mirror in turn, streams into a temporary file in the destination folder while
hashing, checks the size against ``Content-Length`` and the checksum, and only then renames it into
place with ``os.replace`` (through :func:`minidl._atomic.atomic_open`): a file at its final name is
always complete and verified, and a failed download leaves nothing behind. Checksums are written
``"<sha256 hex>"``, ``"sha256:<hex prefix>"`` (the leading 8 or more digits, as torchvision's weights files
carry in their names) or ``"md5:<hex>"`` (for archives whose publishers give only MD5).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import string
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from .. import _atomic
from ..errors import DataError, MinidlError

__all__ = [
    "DownloadError",
    "ChecksumError",
    "data_roots",
    "candidate_dirs",
    "find_dir",
    "locate",
    "download_url",
    "download_file",
    "file_digest",
    "safe_extract_tar",
    "open_temp_beside",
]

SYSTEM_DATA_DIR = Path("/usr/share/datasets")
_CHUNK = 1 << 20
PART_SUFFIX = ".part"  # partial downloads, distinct from other writers' .tmp files
_MIN_PREFIX = 8  # the shortest SHA-256 prefix accepted (torchvision's file names carry 8 or more digits)


class DownloadError(MinidlError, OSError):
    """No mirror could deliver a verified file (offline, HTTP error, bad checksum, ...)."""


class ChecksumError(DataError):
    """A downloaded file's checksum or size differs from the expected one."""


def _parse_checksum(checksum: str | None) -> tuple[str, str] | None:
    """``(algorithm, hex digest or prefix)``; a prefix only when written ``sha256:<8 to 63 hex digits>``."""
    if checksum is None:
        return None
    algo, _, digest = checksum.rpartition(":")
    prefix_ok = algo.lower() == "sha256" and _MIN_PREFIX <= len(digest) < 64
    algo = algo.lower() or "sha256"
    sizes = {"sha256": 64, "md5": 32}
    if (algo not in sizes or (len(digest) != sizes[algo] and not prefix_ok)
            or any(c not in string.hexdigits for c in digest)):
        raise ValueError(
            f"bad checksum {checksum!r}: expected a 64-digit SHA-256 hex, 'sha256:<{_MIN_PREFIX} or more hex "
            "digits>' (a prefix of it, as torchvision writes in its file names) or 'md5:<32 hex digits>'"
        )
    return algo, digest.lower()


def open_temp_beside(path: Path) -> tuple[BinaryIO, Path]:
    """A new, exclusively created temporary file ``.<name>.<random>.part`` next to ``path``, for a
    write-then-``os.replace`` (:func:`minidl._atomic.open_temp_beside`, the one implementation).

    Unlike ``tempfile.mkstemp`` (mode 0600) it gets the usual permissions allowed by the umask, so the
    file renamed into a shared data folder stays readable by others.
    """
    return _atomic.open_temp_beside(path, suffix=PART_SUFFIX)


def _new_hash(algo: str) -> Any:
    return hashlib.new(algo, usedforsecurity=False) if algo == "md5" else hashlib.new(algo)


def file_digest(path: str | os.PathLike, algo: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    h = _new_hash(algo)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def data_roots() -> list[Path]:
    """The shared data folders in search order: ``$MINIDL_DATA``, ``~/.cache/minidl``, the system folder."""
    roots = []
    env = os.environ.get("MINIDL_DATA")
    if env:
        roots.append(Path(env).expanduser())
    roots.append(Path.home() / ".cache" / "minidl")
    roots.append(SYSTEM_DATA_DIR)
    return roots


def candidate_dirs(name: str, root: str | os.PathLike | None = None,
                   aliases: Sequence[str] = ()) -> list[Path]:
    """Every folder where dataset ``name`` may live, in search order (see the module docstring)."""
    dirs: list[Path] = []
    if root is not None:
        r = Path(root).expanduser()
        dirs += [r / name, *(r / a for a in aliases), r]
    dirs += [base / name for base in data_roots()]
    return list(dict.fromkeys(dirs))


def find_dir(name: str, files: Sequence[str], root: str | os.PathLike | None = None,
             aliases: Sequence[str] = ()) -> tuple[Path | None, list[Path]]:
    """The first candidate folder holding all ``files`` (or ``None``), and the folders looked in."""
    looked = candidate_dirs(name, root, aliases)
    for d in looked:
        if all((d / f).is_file() for f in files):
            return d, looked
    return None, looked


def _writable_dir(name: str, root: str | os.PathLike | None) -> Path:
    if root is not None:
        bases = [Path(root).expanduser()]
    else:
        bases = [b for b in data_roots() if b != SYSTEM_DATA_DIR]
    errors = []
    for base in bases:
        target = base / name
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            errors.append(f"{target}: {e}")
            continue
        if os.access(target, os.W_OK):
            return target
        errors.append(f"{target}: not writable")
    raise DownloadError(f"{name}: no writable folder to download into: " + "; ".join(errors))


def locate(name: str, files: Sequence[str], root: str | os.PathLike | None, download: bool,
           fetch: Callable[[Path], None], aliases: Sequence[str] = ()) -> Path:
    """The folder holding dataset ``name``'s ``files``; downloads them with ``fetch(folder)`` if needed.

    Raises ``FileNotFoundError`` listing every folder looked in when the files are absent and
    ``download`` is false, and :class:`DownloadError` when the download fails.
    """
    found, looked = find_dir(name, files, root, aliases)
    if found is not None:
        return found
    where = "\n  ".join(str(d) for d in looked)
    if not download:
        raise FileNotFoundError(
            f"{name}: files {list(files)} not found. Looked in:\n  {where}\n"
            "Pass download=True, or put the files in one of these folders (or set $MINIDL_DATA)."
        )
    target = _writable_dir(name, root)
    fetch(target)
    missing = [f for f in files if not (target / f).is_file()]
    if missing:
        raise DownloadError(f"{name}: download into {target} finished but {missing} are still missing")
    return target


def download_url(url: str, path: str | os.PathLike, checksum: str | None = None,
                 timeout: float = 60.0) -> Path:
    """Download ``url`` to ``path`` atomically, verifying ``checksum`` (see the module docstring).

    Raises :class:`ChecksumError` on a checksum or size mismatch and ``OSError`` (``urllib.error.URLError``,
    ``TimeoutError``, ...) on network failures; in every failure case no file is left at ``path`` nor any
    temporary file beside it.
    """
    path = Path(path)
    spec = _parse_checksum(checksum)
    h = _new_hash(spec[0]) if spec else None
    size = 0
    # the checks raise inside the block: atomic_open then deletes the .part file and never renames it
    with _atomic.atomic_open(path, "wb", suffix=PART_SUFFIX) as out, \
            urllib.request.urlopen(url, timeout=timeout) as resp:
        declared = resp.headers.get("Content-Length")
        try:
            while chunk := resp.read(_CHUNK):
                out.write(chunk)
                size += len(chunk)
                if h is not None:
                    h.update(chunk)
        except http.client.IncompleteRead as e:
            raise ChecksumError(f"{url}: truncated download: connection closed early ({e!r})") from None
        if declared is not None and int(declared) != size:
            raise ChecksumError(f"{url}: truncated download: got {size} of {declared} bytes")
        if h is not None and spec is not None and not h.hexdigest().startswith(spec[1]):
            expected = spec[1] if len(spec[1]) == h.digest_size * 2 else f"{spec[1]}... (a prefix)"
            raise ChecksumError(f"{url}: {spec[0].upper()} mismatch: expected {expected}, got {h.hexdigest()}")
    return path


def download_file(filename: str, checksum: str | None, mirrors: Sequence[str], folder: str | os.PathLike,
                  timeout: float = 60.0) -> Path:
    """Fetch ``filename`` into ``folder`` from the first mirror that delivers it intact.

    Raises :class:`DownloadError` listing each mirror's failure when none does.
    """
    if not mirrors:
        raise DownloadError(f"{filename}: no mirror configured")
    errors = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        try:
            return download_url(url, Path(folder) / filename, checksum, timeout=timeout)
        except urllib.error.HTTPError as e:
            errors.append(f"{url}: HTTP {e.code} {e.reason}")
        except (urllib.error.URLError, OSError, http.client.HTTPException, ChecksumError) as e:
            reason = e.reason if isinstance(e, urllib.error.URLError) else e
            errors.append(f"{url}: {reason}")
    detail = "\n  ".join(errors)
    raise DownloadError(
        f"could not download {filename} (offline, or every mirror failed):\n  {detail}\n"
        f"Download it by hand into {folder}, or into a folder given as root=."
    )


def safe_extract_tar(archive: str | os.PathLike, folder: str | os.PathLike) -> list[Path]:
    """Extract the regular files and folders of a tar archive into ``folder``; return the files written.

    Every member is checked before anything is written: absolute paths, ``..`` components, links and
    device files are rejected with a ``ValueError`` naming the member, so nothing can land outside
    ``folder``. Files are staged in a temporary folder inside ``folder`` and each moved into place with
    ``os.replace``.
    """
    archive, dest = Path(archive), Path(folder).resolve()
    written: list[Path] = []
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        for m in members:
            parts = PurePosixPath(m.name).parts
            if not (m.isfile() or m.isdir()):
                raise ValueError(
                    f"{archive}: refusing to extract {m.name!r}: links and special files are not allowed"
                )
            escapes = not (dest / m.name).resolve().is_relative_to(dest)
            if m.name.startswith(("/", "\\")) or ".." in parts or escapes:
                raise ValueError(f"{archive}: refusing to extract {m.name!r}: its path leaves {dest}")
        stage = Path(tempfile.mkdtemp(dir=dest, prefix=".extract-"))
        try:
            staged = []
            for m in members:
                if not m.isfile():
                    continue
                tmp = stage / m.name
                tmp.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(m)
                assert src is not None  # regular file
                with src, open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
                staged.append((tmp, dest / m.name))
            for m in members:
                if m.isdir():
                    (dest / m.name).mkdir(parents=True, exist_ok=True)
            for tmp, final in staged:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, final)
                written.append(final)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    return written
