"""``minidl.transforms``: torchvision's image transforms (names, arguments, defaults and results).

``from minidl import transforms`` gives what ``from torchvision import transforms`` gives: :class:`Compose`,
:class:`ToTensor`, :class:`Normalize`, :class:`Resize`, :class:`RandomCrop`, :class:`ColorJitter`, ... and
:mod:`~minidl.transforms.functional` (``F.resize``, ``F.rotate``, ...). They take PIL images (Pillow, the
``images`` extra), NumPy arrays ``(H, W[, C])`` as datasets store them, and minidl Tensors ``(..., C, H, W)``,
and return the same kind; :class:`ToTensor` makes the ``(C, H, W)`` float Tensor a model takes::

    transform = transforms.Compose([
        transforms.RandomCrop(32, padding=4),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    ])

Deterministic results equal torchvision's (Pillow's own operations for PIL images; for arrays and tensors,
NumPy reimplementations of torchvision's tensor path, equal to float rounding and within one grey level for
resampled uint8). Random transforms sample their parameters as torchvision does, from minidl's generator
(:func:`minidl.manual_seed`). Transforms with a ``batch`` method also run on whole batches, the
DataLoader's fast path for in-memory datasets (see :mod:`.transforms`).
"""

from . import functional
from .functional import InterpolationMode
from .transforms import (
    CenterCrop,
    ColorJitter,
    Compose,
    ConvertImageDtype,
    EvenOdd,
    FiveCrop,
    Flatten,
    GaussianBlur,
    Grayscale,
    Lambda,
    Normalize,
    Pad,
    PILToTensor,
    RandomAffine,
    RandomApply,
    RandomChoice,
    RandomCrop,
    RandomErasing,
    RandomGrayscale,
    RandomHorizontalFlip,
    RandomOrder,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
    Resize,
    TenCrop,
    ToFloat,
    ToPILImage,
    ToTensor,
    Transform,
    is_batchable,
)

__all__ = [
    "functional", "InterpolationMode", "Transform", "Compose", "ToTensor", "PILToTensor", "ConvertImageDtype",
    "ToPILImage", "Normalize", "Resize", "CenterCrop", "Pad", "Lambda", "RandomApply", "RandomChoice",
    "RandomOrder", "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomResizedCrop", "FiveCrop",
    "TenCrop", "ColorJitter", "RandomRotation", "RandomAffine", "Grayscale", "RandomGrayscale", "RandomErasing",
    "GaussianBlur", "ToFloat", "Flatten", "EvenOdd", "is_batchable",
]  # fmt: skip
