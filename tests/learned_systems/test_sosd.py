"""SOSD key files: reading (whole, a spaced subset, every malformed shape), writing, and their
use as a dataset by the index objective, the tuning env and ``placer tune``."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from typer.testing import CliRunner

import envs  # noqa: F401  (registers the environments)
from learned_systems.datasets import (
    check_dataset,
    dataset_label,
    generate_keys,
    is_key_file,
    load_keys,
)
from learned_systems.objectives import IndexObjective
from learned_systems.sosd import SOSDFormatError, read_sosd, write_sosd


def _raw(path: Path, count: int, keys: np.ndarray, dtype: str) -> Path:
    """A key file written byte by byte, as SOSD's own tools write it (not by write_sosd)."""
    path.write_bytes(np.array([count], "<u8").tobytes() + np.asarray(keys, dtype).tobytes())
    return path


def test_a_file_written_as_sosd_writes_it_reads_back_exactly(tmp_path):
    keys = generate_keys("books", 5_000, seed=2)
    for name, dtype in (("books_5K_uint64", "<u8"), ("plain", "<u8")):
        read = read_sosd(_raw(tmp_path / name, keys.size, keys, dtype))
        assert read.dtype == np.uint64 and np.array_equal(read, keys) and not read.flags.writeable
    small = np.array([0, 3, 3, 2**32 - 1], np.uint64)
    read = read_sosd(_raw(tmp_path / "ids_uint32", small.size, small, "<u4"))
    assert read.dtype == np.uint64 and np.array_equal(read, small)
    assert np.array_equal(read_sosd(_raw(tmp_path / "four_bytes_each", 4, small, "<u4")), small)  # size says so


def test_a_subset_is_evenly_spaced_with_both_ends_and_a_small_file_is_read_whole(tmp_path):
    keys = np.arange(0, 1_000_000, 7, dtype=np.uint64)
    path = write_sosd(tmp_path / "steps_uint64", keys)
    subset = read_sosd(path, max_keys=1_000)
    assert subset.size == 1_000 and subset[0] == keys[0] and subset[-1] == keys[-1]
    gaps = np.diff(subset.astype(np.int64))
    assert gaps.min() >= 7 * 142 and gaps.max() <= 7 * 144  # 142,857 keys / 999 gaps: ~143 keys each
    assert np.array_equal(read_sosd(path, max_keys=10**7), keys)
    assert read_sosd(path, max_keys=0).size == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "shorter than the 8-byte key count"),
        (b"\x02\0\0", "shorter than the 8-byte key count"),
        (np.array([5], "<u8").tobytes() + b"\x01" * 17, "header counts 5 keys, which take 40 bytes as uint64 or 20"),
        (np.array([2], "<u8").tobytes() + np.array([1, 2, 3], "<u8").tobytes(), "holds 24 bytes after it"),
        (np.array([3], "<u8").tobytes() + np.array([1, 5, 4], "<u8").tobytes(), "key 2 (4) is below key 1 (5)"),
    ],
)
def test_a_malformed_file_is_refused_naming_it_and_what_was_expected(tmp_path, content, message):
    path = tmp_path / "keys_uint64"
    path.write_bytes(content)
    with pytest.raises(SOSDFormatError, match="keys_uint64") as caught:
        read_sosd(path)
    assert message in str(caught.value)


def test_a_name_that_disagrees_with_the_size_is_refused(tmp_path):
    path = _raw(tmp_path / "fb_uint32", 3, np.array([1, 2, 3]), "<u8")  # 8-byte keys
    with pytest.raises(SOSDFormatError, match="the name says uint32 keys, but the file's size fits 3 keys of uint64"):
        read_sosd(path)


def test_the_order_is_checked_over_the_whole_file_not_only_the_subset(tmp_path, monkeypatch):
    import learned_systems.sosd as sosd

    monkeypatch.setattr(sosd, "_ORDER_CHUNK", 1_000)  # the fall lies across a chunk boundary
    keys = np.arange(10_000, dtype=np.uint64)
    keys[1_000] = 0  # key 1,000 below key 999; a 10-key subset never picks either
    path = _raw(tmp_path / "k", keys.size, keys, "<u8")
    with pytest.raises(SOSDFormatError, match="key 1,000 \\(0\\) is below key 999 \\(999\\)"):
        read_sosd(path, max_keys=10)


def test_missing_files_and_folders_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_sosd(tmp_path / "absent_uint64")
    with pytest.raises(SOSDFormatError, match="a folder"):
        read_sosd(tmp_path)
    with pytest.raises(ValueError, match="max_keys"):
        read_sosd(write_sosd(tmp_path / "k", [1, 2]), max_keys=-1)


