"""Numeric options out of range: a clean usage error (exit 2) before any work, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from netlists.designs import builtin_path
from placer.cli import app

runner = CliRunner()
ARIANE = str(builtin_path() / "netlist.pb.txt.gz")


def _commands(out: Path) -> dict[str, list[str]]:
    """Each command that takes ``--seed``, with otherwise valid arguments writing under ``out``."""
    return {
        "demo": ["demo", "--budget-s", "0.1", "--out", str(out)],
        "generate": ["generate", str(out), "--hard", "2", "--soft", "2", "--ports", "2"],
        "place": [
            "place",
            ARIANE,
            "--algo",
            "sa",
            "--budget-s",
            "0.1",
            "--out",
            str(out / "p.plc"),
        ],
        "train": ["train", "--out", str(out), "--generated", "1", "--timesteps", "8"],
        "tune": [
            "tune",
            "--system",
            "index",
            "--workload",
            "uniform",
            "--trials",
            "1",
            "--out",
            str(out),
        ],
    }


@pytest.mark.parametrize("command", ["demo", "generate", "place", "train", "tune"])
def test_negative_seed_is_a_usage_error(tmp_path: Path, command: str) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, [*_commands(out)[command], "--seed", "-1"])
    assert result.exit_code == 2, result.output
    assert "--seed" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()  # rejected before anything was written


def test_negative_demo_budget_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--budget-s", "-1", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "--budget-s" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["demo", "generate", "place", "train", "tune"])
def test_output_under_a_file_is_refused_before_any_work(tmp_path: Path, command: str) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    result = runner.invoke(app, _commands(blocker / "out")[command])
    assert result.exit_code == 2, result.output
    assert f"{blocker} is a file, not a folder" in result.output.replace("\n", "")
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--budget-s", "0.1", "--out", ""],
        ["place", ARIANE, "--algo", "sa", "--budget-s", "0.1", "--out", ""],
        ["train", "--out", "", "--generated", "1", "--timesteps", "8"],
        ["tune", "--system", "index", "--workload", "uniform", "--trials", "1", "--out", ""],
        ["plot", ARIANE, "--out", ""],
        ["leaderboard", "runs", "--out", ""],
    ],
    ids=["demo", "place", "train", "tune", "plot", "leaderboard"],
)
def test_an_empty_output_path_is_refused_not_read_as_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    """``--out "$DIR"`` with DIR unset must not write into the current folder."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "empty path" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["place", ARIANE, "--algo", "sa", "--budget-s", "0.1", "--out"],
        ["plot", ARIANE, "--out"],
    ],
    ids=["place", "plot"],
)
def test_output_file_that_is_a_folder_is_refused(tmp_path: Path, args: list[str]) -> None:
    folder = tmp_path / "taken.png"
    folder.mkdir()
    result = runner.invoke(app, [*args, str(folder)])
    assert result.exit_code == 2, result.output
    assert "is a folder; expected a file name" in result.output.replace("\n", "")
    assert list(folder.iterdir()) == []  # nothing written, not even a temporary file


