"""Pickle-free atomic checkpoints: round-trips, file layout, atomicity, and clear errors for bad files."""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
from minidl import nn, optim
from minidl.models import MLP, LeNet5
from minidl.optim.lr_scheduler import StepLR
from minidl.random import default_generator
from minidl.serialization import tree as npz_tree
from minidl.training import CheckpointError, load_checkpoint, load_tree, restore_checkpoint, save_checkpoint, save_tree
from minidl.training import checkpoint as ckpt
from minidl.utils.data import DataLoader, TensorDataset


def _tree() -> dict:
    return {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
        "f64": np.linspace(-1, 1, 5),
        "ints": np.array([1, -2, 3], dtype=np.int64),
        "flags": np.array([True, False]),
        "scalar0d": np.array(2.5, dtype=np.float32),
        "npscalar": np.float32(1.25),
        "tensor": minidl.tensor(np.ones((2, 2), dtype=np.float32)),
        "nested": {0: {"exp_avg": np.full(3, 0.5, dtype=np.float32), "step": 4}, 1: {"step": 0}},
        "groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False, "name": None}],
        "big_int": 2**127 + 12345,  # PCG64 states hold 128-bit integers
        "text": "héllo",
        "tricky": {"__array__": "not an array", "a/b": 1},
        "empty": np.zeros((0, 3), dtype=np.float32),
    }


