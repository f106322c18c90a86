"""Run one idiom under PyTorch or under minidl, describe what it produced, and compare the two.

An idiom is a few lines of PyTorch code written against the names public code uses (``torch``, ``nn``,
``F``, ``optim``, ``np``). :func:`run` executes it with those names bound to one library:

* ``"torch"``: ``torch``, ``torch.nn``, ``torch.nn.functional``, ``torch.optim``;
* ``"minidl"``: ``minidl``, ``minidl.nn``, ``minidl.nn.functional``, ``minidl.optim``; an ``import torch...``
  line inside the snippet is redirected to ``minidl...``, the way a user ports a script.

Every run starts from the same state: both libraries seeded with 0, the default dtype float32, gradients
enabled, fresh copies of the NumPy inputs of :func:`inputs`, and an empty directory ``TMP`` for files.

What a run produced (the idiom's named outputs, or the exception it raised) is turned into plain data by
:func:`encode` (tensors become dtype name + shape + values + requires_grad), so a torch result, a minidl result and a
result recorded into JSON are compared by one function, :func:`compare`, and shown side by side by
:func:`side_by_side`.
"""

from __future__ import annotations

import builtins
import hashlib
import importlib
import math
import random
import tempfile
import textwrap
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

LIBRARIES = ("torch", "minidl")

# Tolerances for floating values by dtype: (rtol, atol). Python floats use the float32 row, since most
# come from ``.item()`` on float32 tensors.
TOLERANCES = {"float16": (1e-3, 1e-4), "float32": (1e-4, 1e-6), "float64": (1e-9, 1e-12)}


# --------------------------------------------------------------------------------------------- idioms
@dataclass(frozen=True)
class Idiom:
    """One snippet of public PyTorch code, in the harness's form.

    ``outputs`` names the variables the two libraries must agree on; ``raises`` is the built-in exception
    PyTorch raises instead (minidl must raise an instance of it too, or of a class in ``also_accept``).
    ``random`` idioms draw random numbers: their tensors are compared by dtype and shape only.
    ``minidl_may_raise`` names an error issue 9 explicitly allows minidl instead of torch's result.
    ``skip`` holds the reason an idiom is not run yet (e.g. it needs issue 10's layers).
    """

    group: str
    name: str
    source: str
    code: str
    outputs: tuple[str, ...] = ()
    raises: type[BaseException] | None = None
    also_accept: tuple[type[BaseException], ...] = ()
    random: bool = False
    rtol: float | None = None
    atol: float | None = None
    minidl_may_raise: type[BaseException] | None = None
    skip: str | None = None
    note: str = ""

    @property
    def id(self) -> str:
        return f"{self.group}:{self.name}"

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything that decides the idiom's torch result changes."""
        text = "\n".join([self.code, " ".join(self.outputs), repr(self.raises), str(self.random)])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Table:
    """Collects the idioms of one group: ``t = Table("creation")`` then ``t.add(...)`` for each."""

    group: str
    idioms: list[Idiom] = field(default_factory=list)

    def add(self, name: str, source: str, code: str, out: str = "", **options: Any) -> None:
        self.idioms.append(Idiom(self.group, name, source, textwrap.dedent(code).strip() + "\n",
                                 tuple(out.replace(",", " ").split()), **options))


# --------------------------------------------------------------------------------------------- inputs
def inputs() -> dict[str, np.ndarray]:
    """The NumPy arrays every snippet may use (fresh copies each run, the same values every time).

    A (4, 5), B (5, 3), C (4, 5), V (5,), W (3,), X3 (2, 3, 4), IMG (2, 3, 8, 8): float32 normals;
    D (4, 5): float64 normals; POS (4, 5): float32 in [0.5, 2); PROB (4, 5): float32 in (0.05, 0.95);
    I (4, 5): int64 in [0, 10); LABELS (4,): int64 in [0, 5).
    """
    rng = np.random.default_rng(20240917)
    f32 = np.float32
    return {
        "A": rng.standard_normal((4, 5)).astype(f32),
        "B": rng.standard_normal((5, 3)).astype(f32),
        "C": rng.standard_normal((4, 5)).astype(f32),
        "V": rng.standard_normal(5).astype(f32),
        "W": rng.standard_normal(3).astype(f32),
        "X3": rng.standard_normal((2, 3, 4)).astype(f32),
        "IMG": rng.standard_normal((2, 3, 8, 8)).astype(f32),
        "D": rng.standard_normal((4, 5)),
        "POS": rng.uniform(0.5, 2.0, (4, 5)).astype(f32),
        "PROB": rng.uniform(0.05, 0.95, (4, 5)).astype(f32),
        "I": rng.integers(0, 10, (4, 5)),
        "LABELS": rng.integers(0, 5, 4),
    }


