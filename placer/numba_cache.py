"""A writable cache folder for the compiled numba kernels, found before any kernel is compiled
(and one for matplotlib's configuration and font cache, :func:`ensure_matplotlib_config_dir`).

numba caches a kernel beside its source file (``__pycache__``), else in the user's cache folder
(``$XDG_CACHE_HOME/numba`` or ``~/.cache/numba``); where neither can be written (a read-only
install run by a user without a home, e.g. in a container) it raised ``cannot cache function
...: no locator available`` when the kernel modules were imported: a traceback before any work.
:func:`ensure_numba_cache_dir` then points ``NUMBA_CACHE_DIR`` at a private folder in the
temporary directory. A ``NUMBA_CACHE_DIR`` the user set is left alone.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path


def _writable(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (made if missing)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _could_make(folder: Path) -> bool:
    """Whether ``folder`` exists as a folder this user may write into, or could be made (its
    nearest existing ancestor is such a folder); nothing is made."""
    path = folder
    while not os.path.lexists(path):
        if path.parent == path:
            return False
        path = path.parent
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def _private(folder: Path, uid: int) -> bool:
    """Whether ``folder`` is (made now, mode 700, or already) a real folder of ``uid`` that no
    one else can write into."""
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return False
    import stat

    return stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & 0o022


def kernel_package_dirs() -> list[Path]:
    """The folders of the packages with numba kernels (placer, learned_systems), not imported."""
    found = []
    for name in ("placer", "learned_systems"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin is not None:
            found.append(Path(spec.origin).parent)
    return found


def ensure_numba_cache_dir(package_dirs: Iterable[Path] | None = None) -> Path | None:
    """Point numba at a writable cache folder where its own choices are not writable; the
    folder chosen (None: numba's own will do, or the user chose one)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    dirs = kernel_package_dirs() if package_dirs is None else list(package_dirs)
    if all(_writable(d / "__pycache__") for d in dirs):
        return None
    user_cache = _user_folder("XDG_CACHE_HOME", ".cache")
    if user_cache is not None and _writable(user_cache / "numba"):
        return None
    fallback = _private_temp_folder("placer-gym-numba")
    if fallback is None:
        return None  # nothing writable at all: numba will say so
    os.environ["NUMBA_CACHE_DIR"] = str(fallback)
    numba = sys.modules.get("numba")
    if numba is not None:  # already imported: its configuration was read at import
        numba.config.CACHE_DIR = str(fallback)
    return fallback


def _user_folder(variable: str, under_home: str) -> Path | None:
    """``$variable``, else ``~/under_home``; None without a home (HOME unset for a user with
    no passwd entry: ``~`` stayed ``~``, and a ``./~`` folder was made in the working folder)."""
    given = os.environ.get(variable)
    if given and os.path.isabs(given):
        return Path(given)
    home = os.path.expanduser("~")
    return Path(home) / under_home if os.path.isabs(home) else None


def _private_temp_folder(prefix: str) -> Path | None:
    """``TMPDIR/prefix-UID`` (mode 700, this user's), or a fresh folder where another user or a
    link holds that name; None where nothing can be written."""
    uid = getattr(os, "getuid", lambda: 0)()
    folder = Path(tempfile.gettempdir()) / f"{prefix}-{uid}"
    if not _private(folder, uid):  # planted by another user (numba's cache files are pickles
        try:  # it loads: code run as us), or a link: a fresh folder of our own instead
            folder = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
        except OSError:
            return None
    return folder if _writable(folder) else None


def ensure_matplotlib_config_dir() -> Path | None:
    """Point matplotlib at a private folder in the temporary directory where its own config
    or cache folder (``$XDG_CONFIG_HOME/matplotlib`` or ``~/.config/matplotlib``, and
    ``.cache`` alike) cannot be written: it warned on every plotting command and rebuilt its font
    cache each time (~0.5 s) in a folder it then removed. An ``MPLCONFIGDIR`` the user set, or a matplotlib already imported, is left
    alone. Returns the folder chosen."""
    if os.environ.get("MPLCONFIGDIR") or "matplotlib" in sys.modules:
        return None
    config, cache = _user_folder("XDG_CONFIG_HOME", ".config"), _user_folder("XDG_CACHE_HOME", ".cache")
    if config is not None and cache is not None and all(_could_make(f / "matplotlib") for f in (config, cache)):
        return None  # (checked without making them: import placer made ~/.config/matplotlib)
    folder = _private_temp_folder("placer-gym-matplotlib")
    if folder is not None:
        os.environ["MPLCONFIGDIR"] = str(folder)
    return folder
