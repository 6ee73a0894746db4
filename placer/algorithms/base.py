"""The common interface of every placement method, and the registry of methods.

Every method is a :class:`Placer`: ``place(netlist, placement, budget_s, seed, progress)``
returns a new :class:`~netlists.model.Placement` and never modifies its input. The base class
runs the method's own :meth:`Placer.run`, then the legaliser, so every output is legal (no two
hard macros overlap, every macro lies inside the canvas, fixed nodes stay where they are).
"""

from __future__ import annotations

import contextvars
import math
import operator
import re
import threading
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from netlists.errors import InputError, UnknownName
from netlists.model import Netlist, Placement, check_orientation_codes, check_placement_matches
from placer.algorithms import options as opt_checks
from placer.interrupts import stop_requested

#: Start of a progress message the user should read (see :class:`Progress`).
NOTE_PREFIX = "note: "


@dataclass(frozen=True)
class Progress:
    """What a method reports while it runs: fraction of the budget used, best cost so far; a
    message starting with ``note: `` is something the user should read (``placer place`` prints
    it after the run), e.g. that the method kept the given placement."""

    fraction: float
    best_proxy: float | None = None
    message: str = ""

    @classmethod
    def noting(cls, text: str) -> Progress:
        """A final report carrying a note for the user."""
        return cls(1.0, None, NOTE_PREFIX + text)

    @property
    def note(self) -> str | None:
        """The text of a note, or None for an ordinary report."""
        return self.message.removeprefix(NOTE_PREFIX) if self.message.startswith(NOTE_PREFIX) else None


ProgressCallback = Callable[[Progress], None]


