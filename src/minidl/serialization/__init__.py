"""``minidl.save`` and ``minidl.load``: PyTorch's API, without pickle.

:func:`save` picks the format from the object:

* a flat ``dict``/``OrderedDict`` of ``str -> Tensor`` (a model's ``state_dict()``) goes to **safetensors**,
  the field's standard weights format, readable by ``safetensors.torch.load_file`` and every other
  safetensors reader (:mod:`.safetensors_files`);
* everything else (a tensor, an optimizer's ``state_dict()``, ``{'epoch': 3, 'model': sd, 'optimizer': osd}``,
  nested dicts, lists and tuples of tensors, arrays, numbers, strings, bools and ``None``) goes to minidl's
  **npz + JSON** format, the one its trainer checkpoints use (:mod:`.tree`).

:func:`load` recognises the format from the file's first bytes and reads any of them, plus the two formats
of ``torch.save`` (:mod:`.torch_files`) and plain ``.npz`` archives of arrays (given back as a dict of
tensors). Nothing it reads can run code: minidl never unpickles anything but tensors, storages, dtypes,
``OrderedDict`` s and plain values, and refuses the rest with an error naming it.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from typing import Any

from ..errors import UnsupportedError
from . import safetensors_files, torch_files, tree
from .files import CheckpointError, FileLike, is_path, name_of, open_for_reading, to_tensor, translating_errors
from .halfprec import Upcasts
from .location import check_map_location

__all__ = ["save", "load"]

_OBJECT_KIND = "object"  # the tree kind of minidl.save's files: {"object": obj}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a member, or the end record of an empty archive


def save(obj: Any, f: FileLike, pickle_module: Any = None, pickle_protocol: Any = None,
         _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False) -> None:
    """Save ``obj`` to ``f`` (a path, written atomically, or a binary file object), as ``torch.save``.

    A non-empty flat ``dict``/``OrderedDict`` of ``str -> Tensor`` is written as a safetensors file, with
    its key order and container type in the metadata. Such a dict holding a tensor that requires grad (a
    ``Parameter``, from ``state_dict(keep_vars=True)``) or a dtype safetensors lacks is written in minidl's
    npz + JSON format instead, which keeps those. When the ``safetensors`` package is not installed
    (``pip install 'minidl[weights]'``), flat dicts are written in the npz + JSON format too: :func:`load`
    reads both, so only other tools reading the file see the difference.

    Everything else goes to the npz + JSON format: tensors (with ``requires_grad`` and ``Parameter``
    kept), arrays, NumPy scalars, Python numbers, strings, bools, ``None``, and lists, tuples, dicts and
    ``OrderedDict`` s of them (any key type JSON or the tagged forms can hold). Other values raise
    ``TypeError`` before anything is written.

    ``pickle_module``, ``pickle_protocol`` and torch's private flags are accepted so that torch code runs
    unchanged; they have no effect, because minidl never pickles.
    """
    from ..nn.module import Module

    if isinstance(obj, Module):
        raise UnsupportedError(f"minidl.save cannot store a whole {type(obj).__name__} module: that pickles its "
                               "code, and minidl never pickles. Save its weights instead: "
                               "minidl.save(model.state_dict(), f), then model.load_state_dict(minidl.load(f))")
    if is_path(f) and not os.path.isdir(os.path.dirname(os.path.abspath(os.fspath(f)))):
        raise FileNotFoundError(f"Parent directory {os.path.dirname(os.path.abspath(os.fspath(f)))} does not exist.")
    if safetensors_files.can_write(obj) and safetensors_files.available():
        safetensors_files.write(f, obj)
    else:
        tree.write_tree(f, {_OBJECT_KIND: obj}, kind=_OBJECT_KIND)


def load(f: FileLike, map_location: Any = None, pickle_module: Any = None, *, weights_only: bool | None = True,
         mmap: bool | None = None, **pickle_load_args: Any) -> Any:
    """Load an object saved by :func:`save`, by ``torch.save``, or a safetensors or ``.npz`` file.

    ``f`` is a path or a seekable binary file object (others are read into memory first). Formats are
    recognised from the content, whatever the file is called:

    * minidl's npz + JSON files give back the saved object, with the same types (tuples stay tuples,
      ``OrderedDict`` s keep their order, ints stay ints, tensors are minidl tensors); a trainer
      checkpoint gives its whole tree;
    * safetensors files give a dict of tensors;
    * files of ``torch.save`` (the zip format and the legacy one, e.g. torchvision's published weights)
      give the saved object with every torch tensor as a minidl tensor, every ``nn.Parameter`` as a
      minidl ``Parameter``, and ``torch.Size``, ``torch.device`` and dtypes as ``minidl.Size``,
      ``minidl.device`` and minidl's dtype objects; storages shared in the file stay shared. Neither torch
      nor any code from the file runs: any pickled object other than tensors, storages, dtypes,
      ``torch.Size``, ``torch.device``, ``OrderedDict``, sets and plain values is refused with a
      :class:`~minidl.errors.CheckpointError` naming it;
    * a plain ``.npz`` archive of arrays gives a dict of tensors.

    float16 and bfloat16 tensors in files of other libraries are up-cast to float32 (exactly; a
    ``UserWarning`` says how many), since minidl computes in float32/float64. Files minidl wrote keep
    every dtype.

    ``map_location`` may be ``None``, ``'cpu'``, a device, a dict of locations or a callable, as in
    ``torch.load``, but anything it asks for must be the CPU (otherwise
    :class:`~minidl.errors.DeviceError`); tensors saved on a GPU load onto the CPU. ``weights_only=False``
    is accepted for compatibility but loads nothing more: minidl never unpickles arbitrary objects.
    ``mmap=True`` maps the storages of a ``torch.save`` zip file given by path into memory (copy-on-write)
    instead of reading them. ``pickle_module`` may only be ``None`` or :mod:`pickle`; ``encoding`` (for
    files pickled by Python 2) is the one ``pickle_load_args`` entry read.

    Raises ``FileNotFoundError`` for a missing path and :class:`~minidl.errors.CheckpointError` naming the
    file when it is corrupt, truncated, of an unknown format or holds something refused.
    """
    placement = check_map_location(map_location)
    encoding = _check_options(pickle_module, weights_only, mmap, pickle_load_args)
    if mmap and not is_path(f):
        raise UnsupportedError("minidl.load(mmap=True) needs a path, not a file object")
    name = name_of(f)
    upcasts = Upcasts(name)
    obj = _load(f, name, placement, upcasts, encoding, bool(mmap))
    upcasts.warn(stacklevel=3)  # Upcasts.warn, load, the caller
    return obj


def _load(f: FileLike, name: str, placement: Callable[[Any, str], Any] | None, upcasts: Upcasts, encoding: str,
          mmap: bool) -> Any:
    """Recognise the format of ``f`` from its first bytes and read it."""
    with open_for_reading(f) as fp, translating_errors(name):
        start = fp.tell()
        head = fp.read(512)
        fp.seek(start)
        if head[:4] in _ZIP_MAGIC:
            return _load_zip(fp, name, placement, upcasts, encoding, mmap)
        if mmap:
            raise UnsupportedError("minidl.load(mmap=True) maps files of torch.save's zip format only, "
                                   f"and {name!r} is not one")
        # before the pickle test: a safetensors header length may start with byte 0x80 too
        if safetensors_files.looks_like(head):
            return safetensors_files.read(fp, name, upcasts, f if is_path(f) else None)
        if head[:1] == b"\x80":  # a pickle (PROTO opcode): torch.save's legacy format
            return torch_files.load_legacy(fp, name, placement, upcasts, encoding)
        if head[257:262] == b"ustar":
            raise CheckpointError(name, "a tar archive: PyTorch's tar format (torch < 0.1.10) is not supported, "
                                        "as in torch.load(weights_only=True); re-save the file with torch")
        what = "an empty file" if not head else "not a file minidl can read"
        raise CheckpointError(name, f"{what} (expected a minidl or PyTorch checkpoint, a safetensors file or "
                                    "an .npz archive)")


def _check_options(pickle_module: Any, weights_only: Any, mmap: Any, pickle_load_args: dict[str, Any]) -> str:
    """Validate load's torch-compatibility options; return the pickle text encoding to use."""
    if pickle_module is not None and getattr(pickle_module, "__name__", None) != "pickle":
        raise UnsupportedError("minidl.load: a custom pickle_module is not supported; minidl reads PyTorch files "
                               "with its own allow-listed unpickler")
    if weights_only not in (True, False, None):
        raise TypeError(f"minidl.load: weights_only must be a bool, got {weights_only!r}")
    if mmap not in (True, False, None):
        raise TypeError(f"minidl.load: mmap must be a bool, got {mmap!r}")
    encoding = pickle_load_args.pop("encoding", "utf-8")
    if pickle_load_args:
        raise TypeError(f"minidl.load: unexpected keyword argument(s) {sorted(pickle_load_args)}")
    if not isinstance(encoding, str):
        raise TypeError("minidl.load: encoding must be a string (encoding='bytes' is not supported)")
    return encoding


def _load_zip(fp: Any, name: str, placement: Callable[[Any, str], Any] | None, upcasts: Upcasts, encoding: str,
              mmap: bool) -> Any:
    with zipfile.ZipFile(fp) as zf:
        if torch_files.archive_prefix(zf) is not None:
            return torch_files.load_zip(zf, fp, name, placement, upcasts, encoding, mmap)
        if mmap:
            raise UnsupportedError("minidl.load(mmap=True) maps files of torch.save's zip format only, "
                                   f"and {name!r} is not one")
        if tree.is_tree_zip(zf):
            kind, obj = tree.read_tree_zip(zf, fp, name)
            return obj[_OBJECT_KIND] if kind == _OBJECT_KIND else obj
        return {key: to_tensor(arr, name) for key, arr in tree.read_arrays(zf, fp, name).items()}
