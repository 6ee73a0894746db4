"""A writable numba cache folder where the package and the user's cache folder are not."""

from __future__ import annotations

import os
from pathlib import Path

import numba
import pytest

from placer.numba_cache import ensure_numba_cache_dir


def test_a_read_only_install_without_a_home_gets_a_private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither beside the package nor in ~/.cache: importing the kernels raised 'cannot cache
    function ...: no locator available' (a traceback from placer place and placer demo)."""
    blocker = tmp_path / "a_file"
    blocker.write_text("")  # a folder cannot be made under a file: not writable
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "cache"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    monkeypatch.setattr(numba.config, "CACHE_DIR", numba.config.CACHE_DIR)  # restored after
    chosen = ensure_numba_cache_dir([blocker / "package"])
    assert chosen is not None and chosen.parent.parent == tmp_path / "tmp"  # private/version
    assert os.environ["NUMBA_CACHE_DIR"] == str(chosen) == numba.config.CACHE_DIR
    assert chosen.is_dir()


def test_a_writable_package_keeps_its_kernels_beside_it_and_a_users_choice_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(numba.config, "CACHE_DIR", numba.config.CACHE_DIR)
    chosen = ensure_numba_cache_dir([tmp_path / "package"])
    assert chosen is not None and chosen.parent == tmp_path / "package" / "__pycache__" / "numba"
    assert os.environ["NUMBA_CACHE_DIR"] == str(chosen)
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert ensure_numba_cache_dir([tmp_path / "a_file_blocks" / "x"]) is None
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")


def test_a_fallback_folder_planted_by_someone_else_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback name is predictable: another user could make it first, world-writable (or a
    link to a folder of theirs), and put cache files there that numba unpickles as us."""
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "cache"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.setattr(numba.config, "CACHE_DIR", numba.config.CACHE_DIR)
    planted = tmp_path / "tmp" / f"placer-gym-numba-{os.getuid()}"
    planted.mkdir()
    planted.chmod(0o777)  # anyone may write there
    chosen = ensure_numba_cache_dir([blocker / "package"])
    assert chosen is not None and chosen.parent != planted and chosen.parent.parent == tmp_path / "tmp"
    assert (os.lstat(chosen.parent).st_mode & 0o077) == 0  # a fresh private folder
    planted.rmdir()
    planted.symlink_to(tmp_path)  # a link to someone's folder
    monkeypatch.delenv("NUMBA_CACHE_DIR")  # (set by the call above)
    again = ensure_numba_cache_dir([blocker / "package"])
    assert again is not None and again.parent != planted and not again.parent.is_symlink()


def test_no_home_at_all_makes_no_tilde_folder_in_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HOME unset for a user without a passwd entry: ``~`` expanded to ``~``, and the cache went
    to a ``./~/.cache/numba`` in whatever folder the command ran from (compiled again in each)."""
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    for name in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME", "HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)  # (what no home gives)
    (tmp_path / "tmp").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.setattr(numba.config, "CACHE_DIR", numba.config.CACHE_DIR)
    chosen = ensure_numba_cache_dir([blocker / "package"])
    assert chosen is not None and chosen.parent.parent == tmp_path / "tmp"
    assert list((tmp_path / "cwd").iterdir()) == []


def test_an_unwritable_matplotlib_config_folder_gets_a_private_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib warned on every plotting command ("mkdir -p failed ... it is highly recommended
    to set the MPLCONFIGDIR") and rebuilt its font cache each time in a folder it then removed."""
    import subprocess
    import sys

    from placer.numba_cache import ensure_matplotlib_config_dir

    blocker = tmp_path / "a_file"
    blocker.write_text("")
    (tmp_path / "tmp").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME")}
    env.update(HOME=str(blocker / "home"), TMPDIR=str(tmp_path / "tmp"))
    script = "import placer, matplotlib; print(matplotlib.get_configdir())"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and done.stderr == ""
    assert Path(done.stdout.strip()) == tmp_path / "tmp" / f"placer-gym-matplotlib-{os.getuid()}"
    # a user's own choice, or a matplotlib already imported, is left alone
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mine"))
    assert ensure_matplotlib_config_dir() is None and os.environ["MPLCONFIGDIR"] == str(tmp_path / "mine")
    monkeypatch.delenv("MPLCONFIGDIR")
    monkeypatch.setitem(sys.modules, "matplotlib", sys.modules.get("matplotlib") or object())
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker / "config"))
    assert ensure_matplotlib_config_dir() is None and "MPLCONFIGDIR" not in os.environ