def _same(a, b, equal_nan: bool = False) -> None:
    """Deep equality with exact array values, shapes, dtypes and container types."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, minidl.Tensor):
        a, b = a.detach().numpy(), b.detach().numpy()
    if isinstance(a, np.ndarray):
        nan = equal_nan and a.dtype.kind == "f"
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=nan)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k], equal_nan)
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y, equal_nan)
    else:
        assert a == b


def test_tree_round_trip(tmp_path) -> None:
    tree = _tree()
    path = save_tree(tmp_path / "t.npz", tree)
    back = load_tree(path)
    _same(tree, back)
    assert back["nested"][0]["step"] == 4  # int keys stay ints


def test_file_is_plain_npz_with_flat_keys(tmp_path) -> None:
    model = LeNet5()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x, y = minidl.randn(4, 1, 28, 28), minidl.tensor(np.array([0, 1, 2, 3]))
    minidl.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    path = tmp_path / "c.npz"
    save_checkpoint(path, model, opt, epoch=3, config={"lr": 1e-3})
    with np.load(path, allow_pickle=False) as z:  # never needs pickle
        files = set(z.files)
        meta = json.loads(bytes(z[npz_tree.META_KEY]).decode())
        assert np.array_equal(z["model/conv1.weight"], model.conv1.weight.detach().numpy())
        assert z["optim/state/0/exp_avg"].shape == model.conv1.weight.shape
    assert {"model/conv1.weight", "model/fc2.bias", "optim/state/0/exp_avg", "optim/state/0/exp_avg_sq"} <= files
    assert meta["format"] == "minidl-checkpoint" and meta["kind"] == "trainer" and meta["tree"]["epoch"] == 3
    with zipfile.ZipFile(path) as zf:  # every member is a .npy array: no pickled objects anywhere
        assert all(name.endswith(".npy") for name in zf.namelist())


def test_restore_model_optimizer_scheduler(tmp_path) -> None:
    model = MLP(input_dim=6, hidden_dims=(5,), num_classes=3, batchnorm=True)
    opt = optim.Adam(model.parameters(), lr=0.1)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    x, y = minidl.randn(8, 6), minidl.tensor(np.arange(8) % 3)
    for _ in range(2):
        opt.zero_grad()
        minidl.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        sched.step()
    path = tmp_path / "c.npz"
    save_checkpoint(path, model, opt, sched, epoch=2, history={"loss": [1.0, 0.5]})

    minidl.manual_seed(99)  # different initial weights
    model2 = MLP(input_dim=6, hidden_dims=(5,), num_classes=3, batchnorm=True)
    opt2 = optim.Adam(model2.parameters(), lr=0.1)
    sched2 = StepLR(opt2, step_size=1, gamma=0.5)
    tree = restore_checkpoint(path, model2, opt2, sched2)
    assert tree["epoch"] == 2 and tree["history"] == {"loss": [1.0, 0.5]}
    for (k, a), (_, b) in zip(model.state_dict().items(), model2.state_dict().items(), strict=True):
        assert a.dtype == b.dtype and np.array_equal(a.detach().numpy(), b.detach().numpy()), k
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == 0.025
    _same(opt.state_dict()["state"], opt2.state_dict()["state"])
    assert sched2.state_dict() == sched.state_dict()


def test_rng_states_are_restored(tmp_path) -> None:
    loader = DataLoader(TensorDataset(minidl.arange(10)), batch_size=10, shuffle=True,
                        generator=np.random.default_rng(5))
    path = tmp_path / "c.npz"
    save_checkpoint(path, loaders=[loader])
    expected = (default_generator().random(3), np.random.random(3), next(iter(loader))[0].detach().numpy())  # noqa: NPY002
    default_generator().random(7)  # move every generator on
    np.random.random(2)  # noqa: NPY002
    next(iter(loader))
    restore_checkpoint(path, loaders=[loader])
    got = (default_generator().random(3), np.random.random(3), next(iter(loader))[0].detach().numpy())  # noqa: NPY002
    for a, b in zip(expected, got, strict=True):
        assert np.array_equal(a, b)
    with pytest.raises(CheckpointError, match="1 loader"):
        restore_checkpoint(path, loaders=[loader, loader])
    restore_checkpoint(path)  # without loaders only the global generators are restored


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch) -> None:
    path = tmp_path / "c.npz"
    save_tree(path, {"v": np.array([1.0])})
    before = path.read_bytes()

    def broken_write_array(f, arr, **kwargs):
        f.write(b"\x93NUMPY half an array")
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", broken_write_array)
    with pytest.raises(OSError, match="disk full"):
        save_tree(path, {"v": np.array([2.0])})
    monkeypatch.undo()
    assert path.read_bytes() == before  # the old checkpoint is intact
    assert os.listdir(tmp_path) == ["c.npz"]  # and the temporary file is gone
    assert np.array_equal(load_tree(path)["v"], [1.0])


def test_atomic_write_uses_fsync_and_replace(tmp_path, monkeypatch) -> None:
    calls = []
    real_replace, real_fsync = os.replace, os.fsync
    monkeypatch.setattr(ckpt.os, "replace", lambda a, b: (calls.append(("replace", a, b)), real_replace(a, b)))
    monkeypatch.setattr(ckpt.os, "fsync", lambda fd: (calls.append(("fsync",)), real_fsync(fd)))
    path = tmp_path / "sub" / "c.npz"
    save_tree(path, {"v": np.zeros(2)})
    assert calls[0] == ("fsync",)
    kind, src, dst = calls[1]
    assert kind == "replace" and os.path.dirname(src) == str(tmp_path / "sub") and dst == path


def test_corrupt_files_raise_clear_errors(tmp_path) -> None:
    good = save_tree(tmp_path / "good.npz", {"v": np.arange(1000.0)})
    torn = tmp_path / "torn.npz"
    torn.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(CheckpointError, match="torn.npz.*corrupt or truncated"):
        load_tree(torn)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip file at all")
    with pytest.raises(CheckpointError, match="garbage.npz"):
        load_tree(garbage)
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.ones(3))
    with pytest.raises(CheckpointError, match="plain.npz.*not a minidl checkpoint"):
        load_tree(plain)
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        load_tree(tmp_path / "missing.npz")
    with pytest.raises(CheckpointError, match="expected a 'trainer' checkpoint"):
        load_checkpoint(good)


def test_pickled_member_is_refused(tmp_path) -> None:
    """A file smuggling a pickled object array is rejected, never unpickled."""
    good = save_tree(tmp_path / "good.npz", {"v": np.arange(3.0)})
    evil = tmp_path / "evil.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(evil, "w") as dst:
        for name in src.namelist():
            if name != "v.npy":
                dst.writestr(name, src.read(name))
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.array([{"x": 1}], dtype=object), allow_pickle=True)
        dst.writestr("v.npy", buf.getvalue())  # the referenced array is now a pickled object array
    with pytest.raises(CheckpointError, match="evil.npz"):
        load_tree(evil)


def test_unstorable_values_are_refused(tmp_path) -> None:
    with pytest.raises(TypeError, match="set"):
        save_tree(tmp_path / "x.npz", {"bad": {1, 2}})
    with pytest.raises(TypeError, match="object array"):
        save_tree(tmp_path / "x.npz", {"bad": np.array([None, 1], dtype=object)})
    assert not (tmp_path / "x.npz").exists()


def test_mismatched_model_or_optimizer(tmp_path) -> None:
    model = MLP(input_dim=6, hidden_dims=(5,), num_classes=3)
    opt = optim.Adam(model.parameters())
    path = tmp_path / "run.npz"
    save_checkpoint(path, model, opt)
    with pytest.raises(CheckpointError, match=r"run\.npz.*shape mismatch fc1\.weight: checkpoint \(5, 6\) vs model "
                                              r"\(7, 6\)"):
        restore_checkpoint(path, MLP(input_dim=6, hidden_dims=(7,), num_classes=3))
    with pytest.raises(CheckpointError, match=r"run\.npz.*missing keys \['bn1\.weight"):
        restore_checkpoint(path, MLP(input_dim=6, hidden_dims=(5,), num_classes=3, batchnorm=True))
    other = MLP(input_dim=6, hidden_dims=(5,), num_classes=3)
    with pytest.raises(CheckpointError, match="optimizer class mismatch: saved Adam, given SGD"):
        restore_checkpoint(path, other, optim.SGD(other.parameters(), lr=0.1))
    with pytest.raises(CheckpointError, match="no scheduler state"):
        restore_checkpoint(path, other, scheduler=StepLR(optim.SGD(other.parameters(), lr=0.1), 1))


def test_state_dict_tensors_come_back_as_tensors(tmp_path) -> None:
    lin = nn.Linear(3, 2)
    save_tree(tmp_path / "m.npz", {"model": lin.state_dict()})
    back = load_tree(tmp_path / "m.npz")["model"]
    assert isinstance(back["weight"], minidl.Tensor) and np.array_equal(back["weight"].detach().numpy(), lin.weight.detach().numpy())


_leaves = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=5)
           | hnp.arrays(st.sampled_from([np.float32, np.float64, np.int64, np.uint8, np.bool_]),
                        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)))
_trees = st.recursive(
    _leaves,
    lambda kids: (st.lists(kids, max_size=3) | st.tuples(kids, kids)
                  | st.dictionaries(st.text(max_size=4) | st.integers(-3, 3), kids, max_size=3)),
    max_leaves=8,
)


def test_a_key_with_a_nul_byte_round_trips(tmp_path) -> None:
    """Array member names come from the keys, and zip names end at a NUL: the key '\\0' made a member 'root/'
    that loading refused as not an .npy array (found by the property test below)."""
    tree = {"\0": np.zeros(2, np.float32), "a\0b": np.ones(1), "a\\0b": np.arange(3)}
    back = load_tree(save_tree(tmp_path / "t.npz", {"root": tree}))["root"]
    _same(tree, back)


@settings(max_examples=40, deadline=None)
@given(tree=_trees)
def test_any_tree_round_trips(tree) -> None:
    with tempfile.TemporaryDirectory() as d:
        back = load_tree(save_tree(os.path.join(d, "t.npz"), {"root": tree}))["root"]
    _same(tree, back, equal_nan=True)  # hypothesis draws NaN entries into float arrays


@pytest.mark.parametrize("epoch", [-5, "abc", 2.5, True])
def test_a_checkpoint_with_an_impossible_epoch_is_refused(tmp_path, epoch):
    """A trainer checkpoint's epoch counts finished epochs; -5 used to be accepted and 'abc' to crash later."""
    model = minidl.nn.Linear(2, 2)
    good = save_checkpoint(tmp_path / "good.npz", model, epoch=3)
    assert load_checkpoint(good)["epoch"] == 3
    tree = load_tree(good, kind="trainer")
    tree["epoch"] = epoch
    save_tree(tmp_path / "bad.npz", tree, kind="trainer")
    with pytest.raises(CheckpointError, match="not a count of finished epochs"):
        load_checkpoint(tmp_path / "bad.npz")
