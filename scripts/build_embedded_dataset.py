"""Build the embedded Fashion-MNIST subset shipped in ``src/minidl/datasets/data/``.

Usage::

    python scripts/build_embedded_dataset.py [--source DIR] [--out DIR]

``--source`` is a folder holding the four official Fashion-MNIST ``.gz`` files (default: wherever
``minidl.datasets.FashionMNIST`` finds them, e.g. Debian's /usr/share/datasets/fashion-mnist/). The
selection is deterministic (see :mod:`minidl.datasets.embedded`): rerunning gives the same images in the
same order, and the manifest ``fashion-mnist-small.json`` records the seed, the SHA-256 of the source
payloads and of every file written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from minidl.datasets import embedded
from minidl.datasets.download import find_dir
from minidl.datasets.mnist import FashionMNIST


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None, help="folder with the official .gz files")
    parser.add_argument("--out", type=Path, default=embedded.DATA_DIR, help="output folder")
    args = parser.parse_args(argv)
    source = args.source
    if source is None:
        files = [name for name, _ in FashionMNIST.resources]
        source, looked = find_dir(FashionMNIST.name, files, None, FashionMNIST.aliases)
        if source is None:
            parser.error(f"Fashion-MNIST not found in {[str(d) for d in looked]}; pass --source")
    manifest = embedded.build(source, args.out)
    size = sum((args.out / name).stat().st_size for name in manifest["files"])
    print(f"built from {source} into {args.out} ({size / 1e6:.2f} MB):")
    for name, digest in manifest["files"].items():
        print(f"  {digest}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
