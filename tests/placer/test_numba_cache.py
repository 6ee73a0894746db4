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
import pkg.more as more
from pkg import other
from pkg.helper import SCALE
from .consts import FACTOR

@numba.njit(cache=True)
def price(x):
    return x * FACTOR * SCALE + more.OFFSET + other.SHIFT
"""


def _write_package(root: Path, factor: str = "2.0", scale: str = "1.0", offset: str = "0.0", shift: str = "0.0") -> None:
    """A kernel compiling in constants of four plain modules (no kernels of their own: followed
    only as the kernel module's imports), each imported in another form."""
    package = root / "pkg"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "kernel.py").write_text(_KERNEL)
    (package / "consts.py").write_text(f"FACTOR = {factor}\n")
    (package / "helper.py").write_text(f"SCALE = {scale}\n")
    (package / "more.py").write_text(f"OFFSET = {offset}\n")
    (package / "other.py").write_text(f"SHIFT = {shift}\n")


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
    """numba judges a cached kernel by its own file only: a kernel baking in another module's
    constant (or calling its helper) kept the old machine code after that module was edited,
    and the tests passed on it. Each import form is followed (a relative one, a submodule
    imported from its package, ``import a.b as c``)."""
    _write_package(tmp_path)
    assert _price_in_fresh_process(tmp_path) == "2.0"
    _write_package(tmp_path, factor="3.0")  # (the same size: its time tells the edit)
    assert _price_in_fresh_process(tmp_path) == "3.0"
    _write_package(tmp_path, factor="3.0", scale="5.0")
    assert _price_in_fresh_process(tmp_path) == "15.0"
    _write_package(tmp_path, factor="3.0", scale="5.0", offset="1.0")
    assert _price_in_fresh_process(tmp_path) == "16.0"
    _write_package(tmp_path, factor="3.0", scale="5.0", offset="1.0", shift="4.0")
    assert _price_in_fresh_process(tmp_path) == "20.0"
    versions = [p for p in (tmp_path / "pkg" / "__pycache__" / "numba").iterdir() if p.is_dir()]
    assert len(versions) == 5
    (tmp_path / "pkg" / "unrelated.py").write_text("X = 1\n")  # imported by no kernel
    assert _price_in_fresh_process(tmp_path) == "20.0"
    assert len([p for p in (tmp_path / "pkg" / "__pycache__" / "numba").iterdir() if p.is_dir()]) == 5


