"""Published weights of the ImageNet zoo models: torchvision's files, described as torchvision describes them.

Each zoo model has a table of :class:`Weights` entries keyed by torchvision's names (``IMAGENET1K_V1``, ...,
and ``DEFAULT``). An entry gives the file's official URL, its name, the SHA-256 prefix torchvision writes into
that name (``resnet18-f37072fd.pth``: the first hex digits of the file's SHA-256, which the download checks),
the input size and preprocessing (resize, centre crop, ImageNet mean and std) and the class names. The
1000 ImageNet class names ship with minidl (``models/data/imagenet_classes.txt``, torchvision's list).

:func:`get_weights` finds an entry by any of the names people use: ``"IMAGENET1K_V1"`` or ``"DEFAULT"``
for a given model, ``"ResNet18_Weights.IMAGENET1K_V1"`` (torchvision's enum spelling), or
``"resnet18"`` / ``"resnet18.IMAGENET1K_V1"`` anywhere. Downloading is :func:`minidl.hub.load_weights`'s job.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from importlib import resources

__all__ = ["Weights", "IMAGENET_MEAN", "IMAGENET_STD", "imagenet_categories", "get_weights", "list_weights",
           "hash_prefix", "is_weights_file"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_BASE_URL = "https://download.pytorch.org/models/"
# torchvision's rule for the hash in a file name: the hex digits between the last "-" and the "."
_HASH_IN_NAME = re.compile(r"-([a-f0-9]*)\.")


WEIGHT_SUFFIXES = (".pth", ".pt", ".safetensors", ".npz", ".bin", ".ckpt")


def is_weights_file(weights: object) -> bool:
    """Whether ``weights`` names a file rather than a table entry: a path object, or a string holding a path
    separator, ending in a weights suffix (.pth, .pt, .safetensors, .npz, ...) or naming an existing file."""
    if isinstance(weights, os.PathLike):
        return True
    return isinstance(weights, str) and (os.sep in weights or weights.lower().endswith(WEIGHT_SUFFIXES)
                                         or os.path.isfile(weights))


@functools.cache
def imagenet_categories() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names in torchvision's order (index = class id)."""
    text = resources.files("minidl.models").joinpath("data/imagenet_classes.txt").read_text(encoding="utf-8")
    names = tuple(line for line in text.splitlines() if line)
    assert len(names) == 1000, f"imagenet_classes.txt holds {len(names)} names, not 1000"
    return names


def hash_prefix(file_name: str) -> str:
    """The SHA-256 prefix torchvision encodes in a weights file name (``""`` when it has none)."""
    found = _HASH_IN_NAME.search(file_name)
    return found.group(1) if found else ""


@dataclass(frozen=True)
class Weights:
    """One published weights file of a zoo model and how its inputs must be prepared.

    ``transforms``: resize the shorter side to ``resize_size``, centre-crop ``crop_size``, scale to [0, 1] and
    normalise with ``mean``/``std`` (torchvision's ``ImageClassification`` preset, bilinear resize).
    """

    model: str  # the zoo function, e.g. "resnet18"
    name: str  # torchvision's entry name, e.g. "IMAGENET1K_V1"
    url: str
    enum: str  # torchvision's enum class, e.g. "ResNet18_Weights"
    num_params: int  # of the model with these weights (1000 classes)
    crop_size: int = 224
    resize_size: int = 256
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    min_size: tuple[int, int] = (1, 1)
    categories: tuple[str, ...] = field(default=(), repr=False)

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def sha256_prefix(self) -> str:
        return hash_prefix(self.file_name)

    @property
    def input_size(self) -> tuple[int, int, int]:
        return (3, self.crop_size, self.crop_size)

    @property
    def num_classes(self) -> int:
        return len(self.categories)

    @property
    def full_name(self) -> str:
        return f"{self.enum}.{self.name}"

    def transforms(self):  # noqa: ANN201 - a transforms.Compose (imported lazily: transforms is a higher layer)
        """The evaluation preprocessing of these weights, for PIL images or HWC arrays: Resize, CenterCrop,
        ToTensor, Normalize."""
        from .. import transforms as T

        return T.Compose([T.Resize(self.resize_size), T.CenterCrop(self.crop_size), T.ToTensor(),
                          T.Normalize(self.mean, self.std)])


