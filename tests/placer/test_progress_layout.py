"""The progress bars' lines at common terminal widths: counts, times and failure counts whole,
one line that ends short of the terminal's edge (``placer place --suite``, ``placer train``)."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from rich.console import Console

from placer.batch import RunRecord, _BatchProgress
from placer.results import STATUS_OK
from placer.rl.progress import PhaseProgressBar

#: Columns a bar's line leaves free at the terminal's edge (for the echo of ^C).
ECHO_ROOM = 2


def _lines(err: str) -> list[str]:
    """The lines drawn on stderr, without colours and trailing blanks."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", err)
    return [line.rstrip() for line in plain.splitlines() if line.strip()]


def _suite_bar_line(capsys: pytest.CaptureFixture[str], design: str, method: str) -> str:
    """The last line a suite bar of 200 runs draws after 3 runs, one failed then one more."""
    with _BatchProgress(200, enabled=True) as bar:
        for seed in range(3):
            bar.update(RunRecord(design=design, method=method, seed=seed, budget_s=1.0, suite="/s", proxy=0.71234))
        bar.update(RunRecord(design=design, method=method, seed=3, budget_s=1.0, suite="/s", status="failed"))
        bar.update(RunRecord(design=design, method=method, seed=4, budget_s=1.0, suite="/s", proxy=0.71234,
                             status=STATUS_OK))
    lines = _lines(capsys.readouterr().err)
    assert len(lines) == 1, lines  # one line: nothing wrapped onto a second
    return lines[0]


@pytest.mark.parametrize(("design", "method"), [("ibm01", "sa"), ("ariane133", "global_refine")])
def test_a_suite_bar_keeps_its_count_time_and_failures_whole_at_80_columns(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, design: str, method: str
) -> None:
    """Every log file and many terminals are 80 columns wide: the bar read
    `placing ━━━━   5… 0:0… ibm01/sa/seed4: …` and `plac… ariane133/global_refine/seed4: … | 1 fai…`."""
    monkeypatch.setenv("COLUMNS", "80")
    line = _suite_bar_line(capsys, design, method)
    assert re.match(r"placing .* 5/200 \d:\d\d:\d\d ", line), line
    assert line.endswith(" | 1 failed") and f" {design}/" in line, line
    assert len(line) <= 80 - ECHO_ROOM, line


def test_a_suite_bar_shows_the_whole_text_where_there_is_room(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 120 columns the bar narrows before the text is cut."""
    monkeypatch.setenv("COLUMNS", "120")
    line = _suite_bar_line(capsys, "ariane133", "global_refine")
    assert line.endswith("ariane133/global_refine/seed4: 0.7123 | best on ariane133: 0.7123 | 1 failed"), line
    assert len(line) <= 120 - ECHO_ROOM, line


def _train_bar(total: int) -> PhaseProgressBar:
    """A train bar over ``total`` steps (2 environments x 64 steps a rollout), started."""
    bar = PhaseProgressBar()
    bar.locals = {"total_timesteps": total}
    bar.model = SimpleNamespace(num_timesteps=0, n_steps=64, n_envs=2)  # type: ignore[assignment]
    bar._on_training_start()
    return bar


@pytest.mark.parametrize("done", [262, 100_000])
def test_the_train_bar_keeps_its_step_total_and_speed_on_one_line_at_80_columns(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, done: int
) -> None:
    """It read `collecting episodes:    0% ━━━ 262/100,… [ 0:00:03 < -:--:-- , 75        ]`
    with `steps/s` on a second line, and filled the line, so that a ^C echoed after it wrapped
    it and it was drawn twice."""
    monkeypatch.setenv("COLUMNS", "80")
    bar = _train_bar(100_000)
    bar._on_rollout_start()
    bar.pbar.update(done)
    bar.pbar.close()
    lines = _lines(capsys.readouterr().err)
    assert len(lines) == 1, lines
    assert re.match(rf"collecting episodes: +\d+% .* {done:,}/100,000 .*\d:\d\d:\d\d.* steps/s$", lines[0]), lines
    assert len(lines[0]) <= 80 - ECHO_ROOM, lines


def test_the_finished_train_bar_leaves_no_time(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 100 % the bar still said `< 0:00:01` was left (the last update's mean, not its end)."""
    monkeypatch.setenv("COLUMNS", "100")
    bar = _train_bar(256)
    now = [0.0]
    bar._clock = lambda: now[0]
    for update_s in (4, 3):  # two rollouts of 1 s collecting, then 4 s and 3 s (so far) updating
        bar._on_rollout_start()
        bar.pbar.update(128)
        now[0] += 1
        bar._on_rollout_end()
        now[0] += update_s
    assert bar.time_left() == pytest.approx(1)  # what the mean update leaves of the last one
    bar._on_training_end()
    assert bar.time_left() == 0
    line = _lines(capsys.readouterr().err)[-1]
    assert re.search(r"\d:\d\d:\d\d<0:00:00, ", line), line


def test_a_line_ends_short_of_the_edge_however_long_its_text() -> None:
    """A description longer than the terminal is cut with an ellipsis before its edge."""
    from placer.progress_layout import batch_progress

    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=False, color_system=None)
    progress = batch_progress(10, console)
    progress.add_task("x" * 200, total=10, head="x" * 200, tail=" | 2 failed")
    console.print(progress.get_renderable())
    line = out.getvalue().rstrip("\n")
    assert line.endswith("x… | 2 failed") and len(line.rstrip()) <= 80 - ECHO_ROOM, line