def test_old_kernel_versions_go_once_unused_beyond_the_newest_few(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from placer import numba_cache

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setattr(numba.config, "CACHE_DIR", numba.config.CACHE_DIR)
    base = tmp_path / "package" / "__pycache__" / "numba"
    now = time.time()

    def version(name: str, age_s: float) -> Path:
        folder = base / name
        folder.mkdir(parents=True)
        os.utime(folder, (now - age_s, now - age_s))
        return folder

    newest = [version(f"{i:016x}", 600 + i) for i in range(4)]  # the newest four: kept
    recent = version("abcdefabcdefabcd", 3600)  # fifth newest, used an hour ago: kept
    old = [version(f"{i:016x}", 10 * 86400 + i) for i in range(10, 13)]  # ten days: removed
    other = base / "notes"
    other.mkdir()
    os.utime(other, (1, 1))  # not a version folder: never touched
    chosen = numba_cache.ensure_numba_cache_dir([tmp_path / "package"])
    assert chosen is not None and chosen.parent == base and chosen not in old
    left = {p.name for p in base.iterdir()}
    assert left == {chosen.name, recent.name, "notes", numba_cache._DIGEST_MEMO, *(f.name for f in newest)}


def test_a_digest_memo_nested_past_the_recursion_limit_is_computed_again(tmp_path: Path) -> None:
    """A spoilt memo is read as none (json's RecursionError escaped the import of placer)."""
    import placer
    from placer.numba_cache import _remembered_digest, kernel_digest

    dirs = [Path(placer.__file__).parent]
    memo = tmp_path / "memo.json"
    memo.write_text("[" * 100_000)
    assert _remembered_digest(dirs, memo) == kernel_digest(dirs)


def test_an_unwritable_numba_cache_dir_the_user_set_is_replaced_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A NUMBA_CACHE_DIR the user set was left alone even where it could not be written: with
    no writable fallback of numba's own, "cannot cache function ...: no locator available"
    (exit 70, "please report")."""
    from placer.numba_cache import CacheFolderWarning

    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(blocker / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "cache"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setattr("tempfile.tempdir", None)
    monkeypatch.setattr(numba.config, "CACHE_DIR", numba.config.CACHE_DIR)
    with pytest.warns(CacheFolderWarning) as warned:
        chosen = ensure_numba_cache_dir([blocker / "package"])
    assert chosen is not None and chosen.parent.parent == tmp_path / "tmp"
    assert os.environ["NUMBA_CACHE_DIR"] == str(chosen) == numba.config.CACHE_DIR
    assert [str(w.message) for w in warned] == [
        f"NUMBA_CACHE_DIR={str(blocker / 'mine')!r} cannot be written: the compiled kernels go to {chosen} instead "
        "(set it to a folder you may write, or unset it)"]


_NOTHING_WRITABLE = """if True:
    import os, sys, tempfile, warnings
    from pathlib import Path
    from placer.numba_cache import ensure_numba_cache_dir
    root, given = Path(sys.argv[1]), sys.argv[2]
    os.environ.pop("NUMBA_CACHE_DIR", None)  # (set for placer's own kernels at its import)
    if given:
        os.environ["NUMBA_CACHE_DIR"] = given
    tempfile.tempdir = os.getcwd()  # (tempfile's last resort where every temporary folder is read-only)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        print(ensure_numba_cache_dir([root / "pkg"]))
    print(*(str(w.message) for w in caught), sep="\\n")
    sys.path.insert(0, str(root))
    from pkg.kernel import price
    print(price(1.0))
"""


@pytest.mark.parametrize("user_set", [False, True])
def test_nothing_writable_compiles_the_kernels_uncached_not_in_the_working_folder(tmp_path: Path, user_set: bool) -> None:
    """With every temporary folder read-only, tempfile.gettempdir() falls back to the working
    folder: the kernels' cache landed in the user's project folder; with a NUMBA_CACHE_DIR the
    user set, unwritable, the kernels' import failed ("no locator available")."""
    import subprocess
    import sys

    blocker = tmp_path / "a_file"
    blocker.write_text("")
    _write_package(tmp_path)
    (tmp_path / "pkg" / "__pycache__").write_text("")  # (numba's own folder beside it: none either)
    (tmp_path / "cwd").mkdir()
    env = {**os.environ, "XDG_CACHE_HOME": str(blocker / "cache"), "HOME": str(blocker / "home")}
    given = str(blocker / "mine") if user_set else ""
    done = subprocess.run([sys.executable, "-c", _NOTHING_WRITABLE, str(tmp_path), given], capture_output=True,
                          text=True, env=env, cwd=tmp_path / "cwd", timeout=300)
    assert done.returncode == 0, done.stderr
    chosen, warning, price = done.stdout.strip().splitlines()
    assert chosen == "None" and price == "2.0"
    assert "the kernels are compiled afresh in each process" in warning
    assert warning.startswith(f"NUMBA_CACHE_DIR={given!r} cannot be written" if user_set else "no folder for the")
    assert list((tmp_path / "cwd").iterdir()) == []


def test_a_working_folder_is_a_temporary_folder_only_where_one_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from placer.numba_cache import _private_temp_folder

    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "elsewhere"))  # (unusable: not made)
    monkeypatch.setattr("tempfile.tempdir", os.getcwd())  # (what gettempdir falls back to)
    assert _private_temp_folder("placer-gym-test") is None
    assert list((tmp_path / "project").iterdir()) == []
    monkeypatch.setenv("TMPDIR", str(tmp_path / "project"))  # named: the user's choice, kept
    chosen = _private_temp_folder("placer-gym-test")
    assert chosen is not None and chosen.parent == tmp_path / "project"