def test_an_os_error_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    import typer

    from placer.commands.common import clean_errors

    @clean_errors
    def writes_into_a_folder() -> None:
        raise IsADirectoryError(21, "Is a directory", "out.plc")

    with pytest.raises(typer.Exit) as info:
        writes_into_a_folder()
    assert info.value.exit_code == 2
    assert capsys.readouterr().err == "placer: error: out.plc: Is a directory\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--algo", "nope"], "unknown placement method 'nope'"),
        (["demo", "--algo", "rl"], "needs option model=PATH (a trained .zip or run folder); the demo takes no options: run it with placer place default --algo rl --option KEY=VALUE"),
        (["place", ARIANE, "--algo", "rl"], "needs option model=PATH"),
        (["place", ARIANE, "--algo", "rl", "--option", f"model={ARIANE}"], "not a trained model"),
        (["place", ARIANE, "--algo", "rl", "--option", "model=/no/such.zip"], "no such file or folder"),
    ],
)
def test_methods_that_cannot_run_are_refused_before_any_work(
    tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    target = ["--out", str(out / "p.plc")] if args[0] == "place" else ["--out", str(out)]
    result = runner.invoke(app, [*args, *target])
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", "")
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_output_under_a_folder_no_file_can_be_made_in_names_the_option(tmp_path: Path) -> None:
    """As root, os.access said /proc was writable: the run failed at its first write with
    '/proc/xx: No such file or directory', naming no option."""
    for args in (["place", ARIANE, "--algo", "sa", "--budget-s", "0.1", "--out", "/proc/no_such_dir/p.plc"],
                 ["train", "--generated", "1", "--timesteps", "8", "--out", "/proc/no_such_dir"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "--out /proc/no_such_dir" in result.output, result.output
        assert "cannot write into /proc" in result.output


@pytest.mark.parametrize("given", [["--timing-metric", "worst"], ["--timing-metric", "tail"], ["--set", "timing_metric=worst"]])
def test_a_timing_metric_without_a_timing_weight_is_refused_by_train(tmp_path: Path, given: list[str]) -> None:
    """--timing-metric worst without --w-timing trained on (tail was refused), weighing nothing,
    where sa and refine refuse timing_metric without w_timing either way."""
    out = tmp_path / "out"
    result = runner.invoke(app, [*_commands(out)["train"], *given])
    assert result.exit_code == 2 and "acts only with --w-timing > 0" in result.output, result.output
    assert not out.exists()


def test_a_train_seed_over_32_bits_is_refused_in_the_options_words(tmp_path: Path) -> None:
    """numpy's and SB3's generators take 32-bit seeds; --seed 2**32 was refused by the config's
    check, in its words ("seed must be ..."), not the option's."""
    from placer.rl.config import MAX_SEED

    out = tmp_path / "out"
    for seed in (MAX_SEED + 1, 2**64):
        result = runner.invoke(app, [*_commands(out)["train"], "--seed", str(seed)])
        assert result.exit_code == 2, result.output
        assert "--seed" in result.output and str(MAX_SEED) in result.output, result.output
    assert not out.exists()


def test_a_design_too_large_for_the_settings_is_refused_in_the_options_words(tmp_path: Path) -> None:
    """ibm17 on the defaults said 'pass max_nodes=760 or more', the env's keyword, to a user
    of `placer train`, whose option is --max-nodes."""
    out = tmp_path / "out"
    result = runner.invoke(app, ["train", "--netlist", "ariane133", "--max-nodes", "8", "--timesteps", "8",
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 2, result.output
    words = "ariane133: 133 hard macros exceed max_nodes=8: give --max-nodes 133 or more"
    assert words in " ".join(result.output.split()), result.output


def test_an_unknown_timing_metric_is_named_as_such_before_its_weight(tmp_path: Path) -> None:
    """--timing-metric foo was told it "acts only with --w-timing > 0", as if it were a metric."""
    out = tmp_path / "out"
    for weight in ([], ["--w-timing", "1"]):
        result = runner.invoke(app, [*_commands(out)["train"], "--timing-metric", "foo", *weight])
        assert result.exit_code == 2 and "--timing-metric must be one of worst, tail, got 'foo'" in result.output
    assert not out.exists()


@pytest.mark.parametrize(("given", "said"), [
    (["--max-grid", "12"], "--max-grid must be a multiple of 8, got 12"),
    (["--w-timing", "-1"], "--w-timing must be a finite number in [0, 1e+06], got -1.0"),
    (["--set", "max_grid=12"], "max_grid must be a multiple of 8, got 12"),  # (given by its setting's name)
])
def test_train_refuses_an_option_in_its_own_name(tmp_path: Path, given: list[str], said: str) -> None:
    """--max-grid 12 was refused as "max_grid must be a multiple of 8", a name the user never typed."""
    out = tmp_path / "out"
    result = runner.invoke(app, [*_commands(out)["train"], *given])
    assert result.exit_code == 2 and f"placer: error: {said}" in result.output, result.output
    assert not out.exists()


def test_set_help_lists_every_settable_field_with_its_default_without_an_out_folder(tmp_path: Path) -> None:
    """`--set` fields had their defaults written only in placer/rl/config.py (the defaults
    audit): `--set help` lists each with its default, before the required --out is asked for."""
    import dataclasses

    from placer.rl.config import TrainConfig

    result = runner.invoke(app, ["train", "--set", "help"])
    assert result.exit_code == 0, result.output
    listed = dict(line.split(maxsplit=1) for line in result.output.splitlines() if line.strip())
    fields = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    for name in ("n_steps", "batch_size", "learning_rate", "vec", "max_edges", "wiremask_prior", "time_limit_s"):
        assert listed[name] == str(fields[name])
    assert "out" not in listed and "netlists" not in listed  # (options of their own, not --set)
    refused = runner.invoke(app, ["train", "--generated", "1", "--set", "bogus=1", "--out", str(tmp_path / "o")])
    assert refused.exit_code == 2 and "--set help" in refused.output


def test_jobs_with_ray_is_refused_not_dropped(tmp_path: Path) -> None:
    """`--jobs` beside `--ray` was silently ignored (the defaults audit): refused in one line,
    before Ray is started or anything is written."""
    suite = tmp_path / "suite"
    suite.mkdir()
    out = tmp_path / "runs"
    result = runner.invoke(app, ["place", "--suite", str(suite), "--algo", "greedy", "--ray", "local",
                                 "--jobs", "2", "--out", str(out)])
    assert result.exit_code == 2
    assert "--jobs sets local worker processes: with --ray the cluster's CPUs decide" in result.output
    assert not out.exists()
