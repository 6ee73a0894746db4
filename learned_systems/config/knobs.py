"""Knob spaces: typed knobs (categorical or numeric), validation, sampling and unit encoding.

A :class:`KnobSpace` is the set of settings a tuner may choose from. Durability is a constraint
of the space, not a knob: values flagged ``unsafe`` (they can lose committed transactions on a
crash) are only present when the space is built with ``allow_unsafe=True``, and the space's
``name`` ("durable" or "unsafe") is recorded with every result.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from learned_systems.errors import InputError
from learned_systems.validation import flag


def config_key(config: Mapping[str, Any]) -> str:
    """A configuration's identity, independent of key order (to spot a repeated configuration)."""
    return repr(sorted(config.items()))


class KnobError(InputError):
    """A configuration names an unknown knob or gives a value outside the knob's space."""


@dataclass(frozen=True)
class Knob:
    """One knob. Categorical when ``choices`` is set, else an integer in ``[low, high]``.

    ``unsafe`` lists values that break durability; ``log`` samples numeric knobs log-uniformly
    (cache sizes span orders of magnitude); ``zero_allowed`` admits 0 (e.g. "mmap off") below a
    log range; ``applies_when`` ``(knob, value)`` marks a knob that only matters when another
    knob has that value (an RMI's model count under a PGM index).
    """

    name: str
    default: Any
    choices: tuple = ()
    low: int = 0
    high: int = 0
    log: bool = False
    unsafe: tuple = ()
    zero_allowed: bool = False
    help: str = ""
    applies_when: tuple[str, Any] | None = None

    @property
    def categorical(self) -> bool:
        return bool(self.choices)

    def values_text(self) -> str:
        """The values the knob takes, for people: ``WAL, DELETE`` or ``0 or 1..512 (log)``."""
        if self.categorical:
            return ", ".join(str(c) for c in self.choices)
        zero = "0 or " if self.zero_allowed else ""
        return f"{zero}{self.low}..{self.high}{' (log)' if self.log else ''}"

    @property
    def ordinal(self) -> bool:
        """Choices that are ordered numbers (page sizes, cost factors), not labels or flags:
        a model-based tuner should treat neighbouring choices as alike."""
        return self.categorical and all(
            isinstance(c, int | float) and not isinstance(c, bool) for c in self.choices
        )

    def restricted(self, allow_unsafe: bool) -> Knob:
        """This knob without its unsafe choices (unless ``allow_unsafe``)."""
        if allow_unsafe or not self.unsafe:
            return self
        return dataclasses.replace(
            self, choices=tuple(c for c in self.choices if c not in self.unsafe)
        )

    def validate(self, value: Any, space_name: str) -> Any:
        """Return ``value`` normalised, or raise :class:`KnobError` saying what is allowed."""
        if self.categorical:
            if isinstance(value, str):  # SQL-style values are case-insensitive
                matches = [
                    c for c in self.choices if isinstance(c, str) and c.upper() == value.upper()
                ]
            else:
                matches = [
                    c
                    for c in self.choices
                    if not isinstance(c, str)
                    and c == value
                    and isinstance(c, bool) == isinstance(value, bool | np.bool_)
                ]
            if not matches:
                unsafe = {u.upper() if isinstance(u, str) else u for u in self.unsafe}
                shown = value.upper() if isinstance(value, str) else value
                hint = (
                    " (unsafe for durability: pass allow_unsafe=True to open it)"
                    if any(shown == u for u in unsafe)  # (a list or dict value is unhashable)
                    else ""
                )
                # the space named only where it narrows this knob (page_size is the same in every one)
                where = f" in the {space_name} space" if self.unsafe else ""
                raise KnobError(
                    f"bad value {value!r} for knob {self.name!r}{where}: expected one of {list(self.choices)}{hint}"
                )
            return matches[0]
        expected = f"expected an integer in [{self.low}, {self.high}]" + (" or 0" if self.zero_allowed else "")
        if isinstance(value, bool) or not isinstance(value, int | np.integer | float | np.floating):
            raise KnobError(f"bad value {value!r} for knob {self.name!r}: {expected}")
        if not isinstance(value, int | np.integer):  # a float: finite and whole
            if not (math.isfinite(value) and float(value).is_integer()):
                raise KnobError(f"bad value {value!r} for knob {self.name!r}: {expected}")
        value = int(value)
        if not (self.low <= value <= self.high or (self.zero_allowed and value == 0)):
            shown = (
                value if value.bit_length() <= 64 else f"(an integer of {value.bit_length()} bits)"
            )
            raise KnobError(f"bad value {shown} for knob {self.name!r}: {expected}")
        return value

    def from_unit(self, unit: float) -> Any:
        """Map ``unit`` in [0, 1] onto the knob (bins for choices, log/linear for numbers);
        values outside are clipped, a NaN or infinity is a :class:`KnobError`."""
        unit = float(unit)
        if not math.isfinite(unit):
            raise KnobError(
                f"bad action value {unit} for knob {self.name!r}: expected a number in [0, 1]"
            )
        unit = min(max(unit, 0.0), 1.0)
        if self.categorical:
            return self.choices[min(int(unit * len(self.choices)), len(self.choices) - 1)]
        if self.zero_allowed:
            if unit < 0.1:
                return 0
            unit = (unit - 0.1) / 0.9
        # one bin of [0, 1] per whole value (log-sized when ``log``): rounding a continuous
        # value gave the lowest and highest values half a bin each (uniform was not uniform)
        if self.log:
            span = math.log(self.high + 1) - math.log(self.low)
            value = int(math.floor(math.exp(math.log(self.low) + unit * span)))
            return min(max(value, self.low), self.high)  # (exp(log(low)) may come out below low)
        return min(self.low + int(math.floor(unit * (self.high - self.low + 1))), self.high)

    def to_unit(self, value: Any) -> float:
        """Inverse of :meth:`from_unit` (bin centre for choices)."""
        if self.categorical:
            return (self.choices.index(value) + 0.5) / len(self.choices)
        if self.zero_allowed:
            if value == 0:
                return 0.05
            return 0.1 + 0.9 * self._numeric_unit(value)
        return self._numeric_unit(value)

    def _numeric_unit(self, value: int) -> float:
        """The centre of ``value``'s bin (see :meth:`from_unit`)."""
        if self.log:
            centre = (math.log(value) + math.log(value + 1)) / 2
            return (centre - math.log(self.low)) / (math.log(self.high + 1) - math.log(self.low))
        return (value - self.low + 0.5) / (self.high - self.low + 1)


