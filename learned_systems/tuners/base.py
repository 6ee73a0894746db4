"""The tuner interface: ``ask()`` proposes a configuration, ``tell(config, score)`` reports it.

``score`` is higher-is-better (e.g. throughput relative to the defaults), ``None`` for a failed
trial. ``observe`` shows a tuner configurations measured outside its search (the baselines every
tuner's run measures first; a tuner that learns may use them, the others ignore them).
``replay`` feeds stored trials back after a restart so a resumed run continues the same search
instead of starting over. A tuner may propose a configuration again to measure it once more.

A tuner whose replay is costly may also be a :class:`ResumableTuner`: ``checkpoint()`` after each
``ask`` gives a :class:`TunerState` that the tuning loop stores beside the trial, in the same
commit, and ``restore`` takes the stored trials with their states back in one step, without
proposing anything again (falling back to ``replay`` where the states cannot serve).

A tuner of one's own needs only these methods and a ``name``: registered with
:func:`~learned_systems.tuners.registry.register_tuner`, or handed to ``run_tuning`` as an
instance, it runs as the built-in ones do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol


class ResumeWarning(RuntimeWarning):
    """A resumed tuner that no longer repeats its stored run, or that resumes the slow way (the
    CLI shows it as one ``placer: warning:`` line, as the project's own warnings)."""


@dataclass(frozen=True)
class TunerState:
    """What a tuner stores beside one trial so that a resumed run need not replay it.

    ``proposal`` stays with its trial: how the tuner itself proposed it (JSON text; None for a
    trial it did not propose afresh). ``sampler`` is the tuner's random state once the trial
    was proposed (JSON text); the store keeps it with the newest trial only (None on the others).
    """

    proposal: str | None
    sampler: str | None


class StoredTrial(NamedTuple):
    """A stored trial handed back to :meth:`ResumableTuner.restore`: its configuration, its
    score as this run ranks it, and the state stored beside it (None where none was: a store
    written before states were kept)."""

    config: dict[str, Any]
    score: float | None
    state: TunerState | None


class Tuner(Protocol):
    """What the tuning loop calls (module docstring); ``name`` is what its trials are stored
    under. An optional ``close()`` is called when the run ends, however it ends."""

    name: str

    def ask(self) -> dict[str, Any]: ...

    def tell(self, config: dict[str, Any], score: float | None) -> None: ...

    def observe(self, config: dict[str, Any], score: float | None) -> None: ...

    def replay(self, config: dict[str, Any], score: float | None) -> None: ...


class ResumableTuner(Tuner, Protocol):
    """A tuner that resumes from stored states instead of replaying every stored trial."""

    def checkpoint(self) -> TunerState | None:
        """The state to store beside the trial just asked for (None: nothing to store)."""
        ...

    def restore(self, trials: list[StoredTrial]) -> bool:
        """Take ``trials`` (every stored trial, in order) back from their states; False, with
        the tuner left untouched, where they cannot serve (the caller then replays them)."""
        ...


def __getattr__(name: str) -> Any:
    """``make_tuner``, which lived here before the registry, still imported from here."""
    if name == "make_tuner":
        from learned_systems.tuners.registry import make_tuner

        return make_tuner
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
