"""The progress bar of ``placer train``: environment steps, the phase under way, and a time
left measured over whole rollout-and-update cycles.

SB3's own bar estimates the time left from environment steps alone; on a CPU most of a run is
the PPO update after each rollout, during which no step is taken, so that estimate was far too
short and stood still. Here the time left is the remaining rollouts' share of the measured
collection time plus one measured update per remaining rollout.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from stable_baselines3.common.callbacks import ProgressBarCallback

if TYPE_CHECKING:
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

#: How many recent cycles the time-left estimate averages (training speeds up and slows down as
#: episodes change; the last few say most about the next).
RECENT_CYCLES = 5

#: The most often the train bar passes its step count on to rich, in seconds (rich redraws 10
#: times a second).
COUNT_EVERY_S = 0.05


def has_progress_bar() -> bool:
    """Whether rich (which draws the bar) and tqdm (which SB3's progress-bar callback, the
    bar's base, asks for) are installed."""
    try:
        import rich  # noqa: F401
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def clock_text(seconds: float | None) -> str:
    """``seconds`` as H:MM:SS, as rich writes times; ``-:--:--`` while unknown."""
    if seconds is None:
        return "-:--:--"
    whole = max(0, int(math.ceil(seconds)))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class PhaseProgressBar(ProgressBarCallback):
    """SB3's progress bar (environment steps), labelled with the phase under way (the PPO update
    after each rollout takes most of a CPU run's time, during which the bar stood still with
    nothing said why), its time left from measured collection and update times."""

    model: OnPolicyAlgorithm  # (SB3 types it as any algorithm; the bar times PPO's rollouts)
    pbar: StepBar  # (SB3's is tqdm's; this one is driven as that one is)

    def __init__(self, clock: Callable[[], float] = time.monotonic, time_limit_s: float | None = None) -> None:
        super().__init__()
        self._clock = clock
        self._time_limit_s = time_limit_s  # the run's own limit (TrainConfig.time_limit_s): it
        self._training_start = clock()  # stops the run sooner than its steps would
        self._collect_s: deque[float] = deque(maxlen=RECENT_CYCLES)
        self._update_s: deque[float] = deque(maxlen=RECENT_CYCLES)
        self._phase_start: float | None = None
        self._updating = False
        self._ended = False

    def _on_training_start(self) -> None:
        self._training_start = self._clock()
        self.pbar = StepBar(self.locals["total_timesteps"] - self.model.num_timesteps,
                            lambda: clock_text(self.time_left()))

    def _on_training_end(self) -> None:
        self._ended = True  # (the last update is over: no time is left, whatever its mean said)
        super()._on_training_end()

    def _on_rollout_start(self) -> None:
        now = self._clock()
        if self._updating:  # (set with _phase_start)
            self._update_s.append(now - self._phase_start)  # type: ignore[operator]
        self._phase_start, self._updating = now, False
        self.pbar.set_description("collecting episodes")

    def _on_rollout_end(self) -> None:
        now = self._clock()
        if not self._updating and self._phase_start is not None:
            self._collect_s.append(now - self._phase_start)
        self._phase_start, self._updating = now, True
        self.pbar.set_description("updating the policy")

    def time_left(self) -> float | None:
        """Seconds until the last rollout's update ends, from the recent cycles' collection and
        update times, or until the time limit when that comes first; None until one whole
        cycle has been measured; 0 once training has ended."""
        if self._ended:
            return 0.0
        if not self._collect_s or not self._update_s or self._phase_start is None:
            return None
        collect = sum(self._collect_s) / len(self._collect_s)
        update = sum(self._update_s) / len(self._update_s)
        rollout_steps = self.model.n_steps * self.model.n_envs
        steps_left = max(0, self.pbar.total - self.pbar.n)
        rollouts_left = math.ceil(steps_left / rollout_steps)  # the one under way included
        seconds = steps_left / rollout_steps * collect + rollouts_left * update
        if self._updating:  # the update under way: what its mean leaves of it
            seconds += max(0.0, update - (self._clock() - self._phase_start))
        if self._time_limit_s is not None:
            seconds = min(seconds, max(0.0, self._time_limit_s - (self._clock() - self._training_start)))
        return seconds


class StepBar:
    """The bar SB3's callback drives, as it drives its tqdm bar (``update``,
    ``set_description``, ``refresh``, ``close``; ``n``, ``total``, and ``disable``: True once
    closed), drawn on stderr by rich in the layout of :func:`placer.progress_layout.steps_progress`
    (tqdm's rich bar filled the terminal's width: at 80 columns it cut the step total and
    wrapped its speed onto a second line)."""

    def __init__(self, total: int, left_text: Callable[[], str]) -> None:
        from rich.console import Console

        from placer.progress_layout import steps_progress

        self.total, self.n, self.disable = total, 0, False
        self._progress = steps_progress(left_text, Console(stderr=True))  # (with the other bars, off the output)
        self._task = self._progress.add_task("", total=total)
        self._told = time.monotonic()  # when the count was last passed to rich
        self._progress.start()

    def update(self, steps: int) -> None:
        """``steps`` more environment steps done (passed on to rich every :data:`COUNT_EVERY_S`
        at most: a rich update costs ~4 us, called after every environment step)."""
        self.n += steps
        if time.monotonic() - self._told >= COUNT_EVERY_S:
            self._tell()

    def _tell(self, description: str | None = None) -> None:
        self._progress.update(self._task, completed=self.n, description=description)
        self._told = time.monotonic()

    def set_description(self, text: str) -> None:
        """Name the phase under way (as tqdm: ``text:`` before the percentage)."""
        self._tell(f"{text}:")

    def refresh(self) -> None:
        self._tell()
        self._progress.refresh()

    def close(self) -> None:
        """Draw the bar a last time and leave it on the screen (again: nothing)."""
        self._tell()
        self._progress.stop()
        self.disable = True
