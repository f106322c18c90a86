"""The data-parallel scaling model (benchmarks/scaling_model.py) against hand arithmetic, and a 2-rank run of
benchmarks/allreduce_speed.py --quick under the MPI launcher (skipped without mpi4py)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import scaling_model as sm  # noqa: E402

NET = sm.Network("test link", bandwidth_Bps=1e9, latency_s=10e-6)


def profile(params: int = 1_000_000, batch: int = 64, c: float = 1e-3, update: float = 0.0) -> sm.Profile:
    return sm.Profile("hand", params, batch, c, update, "hand-made")


def test_one_rank_has_no_communication():
    assert sm.allreduce_time(4e6, 1, NET) == 0.0
    (p,) = sm.scaling(profile(update=2e-3), NET, (1,))
    assert p.comm_s == 0.0
    assert p.step_s == pytest.approx(64 * 1e-3 + 2e-3)
    assert p.speedup == pytest.approx(1.0) and p.efficiency == pytest.approx(1.0)


def test_ring_allreduce_at_four_ranks_matches_hand_arithmetic():
    # 4 MB of fp32 gradients, 4 ranks: each rank sends 2 * 3/4 * 4e6 = 6e6 bytes -> 6 ms at 1 GB/s,
    # plus 2 latency rounds (log2 4) of 10 us
    assert sm.ring_factor(4) == 1.5
    assert sm.allreduce_time(4e6, 4, NET) == pytest.approx(6e-3 + 20e-6)
    # the profile's gradient bytes: 1e6 params x 4 bytes (fp32), x 2 (fp16)
    (p4,) = sm.scaling(profile(), NET, (4,))
    assert p4.comm_s == pytest.approx(6.02e-3)
    (p4_half,) = sm.scaling(profile(), NET, (4,), bytes_per_param=2.0)
    assert p4_half.comm_s == pytest.approx(3e-3 + 20e-6)


def test_step_time_overlap_hides_communication_up_to_the_overlap_share():
    # global compute 64 ms over 4 ranks = 16 ms each; overlap 2/3 hides up to 10.667 ms of communication
    assert sm.step_time(4, 64e-3, 6.02e-3, overlap=2 / 3) == pytest.approx(16e-3)
    assert sm.step_time(4, 64e-3, 12e-3, overlap=2 / 3) == pytest.approx(16e-3 + 12e-3 - 32e-3 / 3)
    assert sm.step_time(4, 64e-3, 12e-3, overlap=0.0, update_s=1e-3) == pytest.approx(16e-3 + 1e-3 + 12e-3)
    # speedup and efficiency of an exposed case: no overlap, 4 ranks -> T1 = 64 ms, T4 = 16 + 6.02 ms
    (p,) = sm.scaling(profile(), NET, (4,), overlap=0.0)
    assert p.speedup == pytest.approx(64 / 22.02)
    assert p.efficiency == pytest.approx(64 / 22.02 / 4)


def point(n: int, speedup: float) -> sm.Point:
    return sm.Point(n, 1.0, 0.0, speedup, speedup / n)


def test_knee_on_hand_made_curves():
    # efficiency falls below 50% at 8 ranks (3.6 / 8 = 45%)
    assert sm.knee([point(1, 1), point(2, 1.9), point(4, 3.5), point(8, 3.6)])[:2] == (4, 8)
    # speedup stops growing at 8 ranks although efficiency is still 50%
    assert sm.knee([point(1, 1), point(2, 2), point(4, 4), point(8, 4)])[:2] == (4, 8)
    # scales through the grid
    assert sm.knee([point(1, 1), point(2, 2), point(4, 3.9)]) == (4, None, "scales through the grid")
    # already below 50% at 2 ranks: it scales to 1
    assert sm.knee([point(1, 1), point(2, 0.9)])[:2] == (1, 2)


def test_per_rank_batch_needed_is_the_smallest_batch_reaching_half_efficiency():
    # no update, overlap o: efficiency >= 1/2  <=>  comm <= (1 + o) * c * b  (T = c b + max(0, comm - o c b))
    prof = profile(params=1_000_000, c=1e-3)
    comm = sm.allreduce_time(4e6, 64, NET)
    expected = math.ceil(comm / ((1 + 2 / 3) * 1e-3))
    assert sm.per_rank_batch_needed(prof, NET, 64) == expected
    assert sm.per_rank_batch_needed(prof, NET, 64, overlap=0.0) == math.ceil(comm / 1e-3)
    # None when even the largest batch searched is not enough
    assert sm.per_rank_batch_needed(prof, NET, 64, limit=expected - 1) is None


def test_fit_recovers_alpha_and_beta_from_exact_times():
    sizes = [4096 * 4**k for k in range(8)]
    alpha, beta = 30e-6, 2e9
    times = [alpha + sm.ring_factor(3) * s / beta for s in sizes]
    a, b = sm.fit_alpha_beta(sizes, times, 3)
    assert a == pytest.approx(alpha, rel=1e-9) and b == pytest.approx(beta, rel=1e-9)


def test_allreduce_speed_quick_two_ranks(tmp_path):
    pytest.importorskip("mpi4py")
    import allreduce_speed

    out = tmp_path / "allreduce.json"
    try:
        allreduce_speed.find_mpiexec()
    except SystemExit:
        pytest.skip("no mpiexec")
    proc = subprocess.run([sys.executable, str(BENCH / "allreduce_speed.py"), "--quick", "--ranks", "2",
                           "--json", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "| size | Allreduce median |" in proc.stdout
    assert "fit Allreduce: alpha =" in proc.stdout
    payload = json.loads(out.read_text())
    assert set(payload) == {"cores", "quick", "sizes", "runs"}
    (run,) = payload["runs"]
    assert run["ranks"] == 2
    assert set(run["fit"]) == {"Allreduce", "Iallreduce+Wait"}
    assert {r["bytes"] for r in run["results"]} == set(payload["sizes"])
    for r in run["results"]:
        assert {"bytes", "variant", "times_s", "median_s", "algbw_Bps", "busbw_Bps"} <= set(r)
        assert r["median_s"] > 0 and r["busbw_Bps"] == pytest.approx(r["algbw_Bps"])  # 2(N-1)/N = 1 at N = 2
