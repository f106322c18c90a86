"""Run directories: what ``minidl train`` writes and ``eval``, ``predict``, ``compare`` read.

* :mod:`.config`: the run settings (:data:`~.config.OPTIONS`), config files, resolution;
* :mod:`.build`: datasets, model, loss, optimizer and schedule from a config;
* :mod:`.train`: training a run and writing its artifacts (:mod:`.artifacts` lists the files);
* :mod:`.evaluation`: test evaluation, figures, the report;
* :mod:`.analysis`: loading, evaluating, predicting with and comparing finished runs;
* :mod:`.ocr`: reading the letters on a page with a character classifier run, and the ready classifier;
* :mod:`.checks` and :mod:`.expr`: the loss graph and gradient check of a model, safe graph expressions.
"""

from .analysis import compare_runs, evaluate_run, load_run, predict_files
from .build import RunError
from .config import OPTIONS, ConfigError, RunConfig, load_config_file, resolve, to_toml
from .expr import ExpressionError
from .ocr import OCRResult, classify_crops, read_text, ready_model, ready_model_dir
from .train import TrainingInterrupted, TrainResult, resolve_run_config, train_run

__all__ = [
    "RunError", "ConfigError", "ExpressionError", "TrainingInterrupted", "OPTIONS", "RunConfig", "resolve",
    "load_config_file", "to_toml", "resolve_run_config", "train_run", "TrainResult", "load_run",
    "evaluate_run", "predict_files", "compare_runs", "read_text", "classify_crops", "ready_model", "ready_model_dir",
    "OCRResult",
]  # fmt: skip
