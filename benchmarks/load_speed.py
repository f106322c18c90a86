"""How fast minidl.load reads a large state dict, against the reader torch itself uses for the same file.

A state dict of ``--mb`` megabytes of float32 weights (a few big matrices plus many small tensors, like a
CNN's conv, BatchNorm and linear layers) is written once in each format, then read alternately by both
libraries, ``--repeats`` times each; the table gives the median time per library and the ratio
minidl / reference (below 1 = minidl faster):

* ``torch zip``: a ``torch.save`` file; reference ``torch.load(weights_only=True)``;
* ``torch legacy``: ``torch.save(..., _use_new_zipfile_serialization=False)``; reference ``torch.load``;
* ``safetensors``: written by ``safetensors.torch.save_file``; two references: ``safetensors.numpy.load_file``
  (arrays copied out of the file, the same work minidl does) and ``safetensors.torch.load_file`` (tensors
  mapped onto the file, whose pages are read only when used, so its time is mostly not reading);
* ``minidl npz``: minidl's npz + JSON format (``minidl.save`` of a non-flat object); reference
  ``torch.load`` of the same object in torch's zip format.

The timing includes turning every tensor into a minidl Tensor (or a torch tensor): what a user waits for.
The first read of each file is a warm-up (page cache). Requires PyTorch and safetensors.

    python benchmarks/load_speed.py               # 50 MB, 7 reads per library and format
    python benchmarks/load_speed.py --mb 200 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file as np_load_file
from safetensors.torch import load_file, save_file

import minidl

minidl.ops.keep_freed_memory()  # what training with minidl does (Trainer, CLI): see minidl/ops/_memory.py


def _state_dict(mb: float) -> dict[str, torch.Tensor]:
    """About ``mb`` MB of float32: four big matrices and 200 small layers' tensors."""
    g = torch.Generator().manual_seed(0)
    big = int(mb * 2**20 / 4 * 0.9 / 4)  # elements per big matrix: 90% of the bytes in four matrices
    sd = {f"fc{i}.weight": torch.randn(big // 1024, 1024, generator=g) for i in range(4)}
    small = int(mb * 2**20 / 4 * 0.1 / 200)
    for i in range(200):
        sd[f"layer{i}.conv.weight"] = torch.randn(small, generator=g)
        sd[f"layer{i}.bn.num_batches_tracked"] = torch.tensor(i)
    return sd


def _seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mb", type=float, default=50.0, help="size of the state dict in MB")
    p.add_argument("--repeats", type=int, default=7, help="timed reads per library and format")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    sd = _state_dict(args.mb)
    nbytes = sum(t.numel() * t.element_size() for t in sd.values())
    with tempfile.TemporaryDirectory() as d:
        files = {name: Path(d) / name for name in ("zip.pth", "legacy.pth", "w.safetensors", "minidl.npz",
                                                    "nested.pth")}
        torch.save(sd, files["zip.pth"])
        torch.save(sd, files["legacy.pth"], _use_new_zipfile_serialization=False)
        save_file(sd, files["w.safetensors"])
        minidl.save({"model": {k: minidl.from_numpy(v.numpy()) for k, v in sd.items()}}, files["minidl.npz"])
        torch.save({"model": sd}, files["nested.pth"])
        cases = [
            ("torch zip", "torch.load", files["zip.pth"], lambda: torch.load(files["zip.pth"], weights_only=True)),
            ("torch legacy", "torch.load", files["legacy.pth"],
             lambda: torch.load(files["legacy.pth"], weights_only=True)),
            ("safetensors", "numpy.load_file", files["w.safetensors"], lambda: np_load_file(files["w.safetensors"])),
            ("safetensors", "torch.load_file", files["w.safetensors"], lambda: load_file(files["w.safetensors"])),
            ("minidl npz", "torch.load", files["minidl.npz"],
             lambda: torch.load(files["nested.pth"], weights_only=True)),
        ]
        print(f"state dict: {len(sd)} tensors, {nbytes / 2**20:.1f} MB float32; median of {args.repeats} reads")
        print(f"{'format':<14} {'reference':<16} {'minidl s':>9} {'reference s':>12} {'minidl/reference':>17}")
        for name, ref_name, path, reference in cases:
            ours = lambda path=path: minidl.load(path)  # noqa: E731
            loaded = ours()  # warm-up, and a check that it read the right values
            loaded = loaded.get("model", loaded)
            assert all(np.array_equal(np.asarray(loaded[k]), v.numpy()) for k, v in sd.items())
            reference()
            t_ours, t_ref = [], []
            for _ in range(args.repeats):  # alternate, so both see the same machine load
                t_ours.append(_seconds(ours))
                t_ref.append(_seconds(reference))
            mine, ref = statistics.median(t_ours), statistics.median(t_ref)
            print(f"{name:<14} {ref_name:<16} {mine:>9.4f} {ref:>12.4f} {mine / ref:>17.2f}")
    return 0


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        raise SystemExit(main())
