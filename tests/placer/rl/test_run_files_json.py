"""A run folder's JSON files nested past Python's recursion limit are damaged files (one line,
exit 2), not bugs of ours: json raises RecursionError there, which no reader caught."""

from __future__ import annotations

from pathlib import Path

import pytest

from netlists.errors import InputError

DEEP_JSON = "[" * 100_000


def test_a_run_json_nested_too_deep_is_damaged(tmp_path: Path) -> None:
    from placer.rl.run_folder import read_run_json

    (tmp_path / "config.json").write_text(DEEP_JSON)
    with pytest.raises(InputError, match=r"config.json: damaged \(.*recursion.*\); restore it or start a new run"):
        read_run_json(tmp_path / "config.json")


def test_env_options_nested_too_deep_are_not_readable_json(tmp_path: Path) -> None:
    from placer.rl.inference import _read_env_kwargs

    (tmp_path / "env_kwargs.json").write_text(DEEP_JSON)
    with pytest.raises(InputError, match=r"env_kwargs.json: not readable JSON"):
        _read_env_kwargs(tmp_path / "env_kwargs.json")
