"""minidl.save / minidl.load: round trips of every supported structure, safetensors both ways, files written
by torch.save (zip and legacy) read without torch, map_location, and refusal of anything that would run code.

Files are generated in each test (tmp_path); tests that need torch to write them skip without it.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import pickletools
import subprocess
import sys
import warnings
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from conftest import requires_torch, torch
from minidl import optim
from minidl.errors import CheckpointError, DeviceError, UnsupportedError

MAGIC, PROTOCOL = 0x1950A86A20F9469CFC6C, 1001  # the header values of torch.save's legacy format
SYS_INFO = {"protocol_version": PROTOCOL, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}


def _assert_same(got, want) -> None:
    """Deep equality: same container types and order, same tensor/array dtypes, shapes and exact values."""
    assert type(got) is type(want), (type(got), type(want))
    if isinstance(want, minidl.Tensor):
        assert got.requires_grad == want.requires_grad
        got, want = got.detach().numpy(), want.detach().numpy()
    if isinstance(want, np.ndarray | np.generic):
        assert (got.dtype, got.shape) == (want.dtype, want.shape) and np.array_equal(got, want)
    elif isinstance(want, dict):
        assert list(got) == list(want)
        for k in want:
            _assert_same(got[k], want[k])
    elif isinstance(want, list | tuple):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _assert_same(g, w)
    else:
        assert got == want


def _minidl_net() -> nn.Module:
    """Conv2d -> BatchNorm2d -> ReLU -> Flatten -> Linear, the layout of :func:`_torch_net`."""
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(100, 3))


def _trained_minidl_net() -> tuple[nn.Module, optim.Adam]:
    net = _minidl_net()
    opt = optim.Adam(net.parameters(), lr=0.01)
    net(minidl.randn(6, 3, 5, 5)).sum().backward()
    opt.step()  # moves the weights, the BatchNorm statistics and num_batches_tracked, and fills Adam's state
    return net, opt


# --------------------------------------------------------------------------------------- minidl's own formats
def _structures() -> dict[str, object]:
    """One object of each kind minidl.save stores in the npz + JSON format."""
    net, opt = _trained_minidl_net()
    return {
        "tensor": minidl.randn(3, 4),
        "int tensor": minidl.tensor(np.array([[1, -2], [3, 4]], dtype=np.int64)),
        "requires grad": minidl.randn(2).requires_grad_(),
        "parameter": nn.Parameter(minidl.randn(2, 2)),
        "frozen parameter": nn.Parameter(minidl.randn(3), requires_grad=False),
        "array": np.arange(6, dtype=np.int32).reshape(2, 3),
        "numpy scalar": np.float64(2.5),
        "numbers": [1, 2.5, -(2**70), True, None, "text", float("inf")],
        "tuple": (minidl.ones(2), (1, "a"), []),
        "optimizer state": opt.state_dict(),
        "checkpoint": {"epoch": 3, "model": net.state_dict(), "optimizer": opt.state_dict(), "best": (0.9, 2)},
        "ordered": OrderedDict([("z", 1), ("a", minidl.zeros(2)), ("m", [minidl.ones(1)])]),
        "int keys": {0: minidl.ones(2), -1: "x", 2: {3: (4,)}},
        "empty dict": {},
        "flat dict needing grad": {"w": minidl.randn(2).requires_grad_()},
        "savez argument names": {"file": minidl.ones(1), "allow_pickle": np.zeros(2), "args": 3},
    }


@pytest.mark.parametrize("kind", list(_structures()))
def test_every_structure_round_trips(tmp_path, kind) -> None:
    obj = _structures()[kind]
    minidl.save(obj, tmp_path / "obj.pt")
    back = minidl.load(tmp_path / "obj.pt")
    _assert_same(back, obj)
    if isinstance(obj, dict) and obj:
        assert zipfile.is_zipfile(tmp_path / "obj.pt")  # the npz + JSON format, not safetensors


def test_flat_state_dict_goes_to_safetensors(tmp_path) -> None:
    sd = _trained_minidl_net()[0].state_dict()
    sd["half"] = minidl.from_numpy(np.array([1.5, -2.0], dtype=np.float16))  # minidl's own files keep float16
    path = tmp_path / "model.pth"
    minidl.save(sd, path)
    safetensors = pytest.importorskip("safetensors")
    with safetensors.safe_open(path, framework="np") as f:  # a plain safetensors file
        assert sorted(f.keys()) == sorted(sd) and f.metadata()["format"] == "pt"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no up-cast note for minidl's own file
        back = minidl.load(path)
    _assert_same(back, sd)  # OrderedDict, key order, int64 num_batches_tracked, float16 kept
    plain = {"b": minidl.ones(2), "a": minidl.zeros(1), "mask": minidl.from_numpy(np.array([True, False]))}
    minidl.save(plain, path)
    _assert_same(minidl.load(path), plain)


def test_state_dict_restores_the_model(tmp_path) -> None:
    net, _ = _trained_minidl_net()
    minidl.save(net.state_dict(), tmp_path / "w.safetensors")
    other = _minidl_net()
    other.load_state_dict(minidl.load(tmp_path / "w.safetensors"))
    net.eval(), other.eval()
    x = minidl.randn(2, 3, 5, 5)
    assert np.array_equal(net(x).detach().numpy(), other(x).detach().numpy())


def test_optimizer_state_round_trips_into_a_new_optimizer(tmp_path) -> None:
    net, opt = _trained_minidl_net()
    minidl.save({"model": net.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "ckpt.pt")
    ckpt = minidl.load(tmp_path / "ckpt.pt")
    net2 = _minidl_net()
    net2.load_state_dict(ckpt["model"])
    opt2 = optim.Adam(net2.parameters(), lr=0.01)
    opt2.load_state_dict(ckpt["optimizer"])
    x = minidl.randn(6, 3, 5, 5)
    for model, o in ((net, opt), (net2, opt2)):
        o.zero_grad()
        model(x).sum().backward()
        o.step()
    for a, b in zip(net.parameters(), net2.parameters(), strict=True):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize("obj", [{"w": minidl.ones(3)}, [minidl.ones(3), 2]], ids=["flat dict", "list"])
def test_file_objects_and_atomic_paths(tmp_path, obj) -> None:
    buf = io.BytesIO()
    minidl.save(obj, buf)
    buf.seek(0)
    _assert_same(minidl.load(buf), obj)
    path = tmp_path / "x.pt"
    minidl.save(obj, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="cannot store a value of type set"):
        minidl.save([{1, 2}], path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["x.pt"]  # old file intact, no temp file


def test_without_safetensors_flat_dicts_use_npz_and_reading_says_what_to_install(tmp_path, monkeypatch) -> None:
    pytest.importorskip("safetensors")
    sd = {"w": minidl.ones(2, 2)}
    minidl.save(sd, tmp_path / "st.pt")
    monkeypatch.setitem(sys.modules, "safetensors", None)  # the package is now unimportable
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    minidl.save(sd, tmp_path / "npz.pt")
    assert zipfile.is_zipfile(tmp_path / "npz.pt")
    _assert_same(minidl.load(tmp_path / "npz.pt"), sd)
    with pytest.raises(ImportError, match=r"st\.pt.*pip install 'minidl\[weights\]'"):
        minidl.load(tmp_path / "st.pt")


def test_trainer_checkpoints_load_as_their_tree(tmp_path) -> None:
    from minidl.training import save_checkpoint

    net, opt = _trained_minidl_net()
    save_checkpoint(tmp_path / "run.npz", net, opt, epoch=4)
    tree = minidl.load(tmp_path / "run.npz")
    assert tree["epoch"] == 4 and tree["classes"]["optimizer"] == "Adam"
    _assert_same(tree["model"], dict(net.state_dict()))


def test_plain_npz_loads_as_a_dict_of_tensors(tmp_path) -> None:
    np.savez(tmp_path / "w.npz", weight=np.eye(2, dtype=np.float32), steps=np.array(7))
    back = minidl.load(tmp_path / "w.npz")
    assert set(back) == {"weight", "steps"} and isinstance(back["weight"], minidl.Tensor)
    assert np.array_equal(back["weight"].numpy(), np.eye(2)) and back["steps"].item() == 7


def test_pickled_objects_in_minidl_files_are_refused(tmp_path) -> None:
    minidl.save([minidl.ones(2)], tmp_path / "good.pt")
    evil = tmp_path / "evil.pt"
    with zipfile.ZipFile(tmp_path / "good.pt") as src, zipfile.ZipFile(evil, "w") as dst:
        for info in src.infolist():
            if info.filename == "__meta__.json.npy":
                dst.writestr(info, src.read(info))
            else:  # the tensor member becomes a pickled object array
                member = io.BytesIO()
                np.lib.format.write_array(member, np.array([print], dtype=object), allow_pickle=True)
                dst.writestr(info.filename, member.getvalue())
    with pytest.raises(CheckpointError, match="evil.pt.*refused: member .* contains pickled objects"):
        minidl.load(evil)
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.array([None], dtype=object))
    with pytest.raises(CheckpointError, match="refused: .*pickled objects"):
        minidl.load(plain)


def _damaged_files(tmp_path) -> dict[str, bytes]:
    """Each format, cut in half, plus garbage and an empty file."""
    minidl.save({"w": minidl.randn(50)}, tmp_path / "a")
    minidl.save([minidl.randn(50)], tmp_path / "b")
    legacy = b"".join(pickle.dumps(v, protocol=2) for v in (MAGIC, PROTOCOL, SYS_INFO))
    return {
        "safetensors.pt": (tmp_path / "a").read_bytes()[:150],
        "npz.pt": (tmp_path / "b").read_bytes()[:400],
        "legacy.pt": legacy[:-3],
        "garbage.pt": b"\x00\x01 not a checkpoint at all" * 30,
        "empty.pt": b"",
    }


@pytest.mark.parametrize("name", ["safetensors.pt", "npz.pt", "legacy.pt", "garbage.pt", "empty.pt"])
def test_damaged_files_raise_checkpoint_errors_naming_the_file(tmp_path, name) -> None:
    path = tmp_path / name
    path.write_bytes(_damaged_files(tmp_path)[name])
    with pytest.raises(CheckpointError, match=rf"{name}.*(corrupt or truncated|empty file|not a file minidl)"):
        minidl.load(path)


def test_bad_arguments(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        minidl.load(tmp_path / "missing.pt")
    minidl.save([1], tmp_path / "x.pt")
    with pytest.raises(TypeError, match="weights_only"):
        minidl.load(tmp_path / "x.pt", weights_only="yes")
    with pytest.raises(TypeError, match="unexpected keyword"):
        minidl.load(tmp_path / "x.pt", fix_imports=False)
    with pytest.raises(UnsupportedError, match="pickle_module"):
        minidl.load(tmp_path / "x.pt", pickle_module=json)
    with pytest.raises(UnsupportedError, match="mmap"):
        minidl.load(tmp_path / "x.pt", mmap=True)
    with pytest.raises(TypeError, match="map_location"):
        minidl.load(tmp_path / "x.pt", map_location=2.5)
    assert minidl.load(tmp_path / "x.pt", map_location="cpu", weights_only=False, pickle_module=pickle) == [1]
    assert minidl.load(tmp_path / "x.pt", map_location=minidl.device("cpu")) == [1]


@pytest.mark.parametrize("where", ["cuda", "cuda:1", "mps", 0, {"cpu": "cuda:0"}, minidl.device("cuda")], ids=str)
def test_map_location_asking_for_a_gpu_raises_device_error(tmp_path, where) -> None:
    minidl.save([1], tmp_path / "x.pt")
    with pytest.raises(DeviceError, match="CPU only"):
        minidl.load(tmp_path / "x.pt", map_location=where)


# --------------------------------------------------------------------------------------- crafted pickles
def _call_pickle(function: str, code: str) -> bytes:
    """Protocol-2 opcodes calling ``builtins.<function>(code)``: what a malicious checkpoint holds."""
    return (f"\x80\x02cbuiltins\n{function}\nX".encode("latin1") + len(code).to_bytes(4, "little") + code.encode()
            + b"\x85R.")


def test_crafted_payloads_are_refused_without_running(tmp_path) -> None:
    target = tmp_path / "pwned.txt"
    with pytest.raises(ZeroDivisionError):  # the opcodes are live: a plain unpickler runs them
        pickle.loads(_call_pickle("eval", "1/0"))
    payload = _call_pickle("exec", f"open({str(target)!r}, 'w').write('pwned')")
    zipped = tmp_path / "evil_zip.pth"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("archive/data.pkl", payload)
        zf.writestr("archive/byteorder", "little")
    legacy = tmp_path / "evil_legacy.pth"
    legacy.write_bytes(b"".join(pickle.dumps(v, protocol=2) for v in (MAGIC, PROTOCOL, SYS_INFO)) + payload)
    first = tmp_path / "evil_first.pth"  # the payload instead of the magic number, with protocol 4's opcodes
    first.write_bytes(payload.replace(b"cbuiltins\nexec\n", b"\x8c\x08builtins\x8c\x04exec\x93").replace(
        b"\x80\x02", b"\x80\x04"))
    for path in (zipped, legacy, first):
        for weights_only in (True, False):
            with pytest.raises(CheckpointError, match=rf"{path.name}.*refused: the file contains pickled object "
                                                      r"builtins\.exec; minidl never runs code from files"):
                minidl.load(path, weights_only=weights_only)
    assert not target.exists()


def _text(value: str) -> bytes:
    return b"X" + len(value.encode()).to_bytes(4, "little") + value.encode()  # BINUNICODE


def _ints(values) -> bytes:
    return b"(" + b"".join(b"J" + v.to_bytes(4, "little", signed=True) for v in values) + b"t"  # tuple of BININT


def _handmade_torch_zip(path, offset: int, size, stride, numel: int = 12, record_bytes: int = 48) -> np.ndarray:
    """A torch.save zip archive written opcode by opcode: ``{'w': _rebuild_tensor_v2(FloatStorage of numel,
    offset, size, stride, False, OrderedDict())}`` over the storage 0, 1, 2, ...; returns the storage."""
    storage = np.arange(record_bytes // 4, dtype="<f4")
    pid = b"(" + _text("storage") + b"ctorch\nFloatStorage\n" + _text("0") + _text("cpu") + _ints([numel])[1:-1] + b"tQ"
    args = pid + _ints([offset])[1:-1] + _ints(size) + _ints(stride) + b"\x89ccollections\nOrderedDict\n)R"
    pkl = b"\x80\x02}" + _text("w") + b"ctorch._utils\n_rebuild_tensor_v2\n(" + args + b"tRs."
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pkl)
        zf.writestr("archive/byteorder", "little")
        zf.writestr("archive/data/0", storage.tobytes())
        zf.writestr("archive/version", "3\n")
    return storage


@pytest.mark.parametrize(("offset", "size", "stride"), [(0, (3, 4), (4, 1)), (1, (2, 3), (1, 4)), (11, (), ()),
                                                        (2, (2, 2, 2), (0, 3, 1)), (5, (0, 7), (7, 1))], ids=str)
def test_handmade_layouts_read_as_strided_views(tmp_path, offset, size, stride) -> None:
    storage = _handmade_torch_zip(tmp_path / "t.pth", offset, size, stride)
    got = minidl.load(tmp_path / "t.pth")["w"].numpy()
    want = np.lib.stride_tricks.as_strided(storage[offset:], size, [4 * s for s in stride])
    assert got.shape == tuple(size) and np.array_equal(got, want)
    if torch is not None:
        assert np.array_equal(torch.load(tmp_path / "t.pth")["w"].numpy(), got)  # torch reads it the same way


@pytest.mark.parametrize(("offset", "size", "stride", "numel", "error"), [
    (1, (3, 4), (4, 1), 12, "reaches past the end of its storage"),
    (0, (2, 7), (7, 1), 12, "reaches past the end"),
    (0, (4,), (-1,), 12, "non-negative"),
    (-1, (2,), (1,), 12, "non-negative"),
    (0, (3,), (1, 1), 12, "differ in length"),
    (0, (2**30,), (1,), 2**30, "holds 48 bytes, its storage needs"),
], ids=["offset", "size", "negative stride", "negative offset", "rank", "storage size"])
def test_handmade_layouts_outside_their_storage_are_refused(tmp_path, offset, size, stride, numel, error) -> None:
    _handmade_torch_zip(tmp_path / "bad.pth", offset, size, stride, numel)
    with pytest.raises(CheckpointError, match=rf"bad\.pth.*{error}"):
        minidl.load(tmp_path / "bad.pth")


@pytest.mark.parametrize("fmt", ["torch zip", "minidl npz"])
def test_flipped_bits_in_tensor_data_are_caught(tmp_path, fmt) -> None:
    path = tmp_path / "flip.pth"
    if fmt == "torch zip":
        data = _handmade_torch_zip(path, 0, (12,), (1,)).tobytes()
    else:
        data = np.arange(12, dtype=np.float32).tobytes()
        minidl.save([minidl.from_numpy(np.arange(12, dtype=np.float32))], path)
    raw = bytearray(path.read_bytes())
    raw[raw.find(data) + 21] ^= 0x04  # one bit of element 5
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=r"flip\.pth.*fails its CRC-32 check"):
        minidl.load(path)


def test_plain_pickles_are_not_loaded(tmp_path) -> None:
    (tmp_path / "p.pkl").write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(CheckpointError, match="not one written by torch.save"):
        minidl.load(tmp_path / "p.pkl")


# --------------------------------------------------------------------------------------- files written by torch
FORMATS = ["zip", "legacy"]


def _torch_save(obj, path, fmt: str):
    torch.save(obj, path, _use_new_zipfile_serialization=fmt == "zip")
    return path


def _torch_net():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                              torch.nn.Flatten(), torch.nn.Linear(100, 3))
    net(torch.randn(6, 3, 5, 5))  # train mode: running statistics and num_batches_tracked move
    return net


def _assert_matches_torch(got, want) -> None:
    """``got`` (from minidl.load) holds exactly ``want`` (a torch object): tensors as minidl tensors with the
    same values and dtype (half precision up-cast to float32), Parameters as Parameters, containers alike."""
    if isinstance(want, torch.Tensor):
        assert isinstance(got, minidl.Tensor)
        assert isinstance(got, nn.Parameter) == isinstance(want, torch.nn.Parameter)
        assert got.requires_grad == want.requires_grad
        ref = want.detach().resolve_conj().resolve_neg()
        ref = ref.float() if ref.dtype in (torch.float16, torch.bfloat16) else ref
        arr = got.detach().numpy()
        assert (arr.dtype, arr.shape) == (ref.numpy().dtype, tuple(ref.shape))
        assert np.array_equal(arr, ref.numpy(), equal_nan=True)
    elif isinstance(want, torch.device):
        assert isinstance(got, minidl.device) and (got.type, got.index) == (want.type, want.index)
    elif isinstance(want, torch.dtype):
        assert got is getattr(minidl, str(want).removeprefix("torch."))
    elif isinstance(want, dict):
        assert type(got) is type(want) and list(got) == list(want)
        for k in want:
            _assert_matches_torch(got[k], want[k])
    elif isinstance(want, list | tuple):
        assert type(got) is (minidl.Size if isinstance(want, torch.Size) else type(want)) and len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _assert_matches_torch(g, w)
    else:
        assert type(got) is type(want) and got == want


def _torch_optimizer_states():
    net = _torch_net()
    states = {}
    for name, make in (("sgd", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
                       ("adam", lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99)))):
        opt = make(net.parameters())
        for _ in range(2):
            opt.zero_grad()
            net(torch.randn(6, 3, 5, 5)).abs().sum().backward()
            opt.step()
        states[name] = opt.state_dict()
    return net, states


def _with_attribute(t):
    """``t`` carrying a Python attribute, which torch pickles through _rebuild_parameter_with_state (a
    Parameter) or _rebuild_from_type_v2 (a tensor); minidl keeps the tensor and drops the attribute."""
    t.note = "extra"
    return t


@requires_torch
@pytest.mark.parametrize("fmt", FORMATS)
def test_torch_state_dicts_and_checkpoints_load_exactly(tmp_path, fmt) -> None:
    net, opts = _torch_optimizer_states()
    objects = {
        "state_dict": net.state_dict(),
        "sgd": opts["sgd"],
        "adam": opts["adam"],
        "checkpoint": {"epoch": 3, "model": net.state_dict(), "optimizer": opts["adam"], "loss": 0.25,
                       "tags": ("a", None, True), "shape": torch.Size([2, 3]), "device": torch.device("cuda", 1),
                       "dtypes": [torch.float16, torch.bfloat16, torch.int64, torch.bool]},
        "tensor": torch.randn(4, 5),
        "parameter": net[0].weight,
        "list": [torch.ones(2, dtype=torch.int64), torch.zeros(())],
        "plain values": {"bytes": b"\x00\xffraw", "set": {1, 2}, "complex": 1 - 2j, "big": 2**80, "nan": 1e308},
        "requires grad": torch.randn(3, requires_grad=True),
        "attributes": [_with_attribute(torch.nn.Parameter(torch.ones(2))), _with_attribute(torch.zeros(3))],
    }
    for name, obj in objects.items():
        got = minidl.load(_torch_save(obj, tmp_path / f"{name}.pth", fmt))
        _assert_matches_torch(got, obj)
    sd = minidl.load(tmp_path / "state_dict.pth")
    assert sd["1.num_batches_tracked"].dtype == np.int64 and sd["1.num_batches_tracked"].item() == 5
    assert hasattr(sd, "_metadata")  # the state dict's version record, which torch's load_state_dict reads


@requires_torch
@pytest.mark.parametrize("fmt", FORMATS)
def test_views_offsets_and_shared_storages(tmp_path, fmt) -> None:
    base = torch.arange(60, dtype=torch.float32).reshape(6, 10)
    obj = {"base": base, "slice": base[1:5, 2:9:3], "transpose": base.t(), "row": base[4],
           "expanded": torch.arange(3.0).reshape(3, 1).expand(3, 4), "scalar": base[2, 3], "empty": base[:0]}
    got = minidl.load(_torch_save(obj, tmp_path / "views.pth", fmt))
    _assert_matches_torch(got, obj)
    arrays = {k: v.numpy() for k, v in got.items()}
    assert arrays["transpose"].strides == (4, 40)  # strides kept, as torch.load keeps them
    for view in ("slice", "transpose", "row"):  # one storage in the file: one memory after loading, as in torch
        assert np.shares_memory(arrays[view], arrays["base"])
    arrays["base"][4, 0] = -1.0
    assert arrays["row"][0] == -1.0 and arrays["transpose"][0, 4] == -1.0
    expanded = arrays["expanded"]  # stride 0 in the file: copied, so its elements are independent
    expanded[1, 0] = 7.0
    assert expanded[1].tolist() == [7.0, 1.0, 1.0, 1.0]


@requires_torch
@pytest.mark.parametrize("fmt", FORMATS)
def test_dtypes(tmp_path, fmt) -> None:
    g = torch.Generator().manual_seed(0)
    vals = torch.randn(5, generator=g) * 100
    obj = {"float64": vals.double(), "float16": vals.half(), "bfloat16": vals.bfloat16(),
           "special": torch.tensor([float("nan"), float("inf"), -0.0, 1e-30]).bfloat16(),
           "int64": vals.long(), "int32": vals.int(), "int16": vals.short(), "int8": (vals / 10).to(torch.int8),
           "uint8": vals.abs().to(torch.uint8), "bool": vals > 0,
           "neg view": torch.complex(vals, vals / 3).conj().imag}
    assert obj["neg view"].is_neg()  # saved as a view with the neg bit set
    path = _torch_save(obj, tmp_path / "dtypes.pth", fmt)
    with pytest.warns(UserWarning, match=r"up-cast 2 bfloat16 and 1 float16 tensor\(s\) to float32") as note:
        got = minidl.load(path)
    assert len(note) == 1 and note[0].filename == __file__  # one note, pointing at the caller's line
    _assert_matches_torch(got, obj)
    assert np.signbit(got["special"].numpy()[2])  # -0.0 keeps its sign through the bfloat16 decoding


def _minidl_has(dtype) -> bool:
    try:
        minidl.from_numpy(np.zeros(1, dtype))
    except TypeError:
        return False
    return True


@requires_torch
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", ["complex64", "uint16"])
def test_dtypes_minidl_may_lack_load_exactly_or_say_so(tmp_path, fmt, dtype) -> None:
    vals = torch.arange(6.0) - 2
    obj = {"uint16": {"u": vals.abs().to(torch.uint16)},  # a _rebuild_tensor_v3 tensor (no storage class)
           "complex64": {"z": torch.complex(vals, -vals), "conj view": torch.complex(vals, vals / 3).conj()}}[dtype]
    path = _torch_save(obj, tmp_path / "odd.pth", fmt)
    if _minidl_has(dtype):
        _assert_matches_torch(minidl.load(path), obj)
    else:
        with pytest.raises(CheckpointError, match=rf"odd\.pth.*holds a {dtype} tensor, which minidl cannot"):
            minidl.load(path)


@requires_torch
@pytest.mark.parametrize("fmt", [*FORMATS, "safetensors"])
def test_torch_weights_run_in_the_matching_minidl_model(tmp_path, fmt) -> None:
    net = _torch_net().eval()
    path = tmp_path / "weights"
    if fmt == "safetensors":
        from safetensors.torch import save_file

        save_file(net.state_dict(), path)
    else:
        _torch_save(net.state_dict(), path, fmt)
    mine = _minidl_net()
    mine.load_state_dict(minidl.load(path))
    mine.eval()
    x = torch.randn(4, 3, 5, 5)
    with torch.no_grad():
        want = net(x).numpy()
    got = mine(minidl.from_numpy(x.numpy())).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@requires_torch
def test_minidl_weights_run_in_the_matching_torch_model(tmp_path) -> None:
    from safetensors.torch import load_file

    mine, _ = _trained_minidl_net()
    minidl.save(mine.state_dict(), tmp_path / "w.pth")
    net = _torch_net()
    net.load_state_dict(load_file(tmp_path / "w.pth"))  # strict: every key, shape and dtype fits
    net.eval(), mine.eval()
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5)).astype(np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(mine(minidl.from_numpy(x)).detach().numpy(), want, rtol=1e-5, atol=1e-5)


@requires_torch
def test_safetensors_from_torch_with_half_precision(tmp_path) -> None:
    from safetensors.torch import save_file

    tensors = {"h": torch.randn(3, 2).half(), "b": torch.randn(4).bfloat16(), "i": torch.arange(3),
               "flag": torch.tensor([True, False])}
    save_file(tensors, tmp_path / "t.safetensors")
    with pytest.warns(UserWarning, match="up-cast 1 bfloat16 and 1 float16") as note:
        got = minidl.load(tmp_path / "t.safetensors")
    assert len(note) == 1 and note[0].filename == __file__
    _assert_matches_torch(dict(sorted(got.items())), dict(sorted(tensors.items())))


def _torch_optimizer(name: str, params):
    if name == "sgd":
        return torch.optim.SGD(params, lr=0.1, momentum=0.9)
    return torch.optim.Adam(params, lr=0.01)


def _minidl_optimizer(name: str, params):
    return optim.SGD(params, lr=0.1, momentum=0.9) if name == "sgd" else optim.Adam(params, lr=0.01)


def _two_steps_apart(name: str, tmp_path, convert) -> None:
    """A torch model and optimizer take a step and are saved; minidl loads both and takes the next step
    alongside torch: the weights must agree."""
    torch.manual_seed(0)
    tnet = torch.nn.Linear(4, 3)
    topt = _torch_optimizer(name, tnet.parameters())
    x = torch.randn(8, 4)
    tnet(x).abs().sum().backward()
    topt.step()
    _torch_save({"model": tnet.state_dict(), "optimizer": topt.state_dict()}, tmp_path / "c.pth", "zip")
    ckpt = minidl.load(tmp_path / "c.pth")
    mnet = nn.Linear(4, 3)
    mnet.load_state_dict(ckpt["model"])
    mopt = _minidl_optimizer(name, mnet.parameters())
    mopt.load_state_dict(convert(ckpt["optimizer"]))
    for opt, loss in ((topt, lambda: tnet(x).abs().sum()),
                      (mopt, lambda: mnet(minidl.from_numpy(x.numpy())).abs().sum())):
        opt.zero_grad()
        loss().backward()
        opt.step()
    np.testing.assert_allclose(mnet.weight.detach().numpy(), tnet.weight.detach().numpy(), rtol=1e-6, atol=1e-7)


@requires_torch
@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_torch_optimizer_state_continues_training_in_minidl(tmp_path, name) -> None:
    """torch's optimizer state as read (tensors, a 0-d float ``step``) loads into minidl's optimizer."""
    _two_steps_apart(name, tmp_path, lambda osd: osd)


@requires_torch
@pytest.mark.parametrize("fmt", FORMATS)
def test_map_location_forms(tmp_path, fmt, monkeypatch) -> None:
    obj = {"w": torch.randn(3), "b": torch.ones(2)}
    path = _torch_save(obj, tmp_path / "cpu.pth", fmt)
    for where in ("cpu", torch.device("cpu"), {"cuda:0": "cpu"}, lambda s, loc: s, lambda s, loc: None):
        _assert_matches_torch(minidl.load(path, map_location=where), obj)
    with pytest.raises(DeviceError, match="CPU only"):
        minidl.load(path, map_location=torch.device("cuda", 0))
    with pytest.raises(DeviceError, match="CPU only"):
        minidl.load(path, map_location=lambda storage, loc: storage.cuda())
    # a file saved from a GPU (its storages' location tag says cuda:0): torch needs map_location='cpu'
    monkeypatch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
    gpu = _torch_save(obj, tmp_path / "gpu.pth", fmt)
    monkeypatch.undo()
    seen = []
    _assert_matches_torch(minidl.load(gpu, map_location=lambda s, loc: seen.append(loc)), obj)
    assert seen == ["cuda:0", "cuda:0"]
    _assert_matches_torch(minidl.load(gpu), torch.load(gpu, map_location="cpu"))


@requires_torch
def test_mmap_maps_zip_storages_copy_on_write(tmp_path) -> None:
    obj = {"w": torch.randn(100, 10), "i": torch.arange(7)}
    path = _torch_save(obj, tmp_path / "m.pth", "zip")
    before = path.read_bytes()
    got = minidl.load(path, mmap=True)
    _assert_matches_torch(got, obj)
    got["w"].numpy()[...] = 0.0  # private to this process: the file is unchanged
    assert path.read_bytes() == before


@requires_torch
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("call", ["system", "exec", "open"])
def test_malicious_torch_files_are_refused_and_nothing_runs(tmp_path, fmt, call) -> None:
    target = tmp_path / "pwned.txt"
    fn, arg = {"system": (os.system, f"touch {target}"), "exec": (exec, f"open({str(target)!r}, 'w').close()"),
               "open": (open, str(target))}[call]

    class Payload:
        def __reduce__(self):
            return fn, (arg,) if call != "open" else (arg, "w")

    path = _torch_save({"weight": torch.ones(2), "payload": Payload()}, tmp_path / "evil.pth", fmt)
    with pytest.raises(CheckpointError, match=rf"evil\.pth.*refused: the file contains pickled object "
                                              rf"{fn.__module__}\.{fn.__name__}; minidl never runs code"):
        minidl.load(path)
    assert not target.exists()
    torch.load(path, weights_only=False)  # the oracle: an unrestricted unpickler does run the payload
    assert target.exists()


@requires_torch
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("what", ["module", "numpy"])
def test_refusals_of_common_objects_give_advice(tmp_path, fmt, what) -> None:
    obj, advice = {
        "module": (torch.nn.Linear(2, 2), r"torch\.nn\.modules\.linear\.Linear.*save and load its state_dict\(\)"),
        "numpy": ({"best": np.float64(0.5)}, r"numpy\..*a NumPy object inside a PyTorch file"),
    }[what]
    with pytest.raises(CheckpointError, match=advice):
        minidl.load(_torch_save(obj, tmp_path / "x.pth", fmt))


@requires_torch
@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_torch_files(tmp_path, fmt) -> None:
    whole = _torch_save({"w": torch.randn(1000)}, tmp_path / "whole.pth", fmt).read_bytes()
    cut = tmp_path / "cut.pth"
    cut.write_bytes(whole[: len(whole) - 100])
    with pytest.raises(CheckpointError, match=r"cut\.pth.*corrupt or truncated"):
        minidl.load(cut)


def _as_python2(data: bytes) -> bytes:
    """The pickle ``data`` with its strings as Python 2 wrote them (SHORT_BINSTRING, bytes, not unicode)."""
    ops = list(pickletools.genops(data))
    out = bytearray()
    for (op, arg, pos), (_, _, end) in zip(ops, [*ops[1:], (None, None, len(data))], strict=True):
        short_ascii = op.name == "BINUNICODE" and arg.isascii() and len(arg) < 256
        out += b"U" + bytes([len(arg)]) + arg.encode() if short_ascii else data[pos:end]
    return bytes(out)


def _legacy_2017_file(path, values: np.ndarray) -> None:
    """A legacy file as torch < 0.4 wrote it under Python 2: tensors rebuilt by ``torch._utils._rebuild_tensor``
    (v1), a storage view (the persistent id's sixth field) and byte strings, all of which torch.load reads."""

    class Storage:  # a stand-in pickled as a persistent id
        def __init__(self, view):
            self.view = view

    class Rebuild:
        def __init__(self, storage, offset, size, stride):
            self.args = (storage, offset, size, stride)

        def __reduce__(self):
            return torch._utils._rebuild_tensor, self.args

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return "storage", torch.FloatStorage, "root", "cpu", values.size, obj.view

    whole, view = Storage(None), Storage(("view", 2, 6))  # elements 2..7 of the root storage
    state = OrderedDict([("weight", Rebuild(whole, 0, (2, 5), (5, 1))), ("tail", Rebuild(view, 1, (2, 2), (1, 2)))])
    body = io.BytesIO()
    Pickler(body, protocol=2).dump(state)
    with open(path, "wb") as f:
        for header in (MAGIC, PROTOCOL, SYS_INFO):
            pickle.dump(header, f, protocol=2)
        f.write(_as_python2(body.getvalue()) + _as_python2(pickle.dumps(["root"], protocol=2)))
        f.write(np.int64(values.size).tobytes() + values.astype("<f4").tobytes())


@requires_torch
def test_legacy_files_of_old_torch_versions(tmp_path) -> None:
    path = tmp_path / "old.pth"
    _legacy_2017_file(path, np.arange(10, dtype=np.float32))
    assert b"U\x06weight" in path.read_bytes()  # a Python 2 byte string
    want = torch.load(path)  # torch itself is the oracle for what this layout means
    _assert_matches_torch(minidl.load(path), want)
    assert minidl.load(path)["tail"].numpy().tolist() == [[3.0, 5.0], [4.0, 6.0]]


_READ_WITHOUT_TORCH = """
import json, sys
sys.modules["torch"] = None  # importing torch now fails
import numpy as np
import minidl
out = {}
for path in sys.argv[1:]:
    obj = minidl.load(path)
    out[path] = {k: [str(np.asarray(v).dtype), np.asarray(v).tolist()] for k, v in obj.items()}
assert sys.modules["torch"] is None and not any(m.startswith("torch.") for m in sys.modules)
print(json.dumps(out))
"""


@requires_torch
def test_torch_files_are_read_without_torch(tmp_path) -> None:
    from safetensors.torch import save_file

    sd = _torch_net().state_dict()
    paths = [str(_torch_save(sd, tmp_path / f"{fmt}.pth", fmt)) for fmt in FORMATS]
    save_file(sd, tmp_path / "w.safetensors")
    paths.append(str(tmp_path / "w.safetensors"))
    run = subprocess.run([sys.executable, "-c", _READ_WITHOUT_TORCH, *paths], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stderr
    read = json.loads(run.stdout)
    for path in paths:
        assert set(read[path]) == set(sd)
        for k, v in sd.items():
            assert read[path][k] == [str(v.numpy().dtype), v.numpy().tolist()]
