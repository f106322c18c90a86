"""The documentation's performance page generator (benchmarks/performance_page.py) on small benchmark results:
every number of the inputs reaches its table, the best-vs-best ratio is the one the benchmark computed, and
the plots are written."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import performance_page as pp  # noqa: E402

TRAIN = {1: {"threads": 1, "results": [
    {"workload": "lenet5", "minidl_s_per_epoch": 3.91, "torch_s_per_epoch": 4.37, "ratio": 3.91 / 4.37,
     "minidl_peak_mb": 17.0, "torch_peak_mb": 106.0}],
    "sequences": [{"workload": "lstm", "minidl_ms": 12.5, "torch_ms": 10.0, "ratio": 1.25}]}}
DP = {"procs": 2, "threads": 2, "data_parallel": [
    {"workload": "lenet5", "minidl_best": "minidl 2p x1t", "torch_best": "torch 1p x2t",
     "s_per_epoch": {"minidl 1p x1t": 3.91, "minidl 1p x2t": 3.42, "minidl 2p x1t": 2.17, "torch 1p x2t": 2.35,
                     "torch 2p x1t": 3.87},
     "best_ratio": 2.17 / 2.35, "speedup_vs_1t": 3.91 / 2.17}]}


@pytest.fixture
def page(tmp_path, monkeypatch):
    monkeypatch.setattr(pp, "PAGE", tmp_path / "performance.md")
    monkeypatch.setattr(pp, "FIGURES", tmp_path / "assets" / "performance")
    return tmp_path


def test_training_and_data_parallel_tables(page):
    text = pp.write_page(TRAIN, None, ["python benchmarks/train_speed.py --quick"], DP).read_text()
    assert "| lenet5 | 3.91 | 4.37 | 0.89 | 17 / 106 |" in text
    assert "| lstm | 1 | 12.5 | 10.0 | 1.25 |" in text
    assert "## Data-parallel training" in text
    # the configurations in the benchmark's order, then minidl's best over PyTorch's best and the speedup
    assert "| workload | minidl 1p x1t | minidl 1p x2t | minidl 2p x1t | torch 1p x2t | torch 2p x1t |" in text
    assert "| lenet5 | 3.91 | 3.42 | 2.17 | 2.35 | 3.87 | 0.92 | 1.80x |" in text
    assert (page / "assets" / "performance" / "data_parallel.png").stat().st_size > 5000


def test_without_data_parallel_results_the_section_is_left_out(page):
    text = pp.write_page(TRAIN, None, ["(from earlier --json runs)"]).read_text()
    assert "Data-parallel" not in text and "| lenet5 | 3.91 |" in text
