"""Figures of a training run, written as PNG files: curves, confusion matrix, galleries, filters.

Every ``plot_*`` function takes plain NumPy arrays / lists / dicts (minidl tensors work too, through
``np.asarray``), writes one PNG atomically (:func:`minidl._atomic.atomic_path`: a temporary file in the same
directory, then :func:`os.replace`) and returns its :class:`~pathlib.Path`.

Size: a figure is ``figsize`` inches at ``dpi`` dots per inch, so the PNG is exactly
``int(figsize[0] * dpi) x int(figsize[1] * dpi)`` pixels (no tight bounding box that would change it).
Defaults: curves 8 x 5 in at 100 dpi = **800 x 500 px**; square figures (confusion matrix, galleries, filters,
decision boundary) 8 x 8 in = **800 x 800 px**; reconstructions 12 x 3.5 in = **1200 x 350 px**.

matplotlib is an optional extra (``pip install "minidl[plot]"``). It is imported inside the functions,
never when minidl is imported; figures are built on :class:`matplotlib.figure.Figure` with an Agg canvas,
never through ``pyplot``, so no global figure state is touched and plotting is safe from several threads.
:func:`plots_available` tells a caller whether plots can be made, so a run can still train and its report
can say that plots were skipped. The pure-NumPy helpers (:func:`confusion_matrix`, :func:`per_class_accuracy`,
:func:`psnr`, :func:`moving_average`, :func:`visualize_grid`) work without matplotlib.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .._atomic import PathLike, atomic_path
from ._util import get_series, history_keys, is_fraction

__all__ = [
    "plots_available", "PLOT_INSTALL_HINT", "DEFAULT_DPI", "CURVE_FIGSIZE", "SQUARE_FIGSIZE",
    "moving_average", "confusion_matrix", "per_class_accuracy", "psnr", "visualize_grid",
    "plot_loss", "plot_accuracy", "plot_lr", "plot_curves", "plot_history", "plot_confusion_matrix",
    "plot_misclassified", "plot_misclassified_per_class", "plot_per_class_accuracy", "plot_filters",
    "plot_decision_boundary", "plot_reconstructions", "plot_letter_boxes",
    "plot_metric_vs_params",
]  # fmt: skip

PLOT_INSTALL_HINT = 'plotting needs matplotlib, an optional extra of minidl: pip install "minidl[plot]"'
DEFAULT_DPI = 100
CURVE_FIGSIZE = (8.0, 5.0)
SQUARE_FIGSIZE = (8.0, 8.0)
RECON_FIGSIZE = (12.0, 3.5)

F = TypeVar("F", bound=Callable[..., Any])
_RAW_ALPHA = 0.25  # raw per-iteration losses drawn faintly under their moving average
# margins of image galleries (fractions of the figure), leaving room for the title and two-line captions
_GALLERY_GRID = {"left": 0.02, "right": 0.98, "bottom": 0.02, "top": 0.9, "wspace": 0.15, "hspace": 0.5}


# ================================================================================ matplotlib access
def plots_available() -> bool:
    """Whether matplotlib can be imported (the ``plot`` extra is installed)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _needs_matplotlib(fn: F) -> F:
    """Make ``fn`` fail first thing, with the install hint, when matplotlib is missing (before any work)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not plots_available():
            raise ImportError(f"{fn.__name__}: {PLOT_INSTALL_HINT}")
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _new_figure(figsize: tuple[float, float], dpi: int, layout: str | None = "constrained") -> Any:
    """A stand-alone Figure on an Agg canvas (no pyplot, no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if len(figsize) != 2 or min(figsize) <= 0 or dpi <= 0:
        raise ValueError(f"figsize must be two positive sizes in inches and dpi positive, "
                         f"got {figsize} at {dpi} dpi")
    fig = Figure(figsize=figsize, dpi=dpi, layout=layout)  # type: ignore[arg-type]  # checked by matplotlib
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: PathLike) -> Path:
    """Write ``fig`` as PNG at its own dpi, atomically; the pixel size is figsize * dpi."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=fig.dpi)
    return Path(path)


# ================================================================================ pure NumPy helpers
def moving_average(values: Sequence[float] | np.ndarray, window: int) -> np.ndarray:
    r"""Trailing moving average that skips non-finite entries.

    .. math:: m_i = \frac{1}{|S_i|} \sum_{j \in S_i} x_j, \qquad
              S_i = \{ j : i - w < j \le i,\ x_j \text{ finite} \}

    (NaN where :math:`S_i` is empty). Computed in O(n) from a cumulative sum of the finite values and a
    cumulative count, in float64. Returns an array of the same length as ``values``.
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if int(window) < 1:
        raise ValueError(f"moving_average: window must be >= 1, got {window}")
    w = min(int(window), max(x.size, 1))
    finite = np.isfinite(x)
    # running sums of the finite values; a window sum is the difference of two prefix sums
    with np.errstate(over="ignore", invalid="ignore"):
        csum = np.concatenate(([0.0], np.cumsum(np.where(finite, x, 0.0))))
        ccount = np.concatenate(([0], np.cumsum(finite)))
        idx = np.arange(1, x.size + 1)
        lo = np.maximum(idx - w, 0)
        sums = csum[idx] - csum[lo]
        counts = ccount[idx] - ccount[lo]
    out = np.full(x.size, np.nan)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out


def _as_labels(y: Any, fn: str, name: str) -> np.ndarray:
    """Integer class labels from labels (N,) or class scores (N, K) (argmax over classes)."""
    a = np.asarray(y)
    if a.ndim == 2:
        a = a.argmax(axis=1)
    if a.ndim != 1:
        raise ValueError(f"{fn}: {name} must be labels (N,) or class scores (N, K), got shape {a.shape}")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
            raise TypeError(f"{fn}: {name} must hold integer class labels, got non-integral {a.dtype} values")
        a = a.astype(np.int64)
    elif a.dtype.kind not in "iub":
        raise TypeError(f"{fn}: {name} must hold integer class labels, got dtype {a.dtype}")
    return a.astype(np.int64, copy=False)


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int) -> np.ndarray:
    r"""Counts :math:`C_{ij} = |\{n : y^{true}_n = i,\ y^{pred}_n = j\}|` (rows: true, columns: predicted).

    ``y_pred`` may be labels (N,) or class scores (N, K) (then its argmax). Returns an int64 (K, K) array,
    built in one :func:`numpy.bincount` over the flattened index :math:`K i + j`.
    """
    fn = "confusion_matrix"
    t = _as_labels(y_true, fn, "y_true")
    p = _as_labels(y_pred, fn, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"{fn}: y_true and y_pred must have the same length, got {t.shape} and {p.shape}")
    k = int(num_classes)
    if k < 1:
        raise ValueError(f"{fn}: num_classes must be >= 1, got {num_classes}")
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.size and (a.min() < 0 or a.max() >= k):
            raise ValueError(f"{fn}: {name} labels must lie in [0, {k}), got range [{a.min()}, {a.max()}]")
    return np.bincount(k * t + p, minlength=k * k).reshape(k, k)


