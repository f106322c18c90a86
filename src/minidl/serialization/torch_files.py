"""Reading files written by ``torch.save``, without torch and without running anything they contain.

PyTorch has written two formats:

* **zip** (torch >= 1.6, the default): a zip archive (stored, uncompressed) with one top folder holding
  ``data.pkl`` (the pickled object), ``data/<key>`` (the raw bytes of each storage) and ``byteorder``
  (``little`` or ``big``; absent in old files, which are little-endian);
* **legacy** (``_use_new_zipfile_serialization=False``, and every file of torch < 1.6 (mid-2020), such as
  torchvision's 2017 weights): five things one after another: a pickled magic number, a pickled protocol
  version (1001), a pickled dict of system information, the pickled object, a pickled list of storage keys,
  then for each key in that order an 8-byte little-endian element count followed by the storage's raw
  little-endian bytes.

In both, a tensor is pickled as a call ``torch._utils._rebuild_tensor_v2(storage, storage_offset, size,
stride, requires_grad, backward_hooks)``, and each storage as a *persistent id*, a tuple ``('storage',
torch.FloatStorage, key, location, numel)`` (legacy files add a sixth element, an old storage-view record).

The unpickler here resolves only an allow-list of globals, the same idea as ``torch.load(weights_only=True)``:
the tensor and parameter rebuild functions, storage classes and dtypes, ``torch.Size``, ``torch.device``,
``collections.OrderedDict``/``Counter``, and ``set``/``frozenset``/``complex``/``bytearray``/bytes. Each resolves to a
function or marker of this module, never to the torch object or to anything that can run code. Any other
global (``builtins.eval``, ``os.system``, a ``torch.nn`` module class, a NumPy reconstructor) is refused with
a :class:`~minidl.errors.CheckpointError` naming it, before it could be called: nothing from the file runs.

Tensors are rebuilt in two steps. While unpickling, each tensor becomes a :class:`_TensorRecord` (its
storage, offset, size and stride, all checked against the storage's length); once every storage is read
(for legacy files the data comes after the pickle), each record becomes a NumPy view of its storage with
:func:`numpy.lib.stride_tricks.as_strided`, wrapped as a minidl tensor. As in torch, tensors that shared a
storage in the file share memory after loading, and strides are kept. The view is copied when it cannot
be used as it is: a big-endian file, a layout that overlaps itself (an expanded tensor), float16 and
bfloat16 (up-cast to float32, see :mod:`.halfprec`) and bool (normalised to 0/1).
"""

from __future__ import annotations

import io
import mmap as _mmap
import pickle
import zipfile
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from .. import dtypes
from ..device import device
from ..errors import DeviceError
from ..nn.module import Parameter
from ..tensor import Size, Tensor
from .files import CheckpointError, member_start, read_exact, read_member, to_tensor
from .halfprec import Upcasts

__all__ = ["MAGIC_NUMBER", "PROTOCOL_VERSION", "archive_prefix", "load_zip", "load_legacy"]

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001


