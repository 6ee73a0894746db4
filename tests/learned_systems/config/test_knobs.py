"""Knob spaces described for people: every knob's values and default."""

from __future__ import annotations

import pytest

from learned_systems.config.knobs import Knob, KnobError, KnobSpace


def test_describe_lists_each_knob_with_its_values_and_default():
    """A printed (1, 512) range hid that mmap_size also takes 0, the value the tuner found."""
    space = KnobSpace.build("sqlite", [
        Knob("journal_mode", "DELETE", choices=("DELETE", "WAL")),
        Knob("mmap_size", 0, low=1, high=512, log=True, zero_allowed=True),
        Knob("wal_autocheckpoint", 1000, low=100, high=100000),
    ])  # fmt: skip
    lines = space.describe().splitlines()
    assert lines[0] == "sqlite knob space 'durable' (3 knobs)"
    assert lines[1].split() == ["journal_mode", "DELETE,", "WAL", "(default", "DELETE)"]
    assert lines[2].split() == ["mmap_size", "0", "or", "1..512", "(log)", "(default", "0)"]
    assert lines[3].split() == ["wal_autocheckpoint", "100..100000", "(default", "1000)"]


@pytest.mark.parametrize("value", [0.5, "64", -1, 513])
def test_every_refusal_of_a_knob_taking_zero_names_the_zero(value):
    """A half (or a text) was refused with 'expected an integer in [1, 512]', hiding the 0 that
    mmap_size takes too."""
    knob = Knob("mmap_size", 0, low=1, high=512, log=True, zero_allowed=True)
    with pytest.raises(KnobError, match=r"expected an integer in \[1, 512\] or 0"):
        knob.validate(value, "durable")


def test_describe_gives_each_knobs_unit() -> None:
    """cache_size 256..262144 read as pages (SQLite's unit for a positive value) is 16x the
    memory at 16 KiB pages: the KiB the knob means was not shown."""
    from learned_systems.config.sqlite_backend import sqlite_space

    lines = {line.split()[0]: line for line in sqlite_space().describe().splitlines()[1:]}
    assert lines["cache_size"].endswith(": page cache in KiB") and "in MiB" in lines["mmap_size"]


def test_a_configuration_that_is_no_mapping_is_a_knob_error() -> None:
    """validate([("cache_size", 1)]) raised AttributeError: 'list' object has no attribute 'items'."""
    from learned_systems.config.sqlite_backend import sqlite_space

    with pytest.raises(KnobError, match=r"a configuration must map knob names to values, got list: \[\('cache_size', 1\)\]"):
        sqlite_space().validate([("cache_size", 1)])  # type: ignore[arg-type]


def test_a_bad_choice_names_the_space_only_where_the_space_narrows_the_knob() -> None:
    """page_size's refusal said "in the durable space", as if another space took 3."""
    from learned_systems.config.sqlite_backend import sqlite_space

    with pytest.raises(KnobError) as same_everywhere:
        sqlite_space().validate({"page_size": 3})
    assert str(same_everywhere.value).startswith("bad value 3 for knob 'page_size': expected one of")
    with pytest.raises(KnobError, match="for knob 'synchronous' in the durable space: expected one of"):
        sqlite_space().validate({"synchronous": "OFF"})