#: Said beside a value that gives up durability wherever a configuration is handed out to apply
#: (an ``allow_unsafe`` run's best_config.json): copied without a word, it lost durability unnoticed.
UNSAFE_NOTE = "NOT DURABLE: a crash or power loss can lose or corrupt committed transactions"


def unsafe_settings(knobs: Iterable[Knob], config: Mapping[str, Any]) -> set[str]:
    """Names of the knobs whose value in ``config`` is one of their unsafe values."""
    return {k.name for k in knobs if k.name in config and str(config[k.name]) in {str(v) for v in k.unsafe}}


@dataclass(frozen=True)
class KnobSpace:
    """The knobs a tuner may set for one system, with durability enforced unless opened."""

    system: str
    knobs: tuple[Knob, ...]
    allow_unsafe: bool = False
    rule_of_thumb: Mapping[str, Any] = field(default_factory=dict)
    #: The space's name unless opened: "durable" for a database's; "safe" for a system no value
    #: of which can lose data (a learned index: "durable" named a guarantee meaningless there).
    guarantee: str = "durable"

    @classmethod
    def build(
        cls,
        system: str,
        knobs: Sequence[Knob],
        allow_unsafe: bool = False,
        rule_of_thumb: Mapping[str, Any] | None = None,
        guarantee: str = "durable",
    ) -> KnobSpace:
        allow_unsafe = flag("allow_unsafe", allow_unsafe)
        return cls(
            system,
            tuple(k.restricted(allow_unsafe) for k in knobs),
            allow_unsafe,
            dict(rule_of_thumb or {}),
            guarantee,
        )

    @property
    def name(self) -> str:
        """Recorded with every result: "unsafe" when opened, else :attr:`guarantee`."""
        return "unsafe" if self.allow_unsafe else self.guarantee

    @property
    def names(self) -> list[str]:
        return [k.name for k in self.knobs]

    def knob(self, name: str) -> Knob:
        """The knob called ``name`` (KnobError naming the space's knobs otherwise)."""
        for knob in self.knobs:
            if knob.name == name:
                return knob
        raise KnobError(f"unknown knob {name!r} for {self.system}: expected one of {self.names}")

    def defaults(self) -> dict[str, Any]:
        """Every knob at its default value."""
        return {k.name: k.default for k in self.knobs}

    def validate(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Full configuration: defaults overlaid with ``config``, every value checked (a
        configuration that is not a mapping of knob names is a KnobError too, not an
        AttributeError)."""
        if not isinstance(config, Mapping):
            raise KnobError(f"a configuration must map knob names to values, got {type(config).__name__}: {config!r}")
        result = self.defaults()
        for name, value in config.items():
            result[name] = self.knob(name).validate(value, self.name)
        return result

    def effective(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`validate`, with every knob that does not apply (see ``Knob.applies_when``)
        at its default: configurations that differ only there run the same system."""
        full = self.validate(config)
        for knob in self.knobs:
            if knob.applies_when is not None:
                other, value = knob.applies_when
                if full[other] != value:
                    full[knob.name] = knob.default
        return full

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """A uniformly random configuration (log-uniform for log knobs)."""
        return self.from_unit(rng.random(len(self.knobs)))

    def from_unit(self, vector: Sequence[float] | np.ndarray) -> dict[str, Any]:
        """The configuration a point of ``[0, 1]^n`` stands for (one value per knob, in order)."""
        if len(vector) != len(self.knobs):
            raise KnobError(f"expected {len(self.knobs)} values, got {len(vector)}")
        return {k.name: k.from_unit(u) for k, u in zip(self.knobs, vector, strict=True)}

    def from_box(self, action: Any, symmetric: bool = False) -> dict[str, Any]:
        """The configuration a Box action stands for: a point of ``[0, 1]^n`` (``symmetric``:
        of ``[-1, 1]^n``, mapped linearly onto it), finite values outside clipped (what a
        Gaussian policy emits), NaN or infinity refused.

        Raises:
            KnobError: values that are not numbers, NaN or infinite, or a shape other than
                one value per knob.
        """
        given = np.asarray(action)
        if given.dtype.kind not in "iuf":  # None, strings, booleans: not points of the box
            raise KnobError(f"action must be an array of numbers, got {action!r}")
        if given.shape != (len(self.knobs),):
            raise KnobError(
                f"action must have shape ({len(self.knobs)},), one value per knob, got {given.shape}"
            )
        unit = given.astype(np.float64)
        if not np.all(np.isfinite(unit)):
            raise KnobError(f"action values must be finite numbers, got {unit.tolist()}")
        if symmetric:
            unit = (unit + 1.0) / 2.0
        return self.from_unit(np.clip(unit, 0.0, 1.0))

    def from_mixed(self, action: Mapping[str, Any]) -> dict[str, Any]:
        """The configuration a mixed action stands for: per knob, the index of a choice for
        categorical knobs, a value in ``[0, 1]`` (or a one-element array) for numeric ones.

        Raises:
            KnobError: a missing or unknown knob, an index that is not a whole number in range,
                a numeric value that is not finite.
        """
        unknown = sorted(set(action) - set(self.names))
        missing = [name for name in self.names if name not in action]
        if unknown or missing:
            raise KnobError(
                f"action must give exactly the knobs {self.names}; "
                f"unknown: {unknown}, missing: {missing}"
            )
        config = {}
        for knob in self.knobs:
            value = np.asarray(action[knob.name]).reshape(-1)
            if value.size != 1:
                raise KnobError(
                    f"action for knob {knob.name!r} must be one value, got {value.size}"
                )
            if value.dtype.kind not in "iuf":  # a choice's name, a boolean, None
                what = "a choice index" if knob.categorical else "a number in [0, 1]"
                shown = value[0].item() if isinstance(value[0], np.generic) else value[0]
                raise KnobError(f"action for knob {knob.name!r} must be {what}, got {shown!r}")
            number = float(value[0])
            if knob.categorical:
                if not (number.is_integer() and 0 <= number < len(knob.choices)):
                    raise KnobError(
                        f"action for knob {knob.name!r} must be a choice index 0..."
                        f"{len(knob.choices) - 1}, got {value[0].item()!r}"
                    )
                config[knob.name] = knob.choices[int(number)]
            else:
                config[knob.name] = knob.from_unit(number)
        return config

    def to_unit(self, config: Mapping[str, Any]) -> np.ndarray:
        """The point of ``[0, 1]^n`` that stands for ``config`` (knobs it leaves out at their
        defaults)."""
        full = self.validate(config)
        return np.array([k.to_unit(full[k.name]) for k in self.knobs], dtype=np.float32)

    def to_box(self, config: Mapping[str, Any], symmetric: bool = False) -> np.ndarray:
        """Inverse of :meth:`from_box`: the Box action that stands for ``config`` (``symmetric``:
        a point of ``[-1, 1]^n``, the tuning envs' actions)."""
        unit = self.to_unit(config)
        return (2.0 * unit - 1.0).astype(np.float32) if symmetric else unit

    def describe(self) -> str:
        """A heading line, then one line per knob: its values, default and help (its unit)."""
        lines = [f"{self.system} knob space '{self.name}' ({len(self.knobs)} knobs)"]
        width = max((len(k.name) for k in self.knobs), default=0)
        # (with each knob's help: its unit, e.g. cache_size in KiB, which SQLite would read as pages)
        lines += [f"  {k.name:<{width}}  {k.values_text()}  (default {k.default})" + (f": {k.help}" if k.help else "")
                  for k in self.knobs]
        return "\n".join(lines)
