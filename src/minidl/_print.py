"""How tensors print: PyTorch's format (``tensor([0.5000, 1.0000], requires_grad=True)``).

Floats print with ``precision`` decimals; as ``1.`` when every value is an integer; in scientific notation
when the magnitudes span more than 1000x or leave [1e-4, 1e8). Long tensors are summarised with ``...``.
:func:`set_printoptions` changes the settings, as ``torch.set_printoptions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["set_printoptions", "get_printoptions", "tensor_repr"]

_DEFAULTS: dict[str, Any] = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
_options: dict[str, Any] = dict(_DEFAULTS)


def set_printoptions(precision: int | None = None, threshold: int | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print (``profile`` is ``'default'``, ``'short'`` or ``'full'``)."""
    if profile is not None:
        presets = {"default": _DEFAULTS, "short": {**_DEFAULTS, "precision": 2, "edgeitems": 2},
                   "full": {**_DEFAULTS, "threshold": np.inf}}
        if profile not in presets:
            raise ValueError(f"profile must be 'default', 'short' or 'full', got {profile!r}")
        _options.update(presets[profile])
    for key, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                       ("linewidth", linewidth)):
        if value is not None:
            _options[key] = value
    _options["sci_mode"] = sci_mode


def get_printoptions() -> dict[str, Any]:
    return dict(_options)


def _float_formatter(values: np.ndarray) -> Any:
    """A function formatting one float the way PyTorch formats this tensor's floats, all to one width."""
    prec = _options["precision"]
    finite = values[np.isfinite(values)]
    nonzero = np.abs(finite[finite != 0])
    if finite.size and np.all(finite == np.ceil(finite)):
        sci = nonzero.size > 0 and (nonzero.max() / nonzero.min() > 1000 or nonzero.max() > 1e8)
        if _options["sci_mode"] is not None:
            sci = _options["sci_mode"]
        fmt = (lambda v: f"{v:.{prec}e}") if sci else (lambda v: f"{v:.0f}.")
    else:
        sci = _options["sci_mode"]
        if sci is None:
            sci = nonzero.size > 0 and (nonzero.max() / nonzero.min() > 1000 or nonzero.max() > 1e8
                                        or nonzero.min() < 1e-4)
        fmt = (lambda v: f"{v:.{prec}e}") if sci else (lambda v: f"{v:.{prec}f}")

    def one(v: float) -> str:
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        return fmt(v)

    sample = values if values.size <= 2 * _options["threshold"] else np.concatenate([values[:1000], values[-1000:]])
    width = max((len(one(v)) for v in sample), default=0)
    return lambda v: one(v).rjust(width)


def _body(a: np.ndarray) -> str:
    if a.size == 0:
        return "[]"
    kw: dict[str, Any] = {"separator": ", ", "prefix": "tensor(", "threshold": _options["threshold"],
                          "edgeitems": _options["edgeitems"], "max_line_width": _options["linewidth"]}
    if a.dtype.kind == "f":
        flat = a.reshape(-1).astype(np.float64)
        if a.size > _options["threshold"]:  # the formatter only needs to see what is printed
            e = _options["edgeitems"]
            flat = np.concatenate([flat[: e * 1000], flat[-e * 1000:]])
        kw["formatter"] = {"float_kind": _float_formatter(flat)}
    elif a.dtype.kind == "b":
        width = 4 if a.all() else 5
        kw["formatter"] = {"bool": lambda v: ("True" if v else "False").rjust(width)}
    with np.errstate(all="ignore"):
        text = np.array2string(a, **kw)
    return text.replace(", ..., ", ",  ..., ")  # PyTorch's summary marker is " ..." between separators


def tensor_repr(t: Tensor) -> str:
    from . import dtypes

    a = t._data
    extra = []
    if a.size == 0 and a.shape != (0,):
        extra.append(f"size={tuple(a.shape)}")
    if a.dtype not in (dtypes.default_float(), np.dtype(np.int64), np.dtype(np.bool_)):
        extra.append(f"dtype={dtypes.of_array(a)}")
    if t._node is not None:
        extra.append(f"grad_fn=<{t._node.name()}>")
    elif t._requires_grad:
        extra.append("requires_grad=True")
    body = _body(a)
    return "tensor(" + body + "".join(", " + e for e in extra) + ")"
