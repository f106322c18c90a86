"""safetensors files, through the ``safetensors`` package (``pip install 'minidl[weights]'``).

A safetensors file is an 8-byte little-endian header length, a JSON header (each tensor's dtype, shape and
byte range, plus an optional ``__metadata__`` dict of strings) and the raw little-endian tensor bytes. It
holds a flat ``name -> tensor`` dict and nothing else: no code, no pickle.

Writing uses the package's NumPy API (:func:`safetensors.numpy.save_file` / :func:`safetensors.numpy.save`).
minidl adds three metadata entries: ``format: pt`` (the tensors follow PyTorch's names and layouts, which is
what tools such as ``transformers`` check), ``minidl.keys`` (the dict's key order, which the file does not
keep) and ``minidl.container`` (``dict`` or ``OrderedDict``), so :func:`read` gives back the same dict.

Reading a path uses :func:`safetensors.numpy.load_file` (one copy out of the mapped file). A file object,
or a file holding bfloat16, which that function cannot return (NumPy has no bfloat16), goes through
:func:`safetensors.deserialize`, the parser behind :func:`safetensors.numpy.load`, keeping bfloat16 as its
bits. Either way the package validates the header and the byte ranges. Files written by other libraries
have their float16 and bfloat16 tensors up-cast to float32 (:mod:`.halfprec`); files written by minidl keep
every dtype. bool bytes are normalised to 0/1.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import IO, Any, cast

import numpy as np

from .._atomic import atomic_path
from ..tensor import Tensor
from .files import FileLike, is_path, to_tensor
from .halfprec import Upcasts

__all__ = ["INSTALL_HINT", "available", "can_write", "write", "looks_like", "read"]

INSTALL_HINT = "pip install 'minidl[weights]'"
_KEYS, _CONTAINER = "minidl.keys", "minidl.container"
# the NumPy dtypes safetensors' NumPy API writes
_WRITABLE = {np.dtype(t) for t in (np.bool_, np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
                                   np.uint64, np.float16, np.float32, np.float64)}
# how each dtype of the file reads in NumPy ("BF16": its uint16 bit patterns)
_READ = {"BOOL": "?", "U8": "u1", "I8": "i1", "I16": "<i2", "U16": "<u2", "I32": "<i4", "U32": "<u4", "I64": "<i8",
         "U64": "<u8", "F16": "<f2", "BF16": "<u2", "F32": "<f4", "F64": "<f8", "C64": "<c8"}


def _package(why: str) -> Any:
    try:
        import safetensors
        import safetensors.numpy  # noqa: F401 - makes safetensors.numpy available
    except ImportError:
        raise ImportError(f"{why} needs the safetensors package, an optional extra of minidl: {INSTALL_HINT}") \
            from None
    return safetensors


def available() -> bool:
    try:
        _package("safetensors")
    except ImportError:
        return False
    return True


def can_write(obj: Any) -> bool:
    """Whether ``obj`` is what a safetensors file holds: a non-empty ``dict``/``OrderedDict`` of str -> plain
    tensors (not requiring grad, whose flag the format cannot keep) of a dtype the format has."""
    return (type(obj) in (dict, OrderedDict) and bool(obj)
            and all(isinstance(k, str) and type(v) is Tensor and not v.requires_grad
                    and v.detach().numpy().dtype in _WRITABLE for k, v in obj.items()))


def write(f: FileLike, tensors: Mapping[str, Tensor]) -> None:
    """Write a flat dict accepted by :func:`can_write` to a path (atomically) or a binary file object."""
    st = _package("writing a safetensors file")
    # the writer reads each array's memory as C order (np.ascontiguousarray would turn 0-d arrays into 1-d)
    arrays = {k: np.require(v.detach().numpy(), requirements="C") for k, v in tensors.items()}
    metadata = {"format": "pt", _KEYS: json.dumps(list(tensors)), _CONTAINER: type(tensors).__name__}
    if is_path(f):
        with atomic_path(f) as tmp:
            st.numpy.save_file(arrays, tmp, metadata=metadata)
    else:
        cast(IO[bytes], f).write(st.numpy.save(arrays, metadata=metadata))


def looks_like(head: bytes) -> bool:
    """Whether a file starting with ``head`` (at least 9 bytes) is plausibly a safetensors file."""
    return len(head) >= 9 and head[8:9] == b"{" and 2 <= int.from_bytes(head[:8], "little") < 100_000_000


def _header(fp: IO[bytes]) -> dict[str, Any]:
    """The JSON header of the file ``fp`` (left where it was)."""
    start = fp.tell()
    length = int.from_bytes(fp.read(8), "little")
    header = json.loads(fp.read(length))
    fp.seek(start)
    if not isinstance(header, dict):
        raise ValueError("the safetensors header is not a JSON object")
    return header


def read(fp: IO[bytes], name: str, upcasts: Upcasts, path: FileLike | None = None) -> dict[str, Tensor]:
    """The tensors of the safetensors file ``fp`` (at ``path``, if it has one), in the saved order and
    container when minidl wrote it; half-precision tensors of other writers are up-cast through ``upcasts``."""
    st = _package(f"reading the safetensors file {name!r}")
    header = _header(fp)
    metadata = header.pop("__metadata__", None) or {}
    for key, info in header.items():
        if info.get("dtype") not in _READ:
            raise ValueError(f"tensor {key!r} has dtype {info.get('dtype')}, which minidl does not support")
    try:
        if path is not None and all(info["dtype"] != "BF16" for info in header.values()):
            arrays = st.numpy.load_file(path)  # one copy out of the mapped file
        else:  # what safetensors.numpy.load does, but keeping bfloat16 as raw bits (data is a bytearray)
            arrays = {key: np.frombuffer(info["data"], dtype=_READ[info["dtype"]]).reshape(info["shape"])
                      for key, info in st.deserialize(fp.read())}
    except st.SafetensorError as e:  # a header or byte ranges the package rejects
        raise ValueError(f"safetensors: {e}") from e
    ours = _KEYS in metadata
    out: dict[str, Tensor] = {}
    for key, arr in arrays.items():
        kind = header[key]["dtype"]
        if kind == "BF16" or (kind == "F16" and not ours):  # NumPy has no bfloat16, so it is up-cast always
            arr = upcasts.float32(arr, "float16" if kind == "F16" else "bfloat16")
        elif kind == "BOOL":
            arr = arr.view(np.uint8) != 0
        out[key] = to_tensor(arr, name)
    if not ours:
        return out
    order = json.loads(metadata[_KEYS])
    if sorted(order) != sorted(out):
        raise ValueError("the key list in minidl's metadata does not match the tensors")
    container = OrderedDict if metadata.get(_CONTAINER) == "OrderedDict" else dict
    return container((k, out[k]) for k in order)
