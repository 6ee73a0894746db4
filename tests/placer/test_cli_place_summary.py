"""``placer place``: the suite summary and its exit status (failed runs: 1, an interrupt: 130),
and one design placed with the progress display on."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rich.console
import rich.progress
from click.testing import Result
from typer.testing import CliRunner

from placer.algorithms.base import Placer, Progress, register_placer
from placer.commands.place import register
from placer.results import ResultStore

METHOD = "test_cli_place_summary_scripted"


@register_placer
class ScriptedForSummaryTests(Placer):
    """Keeps the given placement; by option: raises on the design named ``fail_on`` (a two-line
    error), is interrupted (Ctrl-C) on ``interrupt_on``, reports ``note``."""

    name = METHOD
    option_names = frozenset({"fail_on", "interrupt_on", "note"})

    def run(self, netlist, placement, budget_s, seed, progress):  # type: ignore[no-untyped-def]
        if netlist.name == self.options.get("interrupt_on"):
            raise KeyboardInterrupt
        if netlist.name == self.options.get("fail_on"):
            raise RuntimeError(f"cannot place {netlist.name}\nsecond line of the error")
        progress(Progress(0.5, None, "halfway"))
        progress(Progress(0.75, 1.25))
        if self.options.get("note"):
            progress(Progress.noting(str(self.options["note"])))
        return placement


@pytest.fixture
def suite(tmp_path: Path, design_writer) -> Path:  # type: ignore[no-untyped-def]
    """Two tiny designs, tiny_a and tiny_b (placed in that order)."""
    root = tmp_path / "suite"
    design_writer(root / "tiny_a", seed=1)
    design_writer(root / "tiny_b", seed=2)
    return root


@pytest.fixture
def place(monkeypatch: pytest.MonkeyPatch, cli_app) -> Callable[..., Result]:  # type: ignore[no-untyped-def]
    """``placer place ARGS`` as a function; a Ctrl-C that escapes the command fails the test
    instead of stopping the whole session. No summary line wraps: the commands' console is made
    before a test could set COLUMNS (pytest-xdist's workers run with COLUMNS=80, which the
    console reads when it is made), so its width is set here."""
    from placer.commands import common

    monkeypatch.setattr(common.console, "_width", 1000)
    app = cli_app(register)

    def run(*args: str) -> Result:
        try:
            return CliRunner().invoke(app, ["place", *args])
        except KeyboardInterrupt:
            pytest.fail("KeyboardInterrupt escaped `placer place`")

    return run


@pytest.fixture
def place_suite(place: Callable[..., Result]) -> Callable[..., Result]:
    """``placer place --suite SUITE --out RUNS`` with the scripted method, one job, 1 s."""

    def run(suite: Path, runs: Path, *extra: str) -> Result:
        return place("--suite", str(suite), "--algo", METHOD, "--jobs", "1", "--budget-s", "1",
                     "--out", str(runs), *extra)  # fmt: skip

    return run


def statuses(runs: Path) -> list[tuple[str, int, str]]:
    return sorted((r.design, r.seed, r.status) for r in ResultStore.in_runs_dir(runs).records())


class BarUpdates:
    """Records the keyword arguments of every rich progress-bar update (still drawn as usual),
    with stderr taken for a terminal (off one, a single run draws no bar)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[dict[str, Any]] = []
        original = rich.progress.Progress.update
        monkeypatch.setattr(rich.console.Console, "is_terminal", property(lambda console: console.stderr))

        def update(bar: rich.progress.Progress, task_id: rich.progress.TaskID, **kwargs: Any) -> None:
            self.calls.append(kwargs)
            original(bar, task_id, **kwargs)

        monkeypatch.setattr(rich.progress.Progress, "update", update)

    @property
    def descriptions(self) -> list[str]:
        return [c["description"] for c in self.calls if "description" in c]