class NoteCollector:
    """A progress callback that keeps the notes a method reports, in order (``texts``)."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, progress: Progress) -> None:
        if progress.note is not None:
            self.texts.append(progress.note)


def note_budget_cut(progress: ProgressCallback, when: str, remedy: str) -> None:
    """Say that the budget stopped the run ``when`` (e.g. "after 3 of 5 trials"): a run stopped
    by the clock differs from run to run, and ``remedy`` says what repeats. Nothing is said when
    an interrupt stopped it (the caller says why)."""
    if not stop_requested():
        progress(Progress.noting(f"the budget ran out {when}: the run is not reproducible ({remedy})"))


def rescaled(progress: ProgressCallback, low: float, high: float) -> ProgressCallback:
    """A callback that maps a stage's own fraction 0..1 onto ``low..high`` of the whole run
    (its notes pass on unchanged)."""
    return lambda p: progress(Progress(low + (high - low) * p.fraction, p.best_proxy, p.message))


#: A run counts as past its budget when it took more than this share of it and a fifth of a
#: second more (set-up and the final legalisation are inside a method's budget; a loaded machine
#: stretches them a little; with a whole second, a 2 s run of a 1 s budget went unnamed). The
#: leaderboard names such runs; :meth:`Placer.place` notes its own.
OVERRUN_SHARE, OVERRUN_MIN_S = 1.2, 0.2


def past_budget(seconds: float | np.ndarray, budget_s: float | np.ndarray) -> bool | np.ndarray:
    """Whether a run of ``seconds`` went well past its ``budget_s`` (:data:`OVERRUN_SHARE`); for
    arrays of runs, elementwise (the leaderboard's table)."""
    return (seconds > OVERRUN_SHARE * budget_s) & (seconds > budget_s + OVERRUN_MIN_S)


def note_overrun(
    progress: ProgressCallback, name: str, seconds: float, budget_s: float, first_run: bool = False,
    options: Mapping[str, Any] | None = None,
) -> None:
    """Say that a run took well past its budget (no word when an interrupt stopped it): a step
    it cannot cut short outlasted the time left, e.g. one cost evaluation on a 2,048 x 2,048
    grid takes longer than a 1 s budget, so its result is not comparable with runs that
    stopped on time. ``first_run``: the method's first run in this process, not warmed up,
    which may have loaded (or compiled) its kernels inside the budget: the note says so and how
    to keep that out (a cold compile's 25 s were put down to a slow step), naming ``options`` where the
    run was given some."""
    if stop_requested() or not past_budget(seconds, budget_s):
        return
    # (with no factor for a budget of 0 it read "took 0.6 s its budget of 0 s")
    took = f", {seconds / budget_s:.1f}x its budget of {budget_s:g} s" if budget_s > 0 else " on a budget of 0 s"
    if first_run:
        # (with the options it runs with: warm_up('rl') without its model warms nothing, silently)
        call = f"warm_up({name!r}, options), options those it runs with," if options else f"warm_up({name!r})"
        # (said as what may have happened: a method of one's own may have no kernels to load)
        why = (f"this was its first run in this process, which loads the compiled kernels a method uses (builds "
               f"them, after an install or a change) inside its budget; {call} from placer.algorithms.base before "
               "a timed run keeps that out, as placer place and batches do (past its budget again after that, a "
               "step it cannot cut short is the cause)")
    else:
        why = ("a step it cannot cut short (one cost evaluation on a fine grid, the legalisation of a crowded "
               "placement) outlasted the time left; compare it with runs of the same length, or give it a larger "
               "budget")
    progress(Progress.noting(f"{name} took {seconds:.1f} s{took}: {why}"))


#: The methods that have run in this process (a warm-up's run included): a method's first run
#: loads its compiled kernels inside its budget.
_RAN: set[str] = set()
#: Whether this thread is inside a :meth:`Placer.place` already: a method running another as a
#: stage (global_refine's analytical) notes only the whole run's overrun, not its stage's.
_PLACING: contextvars.ContextVar[bool] = contextvars.ContextVar("placing", default=False)


class Deadline:
    """Wall-clock budget helper: ``remaining()``, ``fraction()``, ``expired()``. A stop asked by
    an interrupt (:func:`placer.interrupts.stop_gracefully`) expires every deadline: a method
    then ends as at its budget's end, with its best placement."""

    def __init__(self, budget_s: float) -> None:
        self.start = time.perf_counter()
        self.budget_s = max(float(budget_s), 0.0)

    def elapsed(self) -> float:
        """Seconds since the deadline was made."""
        return time.perf_counter() - self.start

    def remaining(self) -> float:
        """Seconds left (0 once expired or a stop was asked for)."""
        return 0.0 if stop_requested() else max(self.budget_s - self.elapsed(), 0.0)

    def fraction(self) -> float:
        """The share of the budget spent, 0 to 1."""
        return 1.0 if self.budget_s <= 0 else min(self.elapsed() / self.budget_s, 1.0)

    def expired(self) -> bool:
        """Whether the budget is spent or a stop was asked for."""
        return stop_requested() or self.elapsed() >= self.budget_s


def legalize_time_limit(budget_s: float) -> float:
    """Seconds a legalisation on a budget of ``budget_s`` gets before the legaliser packs the
    hard macros in rows instead (a method's start), or gives up (its result: the given placement,
    legalised, is returned; :func:`placer.algorithms.legalize.legalize`): half the budget,
    and at least half a second, so a placement the greedy legalises in milliseconds (every
    ordinary one) never takes that path. A legalisation near the limit is packed or not
    depending on the machine's speed: the note the packing leaves says the run is not
    reproducible."""
    return max(0.5 * budget_s, 0.5)


def legalize_start(
    netlist: Netlist, placement: Placement, budget_s: float, progress: ProgressCallback | None = None
) -> Placement:
    """``placement`` legalised as a method's start on a budget of ``budget_s`` seconds: hard
    macros piled on one spot took the greedy legaliser seconds to minutes (4-40 times a 1 s
    budget at 1,000-2,000 macros); past :func:`legalize_time_limit` they are packed in rows
    instead, and ``progress`` gets a note saying so."""
    from placer.algorithms.legalize import legalize

    notes: list[str] = []
    start = legalize(netlist, placement, time_limit_s=legalize_time_limit(budget_s), notes=notes)
    for note in notes:
        if progress is not None:
            progress(Progress.noting(f"the start: {note}"))
    return start


def option_flag(value: Any) -> bool:
    """A boolean method option given as a bool, or as text (``true`` / ``false`` / ``1`` / ``0``)."""
    if isinstance(value, str):
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise InputError(f"expected true or false, got {value!r}")
    return bool(value)


@dataclass(frozen=True)
class Requirement:
    """What another option must be for an option to act (:attr:`Placer.option_requires`):
    ``holds(value)`` on ``option``'s value (``default`` when not given); ``text`` says it in
    the refusal, after the option's name (e.g. ``"=adam"``, ``" > 1"``)."""

    option: str
    holds: Callable[[Any], bool]
    default: Any
    text: str


#: The words of the note :meth:`Placer.place` gives when the method's own result could not be
#: legalised and the given placement, legalised, is returned in its place (the leaderboard
#: names such runs: their figures are the start's, not the method's).
COULD_NOT_LEGALISE, KEPT_THE_GIVEN = "could not be legalised", "kept the given one"


class Placer(ABC):
    """Base class of placement methods (see module docstring).

    Subclasses set ``name`` and implement :meth:`run`; options go to ``__init__`` as keyword
    arguments with documented defaults, and ``option_names`` lists them so that a misspelt
    option is refused instead of silently falling back to its default.
    """

    name: ClassVar[str] = ""
    #: Fraction of the budget kept for legalisation and final bookkeeping.
    legalize_reserve: ClassVar[float] = 0.05
    #: The options the method reads; any other name is refused, so a misspelt option is an
    #: error instead of a silently ignored default. None: not declared (a plugin that does not
    #: say), every name is taken.
    option_names: ClassVar[frozenset[str] | None] = None
    #: Options whose value is a dict of another method's options, by that method's name.
    nested_options: ClassVar[Mapping[str, str]] = {}
    #: Checks of option values (:mod:`placer.algorithms.options`), by option name: a value of
    #: the wrong kind is refused when the method is built, not deep inside a run.
    option_checks: ClassVar[Mapping[str, Callable[[str, Any], None]]] = {}
    #: Options that act only when a flag option is true (or a number option is not 0), by
    #: name, or when another option's value meets a :class:`Requirement`: given otherwise they
    #: are refused, nested options' too (an option accepted and then ignored reads as a setting
    #: that made no difference).
    option_requires: ClassVar[Mapping[str, str | Requirement]] = {}

    @classmethod
    def reads(cls, option: str) -> bool:
        """Whether the method reads ``option`` (always true when it declares no names)."""
        return cls.option_names is None or option in cls.option_names

    def __init__(self, **options: Any) -> None:
        unknown = unknown_options(type(self), options)
        if unknown:
            raise TypeError(_unknown_message(type(self), unknown))
        check_option_values(type(self), options)
        self.options = options

    def __repr__(self) -> str:
        options = "".join(f", {name}={value!r}" for name, value in getattr(self, "options", {}).items())
        return f"{type(self).__name__}(name={self.name!r}{options})"

    def place(
        self,
        netlist: Netlist,
        placement: Placement,
        budget_s: float = 60.0,
        seed: int = 0,
        progress: ProgressCallback | None = None,
    ) -> Placement:
        """Place ``netlist`` from ``placement`` within about ``budget_s`` seconds; legal output.

        When the legaliser cannot fit the method's result (hard macros packed so tightly that
        only some arrangements fit) or runs past its time limit on it (hard macros piled up:
        :func:`legalize_time_limit`), the given placement, legalised in the time left of that
        limit, is returned instead (and a note says so). A legal result may still cost more than the start: a method building
        its own placement (greedy, analytical) does not keep a better given one, and ``placer
        place`` notes when that happens. Raises ValueError when the given placement cannot be
        legalised either, or for a budget or seed no run can take (TypeError for a seed that is
        not a whole number).
        """
        from placer.algorithms.legality import check_finite_positions, check_placeable
        from placer.algorithms.legalize import LegalizationError, LegalizationTimeout, legalize

        started = time.perf_counter()  # (as callers time a run: placer place's seconds, a batch row's)
        check_placement_fits(netlist, placement)
        netlist.require_canvas()
        # (a copy: the caller's object is not changed; lists become arrays)
        placement = placement.standardised()
        check_finite_positions(netlist, placement)
        check_placeable(netlist, placement)  # at once, not after the budget
        if not (math.isfinite(budget_s) and budget_s >= 0):  # NaN never expires, infinity
            # runs until killed, and a negative budget returned the start as if it had run
            raise InputError(f"budget_s must be a finite number of seconds >= 0, got {budget_s!r}")
        seed = check_seed(seed)
        work_budget = budget_s * (1.0 - self.legalize_reserve)
        first_run, outermost = self.name not in _RAN, not _PLACING.get()
        inside = _PLACING.set(True)
        try:
            result = self.run(netlist, placement.copy(), work_budget, seed, progress or (lambda p: None))
        finally:
            _PLACING.reset(inside)
            _RAN.add(self.name)  # (its kernels loaded, whether or not it failed)
        _check_result(self, netlist, result)
        notes: list[str] = []
        limit = legalize_time_limit(budget_s)  # (a pile of macros: no greedy past it)
        began = time.perf_counter()
        try:
            # not packed from the corner (nor in rows past the limit): that keeps nothing of the
            # method's result, and the given placement, legalised, is the better fallback
            result = legalize(netlist, result, reference=placement, last_resort=False, time_limit_s=limit, notes=notes)
        except LegalizationError as failure:  # (no room, or past the limit: any other error is a bug of ours)
            kept_given = True
            try:  # in the limit's time left (each legalisation had the whole limit: 1.5x the budget)
                result = legalize(netlist, placement, time_limit_s=max(limit - (time.perf_counter() - began), 0.0),
                                  notes=notes)  # fmt: skip
            except LegalizationError as fallback:
                if not isinstance(failure, LegalizationTimeout):
                    raise LegalizationError(f"{failure}; the given placement could not be legalised either "
                                            f"({fallback})") from None  # fmt: skip
                # no room for the given one, and the result only ran out of time: the result, to its end
                result = legalize(netlist, result, reference=placement, last_resort=False)
                kept_given = False
            if kept_given and progress is not None:
                progress(Progress.noting(f"{self.name}'s placement {COULD_NOT_LEGALISE} "
                                         f"({failure}); {KEPT_THE_GIVEN}"))  # fmt: skip
        if progress is not None:
            for note in notes:
                progress(Progress.noting(f"{self.name}'s placement: {note}"))
            from placer.cost.proxy import evaluate

            # the cost delivered: a method's last report may predate legalisation (analytical's overlaps)
            delivered = evaluate(netlist, result).proxy
            # timed with that evaluation, as the callers' seconds and the leaderboard's rule are (on a
            # 2,048 x 2,048 grid it alone outlasts a 1 s budget: the leaderboard named a run its note did not)
            if outermost:  # (a stage past its share, the whole run on time, is no overrun)
                note_overrun(progress, self.name, time.perf_counter() - started, budget_s, first_run,
                             getattr(self, "options", None))
            progress(Progress(1.0, delivered, "done"))
        return result

    @abstractmethod
    def run(
        self,
        netlist: Netlist,
        placement: Placement,
        budget_s: float,
        seed: int,
        progress: ProgressCallback,
    ) -> Placement:
        """The method itself; may modify and return ``placement`` (a private copy)."""


def check_seed(seed: object) -> int:
    """``seed`` as an int, or a TypeError / ValueError naming it: a whole number >= 0 (numpy's
    generators refuse negative ones deep inside a method; None would not repeat a run)."""
    if not isinstance(seed, bool):
        try:
            whole = operator.index(seed)  # type: ignore[arg-type]
        except TypeError:
            pass
        else:
            if whole < 0:
                raise InputError(f"seed must be a whole number >= 0, got {whole}")
            return whole
    raise TypeError(f"seed must be a whole number >= 0, got {seed!r}")


def check_placement_fits(netlist: Netlist, placement: Placement) -> None:
    """Refuse, before a method runs, a placement of another length than the netlist or with
    a macro orientation code outside 0-7 (methods indexed past their tables: IndexError).

    Raises:
        ValueError: naming the first problem.
    """
    check_placement_matches(netlist, placement, arrays_only=False)  # (lists are made arrays after)
    check_orientation_codes(netlist, placement, netlist.macros)


def proxy_or_nan(netlist: Netlist, placement: Placement) -> float:
    """The proxy cost of a method's intermediate ``placement``, or NaN when the method left a
    non-finite position (the cost refuses those; :meth:`Placer.place` then keeps the given
    placement, since legalisation refuses them too)."""
    from placer.cost.proxy import evaluate

    nodes = netlist.placeable
    if not (np.all(np.isfinite(placement.x[nodes])) and np.all(np.isfinite(placement.y[nodes]))):
        return math.nan
    return evaluate(netlist, placement).proxy


def unknown_options(cls: type[Placer], options: Mapping[str, Any]) -> list[str]:
    """The names in ``options`` that ``cls`` does not read (inside a nested option's dict as
    ``outer.inner``), sorted; empty when all are known or ``cls`` declares none."""
    unknown = sorted(name for name in options if not cls.reads(name))
    for outer, method in cls.nested_options.items():
        inner = options.get(outer)
        if isinstance(inner, Mapping):
            unknown += [f"{outer}.{name}" for name in unknown_options(placer_class(method), inner)]
        elif inner is not None:
            raise TypeError(
                f"option {outer!r} of {cls.name} takes a dict of {method} options, got {inner!r}"
            )
    return unknown


def check_option_values(cls: type[Placer], options: Mapping[str, Any], prefix: str = "") -> None:
    """Run ``cls``'s value checks on ``options``, and on a nested option's dict those of its
    method (ValueError naming the first bad value, as ``outer.inner`` inside a dict)."""
    for name, value in options.items():
        check = cls.option_checks.get(name)
        if check is not None:
            check(prefix + name, value)
        method = cls.nested_options.get(name)
        if method is not None and isinstance(value, Mapping):
            check_option_values(placer_class(method), value, f"{prefix}{name}.")
    for name, switch in cls.option_requires.items():
        if options.get(name) is None:
            continue
        if isinstance(switch, Requirement):
            if not switch.holds(options.get(switch.option, switch.default)):
                raise InputError(f"option {prefix + name!r} acts only with {prefix}{switch.option}{switch.text}")
        elif not option_flag(options.get(switch, False)):
            is_flag = cls.option_checks.get(switch) is None or opt_checks.is_flag(cls.option_checks[switch])
            needed = f"{prefix}{switch}=true" if is_flag else f"{prefix}{switch} > 0"
            raise InputError(f"option {prefix + name!r} acts only with {needed}")


def _unknown_message(cls: type[Placer], unknown: list[str]) -> str:
    """One clause per level (the method, or a nested option's dict): the names it does not
    read, and the ones it does."""
    by_level: dict[str, tuple[type[Placer], list[str]]] = {}
    for dotted in unknown:
        known: type[Placer] = cls
        walked: list[str] = []
        for outer in dotted.split(".")[:-1]:  # the nested options the name lies in (a dotted
            if outer not in known.nested_options:  # name of no nested option is the method's:
                break  # sa.foo.bar=1 was a KeyError)
            known, walked = placer_class(known.nested_options[outer]), [*walked, outer]
        by_level.setdefault(".".join(walked), (known, []))[1].append(dotted)
    clauses = []
    for level, (known, names) in by_level.items():
        clauses.append(
            f"{cls.name or cls.__name__} has no option {', '.join(map(repr, names))} "
            f"({f'{level} ' if level else ''}options: {', '.join(sorted(known.option_names or ()))})"
        )
    return "; ".join(clauses)


class MethodResultError(TypeError):
    """A method's ``run`` returned something other than a placement of the design: the
    method's fault (a plugin's, typically), not the design's."""


def _check_result(method: Placer, netlist: Netlist, result: object) -> None:
    """Refuse a ``run`` result that is not a placement of ``netlist`` (None, another design's),
    naming the method: it used to fail inside the legaliser with an AttributeError."""
    if not isinstance(result, Placement):
        raise MethodResultError(
            f"method {method.name!r} returned {type(result).__name__}, not a Placement"
        )
    sizes = {len(getattr(result, f)) for f in ("x", "y", "orientation", "fixed")}
    if sizes != {netlist.n_nodes}:
        raise MethodResultError(
            f"method {method.name!r} returned a placement of {sorted(sizes)} nodes; the design "
            f"has {netlist.n_nodes}"
        )
    codes = np.asarray(result.orientation)
    if codes.size and not (np.issubdtype(codes.dtype, np.integer) and codes.min() >= 0 and codes.max() <= 7):
        raise MethodResultError(f"method {method.name!r} returned orientation codes outside 0-7")


_REGISTRY: dict[str, type[Placer]] = {}


def register_placer(cls: type[Placer]) -> type[Placer]:
    """Class decorator adding a method to the registry under ``cls.name``.

    Raises:
        ValueError: the name is taken by another class (a plugin subclassing ``sa`` without a
            name of its own would run in place of the real ``sa``, its results labelled sa).
            The same class registered again (its module reloaded) is allowed.
    """
    if not cls.name:
        raise InputError(f"{cls.__name__} has no name")
    if not _METHOD_NAME.fullmatch(cls.name) or ".." in cls.name or cls.name in _RESERVED_NAMES:
        raise InputError(
            f"{cls.__name__}: method name {cls.name!r} cannot be used: it names a folder of the "
            "runs, an entry of --algo a,b and a leaderboard column, so letters, digits, _ . - "
            f"(not first, no '..'), and none of {', '.join(sorted(_RESERVED_NAMES))}"
        )
    if not _is_builtin(cls):  # the built-in methods first, whatever was imported before
        _load_builtin_methods()
    taken = _REGISTRY.get(cls.name)
    if taken is not None and not _same_code(taken, cls):
        raise InputError(
            f"placement method {cls.name!r} is already registered by {_described(taken)}; "
            f"give {_described(cls)} a name of its own (class attribute name)"
        )
    _REGISTRY[cls.name] = cls
    if not _is_builtin(cls):  # the code as loaded, whatever its file says later
        _LOADED_SOURCE[cls] = _source_bytes(cls)
    return cls


#: What a method name may be: a folder name in every runs folder and an --algo list entry.
_METHOD_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
#: Names the leaderboard uses itself (``initial``: each design's initial placement).
_RESERVED_NAMES = frozenset({"initial"})

#: The text of each plugin class's file when it was registered (see :func:`method_source`).
_LOADED_SOURCE: dict[type, bytes | None] = {}


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _described(cls: type) -> str:
    """``cls`` for a person: ``class X in /path/plug.py`` for a ``--plugin`` file (its module's
    name is an internal one, ``_placer_plugin_plug_3b76aa769ad8``), else module.Class."""
    import sys

    from placer.algorithms.plugins import PLUGIN_MODULE_PREFIX

    source = getattr(sys.modules.get(cls.__module__), "__file__", None)
    if cls.__module__.startswith(PLUGIN_MODULE_PREFIX) and source:
        return f"class {cls.__qualname__} in {source}"
    return _qualified(cls)


def _same_code(a: type, b: type) -> bool:
    """Whether two classes are one method: the same class reloaded, or the same class of two
    copies of one plugin file (same text)."""
    if _qualified(a) == _qualified(b):
        return True
    source = _LOADED_SOURCE.get(a)
    return a.__qualname__ == b.__qualname__ and source is not None and source == _source_bytes(b)


def _source_file(code: Any) -> str | None:
    """The file that defines ``code`` (a class or function; None for a module without one,
    e.g. ``__main__`` in a notebook)."""
    import sys

    return getattr(sys.modules.get(getattr(code, "__module__", None) or ""), "__file__", None)


def _source_bytes(cls: type) -> bytes | None:
    """The text of the file that defines ``cls`` (None when it has none or cannot be read)."""
    file = _source_file(cls)
    try:
        return Path(file).read_bytes() if file else None
    except OSError:
        return None


def _is_builtin(cls: type) -> bool:
    return cls.__module__ == "placer" or cls.__module__.startswith("placer.")


def method_source(name: str) -> str:
    """Where method ``name``'s code comes from, for provenance: empty for placer-gym's own
    methods (the package version and commit say it), else :func:`code_source` of its class
    and its file's text as it was loaded, so that a run of a plugin can be told from a run of an
    edited plugin."""
    cls = placer_class(name)
    if _is_builtin(cls):
        return ""
    return code_source(cls, _LOADED_SOURCE.get(cls))


def code_source(code: Any, text: bytes | None) -> str:
    """Where plugin ``code`` (a method's class, a tuner's factory) comes from: its name, a digest
    of ``text`` (its file's text as it was loaded; "unreadable" for None) and the file
    (``NAME (sha1 0123456789ab) from FILE``), or ``NAME from module M`` for a module without a
    file (a notebook's ``__main__``)."""
    import hashlib

    name = getattr(code, "__qualname__", type(code).__qualname__)
    file = _source_file(code)
    if not file:
        return f"{name} from module {getattr(code, '__module__', '?')}"
    digest = hashlib.sha1(text).hexdigest()[:12] if text is not None else "unreadable"
    return f"{name} (sha1 {digest}) from {file}"


def same_method_source(a: str, b: str) -> bool:
    """Whether two :func:`code_source` texts (:func:`method_source`'s, a tuner's) name the same
    code: its name and the digest of its file's text, wherever the file lies (a plugin moved or
    copied is the same code)."""
    return a.partition(" from ")[0] == b.partition(" from ")[0]


def builtin_method_modules(folder: Path | None = None) -> list[str]:
    """The modules of ``placer.algorithms`` (or of ``folder``) that register methods: those
    with a ``@register_placer`` line. Found, not listed: a new built-in method's module was
    unknown to the CLI until added to a hand-kept list (which also named a module that never
    existed)."""
    folder = Path(__file__).parent if folder is None else folder
    found = []
    for path in sorted(folder.glob("*.py")):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if re.search(r"^@register_placer\b", text, re.M):
            found.append(path.stem)
    return found


def _load_builtin_methods() -> None:
    import importlib

    for module in builtin_method_modules():
        importlib.import_module(f"placer.algorithms.{module}")


def available_placers() -> list[str]:
    """Names of all registered methods."""
    _load_builtin_methods()
    return sorted(_REGISTRY)


def get_placer(name: str, **options: Any) -> Placer:
    """An instance of the method called ``name`` (KeyError listing the choices otherwise;
    TypeError for an option the method does not read)."""
    return placer_class(name)(**options)


_WARMED: set[str] = set()
#: One lock per method name: a thread asking for a method another thread is warming up waits for
#: it (it saw the name marked and ran at once, its budget spent waiting on the compile).
_WARMING: dict[str, threading.Lock] = {}
_WARMING_GUARD = threading.Lock()

#: The warm-up run's clock for a built-in method: a bound, not a length (its short-run options
#: end it within seconds once its kernels are built).
WARM_UP_BUDGET_S = 3600.0


class WarmUpWarning(RuntimeWarning):
    """A method's warm-up failed: its first timed run loads (or compiles) its kernels inside
    its budget. The real run reports its own errors; this names the warm-up's cause, which a
    bug of ours would otherwise hide (warming kept a greedy option error silent once)."""


def warm_up(name: str, options: Mapping[str, Any] | None = None) -> bool:
    """Run method ``name`` once, briefly, on a tiny generated design (once per process), so
    that its compiled kernels are built (the first run after an install: tens of seconds) or
    loaded from disk (about a second) before a timed run, not inside its budget. Returns whether
    it ran now; a method that cannot place the tiny design (an rl model for other sizes: a
    ValueError or OSError) or returns no placement of it (:class:`MethodResultError`, which
    its real run reports) is simply not warmed; any other failure is a :class:`WarmUpWarning`
    naming its cause."""
    if name in _WARMED:
        return False
    with _WARMING_GUARD:
        lock = _WARMING.setdefault(name, threading.Lock())
    with lock:
        if name in _WARMED:  # warmed by another thread meanwhile
            return False
        try:
            _warm(name, options)
        finally:
            _WARMED.add(name)  # (once, even if it failed: the real run reports the error)
    return True


def _warm(name: str, options: Mapping[str, Any] | None) -> None:
    """:func:`warm_up`'s run."""
    from netlists.generate import generate

    cls = placer_class(name)
    # the clock counts the set-up's compiles too: a cold cache on a loaded machine spent 60 s
    # there, the warm-up's search got none and compiled its kernels inside the first real
    # budget (refine handed back its start). The short-run options end every built-in method.
    budget = WARM_UP_BUDGET_S if _is_builtin(cls) else 60.0  # a plugin: they may not end it
    ending = _SHORT_RUN if _is_builtin(cls) else RUN_LENGTH_OPTIONS
    if cls.option_names is None or not any(cls.reads(option) for option in ending):
        budget = 3.0  # a plugin no run-length option ends: it may spend every second it is given
        # (one honouring its budget waited 60 s before each run, in every batch worker; so did
        # one reading only `bins` or `samples`, which shorten a built-in method's run, not end it)
    netlist, placement = generate(6, 12, 6, seed=0)
    try:
        _warm_legalizer(netlist, placement)
        _warm_cost(netlist, placement)
        cls(**_short_run_options(cls, options or {})).place(netlist, placement, budget_s=budget, seed=0)
    except (ValueError, OSError, MethodResultError):  # a method refusing the tiny design (an rl
        pass  # model for other sizes) or its inputs, or returning no placement: the real run says so
    except Exception as failure:  # noqa: BLE001 - warming is best effort; the real run reports errors
        warnings.warn(WarmUpWarning(
            f"the warm-up of {name} failed ({type(failure).__name__}: {failure}); its first run loads "
            "its kernels inside its budget"), stacklevel=3)


def _warm_cost(netlist: Netlist, placement: Placement) -> None:
    """Evaluate the tiny design's proxy cost once: its compiled kernels (the pass over the nets,
    the density grid, the macro blockage) are built or loaded here, not in the first timed run
    of a method whose own warm-up run evaluates nothing (on a cold cache, seconds)."""
    from placer.cost.proxy import evaluate

    evaluate(netlist, placement)


def _warm_legalizer(netlist: Netlist, placement: Placement) -> None:
    """Legalise the tiny design with its hard macros stacked at the canvas centre: the
    generated start is legal, so the legaliser's search kernel was left to compile inside
    the first real run's budget (a design whose start overlaps, e.g. ariane133: its whole
    first second, the run handed back unsearched)."""
    from placer.algorithms.legalize import legalize

    canvas = netlist.require_canvas()
    stacked = placement.copy()
    stacked.x[netlist.hard_macros] = canvas.width / 2
    stacked.y[netlist.hard_macros] = canvas.height / 2
    legalize(netlist, stacked)


#: The options that end a run after so many steps (for :func:`warm_up`): a plugin method that
#: reads one of them is warmed up with them set small and up to 60 s; one that reads none, for
#: 3 s (docs/extending.md's "Your own placement method" names them).
RUN_LENGTH_OPTIONS = ("max_steps", "max_iterations", "iterations")

#: Options that make a method's run short whatever budget it has (for :func:`warm_up`): the
#: run's length options set small, the steps that spend whatever budget is left turned off.
_SHORT_RUN = {"max_steps": 200, "max_iterations": 50, "iterations": 5, "repulsions": [0.5], "samples": 0,
              "soft_refine": False, "bins": 16}  # (analytical's bins=2048 made a warm-up of a minute)


def _short_run_options(cls: type[Placer], options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with :data:`_SHORT_RUN` over them where ``cls`` reads them, inside nested
    methods' dicts too (e.g. ``global_refine``'s ``analytical``); unchanged for a method that
    names no options (it may read those names otherwise)."""
    if cls.option_names is None:
        return dict(options)
    chosen = dict(options)
    for option, value in _SHORT_RUN.items():
        if cls.reads(option):
            chosen[option] = value
    for outer, method in cls.nested_options.items():
        inner = chosen.get(outer)
        if isinstance(inner, Mapping):
            chosen[outer] = _short_run_options(placer_class(method), inner)
    for name, switch in cls.option_requires.items():  # a switch turned off: what needs it goes
        if isinstance(switch, str) and switch in _SHORT_RUN and chosen.get(switch) is False:
            chosen.pop(name, None)  # (greedy's refine={...} with soft_refine=False was refused)
    return chosen


def placer_class(name: str) -> type[Placer]:
    """The class of the method called ``name`` (KeyError listing the choices otherwise)."""
    _load_builtin_methods()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownName(f"unknown placement method {name!r}; available: {', '.join(sorted(_REGISTRY))}") from None
