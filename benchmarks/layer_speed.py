"""Training-step time of small nets made of the convolution, pooling, padding and resampling layers of issue
10 against PyTorch's, and forward + backward time of ``F.interpolate``.

    python benchmarks/layer_speed.py [--rounds 15] [--threads 1]

Each net is built once as code for either library, PyTorch's copy loading minidl's ``state_dict``; a step is
forward, a mean-square loss and backward, alternating between the libraries on the same float32 input. The
medians are printed with the ratio minidl / PyTorch (below 1: minidl is faster).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import minidl


def dcgan_generator(lib: Any) -> Any:
    """DCGAN's generator at 32x32: transposed convolutions from a 1x1 code."""
    nn = lib.nn
    return nn.Sequential(nn.ConvTranspose2d(64, 128, 4, 1, 0, bias=False), nn.BatchNorm2d(128), nn.ReLU(True),
                         nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
                         nn.ConvTranspose2d(64, 32, 4, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(True),
                         nn.ConvTranspose2d(32, 3, 4, 2, 1, bias=False), nn.Tanh())


def unet_like(lib: Any) -> Any:
    """Reflection-padded convolutions, nearest and bilinear upsampling and a 2x2 up-convolution."""
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1, padding_mode="reflect"), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1, padding_mode="reflect"), nn.ReLU(),
                         nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(),
                         nn.ConvTranspose2d(32, 16, 2, stride=2), nn.ReLU(),
                         nn.Upsample(size=(32, 32), mode="bilinear"), nn.Conv2d(16, 3, 1))


def conv1d_net(lib: Any) -> Any:
    """A 1-D convolutional classifier: Conv1d (replicate padding), MaxPool1d, AdaptiveAvgPool1d."""
    nn = lib.nn
    return nn.Sequential(nn.Conv1d(16, 64, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
                         nn.Conv1d(64, 64, 3, padding="same", padding_mode="replicate"), nn.ReLU(),
                         nn.AdaptiveAvgPool1d(8), nn.Flatten(), nn.Linear(512, 10))


NETS: list[tuple[str, Callable[[Any], Any], tuple[int, ...]]] = [
    ("dcgan_generator", dcgan_generator, (64, 64, 1, 1)),
    ("unet_like", unet_like, (32, 3, 32, 32)),
    ("conv1d_net", conv1d_net, (64, 16, 128)),
]
INTERPOLATE: list[tuple[tuple[int, ...], dict[str, Any]]] = [
    ((32, 64, 16, 16), {"scale_factor": 2}),
    ((32, 16, 64, 64), {"size": (32, 32), "mode": "bilinear"}),
    ((32, 32, 16, 16), {"scale_factor": 2, "mode": "bilinear", "align_corners": True}),
    ((16, 16, 16, 16), {"scale_factor": 2, "mode": "bicubic"}),
]


def medians(steps: dict[str, Callable[[], None]], rounds: int) -> dict[str, float]:
    """Median seconds of each step, run alternately ``rounds`` times after a warm-up."""
    for step in steps.values():
        step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    minidl.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"float32, {args.threads} thread(s), median of {args.rounds}")
    print(f"{'training step':<88}{'minidl ms':>10}{'torch ms':>10}{'ratio':>8}")
    for name, build, shape in NETS:
        model, tmodel = build(minidl), build(torch)
        tmodel.load_state_dict({k: torch.tensor(v.numpy().copy()) for k, v in model.state_dict().items()})
        x = rng.standard_normal(shape).astype(np.float32)

        def step(lib: Any, net: Any, x: np.ndarray = x) -> None:
            out = net(lib.tensor(x))
            net.zero_grad()
            (out * out).mean().backward()

        t = medians({"minidl": lambda m=model: step(minidl, m), "torch": lambda m=tmodel: step(torch, m)},
                    args.rounds)
        print(f"{name:<88}{t['minidl'] * 1e3:>10.2f}{t['torch'] * 1e3:>10.2f}{t['minidl'] / t['torch']:>8.2f}")
    print(f"{'F.interpolate, forward + backward':<88}")
    for shape, kwargs in INTERPOLATE:
        x = rng.standard_normal(shape).astype(np.float32)

        def run(lib: Any, kw: dict = kwargs, x: np.ndarray = x) -> None:
            t = lib.tensor(x, requires_grad=True)
            lib.nn.functional.interpolate(t, **kw).sum().backward()

        t = medians({"minidl": lambda: run(minidl), "torch": lambda: run(torch)}, args.rounds)
        label = f"  {shape} {kwargs}"
        print(f"{label:<88}{t['minidl'] * 1e3:>10.2f}{t['torch'] * 1e3:>10.2f}{t['minidl'] / t['torch']:>8.2f}")


if __name__ == "__main__":
    main()
