"""minidl's own file format: a tree of arrays and JSON values in one ``.npz`` file, never pickled.

The file is a zip of ``.npy`` members, exactly what :func:`numpy.savez` writes:

* every array of the saved tree is a member under a flattened key such as ``model/conv1.weight`` or
  ``optim/state/0/exp_avg``;
* everything that is not an array (epoch, history, hyperparameters, RNG states, nesting) is one JSON
  document, stored as the UTF-8 bytes of the ``__meta__.json`` member. In it each array appears as a
  reference ``{"__array__": key}`` (with ``"tensor": true`` for a minidl tensor, plus ``"requires_grad"`` and
  ``"parameter"`` when set); tuples, ``OrderedDict`` s, dicts with non-string keys and NumPy scalars have
  tagged forms too, so a tree round-trips to equal Python values of the same types (``{0: ...}`` keys stay
  ints, tuples stay tuples, an ``OrderedDict`` keeps its type and order).

Members are written with ``allow_pickle=False`` and read header first: a member holding pickled objects is
refused before anything is unpickled, so a file can never run code. The trainer's checkpoints
(:mod:`minidl.training.checkpoint`), the homework Solver's and :func:`minidl.save` all use this format.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from ..functions import from_numpy
from ..nn.module import Parameter
from ..tensor import Tensor
from .files import (
    CheckpointError,
    FileLike,
    name_of,
    open_for_reading,
    open_for_writing,
    read_member,
    translating_errors,
)

__all__ = ["FORMAT", "VERSION", "META_KEY", "write_tree", "read_tree", "read_tree_zip", "read_arrays",
           "is_tree_zip"]

FORMAT = "minidl-checkpoint"
VERSION = 1
META_KEY = "__meta__.json"
_TAGS = ("__array__", "__tuple__", "__dict__")
_NPY = ".npy"


# --------------------------------------------------------------------------------------- tree <-> arrays + JSON
def _encode(obj: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    """JSON form of ``obj``; arrays are moved into ``arrays`` under a key derived from their path ``key``."""
    if isinstance(obj, Tensor):
        ref: dict[str, Any] = {"__array__": _store(obj.detach().numpy(), key, arrays), "tensor": True}
        if obj.requires_grad:
            ref["requires_grad"] = True
        if isinstance(obj, Parameter):
            ref["parameter"] = True
        return ref
    if isinstance(obj, np.ndarray):
        return {"__array__": _store(obj, key, arrays)}
    if isinstance(obj, np.generic):
        return {"__array__": _store(np.asarray(obj), key, arrays), "scalar": True}
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, f"{key}/{i}", arrays) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{key}/{i}", arrays) for i, v in enumerate(obj)]
    if isinstance(obj, Mapping):
        ordered = isinstance(obj, OrderedDict)
        if not ordered and all(isinstance(k, str) for k in obj) and not any(t in obj for t in _TAGS):
            return {k: _encode(v, f"{key}/{k}", arrays) for k, v in obj.items()}
        # non-string keys (optimizer state is keyed by parameter index) keep their type as [key, value] pairs
        pairs = [[_encode(k, f"{key}/#key", arrays), _encode(v, f"{key}/{k}", arrays)] for k, v in obj.items()]
        return {"__dict__": pairs, "ordered": True} if ordered else {"__dict__": pairs}
    raise TypeError(f"checkpoint: cannot store a value of type {type(obj).__name__} at {key.lstrip('/')!r} "
                    "(only arrays, tensors, numbers, strings, None, lists, tuples and dicts)")


def _store(arr: np.ndarray, key: str, arrays: dict[str, np.ndarray]) -> str:
    if arr.dtype.hasobject:
        raise TypeError(f"checkpoint: object array at {key.lstrip('/')!r} cannot be stored without pickle")
    # zip member names end at a NUL byte (zipfile cuts them there on reading), so a key's NULs are spelt out
    name = key.lstrip("/").replace("\0", "\\0") or "array"
    unique, n = name, 1
    while unique in arrays or unique == META_KEY:
        unique, n = f"{name}#{n}", n + 1
    arrays[unique] = arr
    return unique


def _tensor(arr: np.ndarray, ref: Mapping[str, Any]) -> Tensor:
    t = from_numpy(arr.astype(arr.dtype.newbyteorder("="), copy=False))  # files written on big-endian machines
    if ref.get("parameter"):
        return Parameter(t, requires_grad=bool(ref.get("requires_grad")))
    return t.requires_grad_(True) if ref.get("requires_grad") else t


def _decode(obj: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    """Inverse of :func:`_encode`."""
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__array__" in obj:
        arr = arrays[obj["__array__"]]
        if obj.get("tensor"):
            return _tensor(arr, obj)
        return arr[()] if obj.get("scalar") else arr
    if "__tuple__" in obj:
        return tuple(_decode(v, arrays) for v in obj["__tuple__"])
    if "__dict__" in obj:
        kind = OrderedDict if obj.get("ordered") else dict
        return kind((_decode(k, arrays), _decode(v, arrays)) for k, v in obj["__dict__"])
    return {k: _decode(v, arrays) for k, v in obj.items()}


# --------------------------------------------------------------------------------------- files
def write_tree(f: FileLike, tree: Mapping[str, Any], kind: str = "tree") -> None:
    """Write ``tree`` (nested dicts/lists/tuples of arrays, tensors and JSON values) to ``f``: a path
    (written atomically, parent directories created) or a binary file object.

    ``kind`` is recorded so that :func:`read_tree` can refuse, say, a Solver checkpoint given to a Trainer.
    A value that cannot be stored raises ``TypeError`` before anything is written.
    """
    arrays: dict[str, np.ndarray] = {}
    body = {k: _encode(v, k, arrays) for k, v in tree.items()}
    meta = json.dumps({"format": FORMAT, "version": VERSION, "kind": kind, "tree": body})
    arrays[META_KEY] = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)
    with open_for_writing(f) as fp, zipfile.ZipFile(fp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            # what numpy.savez writes, member by member, so no key can collide with savez's own arguments
            with zf.open(name + _NPY, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(arr), allow_pickle=False)


def is_tree_zip(zf: zipfile.ZipFile) -> bool:
    return META_KEY + _NPY in zf.namelist()


def _npy_header(raw: np.ndarray) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """Shape, Fortran order, dtype and total header length of the ``.npy`` bytes ``raw`` (versions 1 to 3)."""
    major = int(raw[6]) if raw.size > 6 else 0
    size_len = 2 if major == 1 else 4
    total = 8 + size_len + int.from_bytes(raw[8: 8 + size_len].tobytes(), "little")
    head = io.BytesIO(raw[:total].tobytes())
    version = np.lib.format.read_magic(head)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read(head)
    return shape, fortran, dtype, total


def _read_member(zf: zipfile.ZipFile, fp: IO[bytes], info: zipfile.ZipInfo, name: str) -> np.ndarray:
    """One ``.npy`` member, viewing its bytes (read with one read and CRC-checked). A member whose header
    declares pickled objects is refused: its bytes are never unpickled."""
    raw = read_member(zf, fp, info)
    shape, fortran, dtype, header_len = _npy_header(raw)
    if dtype.hasobject:
        raise CheckpointError(name, f"refused: member {info.filename!r} contains pickled objects; "
                                    "minidl never unpickles anything from a file")
    data = raw[header_len:]
    if data.size != math.prod(shape) * dtype.itemsize:
        raise ValueError(f"member {info.filename!r} holds {data.size} bytes of data, its header says {shape} "
                         f"{dtype}")
    if dtype.itemsize == 0:
        return np.zeros(shape, dtype)
    return data.view(dtype).reshape(shape, order="F" if fortran else "C")


def read_arrays(zf: zipfile.ZipFile, fp: IO[bytes], name: str) -> dict[str, np.ndarray]:
    """Every member of an ``.npz`` archive opened as ``zf`` on ``fp``, by key (the name without ``.npy``)."""
    out = {}
    for info in zf.infolist():
        if not info.filename.endswith(_NPY):
            raise CheckpointError(name, f"not an .npz archive: member {info.filename!r} is not a .npy array")
        out[info.filename[: -len(_NPY)]] = _read_member(zf, fp, info, name)
    return out


def read_tree_zip(zf: zipfile.ZipFile, fp: IO[bytes], name: str,
                  kind: str | None = None) -> tuple[str, dict[str, Any]]:
    """The ``(kind, tree)`` stored in a minidl ``.npz`` archive opened as ``zf`` on ``fp``; ``kind``, when
    given, must match."""
    if not is_tree_zip(zf):
        raise CheckpointError(name, f"not a minidl checkpoint (no {META_KEY} member)")
    arrays = read_arrays(zf, fp, name)
    meta = json.loads(bytes(arrays.pop(META_KEY)).decode("utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(name, "not a minidl checkpoint (bad format marker)")
    if meta.get("version") != VERSION:
        raise CheckpointError(name, f"unsupported checkpoint version {meta.get('version')!r} (expected {VERSION})")
    found = meta.get("kind")
    if not isinstance(found, str):
        raise CheckpointError(name, f"the checkpoint's kind is {found!r}, not a name")
    if kind is not None and found != kind:
        raise CheckpointError(name, f"expected a {kind!r} checkpoint, found a {found!r} checkpoint")
    return found, _decode(meta["tree"], arrays)


def read_tree(f: FileLike, kind: str | None = None) -> dict[str, Any]:
    """Read a tree written by :func:`write_tree` from a path or binary file object (never unpickling).

    Raises ``FileNotFoundError`` for a missing file and :class:`CheckpointError` for a corrupt or truncated
    file, a file that is not a minidl checkpoint, or one of another ``kind``.
    """
    name = name_of(f)
    with open_for_reading(f) as fp, translating_errors(name):
        _refuse_foreign(fp, name)
        with zipfile.ZipFile(fp) as zf:
            return read_tree_zip(zf, fp, name, kind)[1]


def _refuse_foreign(fp: IO[bytes], name: str) -> None:
    """Name what a file that is not a zip archive is, when it is recognisably a pickle or a single ``.npy``
    array, instead of calling it corrupt."""
    start = fp.tell()
    head = fp.read(8)
    fp.seek(start)
    if head[:1] == b"\x80":  # PROTO, the first opcode of every pickle since protocol 2
        raise CheckpointError(name, "refused: the file is a pickle (it contains pickled objects); minidl never "
                                    "unpickles anything from a file. Save weights with minidl.save or as "
                                    "safetensors")
    if head[:6] == b"\x93NUMPY":
        raise CheckpointError(name, "a single .npy array, not a minidl checkpoint (load it with numpy.load)")
