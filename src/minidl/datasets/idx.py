"""Reader and writer for the IDX format of MNIST-style datasets (plain or gzipped).

Layout (big-endian): two zero bytes, a type byte, a dimension count ``d``, then ``d`` uint32 sizes, then
the values in C order. Type bytes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
0x0E float64. For example MNIST's training images start with ``00 00 08 03`` and dims 60000, 28, 28.

:func:`read_idx` checks every part of that (magic number, dims, payload size, gzip integrity) and raises a
:class:`~minidl.errors.DataError` (a ``ValueError``) naming the file on any mismatch.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .._atomic import atomic_write_bytes
from ..errors import DataError

__all__ = ["read_idx", "write_idx", "IDX_TYPES"]

#: IDX type byte -> big-endian NumPy dtype.
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: corrupt or truncated gzip data ({e})") from None


def read_idx(path: str | os.PathLike, ndim: int | None = None, dtype: npt.DTypeLike | None = None) -> np.ndarray:
    """The array stored in IDX file ``path`` (gzip detected from the content), in native byte order.

    uint8 data (images, labels) is returned as a read-only view of the decompressed bytes: no copy, and
    in-place transforms cannot corrupt a dataset. ``ndim`` and ``dtype``, if given, are checked.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataError(f"{path}: not an IDX file: {len(raw)} bytes, shorter than the 4-byte magic number")
    magic = int.from_bytes(raw[:4], "big")
    zero, code, nd = raw[0] | raw[1], raw[2], raw[3]
    if zero or code not in IDX_TYPES or nd == 0:
        raise DataError(
            f"{path}: bad IDX magic number 0x{magic:08X}: expected 0x0000TTDD with a type TT in "
            f"{{{', '.join(f'{k:02X}' for k in IDX_TYPES)}}} and at least one dimension DD"
        )
    header = 4 + 4 * nd
    if len(raw) < header:
        raise DataError(
            f"{path}: truncated IDX header: {nd} dimensions need {header} bytes, file has {len(raw)}"
        )
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=nd, offset=4))
    stored = IDX_TYPES[code]
    expected = math.prod(dims) * stored.itemsize  # Python ints: a product of huge dims cannot wrap around
    if len(raw) - header != expected:
        raise DataError(
            f"{path}: IDX header declares dims {dims} of {stored.name} ({expected} bytes of data), "
            f"but the file holds {len(raw) - header} bytes after the header"
        )
    if ndim is not None and nd != ndim:
        raise DataError(f"{path}: expected an IDX array with {ndim} dimensions, got dims {dims}")
    native = stored.newbyteorder("=")
    if dtype is not None and native != np.dtype(dtype):
        raise DataError(f"{path}: expected IDX values of type {np.dtype(dtype)}, got {native}")
    arr = np.frombuffer(raw, dtype=stored, offset=header).reshape(dims)
    if stored.itemsize > 1:
        arr = arr.astype(native)
    return arr


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file, gzipped if ``compress`` (default: when the name ends in ``.gz``).

    Deterministic bytes (the gzip header holds no name and mtime 0), written atomically
    (:func:`minidl._atomic.atomic_write_bytes`: a temporary file in the same folder, then ``os.replace``).
    """
    path = Path(path)
    array = np.asarray(array)
    codes = {dt.newbyteorder("=").str: code for code, dt in IDX_TYPES.items()}
    code = codes.get(array.dtype.newbyteorder("=").str)
    if code is None:
        raise TypeError(
            f"write_idx: dtype {array.dtype} has no IDX type "
            "(use uint8, int8, int16, int32, float32 or float64)"
        )
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"write_idx: IDX stores 1 to 255 dimensions, got shape {array.shape}")
    payload = (
        bytes([0, 0, code, array.ndim])
        + np.asarray(array.shape, dtype=">u4").tobytes()
        + np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()
    )
    if compress if compress is not None else path.suffix == ".gz":
        payload = gzip.compress(payload, compresslevel=9, mtime=0)
    return atomic_write_bytes(path, payload)
