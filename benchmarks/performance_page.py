"""Regenerate the documentation's performance page from fresh benchmark runs.

Runs ``train_speed.py --json`` at 1 and 2 threads, ``scaling.py --json`` and the data-parallel comparison
``train_speed.py --procs 2 --json`` (each in its own process, as a user would), then writes
``docs/performance.md`` (the tables) and the plots ``docs/assets/performance/scaling_<sweep>_<net>.png``
(seconds per epoch of minidl and PyTorch against the swept parameter, at each thread count) and
``data_parallel.png`` (each library's configurations, processes x threads, on the same global batch). The
engineering notes behind the numbers stay in ``benchmarks/PERFORMANCE.md``, which the site shows as the next
page.

    python benchmarks/performance_page.py                       # train_speed --quick, full scaling sweeps
    python benchmarks/performance_page.py --scaling-args=--quick       # a fast look (512 samples per point)
    python benchmarks/performance_page.py --train-json a.json --scaling-json b.json --procs-json c.json
                                                                 # from earlier runs
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shlex
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "performance.md"
FIGURES = ROOT / "docs" / "assets" / "performance"
DASH = "–"


def _run(script: str, args: list[str], json_path: Path) -> dict:
    cmd = [sys.executable, str(ROOT / "benchmarks" / script), *args, "--json", str(json_path)]
    print("$", " ".join(shlex.quote(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True)
    return json.loads(json_path.read_text())


def _f(v: float | None, spec: str) -> str:
    return DASH if v is None else format(v, spec)


def training_table(runs: dict[int, dict]) -> str:
    """One row per workload: s/epoch of both libraries and their ratio at every thread count, peak memory."""
    threads = sorted(runs)
    head = "| workload | " + " | ".join(f"minidl s/epoch ({t} thr) | torch s/epoch ({t} thr) | ratio ({t} thr)"
                                       for t in threads) + " | peak MB minidl / torch |"
    rows = [head, "|---" * (2 + 3 * len(threads)) + "|"]
    by_name = {t: {r["workload"]: r for r in runs[t]["results"]} for t in threads}
    for name in by_name[threads[0]]:
        cells = []
        for t in threads:
            r = by_name[t].get(name, {})
            cells += [_f(r.get("minidl_s_per_epoch"), ".2f"), _f(r.get("torch_s_per_epoch"), ".2f"),
                      _f(r.get("ratio"), ".2f")]
        last = by_name[threads[-1]].get(name, {})
        memory = f"{_f(last.get('minidl_peak_mb'), '.0f')} / {_f(last.get('torch_peak_mb'), '.0f')}"
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {memory} |")
    return "\n".join(rows)


def sequence_table(runs: dict[int, dict]) -> str:
    rows = ["| workload | threads | minidl ms/step | torch ms/step | ratio |", "|---|---:|---:|---:|---:|"]
    for t in sorted(runs):
        for s in runs[t].get("sequences", []):
            rows.append(f"| {s['workload']} | {t} | {s['minidl_ms']:.1f} | {_f(s['torch_ms'], '.1f')} | "
                        f"{_f(s['ratio'], '.2f')} |")
    return "\n".join(rows) if len(rows) > 2 else ""


def scaling_sections(scaling: dict) -> tuple[str, list[Path]]:
    """A table and a plot per (sweep, net): s/epoch of both libraries against the swept parameter."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for p in scaling["points"]:
        series[(p["sweep"], p["net"], p["param"])].append(p)
    FIGURES.mkdir(parents=True, exist_ok=True)
    out, figures = [], []
    for (sweep, net, param), points in series.items():
        rows = [f"| {param} | threads | minidl s/epoch | torch s/epoch | minidl / torch |",
                "|---:|---:|---:|---:|---:|"]
        fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
        for t in sorted({p["threads"] for p in points}):
            pts = sorted((p for p in points if p["threads"] == t), key=lambda p: p["value"])
            xs = [p["value"] for p in pts]
            ours = [p["result"]["minidl_s_per_epoch"] for p in pts]
            theirs = [p["result"]["torch_s_per_epoch"] for p in pts]
            ax.plot(xs, ours, "o-", label=f"minidl, {t} thr")
            if all(v is not None for v in theirs):
                ax.plot(xs, theirs, "s--", label=f"PyTorch, {t} thr")
            for p in pts:
                r = p["result"]
                rows.append(f"| {p['value']} | {t} | {r['minidl_s_per_epoch']:.2f} | "
                            f"{_f(r['torch_s_per_epoch'], '.2f')} | {_f(r['ratio'], '.2f')} |")
        ax.set(xscale="log", yscale="log", xlabel=param, ylabel="s per 60k-sample epoch", title=f"{sweep}: {net}")
        ax.legend(fontsize=8)
        path = FIGURES / f"scaling_{sweep}_{re.sub(r'[^A-Za-z0-9_.-]+', '-', net)}.png"  # 'lenet c/2c' -> lenet-c-2c
        fig.savefig(path, dpi=100)
        plt.close(fig)
        figures.append(path)
        out.append(f"### {sweep}: {net}\n\n![{sweep}: {net}](assets/performance/{path.name})\n\n" + "\n".join(rows))
    return "\n\n".join(out), figures


