"""minidl._atomic, the one atomic-write implementation, and the writers built on it (checkpoints, run
artifacts, IDX files, downloads, reports): umask permissions, nothing left behind and the old file intact
after any failure, fsync-then-replace ordering, exclusive and collision-free temporary names."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from minidl import _atomic
from minidl._atomic import atomic_open, atomic_path, atomic_write_bytes, atomic_write_text, open_temp_beside
from minidl.datasets import download as dl
from minidl.datasets.idx import read_idx, write_idx
from minidl.nn import Linear
from minidl.report.report import write_report
from minidl.runs.artifacts import save_model
from minidl.training import History, load_tree, save_checkpoint, save_tree

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture(params=[0o022, 0o027, 0o002])
def umask(request):
    """Run the test under a given umask (process-wide, restored afterwards); 0o027 gives 0o640, which
    differs from both a hard-coded 0o644 and mkstemp's 0o600."""
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def perms(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ----------------------------------------------------------------------------------------- permissions
@posix_only
def test_primitives_give_umask_permissions(tmp_path, umask):
    expected = 0o666 & ~umask
    with atomic_path(tmp_path / "a.bin") as tmp:
        assert perms(tmp) == expected  # the temporary file itself, before anything rewrites it
        tmp.write_bytes(b"a")
    with atomic_open(tmp_path / "b.bin") as f:
        f.write(b"b")
    written = [tmp_path / "a.bin", tmp_path / "b.bin", atomic_write_bytes(tmp_path / "c.bin", b"c"),
               atomic_write_text(tmp_path / "d.txt", "d")]
    assert {p.name: perms(p) for p in written} == {p.name: expected for p in written}


@posix_only
def test_minidl_writers_give_umask_permissions(tmp_path, umask):
    expected = 0o666 & ~umask
    blob = b"payload" * 100
    (tmp_path / "src.bin").write_bytes(blob)
    url = (tmp_path / "src.bin").as_uri()
    history = History()
    history.loss = [1.0, 0.5]
    written = [
        save_tree(tmp_path / "tree.npz", {"v": np.arange(3.0)}),
        save_checkpoint(tmp_path / "run" / "checkpoint.npz", Linear(2, 3), epoch=1),
        save_model(tmp_path / "run" / "model.npz", Linear(2, 3)),
        write_idx(tmp_path / "x.idx.gz", np.arange(6, dtype=np.uint8).reshape(2, 3)),
        dl.download_url(url, tmp_path / "dl" / "f.bin", hashlib.sha256(blob).hexdigest()),
    ]
    history.to_json(tmp_path / "history.json")
    written.append(tmp_path / "history.json")
    report = write_report(tmp_path / "report", title="t", history={"loss": [1.0, 0.5]})
    written += [Path(p) for p in (report.markdown, report.html)]
    assert {p.name: perms(p) for p in written} == {p.name: expected for p in written}


# ----------------------------------------------------------------------------------------- failures
def _fail_in_atomic_path(dest: Path, exc: BaseException) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_bytes(b"half of the new file")
        raise exc


def _fail_in_atomic_open(dest: Path, exc: BaseException) -> None:
    with atomic_open(dest, "w") as f:
        f.write("half of the new file")
        f.flush()
        raise exc


@pytest.mark.parametrize("writer", [_fail_in_atomic_path, _fail_in_atomic_open])
@pytest.mark.parametrize("exc_type", [RuntimeError, KeyboardInterrupt])
def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path, writer, exc_type):
    dest = tmp_path / "out.txt"
    dest.write_bytes(b"old")
    exc = exc_type("boom")
    with pytest.raises(exc_type) as info:
        writer(dest, exc)
    assert info.value is exc
    assert dest.read_bytes() == b"old"
    assert names(tmp_path) == ["out.txt"]


def test_failed_first_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        _fail_in_atomic_path(tmp_path / "new.bin", RuntimeError("boom"))
    assert names(tmp_path) == []