# --------------------------------------------------------------------------------------- dtypes and storages
class _DType:
    """A torch dtype as the file names it: its element size and how its bytes read in NumPy."""

    __slots__ = ("name", "raw", "itemsize", "loads_as")

    def __init__(self, name: str, raw: str) -> None:
        self.name = name
        self.raw = np.dtype(raw)  # little-endian; bfloat16 reads as its uint16 bit patterns, bool as uint8
        self.itemsize = self.raw.itemsize
        # the NumPy dtype of the loaded values (half precision is up-cast)
        self.loads_as = np.dtype(np.float32 if name in ("float16", "bfloat16") else
                                 bool if name == "bool" else self.raw.newbyteorder("="))

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class _StorageType:
    """Stands for ``torch.FloatStorage`` and the other storage classes named in persistent ids."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: _DType) -> None:
        self.dtype = dtype


# torch dtype name, NumPy reading of its bytes, legacy storage class (None: only in _rebuild_tensor_v3 files)
_DTYPE_TABLE = (
    ("float32", "<f4", "FloatStorage"), ("float64", "<f8", "DoubleStorage"), ("float16", "<f2", "HalfStorage"),
    ("bfloat16", "<u2", "BFloat16Storage"), ("int64", "<i8", "LongStorage"), ("int32", "<i4", "IntStorage"),
    ("int16", "<i2", "ShortStorage"), ("int8", "i1", "CharStorage"), ("uint8", "u1", "ByteStorage"),
    ("bool", "u1", "BoolStorage"), ("complex64", "<c8", "ComplexFloatStorage"),
    ("complex128", "<c16", "ComplexDoubleStorage"), ("uint16", "<u2", None), ("uint32", "<u4", None),
    ("uint64", "<u8", None),
)  # fmt: skip
_ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64", "int": "int32",
            "short": "int16", "cfloat": "complex64", "cdouble": "complex128"}
_DTYPES = {name: _DType(name, raw) for name, raw, _ in _DTYPE_TABLE}
_DTYPES.update({alias: _DTYPES[name] for alias, name in _ALIASES.items()})
_STORAGE_TYPES = {cls: _StorageType(_DTYPES[name]) for name, _, cls in _DTYPE_TABLE if cls}
_STORAGE_TYPES["UntypedStorage"] = _StorageType(_DTYPES["uint8"])  # raw bytes; v3 tensors name their dtype
# harmless torch names of element types minidl has no arrays for: refused as unsupported, not as unsafe
_UNSUPPORTED_DTYPES = {"complex32", "chalf", "quint8", "qint8", "qint32", "quint4x2", "quint2x4", "bits1x8",
                       "bits2x4", "bits4x2", "bits8", "bits16", *(f"uint{n}" for n in range(1, 8)),
                       *(f"int{n}" for n in range(1, 8))}


class _Storage:
    """One storage of the file: its element type and count, and its bytes once they are read.

    Legacy files may also hold a view of another storage (``base``, starting ``offset`` bytes in). A
    ``map_location`` callable receives these objects, as torch's receives its storages.
    """

    __slots__ = ("dtype", "numel", "data", "base", "offset")
    device = "cpu"

    def __init__(self, dtype: _DType, numel: int, base: _Storage | None = None, offset: int = 0) -> None:
        self.dtype, self.numel, self.base, self.offset = dtype, numel, base, offset
        self.data: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        return self.numel * self.dtype.itemsize

    def bytes(self) -> np.ndarray:
        """The storage's bytes, a uint8 array."""
        if self.base is not None:
            root = self.base.bytes()
            if self.offset + self.nbytes > root.size:
                raise ValueError(f"a storage view of {self.nbytes} bytes at byte {self.offset} reaches past the "
                                 f"end of its storage of {root.size} bytes")
            return root[self.offset: self.offset + self.nbytes]
        if self.data is None:
            raise ValueError("a storage has no data in the file")
        return self.data

    # what map_location callables call on the storage they get
    def cpu(self) -> _Storage:
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> _Storage:
        raise DeviceError("minidl.load: map_location moves a storage to CUDA, but minidl runs on the CPU only; "
                          "use map_location='cpu' (or leave it out)")

    def size(self) -> int:
        return self.numel


def _count(value: Any, what: str) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"{what} must be a non-negative int, got {value!r}")
    return value


def _ints(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, tuple | list):
        raise ValueError(f"{what} must be a tuple of ints, got {type(value).__name__}")
    return tuple(_count(v, what) for v in value)


def _ascii(value: Any) -> Any:
    """Names written by Python 2 may come back as bytes."""
    return value.decode("ascii") if isinstance(value, bytes) else value


# --------------------------------------------------------------------------------------- rebuild functions
class _TensorRecord:
    """A tensor of the file, before its storage's bytes are turned into an array (see the module docstring)."""

    __slots__ = ("storage", "offset", "size", "stride", "dtype", "requires_grad", "parameter", "neg", "conj")

    def __init__(self, storage: Any, offset: Any, size: Any, stride: Any, dtype: _DType | None = None,
                 requires_grad: Any = False, metadata: Any = None) -> None:
        if not isinstance(storage, _Storage):
            raise ValueError(f"a tensor's storage must be a storage record, got {type(storage).__name__}")
        self.storage = storage
        self.offset = _count(offset, "a tensor's storage offset")
        self.size = _ints(size, "a tensor's size")
        self.stride = _ints(stride, "a tensor's stride")
        if len(self.size) != len(self.stride):
            raise ValueError(f"a tensor's size {self.size} and stride {self.stride} differ in length")
        self.dtype = storage.dtype if dtype is None else dtype
        if not isinstance(self.dtype, _DType):
            raise ValueError(f"a tensor's dtype must be a torch dtype, got {type(self.dtype).__name__}")
        self.requires_grad = bool(requires_grad)
        self.parameter = False
        meta = metadata if isinstance(metadata, dict) else {}
        self.neg, self.conj = bool(meta.get("neg")), bool(meta.get("conj"))


