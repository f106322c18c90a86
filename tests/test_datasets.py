"""minidl.datasets: IDX parsing, MNIST-style and CIFAR-10 loading, downloads against a local HTTP server,
ImageFolder, the embedded Fashion-MNIST subset, toy sets and the registry."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import json
import shutil
import socket
import struct
import sys
import tarfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import minidl
from minidl import datasets as D
from minidl import transforms as T
from minidl.datasets import embedded
from minidl.datasets.download import ChecksumError, DownloadError, download_url, safe_extract_tar
from minidl.utils.data import DataLoader

FULL_FASHION = Path("/usr/share/datasets/fashion-mnist")
CIFAR_JPG = Path("/work/shared/datasets/cifar10-jpg")
has_full_fashion = pytest.mark.skipif(
    not (FULL_FASHION / "train-images-idx3-ubyte.gz").is_file(),
    reason="Debian's dataset-fashion-mnist is not installed",
)


@pytest.fixture(autouse=True)
def _isolated_data_roots(tmp_path, monkeypatch):
    """Keep the tests away from the user's ~/.cache/minidl and $MINIDL_DATA."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MINIDL_DATA", raising=False)


def idx_bytes(arr: np.ndarray, code: int) -> bytes:
    """An IDX file built by hand with struct (independent of minidl's writer)."""
    fmt = {0x08: "B", 0x09: "b", 0x0B: ">h", 0x0C: ">i", 0x0D: ">f", 0x0E: ">d"}[code]
    header = struct.pack(">BBBB", 0, 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(np.dtype(fmt)).tobytes()


def write_mnist_split(folder: Path, prefix: str, images: np.ndarray, labels: np.ndarray) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        f"{prefix}-images-idx3-ubyte.gz": gzip.compress(idx_bytes(images, 0x08)),
        f"{prefix}-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(labels, 0x08)),
    }
    for name, blob in files.items():
        (folder / name).write_bytes(blob)
    return files


@pytest.fixture
def fake_mnist(rng):
    images = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=12).astype(np.uint8)
    return images, labels


# ----------------------------------------------------------------------------------------- IDX
@pytest.mark.parametrize(
    ("dtype", "code"),
    [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B), (np.int32, 0x0C), (np.float32, 0x0D),
     (np.float64, 0x0E)],
)
@pytest.mark.parametrize("compress", [False, True])
def test_idx_reads_hand_built_files_and_writes_the_same_bytes(tmp_path, rng, dtype, code, compress):
    arr = (rng.standard_normal((3, 4, 2)) * 50).astype(dtype)
    raw = idx_bytes(arr, code)
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    got = D.read_idx(path)
    assert got.dtype == np.dtype(dtype).newbyteorder("=") and got.shape == (3, 4, 2)
    np.testing.assert_array_equal(got, arr)
    out = D.write_idx(tmp_path / ("b.idx.gz" if compress else "b.idx"), arr)
    written = out.read_bytes()
    assert (gzip.decompress(written) if compress else written) == raw


def test_idx_writer_is_deterministic_and_leaves_no_temp(tmp_path):
    arr = np.arange(100, dtype=np.uint8).reshape(10, 10)
    a = D.write_idx(tmp_path / "a.gz", arr).read_bytes()
    time.sleep(0.01)
    b = D.write_idx(tmp_path / "b.gz", arr).read_bytes()
    assert a == b and sorted(p.name for p in tmp_path.iterdir()) == ["a.gz", "b.gz"]
    with pytest.raises(TypeError, match="no IDX type"):
        D.write_idx(tmp_path / "c.gz", np.zeros(2, dtype=np.int64))


@pytest.mark.parametrize(
    ("blob", "match"),
    [
        (b"\x00\x00", "shorter than the 4-byte magic"),
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "bad IDX magic number 0x01000801"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "bad IDX magic number"),
        (b"\x00\x00\x08\x02" + struct.pack(">I", 2), "truncated IDX header"),
        (b"\x00\x00\x08\x02" + struct.pack(">II", 2, 3) + b"\x00" * 5,
         r"dims \(2, 3\).*6 bytes.*holds 5 bytes"),
        (gzip.compress(idx_bytes(np.zeros(40, np.uint8), 0x08))[:-12], "corrupt or truncated gzip"),
    ],
)
def test_idx_rejects_corrupt_files_naming_them(tmp_path, blob, match):
    path = tmp_path / "broken-idx1-ubyte.gz"
    path.write_bytes(blob)
    with pytest.raises(ValueError, match=match) as err:
        D.read_idx(path)
    assert str(path) in str(err.value)


