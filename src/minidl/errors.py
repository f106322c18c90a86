"""minidl's error hierarchy: one base class, and one subclass per kind of problem.

Every error minidl raises on purpose derives from :class:`MinidlError`, so ``except minidl.MinidlError``
catches exactly minidl's own complaints. Each subclass also derives from the built-in exception that
PyTorch or NumPy would raise for the same problem, so existing ``except ValueError`` / ``except TypeError`` /
``except RuntimeError`` clauses keep working. PyTorch reports most shape and dtype problems of tensor ops as
``RuntimeError``, so :class:`ShapeError` and :class:`DTypeError` are also ``RuntimeError``:

==================  =================  ==========================================================
class               also a             raised for
==================  =================  ==========================================================
``ShapeError``      ``ValueError``     shapes that do not fit (the layer, expected and actual shape)
``DTypeError``      ``TypeError``      dtypes that do not fit (int input to a float op, mixed dtypes); also a
                                       ``NotImplementedError``, as PyTorch's "not implemented for 'Long'"
``ValueRangeError`` ``ValueError``     a value outside what the op accepts (a probability above 1, a
                                       stride of 0, an index past the end)
``DataError``       ``ValueError``     bad dataset files or samples (names the file)
``CheckpointError`` ``ValueError``     checkpoints and saved files that cannot be read or are refused
``ConfigError``     ``ValueError``     run and sweep configurations (names the key)
``NumericalError``  ``RuntimeError``   non-finite losses, gradients or weights
``DeviceError``     ``RuntimeError``   devices minidl does not have (CUDA, MPS)
``UnsupportedError`` ``NotImplementedError`` a PyTorch feature minidl does not implement (names it)
==================  =================  ==========================================================
"""

from __future__ import annotations

__all__ = [
    "MinidlError", "ShapeError", "DTypeError", "DataError", "CheckpointError", "ConfigError",
    "NumericalError", "DeviceError", "UnsupportedError", "ValueRangeError", "NonFiniteWeightsWarning",
]  # fmt: skip


class MinidlError(Exception):
    """Base class of every error minidl raises on purpose."""


class ShapeError(MinidlError, ValueError, RuntimeError):
    """An input's shape does not fit what the op or layer expects."""


class DTypeError(MinidlError, TypeError, NotImplementedError):
    """An input's dtype does not fit what the op or layer expects."""


class ValueRangeError(MinidlError, ValueError, RuntimeError):
    """An argument or input value outside the range the op accepts (PyTorch raises RuntimeError for these)."""


class DataError(MinidlError, ValueError):
    """A dataset file or sample is missing, malformed or inconsistent."""


class CheckpointError(MinidlError, ValueError):
    """A checkpoint or saved file cannot be read, is corrupt, or holds something minidl refuses to load."""


class ConfigError(MinidlError, ValueError):
    """A run or sweep configuration is invalid."""


class NumericalError(MinidlError, RuntimeError):
    """A loss, gradient or weight became NaN or infinite."""


class DeviceError(MinidlError, RuntimeError):
    """A device minidl does not have was asked for (minidl runs on the CPU)."""


class UnsupportedError(MinidlError, NotImplementedError):
    """A PyTorch feature that minidl does not implement; the message names it."""


class NonFiniteWeightsWarning(UserWarning):
    """Weights being loaded or resumed hold NaN or infinite values (a run that blew up before it was saved)."""