def test_failed_runs_are_listed_one_line_each_and_exit_1(suite: Path, tmp_path: Path, place_suite) -> None:  # type: ignore[no-untyped-def]
    """Each failed run gets one "failed:" line with the first line of its error, and the batch
    exits 1 (a script must see that runs failed), while the other runs are saved."""
    runs = tmp_path / "runs"
    result = place_suite(suite, runs, "--seeds", "2", "--quiet", "--option", "fail_on=tiny_b")
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines == [
        f"2 ok, 2 failed, 0 skipped (already done) of 4 runs; results in {runs / 'results.sqlite'}",
        f"  failed: tiny_b/{METHOD}/seed0: RuntimeError: cannot place tiny_b",
        f"  failed: tiny_b/{METHOD}/seed1: RuntimeError: cannot place tiny_b",
    ]
    assert statuses(runs) == [("tiny_a", 0, "ok"), ("tiny_a", 1, "ok"), ("tiny_b", 0, "failed"),
                              ("tiny_b", 1, "failed")]  # fmt: skip
    failed = [r for r in ResultStore.in_runs_dir(runs).records() if r.status == "failed"]
    assert all("second line of the error" in (r.error or "") for r in failed)  # kept in the row only


def test_a_suite_without_failures_prints_its_notes_and_exits_0(suite: Path, tmp_path: Path, place_suite) -> None:  # type: ignore[no-untyped-def]
    """Runs that went well exit 0; a method's note is printed under the summary, per run."""
    runs = tmp_path / "runs"
    result = place_suite(suite, runs, "--quiet", "--option", "note=kept the start")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"2 ok, 0 failed, 0 skipped (already done) of 2 runs; results in {runs / 'results.sqlite'}",
        f"  note: tiny_a/{METHOD}/seed0: kept the start",
        f"  note: tiny_b/{METHOD}/seed0: kept the start",
    ]
    again = place_suite(suite, runs, "--quiet", "--option", "note=kept the start", "--resume")
    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == [
        f"0 ok, 0 failed, 2 skipped (already done) of 2 runs; results in {runs / 'results.sqlite'}"
    ]


def test_failures_with_the_progress_bar_on_still_exit_1(
    suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, place_suite  # type: ignore[no-untyped-def]
) -> None:
    """Without --quiet the batch bar counts the failure as it happens, and the summary and
    status are the same as with --quiet."""
    bar = BarUpdates(monkeypatch)
    runs = tmp_path / "runs"
    result = place_suite(suite, runs, "--option", "fail_on=tiny_a")
    assert result.exit_code == 1, result.output
    assert bar.descriptions[0] == f"tiny_a/{METHOD}/seed0: failed | 1 failed"
    assert bar.descriptions[1].startswith(f"tiny_b/{METHOD}/seed0: ")
    assert bar.descriptions[1].endswith(" | 1 failed") and "| best on tiny_b: " in bar.descriptions[1]
    assert "0 ok, 1 failed, 0 skipped (already done) of 2 runs" not in result.output  # tiny_b went on
    assert "1 ok, 1 failed, 0 skipped (already done) of 2 runs" in result.output
    assert f"  failed: tiny_a/{METHOD}/seed0: RuntimeError: cannot place tiny_a" in result.output.splitlines()


def test_an_interrupted_suite_keeps_its_finished_runs_and_exits_130(suite: Path, tmp_path: Path, place_suite) -> None:  # type: ignore[no-untyped-def]
    """A Ctrl-C in the middle of a run: the runs finished before it are saved and counted, the
    summary says how to go on, and the exit status is 130 (not 0: the suite is not done)."""
    runs = tmp_path / "runs"
    result = place_suite(suite, runs, "--quiet", "--option", "interrupt_on=tiny_b")
    assert result.exit_code == 130, result.output
    assert result.output.splitlines() == [
        f"1 ok, 0 failed, 0 skipped (already done) of 2 runs; results in {runs / 'results.sqlite'}",
        "interrupted: finished runs are saved; rerun with --resume to go on",
    ]
    # the interrupt line on stderr, as every command's (it was on stdout with the results)
    assert result.stderr == "interrupted: finished runs are saved; rerun with --resume to go on\n"
    assert statuses(runs) == [("tiny_a", 0, "ok")]
    assert (runs / "tiny_a" / METHOD / "seed0.plc").is_file()
    assert not (runs / "tiny_b").exists()


