"""An RL tuner: stable-baselines3 PPO proposes configurations, one trial per environment step.

SB3 drives its own loop (``learn`` calls ``env.step``), while tuners are driven by ask/tell. The
agent therefore runs in a background thread on a small proposal environment whose ``step``
hands the action to ``ask`` and waits for the score from ``tell``; the two threads strictly
alternate (the agent runs only inside ``tell``, on random generator states of its own), so a
seed gives the same proposals for the same scores and torch thread count, whatever else the
program draws from the process's generators and however many tuners run in its threads
(measured scores differ from run to run, and from the second trial on the proposals with them;
so do optuna's, while random search's never read a score). Observation: the last
configuration (unit vector) and its score squashed into (-1, 1) (``s / (1 + |s|)``: scores of
every system stay apart, index scores below -1 included); action: the next configuration in
``[-1, 1]^knobs``, mapped onto the space's unit cube; reward: the score.
"""

from __future__ import annotations

import queue
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import gymnasium as gym
import numpy as np

from learned_systems.config.knobs import KnobSpace
from learned_systems.tuners.base import ResumeWarning
from netlists.errors import start_refusals


@contextmanager
def _one_torch_thread() -> Iterator[None]:
    """torch on one thread (this thread's count; put back afterwards) while the agent is built
    and while it learns: its weights' initialisation and its updates split their sums by
    thread, and its proposals drifted after 66-270 trials between machines of 1 and 2 cores, or
    a run resumed under another taskset (a thread of the caller's whose first torch work falls
    in this window takes one thread too, for good)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _ProposalEnv(gym.Env):
    """Each step proposes one configuration; the reward arrives from the tuning loop."""

    def __init__(
        self, space: KnobSpace, actions: queue.Queue, rewards: queue.Queue, horizon: int
    ) -> None:
        self.space = space
        self.actions = actions
        self.rewards = rewards
        self.horizon = horizon
        size = len(space.knobs)
        # symmetric around PPO's initial mean 0, mapped onto [0, 1]: over [0, 1] with its std
        # of 1, half of every proposal's components were clipped to 0 (each knob's lowest
        # value), and the agent did worse than random search
        self.action_space = gym.spaces.Box(-1.0, 1.0, (size,), np.float32)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (size + 1,), np.float32)
        self._steps = 0
        self._last = np.append(space.to_unit(space.defaults()), 0.5).astype(np.float32)  # (score 1)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._steps = 0
        return self._last.copy(), {}

    def step(self, action):
        unit = (np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0) + 1.0) / 2.0
        self.actions.put(unit)
        reward = self.rewards.get()
        if reward is None:  # the tuner was closed
            raise SystemExit
        self._steps += 1
        # squashed, not clipped: a clip to [-1, 10] showed every index score (all < -1) as -1
        self._last = np.append(unit, reward / (1.0 + abs(reward))).astype(np.float32)
        return self._last.copy(), float(reward), False, self._steps >= self.horizon, {}


#: Held while a tuner's agent runs (from a ``tell`` to its next proposal): the generators it
#: draws from are the process's, so two tuners in threads took each other's numbers.
_AGENT_RUNNING = threading.Lock()


def _generators() -> tuple[Any, Any, Any]:
    """The process-wide generators' states: Python's, numpy's global and torch's CPU one (SB3
    seeds all three and samples its actions from torch's)."""
    import random

    import torch

    return random.getstate(), np.random.get_state(), torch.get_rng_state()


def _set_generators(states: tuple[Any, Any, Any]) -> None:
    import random

    import torch

    random.setstate(states[0])
    np.random.set_state(states[1])
    torch.set_rng_state(states[2])


class RLAgentTuner:
    """PPO proposing configurations (see the module's docstring).

    The agent runs only inside the tuner's own calls (from each ``tell`` until it has its next
    proposal), on generator states of its own swapped in for that while: the caller's draws
    from Python's, numpy's and torch's process-wide generators neither change its proposals nor
    are changed by it (SB3 reseeds all three), and tuners in several threads take turns."""

    name = "rl"

    def __init__(self, space: KnobSpace, seed: int, trials: int = 50, horizon: int = 8) -> None:
        self.space = space
        self._lowest: float | None = None  # the lowest score seen so far (failures get less)
        self._diverged = False  # a replayed trial was proposed differently (said once)
        self._actions: queue.Queue = queue.Queue()
        self._rewards: queue.Queue = queue.Queue()
        self._failure: list[Exception] = []  # what stopped the agent's thread, if anything
        self._proposal: Any = None  # the agent's next proposal, made in the last window
        self._cut_short = False  # a tell() interrupted while the agent took its step
        self._own: tuple[Any, Any, Any] | None = None  # its generators (the build seeds them)
        self._agent_turn(lambda: self._start(seed, trials, horizon))

    def _agent_turn(self, begin: Callable[[], None]) -> None:
        """Let the agent run (``begin`` starts it, or hands it a reward) until its next proposal,
        under the lock and on its own generator states, the caller's put back afterwards. An
        interrupt meanwhile leaves the agent going on with its step outside the lock, on the
        caller's generators: the tuner cannot be trusted further (``_cut_short``)."""
        with _AGENT_RUNNING:
            callers = _generators()
            if self._own is not None:
                _set_generators(self._own)
            try:
                begin()
                self._proposal = self._await_proposal()
                self._own = _generators()
            except BaseException:
                self._cut_short = True
                raise
            finally:
                _set_generators(callers)

    def _start(self, seed: int, trials: int, horizon: int) -> None:
        """Build the agent (which seeds the process's generators) and start its thread."""
        from stable_baselines3 import PPO
        from stable_baselines3.common.logger import Logger

        env = _ProposalEnv(self.space, self._actions, self._rewards, horizon)
        steps = 8
        with _one_torch_thread():  # (the weights' orthogonal init, a QR, follows the threads)
            self.model = PPO(
                "MlpPolicy",
                env,
                n_steps=steps,
                batch_size=steps,
                n_epochs=4,
                learning_rate=3e-3,
                gamma=0.5,
                seed=seed,
                device="cpu",
                verbose=0,
            )
        # no logger folder: SB3 would otherwise leave an empty tempdir/SB3-<time> per tuner
        self.model.set_logger(Logger(folder=None, output_formats=[]))
        total = max(trials, 1) * 4  # more than needed: the loop stops asking when done
        # the thread holds the agent and its queues, not the tuner: a tuner never closed is
        # freed, and its finalizer stops the thread (a bound method as the target kept the
        # tuner reachable from the blocked thread for good: a thread and a PPO model each)
        self._thread = threading.Thread(target=_learn, args=(self.model, total, self._failure), daemon=True)
        # ("can't start new thread" read as a bug of ours)
        with start_refusals("the RL tuner's agent thread", "end other threads or processes, or use another tuner"):
            self._thread.start()
        self._stop = weakref.finalize(self, _stop_agent, self._rewards, self._thread)

    def _await_proposal(self) -> Any:
        """Wait while the agent runs to its next proposal: it, or None once its thread has ended
        (raised by the next :meth:`ask`); a RuntimeError after 10 minutes without one."""
        deadline = time.monotonic() + 600.0
        while True:
            try:
                return self._actions.get(timeout=0.2)
            except queue.Empty:
                if not self._thread.is_alive():
                    return None
                if time.monotonic() > deadline:
                    raise RuntimeError("the RL tuner's agent proposed nothing for 10 minutes") from None

    def _next_action(self) -> Any:
        """The proposal the agent made for this trial; a RuntimeError when its thread has died
        or when the trial was asked for twice without a ``tell``."""
        if self._cut_short:
            raise RuntimeError("the RL tuner was interrupted while its agent took a step: it cannot go on "
                               "(a new one, given the stored trials by replay, can)")
        proposal, self._proposal = self._proposal, None
        if proposal is not None:
            return proposal
        if not self._thread.is_alive():
            error = self._failure[0] if self._failure else None
            raise RuntimeError(f"the RL tuner's agent stopped: {error!r}") from error
        raise RuntimeError("the RL tuner was asked for a trial twice without tell()")

    def ask(self) -> dict[str, Any]:
        return self.space.from_unit(self._next_action())

    def tell(self, config: dict[str, Any], score: float | None) -> None:
        reward = self.reward(score)
        self._agent_turn(lambda: self._rewards.put(reward))

    def reward(self, score: float | None) -> float:
        """The reward of a trial: its score; for a failed one below every score seen, the
        baselines' included: at most 0 and at most twice the lowest (index scores are negative:
        a flat 0 made failing pay), -1 before any score is known."""
        if score is None:
            return -1.0 if self._lowest is None else min(0.0, 2.0 * self._lowest, self._lowest - 1.0)
        self._see(score)
        return float(score)

    def _see(self, score: float) -> None:
        self._lowest = float(score) if self._lowest is None else min(self._lowest, float(score))

    def observe(self, config: dict[str, Any], score: float | None) -> None:
        """The agent learns from its own proposals only (the baselines are not its actions),
        but their scores set how low a failure's reward goes."""
        if score is not None:
            self._see(score)

    def replay(self, config: dict[str, Any], score: float | None) -> None:
        """Resuming: the agent is retrained on the stored trials, in order, as if proposed. The
        agent proposes again what it proposed then (same seed, same scores, same torch thread
        count); where it does not, it learns the stored score for its new proposal, and that is
        said once (the run goes on, no longer identical to an unbroken one)."""
        proposed = self.space.from_unit(self._next_action())
        if not self._diverged and self.space.effective(proposed) != self.space.effective(config):
            self._diverged = True
            warnings.warn(
                "the resumed RL tuner proposed a stored trial differently (another torch thread "
                "count, or other scores?): it goes on from the stored scores, no longer the "
                "same run as an unbroken one",
                ResumeWarning,
                stacklevel=2,
            )
        self.tell(config, score)

    def close(self) -> None:
        """Stop the agent's thread and wait for it: left running (in a PPO update, say) it was
        torn down with the interpreter and the process aborted (exit 134) after a good run.
        A tuner never closed is stopped alike when it is collected, or at exit."""
        self._stop()


def _learn(model: Any, total: int, failure: list[Exception]) -> None:
    """The agent's thread: ``model.learn`` until the tuner is closed (its proposal env raises
    SystemExit), an error kept in ``failure`` for the asking thread. Given only what it needs,
    never the tuner, so that a tuner dropped unclosed can be collected."""
    with _one_torch_thread():
        try:
            model.learn(total_timesteps=total)
        except SystemExit:
            pass
        except Exception as error:  # noqa: BLE001 - handed to the asking thread, not lost
            failure.append(error)


def _stop_agent(rewards: queue.Queue, thread: threading.Thread) -> None:
    """Stop a tuner's agent thread (its proposal env waits for a reward: None ends it) and wait
    for it; run once, by :meth:`RLAgentTuner.close`, when the tuner is collected, or at exit."""
    rewards.put(None)
    if thread is not threading.current_thread():
        thread.join(timeout=60.0)