def _rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any) -> _TensorRecord:
    """``torch._utils._rebuild_tensor`` (files from torch < 0.4)."""
    return _TensorRecord(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage: Any, storage_offset: Any, size: Any, stride: Any, requires_grad: Any = False,
                       backward_hooks: Any = None, metadata: Any = None) -> _TensorRecord:
    """``torch._utils._rebuild_tensor_v2``; backward hooks are never saved by torch and are ignored."""
    return _TensorRecord(storage, storage_offset, size, stride, None, requires_grad, metadata)


def _rebuild_tensor_v3(storage: Any, storage_offset: Any, size: Any, stride: Any, requires_grad: Any,
                       backward_hooks: Any, dtype: Any, metadata: Any = None) -> _TensorRecord:
    """``torch._utils._rebuild_tensor_v3``: an untyped storage, the dtype given explicitly."""
    return _TensorRecord(storage, storage_offset, size, stride, dtype, requires_grad, metadata)


def _rebuild_parameter(data: Any, requires_grad: Any, backward_hooks: Any = None) -> _TensorRecord:
    """``torch._utils._rebuild_parameter``: the tensor ``data`` as an ``nn.Parameter``."""
    if not isinstance(data, _TensorRecord):
        raise ValueError(f"a parameter's data must be a tensor, got {type(data).__name__}")
    data.parameter, data.requires_grad = True, bool(requires_grad)
    return data


def _rebuild_parameter_with_state(data: Any, requires_grad: Any, backward_hooks: Any,
                                  state: Any) -> _TensorRecord:
    """``torch._utils._rebuild_parameter_with_state``: Python attributes set on the parameter are dropped."""
    return _rebuild_parameter(data, requires_grad, backward_hooks)


_TENSOR_TYPE, _PARAMETER_TYPE = object(), object()  # stand for torch.Tensor and torch.nn.Parameter
_REBUILDERS = {_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
               _rebuild_parameter_with_state}


def _rebuild_from_type_v2(func: Any, new_type: Any, args: Any, state: Any) -> _TensorRecord:
    """``torch._tensor._rebuild_from_type_v2``: a tensor with Python attributes (dropped), or a Parameter."""
    if func not in _REBUILDERS or new_type not in (_TENSOR_TYPE, _PARAMETER_TYPE) or not isinstance(args, tuple):
        raise ValueError("_rebuild_from_type_v2 must rebuild a torch.Tensor or torch.nn.Parameter")
    record = func(*args)
    if new_type is _PARAMETER_TYPE:
        record.parameter = True
    return record


def _size(dims: Any = ()) -> Size:
    """``torch.Size``: a :class:`minidl.Size`."""
    return Size(_ints(dims, "torch.Size"))


def _device(kind: Any, index: Any = None) -> device:
    """``torch.device`` saved inside an object (a value, not where tensors go): a :class:`minidl.device`,
    which can name a GPU without using one."""
    kind = _ascii(kind)
    if not isinstance(kind, str):
        raise ValueError(f"torch.device needs a string, got {type(kind).__name__}")
    return device(kind, None if index is None else _count(index, "a device index"))


