"""The folder for the compiled numba kernels, chosen before any kernel is compiled (and one for
matplotlib's configuration and font cache, :func:`ensure_matplotlib_config_dir`).

numba decides whether a cached kernel is stale from the time and size of the one file that
defines it; a kernel also compiles in the helpers and constants it imports from other modules
(``move_kernel.price`` calls ``topk_kernel.top_sum`` and bakes in ``congestion.TOP_FRACTION``),
so an edit to one of those left the old machine code in use, and tests passed on it (an
audit's check: ``top_sum`` made to return twice the sum, the cached ``price`` still agreed with a
full evaluation to 4e-16; compiled afresh, it was off by 1.2). :func:`ensure_numba_cache_dir`
therefore points ``NUMBA_CACHE_DIR`` at a folder named by a digest of every kernel module's
source and of the modules of ours each imports (:func:`kernel_sources`): other code, other
folder, kernels compiled afresh. The digest is remembered in ``digest.json`` beside the version
folders while no source's size or modification time changes (numba's own check, so the import
reads no source then). The folder lies beside the package (``placer/__pycache__/numba``),
else in the user's cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``, ``placer-gym/numba``), else
in a private folder in the temporary directory (a read-only install run by a user without a
home, e.g. in a container, where numba raised ``cannot cache function ...: no locator
available`` at import: a traceback before any work). Version folders unused for a day are
removed beyond the newest few. A ``NUMBA_CACHE_DIR`` the user set is left alone (numba's own
staleness check applies there) where it can be written; one that cannot is warned about and
replaced by the folders above (numba raised "no locator available" where none of its own
could be written either). Where nothing at all can be written, the kernels are compiled for
the process only (:func:`_compile_uncached`), not refused.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable
from pathlib import Path


class CacheFolderWarning(UserWarning):
    """The compiled kernels' folder is not the one the user chose, or there is none."""


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


#: What marks a module that compiles kernels (a decorator or a call of numba's compilers).
_KERNEL_MARK = re.compile(r"\b(?:njit|jit|vectorize|guvectorize)\b")

#: Packages of ours whose modules kernels import from, besides the kernel packages themselves.
_DATA_PACKAGES = ("netlists",)

#: Kernel version folders kept beside the current one (the newest; older ones go once unused
#: for :data:`_PRUNE_AFTER_S`): a few checkouts or versions in turn do not compile each time.
_KEEP_VERSIONS = 4
_PRUNE_AFTER_S = 86_400.0


def kernel_sources(package_dirs: Iterable[Path]) -> list[Path]:
    """The source files whose edits must recompile the kernels: every module of the packages
    that compiles kernels with numba, and each module of ours it imports, in any form
    (``from a.b import X``, ``from .b import X``, ``from a import b``, ``import a.b as c``,
    inside functions too): the helpers and constants compiled into its kernels. One level:
    a module that only those modules import is not followed."""
    package_dirs = [Path(d) for d in package_dirs]
    ours = {d.name for d in package_dirs} | set(_DATA_PACKAGES)
    found: set[Path] = set()
    for package in package_dirs:
        root = package.parent
        for path in sorted(package.rglob("*.py")):
            if "__pycache__" in path.parts or path.name == "numba_cache.py":
                continue
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if not ("numba" in text and _KERNEL_MARK.search(text)):
                continue
            found.add(path)
            found.update(_imported_files(path, text, root, ours))
    return sorted(found)