# ------------------------------------------------------------------------------------------ libraries
_MODULES = {
    "torch": ("torch", "torch.nn", "torch.nn.functional", "torch.optim"),
    "minidl": ("minidl", "minidl.nn", "minidl.nn.functional", "minidl.optim"),
}


def available(lib: str) -> bool:
    try:
        importlib.import_module(_MODULES[lib][0])
    except ImportError:
        return False
    return True


def _redirecting_import(lib: str) -> Any:
    """``__import__`` for snippets: under minidl, ``torch`` and ``torch.x`` mean ``minidl`` and ``minidl.x``."""
    real = builtins.__import__

    def _import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        if lib == "minidl" and level == 0 and (name == "torch" or name.startswith("torch.")):
            name = "minidl" + name[len("torch"):]
        return real(name, globals, locals, fromlist, level)

    return _import


def _reset(lib: str) -> None:
    """Put the library's global state back to the start state every run begins from."""
    top = importlib.import_module(_MODULES[lib][0])
    random.seed(0)
    top.manual_seed(0)
    if hasattr(top, "set_default_dtype"):
        top.set_default_dtype(top.float32)
    if hasattr(top, "set_default_device"):
        top.set_default_device(None)
    mode = top.set_grad_enabled(True)  # torch switches on construction
    if not top.is_grad_enabled():  # a context-manager-only implementation switches on entry
        mode.__enter__()


def namespace(lib: str, tmp: str) -> dict[str, Any]:
    torch, nn, F, optim = (importlib.import_module(m) for m in _MODULES[lib])
    names: dict[str, Any] = {"torch": torch, "nn": nn, "F": F, "optim": optim, "np": np, "math": math,
                             "TMP": tmp, "__name__": "__idiom__"}
    names["__builtins__"] = {**vars(builtins), "__import__": _redirecting_import(lib)}
    names.update(inputs())
    return names


# ------------------------------------------------------------------------------------------- running
@dataclass
class Outcome:
    """What one run produced: the encoded outputs, or the exception raised (``error``) and its text."""

    outputs: dict[str, Any] | None = None
    error: str | None = None  # the exception's class name
    message: str = ""
    exception: BaseException | None = None


def run(idiom: Idiom, lib: str) -> Outcome:
    """Execute ``idiom`` with ``lib`` bound to the usual names; never raises for errors of the snippet."""
    _reset(lib)
    with tempfile.TemporaryDirectory(prefix="idiom-") as tmp:
        ns = namespace(lib, tmp)
        code = compile(idiom.code, f"<idiom {idiom.id} [{lib}]>", "exec")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # torch's deprecation notices
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("error", RuntimeWarning)  # overflow/invalid-value warnings are failures
                exec(code, ns)
            outputs = {name: encode(ns[name], random=idiom.random) for name in idiom.outputs}
        except Exception as exc:  # the snippet's own failure is a result, not a harness error
            message = _first_line(exc).replace(tmp, "TMP")
            return Outcome(error=type(exc).__name__, message=message, exception=exc)
        finally:
            _reset(lib)
    return Outcome(outputs=outputs)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""


# ------------------------------------------------------------------------------------------ encoding
def dtype_name(dtype: Any) -> str:
    """'float32' for torch.float32, np.float32, np.dtype('float32') or a minidl dtype object alike."""
    if isinstance(dtype, np.dtype):
        return dtype.name
    if isinstance(dtype, type) and issubclass(dtype, np.generic):
        return np.dtype(dtype).name
    return str(dtype).rsplit(".", 1)[-1]


def _is_tensor(value: Any) -> bool:
    module = type(value).__module__.split(".")[0]
    return module in LIBRARIES and hasattr(value, "shape") and hasattr(value, "dtype") and hasattr(value, "detach")


def _is_dtype(value: Any) -> bool:
    return (isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic))
            or type(value).__name__.lower() == "dtype")


def _array_of(tensor: Any) -> np.ndarray:
    t = tensor.detach()
    if hasattr(t, "cpu"):
        t = t.cpu()
    return np.array(t.numpy() if hasattr(t, "numpy") else t, copy=True)


def _values(arr: np.ndarray, random: bool) -> list | None:
    return None if random else arr.reshape(-1).tolist()


