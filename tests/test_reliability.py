"""Regression tests for the reliability defects of issue 14: each test reproduces one defect as a user met it
and checks the fixed behaviour (the defect number is in the test's docstring).

The oracles are the state on disk (what a checkpoint really holds, which files exist), hand-computed values
(the cosine schedule's closed form) and PyTorch where the question is "what does torch do here".
"""

from __future__ import annotations

import json
import math
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

import minidl
from conftest import requires_torch, torch
from minidl import cli
from minidl.errors import CheckpointError, DataError, DeviceError, MinidlError, NonFiniteWeightsWarning, ShapeError
from minidl.training import checkpoint as ckpt_module
from minidl.training import load_checkpoint, save_tree

TINY = ["--model", "mlp", "--train-samples", "256", "--batch-size", "64", "--no-progress"]


def train(out: Path, *extra: str) -> int:
    return cli.main(["train", *TINY, "--out", str(out), *extra])


def metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def cosine_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rel") / "cosine"
    assert train(out, "--epochs", "2", "--scheduler", "cosine", "--lr", "0.01") == 0
    return out


# ------------------------------------------------------------------------------------------ defect 4
def test_extending_a_cosine_run_replans_the_schedule(cosine_run, tmp_path, capsys):
    """Defect 4: `--resume R --epochs 4` after a 2-epoch cosine run trained epoch 3 at lr 0 (the old plan's end),
    then climbed again. The plan now stretches to 4 epochs: lr_e = lr0 (1 + cos(pi e / 4)) / 2."""
    run = tmp_path / "run"
    shutil.copytree(cosine_run, run)
    assert cli.main(["train", "--resume", str(run), "--epochs", "4", "--no-progress"]) == 0
    assert "resumed with changed settings: epochs 2 -> 4, " in capsys.readouterr().out
    lrs = [row["lr"] for row in metrics(run)]
    first_two = [0.01 * (1 + math.cos(math.pi * e / 2)) / 2 for e in range(2)]
    replanned = [0.01 * (1 + math.cos(math.pi * e / 4)) / 2 for e in (2, 3)]
    np.testing.assert_allclose(lrs, first_two + replanned, rtol=1e-12)
    assert min(lrs) > 0
    run_json = json.loads((run / "run.json").read_text())
    assert run_json["resumes"][-1]["after_epoch"] == 2
    changed = run_json["resumes"][-1]["changed"]
    assert changed.pop("out") == [str(cosine_run), str(run)]  # the copy is another directory
    assert changed == {"epochs": [2, 4], "t_max": [2, 4]}
    assert run_json["started"] == json.loads((cosine_run / "run.json").read_text())["started"]
    assert json.loads((run / "config.json").read_text())["t_max"] == 4


def test_an_explicit_t_max_is_kept_on_resume(tmp_path, capsys):
    """Only the default plan (t_max = epochs) follows a longer run; a chosen half period stays."""
    run = tmp_path / "run"
    assert train(run, "--epochs", "1", "--scheduler", "cosine", "--t-max", "3") == 0
    assert cli.main(["train", "--resume", str(run), "--epochs", "2", "--no-progress"]) == 0
    assert json.loads((run / "config.json").read_text())["t_max"] == 3
    assert json.loads((run / "run.json").read_text())["resumes"][-1]["changed"] == {"epochs": [1, 2]}


# ------------------------------------------------------------------------------------------ defect 5
def test_a_run_that_saved_no_checkpoint_can_be_restarted(tmp_path, capsys):
    """Defect 5: a run stopped before its first checkpoint was a dead end: --resume said there was no checkpoint,
    --out with the same directory said it already held a run. Both now say how to start it again, and
    --overwrite does."""
    run = tmp_path / "run"
    with pytest.warns(RuntimeWarning):  # the blow-up that stops the run in its first epoch
        assert train(run, "--epochs", "1", "--optimizer", "sgd", "--lr", "1e8") == 1
    assert (run / "config.json").exists() and not (run / "checkpoint.npz").exists()
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(run)]) == 2
    assert f"--out {run} --overwrite" in capsys.readouterr().err
    assert train(run, "--epochs", "1") == 2
    assert f"start it again with --out {run} --overwrite" in capsys.readouterr().err
    assert train(run, "--epochs", "1", "--overwrite") == 0
    assert (run / "model.npz").exists() and not (run / "error.txt").exists()
    assert json.loads((run / "config.json").read_text())["optimizer"] != "sgd"  # the new run's settings


