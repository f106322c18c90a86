"""Inference time of the ImageNet zoo models against PyTorch: the same architecture and weights, one batch.

    python benchmarks/zoo_speed.py [--models squeezenet1_1 resnet18] [--batch 16] [--size 224] [--threads 2]

Each model is built in minidl and, from the same state dict, in PyTorch (tests/torch_zoo.py, no torchvision
needed), both in eval mode without gradients. The two run alternately in one process, a warm-up call each
first; the median of ``--rounds`` forward passes is printed with the ratio minidl / PyTorch (below 1:
minidl is faster). The outputs are checked to agree before timing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import minidl
from minidl import models

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=["squeezenet1_1", "resnet18"], choices=list(models.IMAGENET_MODELS))
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args(argv)
    import torch

    from torch_zoo import TORCH_MODELS

    torch.set_num_threads(args.threads)
    minidl.set_num_threads(args.threads)
    x = np.random.default_rng(0).standard_normal((args.batch, 3, args.size, args.size)).astype(np.float32)
    print(f"minidl {minidl.__version__}  torch {torch.__version__}  threads {args.threads}  input {x.shape}  "
          f"median of {args.rounds}")
    print(f"{'model':<16}{'minidl ms':>11}{'torch ms':>11}{'ratio':>8}")
    for name in args.models:
        ours = models.get(name).eval()
        theirs = TORCH_MODELS[name][0]().eval()
        theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
        xm, xt = minidl.from_numpy(x), torch.from_numpy(x)
        with minidl.no_grad(), torch.no_grad():
            a, b = ours(xm).numpy(), theirs(xt).numpy()
            assert np.abs(a - b).max() <= 1e-3 * max(1.0, np.abs(b).max()), f"{name}: outputs differ"
            times: dict[str, list[float]] = {"minidl": [], "torch": []}
            for _ in range(args.rounds):
                for lib, fn in (("minidl", lambda m=ours, a=xm: m(a)), ("torch", lambda m=theirs, a=xt: m(a))):
                    start = time.perf_counter()
                    fn()
                    times[lib].append(time.perf_counter() - start)
        m, t = float(np.median(times["minidl"])), float(np.median(times["torch"]))
        print(f"{name:<16}{m * 1e3:>11.1f}{t * 1e3:>11.1f}{m / t:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
