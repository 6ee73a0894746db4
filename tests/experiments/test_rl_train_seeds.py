"""experiments/rl/train_seeds.py: one final model per training seed, its figures as claimed, a
rerun that does not train a finished seed again, and bad requests refused in one line."""

from __future__ import annotations

import json
import math
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "rl" / "train_seeds.py"
TINY = ["--designs", "default", "--generated", "0", "--eval-designs", "default", "--seeds", "0,1",
        "--timesteps", "64", "--n-steps", "64", "--n-envs", "1", "--random-episodes", "2"]  # (a few s per seed)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def _model_fd(path: Path) -> tuple[int, float]:
    """The steps of a saved model and its deterministic episode's FD proxy on the default
    design, computed here through the package's API."""
    from netlists.generate import default_design
    from placer.device import torch_threads
    from placer.rl.inference import env_for_model, load_model, place_with_policy

    model = load_model(path, "cpu")
    with torch_threads("cpu", 1):
        _, info = place_with_policy(model, env_for_model(model, *default_design(), model_path=path), samples=0)
    return int(model.num_timesteps), info["cost"]["proxy"]


@pytest.mark.slow  # (over 10 s: `pytest -m "not slow"` leaves it out)
def test_each_seeds_final_model_is_recorded_and_a_finished_seed_is_not_trained_again(tmp_path: Path) -> None:
    from netlists.generate import default_design
    from placer.algorithms.base import get_placer
    from placer.cost.proxy import evaluate
    from placer.provenance import environment_prefix

    out = tmp_path / "out"
    first = _run([*TINY, "--out", str(out)], tmp_path)
    assert first.returncode == 0, first.stderr
    progress = [line for line in first.stdout.splitlines() if line.startswith("seed ")]
    assert [line.split(":")[0] for line in progress] == ["seed 0 (1/2)", "seed 1 (2/2)"]
    assert all("trained, 64 steps" in line for line in progress), progress
    data = json.loads((out / "results.json").read_text())
    # each seed's figure is its final model's (last.zip's) deterministic episode, beside it
    # the same seed's untrained policy's (checkpoints/step_0.zip)
    fds, untrained = [], []
    for seed in data["seeds"]:
        run = out / "runs" / f"seed_{seed['seed']}"
        steps, fd = _model_fd(run / "last.zip")
        assert seed["steps"] == steps == 64 and seed["fd"]["default"]["proxy"] == fd
        assert (0, seed["step_0_fd"]["default"]["proxy"]) == _model_fd(run / "checkpoints" / "step_0.zip")
        assert (out / "curves" / f"seed_{seed['seed']}.csv").read_text() == (run / "curve.csv").read_text()
        fds.append(fd)
        untrained.append(seed["step_0_fd"]["default"]["proxy"])
    assert [s["seed"] for s in data["seeds"]] == [0, 1]
    assert data["stats"]["step_0_fd"]["default"]["mean"] == pytest.approx(statistics.fmean(untrained))
    stats = data["stats"]["fd"]["default"]
    assert stats["mean"] == pytest.approx(statistics.fmean(fds)) and stats["min"] == min(fds)
    assert stats["max"] == max(fds) and stats["std"] == pytest.approx(statistics.stdev(fds), abs=1e-12)
    netlist, placement = default_design()
    greedy = evaluate(netlist, get_placer("greedy").place(netlist, placement, 600.0, 0)).proxy
    reference = data["baselines"]["default"]
    assert reference["greedy"] == greedy
    assert len(reference["random_episodes"]) == 2 and reference["random_best"] == min(reference["random_episodes"])
    assert data["settings"]["eval_splits"] == {"default": "trained on"} and data["settings"]["timesteps"] == 64
    table = (out / "table.md").read_text()
    assert table.splitlines()[2].startswith(
        f"Made by `{environment_prefix()}python experiments/rl/train_seeds.py --designs default")
    for seed, fd, start in zip((0, 1), fds, untrained, strict=True):
        assert f"| {seed} | 64 | {fd:.4f} | {(fd / greedy - 1) * 100:+.1f} % | {(fd / start - 1) * 100:+.1f} % |" in table
        assert f"| {seed} | {start:.4f} | {(start / greedy - 1) * 100:+.1f} % |" in table
    assert f"| mean | | {statistics.fmean(fds):.4f} |" in table
    assert f"| greedy | | {greedy:.4f} |" in table and f"| random, best of 2 | | {reference['random_best']:.4f} |" in table

    # a rerun after seed 1's folder is lost: seed 0 is not trained again, seed 1 is, to the
    # same final model (steps, not minutes: the machine's load does not change it)
    last = out / "runs" / "seed_0" / "last.zip"
    stamp = last.stat().st_mtime_ns
    shutil.rmtree(out / "runs" / "seed_1")
    second = _run([*TINY, "--out", str(out)], tmp_path)
    assert second.returncode == 0, second.stderr
    assert "seed 0 (1/2): already trained, 64 steps" in second.stdout
    assert "seed 1 (2/2): trained, 64 steps" in second.stdout
    assert last.stat().st_mtime_ns == stamp
    again = json.loads((out / "results.json").read_text())
    assert [s["fd"] for s in again["seeds"]] == [s["fd"] for s in data["seeds"]]
    assert all(math.isfinite(s["train_s"]) and s["train_s"] > 0 for s in again["seeds"])


@pytest.mark.parametrize(("args", "message"), [
    # SB3 runs whole rollouts: 300 steps would train 512, and a rerun found the run past its timesteps
    (["--timesteps", "300", "--n-steps", "128"], "--timesteps 300 is not a multiple of --n-steps x --n-envs (256)"),
    (["--seeds", "0,a"], "--seeds: expected comma-separated whole numbers"),
    (["--seeds", "1,1"], "--seeds: '1' given twice"),
    (["--designs", "default", "--eval-designs", "nosuch"], "design 'nosuch': not a file"),
    (["--random-episodes", "0"], "--random-episodes: must be >= 1"),
])
def test_bad_requests_are_one_line_before_any_training(args: list[str], message: str, tmp_path: Path) -> None:
    done = _run([*args, "--out", str(tmp_path / "out")], tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and message in lines[0], done.stderr
    assert not (tmp_path / "out").exists()


def test_the_recorded_study_is_written_only_when_named(tmp_path: Path) -> None:
    done = _run([], tmp_path)
    assert done.returncode == 2 and "required: --out" in done.stderr, done.stderr
