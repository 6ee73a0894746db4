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


def test_the_licence_ships_in_the_wheel_and_the_sdist_with_the_postgres_script_and_docs(tmp_path: Path) -> None:
    """pyproject declared Apache-2.0 and no file held its text; the sdist lacked the
    ``.ci/install-postgres.sh`` that docs/setup.md tells machines without PostgreSQL to run, and
    carried the README without the docs/ pages it links to."""
    import tarfile
    import zipfile

    root = Path(__file__).resolve().parents[1]
    build = subprocess.run(
        [sys.executable, "-c", "import sys\nfrom hatchling.build import build_sdist, build_wheel\n"
         "print(build_sdist(sys.argv[1]))\nprint(build_wheel(sys.argv[1]))", str(tmp_path)],
        capture_output=True, text=True, cwd=root, check=True, timeout=300,
    )
    sdist_name, wheel_name = build.stdout.split()
    with tarfile.open(tmp_path / sdist_name) as sdist:
        inside = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    pages = {f"docs/{page.name}" for page in (root / "docs").glob("*.md")}
    assert pages and {"LICENSE", ".ci/install-postgres.sh", "README.md", *pages} <= inside
    with zipfile.ZipFile(tmp_path / wheel_name) as wheel:
        licences = [name for name in wheel.namelist() if name.endswith(".dist-info/licenses/LICENSE")]
        assert licences and "Apache License" in wheel.read(licences[0]).decode()
        assert "netlists/data/ariane133/SOURCE.md" in wheel.namelist()