def _encode(text: Any, encoding: Any = "utf-8") -> bytes:
    """``_codecs.encode``, which protocol-2 pickles use to store ``bytes``."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8", "ascii"):
        raise ValueError("_codecs.encode is allowed only to rebuild bytes from a string")
    return text.encode(encoding)


_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("collections", "Counter"): Counter,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "complex"): complex,
    ("builtins", "bytearray"): bytearray,
    ("_codecs", "encode"): _encode,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch", "Tensor"): _TENSOR_TYPE,
    ("torch.nn.parameter", "Parameter"): _PARAMETER_TYPE,
    ("torch", "Size"): _size,
    ("torch", "device"): _device,
    **{("torch", name): dtype for name, dtype in _DTYPES.items()},
    **{(module, name): st for name, st in _STORAGE_TYPES.items() for module in ("torch", "torch.cuda")},
    ("torch.storage", "UntypedStorage"): _STORAGE_TYPES["UntypedStorage"],
}
_GLOBAL_IDS = {id(v) for v in _GLOBALS.values() if not isinstance(v, _DType)}
# module names written by Python 2 or by older torch versions
_RENAMED_MODULES = {"__builtin__": "builtins", "torch.tensor": "torch._tensor"}


def _refusal(module: str, name: str) -> str:
    full = f"{module}.{name}"
    if module in ("torch", "torch.cuda") and (name.endswith("Storage") or name in _UNSUPPORTED_DTYPES
                                             or name.startswith(("float8", "float4"))):
        return f"unsupported: the file holds {full} data, an element type minidl has no arrays for"
    hint = ""
    if module.startswith("__torch__"):
        hint = " (a TorchScript archive, written by torch.jit.save; minidl reads files of torch.save)"
    elif module.startswith("torch.nn.modules") or module.startswith("torch.optim"):
        hint = " (a whole pickled module or optimizer; save and load its state_dict() instead)"
    elif module.split(".")[0] == "numpy":
        hint = " (a NumPy object inside a PyTorch file, which torch.load(weights_only=True) refuses too)"
    elif module.startswith("torch._utils"):
        hint = " (a sparse, quantized or otherwise special tensor, which minidl does not support)"
    return f"refused: the file contains pickled object {full}; minidl never runs code from files{hint}"


class _Unpickler(pickle.Unpickler):
    """Resolves only the allow-listed globals; storages come from the reader's ``storage`` callback."""

    def __init__(self, file: IO[bytes], name: str, storage: Callable[[tuple], _Storage] | None,
                 encoding: str) -> None:
        super().__init__(file, encoding=encoding)
        self._name = name
        self._storage = storage

    def find_class(self, module: str, name: str) -> Any:
        module = _RENAMED_MODULES.get(module, module)
        found = _GLOBALS.get((module, name))
        if found is None:
            raise CheckpointError(self._name, _refusal(module, name))
        return found

    def persistent_load(self, pid: Any) -> Any:
        if self._storage is None:
            raise pickle.UnpicklingError("a persistent id outside the object pickle")
        if not isinstance(pid, tuple) or not pid:
            raise pickle.UnpicklingError(f"a persistent id must be a tuple, got {type(pid).__name__}")
        if _ascii(pid[0]) != "storage":
            raise CheckpointError(self._name, f"refused: the file contains a pickled {_ascii(pid[0])!r} object "
                                              "(a whole module, saved with its source code); minidl never runs "
                                              "code from files; save and load its state_dict() instead")
        return self._storage(pid[1:])


# --------------------------------------------------------------------------------------- records -> tensors
def _overlaps(shape: tuple[int, ...], strides: tuple[int, ...]) -> bool:
    """True unless the layout provably never maps two indices to one element (dims sorted by stride, each
    stride beyond the reach of the smaller ones)."""
    reach = 0
    for stride, n in sorted((s, n) for n, s in zip(shape, strides, strict=True) if n > 1):
        if stride <= reach:
            return True
        reach += stride * (n - 1)
    return False


def _array(record: _TensorRecord, byteorder: str, upcasts: Upcasts) -> np.ndarray:
    """The record's values: a view of its storage where possible (see the module docstring)."""
    dtype = record.dtype
    raw = record.storage.bytes()
    count = raw.size // dtype.itemsize
    typed = raw[: count * dtype.itemsize].view(dtype.raw.newbyteorder(byteorder))  # type: ignore[arg-type]  # "<" or ">"
    size, stride, offset = record.size, record.stride, record.offset
    if 0 in size:
        view = typed[:0].reshape(size)
    else:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
        if last >= count:
            raise ValueError(f"a tensor of size {size}, stride {stride} and offset {offset} reaches past the end "
                             f"of its storage of {count} {dtype.name} elements")
        view = np.lib.stride_tricks.as_strided(typed[offset:], size, tuple(s * dtype.itemsize for s in stride))
    if dtype.name in ("float16", "bfloat16"):
        arr = upcasts.float32(view, dtype.name)
    elif dtype.name == "bool":
        arr = view != 0
    elif not view.dtype.isnative:
        arr = view.astype(view.dtype.newbyteorder("="))
    elif _overlaps(view.shape, view.strides):
        arr = view.copy()
    else:
        arr = view
    if record.neg:
        arr = np.negative(arr)
    if record.conj:
        arr = np.conj(arr)
    return arr