def test_idx_checks_expected_ndim_and_dtype(tmp_path):
    path = tmp_path / "x.idx"
    path.write_bytes(idx_bytes(np.zeros((2, 2), np.int32), 0x0C))
    with pytest.raises(ValueError, match="expected an IDX array with 3 dimensions"):
        D.read_idx(path, ndim=3)
    with pytest.raises(ValueError, match="expected IDX values of type uint8, got int32"):
        D.read_idx(path, dtype=np.uint8)


# ----------------------------------------------------------------------------------------- MNIST from disk
def test_mnist_reads_local_files(tmp_path, fake_mnist):
    images, labels = fake_mnist
    write_mnist_split(tmp_path / "mnist", "t10k", images, labels)
    ds = D.MNIST(tmp_path, train=False, download=False)
    assert ds.root == tmp_path / "mnist" and len(ds) == 12
    np.testing.assert_array_equal(ds.data, images)
    assert ds.targets.dtype == np.int64 and ds.targets.tolist() == labels.tolist()
    img, label = ds[4]
    assert img.dtype == np.float32 and img.shape == (1, 28, 28) and isinstance(label, int)
    np.testing.assert_allclose(img[0], images[4] / 255.0, rtol=1e-6)
    assert label == labels[4]
    x, y = ds.arrays()
    assert x.shape == (12, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    assert ds.class_to_idx["3 - three"] == 3 and not ds.data.flags.writeable


def test_mnist_loader_fast_path_with_transforms(tmp_path, fake_mnist):
    images, labels = fake_mnist
    write_mnist_split(tmp_path, "train", images, labels)  # files directly in root work too
    pipeline = T.Compose([T.ToTensor(), T.Normalize(0.5, 0.25), T.Flatten()])
    ds = D.MNIST(tmp_path, transform=pipeline, target_transform=T.EvenOdd(), download=False)
    fast = list(DataLoader(ds, batch_size=5))
    slow = list(DataLoader(ds, batch_size=5, collate_fn=lambda b: minidl.utils.data.default_collate(b)))
    for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
        assert xf.dtype == xs.dtype == np.float32 and xf.shape[1] == 784
        np.testing.assert_array_equal(xf.data, xs.data)
        np.testing.assert_array_equal(yf.data, ys.data)
    np.testing.assert_array_equal(np.concatenate([b[1].data for b in fast]), labels % 2)


def test_mnist_search_order_prefers_named_folder_then_env(tmp_path, monkeypatch, fake_mnist):
    images, labels = fake_mnist
    write_mnist_split(tmp_path / "root", "t10k", images[:3], labels[:3])
    write_mnist_split(tmp_path / "root" / "mnist", "t10k", images[:5], labels[:5])
    assert len(D.MNIST(tmp_path / "root", train=False, download=False)) == 5
    write_mnist_split(tmp_path / "env" / "mnist", "t10k", images[:7], labels[:7])
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "env"))
    assert len(D.MNIST(tmp_path / "empty", train=False, download=False)) == 7
    assert len(D.MNIST(train=False, download=False)) == 7
    write_mnist_split(tmp_path / "tv" / "MNIST" / "raw", "t10k", images[:2], labels[:2])  # torchvision layout
    assert len(D.MNIST(tmp_path / "tv", train=False, download=False)) == 2


def test_missing_files_list_every_folder_looked_in(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError) as err:
        D.MNIST(tmp_path / "nowhere", download=False)
    msg = str(err.value)
    home_cache = tmp_path / "home" / ".cache" / "minidl" / "mnist"
    for where in [tmp_path / "nowhere" / "mnist", tmp_path / "env" / "mnist", home_cache]:
        assert str(where) in msg
    assert "/usr/share/datasets/mnist" in msg and "train-images-idx3-ubyte.gz" in msg