def test_overwrite_never_destroys_saved_weights(cosine_run, capsys):
    before = {p.name: p.read_bytes() for p in cosine_run.iterdir() if p.is_file()}
    assert train(cosine_run, "--epochs", "1", "--overwrite") == 2
    err = capsys.readouterr().err
    assert "only restarts a run that saved no weights" in err and "checkpoint.npz and model.npz" in err
    assert {p.name: p.read_bytes() for p in cosine_run.iterdir() if p.is_file()} == before
    assert cli.main(["train", "--resume", str(cosine_run), "--overwrite"]) == 2
    assert "does not apply to --resume" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ defect 6
def test_second_ctrl_c_during_the_last_checkpoint_write_is_reported_from_the_file(tmp_path, monkeypatch, capsys):
    """Defect 6: a second Ctrl-C while the last epoch's checkpoint was written said "epoch 5 ... checkpoint
    saved" for a 4-epoch run, while the file held epoch 3. The message now comes from the file on disk."""
    real_save = ckpt_module.save_tree

    def interrupted_write(path, tree, kind="tree"):
        if kind == "trainer" and tree["epoch"] == 2:  # the write of the last epoch's checkpoint
            with minidl._atomic.atomic_path(path):  # the temporary file exists, then the Ctrl-C lands
                raise KeyboardInterrupt
        return real_save(path, tree, kind)

    monkeypatch.setattr(ckpt_module, "save_tree", interrupted_write)
    run = tmp_path / "run"
    assert train(run, "--epochs", "2") == 130
    err = capsys.readouterr().err
    assert "after the last epoch (2), while its checkpoint was being written" in err
    assert f"the checkpoint {run / 'checkpoint.npz'} holds the state after epoch 1" in err
    assert "epoch 3" not in err and "checkpoint saved" not in err
    assert load_checkpoint(run / "checkpoint.npz")["epoch"] == 1
    assert [p.name for p in run.iterdir() if p.name.endswith(".tmp")] == []
    monkeypatch.undo()
    assert cli.main(["train", "--resume", str(run), "--no-progress"]) == 0  # and it resumes from there


# ------------------------------------------------------------------------------------------ defect 7
def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose IHDR declares width x height (1-bit greyscale) and whose data is empty: Pillow reads the
    size from the header, so this is how a 20000² bomb looks to it, without 400 MB of pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) +
                     chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rel") / "lenet"
    assert cli.main(["train", "--model", "lenet5", "--epochs", "1", "--train-samples", "128", "--no-progress",
                     "--out", str(out)]) == 0
    return out


