"""experiments/rl/run_experiment.py refuses bad arguments in one line, before any training."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "rl" / "run_experiment.py"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--variants", "full,bogus"], "--variants: unknown 'bogus'"),  # used to train full first
        (["--minutes", "-1"], "--minutes must be a finite number > 0"),
        (["--eval-budget-s", "nan"], "--eval-budget-s must be a finite number > 0"),  # hung
        (["--n-envs", "0"], "--n-envs must be >= 1"),
        (["--design", "nosuch"], "nosuch"),
        (["--table-only"], "results.json to rewrite the table from"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, str(SCRIPT), *args, "--out", str(out)], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr and message in lines[0], done.stderr
    assert not out.exists()


def test_an_out_folder_that_cannot_be_made_is_one_line_exit_2(tmp_path: Path) -> None:
    """Under a file (or in /sys) the folder's mkdir raised an OSError other than the two caught:
    a traceback."""
    (tmp_path / "afile").write_text("x")
    done = subprocess.run([sys.executable, str(SCRIPT), "--design", "default", "--variants", "full",
                           "--train-only", "--minutes", "0.01", "--out", str(tmp_path / "afile" / "sub")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "afile" in done.stderr


def test_eval_last_keeps_to_the_experiments_design_budget_and_seed(tmp_path: Path) -> None:
    """eval_last.py evaluated ibm01 at 60 s by default beside an experiment whose baselines
    were measured on another design at 2 s, and the table compared them."""
    import json

    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text(json.dumps(
        {"args": {"design": "default", "unseen": "generated:7", "eval_budget_s": "2.0", "seed": "0"}, "rows": []}))
    eval_last = SCRIPT.parent / "eval_last.py"
    done = subprocess.run([sys.executable, str(eval_last), "--out", str(out), "--design", "ibm01"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2 and "--design ibm01 differs from the experiment's default" in done.stderr
    done = subprocess.run([sys.executable, str(eval_last), "--out", str(out), "--variants", "full"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr  # its own settings: no run to evaluate, nothing wrong
    assert "full: no last.zip, skipped" in done.stdout
    done = subprocess.run([sys.executable, str(eval_last), "--out", str(out), "--variants", "full,bogus"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2 and "--variants: unknown 'bogus'" in done.stderr  # (was "skipped", exit 0)


def test_a_finished_training_with_other_settings_is_not_reused(tmp_path: Path) -> None:
    """A rerun with another --design or --minutes said 'already trained' and reused the old
    policy while the table header named the new settings."""
    import json

    out = tmp_path / "out"
    (out / "runs" / "full").mkdir(parents=True)
    trained_with = {"design": "default", "extra": "", "generated": 0, "minutes": 5.0, "seed": 0, "n_envs": 2}
    (out / "runs" / "full" / "done.json").write_text(json.dumps({"train_s": 1.0, "trained_with": trained_with}))
    done = subprocess.run([sys.executable, str(SCRIPT), "--design", "default", "--minutes", "0.1",
                           "--variants", "full", "--train-only", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2 and "was trained with other settings (minutes 5.0 -> 0.1)" in done.stderr, done.stderr


@pytest.mark.parametrize(("script", "args", "message"), [
    ("seed_check.py", ["--variants", "", "--methods", ""], "name nothing to evaluate"),  # an IndexError on rows[0]
    ("seed_check.py", ["--seeds", "a"], "--seeds: expected comma-separated whole numbers"),
    # a traceback, or a table made before the failure
    ("seed_check.py", ["--methods", "foo", "--variants", ""], "--methods: unknown 'foo'"),
    ("seed_check.py", ["--variants", "full"], "--variants: no training run"),
    ("seed_check.py", ["--design", "nosuch", "--variants", ""], "design 'nosuch': not a file"),
    ("seed_check.py", ["--eval-budget-s", "-1", "--variants", ""], "--eval-budget-s: must be > 0"),  # ran
    ("eval_last.py", ["--eval-budget-s", "-5"], "--eval-budget-s: must be > 0"),  # ran
    ("eval_last.py", ["--seed", "abc"], "--seed: expected a whole number"),
    ("eval_last.py", ["--design", "default", "--unseen", "nosuch"], "design 'nosuch': not a file"),  # (no suite needed)
    ("run_experiment.py", ["--design", "generated:x"], "expected generated:SEED"),
])
def test_the_helpers_refuse_bad_requests_in_one_line(script: str, args: list[str], message: str, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    done = subprocess.run([sys.executable, str(SCRIPT.parent / script), *args, "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and message in lines[0], done.stderr
    assert not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("script", ["run_experiment.py", "eval_last.py", "seed_check.py"])
def test_the_recorded_experiment_is_written_only_when_named(script: str, tmp_path: Path) -> None:
    """Without --out they wrote into experiments/rl/results (a --table-only run dropped the
    recorded table's step labels)."""
    done = subprocess.run([sys.executable, str(SCRIPT.parent / script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 2 and "required: --out" in done.stderr, done.stderr


def test_table_only_reads_the_step_labels_from_the_kept_curves(tmp_path: Path) -> None:
    """runs/ is not committed: the labels come from curves/<variant>_best.json."""
    import json

    out = tmp_path / "out"
    (out / "curves").mkdir(parents=True)
    row = {"design": "d", "split": "target", "method": "rl[full]", "proxy_fd": 1.0, "proxy": 0.9, "eval_s": 1.0}
    args = {"minutes": "1.0", "design": "d", "extra": "", "generated": "0", "eval_budget_s": "1.0", "seed": "0"}
    (out / "results.json").write_text(json.dumps({"args": args, "rows": [row]}))
    (out / "curves" / "full_best.json").write_text(json.dumps({"proxy": 0.9, "steps": 34818}))
    done = subprocess.run([sys.executable, str(SCRIPT), "--table-only", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "| rl[full] (step 34818) |" in (out / "table.md").read_text()


def test_table_only_draws_the_kept_curves_and_reads_a_null_figure(tmp_path: Path) -> None:
    """The plot was made only by a full run (its curves drawn from runs/, not committed), and
    results.json held bare NaN, which strict JSON readers refuse: null now, read as a dash."""
    import json

    out = tmp_path / "out"
    (out / "curves").mkdir(parents=True)
    rows = [{"design": "d", "split": "target", "method": m, "proxy_fd": fd, "proxy": p, "eval_s": 1.0}
            for m, fd, p in (("rl[full]", 1.0, 0.9), ("sa", None, 0.95))]
    args = {"minutes": "1.0", "design": "d", "extra": "", "generated": "0", "eval_budget_s": "1.0", "seed": "0"}
    (out / "results.json").write_text(json.dumps({"args": args, "rows": rows}))
    (out / "curves" / "full.csv").write_text("steps,train_mean_proxy,eval_proxy\n0,,1.3\n2048,1.2,1.25\n")
    done = subprocess.run([sys.executable, str(SCRIPT), "--table-only", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (out / "learning_curves.png").stat().st_size > 0
    assert "| d | target | sa | - | 0.9500 |" in (out / "table.md").read_text()


def _experiment_module():  # type: ignore[no-untyped-def]
    import importlib

    sys.path.insert(0, str(SCRIPT.parent))
    try:
        return importlib.import_module("run_experiment")
    finally:
        sys.path.remove(str(SCRIPT.parent))


def test_training_time_adds_up_over_resumes_and_a_killed_segment_counts_to_its_checkpoint(tmp_path: Path) -> None:
    """--minutes started again on every resume (a run stopped k times trained up to k + 1
    times it) and done.json's train_s named the last segment only."""
    import json
    import os
    import time

    module = _experiment_module()
    run = tmp_path / "run"
    settings = {"minutes": 1.0}
    ledger = module.TrainingTime(run, settings)
    with ledger.segment():
        time.sleep(0.05)
    with pytest.raises(KeyboardInterrupt), module.TrainingTime(run, settings).segment():
        time.sleep(0.05)
        raise KeyboardInterrupt  # Ctrl-C: the segment still counts
    spent = module.TrainingTime(run, settings).spent
    assert spent >= 0.1
    # a kill -9: the record says a segment started and never closed; it counts up to the
    # last checkpoint written
    record = json.loads((run / "training_time.json").read_text())
    started = time.time() - 100
    (run / "training_time.json").write_text(json.dumps({**record, "segment_started": started}))
    (run / "last.zip").write_bytes(b"")
    os.utime(run / "last.zip", (started + 30, started + 30))
    after = module.TrainingTime(run, settings)
    assert after.spent == pytest.approx(spent + 30, abs=0.01)
    assert "segment_started" not in json.loads((run / "training_time.json").read_text())


def test_a_variant_whose_minutes_are_spent_is_done_without_training_and_others_refused(tmp_path: Path) -> None:
    import json

    out = tmp_path / "out"
    run = out / "runs" / "full"
    run.mkdir(parents=True)
    trained_with = {"design": "default", "extra": "", "generated": 0, "minutes": 0.1, "seed": 0, "n_envs": 2}
    (run / "training_time.json").write_text(json.dumps({"train_s": 7.0, "trained_with": trained_with}))
    args = [sys.executable, str(SCRIPT), "--design", "default", "--variants", "full", "--train-only", "--out", str(out)]
    refused = subprocess.run([*args, "--minutes", "0.2"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert refused.returncode == 2 and "other settings (minutes 0.1 -> 0.2)" in refused.stderr, refused.stderr
    # 7 s spent of 0.1 min (6 s) and no model saved: said so (done.json, then a failed load)
    stuck = subprocess.run([*args, "--minutes", "0.1"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert stuck.returncode == 2 and "spent and no model saved" in stuck.stderr, stuck.stderr
    (run / "last.zip").write_bytes(b"")  # a saved model: done without training more
    done = subprocess.run([*args, "--minutes", "0.1"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads((run / "done.json").read_text()) == {"train_s": 7.0, "trained_with": trained_with}
    assert (run / "last.zip").read_bytes() == b""  # nothing trained


def test_the_ledger_leaves_a_live_run_alone_and_an_old_run_starts_from_its_curve(tmp_path: Path) -> None:
    """A second command on a live run's folder took its open segment for a killed one (and
    dropped the marker); a run folder from before the ledger got its whole --minutes again."""
    from placer.folder_lock import FolderBusy, exclusive_folder

    module = _experiment_module()
    run = tmp_path / "run"
    run.mkdir()
    with exclusive_folder(run), pytest.raises(FolderBusy):
        module.TrainingTime(run, {})
    (run / "curve.csv").write_text("steps,wall_s,train_mean_proxy,eval_proxy\n0,0.1,nan,1.0\n5000,3000.5,1.0,1.0\n")
    assert module.TrainingTime(run, {}).spent == 3000.5


def test_a_damaged_training_time_is_named_not_a_traceback(tmp_path: Path) -> None:
    """{"train_s": null} ended in a TypeError traceback; "abc" in a ValueError naming no file."""
    module = _experiment_module()
    run = tmp_path / "run"
    run.mkdir()
    for bad in ('{"train_s": null}', '{"train_s": "abc"}', '{"train_s": 1.0, "segment_started": "x"}'):
        (run / "training_time.json").write_text(bad)
        with pytest.raises(ValueError, match=r"training_time.json: damaged \((train_s|segment_started) is"):
            module.TrainingTime(run, {})


def test_policies_are_evaluated_on_one_torch_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """eval_last.py (never training, so never limiting torch) evaluated with every thread: on 2
    busy cores its episodes took 2.5x the budget and the refine step never came."""
    import torch

    import placer.rl.inference as inference

    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    import run_experiment

    seen = []
    monkeypatch.setattr(inference, "env_for_model", lambda *a, **k: None)
    monkeypatch.setattr(inference, "place_and_refine",
                        lambda *a, **k: (seen.append(torch.get_num_threads()), (None, {"proxy": 1.0, "refined": True}))[1])
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        row = run_experiment.eval_policy(None, Path("."), (type("N", (), {"name": "d"})(), None), "target", "rl", 1.0, 0)
    finally:
        torch.set_num_threads(before)
    assert seen == [1] and row["proxy"] == 1.0


def test_a_training_curve_of_one_point_is_drawn(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A short run's training curve (NaN at step 0, one mean at 2048) drew nothing: a line of
    one point between gaps has no segment, and the training panel had no markers."""
    import matplotlib.figure

    saved = []
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda fig, *a, **k: saved.append(fig))
    curve = tmp_path / "full.csv"
    curve.write_text("steps,train_mean_proxy,eval_proxy\n0,,1.3\n2048,1.2,1.25\n")
    _experiment_module().plot_curves({"full": curve}, "d", tmp_path / "c.png")
    train_line = saved[0].axes[0].get_lines()[0]
    assert train_line.get_marker() not in (None, "None", "")


def test_each_variant_has_a_marker_and_dash_of_its_own_and_a_readable_legend(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every variant was drawn with marker "o" and a 7 pt legend: a curve that coincided with
    another was hidden under it, told apart only by colour and dashes that cycled every four."""
    import matplotlib.figure

    saved = []
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda fig, *a, **k: saved.append(fig))
    curves = {}
    for variant in ("full", "no_gnn", "no_mask", "no_pretrain", "random_init"):
        curves[variant] = tmp_path / f"{variant}.csv"
        curves[variant].write_text("steps,train_mean_proxy,eval_proxy\n0,,1.3\n2048,1.2,1.25\n")
    _experiment_module().plot_curves(curves, "d", tmp_path / "c.png")
    for ax in saved[0].axes:
        lines = ax.get_lines()
        assert len(lines) == 5 and len({line.get_marker() for line in lines}) == 5
        assert len({(line.get_linestyle(), line.get_marker()) for line in lines}) == 5
        assert min(text.get_fontsize() for text in ax.get_legend().get_texts()) >= 8


def test_the_learning_curves_name_the_training_designs_target_seed_and_minutes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The training panel said "mixed designs" also for a run trained on one design, and the
    figure's title named neither the design, the seed nor the minutes."""
    import matplotlib.figure

    saved = []
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda fig, *a, **k: saved.append(fig))
    curve = tmp_path / "full.csv"
    curve.write_text("steps,train_mean_proxy,eval_proxy\n0,,1.3\n2048,1.2,1.25\n")
    module = _experiment_module()
    module.plot_curves({"full": curve}, "default", tmp_path / "c.png", ["default"], 3, 0.3)
    one = saved[-1]
    assert one.axes[0].get_title() == "training episodes on default (mean of the last 50)"
    assert one.get_suptitle() == "Learning curves per variant: target default, seed 3, 0.3 min of training per variant"
    designs = module.training_design_names("ibm01", "ibm06,ibm09,mempool_tile", 4)
    module.plot_curves({"full": curve}, "ibm01", tmp_path / "c.png", designs, 0, 55.0)
    title = " ".join(saved[-1].axes[0].get_title().split())
    assert title == ("training episodes (mean of the last 50) over 8 designs: ibm01, ibm06, ibm09, mempool_tile "
                     "and 4 generated")
    # --table-only draws it again from results.json's arguments, kept as strings
    recorded = {"design": "ibm01", "extra": "", "generated": "0", "seed": "2", "minutes": "55.0"}
    assert module._recorded_setting(recorded) == (["ibm01"], 2, 55.0)
    assert module._recorded_setting({"design": "ibm01"}) == (None, None, None)


def test_a_variant_reads_its_ledger_under_the_folder_lock_train_reuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The training-time ledger was read and rewritten before train() locked the folder: a
    second command started in the same instant could take the live run's open segment for a
    killed one. The lock is now held from the ledger's read to done.json."""
    import argparse
    import threading

    import placer.rl.train
    from placer.folder_lock import exclusive_folder, holder_of

    module = _experiment_module()
    run = tmp_path / "run"
    holders: list[str | None] = []

    def holder_seen_by_another_thread() -> None:
        worker = threading.Thread(target=lambda: holders.append(holder_of(run)), daemon=True)
        worker.start()
        worker.join(timeout=120)
        assert not worker.is_alive()  # (a deadlock fails, not hangs)

    class Ledger(module.TrainingTime):  # type: ignore[name-defined,misc]
        def __init__(self, *args: object) -> None:
            holder_seen_by_another_thread()
            super().__init__(*args)

    def fake_train(cfg: object, **_: object) -> Path:
        with exclusive_folder(run):  # train()'s own lock: reused, not refused
            (run / "last.zip").write_bytes(b"")
        holder_seen_by_another_thread()
        return run

    monkeypatch.setattr(module, "TrainingTime", Ledger)
    monkeypatch.setattr(placer.rl.train, "train", fake_train)
    args = argparse.Namespace(design="default", extra="", generated=0, minutes=0.1, seed=0, n_envs=1)
    module._train_variant(argparse.ArgumentParser(), args, "full", run, 64, [])
    assert holders == [f"pid {os.getpid()}"] * 2
    assert json.loads((run / "done.json").read_text())["trained_with"]["minutes"] == 0.1
    assert holder_of(run) is None


def test_the_table_names_the_command_that_measured_it_also_when_written_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """table.md named no command. It now names the one that measured its rows, kept in
    results.json so that --table-only writes it again under the same command; an older
    results.json kept none, and the table says so rather than naming the --table-only call
    as the measurement."""
    import shlex

    module = _experiment_module()
    out = tmp_path / "out"
    out.mkdir()
    argv = [str(SCRIPT), "--design", "default", "--unseen", "generated:7", "--eval-budget-s", "1", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setattr(module, "plot_curves", lambda *args, **kwargs: None)  # (no curves to draw)
    rows = [{"design": "d", "split": "target", "method": m, "proxy_fd": 1.0, "proxy": p, "eval_s": 1.0}
            for m, p in (("random", 1.0), ("greedy", 0.9))]
    module._write_results({}, rows, module._make_arg_parser().parse_args(argv[1:]))
    from placer.provenance import environment_prefix

    measured = environment_prefix() + shlex.join(["python", "experiments/rl/run_experiment.py", *argv[1:]])
    assert json.loads((out / "results.json").read_text())["command"] == measured
    lines = (out / "table.md").read_text().splitlines()
    assert lines[:3] == ["# RL placement: trained policy vs baselines", "", f"Made by `{measured}`."]
    assert lines[3] == "" and lines[4].startswith("Training: 60 min per variant")

    def table_only() -> list[str]:
        done = subprocess.run([sys.executable, str(SCRIPT), "--table-only", "--out", str(out)],
                              capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return (out / "table.md").read_text().splitlines()

    assert table_only() == lines  # the measuring command, not --table-only's
    older = json.loads((out / "results.json").read_text())
    del older["command"]
    (out / "results.json").write_text(json.dumps(older))
    rewritten = environment_prefix() + shlex.join(["python", "experiments/rl/run_experiment.py", "--table-only", "--out",
                                                    str(out)])
    assert table_only()[2] == (f"Made by `{rewritten}` from `results.json`, which does not record the command "
                               "that measured it.")


def test_the_seed_check_names_the_command_that_made_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """seeds_<design>.md named no command (a recorded page must say how it was made)."""
    import importlib
    import shlex

    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    seed_check = importlib.import_module("seed_check")
    monkeypatch.setattr(seed_check, "baseline_final", lambda method, design, budget, seed, kwargs: 0.5 + seed / 100)
    out = tmp_path / "out"
    out.mkdir()
    argv = [str(SCRIPT.parent / "seed_check.py"), "--design", "default", "--seeds", "1,2", "--variants", "",
            "--methods", "greedy", "--eval-budget-s", "1", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    seed_check.main()
    [page] = out.glob("seeds_*.md")
    lines = page.read_text().splitlines()
    from placer.provenance import environment_prefix

    command = environment_prefix() + shlex.join(["python", "experiments/rl/seed_check.py", *argv[1:]])
    assert lines[1:4] == ["", f"Made by `{command}`.", ""] and lines[0].startswith("# Seed check: ")
    assert "| greedy | 0.5100 | 0.5200 | 0.5150 | 0.0071 |" in lines
    assert [(r["method"], r["seed"], r["proxy"]) for r in json.loads(page.with_suffix(".json").read_text())] == [
        ("greedy", 1, 0.51), ("greedy", 2, 0.52)]