def test_an_empty_key_set_round_trips_but_is_no_dataset(tmp_path):
    """A file of 0 keys was tuned: every index 'perfect' over nothing, scores meaningless."""
    path = write_sosd(tmp_path / "none_uint64", np.zeros(0, np.uint64))
    assert read_sosd(path).size == 0
    with pytest.raises(SOSDFormatError, match="none_uint64: holds no keys"):
        load_keys(path, 1_000)
    with pytest.raises(SOSDFormatError, match="holds no keys"):
        IndexObjective(str(path), keys=1_000, queries=100, mode="cost")


def test_write_refuses_what_the_format_cannot_hold_and_leaves_no_temporary(tmp_path):
    with pytest.raises(ValueError, match="does not fit a uint32 key file"):
        write_sosd(tmp_path / "big", [1, 2**32], width=4)
    with pytest.raises(ValueError, match="sorted"):
        write_sosd(tmp_path / "unsorted", [3, 1])
    with pytest.raises(ValueError, match="names uint32 keys, but width=8"):
        write_sosd(tmp_path / "ids_uint32", [1, 2])
    with pytest.raises(ValueError, match="width must be 8"):
        write_sosd(tmp_path / "k", [1], width=2)
    path = write_sosd(tmp_path / "ids_uint32", [1, 2], width=4)
    assert path.stat().st_size == 8 + 2 * 4
    write_sosd(path, [5, 6, 7], width=4)  # replaced whole
    assert read_sosd(path).tolist() == [5, 6, 7]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ids_uint32"]


def test_datasets_are_generator_names_or_key_files(tmp_path):
    path = write_sosd(tmp_path / "wiki ts_uint64", generate_keys("normal", 3_000, seed=1))
    assert not is_key_file("books") and is_key_file(str(path)) and is_key_file(path)
    assert dataset_label("books") == "books" and dataset_label(path) == "wiki_ts_uint64"
    named_like_a_generator = write_sosd(tmp_path / "lognormal", [1, 2, 3])  # ./lognormal
    assert dataset_label(named_like_a_generator) == "lognormal_file"  # not the generated set's
    check_dataset(str(path))
    with pytest.raises(ValueError, match="or the path of a SOSD key file"):
        check_dataset(str(tmp_path / "absent"))
    with pytest.raises(ValueError, match="unknown dataset"):
        check_dataset(str(tmp_path))  # a folder
    assert np.array_equal(load_keys(path, 1_000), read_sosd(path, max_keys=1_000))


def test_the_index_objective_and_env_run_on_a_key_file(tmp_path):
    from gymnasium.utils.env_checker import check_env

    keys = generate_keys("clustered", 20_000, seed=4)
    path = write_sosd(tmp_path / "clusters_uint64", keys)
    objective = IndexObjective(str(path), keys=5_000, queries=500, mode="cost")
    assert objective.workload == "clusters_uint64" and objective.keys.size == 5_000
    result = objective.evaluate(objective.space.defaults())
    assert result.ok and result.workload == "clusters_uint64"
    env = gym.make("placer/IndexTuning-v0", datasets=[path, "uniform"], keys=5_000, queries=500, mode="cost")
    check_env(env.unwrapped, skip_render_check=True)
    _, info = env.reset(seed=0, options={"dataset": str(path)})
    assert info["dataset"] == "clusters_uint64"
    *_, step_info = env.step(env.action_space.sample())
    assert step_info["dataset"] == "clusters_uint64"
    with pytest.raises(ValueError, match="or the path of a SOSD key file"):
        env.reset(options={"dataset": str(tmp_path / "absent")})


def test_placer_tune_runs_on_a_key_file_and_refuses_to_resume_on_other_keys(tmp_path):
    from placer.cli import app

    keys = generate_keys("lognormal", 30_000, seed=5)
    path = write_sosd(tmp_path / "logn_uint64", keys)
    out = tmp_path / "out"
    args = ["tune", "--system", "index", "--workload", str(path), "--tuner", "random", "--trials", "2",
            "--index-cost", "counted", "--rows", "10000", "--quiet", "--out", str(out)]  # fmt: skip
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    report = json.loads((out / "best_config.json").read_text())
    assert report["run"] == "index-logn_uint64-safe" and report["workload"] == "logn_uint64"
    assert report["settings"]["rows"] == 10_000 and len(report["settings"]["keys_sha256"]) == 64
    assert CliRunner().invoke(app, args).exit_code == 0  # the same keys: resumed
    write_sosd(path, generate_keys("uniform", 30_000, seed=5))  # other keys under the same name
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "keys_sha256" in refused.stderr, refused.output
    absent = CliRunner().invoke(app, [*args[:4], str(tmp_path / "absent"), *args[5:]])
    assert absent.exit_code == 2 and "or the path of a SOSD key file (no such file)" in absent.stderr
    (tmp_path / "bad").write_bytes(b"\x09" * 12)
    bad = CliRunner().invoke(app, [*args[:4], str(tmp_path / "bad"), *args[5:-1], str(tmp_path / "o2")])
    assert bad.exit_code == 2 and "bad: the header counts" in bad.stderr and "Traceback" not in bad.output
