"""How fast minidl's image transforms run, against torchvision's in the same process.

Three pipelines, each timed per image (median of ``--repeats`` rounds over ``--images`` images; the
libraries alternate round by round so both see the same machine load):

* ``cifar``: ``RandomCrop(32, padding=4), RandomHorizontalFlip, ToTensor, Normalize`` on 32x32 images;
* ``imagenet``: ``RandomResizedCrop(224), RandomHorizontalFlip, ToTensor, Normalize`` on 375x500 images;
* ``eval``: ``Resize(256), CenterCrop(224), ToTensor, Normalize`` on 375x500 images.

Columns: minidl and torchvision on PIL images (both call Pillow for the geometry), minidl on HWC uint8
arrays (its NumPy path), and for ``cifar`` minidl's batched form on a stack of arrays (the DataLoader's fast
path for in-memory datasets). The ratio is minidl on PIL / torchvision on PIL (below 1 = minidl faster).
Requires torchvision and Pillow for the reference columns (without them only minidl's columns print).

    python benchmarks/transform_speed.py
    python benchmarks/transform_speed.py --images 200 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from minidl import transforms as T

try:
    from torchvision import transforms as TV
except Exception:  # torchvision absent or not importable beside this torch
    TV = None

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _pipelines(lib: Any) -> dict[str, Any]:
    tail = [lib.ToTensor(), lib.Normalize(MEAN, STD)]
    return {
        "cifar": lib.Compose([lib.RandomCrop(32, padding=4), lib.RandomHorizontalFlip(), *tail]),
        "imagenet": lib.Compose([lib.RandomResizedCrop(224), lib.RandomHorizontalFlip(), *tail]),
        "eval": lib.Compose([lib.Resize(256), lib.CenterCrop(224), *tail]),
    }


def _per_image(fn: Callable[[Any], Any], images: list[Any]) -> float:
    start = time.perf_counter()
    for img in images:
        fn(img)
    return (time.perf_counter() - start) / len(images)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", type=int, default=100)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    sizes = {"cifar": (32, 32), "imagenet": (375, 500), "eval": (375, 500)}
    ours, theirs = _pipelines(T), (_pipelines(TV) if TV is not None else None)
    print(f"{'pipeline':10s} {'minidl PIL':>12s} {'tv PIL':>12s} {'ratio':>7s} {'minidl array':>13s} "
          f"{'minidl batch':>13s}   (microseconds per image)")
    for name, (h, w) in sizes.items():
        arrays = [rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8) for _ in range(args.images)]
        pils = [Image.fromarray(a) for a in arrays]
        stack = np.stack(arrays)
        times: dict[str, list[float]] = {"ours": [], "theirs": [], "array": [], "batch": []}
        for _ in range(args.repeats):
            times["ours"].append(_per_image(ours[name], pils))
            if theirs is not None:
                times["theirs"].append(_per_image(theirs[name], pils))
            times["array"].append(_per_image(ours[name], arrays))
            if ours[name].batchable:
                start = time.perf_counter()
                ours[name].batch(stack)
                times["batch"].append((time.perf_counter() - start) / len(stack))
        med = {k: statistics.median(v) * 1e6 if v else float("nan") for k, v in times.items()}
        ratio = med["ours"] / med["theirs"] if theirs is not None else float("nan")
        print(f"{name:10s} {med['ours']:12.1f} {med['theirs']:12.1f} {ratio:7.2f} {med['array']:13.1f} "
              f"{med['batch']:13.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