def test_predict_refuses_a_decompression_bomb_in_one_line(lenet_run, tmp_path, capsys):
    """Defect 7: `minidl predict R huge.png` (20000² pixels) ended in Pillow's DecompressionBombError traceback."""
    pytest.importorskip("PIL")
    bomb = _png_header_only(tmp_path / "huge.png", 20000, 20000)
    assert cli.main(["predict", str(lenet_run), str(bomb)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{bomb}: refused: the image is too large to decode safely" in err


def test_hidden_dims_zero_is_a_one_line_usage_error(tmp_path, capsys):
    """Defect 7: `--model-arg hidden_dims=[0]` ended in a reshape traceback."""
    assert train(tmp_path / "r", "--epochs", "1", "--model-arg", "hidden_dims=[0]") == 2
    err = capsys.readouterr().err
    assert "hidden_dims=[0]" in err and "must be positive integers" in err and err.count("\n") == 1


@requires_torch
@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op")  # both libraries say so
def test_zero_width_linear_works_as_in_torch():
    """On the way to defect 7: a zero-size Linear broke inside NumPy's reshape; torch computes it (the output is
    the bias; gradients are zeros)."""
    for n_in, n_out in ((0, 3), (4, 0)):
        layer, ref = minidl.nn.Linear(n_in, n_out), torch.nn.Linear(n_in, n_out)
        with torch.no_grad():
            ref.bias.copy_(torch.from_numpy(layer.bias.detach().numpy()))
        x = minidl.ones(2, n_in, requires_grad=True)
        xt = torch.ones(2, n_in, requires_grad=True)
        y, yt = layer(x), ref(xt)
        np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
        y.sum().backward()
        yt.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
        np.testing.assert_array_equal(layer.bias.grad.numpy(), ref.bias.grad.numpy())


def test_a_full_disk_is_a_one_line_error_and_keeps_whole_files(tmp_path, monkeypatch, capsys):
    """Defect 7: a full disk (or `ulimit -f`) during a write ended in a traceback. Simulated here by the
    error the OS gives (ENOSPC) on the checkpoint's write; tests/test_faults.py runs the real file-size limit."""
    import errno

    real_save = ckpt_module.save_tree

    def full_disk(path, tree, kind="tree"):
        if kind == "trainer" and tree["epoch"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_save(path, tree, kind)

    monkeypatch.setattr(ckpt_module, "save_tree", full_disk)
    run = tmp_path / "run"
    assert train(run, "--epochs", "2") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err and str(run / "checkpoint.npz") in err
    assert load_checkpoint(run / "checkpoint.npz")["epoch"] == 1  # the last good checkpoint is whole


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    """`--debug` (anywhere on the line) re-raises instead of printing one line."""
    monkeypatch.setattr(minidl.runs, "train_run", lambda *a, **k: 1 / 0)
    assert cli.main(["train", "--epochs", "1", "--out", str(tmp_path / "x")]) == 1
    with pytest.raises(ZeroDivisionError):
        cli.main(["train", "--epochs", "1", "--out", str(tmp_path / "x"), "--debug"])


# ------------------------------------------------------------------------------------------ defect 8
def test_stale_temp_files_are_removed_when_the_run_starts(cosine_run, tmp_path, capsys):
    """Defect 8: `.checkpoint.npz.<random>.tmp` files left by a kill were never cleaned, even by a resume."""
    run = tmp_path / "run"
    shutil.copytree(cosine_run, run)
    stale = [run / ".checkpoint.npz.0123456789abcdef.tmp", run / ".history.json.fedcba9876543210.tmp"]
    for p in stale:
        p.write_bytes(b"half a file")
    keep = run / ".notes.tmp"  # not one of minidl's temporary names
    keep.write_text("mine")
    assert cli.main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert not any(p.exists() for p in stale) and keep.read_text() == "mine"


def test_resume_and_eval_warn_about_nan_weights(cosine_run, tmp_path, capsys):
    """Defect 8: a checkpoint with NaN weights resumed silently (and eval printed NaN without a word)."""
    run = tmp_path / "run"
    shutil.copytree(cosine_run, run)
    tree = load_checkpoint(run / "checkpoint.npz")
    tree["model"]["fc1.weight"] = np.full_like(tree["model"]["fc1.weight"], np.nan)
    save_tree(run / "checkpoint.npz", tree, kind="trainer")
    (run / "model.npz").unlink()
    with pytest.warns(NonFiniteWeightsWarning, match=r"checkpoint.npz holds NaN or infinite weights \(fc1.weight\)"):
        assert cli.main(["eval", str(run)]) == 0
    with pytest.warns(NonFiniteWeightsWarning, match="training will stop at its first step"):
        assert cli.main(["train", "--resume", str(run), "--epochs", "3", "--no-progress"]) == 1
    assert "training stopped at epoch 3, step 1" in capsys.readouterr().err


def test_idx_dims_whose_product_overflows_are_refused_naming_the_file(tmp_path):
    """Defect 8: dims (65536,)*4 multiply to 2**64, which wrapped to 0 in int64 and passed the size check."""
    path = tmp_path / "images.idx"
    path.write_bytes(bytes([0, 0, 8, 4]) + struct.pack(">4I", *(65536,) * 4))
    with pytest.raises(DataError, match=rf"{path}: IDX header declares dims \(65536, 65536, 65536, 65536\)"):
        minidl.datasets.idx.read_idx(path)


# ------------------------------------------------------------------------------------------ defect 10
def test_numpy_wording_does_not_leak(tmp_path, lenet_run, capsys):
    """Defect 10: NumPy's gufunc signature, AxisError and dtype messages reached the user."""
    x = minidl.randn(2, 3)
    with pytest.raises(ShapeError) as e:
        x @ minidl.randn(4, 5)
    assert "(2x3 and 4x5)" in str(e.value) and "signature" not in str(e.value)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 3\)"):
        x.sum(dim=3)
    with pytest.raises(DeviceError, match="no CUDA device"):
        x.to("cuda")
    (tmp_path / "somedir").mkdir()
    assert cli.main(["predict", str(lenet_run), str(tmp_path / "somedir")]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_a_pickle_given_as_a_checkpoint_is_refused_as_a_pickle(tmp_path, capsys):
    """Defect 10: a pickle payload was refused as "corrupt or truncated" instead of "contains pickled objects"."""
    import pickle

    evil = tmp_path / "checkpoint.npz"
    evil.write_bytes(pickle.dumps({"epoch": 1, "run": print}))
    with pytest.raises(CheckpointError, match="refused: the file is a pickle"):
        load_checkpoint(evil)
    assert cli.main(["train", "--resume", str(evil)]) == 2
    assert "refused: the file is a pickle" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ the error hierarchy
def test_layer_errors_name_the_layer_by_its_path():
    """Deliverable 1: `features.0 (Conv2d): ... expected ..., got shape ...`."""
    model = minidl.models.get("vgg11_bn", num_classes=10)
    with pytest.raises(ShapeError, match=r"^features\.0 \(Conv2d\): Conv2d\(3, 64, .*got shape \(1, 4, 32, 32\)"):
        model(minidl.randn(1, 4, 32, 32))
    nested = minidl.nn.Sequential(minidl.nn.Linear(4, 3), minidl.nn.Sequential(minidl.nn.ReLU(),
                                                                                minidl.nn.Linear(5, 2)))
    with pytest.raises(ShapeError, match=r"^1\.1 \(Linear\): Linear\(in_features=5"):
        nested(minidl.randn(2, 4))
    with pytest.raises(minidl.errors.DTypeError, match=r"^0 \(Linear\): "):
        nested(minidl.randn(2, 4).double())


@pytest.mark.parametrize("cls, builtin", [
    ("ShapeError", ValueError), ("ShapeError", RuntimeError), ("DTypeError", TypeError),
    ("DataError", ValueError), ("CheckpointError", ValueError), ("ConfigError", ValueError),
    ("NumericalError", RuntimeError),
])
def test_every_error_is_a_minidl_error_and_its_builtin(cls, builtin):
    err = getattr(minidl, cls)
    assert issubclass(err, MinidlError) and issubclass(err, builtin)


def test_library_error_classes_join_the_hierarchy():
    from minidl.autograd import GradcheckError
    from minidl.datasets.download import ChecksumError, DownloadError
    from minidl.nn.module import StateDictError
    from minidl.report.graph import GraphvizNotFoundError
    from minidl.runs import ExpressionError, RunError

    for err in (RunError, ExpressionError, StateDictError, GraphvizNotFoundError, DownloadError, ChecksumError,
                GradcheckError):
        assert issubclass(err, MinidlError), err
