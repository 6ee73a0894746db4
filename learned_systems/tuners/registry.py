"""The registry of tuners: each name with its factory, ``factory(space, seed, trials) -> Tuner``.

The built-in tuners (random, optuna, rl) are registered here as one's own are, with
:func:`register_tuner`; :func:`make_tuner`, ``run_tuning`` and ``placer tune --tuner`` (its
``--plugin`` modules loaded first) take any registered name. The built-ins' modules are
imported only when one is made (Optuna and torch load slowly).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, overload

from learned_systems.config.knobs import KnobSpace
from learned_systems.errors import InputError
from learned_systems.tuners.base import Tuner
from learned_systems.validation import (
    MAX_SEED,
    exact_whole_number,
    qualified_name,
    refuse_taken_name,
    registered,
)

#: ``factory(space, seed, trials)``: a tuner over ``space`` for a run of ``trials`` trials.
TunerFactory = Callable[[KnobSpace, int, int], Tuner]

#: What a tuner name may be: a results row's ``tuner``, an entry of ``--tuner a,b`` and a plot
#: label ("NAME seed K").
_TUNER_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
#: Names the results already use for their baselines (the store's ``tuner`` of a baseline row,
#: best_config.json's ``found_by`` of one): a tuner under them would be read as a baseline.
RESERVED_TUNER_NAMES = frozenset({"baseline", "default", "rule_of_thumb"})
#: The methods the tuning loop calls on every tuner (:class:`~learned_systems.tuners.base.Tuner`).
TUNER_METHODS = ("ask", "tell", "observe", "replay")

_FACTORIES: dict[str, TunerFactory] = {}
#: The text of each factory of one's own's file when it registered (:func:`loaded_tuner_text`).
_LOADED_TEXT: dict[Callable[..., Any], bytes | None] = {}


def check_tuner_name(name: object) -> str:
    """``name`` if a tuner may be called so (ValueError saying why not; TypeError for no str)."""
    if not isinstance(name, str):
        raise TypeError(f"a tuner's name is a str (its trials are stored under it), got {name!r}")
    if not _TUNER_NAME.fullmatch(name) or ".." in name or name in RESERVED_TUNER_NAMES:
        raise InputError(
            f"tuner name {name!r} cannot be used: it names the tuner's rows in results.sqlite, an "
            "entry of --tuner a,b and a plot line, so letters, digits, _ . - (not first, no '..'), "
            f"and none of {', '.join(sorted(RESERVED_TUNER_NAMES))}"
        )
    return name


def check_tuner(tuner: Any, what: str) -> Tuner:
    """``tuner`` if it has the tuning loop's methods (TypeError naming those it lacks)."""
    missing = [method for method in TUNER_METHODS if not callable(getattr(tuner, method, None))]
    if missing:
        raise TypeError(
            f"{what} is no tuner: {type(tuner).__name__} lacks {', '.join(missing)} (a tuner has "
            f"{', '.join(TUNER_METHODS)}: see learned_systems.tuners.base.Tuner)"
        )
    return tuner


def check_factory_signature(name: str, factory: Callable[..., Any]) -> None:
    """Refuse a factory that cannot be called as ``factory(space, seed, trials)`` (TypeError
    naming the tuner), before anything is measured."""
    import inspect

    try:
        inspect.signature(factory).bind(None, 0, 1)
    except TypeError as exc:
        raise TypeError(
            f"tuner {name!r}: its factory {qualified_name(factory)} must take (space, seed, trials): {exc}"
        ) from None
    except ValueError:  # (no signature to read: called as it is)
        pass