def test_importing_placer_makes_no_matplotlib_folder_in_a_writable_home(tmp_path: Path) -> None:
    """The check made ~/.config/matplotlib on every import of placer (or envs), plotting or not."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    env["HOME"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-c", "import placer, os; print(os.environ.get('MPLCONFIGDIR'))"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.strip() == "None", done.stderr
    assert not (tmp_path / ".config").exists()


_KERNEL = """
import numba
from pkg.helper import SCALE, twice

@numba.njit(cache=True)
def price(x):
    return twice(x) * SCALE
"""

_HELPER = """
import numba

SCALE = {scale}

@numba.njit(cache=True)
def twice(x):
    return {factor} * x
"""


def _price_in_fresh_process(root: Path) -> str:
    import subprocess
    import sys

    script = ("import os, sys; from pathlib import Path; from placer.numba_cache import ensure_numba_cache_dir; "
              "os.environ.pop('NUMBA_CACHE_DIR', None); "  # (set for placer's own kernels at its import)
              f"ensure_numba_cache_dir([Path({str(root / 'pkg')!r})]); sys.path.insert(0, {str(root)!r}); "
              "from pkg.kernel import price; print(price(1.0))")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_editing_a_helper_or_constant_a_kernel_compiles_in_recompiles_the_kernel(tmp_path: Path) -> None:
    """numba judges a cached kernel by its own file only: a kernel calling another module's
    helper, or baking in its constant, kept the old machine code after either was edited (the
    tests passed on it)."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "kernel.py").write_text(_KERNEL)
    (package / "helper.py").write_text(_HELPER.format(scale=1.0, factor=2))
    assert _price_in_fresh_process(tmp_path) == "2.0"
    (package / "helper.py").write_text(_HELPER.format(scale=1.0, factor=3))  # (same size)
    assert _price_in_fresh_process(tmp_path) == "3.0"
    (package / "helper.py").write_text(_HELPER.format(scale=5.0, factor=3))
    assert _price_in_fresh_process(tmp_path) == "15.0"
    (package / "unrelated.py").write_text("X = 1\n")  # imported by no kernel: no new version
    assert len(list((package / "__pycache__" / "numba").iterdir())) == 3


def test_old_kernel_versions_go_once_unused_beyond_the_newest_few(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from placer import numba_cache

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(numba.config, "CACHE_DIR", numba.config.CACHE_DIR)
    base = tmp_path / "package" / "__pycache__" / "numba"
    old = []
    for i in range(7):  # seven older versions, from 10 days to 4 days unused
        folder = base / f"{i:016x}"
        folder.mkdir(parents=True)
        os.utime(folder, (0, 10**9 + i))
        old.append(folder)
    recent = base / "abcdefabcdefabcd"
    recent.mkdir()  # used just now, though not among the newest four
    os.utime(recent, (0, 10**9 - 1))
    os.utime(recent)
    other = base / "notes"
    other.mkdir()
    os.utime(other, (0, 1))  # not a version folder: never touched
    chosen = numba_cache.ensure_numba_cache_dir([tmp_path / "package"])
    assert chosen is not None and chosen.parent == base
    left = sorted(p.name for p in base.iterdir())
    assert left == sorted([chosen.name, recent.name, "notes", *(f.name for f in old[-3:])])
