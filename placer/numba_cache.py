"""A writable cache folder for the compiled numba kernels, found before any kernel is compiled.

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
    user_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if _writable(Path(user_cache) / "numba"):
        return None
    uid = getattr(os, "getuid", lambda: 0)()
    fallback = Path(tempfile.gettempdir()) / f"placer-gym-numba-{uid}"
    if not _private(fallback, uid):  # planted by another user (its cache files are pickles
        try:  # numba loads: code run as us), or a link: a fresh folder of our own instead
            fallback = Path(tempfile.mkdtemp(prefix="placer-gym-numba-"))
        except OSError:
            return None
    if not _writable(fallback):
        return None  # nothing writable at all: numba will say so
    os.environ["NUMBA_CACHE_DIR"] = str(fallback)
    numba = sys.modules.get("numba")
    if numba is not None:  # already imported: its configuration was read at import
        numba.config.CACHE_DIR = str(fallback)
    return fallback