@overload
def register_tuner(name: str) -> Callable[[TunerFactory], TunerFactory]: ...
@overload
def register_tuner(name: str, factory: TunerFactory) -> TunerFactory: ...
def register_tuner(
    name: str, factory: TunerFactory | None = None
) -> TunerFactory | Callable[[TunerFactory], TunerFactory]:
    """Register ``factory`` (``factory(space, seed, trials) -> Tuner``; a class taking those
    three arguments is one) under ``name``; without ``factory``, a decorator that does it.

    Raises:
        ValueError: a name no tuner may take (:func:`check_tuner_name`), or one taken by another
            factory (the same factory registered again, its module reloaded, is allowed).
        TypeError: ``factory`` is not callable.
    """
    check_tuner_name(name)

    def add(factory: TunerFactory) -> TunerFactory:
        if not callable(factory):
            raise TypeError(f"tuner {name!r}: the factory must be callable, got {factory!r}")
        refuse_taken_name("tuner", name, _FACTORIES.get(name), factory)
        _FACTORIES[name] = factory
        if not _is_builtin(factory):  # the code as loaded, whatever its file says later
            _LOADED_TEXT[factory] = _file_text(factory)
        return factory

    return add if factory is None else add(factory)


def available_tuners() -> list[str]:
    """Names of the registered tuners, the built-ins first, then in the order registered."""
    return list(_FACTORIES)


def tuner_module(name: str) -> str:
    """The module whose factory makes tuner ``name`` (``placer tune --plugin`` names a plugin
    that registered none)."""
    return str(getattr(tuner_factory(name), "__module__", ""))


def _is_builtin(factory: Callable[..., Any]) -> bool:
    module = str(getattr(factory, "__module__", None) or "")
    return module == "learned_systems" or module.startswith("learned_systems.")


def _file_text(factory: Callable[..., Any]) -> bytes | None:
    """The text of the file that defines ``factory`` (None when it has none or it cannot be
    read)."""
    file = getattr(sys.modules.get(str(getattr(factory, "__module__", None) or "")), "__file__", None)
    try:
        return Path(file).read_bytes() if file else None
    except OSError:
        return None


def is_builtin_tuner(name: str) -> bool:
    """Whether tuner ``name`` is one of placer-gym's own (its code is the package version's)."""
    return _is_builtin(tuner_factory(name))


def loaded_tuner_text(name: str) -> bytes | None:
    """The text of the file that defines tuner ``name``'s factory as it was when the factory
    registered (None for a built-in, a module without a file or one that could not be read):
    a tuner's code edited after it loaded is not the code that runs, and a run resumed with
    edited code is refused by what this says (``placer tune``)."""
    return _LOADED_TEXT.get(tuner_factory(name))


def tuner_factory(name: str) -> TunerFactory:
    """The factory registered as ``name`` (ValueError listing the registered names)."""
    return registered(_FACTORIES, name, "tuner", "learned_systems.tuners.register_tuner")


def make_tuner(name: str, space: KnobSpace, seed: int, trials: int = 50) -> Tuner:
    """The tuner registered as ``name`` over ``space`` (ValueError listing the names for one
    not registered; TypeError when its factory returns no tuner). ``seed`` is a whole number
    from 0 to :data:`~learned_systems.validation.MAX_SEED` and ``trials`` one >= 1, checked
    here as :func:`~learned_systems.tuning.run_tuning` checks them (numpy's and Optuna's own
    refusals, "expected non-negative integer", named neither).

    Raises:
        TypeError: ``seed`` or ``trials`` is not an int (3.0 and True included).
        InputError: one is out of range.
    """
    factory = tuner_factory(name)  # (an unknown name said first, as run_tuning says it)
    exact_whole_number("seed", seed, 0, MAX_SEED)
    exact_whole_number("trials", trials, 1)
    made = factory(space, seed, trials)
    return check_tuner(made, f"what tuner {name!r}'s factory returned")


def _random_search(space: KnobSpace, seed: int, trials: int) -> Tuner:
    """Random search (it needs no trial count)."""
    from learned_systems.tuners.random_search import RandomSearch

    return RandomSearch(space, seed)


def _optuna_tpe(space: KnobSpace, seed: int, trials: int) -> Tuner:
    from learned_systems.tuners.optuna_tpe import OptunaTPE

    return OptunaTPE(space, seed, trials)


def _rl_agent(space: KnobSpace, seed: int, trials: int) -> Tuner:
    from learned_systems.tuners.rl_agent import RLAgentTuner

    return RLAgentTuner(space, seed, trials)


register_tuner("random", _random_search)
register_tuner("optuna", _optuna_tpe)
register_tuner("rl", _rl_agent)