def _imagenet(model: str, enum: str, file: str, num_params: int, name: str = "IMAGENET1K_V1",
              **kw: object) -> Weights:
    return Weights(model, name, _BASE_URL + file, enum, num_params, categories=imagenet_categories(),
                   **kw)  # type: ignore[arg-type]


@functools.cache
def _tables() -> dict[str, dict[str, Weights]]:
    """model -> {entry name -> Weights}, with ``DEFAULT`` as torchvision sets it."""
    rows = [
        _imagenet("alexnet", "AlexNet_Weights", "alexnet-owt-7be5be79.pth", 61100840,
                  min_size=(63, 63)),
        _imagenet("squeezenet1_0", "SqueezeNet1_0_Weights", "squeezenet1_0-b66bff10.pth", 1248424,
                  min_size=(21, 21)),
        _imagenet("squeezenet1_1", "SqueezeNet1_1_Weights", "squeezenet1_1-b8a52dc0.pth", 1235496,
                  min_size=(17, 17)),
        _imagenet("resnet18", "ResNet18_Weights", "resnet18-f37072fd.pth", 11689512),
        _imagenet("resnet34", "ResNet34_Weights", "resnet34-b627a593.pth", 21797672),
        _imagenet("vgg11_bn", "VGG11_BN_Weights", "vgg11_bn-6002323d.pth", 132868840,
                  min_size=(32, 32)),
        _imagenet("mobilenet_v2", "MobileNet_V2_Weights", "mobilenet_v2-b0353104.pth", 3504872),
        _imagenet("mobilenet_v2", "MobileNet_V2_Weights", "mobilenet_v2-7ebf99e0.pth", 3504872,
                  name="IMAGENET1K_V2", resize_size=232),
    ]
    tables: dict[str, dict[str, Weights]] = {}
    for w in rows:
        tables.setdefault(w.model, {})[w.name] = w
    for table in tables.values():  # torchvision's DEFAULT: the newest entry
        table["DEFAULT"] = table["IMAGENET1K_V2" if "IMAGENET1K_V2" in table else "IMAGENET1K_V1"]
    return tables


def list_weights(model: str | None = None) -> list[str]:
    """Every weights name (``resnet18.IMAGENET1K_V1``, ...), or those of one model (``IMAGENET1K_V1``, ...)."""
    tables = _tables()
    if model is not None:
        return sorted(tables.get(model, {}))
    return sorted(f"{m}.{n}" for m, table in tables.items() for n in table)


def get_weights(name: str, model: str | None = None) -> Weights:
    """The table entry called ``name`` (see the module docstring); ``model`` restricts the search to one model.

    Raises ``ValueError`` listing the known names when there is no such entry.
    """
    if isinstance(name, Weights):
        return name
    if not isinstance(name, str):
        raise TypeError(f"weights must be a name or a path, got {type(name).__name__}")
    tables = _tables()
    head, _, tail = name.rpartition(".")
    candidates: list[tuple[str, str]] = []
    if model is not None:
        candidates.append((model, name))
        candidates.append((model, tail))
    if head:
        for m, table in tables.items():  # "resnet18.IMAGENET1K_V1" or "ResNet18_Weights.IMAGENET1K_V1"
            if head in (m, table["DEFAULT"].enum):
                candidates.append((m, tail))
    elif name in tables:  # "resnet18": its default weights
        candidates.append((name, "DEFAULT"))
    for m, entry in candidates:
        found = tables.get(m, {}).get(entry)
        if found is not None and (model is None or found.model == model):
            return found
    known = list_weights(model) if model is not None else list_weights()
    where = f" for {model}" if model is not None else ""
    raise ValueError(f"unknown weights {name!r}{where}; known: {', '.join(known)} (or give a file path)")

