"""Packaging: our ``envs`` wins over the unrelated PyPI package of the same name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gymnasium


def test_envs_is_ours_and_registers_ids() -> None:
    import envs

    assert getattr(envs, "IS_PLACER_ENVS", False)
    assert "placer/MacroPlacement-v0" in gymnasium.registry


def test_envs_wins_over_a_shadowing_package_earlier_on_the_path(tmp_path: Path) -> None:
    fake = tmp_path / "envs"
    fake.mkdir()
    (fake / "__init__.py").write_text("def env():\n    return 'not ours'\n")
    code = "import envs, sys; sys.stdout.write(str(getattr(envs, 'IS_PLACER_ENVS', False)))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path.parent,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},  # (the rest kept: NUMBA_CACHE_DIR, ...)
        check=True,
    )
    assert out.stdout == "True"