def test_failing_replace_keeps_old_file(tmp_path, monkeypatch):
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old")

    def broken_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(_atomic.os, "replace", broken_replace)
    with pytest.raises(OSError, match="rename failed"):
        atomic_write_bytes(dest, b"new")
    monkeypatch.undo()
    assert dest.read_bytes() == b"old" and names(tmp_path) == ["out.bin"]


def test_failed_idx_and_history_writes_keep_old_files(tmp_path, monkeypatch):
    old = np.arange(4, dtype=np.uint8)
    write_idx(tmp_path / "a.idx", old)
    (tmp_path / "h.json").write_text("old")

    def broken_fsync(fd):
        raise OSError("I/O error")

    monkeypatch.setattr(_atomic.os, "fsync", broken_fsync)  # a file fsync failure must not publish the file
    with pytest.raises(OSError, match="I/O error"):
        write_idx(tmp_path / "a.idx", np.zeros(9, dtype=np.uint8))
    with pytest.raises(OSError, match="I/O error"):
        History().to_json(tmp_path / "h.json")
    monkeypatch.undo()
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), old)
    assert (tmp_path / "h.json").read_text() == "old"
    assert names(tmp_path) == ["a.idx", "h.json"]


def test_failed_checkpoint_keeps_old_one(tmp_path, monkeypatch):
    path = save_tree(tmp_path / "c.npz", {"v": np.array([1.0])})

    def broken_write_array(f, arr, **kwargs):
        f.write(b"\x93NUMPY torn")
        raise MemoryError

    monkeypatch.setattr(np.lib.format, "write_array", broken_write_array)
    with pytest.raises(MemoryError):
        save_tree(path, {"v": np.array([2.0])})
    monkeypatch.undo()
    assert names(tmp_path) == ["c.npz"] and load_tree(path)["v"].tolist() == [1.0]


# ----------------------------------------------------------------------------------------- downloads
def test_download_mismatch_leaves_old_file_or_nothing(tmp_path):
    src = tmp_path / "src" / "f.bin"
    src.parent.mkdir()
    src.write_bytes(b"served bytes")
    out = tmp_path / "out"
    with pytest.raises(dl.ChecksumError, match="SHA256 mismatch"):
        dl.download_url(src.as_uri(), out / "f.bin", "0" * 64)
    assert names(out) == []  # nothing at the final name, no .part file
    (out / "f.bin").write_bytes(b"previous copy")
    with pytest.raises(dl.ChecksumError):
        dl.download_url(src.as_uri(), out / "f.bin", "md5:" + "0" * 32)
    assert names(out) == ["f.bin"] and (out / "f.bin").read_bytes() == b"previous copy"
    got = dl.download_url(src.as_uri(), out / "f.bin", "md5:" + hashlib.md5(b"served bytes").hexdigest())
    assert got.read_bytes() == b"served bytes" and names(out) == ["f.bin"]


def test_download_writes_under_a_part_name_until_verified(tmp_path, monkeypatch):
    src = tmp_path / "f.src"
    src.write_bytes(b"x" * 10)
    seen = []
    real_replace = os.replace
    monkeypatch.setattr(_atomic.os, "replace", lambda a, b: (seen.append((Path(a).name, Path(b).name)),
                                                             real_replace(a, b)))
    dl.download_url(src.as_uri(), tmp_path / "f.bin")
    [(tmp_name, final)] = seen
    assert final == "f.bin" and tmp_name.startswith(".f.bin.") and tmp_name.endswith(".part")


# ----------------------------------------------------------------------------------------- ordering, naming
def test_fsync_file_then_replace_then_fsync_dir(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        calls.append("fsync dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    monkeypatch.setattr(_atomic.os, "fsync", fsync)
    monkeypatch.setattr(_atomic.os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b)))
    atomic_write_bytes(tmp_path / "sub" / "f.bin", b"data")
    expected = ["fsync file", "replace", "fsync dir"] if os.name == "posix" else ["fsync file", "replace"]
    assert calls == expected
    assert (tmp_path / "sub" / "f.bin").read_bytes() == b"data"