def test_mismatched_images_and_labels_and_bad_labels(tmp_path, fake_mnist):
    images, labels = fake_mnist
    write_mnist_split(tmp_path, "t10k", images, labels[:5])
    with pytest.raises(ValueError, match="12 images but.*5 labels"):
        D.MNIST(tmp_path, train=False, download=False)
    bad = labels.copy()
    bad[0] = 10
    write_mnist_split(tmp_path, "t10k", images, bad)
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.gz.*labels must lie in \[0, 10\)"):
        D.MNIST(tmp_path, train=False, download=False)


# ----------------------------------------------------------------------------------------- downloads
@pytest.fixture
def http_server():
    """A local HTTP server: ``routes`` maps a path to bytes or to a handler function."""
    routes: dict = {}
    log: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            log.append(self.path)
            body = routes.get(self.path)
            if body is None:
                self.send_error(404)
            elif callable(body):
                body(self)
            else:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", routes=routes, log=log)
    finally:
        server.shutdown()
        server.server_close()


def _fake_class(base, name: str, **attrs):
    return type(f"Fake{base.__name__}", (base,), {"name": name, **attrs})


def _sha(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def test_download_success_verifies_sha256(tmp_path, http_server, fake_mnist):
    images, labels = fake_mnist
    files = write_mnist_split(tmp_path / "served", "train", images, labels)
    for name, blob in files.items():
        http_server.routes[f"/m/{name}"] = blob
    Fake = _fake_class(
        D.MNIST, "fake-mnist", mirrors=[http_server.url + "/m/"],
        resources=[(n, _sha(b)) for n, b in files.items()],
    )
    ds = Fake(tmp_path / "data", train=True, download=True)
    assert ds.root == tmp_path / "data" / "fake-mnist"
    np.testing.assert_array_equal(ds.data, images)
    assert sorted(p.name for p in ds.root.iterdir()) == sorted(files)
    n_requests = len(http_server.log)
    Fake(tmp_path / "data", train=True, download=True)  # already there: no new request
    assert len(http_server.log) == n_requests


def test_download_sha_mismatch_fails_and_leaves_nothing(tmp_path, http_server, fake_mnist):
    images, labels = fake_mnist
    files = write_mnist_split(tmp_path / "served", "train", images, labels)
    for name, blob in files.items():
        http_server.routes[f"/m/{name}"] = blob
    Fake = _fake_class(D.MNIST, "fake-mnist", mirrors=[http_server.url + "/m/"],
                       resources=[(n, "0" * 64) for n in files])
    with pytest.raises(DownloadError, match="SHA256 mismatch: expected 0{64}"):
        Fake(tmp_path / "data", download=True)
    assert list((tmp_path / "data" / "fake-mnist").iterdir()) == []


def test_download_falls_back_to_the_next_mirror(tmp_path, http_server, fake_mnist):
    images, labels = fake_mnist
    files = write_mnist_split(tmp_path / "served", "t10k", images, labels)
    for name, blob in files.items():
        http_server.routes[f"/good/{name}"] = blob
    md5s = [(n, "md5:" + hashlib.md5(b).hexdigest()) for n, b in files.items()]  # the MD5 form works too
    Fake = _fake_class(D.MNIST, "fake-mnist", mirrors=[http_server.url + "/bad", http_server.url + "/good/"],
                       resources=md5s)
    ds = Fake(tmp_path / "data", train=False, download=True)
    np.testing.assert_array_equal(ds.data, images)
    name = "t10k-images-idx3-ubyte.gz"
    assert http_server.log.index(f"/bad/{name}") < http_server.log.index(f"/good/{name}")


def test_download_offline_error_names_the_urls(tmp_path):
    with socket.socket() as s:  # a port on which nobody listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    Fake = _fake_class(D.MNIST, "fake-mnist", mirrors=[f"http://127.0.0.1:{port}/"])
    match = rf"(?s)could not download train-images.*127.0.0.1:{port}/train-images"
    with pytest.raises(DownloadError, match=match):
        Fake(tmp_path, download=True)


def test_download_is_atomic(tmp_path, http_server):
    blob = bytes(range(256)) * 400
    release = threading.Event()

    def slow(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(blob)))
        handler.end_headers()
        handler.wfile.write(blob[:1000])
        handler.wfile.flush()
        release.wait(10)
        handler.wfile.write(blob[1000:])

    http_server.routes["/f.bin"] = slow
    dest = tmp_path / "f.bin"
    result = {}
    worker = threading.Thread(
        target=lambda: result.update(path=download_url(http_server.url + "/f.bin", dest, _sha(blob)))
    )
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not list(tmp_path.glob(".f.bin.*.part")) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert list(tmp_path.glob(".f.bin.*.part")), "no temporary file while downloading"
        assert not dest.exists(), "the final name must not exist before the file is complete and verified"
    finally:
        release.set()
        worker.join(10)
    assert result["path"] == dest and dest.read_bytes() == blob
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_truncated_download_is_rejected(tmp_path, http_server):
    def short(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        handler.wfile.write(b"x" * 50)

    http_server.routes["/short"] = short
    with pytest.raises(ChecksumError, match="truncated download"):
        download_url(http_server.url + "/short", tmp_path / "short")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------------------- CIFAR-10
def _cifar_records(rng, n: int) -> tuple[np.ndarray, np.ndarray, bytes]:
    images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    blob = b"".join(bytes([lab]) + img.tobytes() for lab, img in zip(labels, images, strict=True))
    return images, labels, blob


def _cifar_tree(rng, folder: Path) -> dict:
    out = {}
    base = folder / "cifar-10-batches-bin"
    base.mkdir(parents=True)
    for name, n in [*((f"data_batch_{i}.bin", 2 + i) for i in range(1, 6)), ("test_batch.bin", 4)]:
        images, labels, blob = _cifar_records(rng, n)
        (base / name).write_bytes(blob)
        out[name] = (images, labels)
    return out


def test_cifar10_reads_the_binary_format(tmp_path, rng):
    parts = _cifar_tree(rng, tmp_path / "cifar10")
    train = D.CIFAR10(tmp_path)
    images = np.concatenate([parts[f"data_batch_{i}.bin"][0] for i in range(1, 6)])
    labels = np.concatenate([parts[f"data_batch_{i}.bin"][1] for i in range(1, 6)])
    assert len(train) == 3 + 4 + 5 + 6 + 7 and train.data.shape == (25, 32, 32, 3)
    np.testing.assert_array_equal(train.data, images.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(train.targets, labels)
    img, label = train[6]
    assert img.shape == (3, 32, 32) and img.dtype == np.float32 and label == labels[6]
    np.testing.assert_allclose(img, images[6] / 255.0, rtol=1e-6)
    x, _ = train.arrays()
    np.testing.assert_array_equal(x[6], img)
    test = D.CIFAR10(tmp_path, train=False)
    assert len(test) == 4 and test.classes[0] == "airplane" and test.class_to_idx["truck"] == 9
    flip = D.CIFAR10(tmp_path, train=False, transform=T.Compose([T.ToTensor(), T.RandomHorizontalFlip(1.0)]))
    (xb, _), = list(DataLoader(flip, batch_size=4))
    np.testing.assert_array_equal(xb.data, test.arrays()[0][..., ::-1])


def test_cifar10_rejects_corrupt_batches(tmp_path, rng):
    _cifar_tree(rng, tmp_path)
    bad = tmp_path / "cifar-10-batches-bin" / "test_batch.bin"
    bad.write_bytes(bad.read_bytes()[:-1])
    with pytest.raises(ValueError, match=r"test_batch.bin: not a CIFAR-10 binary batch.*3073"):
        D.CIFAR10(tmp_path, train=False)
    _, _, blob = _cifar_records(rng, 2)
    bad.write_bytes(bytes([12]) + blob[1:])
    with pytest.raises(ValueError, match=r"test_batch.bin: corrupt CIFAR-10 batch: label 12"):
        D.CIFAR10(tmp_path, train=False)
    with pytest.raises(FileNotFoundError, match="cifar10"):
        D.CIFAR10(tmp_path / "elsewhere")


def _tar_gz(members: dict[str, bytes], extra=None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if extra is not None:
            tar.addfile(extra)
    return buf.getvalue()


def test_cifar10_download_verifies_and_extracts(tmp_path, rng, http_server):
    tree = tmp_path / "tree"
    parts = _cifar_tree(rng, tree)
    members = {f"cifar-10-batches-bin/{n}": (tree / "cifar-10-batches-bin" / n).read_bytes() for n in parts}
    archive = _tar_gz(members)
    http_server.routes["/kriz/cifar-10-binary.tar.gz"] = archive
    Fake = _fake_class(D.CIFAR10, "fake-cifar", mirrors=[http_server.url + "/kriz/"],
                       archive=("cifar-10-binary.tar.gz", "md5:" + hashlib.md5(archive).hexdigest()))
    ds = Fake(tmp_path / "data", train=False, download=True)
    np.testing.assert_array_equal(ds.data, parts["test_batch.bin"][0].transpose(0, 2, 3, 1))
    assert sorted(p.name for p in ds.root.iterdir()) == ["cifar-10-batches-bin"]  # archive removed
    Bad = _fake_class(D.CIFAR10, "bad-cifar", mirrors=[http_server.url + "/kriz/"],
                      archive=("cifar-10-binary.tar.gz", "md5:" + "0" * 32))
    with pytest.raises(DownloadError, match="MD5 mismatch"):
        Bad(tmp_path / "data", download=True)


@pytest.mark.parametrize(
    "evil", ["../escape.txt", "/tmp/minidl-abs-escape.txt", "a/../../escape.txt", "link"]
)
def test_safe_extract_rejects_escaping_members(tmp_path, evil):
    extra = None
    members = {"ok/file.txt": b"fine"}
    if evil == "link":
        extra = tarfile.TarInfo("ok/link")
        extra.type = tarfile.SYMTYPE
        extra.linkname = "../../etc/passwd"
    else:
        members[evil] = b"evil"
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(_tar_gz(members, extra))
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(ValueError, match="refusing to extract"):
        safe_extract_tar(archive, dest)
    assert list(dest.iterdir()) == [] and not (tmp_path / "escape.txt").exists()
    assert not Path("/tmp/minidl-abs-escape.txt").exists()


# ----------------------------------------------------------------------------------------- ImageFolder
def test_image_folder_with_pillow(tmp_path, rng):
    Image = pytest.importorskip("PIL.Image")
    expect = {}
    for cls in ["dog", "cat"]:
        for k in range(2):
            arr = rng.integers(0, 256, size=(4, 6, 3), dtype=np.uint8)
            path = tmp_path / cls / f"{k}.png"
            path.parent.mkdir(exist_ok=True)
            Image.fromarray(arr).save(path)
            expect[str(path)] = arr
    gray = rng.integers(0, 256, size=(4, 6), dtype=np.uint8)
    Image.fromarray(gray).save(tmp_path / "cat" / "sub_gray.PNG")
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    ds = D.ImageFolder(tmp_path)
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert len(ds) == 5 and ds.targets == [0, 0, 0, 1, 1]
    for i, (path, target) in enumerate(ds.samples):
        img, label = ds[i]
        assert label == target and img.shape == (3, 4, 6) and img.dtype == np.float32
        want = expect.get(path, np.repeat(gray[..., None], 3, axis=2))
        np.testing.assert_allclose(img, np.moveaxis(want, -1, 0) / 255.0, rtol=1e-6)
    raw = D.ImageFolder(tmp_path, transform=T.Lambda(lambda a: a))  # the loader gives PIL images, as torchvision's
    assert isinstance(raw[3][0], Image.Image) and raw[3][0].mode == "RGB" and raw[3][0].size == (6, 4)
    np.testing.assert_array_equal(np.asarray(raw[3][0]), expect.get(ds.samples[3][0], np.repeat(gray[..., None], 3, axis=2)))


def test_image_folder_errors_and_custom_loader(tmp_path, rng, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    np.save(tmp_path / "a" / "x.npy", rng.random((2, 2)))
    with pytest.raises(FileNotFoundError, match=r"class folder .*b holds no file"):
        D.ImageFolder(tmp_path, loader=np.load, extensions=(".npy",))
    np.save(tmp_path / "b" / "y.npy", rng.random((2, 2)))
    ds = D.ImageFolder(tmp_path, loader=np.load, extensions=(".npy",))
    assert ds[1][0].shape == (1, 2, 2) and ds[1][1] == 1
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        D.ImageFolder(tmp_path / "missing")
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if Pillow were not installed
    with pytest.raises(ImportError, match=r'pip install "minidl\[images\]"'):
        D.ImageFolder(tmp_path)


@pytest.mark.skipif(not (CIFAR_JPG / "test").is_dir(), reason="CIFAR-10 JPEG folders absent")
def test_image_folder_on_real_cifar10_jpegs():
    pytest.importorskip("PIL.Image")
    ds = D.ImageFolder(CIFAR_JPG / "test")
    assert ds.classes == D.CIFAR10.classes
    for i in (0, len(ds) // 2, len(ds) - 1):
        img, label = ds[i]
        assert img.shape == (3, 32, 32) and img.dtype == np.float32
        assert 0.0 <= img.min() and img.max() <= 1.0 and img.std() > 0
        assert ds.classes[label] == Path(ds.samples[i][0]).parent.name


# ----------------------------------------------------------------------------------------- embedded set
def test_embedded_set_is_stratified_and_loads_fast():
    start = time.perf_counter()
    train = D.FashionMNISTSmall(train=True)
    test = D.load_embedded(train=False)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"loading the embedded set took {elapsed:.2f} s"
    assert len(train) == 5000 and len(test) == 1000
    assert np.bincount(train.targets).tolist() == [500] * 10
    assert np.bincount(test.targets).tolist() == [100] * 10
    assert train.data.shape == (5000, 28, 28) and train.data.dtype == np.uint8
    assert np.all(np.diff(train.source_indices) > 0) and train.source_indices.max() < 60000
    assert train.classes[0] == "T-shirt/top" and train.classes[9] == "Ankle boot"
    img, label = train[0]
    assert img.shape == (1, 28, 28) and img.dtype == np.float32 and 0 <= label < 10
    xb, yb = next(iter(DataLoader(train, batch_size=64, shuffle=True)))
    assert xb.shape == (64, 1, 28, 28) and xb.dtype == np.float32 and yb.dtype == np.int64


def test_embedded_manifest_matches_shipped_files():
    manifest = embedded.manifest()
    assert manifest["per_class"] == {"train": 500, "t10k": 100}
    size = 0
    for name, digest in manifest["files"].items():
        blob = (embedded.DATA_DIR / name).read_bytes()
        size += len(blob)
        assert _sha(blob) == digest, name
    assert size < 3_000_000


def test_embedded_detects_corruption(tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(embedded.DATA_DIR, copy)
    name = "fashion-mnist-small-t10k-labels-idx1-ubyte.gz"
    blob = bytearray((copy / name).read_bytes())
    blob[-10] ^= 0xFF
    (copy / name).write_bytes(bytes(blob))
    with pytest.raises(ValueError, match=f"{name}: SHA-256 .* differs from the manifest"):
        D.FashionMNISTSmall(train=False, data_dir=copy)


def test_build_is_deterministic_and_stratified(tmp_path, rng):
    src = tmp_path / "src"
    for prefix, n in [("train", 60), ("t10k", 30)]:
        labels = np.repeat(np.arange(10), n // 10).astype(np.uint8)
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        write_mnist_split(src, prefix, images, labels[rng.permutation(n)])
    a = embedded.build(src, tmp_path / "a", per_class={"train": 4, "t10k": 2}, seed=1)
    b = embedded.build(src, tmp_path / "b", per_class={"train": 4, "t10k": 2}, seed=1)
    assert a["files"] == b["files"]
    assert json.loads((tmp_path / "a" / "fashion-mnist-small.json").read_text()) == a
    small = D.FashionMNISTSmall(train=True, data_dir=tmp_path / "a")
    assert np.bincount(small.targets).tolist() == [4] * 10
    full = D.read_idx(src / "train-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(small.data, full[small.source_indices])
    c = embedded.build(src, tmp_path / "c", per_class={"train": 4, "t10k": 2}, seed=2)
    assert c["files"] != a["files"]


# ----------------------------------------------------------------------------------------- full Fashion-MNIST
@pytest.fixture(scope="module")
def full_fashion_train():
    return D.FashionMNIST(FULL_FASHION.parent, train=True, download=False)


@has_full_fashion
def test_full_fashion_mnist_and_embedded_subset(full_fashion_train):
    full = full_fashion_train
    assert full.root == FULL_FASHION and len(full) == 60000 and full.data.shape == (60000, 28, 28)
    assert np.bincount(full.targets).tolist() == [6000] * 10
    assert full.classes == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]  # fmt: skip
    small = D.FashionMNISTSmall(train=True)
    np.testing.assert_array_equal(small.data, full.data[small.source_indices])
    np.testing.assert_array_equal(small.targets, full.targets[small.source_indices])
    recorded = embedded.select_stratified(full.targets, 500, "train", embedded.SEED)
    np.testing.assert_array_equal(recorded, small.source_indices)
    test = D.FashionMNIST(train=False, download=False)  # found through the system folder
    assert len(test) == 10000
    small_test = D.FashionMNISTSmall(train=False)
    np.testing.assert_array_equal(small_test.data, test.data[small_test.source_indices])


@has_full_fashion
def test_full_fashion_mnist_loader_epoch_is_fast(full_fashion_train):
    loader = DataLoader(full_fashion_train, batch_size=128, shuffle=True, drop_last=True)
    start = time.perf_counter()
    count = sum(len(y) for _, y in loader)
    assert count == 60000 - 60000 % 128
    assert time.perf_counter() - start < 5.0


# ----------------------------------------------------------------------------------------- toy sets
@pytest.mark.parametrize("make", [D.make_xor, D.make_moons, D.make_spirals, D.make_blobs])
def test_toy_sets_shapes_balance_and_seeding(make):
    x, y = make(101, generator=3)
    assert x.shape == (101, 2) and x.dtype == np.float32 and y.shape == (101,) and y.dtype == np.int64
    x2, y2 = make(101, generator=np.random.default_rng(3))
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    minidl.manual_seed(8)
    a = make(50)
    minidl.manual_seed(8)
    b = make(50)
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError, match="n must be a positive int"):
        make(0)


def test_toy_sets_geometry():
    x, y = D.make_xor(400, generator=0)
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] < 0).astype(np.int64))
    assert abs(y.mean() - 0.5) < 0.1
    x, y = D.make_moons(100, generator=0)
    np.testing.assert_allclose(np.hypot(x[y == 0, 0], x[y == 0, 1]), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(x[y == 1, 0] - 1, x[y == 1, 1] - 0.5), 1.0, rtol=1e-6)
    assert np.bincount(y).tolist() == [50, 50]
    x, y = D.make_spirals(300, classes=3, generator=0)
    assert np.bincount(y).tolist() == [100, 100, 100] and np.hypot(x[:, 0], x[:, 1]).max() <= 1 + 1e-6
    centers = np.array([[0.0, 0.0], [5.0, 5.0]])
    x, y = D.make_blobs(10, centers=centers, std=0.0, generator=0)
    np.testing.assert_array_equal(x, centers[y].astype(np.float32))
    x, y = D.make_blobs(2000, centers=centers, std=0.5, generator=0)
    np.testing.assert_allclose(x[y == 1].mean(0), [5, 5], atol=0.1)
    np.testing.assert_allclose(x[y == 1].std(0), [0.5, 0.5], rtol=0.1)
    noisy, _ = D.make_moons(100, noise=0.1, generator=0)
    assert np.hypot(noisy[:, 0], noisy[:, 1]).std() > 0


# ----------------------------------------------------------------------------------------- registry
def test_registry_names_aliases_and_errors(tmp_path, rng):
    names = {"fashion-mnist", "mnist", "cifar10", "embedded", "xor", "moons", "spirals", "blobs"}
    assert names <= set(D.available())
    train, test = D.get("moons"), D.get("Moons", train=False)
    assert len(train) == 1000 and len(test) == 500
    assert not np.array_equal(train.arrays()[0][:500], test.arrays()[0])
    assert len(D.get("spirals", n=30, classes=5)) == 30
    assert len(D.get("fashion_mnist_small", train=False)) == 1000
    _cifar_tree(rng, tmp_path)
    assert len(D.get("cifar-10", train=False, root=tmp_path)) == 4
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'; available: .*blobs"):
        D.get("imagenet")
