"""The ``minidl`` command line and the computational-graph example."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minidl
from minidl import cli
from minidl import gradcheck as gc
from minidl.ops.base import Op

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "computational_graph.py"
ROW = re.compile(r"^(\S+)\s+(grad_\S+)\s+(\d\.\de[-+]\d+)\s+(ok|FAIL)$")


class Doubled(Op):
    """z = 2x with a wrong backward (returns dout, not 2·dout)."""

    name = "doubled"

    def forward(self, x):
        return 2 * x, None

    def backward(self, dout, cache, needs=None):
        return (dout,)


def rows(text: str) -> list[re.Match]:
    return [m for line in text.splitlines() if (m := ROW.match(line))]


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"minidl {minidl.__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", minidl.__version__)


def test_python_dash_m_version():
    res = subprocess.run([sys.executable, "-m", "minidl", "--version"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"minidl {minidl.__version__}"


def test_no_command_is_a_usage_error(capsys):
    assert cli.main([]) == 2
    assert "gradcheck" in capsys.readouterr().err


def test_gradcheck_all(capsys):
    code = cli.main(["gradcheck"])
    out = capsys.readouterr().out
    found = rows(out)
    cases = gc.check_registry()
    assert code == 0, out
    # one row per checked (floating) input of every case
    n_float = sum(np.issubdtype(np.asarray(a).dtype, np.floating)
                  for c in cases for a in c.make_inputs(np.random.default_rng(0)))
    assert len(found) == n_float
    assert all(m.group(4) == "ok" and float(m.group(3)) < 1e-6 for m in found)
    names = {(m.group(1), m.group(2)) for m in found}
    for expected in [("fc", "grad_x"), ("fc", "grad_w"), ("conv2d_groups", "grad_w"), ("batch_norm_eval", "grad_x"),
                     ("dropout", "grad_x"), ("softmax_loss", "grad_x"), ("cross_entropy", "grad_input")]:
        assert expected in names
    # aligned: the error column starts at the same place on every row
    lines = [line for line in out.splitlines() if ROW.match(line)]
    assert len({line.index(m.group(2)) for line, m in zip(lines, found, strict=True)}) == 1
    assert len({len(line) - len(m.group(4)) for line, m in zip(lines, found, strict=True)}) == 1
    assert out.strip().splitlines()[-1].startswith(f"OK: {n_float} gradients in {len(cases)} checks")


def test_gradcheck_filter(capsys):
    assert cli.main(["gradcheck", "--filter", "conv2d", "--seed", "3"]) == 0
    found = rows(capsys.readouterr().out)
    conv_cases = [c for c in gc.check_registry() if "conv2d" in c.id]
    assert {m.group(1) for m in found} == {c.name for c in conv_cases}
    assert len(found) == sum(len(c.inputs) for c in conv_cases)


def test_gradcheck_filter_matching_nothing(capsys):
    assert cli.main(["gradcheck", "--filter", "no-such-op"]) == 2
    captured = capsys.readouterr()
    assert "no check matches --filter 'no-such-op'" in captured.err
    assert captured.out == ""


def test_gradcheck_list(capsys):
    assert cli.main(["gradcheck", "--list", "--filter", "layers."]) == 0
    listed = capsys.readouterr().out.split()
    assert listed == [c.id for c in gc.check_registry() if c.group == "layers"]
    assert "layers.fc" in listed


def test_gradcheck_bad_tol_is_a_usage_error(capsys):
    assert cli.main(["gradcheck", "--tol", "-1"]) == 2
    assert "positive" in capsys.readouterr().err


def test_gradcheck_tiny_tol_fails(capsys):
    assert cli.main(["gradcheck", "--filter", "ops.neg", "--tol", "1e-30"]) == 1
    out = capsys.readouterr().out
    assert [m.group(4) for m in rows(out)] == ["FAIL"]
    assert "FAILED: 1 of 1 gradients" in out


def test_gradcheck_failing_registry_case(monkeypatch, capsys):
    good = next(c for c in gc.check_registry() if c.id == "ops.mul")
    bad = gc.GradcheckCase("doubled", lambda x: Doubled()(x), {"x": (2, 3)})
    monkeypatch.setattr(gc, "check_registry", lambda: [good, bad])
    assert cli.main(["gradcheck"]) == 1
    out = capsys.readouterr().out
    status = {(m.group(1), m.group(2)): m.group(4) for m in rows(out)}
    assert status == {("mul", "grad_a"): "ok", ("mul", "grad_b"): "ok", ("doubled", "grad_x"): "FAIL"}
    assert "fail  ops.doubled grad_x" in out


def test_gradcheck_raising_case_is_reported(monkeypatch, capsys):
    def broken(x):
        raise ValueError("broken op: expected shape (3,), got (2, 3)")

    good = next(c for c in gc.check_registry() if c.id == "ops.exp")
    monkeypatch.setattr(gc, "check_registry", lambda: [gc.GradcheckCase("broken", broken, {"x": (2, 3)}), good])
    assert cli.main(["gradcheck"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^broken\s+ERROR  ValueError: broken op", out, re.M)
    assert [m.group(1) for m in rows(out)] == ["exp"]  # the other checks still ran
    assert "error ops.broken" in out


def test_example_script_runs():
    res = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "all gradients match" in res.stdout
    # dL/ds1 for y = 1 at the default scores (2, -1): softmax_1 - 1 = -1/(1 + e³)
    assert f"dL/ds1 = {-1 / (1 + np.exp(3)):.6f}" in res.stdout


def _load_example():
    spec = importlib.util.spec_from_file_location("computational_graph", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_checks_and_fails_on_mismatch(monkeypatch, capsys):
    example = _load_example()
    assert example.main(["--s1", "0.3", "--s2", "1.7"]) == 0
    monkeypatch.setattr(example, "closed_form", lambda s, y: np.zeros(2))
    assert example.main([]) == 1
    assert "MISMATCH" in capsys.readouterr().out


@pytest.mark.parametrize("y", [1, 2])
def test_example_graph_uses_elementary_ops_only(y):
    example = _load_example()
    s1 = minidl.tensor(np.float64(0.5), requires_grad=True)
    s2 = minidl.tensor(np.float64(-0.25), requires_grad=True)
    loss, nodes = example.softmax_loss_graph(s1, s2, y)
    assert {t.grad_fn.op.name for t in nodes.values()} <= {"exp", "add", "div", "log", "neg"}
    assert loss.item() == pytest.approx(-np.log(np.exp([0.5, -0.25])[y - 1] / np.exp([0.5, -0.25]).sum()))
