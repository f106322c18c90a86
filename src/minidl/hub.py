"""``minidl.hub``: pretrained weights by name or from a file, as ``torch.hub`` serves torchvision's.

:func:`load_weights` returns a state dict (name -> Tensor) from

* a name of the weights tables (:mod:`minidl.models.weights`): ``"resnet18"`` (its default weights),
  ``"resnet18.IMAGENET1K_V1"``, ``"ResNet18_Weights.IMAGENET1K_V1"``, or a :class:`~minidl.models.Weights`
  entry. The file is downloaded once from its official address into the weights folder, and its SHA-256 is
  checked against the prefix torchvision writes into the file's name;
* a local file: ``.pth``/``.pt`` (``torch.save``'s formats, read without torch and without running any code
  from the file), ``.safetensors`` or ``.npz`` (anything :func:`minidl.load` reads). A checkpoint holding
  its weights under ``"state_dict"`` or ``"model"`` gives those.

The weights folder, in order: :func:`set_dir`'s folder, ``$MINIDL_CACHE/weights``,
``$XDG_CACHE_HOME/minidl/weights``, ``~/.cache/minidl/weights``. A file PyTorch already downloaded (in
``$TORCH_HOME/hub/checkpoints``, by default ``~/.cache/torch/hub/checkpoints``) is used in place after its
checksum is verified. ``$MINIDL_WEIGHTS_MIRROR`` (base URLs separated by spaces or commas) or ``mirrors=``
names other addresses to try first, e.g. a course's local copy.

Downloads go through :mod:`minidl.datasets.download`: streamed into a temporary file beside the target,
size and checksum verified, then renamed into place, so a file in the folder is always complete and
verified; a failed or interrupted download leaves nothing behind and raises
:class:`~minidl.datasets.download.DownloadError` saying what went wrong at each address.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .datasets.download import DownloadError, download_file, file_digest
from .errors import CheckpointError
from .functions import as_tensor
from .models.weights import Weights, get_weights, is_weights_file
from .serialization import load
from .tensor import Tensor

__all__ = ["load_weights", "download_weights", "get_dir", "set_dir", "torch_cache_dir", "DownloadError"]

_DIR: Path | None = None


def set_dir(path: str | os.PathLike | None) -> None:
    """Use ``path`` as the weights folder from now on (``None``: back to the environment's default)."""
    global _DIR
    _DIR = None if path is None else Path(path).expanduser()


def get_dir() -> Path:
    """The folder downloaded weights go to (see the module docstring)."""
    if _DIR is not None:
        return _DIR
    if os.environ.get("MINIDL_CACHE"):
        return Path(os.environ["MINIDL_CACHE"]).expanduser() / "weights"
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "minidl" / "weights"
    return Path.home() / ".cache" / "minidl" / "weights"


def torch_cache_dir() -> Path:
    """Where ``torch.hub`` keeps downloaded checkpoints: ``$TORCH_HOME/hub/checkpoints``, by default
    ``$XDG_CACHE_HOME/torch`` or ``~/.cache/torch``."""
    home = os.environ.get("TORCH_HOME")
    if not home:
        home = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "torch")
    return Path(home).expanduser() / "hub" / "checkpoints"


def _mirrors(entry: Weights, mirrors: Sequence[str] | None) -> list[str]:
    if mirrors is None:
        mirrors = os.environ.get("MINIDL_WEIGHTS_MIRROR", "").replace(",", " ").split()
    return [*mirrors, entry.url.rsplit("/", 1)[0]]


def _verified(path: Path, prefix: str) -> bool:
    return path.is_file() and (not prefix or file_digest(path).startswith(prefix))


def download_weights(weights: Weights | str, *, model_dir: str | os.PathLike | None = None, progress: bool = True,
                     mirrors: Sequence[str] | None = None, timeout: float = 60.0) -> Path:
    """The local path of a table entry's file, downloading (and verifying) it first when needed."""
    entry = get_weights(weights) if not isinstance(weights, Weights) else weights
    folder = Path(model_dir).expanduser() if model_dir is not None else get_dir()
    target = folder / entry.file_name
    if target.is_file():  # only complete, verified downloads are ever renamed to this name
        return target
    theirs = torch_cache_dir() / entry.file_name
    if _verified(theirs, entry.sha256_prefix):
        return theirs
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DownloadError(f"{entry.file_name}: cannot create the weights folder {folder}: {e}; choose another "
                            "with minidl.hub.set_dir() or $MINIDL_CACHE") from None
    checksum = f"sha256:{entry.sha256_prefix}" if entry.sha256_prefix else None
    if progress:
        print(f"Downloading {entry.url} to {target}", file=sys.stderr, flush=True)
    return download_file(entry.file_name, checksum, _mirrors(entry, mirrors), folder, timeout=timeout)


def _tensors(obj: Any) -> dict[str, Tensor] | None:
    """``obj`` as ``name -> Tensor`` when it is a non-empty mapping of tensors or arrays (minidl's run
    directories keep arrays), else None."""
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, Tensor | np.ndarray) for v in obj.values()):
        return None
    return {str(k): v if isinstance(v, Tensor) else as_tensor(v) for k, v in obj.items()}


def _state_dict(obj: Any, source: str) -> dict[str, Tensor]:
    """The ``name -> Tensor`` mapping in a loaded file (itself, or its ``state_dict``/``model`` entry)."""
    found = _tensors(obj)
    if found is not None:
        return found
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model"):
            inner = _tensors(obj.get(key))
            if inner is not None:
                return inner
    what = type(obj).__name__ if not isinstance(obj, Mapping) else f"a dict with keys {sorted(map(str, obj))[:8]}"
    raise CheckpointError(f"{source}: holds {what}, not a state dict of tensors (nor one under 'state_dict' or "
                          "'model')")


def load_weights(weights: Weights | str | os.PathLike, *, progress: bool = True,
                 model_dir: str | os.PathLike | None = None, mirrors: Sequence[str] | None = None,
                 map_location: Any = None) -> dict[str, Tensor]:
    """The state dict of a table entry (downloaded when needed) or of a local file; see the module docstring.

    Raises ``FileNotFoundError`` for a missing file, ``ValueError`` for an unknown name (listing the known
    ones), :class:`~minidl.datasets.download.DownloadError` when no address delivers a verified file, and
    :class:`~minidl.errors.CheckpointError` for a file that holds no state dict.
    """
    if isinstance(weights, Weights):
        path = download_weights(weights, model_dir=model_dir, progress=progress, mirrors=mirrors)
    elif is_weights_file(weights):
        path = Path(weights).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"weights file {str(path)!r} not found")
    elif isinstance(weights, str):
        path = download_weights(get_weights(weights), model_dir=model_dir, progress=progress, mirrors=mirrors)
    else:
        raise TypeError(f"load_weights: expected a weights name, a Weights entry or a path, got "
                        f"{type(weights).__name__}")
    return _state_dict(load(path, map_location=map_location), str(path))
