"""The progress bar of placer train: the phase it names and the time left it estimates."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from placer.rl.progress import PhaseProgressBar, clock_text


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _bar(total: int, time_limit_s: float | None = None) -> tuple[PhaseProgressBar, _Clock, list[str]]:
    """A bar over ``total`` steps of 2 environments x 64 steps a rollout, on a clock of our own."""
    clock, said = _Clock(), []
    bar = PhaseProgressBar(clock=clock, time_limit_s=time_limit_s)
    bar.pbar = SimpleNamespace(total=total, n=0, set_description=said.append)  # type: ignore[assignment]
    bar.model = SimpleNamespace(n_steps=64, n_envs=2)  # type: ignore[assignment]
    return bar, clock, said


def test_the_progress_bar_names_the_phase_under_way() -> None:
    """The bar counts environment steps and stood still, unexplained, through each PPO update
    (most of a CPU run's time)."""
    bar, _, said = _bar(640)
    bar._on_rollout_start()
    bar._on_rollout_end()
    assert said == ["collecting episodes", "updating the policy"]


def test_time_left_counts_the_updates_not_only_the_environment_steps() -> None:
    """SB3's estimate counted environment steps only: with 1 s collecting and 4 s updating per
    rollout it said 4 s were left of 5 rollouts' 25 s after the first rollout's steps."""
    bar, clock, _ = _bar(640)  # 5 rollouts of 128 steps
    bar._on_rollout_start()
    assert bar.time_left() is None  # nothing measured yet
    clock.now, bar.pbar.n = 1.0, 128
    bar._on_rollout_end()
    assert bar.time_left() is None  # no update measured yet
    clock.now = 5.0
    bar._on_rollout_start()  # one whole cycle: 1 s collecting, 4 s updating
    assert bar.time_left() == pytest.approx(4 * (1 + 4))
    clock.now, bar.pbar.n = 5.5, 192  # half the second rollout collected
    assert bar.time_left() == pytest.approx(3.5 * 1 + 4 * 4)
    clock.now, bar.pbar.n = 6.0, 256
    bar._on_rollout_end()
    assert bar.time_left() == pytest.approx(4 + 3 * (1 + 4))  # this update, then 3 cycles
    clock.now = 9.0
    assert bar.time_left() == pytest.approx(1 + 3 * (1 + 4))
    clock.now = 12.0  # the update runs late: nothing negative is added for it
    assert bar.time_left() == pytest.approx(3 * (1 + 4))


def test_time_left_averages_the_recent_cycles() -> None:
    bar, clock, _ = _bar(10 * 128)
    for cycle in range(8):  # updates take 1 s, then 10 s from the fourth cycle on
        bar._on_rollout_start()
        clock.now += 1.0
        bar.pbar.n += 128
        bar._on_rollout_end()
        clock.now += 1.0 if cycle < 3 else 10.0
    bar._on_rollout_start()
    assert bar.time_left() == pytest.approx(2 * (1 + 10))  # the last five cycles' updates only


def test_clock_text_is_written_as_rich_writes_times() -> None:
    assert clock_text(None) == "-:--:--"
    assert clock_text(0) == "0:00:00"
    assert clock_text(61.2) == "0:01:02"
    assert clock_text(3 * 3600 + 5) == "3:00:05"
    assert clock_text(-3) == "0:00:00"


def test_time_left_ends_at_the_runs_time_limit_when_that_comes_first() -> None:
    """A run of time_limit_s=12 whose steps would take 25 s stops at 12 s: the bar said 20 s
    were left at 5 s."""
    bar, clock, _ = _bar(640, time_limit_s=12.0)
    bar._on_rollout_start()
    clock.now, bar.pbar.n = 1.0, 128
    bar._on_rollout_end()
    clock.now = 5.0
    bar._on_rollout_start()
    assert bar.time_left() == pytest.approx(12.0 - 5.0)
    clock.now = 30.0
    assert bar.time_left() == 0.0
    unlimited, clock, _ = _bar(640)
    unlimited._on_rollout_start()
    clock.now, unlimited.pbar.n = 1.0, 128
    unlimited._on_rollout_end()
    clock.now = 5.0
    unlimited._on_rollout_start()
    assert unlimited.time_left() == pytest.approx(4 * (1 + 4))



def test_the_bar_is_drawn_on_stderr(capsys) -> None:  # type: ignore[no-untyped-def]
    """It was on stdout (tqdm.rich's default console): `placer train ... > log.txt` held it,
    folded over two lines, and a terminal showed no progress at all."""
    bar = PhaseProgressBar()
    bar.locals = {"total_timesteps": 10}  # type: ignore[assignment]
    bar.model = SimpleNamespace(num_timesteps=0, n_steps=5, n_envs=1)  # type: ignore[assignment]
    bar._on_training_start()
    bar.pbar.update(10)
    bar.pbar.close()
    captured = capsys.readouterr()
    assert captured.out == "" and "10/10" in captured.err
