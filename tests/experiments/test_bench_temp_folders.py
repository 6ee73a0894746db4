"""The benchmark scripts leave nothing in the system's temporary folder: each run of
train_memory.py left its training run there (255 MB over 22 runs) and an empty folder per
forward count, ppo_update_speed.py an empty folder and an empty SB3-<time> folder per measuring
process, rollout_buffer_memory.py an empty folder per run.

Each script runs its cheapest mode in a fresh process whose TMPDIR is an empty folder; torch's
own compile cache (``torchinductor_<user>``, one per user, reused by every run) is sent
elsewhere, as it is not the scripts'."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "experiments" / "bench"


def _run_in_empty_temp(args: list[str], tmp_path: Path) -> list[str]:
    """Run ``python ARGS`` from ``BENCH`` with TMPDIR an empty folder; what it left there."""
    temp, cwd = tmp_path / "temp", tmp_path / "cwd"
    temp.mkdir()
    cwd.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "torch-cache"),
           "PYTHONPATH": os.pathsep.join([str(BENCH), str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not any(cwd.iterdir())
    return sorted(p.name for p in temp.iterdir())


def test_train_memory_removes_its_training_run_and_its_counting_folder(tmp_path: Path) -> None:
    code = ("import train_memory; train_memory.child('default', (32, 256, 16, 16)); "
            "print(train_memory.forward_bytes('default', 32, 256, 512))")
    assert _run_in_empty_temp(["-c", code], tmp_path) == []


def test_ppo_update_speed_leaves_no_folder_per_measuring_process(tmp_path: Path) -> None:
    args = [str(BENCH / "ppo_update_speed.py"), "--child", "0", "--n-steps", "8"]  # (one measuring process)
    assert _run_in_empty_temp(args, tmp_path) == []


def test_policy_update_speed_leaves_no_folder(tmp_path: Path) -> None:
    args = [str(BENCH / "policy_update_speed.py"), "--designs", "default", "--batch-sizes", "4", "--repeats", "1"]
    assert _run_in_empty_temp(args, tmp_path) == []


def test_rollout_buffer_memory_leaves_no_folder(tmp_path: Path) -> None:
    args = [str(BENCH / "rollout_buffer_memory.py"), "--n-steps", "8", "--max-edges", "64", "--update-n-steps", "8",
            "--rounds", "1"]
    assert _run_in_empty_temp(args, tmp_path) == []