def _tensor(record: _TensorRecord, byteorder: str, upcasts: Upcasts) -> Tensor:
    t = to_tensor(_array(record, byteorder, upcasts), upcasts.name)
    if record.parameter:
        return Parameter(t, requires_grad=record.requires_grad)
    return t.requires_grad_(True) if record.requires_grad else t


def _materialize(obj: Any, byteorder: str, upcasts: Upcasts) -> Any:
    """``obj`` with every tensor record (and bare storage) replaced by a minidl tensor.

    Containers are updated in place where they are mutable, so an ``OrderedDict`` keeps its type and its
    attributes (a state dict's ``_metadata``); an object met twice becomes one object, as in the file.
    """
    memo: dict[int, tuple[Any, Any]] = {}  # id -> (original, result); holding the original keeps the id unique

    def walk(x: Any) -> Any:
        hit = memo.get(id(x))
        if hit is not None:
            return hit[1]
        out: Any
        if isinstance(x, _TensorRecord):
            out = _tensor(x, byteorder, upcasts)
        elif isinstance(x, _Storage):  # torch.save(storage): its elements as a 1-D tensor
            out = _tensor(_TensorRecord(x, 0, (x.numel,), (1,)), byteorder, upcasts)
        elif isinstance(x, dict):
            memo[id(x)] = (x, x)
            items = [(walk(k), walk(v)) for k, v in x.items()]
            x.clear()
            x.update(items)
            return x
        elif isinstance(x, list):
            memo[id(x)] = (x, x)
            x[:] = [walk(v) for v in x]
            return x
        elif type(x) in (tuple, set, frozenset):
            out = type(x)(walk(v) for v in x)
        elif isinstance(x, _DType):  # a dtype saved as a value: minidl's dtype object of that name
            out = getattr(dtypes, "bool_" if x.name == "bool" else x.name, x.loads_as)
        elif id(x) in _GLOBAL_IDS:
            raise ValueError("the file stores a torch function or class by itself, outside a tensor")
        else:
            out = x
        memo[id(x)] = (x, out)
        return out

    return walk(obj)


# --------------------------------------------------------------------------------------- the two formats
def _place(storage: _Storage, location: Any, placement: Callable[[Any, str], Any] | None) -> None:
    """Apply a ``map_location`` callable; it may only keep the storage on the CPU."""
    if placement is None:
        return
    result = placement(storage, _ascii(location))
    if result is not None and result is not storage:
        raise TypeError("map_location: a callable must return the storage it is given (or None); minidl keeps "
                        f"every storage on the CPU, got {type(result).__name__}")


def archive_prefix(zf: zipfile.ZipFile) -> str | None:
    """The top folder of a ``torch.save`` zip archive (``'archive/'``), or ``None`` if ``zf`` is not one."""
    names = zf.namelist()
    if not names or "/" not in names[0]:
        return None
    prefix = names[0].split("/", 1)[0] + "/"
    return prefix if prefix + "data.pkl" in names else None