def per_class_accuracy(cm: Any) -> np.ndarray:
    r"""Accuracy of each true class (its recall): :math:`a_i = C_{ii} / \sum_j C_{ij}`; NaN for empty rows."""
    c = np.asarray(cm)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"per_class_accuracy: expected a square (K, K) confusion matrix, "
                         f"got shape {c.shape}")
    rows = c.sum(axis=1).astype(np.float64)
    out = np.full(c.shape[0], np.nan)
    np.divide(np.diagonal(c).astype(np.float64), rows, out=out, where=rows > 0)
    return out


def psnr(a: Any, b: Any, data_range: float = 1.0, *, batch: bool = False) -> float | np.ndarray:
    r"""Peak signal-to-noise ratio in dB.

    .. math:: \mathrm{PSNR} = 10 \log_{10} \frac{R^2}{\mathrm{MSE}}
              = 20 \log_{10} R - 10 \log_{10} \mathrm{MSE}, \qquad \mathrm{MSE} = \frac{1}{n} \sum (a - b)^2

    with :math:`R` = ``data_range`` (the span of possible pixel values, e.g. 1 for [0, 1] images, 255 for
    bytes). Identical inputs give ``inf``. Written as a difference of logarithms so no ratio can overflow.
    With ``batch=True`` the first axis indexes images and one PSNR per image is returned (an (N,) array);
    otherwise a single float over all elements. Computed in float64.
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"psnr: inputs must have the same shape, got {x.shape} and {y.shape}")
    if not data_range > 0:
        raise ValueError(f"psnr: data_range must be positive, got {data_range}")
    if batch and x.ndim < 1:
        raise ValueError("psnr: batch=True needs inputs with a leading image axis")
    d = x - y
    axes = tuple(range(1, d.ndim)) if batch else None
    mse = np.asarray(np.mean(d * d, axis=axes))
    positive = mse > 0
    out = np.full(np.shape(mse), np.inf)
    out[positive] = 20.0 * math.log10(float(data_range)) - 10.0 * np.log10(mse[positive])
    return out if batch else float(out)


def visualize_grid(Xs: Any, ubound: float = 255.0, padding: int = 1) -> np.ndarray:
    r"""Tile images (N, H, W, C) into one (G(H+p)-p, G(W+p)-p, C) grid, G = ceil(sqrt(N)).

    Image n goes to grid row ``n // G``, column ``n % G``, with ``padding`` zero pixels between cells;
    unused cells stay zero. Each image is rescaled on its own to [0, ``ubound``]:
    :math:`u (x - \min x) / (\max x - \min x)` (a constant image becomes 0). Vectorised: one pad, one
    reshape-transpose; the result keeps a floating input's dtype (float64 otherwise).
    """
    x = np.asarray(Xs)
    if x.ndim != 4:
        raise ValueError(f"visualize_grid: expected images (N, H, W, C), got shape {x.shape}")
    if int(padding) < 0:
        raise ValueError(f"visualize_grid: padding must be >= 0, got {padding}")
    n, h, w, c = x.shape
    p = int(padding)
    dtype = np.dtype(x.dtype if x.dtype.kind == "f" else np.float64)
    x = x.astype(dtype, copy=False)
    g = max(1, math.ceil(math.sqrt(n)))
    lo = x.min(axis=(1, 2, 3), keepdims=True) if n else np.zeros((0, 1, 1, 1), dtype)
    span = (x.max(axis=(1, 2, 3), keepdims=True) if n else lo) - lo
    scale = np.zeros_like(span)
    np.divide(dtype.type(ubound), span, out=scale, where=span > 0)
    cells = np.zeros((g * g, h + p, w + p, c), dtype=dtype)
    cells[:n, :h, :w] = (x - lo) * scale
    grid = cells.reshape(g, g, h + p, w + p, c).transpose(0, 2, 1, 3, 4).reshape(g * (h + p), g * (w + p), c)
    return grid[: g * (h + p) - p, : g * (w + p) - p]


def _display_images(images: Any, fn: str, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Images for ``imshow``: (N, H, W) grayscale or (N, H, W, 3) RGB floats in [0, 1].

    Accepts (N, H, W), (N, C, H, W) or (N, H, W, C) with C in {1, 3}. Without ``lo``/``hi`` each image is
    min-max scaled on its own (any float range displays); with them all images share that range (clipped).
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 4 and x.shape[1] in (1, 3):
        x = x.transpose(0, 2, 3, 1)
    elif not (x.ndim == 3 or (x.ndim == 4 and x.shape[3] in (1, 3))):
        raise ValueError(f"{fn}: images must be (N, H, W), (N, C, H, W) or (N, H, W, C) with C in {{1, 3}}, "
                         f"got shape {x.shape}")
    if x.ndim == 4 and x.shape[3] == 1:
        x = x[..., 0]
    x = np.where(np.isfinite(x), x, 0.0)
    axes = tuple(range(1, x.ndim))
    if lo is None or hi is None:
        low = x.min(axis=axes, keepdims=True) if x.size else np.zeros((0,) + (1,) * (x.ndim - 1))
        span = (x.max(axis=axes, keepdims=True) if x.size else low) - low
    else:
        low, span = np.float64(lo), np.asarray(float(hi) - float(lo))
    scale = np.zeros_like(span, dtype=np.float64)
    np.divide(1.0, span, out=scale, where=span > 0)
    out = (x - low) * scale
    return np.clip(out, 0.0, 1.0, out=out)


def _show(ax: Any, img: np.ndarray) -> None:
    """Draw one [0, 1] display image without axes."""
    if img.ndim == 2:
        ax.imshow(img, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(img, interpolation="nearest")
    ax.set_axis_off()


def _grid_shape(n: int) -> tuple[int, int]:
    cols = max(1, math.ceil(math.sqrt(n)))
    return max(1, math.ceil(n / cols)), cols


def _class_name(class_names: Sequence[str] | None, k: int) -> str:
    return str(class_names[k]) if class_names is not None and 0 <= k < len(class_names) else str(k)


# ================================================================================ curves
def _curve(values: Any, fn: str, name: str) -> np.ndarray:
    """A 1-D float64 series with ``None`` entries and infinities as NaN (drawn as gaps)."""
    arr = _maybe_curve(values)
    if arr is None:
        raise ValueError(f"{fn}: {name} has no finite values (got {np.size(values)} entries)")
    return arr


def _maybe_curve(values: Any) -> np.ndarray | None:
    """Like :func:`_curve`, but None for a missing or never-measured (no finite value) series."""
    if values is None:
        return None
    arr = np.array([np.nan if v is None else float(v) for v in np.asarray(values, dtype=object).reshape(-1)],
                   dtype=np.float64)
    arr[~np.isfinite(arr)] = np.nan
    return arr if np.isfinite(arr).any() else None


def _auto_logy(arrays: Sequence[np.ndarray], logy: bool | None) -> bool:
    """Log scale when asked, or (auto) when all values are positive and span over two decades."""
    if logy is not None:
        return bool(logy)
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays])
    return finite.size > 0 and float(finite.min()) > 0 and float(finite.max()) / float(finite.min()) > 100.0


def _default_window(n: int) -> int:
    """Smoothing window for n iterations: about 2% of the run, between 1 and 500."""
    return int(min(500, max(1, n // 50)))


@_needs_matplotlib
def plot_loss(
    iter_losses: Sequence[float] | np.ndarray,
    path: PathLike,
    smooth: int | None = None,
    *,
    iters_per_epoch: int | None = None,
    logy: bool | None = None,
    title: str = "Training loss per iteration",
    figsize: tuple[float, float] = CURVE_FIGSIZE,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """Training loss of every iteration, drawn faintly, under its trailing moving average.

    ``smooth`` is the averaging window in iterations (default: about 2% of the run; 1 draws the raw curve
    only). Non-finite losses (a diverged run) are left out and counted in the title. ``iters_per_epoch`` adds
    an epoch axis on top. The y axis is logarithmic when the loss spans over two decades (or ``logy``).
    Default size 800 x 500 px.
    """
    raw = _curve(iter_losses, "plot_loss", "iter_losses")
    window = _default_window(raw.size) if smooth is None else int(smooth)
    if window < 1:
        raise ValueError(f"plot_loss: smooth must be a window of >= 1 iterations, got {smooth}")
    it = np.arange(1, raw.size + 1)
    fig = _new_figure(figsize, dpi)
    ax = fig.add_subplot()
    if window > 1:
        ax.plot(it, raw, color="C0", alpha=_RAW_ALPHA, linewidth=0.8, label="per iteration")
        ax.plot(it, moving_average(raw, window), color="C0", linewidth=2.0,
                label=f"moving average ({window})")
        ax.legend(loc="upper right")
    else:
        ax.plot(it, raw, color="C0", linewidth=1.2)
    bad = int(np.isnan(raw).sum())
    ax.set_title(title + (f" ({bad} non-finite values not shown)" if bad else ""))
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    if _auto_logy([raw], logy):
        ax.set_yscale("log")
    if iters_per_epoch:
        ipe = float(iters_per_epoch)
        top = ax.secondary_xaxis("top", functions=(lambda x: x / ipe, lambda e: e * ipe))
        top.set_xlabel("epoch")
    ax.grid(True, alpha=0.3)
    return _save(fig, path)


def _plot_per_epoch(
    series: Mapping[str, Any], path: PathLike, *, fn: str, ylabel: str, title: str,
    best: tuple[str, str] | None, percent: bool, logy: bool | None, figsize: tuple[float, float], dpi: int,
) -> Path:
    """Lines of per-epoch values (epoch 1..E on x); ``best=(label, 'max'|'min')`` marks that series' best."""
    curves = {label: c for label, v in series.items() if (c := _maybe_curve(v)) is not None}
    if not curves:
        raise ValueError(f"{fn}: nothing to plot, every series is missing or has no finite value")
    fig = _new_figure(figsize, dpi)
    ax = fig.add_subplot()
    as_pct = percent and all(is_fraction(c) for c in curves.values())
    for i, (label, y) in enumerate(curves.items()):
        ax.plot(np.arange(1, y.size + 1), y, marker="o" if y.size <= 30 else None, markersize=4,
                color=f"C{i}", label=label)
    if best is not None and best[0] in curves:
        label, y = best[0], curves[best[0]]
        k = int(np.nanargmax(y) if best[1] == "max" else np.nanargmin(y))
        text = f"{100 * y[k]:.2f}%" if as_pct else f"{y[k]:.4g}"
        ax.scatter([k + 1], [y[k]], s=80, facecolors="none", edgecolors="k", zorder=3,
                   label=f"best {label}: {text} (epoch {k + 1})")
    if as_pct:
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    if _auto_logy(list(curves.values()), logy):
        ax.set_yscale("log")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")
    return _save(fig, path)


