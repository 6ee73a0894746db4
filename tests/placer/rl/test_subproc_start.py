"""vec=subproc under a long TMPDIR: SB3's forkserver put its socket at
TMPDIR/pymp-XXXXXXXX/listener-XXXXXXXX, and a TMPDIR of ~75 characters or more failed as
"AF_UNIX path too long" before any training; the env workers now start by spawn there."""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import placer.rl.train as train_module

needs_forkserver = pytest.mark.skipif("forkserver" not in multiprocessing.get_all_start_methods(),
                                      reason="no forkserver start method here (SB3 spawns already)")


@needs_forkserver
@pytest.mark.parametrize(("length", "method"), [(40, None), (100, "spawn")])
def test_the_start_method_follows_the_socket_path_length(monkeypatch: pytest.MonkeyPatch, length: int,
                                                        method: str | None) -> None:
    monkeypatch.setattr(multiprocessing.util, "get_temp_dir", lambda: "/" + "t" * (length - 1))
    assert train_module._start_method() == method


@needs_forkserver
def test_subprocess_envs_start_under_a_long_tmpdir(tmp_path: Path) -> None:
    long_tmp = tmp_path / ("t" * max(1, 90 - len(str(tmp_path))))
    long_tmp.mkdir()
    script = """if True:
        from netlists.generate import generate
        from placer.rl.config import TrainConfig
        from placer.rl.train import make_vec_env
        config = TrainConfig(out="unused", max_grid=16, max_nodes=8, max_edges=32, n_envs=2, vec="subproc",
                             soft_placement="keep", device="cpu")
        vec = make_vec_env([generate(4, 8, 6, seed=2)], config, seed=0)
        try:
            vec.reset()  # (an answer from each worker)
            print(vec.num_envs)
        finally:
            vec.close()
    """
    env = {**os.environ, "TMPDIR": str(long_tmp)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