def _imported_files(path: Path, text: str, root: Path, ours: set[str]) -> set[Path]:
    """The files of the modules of ours (top-level names in ``ours``, under ``root``) that the
    module at ``path`` imports anywhere in its text."""
    try:
        tree = ast.parse(text)
    except SyntaxError:  # (its import fails anyway; numba compiles nothing from it)
        return set()
    package = list(path.relative_to(root).with_suffix("").parts[:-1])
    if path.name == "__init__.py":
        package = list(path.relative_to(root).parts[:-1])
    modules: list[list[str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.extend(alias.name.split(".") for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            if node.level and len(package) < node.level - 1:
                continue  # (beyond the top package)
            module = base + (node.module.split(".") if node.module else [])
            modules.append(module)
            modules.extend(module + [alias.name] for alias in node.names)  # a submodule imported
    files = set()
    for parts in modules:
        if not parts or parts[0] not in ours:
            continue
        for candidate in (root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")):
            if candidate.is_file():
                files.add(candidate)
    return files


def kernel_digest(package_dirs: Iterable[Path]) -> str:
    """A short digest of :func:`kernel_sources`' names (relative to their package's parent)
    and texts: the name of the folder their compiled kernels go in (numba's own index refuses
    kernels of another numba version)."""
    dirs = list(package_dirs)
    digest = hashlib.sha256()
    for path in kernel_sources(dirs):
        root = next((Path(d).parent for d in dirs if path.is_relative_to(Path(d).parent)), path.parent)
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            pass
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def ensure_numba_cache_dir(package_dirs: Iterable[Path] | None = None) -> Path | None:
    """Point numba at the kernels' version folder (see the module's docstring) in the first
    writable place of: beside the first package, the user's cache folder, a private temporary
    folder. Returns the folder (None: the user chose one, or nothing at all can be written).
    A ``NUMBA_CACHE_DIR`` the user set that cannot be written is replaced, with a warning."""
    given = os.environ.get("NUMBA_CACHE_DIR")
    if given and _writable(Path(given)):
        return None
    chosen = _ensure_own_cache_dir(package_dirs)
    uncached = "the kernels are compiled afresh in each process (a minute or more)"
    if given:
        instead = f"the compiled kernels go to {chosen} instead" if chosen else uncached
        warnings.warn(CacheFolderWarning(f"NUMBA_CACHE_DIR={given!r} cannot be written: {instead} (set it to a "
                                         "folder you may write, or unset it)"), stacklevel=2)
    elif chosen is None:
        warnings.warn(CacheFolderWarning(f"no folder for the compiled kernels can be written (beside the package, "
                                         f"the user's cache folder, the temporary folder): {uncached}; set "
                                         "NUMBA_CACHE_DIR to a folder you may write"), stacklevel=2)
    return chosen


def _ensure_own_cache_dir(package_dirs: Iterable[Path] | None) -> Path | None:
    """:func:`ensure_numba_cache_dir`'s choice of folder, set for numba; None where nothing can
    be written (the kernels then compile uncached: :func:`_compile_uncached`)."""
    dirs = kernel_package_dirs() if package_dirs is None else list(package_dirs)
    bases = [dirs[0] / "__pycache__" / "numba"] if dirs else []
    user_cache = _user_folder("XDG_CACHE_HOME", ".cache")
    if user_cache is not None:
        bases.append(user_cache / "placer-gym" / "numba")
    base = next((b for b in bases if _writable(b)), None)
    if base is None:
        base = _private_temp_folder("placer-gym-numba")
        if base is None:
            _compile_uncached()  # nothing writable at all
            return None
    folder = base / _remembered_digest(dirs, base / _DIGEST_MEMO)
    if not _writable(folder):
        _compile_uncached()
        return None
    _mark_used_and_prune(folder)
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    numba = sys.modules.get("numba")
    if numba is not None:  # already imported: its configuration was read at import
        numba.config.CACHE_DIR = str(folder)
    return folder


def _compile_uncached() -> None:
    """Let a ``cache=True`` kernel whose cache numba can put nowhere compile for this process
    only: numba raised "cannot cache function ...: no locator available" at the kernel's
    import (a traceback, exit 70, where the package, the home and every temporary folder are
    read-only). Only that refusal is changed; a kernel that finds a folder still caches.
    ``NUMBA_CACHE_DIR`` is dropped (a user's unwritable one would be tried first)."""
    os.environ.pop("NUMBA_CACHE_DIR", None)
    try:
        from numba.core import config
        from numba.core.dispatcher import Dispatcher
    except (ImportError, ValueError):  # (numba's own refusal, NUMBA_NUM_THREADS=0, comes with the first kernel)
        return

    config.CACHE_DIR = ""  # type: ignore[attr-defined]
    enable = Dispatcher.enable_caching
    if getattr(enable, "placer_uncached", False):
        return

    def enable_or_not(self: Dispatcher) -> None:
        try:
            enable(self)
        except RuntimeError as error:
            if "no locator available" not in str(error):
                raise

    enable_or_not.placer_uncached = True  # type: ignore[attr-defined]
    Dispatcher.enable_caching = enable_or_not  # type: ignore[method-assign]


#: The file beside the version folders that remembers the last digest and the sources' stamp.
_DIGEST_MEMO = "digest.json"

#: A version folder's name (the digest's first 16 hex digits).
_VERSION_NAME = re.compile(r"[0-9a-f]{16}")


def _sources_stamp(package_dirs: list[Path]) -> str:
    """A digest of the name, size and modification time of every source file the kernels'
    digest may read (the packages' and the data packages' beside them): reading and parsing
    them took some 15-60 ms at every ``import placer``; their times and sizes take ~2 ms."""
    entries = []
    roots = {Path(d) for d in package_dirs} | {Path(d).parent / name for d in package_dirs for name in _DATA_PACKAGES}
    for folder in sorted(roots):
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.py")):
            try:
                info = path.stat()
            except OSError:
                continue
            entries.append(f"{path}\0{info.st_size}\0{info.st_mtime_ns}")
    return hashlib.sha256("\n".join(entries).encode("utf-8", "surrogateescape")).hexdigest()


def _remembered_digest(package_dirs: list[Path], memo: Path) -> str:
    """:func:`kernel_digest`, taken from ``memo`` while no source's size or time changed (the
    check numba itself makes of a kernel's own file), else computed and remembered."""
    stamp = _sources_stamp(package_dirs)
    try:
        known = json.loads(memo.read_text())
        if known.get("stamp") == stamp and _VERSION_NAME.fullmatch(str(known.get("digest"))):
            return str(known["digest"])
    except (OSError, ValueError, AttributeError, RecursionError):
        pass
    digest = kernel_digest(package_dirs)
    from netlists.formats.textio import text_writer, write_atomically  # (only on a miss)

    try:  # (whole or not at all: a reader never sees half a file)
        write_atomically({memo: text_writer(json.dumps({"stamp": stamp, "digest": digest}))})
    except OSError:
        pass  # (a memo that cannot be written: the digest is computed again next time)
    return digest


def _mark_used_and_prune(folder: Path) -> None:
    """Touch ``folder`` (its time says when its version was last used) and remove the other
    version folders beside it that are neither among the newest :data:`_KEEP_VERSIONS` nor
    used within :data:`_PRUNE_AFTER_S` (best effort: a folder in use elsewhere, or one that
    cannot be removed, stays)."""
    try:
        os.utime(folder)
        siblings = [p for p in folder.parent.iterdir()
                    if p != folder and p.is_dir() and not p.is_symlink() and _VERSION_NAME.fullmatch(p.name)]  # fmt: skip
        siblings.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    now = time.time()
    for old in siblings[_KEEP_VERSIONS:]:
        try:
            if now - old.stat().st_mtime > _PRUNE_AFTER_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue


def _user_folder(variable: str, under_home: str) -> Path | None:
    """``$variable``, else ``~/under_home``; None without a home (HOME unset for a user with
    no passwd entry: ``~`` stayed ``~``, and a ``./~`` folder was made in the working folder)."""
    given = os.environ.get(variable)
    if given and os.path.isabs(given):
        return Path(given)
    home = os.path.expanduser("~")
    return Path(home) / under_home if os.path.isabs(home) else None


def _temp_base() -> Path | None:
    """The temporary folder :mod:`tempfile` chose, unless it is the working folder only as its
    last resort (every temporary folder read-only): the cache folders then landed in the
    user's project folder. A working folder that is also a temporary folder (TMPDIR, /tmp)
    is kept."""
    base = tempfile.gettempdir()
    try:
        if not os.path.samefile(base, os.getcwd()):
            return Path(base)
    except OSError:  # (a working folder removed meanwhile: not the one chosen)
        return Path(base)
    named = [os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")]
    if os.name == "posix":
        named += ["/tmp", "/var/tmp", "/usr/tmp"]  # (tempfile's own, before the working folder)
    for folder in named:
        try:
            if folder and os.path.samefile(folder, base):
                return Path(base)
        except OSError:
            continue
    return None


def _private_temp_folder(prefix: str) -> Path | None:
    """``TMPDIR/prefix-UID`` (mode 700, this user's), or a fresh folder where another user or a
    link holds that name; None where nothing can be written (the working folder, tempfile's
    last resort, is not used: :func:`_temp_base`)."""
    base = _temp_base()
    if base is None:
        return None
    uid = getattr(os, "getuid", lambda: 0)()
    folder = base / f"{prefix}-{uid}"
    if not _private(folder, uid):  # planted by another user (numba's cache files are pickles
        try:  # it loads: code run as us), or a link: a fresh folder of our own instead
            folder = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=base))
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