def encode(value: Any, random: bool = False) -> Any:
    """Plain, JSON-able data describing ``value`` in library-neutral terms (see the module docstring)."""
    if value is None:
        return {"kind": "None"}
    if _is_tensor(value):
        arr = _array_of(value)
        dtype = dtype_name(value.dtype)
        if arr.dtype.name != dtype:
            dtype = f"{dtype} (stored as {arr.dtype.name})"
        return {"kind": "tensor", "dtype": dtype, "shape": list(arr.shape), "values": _values(arr, random),
                "requires_grad": bool(value.requires_grad)}
    if isinstance(value, np.ndarray):
        return {"kind": "ndarray", "dtype": value.dtype.name, "shape": list(value.shape),
                "values": _values(value, random)}
    if isinstance(value, np.generic):
        return {"kind": f"numpy {type(value).__name__}", "value": value.item()}
    if _is_dtype(value):
        return {"kind": "dtype", "name": dtype_name(value)}
    if type(value).__name__.lower() == "device":
        return {"kind": "device", "str": str(value), "type": value.type, "index": value.index}
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return {"kind": kind.__name__, "value": kind(value)}
    if isinstance(value, tuple | list):
        return {"kind": "list" if isinstance(value, list) else "tuple",
                "items": [encode(v, random) for v in value]}
    if isinstance(value, Mapping):
        return {"kind": "dict", "items": [[encode(k), encode(v, random)] for k, v in value.items()]}
    return {"kind": "other", "type": type(value).__name__}


# ----------------------------------------------------------------------------------------- comparing
def compare(expected: Any, actual: Any, where: str = "", rtol: float | None = None,
            atol: float | None = None) -> list[str]:
    """Every way ``actual`` differs from ``expected`` (both :func:`encode` results), as readable lines."""
    where = where or "result"
    if expected["kind"] != actual["kind"]:
        return [f"{where}: a {actual['kind']} where torch gives a {expected['kind']}"]
    kind = expected["kind"]
    if kind in ("tensor", "ndarray"):
        return _compare_arrays(expected, actual, where, rtol, atol)
    if kind in ("tuple", "list"):
        if len(expected["items"]) != len(actual["items"]):
            return [f"{where}: {len(actual['items'])} items where torch has {len(expected['items'])}"]
        return [p for i, (e, a) in enumerate(zip(expected["items"], actual["items"], strict=True))
                for p in compare(e, a, f"{where}[{i}]", rtol, atol)]
    if kind == "dict":
        keys_e = [k["value"] if "value" in k else k["kind"] for k, _ in expected["items"]]
        keys_a = [k["value"] if "value" in k else k["kind"] for k, _ in actual["items"]]
        if keys_e != keys_a:
            return [f"{where}: keys {keys_a} where torch has {keys_e}"]
        return [p for k, (e, a) in zip(keys_e, zip(expected["items"], actual["items"], strict=True), strict=True)
                for p in compare(e[1], a[1], f"{where}[{k!r}]", rtol, atol)]
    if kind == "float":
        r, a = _tolerance("float32", rtol, atol)
        if not _close(expected["value"], actual["value"], r, a):
            return [f"{where}: {actual['value']!r} where torch gives {expected['value']!r}"]
        return []
    if kind == "other":
        return [f"{where}: an object of type {actual['type']} cannot be compared (idiom must output values)"]
    if expected != actual:
        return [f"{where}: {_short(actual)} where torch gives {_short(expected)}"]
    return []


def _tolerance(dtype: str, rtol: float | None, atol: float | None) -> tuple[float, float]:
    default_r, default_a = TOLERANCES.get(dtype, (0.0, 0.0))
    return (default_r if rtol is None else rtol), (default_a if atol is None else atol)


def _close(e: float, a: float, rtol: float, atol: float) -> bool:
    if math.isnan(e) or math.isnan(a):
        return math.isnan(e) and math.isnan(a)
    if math.isinf(e) or math.isinf(a):
        return e == a
    return abs(a - e) <= atol + rtol * abs(e)


def _compare_arrays(expected: dict, actual: dict, where: str, rtol: float | None, atol: float | None) -> list[str]:
    problems = []
    if expected["dtype"] != actual["dtype"]:
        problems.append(f"{where}: dtype {actual['dtype']} where torch gives {expected['dtype']}")
    if expected.get("requires_grad") != actual.get("requires_grad"):
        problems.append(f"{where}: requires_grad={actual.get('requires_grad')} where torch gives "
                        f"requires_grad={expected.get('requires_grad')}")
    if expected["shape"] != actual["shape"]:
        problems.append(f"{where}: shape {tuple(actual['shape'])} where torch gives {tuple(expected['shape'])}")
        return problems
    if expected["values"] is None or actual["values"] is None:
        return problems
    e, a = np.array(expected["values"]), np.array(actual["values"])
    if e.dtype.kind == "f" or a.dtype.kind == "f":
        r, t = _tolerance(expected["dtype"], rtol, atol)
        ok = np.isclose(a.astype(float), e.astype(float), rtol=r, atol=t, equal_nan=True)
    else:
        ok = a == e
    if not np.all(ok):
        bad = int(np.size(ok) - np.count_nonzero(ok))
        first = int(np.flatnonzero(~np.asarray(ok).reshape(-1))[0])
        index = tuple(int(i) for i in np.unravel_index(first, expected["shape"])) if expected["shape"] else ()
        problems.append(f"{where}: {bad} of {np.size(ok)} values differ; first at {index}: "
                        f"{a.reshape(-1)[first].item()!r} where torch gives {e.reshape(-1)[first].item()!r}")
    return problems