def test_temp_names_are_created_exclusively(tmp_path, monkeypatch):
    # another writer already holds the first name drawn: it must be neither truncated nor renamed away
    tokens = iter(["aaaa", "bbbb"])
    monkeypatch.setattr(_atomic.secrets, "token_hex", lambda n: next(tokens))
    theirs = tmp_path / ".f.bin.aaaa.tmp"
    theirs.write_bytes(b"another writer's data")
    with atomic_path(tmp_path / "f.bin") as tmp:
        assert tmp.name == ".f.bin.bbbb.tmp"
        tmp.write_bytes(b"mine")
    assert theirs.read_bytes() == b"another writer's data"
    assert (tmp_path / "f.bin").read_bytes() == b"mine"
    assert names(tmp_path) == [".f.bin.aaaa.tmp", "f.bin"]


def test_concurrent_writers_of_one_file(tmp_path):
    n = 4
    dest = tmp_path / "shared.bin"
    payloads = [bytes([i]) * 300_000 for i in range(n)]
    all_inside = threading.Barrier(n)
    temps = []

    def write(i: int) -> None:
        with atomic_open(dest) as f:
            temps.append(Path(f.name).name)
            f.write(payloads[i][:1000])
            all_inside.wait(10)  # every writer holds its temporary file at the same time
            f.write(payloads[i][1000:])

    with ThreadPoolExecutor(n) as pool:
        list(pool.map(write, range(n)))
    assert len(set(temps)) == n
    assert dest.read_bytes() in payloads  # one whole writer's file, never a mix
    assert names(tmp_path) == ["shared.bin"]


def test_long_names_and_missing_parents(tmp_path):
    dest = tmp_path / "a" / "b" / ("n" * 240 + ".txt")  # plus a temp prefix and suffix: over 255 bytes
    assert atomic_write_text(dest, "ok").read_text() == "ok"
    assert names(dest.parent) == [dest.name]


def test_atomic_path_accepts_a_writer_that_recreates_the_file(tmp_path):
    dest = tmp_path / "g.svg"
    with atomic_path(dest) as tmp:
        tmp.unlink()  # e.g. a tool that removes its output file before writing it
        tmp.write_text("<svg/>")
    assert dest.read_text() == "<svg/>" and names(tmp_path) == ["g.svg"]


# ----------------------------------------------------------------------------------------- API details
def test_text_and_bytes_round_trip(tmp_path):
    assert atomic_write_text(tmp_path / "t.txt", "héllo\n").read_bytes() == "héllo\n".encode()
    assert atomic_write_text(tmp_path / "l.txt", "é", encoding="latin-1").read_bytes() == b"\xe9"
    assert atomic_write_bytes(tmp_path / "b.bin", bytearray(b"\x00\xff")).read_bytes() == b"\x00\xff"
    with atomic_open(tmp_path / "o.txt", "wt") as f:
        f.write("ü")
    assert (tmp_path / "o.txt").read_bytes() == "ü".encode()


@pytest.mark.parametrize("mode", ["r", "a", "ab", "w+", "xb", "rb+"])
def test_atomic_open_rejects_non_write_modes(tmp_path, mode):
    with pytest.raises(ValueError, match="atomic_open: mode"), atomic_open(tmp_path / "f", mode):
        pass
    assert names(tmp_path) == []


def test_atomic_open_rejects_encoding_in_binary_mode(tmp_path):
    with pytest.raises(ValueError, match="text mode"), atomic_open(tmp_path / "f", "wb", encoding="utf-8"):
        pass
    assert names(tmp_path) == []


def test_open_temp_beside(tmp_path):
    f, tmp = open_temp_beside(tmp_path / "x.bin", suffix=".part")
    with f:
        f.write(b"1")
    assert tmp.parent == tmp_path and tmp.name.startswith(".x.bin.") and tmp.name.endswith(".part")
    assert tmp.read_bytes() == b"1"
    f2, tmp2 = dl.open_temp_beside(tmp_path / "x.bin")  # the datasets API keeps its .part names
    f2.close()
    assert tmp2 != tmp and tmp2.name.endswith(".part")