def data_parallel_section(dp: dict) -> str:
    """The ``--procs`` comparison: s/epoch of every configuration, each library's best and their ratio, and a
    plot of the configurations relative to PyTorch's best (below 1: faster than PyTorch at its best)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    procs, threads = dp["procs"], dp["threads"]
    results = dp["data_parallel"]
    seen = list(dict.fromkeys(k for r in results for k in r["s_per_epoch"]))
    labels = sorted(seen, key=lambda k: k.startswith("torch"))  # minidl's configurations first (a stable sort)
    rows = ["| workload | " + " | ".join(labels) + " | minidl best / torch best | minidl "
            f"{procs}p over 1p x1t |", "|---" * (len(labels) + 3) + "|"]
    for r in results:
        cells = [_f(r["s_per_epoch"].get(k), ".2f") for k in labels]
        rows.append(f"| {r['workload']} | " + " | ".join(cells) + f" | {_f(r.get('best_ratio'), '.2f')} | "
                    f"{r['speedup_vs_1t']:.2f}x |")
    fig, ax = plt.subplots(figsize=(7.2, 3.8), layout="constrained")
    width = 0.8 / len(labels)
    for j, k in enumerate(labels):
        ys = [r["s_per_epoch"].get(k, float("nan")) / r["s_per_epoch"][r["torch_best"]]
              if "torch_best" in r else float("nan") for r in results]
        ax.bar([i + (j - (len(labels) - 1) / 2) * width for i in range(len(results))], ys, width, label=k,
               hatch="//" if k.startswith("torch") else None)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks(range(len(results)), [r["workload"] for r in results])
    ax.set(ylabel="s/epoch relative to PyTorch's best", title=f"{procs} processes x 1 thread against 1 process "
           f"x {threads} threads, same global batch")
    ax.legend(fontsize=7, ncol=2)
    FIGURES.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURES / "data_parallel.png", dpi=100)
    plt.close(fig)
    return "\n".join([
        f"Each workload trains the same data in the same global batches as {procs} processes at 1 thread "
        f"(`DistributedDataParallel`: minidl's over MPI, PyTorch's over gloo) and as 1 process at 1 and {threads} "
        "threads; seconds per 60k-sample epoch, the median of every launch. The ratio compares each library's "
        f"best configuration (for minidl: 1 process at {threads} threads or {procs} processes). The allreduce "
        "measurements and the model of scaling to 64 ranks are in the [performance notes](performance-notes.md).",
        "", "![data-parallel configurations](assets/performance/data_parallel.png)", "", *rows])


def write_page(train_runs: dict[int, dict], scaling: dict | None, commands: list[str],
               data_parallel: dict | None = None) -> Path:
    parts = [
        "# Performance",
        "",
        "<!-- generated by benchmarks/performance_page.py: edit that script, not this file -->",
        "",
        "minidl and PyTorch's CPU build train the same workloads side by side in one process, with the same data, "
        "batch order, initial weights, optimizer and thread count (`benchmarks/train_speed.py`). The machine "
        "is shared and noisy, so the ratio minidl / PyTorch (below 1: minidl faster) is the number to read; "
        "the seconds are there to support it. How the kernels got there, and what is still slow and why, "
        "is in the [performance notes](performance-notes.md).",
        "",
        f"Measured on {platform.machine()} with Python {platform.python_version()}, by:",
        "",
        "```bash",
        *commands,
        "```",
        "",
        "## Training workloads (Fashion-MNIST)",
        "",
        training_table(train_runs),
    ]
    seq = sequence_table(train_runs)
    if seq:
        parts += ["", "## Sequence models", "", seq]
    if scaling is not None:
        text, _ = scaling_sections(scaling)
        parts += ["", "## Scaling", "", "Seconds per 60k-sample epoch against batch size, width and channels, "
                  f"{scaling['config']['samples']} samples x {scaling['config']['epochs']} timed epochs per point.",
                  "", text]
    if data_parallel is not None:
        parts += ["", "## Data-parallel training", "", data_parallel_section(data_parallel)]
    PAGE.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return PAGE


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--train-args", default="--quick", help="arguments of train_speed.py (default --quick)")
    p.add_argument("--scaling-args", default="", help="arguments of scaling.py (default: its full sweeps)")
    p.add_argument("--no-scaling", action="store_true")
    p.add_argument("--train-json", type=Path, nargs="+", help="earlier train_speed.py --json files instead")
    p.add_argument("--scaling-json", type=Path, help="an earlier scaling.py --json file instead")
    p.add_argument("--procs-args", default="--procs 2 --quick --rounds 3",
                   help="arguments of the data-parallel train_speed.py run (default --procs 2 --quick --rounds 3)")
    p.add_argument("--no-procs", action="store_true", help="leave out the data-parallel section")
    p.add_argument("--procs-json", type=Path, help="an earlier train_speed.py --procs --json file instead")
    args = p.parse_args(argv)
    commands: list[str] = []
    # the raw results are kept beside the plots, so the page can be rebuilt from them (--train-json ...)
    FIGURES.mkdir(parents=True, exist_ok=True)
    if args.train_json:
        runs = [json.loads(f.read_text()) for f in args.train_json]
        train_runs = {r["threads"]: r for r in runs}
    else:
        train_runs = {}
        for t in args.threads:
            extra = [*shlex.split(args.train_args), "--threads", str(t)]
            commands.append("python benchmarks/train_speed.py " + " ".join(extra))
            train_runs[t] = _run("train_speed.py", extra, FIGURES / f"train_{t}.json")
    scaling = None
    if args.scaling_json:
        scaling = json.loads(args.scaling_json.read_text())
    elif not args.no_scaling:
        commands.append(f"python benchmarks/scaling.py {args.scaling_args}".rstrip())
        scaling = _run("scaling.py", shlex.split(args.scaling_args), FIGURES / "scaling.json")
    dp = None
    if args.procs_json:
        dp = json.loads(args.procs_json.read_text())
        (FIGURES / "procs.json").write_text(json.dumps(dp, indent=2))
    elif not args.no_procs:
        commands.append(f"python benchmarks/train_speed.py {args.procs_args}")
        dp = _run("train_speed.py", shlex.split(args.procs_args), FIGURES / "procs.json")
    print(f"wrote {write_page(train_runs, scaling, commands or ['(from earlier --json runs)'], dp)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
