"""minidl: deep learning from scratch on NumPy.

Every differentiable op is a readable ``forward``/``backward`` pair (:mod:`minidl.ops`) that the autograd
engine (:mod:`minidl.tensor`, :mod:`minidl.autograd`) runs; the API speaks PyTorch at every level: this
namespace is ``torch.*`` (tensors, dtypes, devices, the functions of :mod:`minidl.functions`),
``minidl.nn``, ``minidl.nn.functional``, ``minidl.optim`` and ``minidl.utils.data`` are their torch
counterparts, and the classic homework functions (:mod:`minidl.layers`) sit on the same kernels.
"""

import builtins as _builtins

from . import dtypes as _dtypes
from . import ops
from ._print import get_printoptions, set_printoptions
from ._version import __version__
from .autograd.grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .device import device, get_default_device, set_default_device
from .dtypes import (
    bfloat16,
    can_cast,
    complex64,
    complex128,
    double,
    dtype,
    finfo,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from .errors import CheckpointError, ConfigError, DataError, DTypeError, MinidlError, NumericalError, ShapeError
from .functions import *  # noqa: F403  (the torch.* function namespace)
from .functions import __all__ as _functions_all
from .functions.reduction import return_types
from .memory_format import channels_last, contiguous_format, layout, memory_format, preserve_format, strided
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .tensor import Size, Tensor
from .threads import get_num_threads, set_num_threads

# PyTorch's dtype aliases that shadow Python builtins inside this namespace only (``minidl.float``, ...)
float = float32  # noqa: A001
int = int32  # noqa: A001
bool = _dtypes.bool_  # noqa: A001
bool_ = _dtypes.bool_
cfloat = complex64
cdouble = complex128


def is_tensor(obj: object) -> _builtins.bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> _builtins.bool:  # noqa: A002 - PyTorch's name
    return input.is_floating_point()


def numel(input: Tensor) -> _builtins.int:  # noqa: A002
    return input.numel()


def result_type(tensor1: object, tensor2: object) -> dtype:
    """The dtype PyTorch's promotion gives ``tensor1 ⊗ tensor2`` (tensors or numbers)."""
    return _dtypes.to_dtype(_dtypes.result_type(tensor1, tensor2))


def promote_types(type1: object, type2: object) -> dtype:
    return _dtypes.to_dtype(_dtypes.promote_types(_dtypes.to_numpy_dtype(type1), _dtypes.to_numpy_dtype(type2)))


def compile(model: object = None, **kwargs: object) -> object:  # noqa: A001
    """PyTorch's ``torch.compile``: minidl has no compiler, so the model or function is returned unchanged
    (its results are the same; only PyTorch's speed-up is missing). ``compile(mode=...)`` without a model
    returns a decorator that does the same."""
    return (lambda fn: fn) if model is None else model


from . import accelerator, autograd, backends, cuda, linalg, mps, nn, optim, special, testing, utils, xpu  # noqa: E402
from .legacy import (  # noqa: E402
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)
from .serialization import load, save  # noqa: E402  (minidl.save, minidl.load)

__all__ = [
    "__version__", "Tensor", "Size", "dtype", "device", "Generator", "MinidlError",
    "ShapeError", "DTypeError", "DataError", "CheckpointError", "ConfigError", "NumericalError",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
    "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
    "float16", "half", "float32", "float", "float64", "double", "bfloat16", "uint8", "int8", "int16", "short",
    "int32", "int", "int64", "long", "bool", "complex64", "complex128", "cfloat", "cdouble",
    "get_default_dtype", "set_default_dtype", "finfo", "iinfo", "result_type", "promote_types", "can_cast",
    "is_tensor", "is_floating_point", "numel", "set_printoptions", "get_printoptions", "return_types",
    "set_num_threads", "get_num_threads", "compile", "save", "load",
    "ops", "autograd", "nn", "optim", "utils", "linalg", "cuda", "backends", "accelerator", "testing",
    "special",
    "layout", "memory_format", "strided", "contiguous_format", "channels_last", "preserve_format",
    "set_default_device", "get_default_device", "xpu", "mps", "FloatTensor", "DoubleTensor", "HalfTensor",
    "LongTensor", "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor",
    *_functions_all,
]  # fmt: skip


_LAZY = ("datasets", "transforms", "models", "vision", "onnx", "hub", "distributed", "tune", "func")


def __getattr__(name: str) -> object:
    """Sub-packages that need not load with ``import minidl`` (``minidl.datasets``, ``minidl.transforms``,
    ...), imported on first use, as ``torchvision.datasets`` is reached from the package; likewise
    ``minidl.summary`` (model layers and sizes), which lives in the reporting layer."""
    if name == "summary":
        from .report.summary import summary

        return summary
    if name in _LAZY:
        import importlib

        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module 'minidl' has no attribute '{name}'")
