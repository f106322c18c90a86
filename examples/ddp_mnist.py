"""Data-parallel training written as a PyTorch DDP script, run by MPI: ``torch`` → ``minidl`` is the only change.

    mpiexec -n 2 python examples/ddp_mnist.py --epochs 3             # 2 ranks on this machine
    mpiexec -n 8 -f hosts python examples/ddp_mnist.py --epochs 3    # 8 ranks over the hosts in `hosts`
    python examples/ddp_mnist.py --epochs 3                           # 1 process, the same code path

The structure of PyTorch's DDP tutorial: join the process group, wrap the model in
DistributedDataParallel, give each rank its share of the data with a DistributedSampler (``set_epoch`` every
epoch), average the metrics over the ranks with ``all_reduce``, let rank 0 print and save. ``--batch-size``
is per rank, as in PyTorch's scripts; the ranks train on the embedded Fashion-MNIST subset (``--full`` for
the whole set).
"""

from __future__ import annotations

import argparse

import minidl as torch  # the only line that differs from the PyTorch script
import minidl.distributed as dist
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.datasets import FashionMNIST, FashionMNISTSmall
from minidl.nn.parallel import DistributedDataParallel as DDP
from minidl.transforms import Compose, Normalize, ToTensor
from minidl.utils.data import DataLoader
from minidl.utils.data.distributed import DistributedSampler


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
        self.bn = nn.BatchNorm2d(16)
        self.fc1, self.fc2 = nn.Linear(256, 120), nn.Linear(120, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.bn(self.conv2(x))), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


def main(argv: list[str] | None = None) -> float:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32, help="samples per rank per step")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--full", action="store_true", help="the full Fashion-MNIST instead of the embedded subset")
    args = p.parse_args(argv)

    dist.init_process_group("gloo")  # any launcher: mpiexec starts the ranks, MPI carries the messages
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    transform = Compose([ToTensor(), Normalize((0.2860,), (0.3530,))])
    dataset = (lambda **kw: FashionMNIST(download=False, **kw)) if args.full else FashionMNISTSmall
    train, test = dataset(train=True, transform=transform), dataset(train=False, transform=transform)
    sampler = DistributedSampler(train, shuffle=True, seed=0)
    loader = DataLoader(train, batch_size=args.batch_size, sampler=sampler)
    test_loader = DataLoader(test, batch_size=500, sampler=DistributedSampler(test, shuffle=False))

    model = DDP(nn.SyncBatchNorm.convert_sync_batchnorm(Net()))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    accuracy = 0.0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        model.eval()
        totals = torch.zeros(2, dtype=torch.float64)  # correct, seen: summed over the ranks
        with torch.no_grad():
            for x, y in test_loader:
                totals += torch.tensor([float((model(x).argmax(1) == y).sum()), float(len(y))], dtype=torch.float64)
        dist.all_reduce(totals)
        accuracy = float(totals[0] / totals[1])
        if rank == 0:
            print(f"epoch {epoch + 1}: last loss {loss.item():.4f}, test accuracy {100 * accuracy:.2f}% "
                  f"({world} ranks x {args.batch_size})", flush=True)
    if rank == 0:
        torch.save(model.module.state_dict(), "ddp_mnist.pt")
    dist.destroy_process_group()
    return accuracy


if __name__ == "__main__":
    main()
