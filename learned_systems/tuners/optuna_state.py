"""The Optuna tuner's resume state as JSON text: its random streams and each proposal's parameters.

A resumed run adds the stored trials to a fresh study and sets these streams back, instead of
asking TPE again for every stored proposal (the replay, as slow as TPE was the first time).
Why these and nothing more, for the multivariate ``TPESampler`` of optuna 5.1: its only state
that is not rebuilt from the study's trials is two numpy ``RandomState`` streams, ``_rng``
(TPE's candidates) and ``_random_sampler._rng`` (the random start). Its intersection search
space is a cache of the trials, its gamma and weights are functions fixed when it is built,
and ``after_trial`` (what a ``tell`` calls) draws nothing. The tuner's own stream of
interleaved uniform samples is the third. TPE's parameters of each proposal are stored as
proposed, not read back from the trial's configuration: a configuration rounds the unit
interval of a "0 = off" knob (SQLite's ``mmap_size``) to whole values, and TPE's next proposals
follow the exact numbers (with the rounded ones, a SQLite run resumed after 5, 11 or 30 of 60
trials proposed otherwise from its 14th or 31st trial on).

No pickle, although Optuna documents pickling a sampler for this: the state is numbers in JSON,
read with ``json`` and checked before use, so ``results.sqlite`` stays a file that is only
parsed, never executed, as docs/cli.md promises for results databases. A run folder is the
user's own and documented as trusted (a training run's ``last_state.pkl`` is a pickle, as an
SB3 model's ``.zip`` is), so a pickle there would have been within the documented trust; but a
results database is also copied and shared on its own, and unpickling a state from it would run
whatever code its author put in it, for no gain over these few numbers. The streams are
private attributes of optuna's samplers: where this optuna keeps them elsewhere no state is
stored, and a state written under another optuna version (any other version string) is refused
(:class:`StateError`), so those runs resume by replay.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import numpy as np

from learned_systems.tuners.optuna_module import optuna
from netlists.formats.textio import json_loads

#: The layout of the JSON written here (a state of another layout is refused).
FORMAT = 1
_MT_WORDS = 624  # the Mersenne Twister's state: 624 32-bit words


class StateError(ValueError):
    """A stored state that cannot be used: unreadable, of another layout or optuna version."""


def sampler_streams(sampler: optuna.samplers.BaseSampler) -> tuple[np.random.RandomState, np.random.RandomState] | None:
    """TPE's own stream and its random start's, or None where ``sampler`` keeps them elsewhere."""
    try:
        streams = (sampler._rng.rng, sampler._random_sampler._rng.rng)  # type: ignore[attr-defined]
    except AttributeError:
        return None
    return streams if all(isinstance(s, np.random.RandomState) for s in streams) else None


def _mt_to_json(stream: np.random.RandomState) -> dict[str, Any]:
    name, keys, position, has_gauss, cached_gaussian = stream.get_state(legacy=True)
    return {
        "keys": base64.b64encode(np.asarray(keys, dtype="<u4").tobytes()).decode("ascii"),
        "pos": int(position),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached_gaussian),
    }


def _mt_from_json(data: Any) -> tuple[str, np.ndarray, int, int, float]:
    """A ``RandomState.set_state`` tuple, checked by setting it on a scratch stream."""
    if not isinstance(data, dict):
        raise StateError("a random stream is not an object")
    try:
        keys = np.frombuffer(base64.b64decode(data["keys"], validate=True), dtype="<u4").astype(np.uint32)
        state = ("MT19937", keys, int(data["pos"]), int(data["has_gauss"]), float(data["cached_gaussian"]))
        if keys.size != _MT_WORDS or not 0 <= state[2] <= _MT_WORDS:
            raise ValueError(f"{keys.size} words, position {state[2]}")
        np.random.RandomState().set_state(state)
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        raise StateError(f"a random stream is not readable ({error})") from None
    return state


def encode_sampler(
    streams: tuple[np.random.RandomState, np.random.RandomState], uniform: np.random.Generator
) -> str:
    """The random state after a proposal: TPE's two streams and the uniform samples' generator."""
    return json.dumps({
        "format": FORMAT,
        "optuna": optuna.__version__,
        "tpe": _mt_to_json(streams[0]),
        "random_start": _mt_to_json(streams[1]),
        "uniform": uniform.bit_generator.state,
    })


def decode_sampler(text: str) -> tuple[tuple[Any, Any], dict[str, Any]]:
    """``(TPE's two RandomState states, the uniform generator's state)`` of :func:`encode_sampler`'s
    ``text``, each checked; a :class:`StateError` saying why it cannot be used."""
    try:
        data = json_loads(text)
    except (TypeError, ValueError) as error:
        raise StateError(f"not readable ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StateError("of another layout")
    if data.get("optuna") != optuna.__version__:
        raise StateError(f"written by optuna {data.get('optuna')}, this is {optuna.__version__}")
    uniform = data.get("uniform")
    try:
        if not isinstance(uniform, dict) or uniform.get("bit_generator") != "PCG64":
            raise ValueError("not a PCG64 state")
        np.random.PCG64().state = uniform  # type: ignore[assignment]  # (checks its fields)
    except (KeyError, TypeError, ValueError) as error:
        raise StateError(f"its uniform stream is not readable ({error})") from None
    return (_mt_from_json(data.get("tpe")), _mt_from_json(data.get("random_start"))), uniform


def encode_params(params: dict[str, Any]) -> str:
    """TPE's parameters of one proposal, exactly (JSON keeps a float's every bit)."""
    return json.dumps(params, sort_keys=True, default=_plain)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number JSON writes (anything else is no parameter)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not a parameter JSON can hold")


def decode_params(text: str | None) -> dict[str, Any]:
    """:func:`encode_params`' parameters back, or a :class:`StateError`."""
    try:
        params = json_loads(text) if text is not None else None
    except (TypeError, ValueError) as error:
        raise StateError(f"a stored proposal is not readable ({error})") from None
    if not isinstance(params, dict):
        raise StateError("a stored proposal is not an object")
    return params