def test_an_interrupt_as_the_batch_ends_says_there_is_nothing_to_resume(
    suite: Path, tmp_path: Path, place_suite, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A kill while the pool shut down, every run done, told the user to rerun with --resume
    (which would have had nothing to do)."""
    import placer.batch as batch

    monkeypatch.setattr(batch, "run_batch", lambda tasks, *a, **k: batch.BatchSummary(
        total=len(tasks), ok=len(tasks) - 1, skipped=1, interrupted=True))
    result = place_suite(suite, tmp_path / "runs", "--quiet")
    assert result.exit_code == 130, result.output
    assert result.stderr == "interrupted as the batch ended: every run had finished (nothing to resume)\n"
    # a failed run is run again by --resume: then the usual advice
    monkeypatch.setattr(batch, "run_batch", lambda tasks, *a, **k: batch.BatchSummary(
        total=len(tasks), ok=len(tasks) - 1, failed=1, interrupted=True))
    result = place_suite(suite, tmp_path / "runs2", "--quiet")
    assert result.output.splitlines()[-1] == "interrupted: finished runs are saved; rerun with --resume to go on"


def test_an_interrupt_after_a_failure_exits_130_not_1(suite: Path, tmp_path: Path, place_suite) -> None:  # type: ignore[no-untyped-def]
    """An interrupted batch says so (130) even when a run had already failed; the failure is
    still listed."""
    runs = tmp_path / "runs"
    result = place_suite(suite, runs, "--quiet", "--option", "fail_on=tiny_a", "--option", "interrupt_on=tiny_b")
    assert result.exit_code == 130, result.output
    assert result.output.splitlines() == [
        f"0 ok, 1 failed, 0 skipped (already done) of 2 runs; results in {runs / 'results.sqlite'}",
        f"  failed: tiny_a/{METHOD}/seed0: RuntimeError: cannot place tiny_a",
        "interrupted: finished runs are saved; rerun with --resume to go on",
    ]


@pytest.mark.parametrize("text", ["expected a list, got [x]", "no closing tag [/x] here"])
def test_a_failed_runs_error_is_printed_as_written(suite: Path, tmp_path: Path, text: str, place) -> None:  # type: ignore[no-untyped-def]
    """An error text with square brackets is shown as written, not read as console markup
    ('[x]' vanished from the failed: line and '[/x]' raised a MarkupError traceback)."""
    plugin = tmp_path / "bracket_errors.py"
    plugin.write_text(
        "from placer.algorithms.base import Placer, register_placer\n\n\n"
        "@register_placer\n"
        "class BracketErrorForSummaryTests(Placer):\n"
        "    name = 'test_cli_place_summary_brackets'\n\n"
        "    def run(self, netlist, placement, budget_s, seed, progress):\n"
        "        if netlist.name == 'tiny_b':\n"
        "            raise ValueError(self.options['text'])\n"
        "        return placement\n"
    )
    runs = tmp_path / "runs"
    result = place("--suite", str(suite), "--algo", "test_cli_place_summary_brackets", "--jobs", "1",
                   "--budget-s", "1", "--out", str(runs), "--quiet", "--plugin", str(plugin),
                   "--option", f"text={text}")  # fmt: skip
    assert result.exit_code == 1, result.output
    assert f"  failed: tiny_b/test_cli_place_summary_brackets/seed0: ValueError: {text}" in result.output.splitlines()


def test_one_design_with_the_progress_bar_reports_progress_and_notes(
    suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, place  # type: ignore[no-untyped-def]
) -> None:
    """Without --quiet each report moves the bar (best cost, or the message when there is
    none) and still reaches the note collector: the method's note is printed after the run."""
    bar = BarUpdates(monkeypatch)
    out = tmp_path / "placed.plc"
    result = place(str(suite / "tiny_a" / "netlist.pb.txt"), "--algo", METHOD, "--budget-s", "1",
                   "--out", str(out), "--option", "note=kept the start")  # fmt: skip
    assert result.exit_code == 0, result.output
    reports = [c for c in bar.calls if "completed" in c]
    assert [(c["completed"], c["description"]) for c in reports[:3]] == [
        (0.5, "halfway"), (0.75, "best 1.2500"), (1.0, "note: kept the start")  # (no best cost: the text)
    ]
    assert reports[-1]["completed"] == 1.0 and reports[-1]["description"].startswith("best ")
    assert len(reports) == 4  # the method's three reports and the final "done" with the cost
    lines = result.stdout.splitlines()  # (the bar is drawn on stderr)
    assert "note: kept the start" in lines and f"wrote {out}" in lines
    assert out.is_file()


def test_one_design_interrupted_with_the_progress_bar_exits_130(suite: Path, tmp_path: Path, place) -> None:  # type: ignore[no-untyped-def]
    """A Ctrl-C during a single run (bar shown) is one line and exit 130, no .plc written."""
    out = tmp_path / "placed.plc"
    result = place(str(suite / "tiny_b" / "netlist.pb.txt"), "--algo", METHOD, "--budget-s", "1",
                   "--out", str(out), "--option", "interrupt_on=tiny_b")  # fmt: skip
    assert result.exit_code == 130, result.output
    assert result.stderr == f"placer: interrupted: stopped at once, nothing was written to {out}\n"
    assert "Traceback" not in result.output and not out.exists()


def test_a_progress_message_with_brackets_is_shown_as_written(suite: Path, tmp_path: Path, place) -> None:  # type: ignore[no-untyped-def]
    """The bar's text column read a method's message as markup: '[/x]' raised MarkupError."""
    out = tmp_path / "placed.plc"
    result = place(str(suite / "tiny_a" / "netlist.pb.txt"), "--algo", METHOD, "--budget-s", "1",
                   "--out", str(out), "--option", "note=closing [/x] tag")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "note: closing [/x] tag" in result.output.splitlines()


def test_a_ctrl_c_while_the_result_is_written_says_it_was_written(suite: Path, tmp_path: Path, place, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A Ctrl-C held while the .plc was written was raised after it as a bare 'placer:
    interrupted': the file was there, unsaid."""
    import signal

    from placer.cost import timing

    real = timing.timing_cost
    calls = []

    def interrupted_once_written(netlist, placement, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:  # the result's timing, inside the write's block
            signal.raise_signal(signal.SIGINT)
        return real(netlist, placement, *args, **kwargs)

    monkeypatch.setattr(timing, "timing_cost", interrupted_once_written)
    out = tmp_path / "placed.plc"
    result = place(str(suite / "tiny_b" / "netlist.pb.txt"), "--algo", METHOD, "--budget-s", "1", "--out", str(out))
    assert result.exit_code == 130, result.output
    assert result.stderr == f"placer: interrupted: the placement was written to {out} first\n"
    assert out.is_file()


def test_a_write_that_fails_under_a_held_ctrl_c_reports_the_failure(suite: Path, tmp_path: Path, place, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The held Ctrl-C, raised when the block ended, replaced the write's own error: a full
    disk read 'the placement was written' and no file was there."""
    import errno
    import signal

    from netlists.formats import plc

    def full_disk(*args, **kwargs):  # type: ignore[no-untyped-def]
        signal.raise_signal(signal.SIGINT)
        raise OSError(errno.ENOSPC, "No space left on device", str(out))

    monkeypatch.setattr(plc, "write_plc", full_disk)
    out = tmp_path / "placed.plc"
    result = place(str(suite / "tiny_b" / "netlist.pb.txt"), "--algo", METHOD, "--budget-s", "1", "--out", str(out))
    assert result.exit_code == 2, result.output
    assert "No space left on device" in result.stderr and "written" not in result.stderr


def test_a_result_costlier_than_the_start_is_noted_with_why() -> None:
    """greedy and analytical build their own placement: ibm01's 1.0177 start came back 1.3479
    (greedy) with no word, and ariane133's note blamed only the start's illegality."""
    from netlists.generate import generate
    from placer.algorithms.legality import check_legality
    from placer.commands.place import _costlier_than_the_start
    from placer.cost.proxy import evaluate

    nl, start = generate(6, 20, 8, seed=3)
    before, legal = evaluate(nl, start), check_legality(nl, start)
    assert _costlier_than_the_start(nl, start, before, legal, before.proxy - 0.01, "greedy", {}, 1.0) == []
    worse = _costlier_than_the_start(nl, start, before, legal, before.proxy + 0.01, "greedy", {}, 1.0)
    assert len(worse) == 1 and worse[0].startswith("the result costs more than the initial placement (proxy")
    assert "greedy does not keep the given placement" in worse[0]
    timed = _costlier_than_the_start(nl, start, before, legal, before.proxy + 0.01, "sa", {"w_timing": 1.0}, 1.0)
    assert "its objective weighs timing" in timed[0]
    outside = start.copy()
    outside.x[nl.hard_macros[0]] = -50.0  # not legal: the bar is the start merely legalised
    notes = _costlier_than_the_start(nl, outside, evaluate(nl, outside), check_legality(nl, outside), 10.0, "greedy", {}, 1.0)
    assert notes[0].startswith("the initial placement is not legal")
    assert notes[1].startswith("the result costs more than the initial placement merely legalised")


def test_a_timing_weight_given_to_a_nested_search_is_named_as_why() -> None:
    """greedy's refine={"w_timing": ...} weighs timing too; the note blamed greedy instead."""
    from netlists.generate import generate
    from placer.algorithms.legality import check_legality
    from placer.commands.place import _costlier_than_the_start
    from placer.cost.proxy import evaluate

    nl, start = generate(6, 20, 8, seed=3)
    before, legal = evaluate(nl, start), check_legality(nl, start)
    for options, why in [
        ({"soft_refine": True, "refine": {"w_timing": 2.0}}, "its objective weighs timing"),
        ({"soft_refine": True, "refine": {"w_timing": 0.0}}, "greedy does not keep"),
        ({"w_timing": 0}, "greedy does not keep"),
    ]:
        notes = _costlier_than_the_start(nl, start, before, legal, before.proxy + 0.01, "greedy", options, 1.0)
        assert why in notes[0], options


@pytest.mark.parametrize(("given", "passed"), [((), None), (("--deadline-s", "90"), 90.0), (("--deadline-s", "0"), math.inf)])
def test_the_deadline_option_reaches_the_batch(
    suite: Path, tmp_path: Path, place_suite, monkeypatch: pytest.MonkeyPatch, given: tuple, passed: float | None
) -> None:  # type: ignore[no-untyped-def]
    """--deadline-s S gives the batch S seconds per run, 0 no deadline, none the default rule."""
    import placer.batch as batch

    seen: dict = {}

    def recording(tasks, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.update(kwargs)
        return batch.BatchSummary(total=len(tasks), ok=len(tasks))

    monkeypatch.setattr(batch, "run_batch", recording)
    result = place_suite(suite, tmp_path / "runs", "--quiet", *given)
    assert result.exit_code == 0, result.output
    assert seen["deadline_s"] == passed


def test_the_closing_note_takes_the_methods_packed_start_from_the_legalisers_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The note legalised the start under a fixed 1 s limit: a start the method had packed under
    its budget's shorter limit (0.5 s at a 1 s budget) was no answer to it, so a pile of macros
    was legalised a second time. Asked under the method's own limit, the memory answers."""
    import placer.algorithms.base as base_module
    import placer.algorithms.legalize as legalize_module
    from netlists.generate import generate
    from placer.algorithms.legality import check_legality
    from placer.commands.place import _costlier_than_the_start
    from placer.cost.proxy import evaluate

    nl, start = generate(6, 20, 8, seed=3)
    piled = start.copy()
    c = nl.require_canvas()
    piled.x[nl.hard_macros], piled.y[nl.hard_macros] = c.width / 2, c.height / 2
    monkeypatch.setattr(base_module, "legalize_time_limit", lambda budget_s: 0.0)  # (packed at once)
    legalize_module.clear_legalize_memory()
    notes: list[str] = []
    base_module.legalize_start(nl, piled, 1.0, lambda p: notes.append(p.message))
    assert any("packed in rows" in n for n in notes), notes
    calls = []
    real = legalize_module._legalize
    monkeypatch.setattr(legalize_module, "_legalize", lambda *a, **k: calls.append(1) or real(*a, **k))
    before = evaluate(nl, piled)
    _costlier_than_the_start(nl, piled, before, check_legality(nl, piled), 10.0, "sa", {}, 1.0)
    assert calls == []
    legalize_module.clear_legalize_memory()
