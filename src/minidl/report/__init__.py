"""Reporting for training runs: figures (:mod:`.plots`), the written report (:mod:`.report`) and the
autograd-graph export (:mod:`.graph`).

Everything here takes plain NumPy arrays, lists and dicts, so it works with any training loop. matplotlib
is optional (``pip install "minidl[plot]"``) and only imported when a figure is drawn; check
:func:`plots_available` to skip figures and still write the report. Graph rendering needs the Graphviz ``dot``
program; :func:`write_dot` does not.
"""

from .graph import GraphvizNotFoundError, render, to_dot, write_dot
from .plots import (
    PLOT_INSTALL_HINT,
    confusion_matrix,
    moving_average,
    per_class_accuracy,
    plot_accuracy,
    plot_confusion_matrix,
    plot_curves,
    plot_decision_boundary,
    plot_filters,
    plot_history,
    plot_letter_boxes,
    plot_loss,
    plot_lr,
    plot_metric_vs_params,
    plot_misclassified,
    plot_misclassified_per_class,
    plot_per_class_accuracy,
    plot_reconstructions,
    plots_available,
    psnr,
    visualize_grid,
)
from .report import ReportFiles, figure_section, write_report
from .summary import LayerSummary, ModelSummary, summary

__all__ = [
    "plots_available", "PLOT_INSTALL_HINT",
    "plot_loss", "plot_accuracy", "plot_lr", "plot_curves", "plot_history", "plot_confusion_matrix",
    "plot_misclassified", "plot_misclassified_per_class", "plot_per_class_accuracy", "plot_filters",
    "plot_decision_boundary", "plot_reconstructions", "plot_letter_boxes", "plot_metric_vs_params",
    "confusion_matrix", "per_class_accuracy", "psnr", "moving_average", "visualize_grid",
    "write_report", "ReportFiles", "figure_section",
    "to_dot", "write_dot", "render", "GraphvizNotFoundError", "summary", "ModelSummary", "LayerSummary",
]  # fmt: skip
