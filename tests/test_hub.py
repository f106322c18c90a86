"""minidl.hub: published weights by name, downloaded only from a local HTTP server on 127.0.0.1 (never from
the internet), verified against the SHA-256 prefix in the file name, written atomically; local files."""

from __future__ import annotations

import dataclasses
import hashlib
import io

import numpy as np
import pytest

import minidl
from conftest import requires_torch, torch
from minidl import hub, models
from minidl.datasets.download import DownloadError
from minidl.models.weights import get_weights


@pytest.fixture(autouse=True)
def _isolated_caches(tmp_path, monkeypatch):
    """Every cache the hub looks in points into this test's folder."""
    monkeypatch.setenv("MINIDL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("MINIDL_WEIGHTS_MIRROR", raising=False)
    hub.set_dir(None)


def _published(tmp_path):
    """A squeezenet1_1 state dict saved as torch.save would, and a table entry naming it as torchvision
    names its files (the SHA-256 prefix after the last '-')."""
    model = models.squeezenet1_1(num_classes=1000)
    blob = io.BytesIO()
    minidl.save(model.state_dict(), blob)
    data = blob.getvalue()
    prefix = hashlib.sha256(data).hexdigest()[:8]
    return model, data, prefix


def _entry(url, prefix):
    return dataclasses.replace(get_weights("squeezenet1_1"), url=f"{url}/models/squeezenet1_1-{prefix}.pth")


def test_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    assert hub.get_dir() == tmp_path / "cache" / "weights"
    monkeypatch.delenv("MINIDL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.get_dir() == tmp_path / "xdg" / "minidl" / "weights"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert hub.get_dir() == __import__("pathlib").Path.home() / ".cache" / "minidl" / "weights"
    hub.set_dir(tmp_path / "mine")
    assert hub.get_dir() == tmp_path / "mine"
    assert hub.torch_cache_dir() == tmp_path / "torch" / "hub" / "checkpoints"


def test_download_verifies_and_is_cached(tmp_path, http_server):
    model, data, prefix = _published(tmp_path)
    entry = _entry(http_server.url, prefix)
    http_server.routes[f"/models/{entry.file_name}"] = data
    state = hub.load_weights(entry, progress=False)
    target = tmp_path / "cache" / "weights" / entry.file_name
    assert target.read_bytes() == data
    assert sorted(p.name for p in target.parent.iterdir()) == [entry.file_name]  # no temporary file left
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(state[key].numpy(), value.numpy())
    n = len(http_server.log)
    built = models.squeezenet1_1(weights=entry, progress=False)  # the zoo function, from the cache
    assert len(http_server.log) == n
    np.testing.assert_array_equal(built.features[0].weight.detach().numpy(), model.features[0].weight.detach().numpy())


def test_checksum_mismatch_fails_and_leaves_nothing(tmp_path, http_server):
    _, data, prefix = _published(tmp_path)
    entry = _entry(http_server.url, prefix)
    http_server.routes[f"/models/{entry.file_name}"] = data[:-1] + bytes([data[-1] ^ 1])  # one bit flipped
    with pytest.raises(DownloadError, match=f"SHA256 mismatch: expected {prefix}... \\(a prefix\\)"):
        hub.load_weights(entry, progress=False)
    folder = tmp_path / "cache" / "weights"
    assert list(folder.iterdir()) == []


def test_the_official_entry_rejects_a_file_that_is_not_torchvisions(tmp_path, http_server):
    """The real table entry, served from a local mirror: the file must hash to the official prefix."""
    _, data, _ = _published(tmp_path)
    entry = get_weights("squeezenet1_1")
    http_server.routes["/mirror/squeezenet1_1-b8a52dc0.pth"] = data
    with pytest.raises(DownloadError, match="expected b8a52dc0"):
        hub.load_weights("squeezenet1_1", progress=False, mirrors=[http_server.url + "/mirror"])
    assert http_server.log == ["/mirror/squeezenet1_1-b8a52dc0.pth"] and entry.file_name in http_server.log[0]


def test_interrupted_transfer_fails_and_leaves_nothing(tmp_path, http_server):
    _, data, prefix = _published(tmp_path)
    entry = _entry(http_server.url, prefix)

    def cut(handler):  # announces the whole file, sends a third of it, then the connection closes
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data[:len(data) // 3])
        handler.close_connection = True

    http_server.routes[f"/models/{entry.file_name}"] = cut
    with pytest.raises(DownloadError, match="truncated download"):
        hub.load_weights(entry, progress=False)
    assert list((tmp_path / "cache" / "weights").iterdir()) == []


def test_mirror_environment_and_fallback(tmp_path, http_server, monkeypatch):
    _, data, prefix = _published(tmp_path)
    entry = _entry(http_server.url, prefix)
    http_server.routes[f"/models/{entry.file_name}"] = data
    monkeypatch.setenv("MINIDL_WEIGHTS_MIRROR", http_server.url + "/missing")
    hub.load_weights(entry, progress=False)
    assert http_server.log == [f"/missing/{entry.file_name}", f"/models/{entry.file_name}"]


def test_a_verified_file_in_torchs_cache_is_used(tmp_path, http_server):
    _, data, prefix = _published(tmp_path)
    entry = _entry(http_server.url, prefix)
    theirs = tmp_path / "torch" / "hub" / "checkpoints"
    theirs.mkdir(parents=True)
    (theirs / entry.file_name).write_bytes(data)
    hub.load_weights(entry, progress=False)
    assert http_server.log == []
    (theirs / entry.file_name).write_bytes(data[:-10])  # a damaged copy is not used
    http_server.routes[f"/models/{entry.file_name}"] = data
    hub.load_weights(entry, progress=False)
    assert http_server.log == [f"/models/{entry.file_name}"]


def test_offline_error_names_the_address(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    entry = _entry(f"http://127.0.0.1:{port}", "0" * 8)
    with pytest.raises(DownloadError, match=f"127.0.0.1:{port}/models/squeezenet1_1-00000000.pth"):
        hub.load_weights(entry, progress=False)


def test_local_files_in_every_format(tmp_path):
    model = models.resnet18(num_classes=3)
    state = model.state_dict()
    st, npz, ckpt = tmp_path / "w.safetensors", tmp_path / "w.npz", tmp_path / "run.ckpt"
    minidl.save(state, st)
    np.savez(npz, **{k: v.numpy() for k, v in state.items()})
    minidl.save({"epoch": 3, "model": state}, ckpt)
    for path in (st, npz, str(ckpt)):
        loaded = hub.load_weights(path)
        assert list(loaded) == list(state)
        np.testing.assert_array_equal(loaded["fc.weight"].numpy(), state["fc.weight"].numpy())
    minidl.save({"epoch": 3}, tmp_path / "bad.ckpt")
    with pytest.raises(minidl.errors.CheckpointError, match="not a state dict"):
        hub.load_weights(tmp_path / "bad.ckpt")
    with pytest.raises(FileNotFoundError):
        hub.load_weights("no/such/file.pth")
    with pytest.raises(ValueError, match="unknown weights 'resnet99'"):
        hub.load_weights("resnet99")


@requires_torch
def test_torch_save_file_of_torchvision_layout(tmp_path):
    """A .pth as torchvision publishes it (torch.save of a state dict) loads with no torch at load time."""
    from torch_zoo import TORCH_MODELS

    tmodel = TORCH_MODELS["squeezenet1_1"][0]()
    path = tmp_path / "squeezenet1_1-local.pth"
    torch.save(tmodel.state_dict(), path)
    model = models.squeezenet1_1(weights=path)
    assert model.num_classes == 1000
    np.testing.assert_array_equal(model.classifier[1].bias.detach().numpy(), tmodel.classifier[1].bias.detach().numpy())