def load_zip(zf: zipfile.ZipFile, fp: IO[bytes], name: str, placement: Callable[[Any, str], Any] | None,
             upcasts: Upcasts, encoding: str = "utf-8", mmap: bool = False) -> Any:
    """The object of a ``torch.save`` zip archive opened as ``zf`` on the seekable file ``fp``; half-precision
    tensors are up-cast through ``upcasts``.

    Each storage is read into memory with one read and its CRC-32 checked (torch does not check it). With
    ``mmap``, storages are instead copy-on-write views of the file mapped into memory (``fp`` must be a real
    file), as ``torch.load(mmap=True)``, and pages are read only when used, so nothing is checked.
    """
    prefix = archive_prefix(zf)
    if prefix is None:
        raise CheckpointError(name, "not a PyTorch zip archive (no <folder>/data.pkl member)")
    byteorder = "<"
    if prefix + "byteorder" in zf.namelist():
        mark = zf.read(prefix + "byteorder")
        if mark not in (b"little", b"big"):
            raise CheckpointError(name, f"unknown byte order {mark[:20]!r}")
        byteorder = "<" if mark == b"little" else ">"
    mapped = None
    if mmap:
        mapped = np.frombuffer(_mmap.mmap(fp.fileno(), 0, access=_mmap.ACCESS_COPY), dtype=np.uint8)
    storages: dict[str, _Storage] = {}

    def storage(pid: tuple) -> _Storage:
        if len(pid) != 4:
            raise ValueError(f"a storage id of a zip archive has 5 fields, got {len(pid) + 1}")
        storage_type, key, location, numel = pid
        key = _ascii(key)
        if key in storages:
            return storages[key]
        if not isinstance(storage_type, _StorageType) or not isinstance(key, str):
            raise ValueError("malformed storage id")
        st = _Storage(storage_type.dtype, _count(numel, "a storage's size"))
        info = zf.getinfo(f"{prefix}data/{key}")
        if info.file_size < st.nbytes:
            raise ValueError(f"member {info.filename!r} holds {info.file_size} bytes, its storage needs {st.nbytes}")
        if mapped is not None and info.compress_type == zipfile.ZIP_STORED:
            start = member_start(fp, info)
            st.data = mapped[start: start + st.nbytes]
            if st.data.size != st.nbytes:
                raise EOFError(f"member {info.filename!r} is cut short")
        else:
            st.data = read_member(zf, fp, info)[: st.nbytes]
        _place(st, location, placement)
        storages[key] = st
        return st

    obj = _Unpickler(io.BytesIO(zf.read(prefix + "data.pkl")), name, storage, encoding).load()
    return _materialize(obj, byteorder, upcasts)


def load_legacy(fp: IO[bytes], name: str, placement: Callable[[Any, str], Any] | None, upcasts: Upcasts,
                encoding: str = "utf-8") -> Any:
    """The object of a legacy (non-zip) ``torch.save`` file, read from ``fp``'s current position;
    half-precision tensors are up-cast through ``upcasts``."""

    def plain() -> Any:  # the header pickles hold plain values only
        return _Unpickler(fp, name, None, encoding).load()

    if plain() != MAGIC_NUMBER:
        raise CheckpointError(name, "a pickle file, but not one written by torch.save (no PyTorch magic number); "
                                    "minidl does not load arbitrary pickles")
    protocol = plain()
    if protocol != PROTOCOL_VERSION:
        raise CheckpointError(name, f"unsupported PyTorch file protocol {protocol!r} (expected {PROTOCOL_VERSION})")
    plain()  # system information: byte order and C type sizes; the data is little-endian whatever it says
    storages: dict[str, _Storage] = {}

    def storage(pid: tuple) -> _Storage:
        if len(pid) != 5:
            raise ValueError(f"a storage id of a legacy file has 6 fields, got {len(pid) + 1}")
        storage_type, key, location, numel, view = pid
        key = _ascii(key)
        if not isinstance(storage_type, _StorageType) or not isinstance(key, str):
            raise ValueError("malformed storage id")
        root = storages.get(key)
        if root is None:
            root = storages[key] = _Storage(storage_type.dtype, _count(numel, "a storage's size"))
            _place(root, location, placement)
        if view is None:
            return root
        view_key, offset, view_numel = view  # storage views, saved by torch < 0.4
        view_key = _ascii(view_key)
        if view_key not in storages:
            storages[view_key] = _Storage(root.dtype, _count(view_numel, "a storage view's size"), root,
                                          _count(offset, "a storage view's offset") * root.dtype.itemsize)
        return storages[view_key]

    obj = _Unpickler(fp, name, storage, encoding).load()
    keys = plain()
    if not isinstance(keys, list):
        raise ValueError(f"the storage key list is a {type(keys).__name__}")
    for key in keys:
        st = storages.get(_ascii(key))
        if st is None or st.base is not None:
            raise ValueError(f"data for storage {key!r}, which the object does not use")
        header = fp.read(8)
        if len(header) != 8:
            raise EOFError(f"the file ends before storage {key!r}")
        numel = int.from_bytes(header, "little", signed=True)
        if numel != st.numel:
            raise ValueError(f"storage {key!r} holds {numel} elements, the object expects {st.numel}")
        st.data = np.empty(st.nbytes, dtype=np.uint8)
        read_exact(fp, st.data, f"storage {key!r}")
    return _materialize(obj, "<", upcasts)
