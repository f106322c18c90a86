"""Latency and bandwidth of MPI's allreduce on this machine, at 2, 3 and 4 ranks.

The script is the launcher and the worker in one file. Run plainly, it starts itself under ``mpiexec -n N``
(the ``mpiexec`` installed next to this Python, as the ``mpich`` wheel puts it, else the one on PATH) for each
rank count; each worker measures mpi4py's ``Comm.Allreduce`` in place (``MPI.IN_PLACE``, float32 NumPy
buffers, ``MPI.SUM``) and the non-blocking ``Comm.Iallreduce`` followed at once by ``Wait`` (what a
data-parallel reducer posts per gradient bucket), for message sizes 4 KB to 64 MB (powers of 4).

One measurement: every rank enters a ``Barrier``, then times one allreduce with ``MPI.Wtime``; the repeat's
time is the slowest rank's (the collective is done when the last rank has the sum). The table reports the
median over the repeats, after warm-up calls. Before timing a size, one allreduce of ``rank + 1`` is checked
against ``N (N + 1) / 2`` on every element, so the numbers are those of a real reduction. The timed buffers
hold zeros (the sum's cost does not depend on the values; repeated in-place sums of non-zeros would overflow).

Per rank count the table gives, for message size S and median time t:

* algorithm bandwidth ``S / t``;
* bus bandwidth ``2 (N - 1) / N * S / t``: the bytes each rank must send (and receive) in a bandwidth-optimal
  allreduce (ring, or reduce-scatter + allgather), over the time, comparable across rank counts;
* a fit of ``t = alpha + 2 (N - 1) / N * S / beta`` over the sizes (least squares on relative residuals, so
  4 KB weighs as much as 64 MB): alpha is the latency, beta the bus bandwidth of large messages.

This machine has 2 cores: 3 and 4 ranks are oversubscribed (more busy-polling processes than cores), and all
ranks talk through shared memory, so these are intra-node numbers, not a network's (see
``scaling_model.py`` for the network model).

    python benchmarks/allreduce_speed.py                    # 2, 3, 4 ranks, 4 KB .. 64 MB
    python benchmarks/allreduce_speed.py --quick            # 4 sizes, 5 repeats (< 30 s)
    python benchmarks/allreduce_speed.py --ranks 2 --json allreduce.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parent) not in sys.path:  # scaling_model is a sibling module
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from scaling_model import fit_alpha_beta, ring_factor  # noqa: E402

from minidl._atomic import atomic_write_text  # noqa: E402

SIZES = [4096 * 4**k for k in range(8)]  # 4 KB .. 64 MB
QUICK_SIZES = [4096, 65536, 2**20, 2**24]  # 4 KB, 64 KB, 1 MB, 16 MB
VARIANTS = ("Allreduce", "Iallreduce+Wait")
RESULT_TAG = "ALLREDUCE_RESULT "


# --------------------------------------------------------------------------------------------- the worker
def repeats_for(nbytes: int, quick: bool) -> int:
    """Timed repeats per size: 100 for small messages, fewer as they grow (about 256 MB moved per size)."""
    if quick:
        return 5
    return max(10, min(100, 2**28 // nbytes))


def worker(sizes: list[int], warmup: int, quick: bool) -> None:
    """Measure every size and variant on this rank; rank 0 prints the result as one tagged JSON line."""
    import numpy as np
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rank, n = comm.Get_rank(), comm.Get_size()

    def blocking(buf: np.ndarray) -> None:
        comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)

    def nonblocking(buf: np.ndarray) -> None:
        comm.Iallreduce(MPI.IN_PLACE, buf, op=MPI.SUM).Wait()

    calls = dict(zip(VARIANTS, (blocking, nonblocking), strict=True))
    results = []
    for nbytes in sizes:
        buf = np.full(nbytes // 4, rank + 1, dtype=np.float32)
        blocking(buf)
        ok = bool(np.all(buf == n * (n + 1) // 2))
        if not comm.allreduce(ok, op=MPI.LAND):
            raise SystemExit(f"rank {rank}: allreduce of {nbytes} bytes gave a wrong sum")
        buf[:] = 0
        reps = repeats_for(nbytes, quick)
        for variant, call in calls.items():
            for _ in range(warmup):
                call(buf)
            times = np.empty(reps)
            for i in range(reps):
                comm.Barrier()
                t0 = MPI.Wtime()
                call(buf)
                times[i] = MPI.Wtime() - t0
            slowest = np.empty_like(times) if rank == 0 else None
            comm.Reduce(times, slowest, op=MPI.MAX, root=0)
            if rank == 0:
                results.append({"bytes": nbytes, "variant": variant, "times_s": slowest.tolist()})
    if rank == 0:
        print(RESULT_TAG + json.dumps({"ranks": n, "mpi": MPI.Get_library_version().splitlines()[0].strip(),
                                       "results": results}), flush=True)


# ------------------------------------------------------------------------------------------- the launcher
def find_mpiexec() -> str:
    """The ``mpiexec`` beside this interpreter (the mpich wheel's, in a venv), else the first on PATH."""
    local = Path(sys.executable).parent / "mpiexec"
    if local.exists():
        return str(local)
    found = shutil.which("mpiexec")
    if found is None:
        raise SystemExit("allreduce_speed: no mpiexec found beside Python or on PATH; install the MPI "
                         "wheels: pip install mpi4py mpich")
    return found


def launch(ranks: int, sizes: list[int], warmup: int, quick: bool, timeout: float) -> dict[str, Any]:
    """Run the worker under ``mpiexec -n ranks`` and return rank 0's result."""
    cmd = [find_mpiexec(), "-n", str(ranks), sys.executable, str(Path(__file__).resolve()), "--worker",
           "--sizes", ",".join(map(str, sizes)), "--warmup", str(warmup)] + (["--quick"] if quick else [])
    # one BLAS thread per rank: the workers only copy and add, and spare threads would fight the ranks
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"allreduce_speed: {' '.join(cmd)} failed (exit {proc.returncode}):\n"
                         f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return json.loads(lines[-1][len(RESULT_TAG):])


def summarize(run: dict[str, Any]) -> dict[str, Any]:
    """Add medians, bandwidths and the alpha/beta fit of each variant to one rank count's raw result."""
    n = run["ranks"]
    for r in run["results"]:
        t = statistics.median(r["times_s"])
        r["median_s"] = t
        r["algbw_Bps"] = r["bytes"] / t
        r["busbw_Bps"] = ring_factor(n) * r["bytes"] / t
    run["fit"] = {}
    for variant in VARIANTS:
        rows = [r for r in run["results"] if r["variant"] == variant]
        alpha, beta = fit_alpha_beta([r["bytes"] for r in rows], [r["median_s"] for r in rows], n)
        run["fit"][variant] = {"alpha_s": alpha, "beta_Bps": beta}
    run["cores"] = os.cpu_count()
    run["oversubscribed"] = n > (os.cpu_count() or 1)
    return run


def size_label(nbytes: int) -> str:
    for unit, scale in (("MB", 2**20), ("KB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes // scale} {unit}"
    return f"{nbytes} B"


def table(run: dict[str, Any]) -> str:
    """One rank count's results as a Markdown table (both variants side by side) and its fit."""
    n = run["ranks"]
    note = (f"oversubscribed: {n} ranks on {run['cores']} cores" if run["oversubscribed"]
            else f"{n} ranks on {run['cores']} cores")
    out = [f"### {n} ranks ({note}; shared memory, intra-node)", "",
           "| size | Allreduce median | algbw GB/s | busbw GB/s | Iallreduce+Wait median | algbw GB/s | busbw GB/s |",
           "|---:|---:|---:|---:|---:|---:|---:|"]
    by = {(r["bytes"], r["variant"]): r for r in run["results"]}
    for nbytes in sorted({r["bytes"] for r in run["results"]}):
        cells = [size_label(nbytes)]
        for variant in VARIANTS:
            r = by[(nbytes, variant)]
            cells += [fmt_time(r["median_s"]), f"{r['algbw_Bps'] / 1e9:.2f}", f"{r['busbw_Bps'] / 1e9:.2f}"]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    for variant, f in run["fit"].items():
        out.append(f"fit {variant}: alpha = {f['alpha_s'] * 1e6:.1f} µs, beta = {f['beta_Bps'] / 1e9:.2f} GB/s "
                   f"(t = alpha + 2(N-1)/N * bytes / beta)")
    return "\n".join(out)


def fmt_time(t: float) -> str:
    return f"{t * 1e3:.2f} ms" if t >= 1e-3 else f"{t * 1e6:.0f} µs"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="4 sizes (4 KB .. 16 MB), 5 repeats, 1 warm-up")
    p.add_argument("--ranks", default="2,3,4", help="comma-separated rank counts (default 2,3,4)")
    p.add_argument("--json", metavar="PATH", help="also write every measurement here (atomically)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per mpiexec launch")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--sizes", help=argparse.SUPPRESS)
    p.add_argument("--warmup", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    if args.worker:
        worker([int(s) for s in args.sizes.split(",")], warmup, args.quick)
        return 0
    try:
        ranks = [int(r) for r in args.ranks.split(",")]
    except ValueError:
        p.error(f"--ranks: expected comma-separated integers, got {args.ranks!r}")
    if any(r < 2 for r in ranks):
        p.error(f"--ranks: an allreduce needs at least 2 ranks, got {args.ranks!r}")
    sizes = QUICK_SIZES if args.quick else SIZES
    cores = os.cpu_count() or 1
    print(f"MPI allreduce on one machine ({cores} cores), float32, in place, SUM; mpiexec: {find_mpiexec()}")
    if any(r > cores for r in ranks):
        print(f"note: {', '.join(str(r) for r in ranks if r > cores)} ranks oversubscribe the {cores} cores: "
              f"ranks share cores and their times include waiting for the scheduler")
    runs = []
    for n in ranks:
        run = summarize(launch(n, sizes, warmup, args.quick, args.timeout))
        runs.append(run)
        print(f"\n{table(run)}", flush=True)
    if args.json:
        payload = {"cores": cores, "quick": args.quick, "sizes": sizes, "runs": runs}
        atomic_write_text(args.json, json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