@_needs_matplotlib
def plot_accuracy(
    train_acc: Sequence[float] | np.ndarray | None,
    val_acc: Sequence[float] | np.ndarray | None,
    path: PathLike,
    *,
    title: str = "Accuracy per epoch",
    figsize: tuple[float, float] = CURVE_FIGSIZE,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """Training and validation accuracy per epoch (either may be None); the best validation epoch is marked.

    Fractions in [0, 1] are shown as percentages. Default size 800 x 500 px.
    """
    series = {"train": train_acc, "validation": val_acc}
    return _plot_per_epoch(series, path, fn="plot_accuracy", ylabel="accuracy", title=title,
                           best=("validation", "max"),
                           percent=True, logy=False, figsize=figsize, dpi=dpi)


@_needs_matplotlib
def plot_lr(
    lrs: Sequence[float] | np.ndarray,
    path: PathLike,
    *,
    xlabel: str = "epoch",
    logy: bool | None = None,
    title: str = "Learning rate",
    figsize: tuple[float, float] = CURVE_FIGSIZE,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """The learning-rate schedule (x from 1; per epoch by default, ``xlabel`` says otherwise).

    Logarithmic y axis when the rate varies over more than a decade (e.g. step decay), or as ``logy`` says.
    Default size 800 x 500 px.
    """
    y = _curve(lrs, "plot_lr", "lrs")
    fig = _new_figure(figsize, dpi)
    ax = fig.add_subplot()
    ax.plot(np.arange(1, y.size + 1), y, drawstyle="steps-post" if y.size <= 200 else "default", color="C2")
    finite = y[np.isfinite(y)]
    if logy if logy is not None else (finite.min() > 0 and finite.max() / finite.min() > 10.0):
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("learning rate")
    ax.grid(True, alpha=0.3)
    return _save(fig, path)


@_needs_matplotlib
def plot_curves(
    runs: Mapping[str, Any],
    path: PathLike,
    metric: str,
    *,
    smooth: int | None = None,
    xlabel: str | None = None,
    logy: bool | None = None,
    title: str | None = None,
    legend_limit: int | None = None,
    figsize: tuple[float, float] = CURVE_FIGSIZE,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """Overlay one metric from several runs (``minidl compare``: optimizers, a learning-rate sweep, ...).

    ``runs`` maps a legend label to a history: a flat dict of series (``{"loss": [...], "val_acc": [...]}``),
    the ``History.to_dict()`` form, or a ``History``. ``metric`` names the series: ``"loss"`` (per
    iteration, smoothed with a moving average of ``smooth`` iterations, default about 2% of the run) or a
    per-epoch series such as ``"val_acc"``. A run without the metric raises ValueError listing what it has.
    ``legend_limit`` names only the first that many runs in the legend (the others are drawn unnamed).
    Default size 800 x 500 px.
    """
    if not runs:
        raise ValueError("plot_curves: no runs given")
    per_iter = metric == "loss"
    curves: dict[str, np.ndarray] = {}
    for label, hist in runs.items():
        y = get_series(hist, metric)
        if y is None:
            raise ValueError(f"plot_curves: run {label!r} has no series {metric!r}; "
                             f"it has {history_keys(hist)}")
        y = y.copy()
        y[~np.isfinite(y)] = np.nan
        if per_iter:
            window = _default_window(y.size) if smooth is None else int(smooth)
            y = moving_average(y, max(1, window))
        curves[str(label)] = y
    fig = _new_figure(figsize, dpi)
    ax = fig.add_subplot()
    for i, (label, y) in enumerate(curves.items()):
        named = legend_limit is None or i < legend_limit
        ax.plot(np.arange(1, y.size + 1), y, color=f"C{i % 10}", linestyle="-" if i < 10 else "--",
                marker="o" if not per_iter and y.size <= 30 else None, markersize=3,
                label=label if named else "_nolegend_", alpha=1.0 if named else 0.5)
    percent = "acc" in metric and all(is_fraction(c) for c in curves.values())
    if percent:
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    elif _auto_logy(list(curves.values()), logy):
        ax.set_yscale("log")
    if not per_iter:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title or f"{metric} by run")
    ax.set_xlabel(xlabel or ("iteration" if per_iter else "epoch"))
    ax.set_ylabel(metric + (" (moving average)" if per_iter else ""))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")
    return _save(fig, path)


@_needs_matplotlib
def plot_history(history: Any, out_dir: PathLike, *, dpi: int = DEFAULT_DPI) -> dict[str, Path]:
    """Write the standard curves of one run into ``out_dir`` and return ``{caption: path}``.

    Writes whichever the history has: ``loss.png`` (per-iteration loss), ``accuracy.png`` (train/val
    accuracy), ``epoch_loss.png`` (train/val loss per epoch) and ``lr.png``. ``history`` is any form
    accepted by :func:`plot_curves`. The result plugs into :func:`minidl.report.write_report` (``figures``).
    """
    out = Path(out_dir)
    figs: dict[str, Path] = {}
    loss = get_series(history, "loss")
    if loss is not None:
        figs["Training loss per iteration"] = plot_loss(loss, out / "loss.png", dpi=dpi)
    train_acc, val_acc = get_series(history, "train_acc"), get_series(history, "val_acc")
    if train_acc is not None or val_acc is not None:
        figs["Accuracy per epoch"] = plot_accuracy(train_acc, val_acc, out / "accuracy.png", dpi=dpi)
    train_loss, val_loss = get_series(history, "train_loss"), get_series(history, "val_loss")
    if train_loss is not None or val_loss is not None:
        figs["Loss per epoch"] = _plot_per_epoch(
            {"train": train_loss, "validation": val_loss}, out / "epoch_loss.png", fn="plot_history",
            ylabel="loss", title="Loss per epoch", best=("validation", "min"),
            percent=False, logy=None, figsize=CURVE_FIGSIZE, dpi=dpi)  # fmt: skip
    lr = get_series(history, "lr")
    if lr is not None:
        figs["Learning rate per epoch"] = plot_lr(lr, out / "lr.png", dpi=dpi)
    return figs


# ================================================================================ where it fails
@_needs_matplotlib
def plot_confusion_matrix(
    y_true: Any,
    y_pred: Any,
    class_names: Sequence[str] | None,
    path: PathLike,
    normalize: bool = True,
    *,
    title: str | None = None,
    figsize: tuple[float, float] = SQUARE_FIGSIZE,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """Confusion matrix heat map: rows true class, columns predicted, class names on both axes.

    With ``normalize`` the colours are row fractions (each true class sums to 100%) and each cell reads
    ``count`` over ``percent``; otherwise colours and labels are counts. Cells are annotated up to 20 classes
    (beyond that they are too small to read). ``y_pred`` may be labels or class scores (N, K).
    Default size 800 x 800 px.
    """
    t = _as_labels(y_true, "plot_confusion_matrix", "y_true")
    p = _as_labels(y_pred, "plot_confusion_matrix", "y_pred")
    k = len(class_names) if class_names is not None else int(max(t.max(initial=0), p.max(initial=0))) + 1
    cm = confusion_matrix(t, p, k)
    rows = cm.sum(axis=1, keepdims=True).astype(np.float64)
    rates = np.zeros(cm.shape)
    np.divide(cm, rows, out=rates, where=rows > 0)
    shown = rates if normalize else cm.astype(np.float64)
    names = [_class_name(class_names, i) for i in range(k)]

    fig = _new_figure(figsize, dpi)
    ax = fig.add_subplot()
    vmax = 1.0 if normalize else max(1.0, float(shown.max()))
    im = ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=vmax, interpolation="nearest")
    cbar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label("fraction of the true class" if normalize else "count")
    if k <= 20:
        size = 9 if k <= 10 else 6
        for i, j in np.ndindex(k, k):
            text = f"{cm[i, j]}\n{100 * rates[i, j]:.1f}%" if normalize else f"{cm[i, j]}"
            ax.text(j, i, text, ha="center", va="center", fontsize=size,
                    color="white" if shown[i, j] > 0.5 * vmax else "black")
    ax.set_xticks(np.arange(k), labels=names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(np.arange(k), labels=names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    acc = float(np.trace(cm)) / max(1, int(cm.sum()))
    ax.set_title(title or f"Confusion matrix (accuracy {100 * acc:.2f}%, {int(cm.sum())} samples)")
    return _save(fig, path)


@_needs_matplotlib
def plot_misclassified(
    images: Any,
    y_true: Any,
    y_pred: Any,
    class_names: Sequence[str] | None,
    path: PathLike,
    max_images: int = 25,
    probs: Any = None,
    *,
    title: str | None = None,
    figsize: tuple[float, float] = SQUARE_FIGSIZE,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """Gallery of misclassified samples titled ``true: X / pred: Y``.

    ``images`` is (N, C, H, W), (N, H, W) or (N, H, W, C), grayscale or RGB, any float range (each image is
    min-max scaled for display). ``y_pred`` may be labels or class scores. With ``probs`` ((N, K) class
    probabilities or (N,) confidences of the prediction) the most confident mistakes come first and their
    confidence is shown; otherwise mistakes appear in dataset order. At most ``max_images`` are drawn.
    Default size 800 x 800 px.
    """
    fn = "plot_misclassified"
    imgs = np.asarray(images)
    t = _as_labels(y_true, fn, "y_true")
    p = _as_labels(y_pred, fn, "y_pred")
    if not (len(imgs) == t.size == p.size):
        raise ValueError(f"{fn}: images, y_true and y_pred must have the same length, "
                         f"got {len(imgs)}, {t.size} and {p.size}")
    wrong = np.flatnonzero(t != p)
    conf = None
    if probs is not None:
        pr = np.asarray(probs, dtype=np.float64)
        if pr.ndim == 2 and pr.shape[0] == t.size:
            conf = pr[np.arange(t.size), np.clip(p, 0, pr.shape[1] - 1)]
        elif pr.shape == (t.size,):
            conf = pr
        else:
            raise ValueError(f"{fn}: probs must be (N, K) or (N,) with N={t.size}, got shape {pr.shape}")
        wrong = wrong[np.argsort(-conf[wrong], kind="stable")]
    wrong = wrong[: max(0, int(max_images))]
    shown = _display_images(imgs[wrong], fn) if wrong.size else None

    fig = _new_figure(figsize, dpi, layout=None)  # a fixed grid; constrained layout is slow on many axes
    if shown is None:
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no misclassified samples", ha="center", va="center", fontsize=16)
    else:
        nrows, ncols = _grid_shape(len(wrong))
        axes = fig.subplots(nrows, ncols, squeeze=False, gridspec_kw=_GALLERY_GRID).reshape(-1)
        size = 9 if ncols <= 4 else 7
        for ax in axes[len(wrong):]:
            ax.set_axis_off()
        for ax, img, idx in zip(axes, shown, wrong, strict=False):
            _show(ax, img)
            label = f"true: {_class_name(class_names, int(t[idx]))} / pred: "
            label += _class_name(class_names, int(p[idx]))
            if conf is not None:
                label += f"\np={conf[idx]:.2f}"
            ax.set_title(label, fontsize=size)
    fig.suptitle(title or f"Misclassified samples ({len(wrong)} shown of {int((t != p).sum())} errors)")
    return _save(fig, path)


@_needs_matplotlib
def plot_misclassified_per_class(
    images: Any,
    y_true: Any,
    y_pred: Any,
    class_names: Sequence[str] | None,
    path: PathLike,
    k: int = 10,
    *,
    title: str | None = None,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """Up to ``k`` misclassified samples of every true class, one row per class (in dataset order), each
    titled with its wrong prediction; the row label gives the class and how many of its samples were
    misclassified. Images as in :func:`plot_misclassified`. The figure is ``k + 1`` cells wide and one cell
    (0.9 in) per class high, so each cell keeps its size whatever the number of classes.
    """
    fn = "plot_misclassified_per_class"
    imgs = np.asarray(images)
    t = _as_labels(y_true, fn, "y_true")
    p = _as_labels(y_pred, fn, "y_pred")
    if not (len(imgs) == t.size == p.size):
        raise ValueError(f"{fn}: images, y_true and y_pred must have the same length, "
                         f"got {len(imgs)}, {t.size} and {p.size}")
    if int(k) < 1:
        raise ValueError(f"{fn}: k must be >= 1, got {k}")
    n_classes = len(class_names) if class_names is not None else int(max(t.max(initial=0), p.max(initial=0))) + 1
    k = int(k)
    fig = _new_figure((0.9 * (k + 1.6), 0.9 * n_classes + 0.6), dpi, layout=None)
    axes = fig.subplots(n_classes, k + 1, squeeze=False, gridspec_kw={**_GALLERY_GRID, "top": 1 - 0.5 / (
        0.9 * n_classes + 0.6), "hspace": 0.45, "wspace": 0.1})
    shown = 0
    for c in range(n_classes):
        wrong = np.flatnonzero((t == c) & (p != c))
        label_ax = axes[c, 0]
        label_ax.set_axis_off()
        label_ax.text(0.5, 0.5, f"{_class_name(class_names, c)}\n{wrong.size} of {int(np.sum(t == c))}",
                      ha="center", va="center", fontsize=8)
        pics: Any = _display_images(imgs[wrong[:k]], fn) if wrong.size else []
        for j in range(k):
            ax = axes[c, j + 1]
            ax.set_axis_off()
            if j < len(pics):
                _show(ax, pics[j])
                ax.set_title(f"-> {_class_name(class_names, int(p[wrong[j]]))}", fontsize=7, pad=2)
                shown += 1
    errors = int(np.sum(t != p))
    fig.suptitle(title or f"Misclassified, up to {k} per true class ({shown} shown of {errors} errors)")
    return _save(fig, path)


@_needs_matplotlib
def plot_per_class_accuracy(
    y_true: Any,
    y_pred: Any,
    class_names: Sequence[str] | None,
    path: PathLike,
    *,
    title: str | None = None,
    figsize: tuple[float, float] = CURVE_FIGSIZE,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """Bar chart of each true class's accuracy (its recall, :func:`per_class_accuracy` of the confusion
    matrix), with the overall accuracy as a dashed line; classes without samples are left blank.
    Default size 800 x 500 px."""
    fn = "plot_per_class_accuracy"
    t = _as_labels(y_true, fn, "y_true")
    p = _as_labels(y_pred, fn, "y_pred")
    k = len(class_names) if class_names is not None else int(max(t.max(initial=0), p.max(initial=0))) + 1
    acc = per_class_accuracy(confusion_matrix(t, p, k))
    names = [_class_name(class_names, i) for i in range(k)]
    overall = float(np.mean(t == p)) if t.size else float("nan")
    fig = _new_figure(figsize, dpi)
    ax = fig.add_subplot()
    heights = np.where(np.isfinite(acc), 100 * acc, 0.0)
    bars = ax.bar(np.arange(k), heights, color=[f"C{0 if a >= overall else 3}" for a in np.nan_to_num(acc)])
    for bar, a in zip(bars, acc, strict=True):
        if not np.isfinite(a):
            bar.set_alpha(0.0)
    ax.axhline(100 * overall, color="k", linestyle="--", linewidth=1, label=f"overall {100 * overall:.1f}%")
    ax.set_xticks(np.arange(k), labels=names, rotation=0 if max(map(len, names), default=1) <= 2 else 45,
                  ha="center" if max(map(len, names), default=1) <= 2 else "right")
    ax.set_ylim(0, 100)
    ax.set_ylabel("accuracy (%)")
    ax.set_xlabel("true class")
    ax.legend(loc="lower right")
    worst = int(np.nanargmin(acc)) if np.isfinite(acc).any() else None
    ax.set_title(title or "Per-class accuracy" + (f" (weakest: {names[worst]} {100 * acc[worst]:.1f}%)"
                                                  if worst is not None else ""))
    return _save(fig, path)


# ================================================================================ what it learned
def _filters_nhwc(weights: Any, image_shape: Sequence[int] | None) -> np.ndarray:
    """First-layer weights as images (O, h, w, C), C in {1, 3}."""
    fn = "plot_filters"
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 4:
        filters = w
    elif w.ndim == 2:
        out, fan_in = w.shape
        if image_shape is None:
            side = math.isqrt(fan_in)
            side3 = math.isqrt(fan_in // 3)
            if side * side == fan_in:
                image_shape = (1, side, side)
            elif fan_in % 3 == 0 and side3 * side3 * 3 == fan_in:
                image_shape = (3, side3, side3)
            else:
                raise ValueError(f"{fn}: Linear weights (out, in) = {w.shape}: in={fan_in} is not a square "
                                 "(or 3 x a square); pass image_shape=(H, W) or (C, H, W)")
        shape = tuple(int(s) for s in image_shape)
        if len(shape) == 2:
            shape = (1, *shape)
        if len(shape) != 3 or math.prod(shape) != fan_in:
            raise ValueError(f"{fn}: image_shape {tuple(image_shape)} does not match in={fan_in} "
                             f"(expected (H, W) or (C, H, W) with product {fan_in})")
        filters = w.reshape(out, *shape)  # PyTorch flattens NCHW images channel-first
    else:
        raise ValueError(f"{fn}: expected conv weights (O, C, kh, kw) or Linear weights (out, in), "
                         f"got shape {w.shape}")
    if filters.shape[1] not in (1, 3):
        raise ValueError(f"{fn}: only first-layer filters with 1 or 3 input channels can be shown as images, "
                         f"got {filters.shape[1]} channels (weights shape {w.shape})")
    return filters.transpose(0, 2, 3, 1)


@_needs_matplotlib
def plot_filters(
    weights: Any,
    path: PathLike,
    *,
    image_shape: Sequence[int] | None = None,
    max_filters: int | None = None,
    padding: int = 1,
    title: str | None = None,
    figsize: tuple[float, float] = SQUARE_FIGSIZE,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """First-layer filters as one image grid (via :func:`visualize_grid`), each filter scaled on its own.

    ``weights``: conv weights (O, C, kh, kw) with C in {1, 3}, or Linear weights (out, in) whose rows are
    images: ``in`` a square (grayscale), 3 x a square (RGB, channel-first as PyTorch flattens), or as given by
    ``image_shape`` (H, W) / (C, H, W). ``max_filters`` keeps the first ones. Default size 800 x 800 px.
    """
    filters = _filters_nhwc(weights, image_shape)
    if max_filters is not None:
        filters = filters[: max(1, int(max_filters))]
    grid = visualize_grid(filters, ubound=1.0, padding=padding)
    # visualize_grid tiles a square G x G; drop its trailing rows of empty cells (6 filters fill 2 of 3 rows)
    cols = max(1, math.ceil(math.sqrt(len(filters))))
    rows = -(-len(filters) // cols)
    grid = grid[: rows * (filters.shape[1] + padding) - padding]
    fig = _new_figure(figsize, dpi)
    ax = fig.add_subplot()
    _show(ax, grid[..., 0] if grid.shape[2] == 1 else grid)
    o, h, w, c = filters.shape
    ax.set_title(title or f"First-layer filters ({o} of {c} x {h} x {w})")
    return _save(fig, path)


def _model_outputs(predict_fn: Callable[[np.ndarray], Any], pts: np.ndarray, fn: str) -> np.ndarray:
    """``predict_fn(pts)`` as an array: (M, K) scores, or (M,) labels or binary scores ((M, 1) is squeezed)."""
    out = np.asarray(predict_fn(pts))
    m = pts.shape[0]
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.ndim not in (1, 2) or out.shape[0] != m:
        raise ValueError(f"{fn}: predict_fn returned shape {out.shape} for {m} points; "
                         f"expected ({m}, K) scores or ({m},) labels/scores")
    return out


def _labels_of(out: np.ndarray) -> np.ndarray:
    """Class labels from model outputs: argmax of (M, K) scores, int labels (M,) as they are, or a
    thresholded binary score (M,): at 0.5 when every value is a probability in [0, 1], else at 0 (a logit)."""
    if out.ndim == 2:
        return out.argmax(axis=1)
    if out.dtype.kind == "f":
        return (out > (0.5 if is_fraction(out.astype(np.float64)) else 0.0)).astype(np.int64)
    return out.astype(np.int64)


def _positive_probability(out: np.ndarray, positive: int, fn: str) -> np.ndarray:
    """P(class ``positive`` | x) from model outputs: softmax of (M, K) scores (rows that are already
    probabilities are kept), or one binary score per point (M,): kept when in [0, 1], else a logit through
    the logistic function."""
    out = out.astype(np.float64)
    if out.ndim == 1:
        prob1 = out if is_fraction(out) else 0.5 * (1.0 + np.tanh(0.5 * out))  # σ(x), without overflow
        return prob1 if positive == 1 else 1.0 - prob1
    if not 0 <= positive < out.shape[1]:
        raise ValueError(f"{fn}: positive class {positive} is not among the {out.shape[1]} classes")
    rows_are_probs = is_fraction(out) and np.allclose(out.sum(axis=1), 1.0, atol=1e-4)
    if rows_are_probs:
        return out[:, positive]
    shifted = out - out.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e[:, positive] / e.sum(axis=1)


@_needs_matplotlib
def plot_decision_boundary(
    predict_fn: Callable[[np.ndarray], Any],
    X: Any,
    y: Any,
    path: PathLike,
    resolution: int = 200,
    *,
    class_names: Sequence[str] | None = None,
    margin: float = 0.1,
    surface: str = "class",
    positive: int = 1,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    title: str = "Decision boundary",
    figsize: tuple[float, float] = SQUARE_FIGSIZE,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """The model's decision over the plane with the data points on top, for 2-D data.

    ``predict_fn`` gets one float32 (resolution² + N, 2) array, the grid points followed by the N data points
    (a single batched call; the data points give the accuracy in the title), and returns class scores (M, K),
    labels (M,) as ints, or one binary score per point (M,) / (M, 1): probabilities in [0, 1] are thresholded
    at 0.5, other values (logits) at 0. Tensors are accepted.

    ``surface="class"`` fills the regions of the predicted class. ``surface="probability"`` draws the
    probability of class ``positive`` (softmax of the scores, or the binary score as a probability) as a
    continuous surface from 0 to 1 with a colorbar and the 0.5 contour, the boundary of a two-class
    decision. The axes span ``xlim`` × ``ylim`` when given (fixed axes, e.g. to compare models or epochs);
    by default the data's range widened by ``margin`` of it on each side. Default size 800 x 800 px.
    """
    fn = "plot_decision_boundary"
    pts = np.asarray(X, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"{fn}: X must be 2-D points (N, 2), got shape {pts.shape}")
    labels = _as_labels(y, fn, "y")
    if labels.size != pts.shape[0]:
        raise ValueError(f"{fn}: X has {pts.shape[0]} points but y has {labels.size} labels")
    if surface not in ("class", "probability"):
        raise ValueError(f"{fn}: surface must be 'class' or 'probability', got {surface!r}")
    res = int(resolution)
    if res < 2:
        raise ValueError(f"{fn}: resolution must be >= 2, got {resolution}")
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = np.maximum(hi - lo, 1e-3) * margin + 1e-3
    spans = []
    for axis, given in enumerate((xlim, ylim)):
        if given is not None and not (len(given) == 2 and given[0] < given[1]):
            raise ValueError(f"{fn}: {'xy'[axis]}lim must be (low, high) with low < high, got {given}")
        spans.append((float(given[0]), float(given[1])) if given is not None
                     else (lo[axis] - pad[axis], hi[axis] + pad[axis]))
    gx, gy = np.linspace(spans[0][0], spans[0][1], res), np.linspace(spans[1][0], spans[1][1], res)
    xx, yy = np.meshgrid(gx, gy)
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
    out = _model_outputs(predict_fn, np.concatenate([grid, pts]).astype(np.float32), fn)
    out_grid = out[:len(grid)]
    acc = float(np.mean(_labels_of(out)[len(grid):] == labels))
    from matplotlib.colors import ListedColormap

    fig = _new_figure(figsize, dpi)
    ax = fig.add_subplot()
    if surface == "probability":
        prob = _positive_probability(out_grid, positive, fn).reshape(res, res)
        k = max(int(labels.max(initial=0)) + 1, 2, len(class_names) if class_names is not None else 0)
        filled = ax.contourf(xx, yy, prob, levels=np.linspace(0.0, 1.0, 21), cmap="RdBu_r", vmin=0.0, vmax=1.0)
        ax.contour(xx, yy, prob, levels=[0.5], colors="k", linewidths=1.5)
        cbar = fig.colorbar(filled, ax=ax, fraction=0.046, pad=0.04, ticks=np.linspace(0, 1, 6))
        cbar.set_label(f"P(class = {_class_name(class_names, positive)} | x)")
        cmap = ListedColormap(["#2166ac" if i != positive else "#b2182b" for i in range(k)])
    else:
        zz = _labels_of(out_grid)
        k = max(int(zz.max()), int(labels.max(initial=0))) + 1
        if class_names is not None:
            k = max(k, len(class_names))
        cmap = ListedColormap([f"C{i % 10}" for i in range(k)])
        ax.contourf(xx, yy, zz.reshape(res, res), levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.3)
    for c in np.unique(labels):  # one scatter per class, for the legend
        sel = labels == c
        ax.scatter(pts[sel, 0], pts[sel, 1], s=14, color=cmap(int(c)), edgecolors="k", linewidths=0.4,
                   label=_class_name(class_names, int(c)))
    ax.set_xlim(*spans[0])
    ax.set_ylim(*spans[1])
    ax.set_title(f"{title} (accuracy on these points {100 * acc:.1f}%)")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="best", title="class")
    return _save(fig, path)


@_needs_matplotlib
def plot_reconstructions(
    originals: Any,
    reconstructions: Any,
    path: PathLike,
    n: int = 10,
    *,
    data_range: float | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = RECON_FIGSIZE,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """Originals above their reconstructions, each reconstruction titled with its PSNR, the mean in the title.

    Images as in :func:`plot_misclassified`. ``data_range`` is the span of valid pixel values for
    :func:`psnr`; by default it is inferred as max - min of all originals (1 if they are constant). The mean
    PSNR is over every pair given, the gallery shows the first ``n`` (up to 10 per row). Each pair is drawn on
    one shared intensity scale (the originals' range) so that errors are visible. Default size 1200 x 350 px.
    """
    fn = "plot_reconstructions"
    a = np.asarray(originals, dtype=np.float64)
    b = np.asarray(reconstructions, dtype=np.float64)
    if a.shape != b.shape or a.ndim < 3:
        raise ValueError(f"{fn}: originals and reconstructions must be image batches of one shape, "
                         f"got {a.shape} and {b.shape}")
    lo, hi = float(a.min()), float(a.max())
    rng = float(data_range) if data_range is not None else (hi - lo if hi > lo else 1.0)
    scores = np.asarray(psnr(a, b, rng, batch=True))
    m = min(max(1, int(n)), a.shape[0])
    top = _display_images(a[:m], fn, lo, hi if hi > lo else lo + 1.0)
    bottom = _display_images(b[:m], fn, lo, hi if hi > lo else lo + 1.0)
    ncols = min(m, 10)
    pairs = math.ceil(m / ncols)
    fig = _new_figure(figsize, dpi, layout=None)
    axes = fig.subplots(2 * pairs, ncols, squeeze=False, gridspec_kw=_GALLERY_GRID)
    for ax in axes.reshape(-1):
        ax.set_axis_off()
    for i in range(m):
        r, c = divmod(i, ncols)
        _show(axes[2 * r, c], top[i])
        _show(axes[2 * r + 1, c], bottom[i])
        axes[2 * r, c].set_title("original" if c == 0 else "", fontsize=8)
        axes[2 * r + 1, c].set_title(f"{scores[i]:.1f} dB", fontsize=8)
    mean = float(np.mean(scores))
    fig.suptitle(title or f"Reconstructions: mean PSNR {mean:.2f} dB over {a.shape[0]} images "
                 f"(data range {rng:.4g})")
    return _save(fig, path)


@_needs_matplotlib
def plot_letter_boxes(
    image: Any,
    boxes: Any,
    path: PathLike,
    labels: Sequence[str] | None = None,
    line_ids: Any = None,
    *,
    title: str | None = None,
    width: float = 10.0,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """A page with a box around every letter found (``boxes`` (N, 4) as ``(row0, col0, row1, col1)``, exclusive
    ends, as :func:`minidl.vision.find_letters` gives them), coloured by text line when ``line_ids`` are
    given, each labelled with its recognised character from ``labels``. The figure is ``width`` inches wide
    and as high as the page's aspect ratio asks."""
    fn = "plot_letter_boxes"
    img = np.asarray(image)
    if img.ndim not in (2, 3) or img.size == 0:
        raise ValueError(f"{fn}: expected an image (H, W) or (H, W, C), got shape {img.shape}")
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) if np.size(boxes) else np.zeros((0, 4))
    if labels is not None and len(labels) != len(b):
        raise ValueError(f"{fn}: {len(b)} boxes but {len(labels)} labels")
    lines = np.zeros(len(b), np.int64) if line_ids is None else np.asarray(line_ids, dtype=np.int64)
    if lines.shape != (len(b),):
        raise ValueError(f"{fn}: line_ids must be ({len(b)},), got shape {lines.shape}")
    from matplotlib.patches import Rectangle

    h, w = img.shape[:2]
    fig = _new_figure((width, max(1.0, width * h / w) + 0.4), dpi)
    ax = fig.add_subplot()
    shown = _display_images(img[None], fn, 0.0, 255.0 if img.dtype == np.uint8 else 1.0)[0]
    ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None, vmin=0.0, vmax=1.0, interpolation="antialiased")
    ax.set_axis_off()
    points_per_pixel = width * 72.0 / w  # font sizes are in points, 72 to the inch
    size = float(np.clip(0.6 * np.median(b[:, 2] - b[:, 0]) * points_per_pixel, 6.0, 14.0)) if len(b) else 8.0
    for i, (r0, c0, r1, c1) in enumerate(b):
        color = f"C{lines[i] % 10}" if line_ids is not None else "C3"
        ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, fill=False, edgecolor=color, linewidth=1.2))
        if labels is not None:
            ax.text(c0, r0 - 2, labels[i], color=color, fontsize=size, ha="left", va="bottom", fontweight="bold")
    n_lines = len(np.unique(lines)) if len(b) else 0
    ax.set_title(title or f"{len(b)} letters in {n_lines} line{'s' if n_lines != 1 else ''}")
    return _save(fig, path)


@_needs_matplotlib
def plot_metric_vs_params(
    points: Sequence[Mapping[str, Any]],
    params: Sequence[str],
    metric: str,
    path: PathLike,
    *,
    log_params: Sequence[str] = (),
    highlight: int | None = None,
    title: str | None = None,
    dpi: int = DEFAULT_DPI,
) -> Path:
    """One scatter panel per hyperparameter: ``metric`` of every trial against that hyperparameter's value.

    ``points`` are dicts holding ``metric`` and the ``params`` (a hyperparameter sweep's results table; points
    without a finite metric are left out). Numbers lie on a linear axis, or a logarithmic one for the names in
    ``log_params``; other values (strings, booleans, lists such as hidden sizes) are categories, in their
    natural order when they have one (``[50] < [100]``, alphabetical text), else in order of appearance.
    ``highlight`` is the index in ``points`` of a point drawn as a star (the best trial). Panels go three to a
    row, each 4 x 3.5 in (400 x 350 px at 100 dpi); one panel alone is 6.4 x 4 in.
    """
    if not params:
        raise ValueError("plot_metric_vs_params: no hyperparameters given")
    keep = [i for i, p in enumerate(points) if isinstance(p.get(metric), int | float)
            and not isinstance(p.get(metric), bool) and math.isfinite(float(p[metric]))]
    if not keep:
        raise ValueError(f"plot_metric_vs_params: no point has a finite {metric!r}")
    y = np.array([float(points[i][metric]) for i in keep])
    ncols = min(3, len(params))
    nrows = math.ceil(len(params) / ncols)
    fig = _new_figure((6.4, 4.0) if len(params) == 1 else (4.0 * ncols, 3.5 * nrows), dpi)
    axes = fig.subplots(nrows, ncols, squeeze=False).reshape(-1)
    percent = "acc" in metric and is_fraction(y)
    for ax, name in zip(axes, params, strict=False):
        values = [points[i].get(name) for i in keep]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        if numeric:
            x = np.array(values, dtype=np.float64)
            if name in log_params and (x > 0).all():
                ax.set_xscale("log")
        else:  # categories, labelled by their text
            distinct = list({str(v): v for v in values}.values())
            try:
                distinct.sort()
            except TypeError:  # values of different kinds: keep the order of appearance
                pass
            labels = [str(v) for v in distinct]
            x = np.array([labels.index(str(v)) for v in values], dtype=np.float64)
            ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 3 else 0, fontsize=8)
            ax.set_xlim(-0.5, len(labels) - 0.5)
        ax.scatter(x, y, s=28, alpha=0.8, color="C0", edgecolors="none")
        if highlight is not None and highlight in keep:
            k = keep.index(highlight)
            ax.scatter([x[k]], [y[k]], s=160, marker="*", color="C3", zorder=3, label="best")
            ax.legend(loc="best", fontsize=8)
        if percent:
            from matplotlib.ticker import PercentFormatter

            ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
        ax.set_xlabel(name)
        ax.set_ylabel(metric)
        ax.grid(True, alpha=0.3)
    for ax in axes[len(params):]:
        ax.set_axis_off()
    fig.suptitle(title or f"{metric} against the hyperparameters, {len(keep)} trials", fontsize=11)
    return _save(fig, path)