# ------------------------------------------------------------------------------------------ verdicts
def builtin_family(exc_type: type[BaseException]) -> type[BaseException]:
    """The first built-in exception class an exception class derives from (RuntimeError, TypeError, ...)."""
    for cls in exc_type.__mro__:
        if cls.__module__ == "builtins":
            return cls
    return Exception


def torch_side_problems(idiom: Idiom, torch: Outcome) -> list[str]:
    """Why the idiom itself is broken (judged by torch's run alone), if it is."""
    if idiom.raises is not None:
        if torch.error is None:
            return [f"the idiom says torch raises {idiom.raises.__name__}, but torch ran to the end"]
        if not isinstance(torch.exception, idiom.raises):
            return [f"the idiom says torch raises {idiom.raises.__name__}, torch raised {torch.error}: "
                    f"{torch.message}"]
        return []
    if torch.error is not None:
        return [f"torch raised {torch.error}: {torch.message}"]
    if not idiom.outputs:
        return ["the idiom names no outputs and no exception"]
    return [f"output {name!r} is an object of type {enc['type']}; output values instead"
            for name, enc in torch.outputs.items() if enc["kind"] == "other"]


def verdict(idiom: Idiom, expected: Outcome, actual: Outcome) -> list[str]:
    """Every way minidl's run differs from torch's (empty: the idiom passes)."""
    if idiom.raises is not None:
        allowed = (idiom.raises, *idiom.also_accept)
        names = " or ".join(c.__name__ for c in allowed)
        if actual.error is None:
            return [f"torch raises {expected.error}, minidl must raise {names} too; it raised nothing"]
        if not isinstance(actual.exception, allowed):
            return [f"torch raises {expected.error}, minidl must raise {names} too; it raised {actual.error}: "
                    f"{actual.message}"]
        return []
    if actual.error is not None:
        if idiom.minidl_may_raise is not None and isinstance(actual.exception, idiom.minidl_may_raise):
            return []
        return [f"minidl raised {actual.error}: {actual.message}"]
    return [p for name in idiom.outputs
            for p in compare(expected.outputs[name], actual.outputs[name], name, idiom.rtol, idiom.atol)]


# ----------------------------------------------------------------------------------------- reporting
def _short(enc: Any, width: int = 60) -> str:
    kind = enc["kind"]
    if kind in ("tensor", "ndarray"):
        head = f"{kind} {enc['dtype']} {tuple(enc['shape'])}"
        if enc["values"] is None:
            return head + " (random: values not compared)"
        vals = np.array(enc["values"]).reshape(enc["shape"]) if enc["shape"] else np.array(enc["values"][0])
        body = np.array2string(vals, precision=4, threshold=12, edgeitems=2, max_line_width=10_000)
        return f"{head} {' '.join(body.split())}"[:width]
    if kind in ("tuple", "list"):
        inner = ", ".join(_short(i, width) for i in enc["items"])
        text = f"({inner})" if kind == "tuple" else f"[{inner}]"
        return text if len(text) <= width else text[: width - 3] + "..."
    if kind == "dict":
        return ("{" + ", ".join(f"{_short(k)}: {_short(v)}" for k, v in enc["items"]) + "}")[:width]
    if kind == "dtype":
        return f"dtype {enc['name']}"
    if kind == "device":
        return f"device {enc['str']!r}"
    if kind == "None":
        return "None"
    if kind == "other":
        return f"<{enc['type']}>"
    return f"{kind} {enc['value']!r}"[:width]


def _lines(outcome: Outcome, idiom: Idiom, width: int) -> dict[str, str]:
    if outcome.error is not None:
        return {"raised": f"{outcome.error}: {outcome.message}"}
    return {name: _short(outcome.outputs[name], width) for name in idiom.outputs}


def side_by_side(idiom: Idiom, expected: Outcome, actual: Outcome, problems: list[str], width: int = 58) -> str:
    """The idiom, then each output as torch and minidl produced it in two columns, then the differences."""
    left, right = _lines(expected, idiom, width), _lines(actual, idiom, width)
    names = list(dict.fromkeys([*left, *right]))
    label = max(len(n) for n in names)
    rows = [f"{'':{label}}  {'torch':{width}} | minidl"]
    rows += [f"{n:{label}}  {left.get(n, '-'):{width}} | {right.get(n, '-')}" for n in names]
    code = textwrap.indent(idiom.code.rstrip(), "    ")
    return "\n".join([f"{idiom.id}  (from {idiom.source})", code, "", *rows, "", *problems])
