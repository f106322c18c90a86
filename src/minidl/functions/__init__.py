"""The ``minidl.*`` function namespace, PyTorch's ``torch.*``: creation, elementwise math, reductions,
comparisons, linear algebra, shape and indexing. Each function handles PyTorch's arguments (``dim``,
``keepdim``, ``dtype``, ``out=``) and type promotion, then runs ops of :mod:`minidl.ops` through the engine.

Importing this package also attaches the matching Tensor methods and operators (:mod:`minidl.tensor_methods`).
"""

from typing import Any

from .comparison import *  # noqa: F403
from .comparison import __all__ as _comparison
from .creation import *  # noqa: F403
from .creation import __all__ as _creation
from .linalg import *  # noqa: F403
from .linalg import __all__ as _linalg
from .pointwise import *  # noqa: F403
from .pointwise import __all__ as _pointwise
from .reduction import *  # noqa: F403
from .reduction import __all__ as _reduction
from .shape import *  # noqa: F403
from .shape import __all__ as _shape

__all__ = [*_creation, *_pointwise, *_reduction, *_comparison, *_linalg, *_shape]


def _accept_numpy_names() -> None:
    """Functions with ``dim``/``keepdim`` also take ``axis``/``keepdims`` (PyTorch's aliases)."""
    import inspect

    from ._args import numpy_names

    for name in __all__:
        fn = globals()[name]
        if inspect.isfunction(fn) and {"dim", "keepdim"} & set(inspect.signature(fn).parameters):
            globals()[name] = numpy_names(fn)


_accept_numpy_names()

from .. import tensor_methods as _tensor_methods  # noqa: E402  (needs the functions above)

_tensor_methods.bind()


def _inplace_functions() -> list[str]:
    """PyTorch's in-place functions of the namespace: ``minidl.sin_(x)`` is ``x.sin_()``."""
    names = []
    for name in (*_tensor_methods.INPLACE, "zero", "fill"):
        method = getattr(_tensor_methods.Tensor, name + "_")

        def fn(input: Any, *args: Any, _method: Any = method, **kwargs: Any) -> Any:
            return _method(input, *args, **kwargs)

        fn.__name__ = fn.__qualname__ = name + "_"
        fn.__doc__ = method.__doc__
        globals()[name + "_"] = fn
        names.append(name + "_")
    return names


__all__ += _inplace_functions()
