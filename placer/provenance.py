"""Provenance of a run: placer-gym's version and the commit of its checkout, stored with every
batch row so that a result says which code made it."""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Environment variables that change what a recorded run computes or reads (threads of the math
#: libraries and numba, hashing, the GPUs seen, cuBLAS's determinism, the default suite): a
#: command named on a results page carries those set (:func:`environment_prefix`) in front,
#: typed or inherited alike (``OMP_NUM_THREADS=1 python ...``); a reader who reran it without
#: them got other timings or another suite.
RESULT_ENVIRONMENT = (
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS", "PYTHONHASHSEED",
    "CUDA_VISIBLE_DEVICES", "CUBLAS_WORKSPACE_CONFIG", "PLACER_BENCHMARKS",
)  # fmt: skip


def environment_prefix(environ: Mapping[str, str] | None = None) -> str:
    """The :data:`RESULT_ENVIRONMENT` variables set in ``environ`` (the process's by default) as
    a shell prefix, ``NAME=VALUE `` each (the value quoted for the shell), or ``""``."""
    import shlex

    environ = os.environ if environ is None else environ
    return "".join(f"{name}={shlex.quote(environ[name])} " for name in RESULT_ENVIRONMENT if name in environ)


def git_commit() -> str | None:
    """``git rev-parse HEAD`` of the package's checkout, None when it is not a git checkout of
    placer-gym (an install inside another project's repository would record that project's
    commit as placer's)."""
    package_dir = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel", "HEAD"], cwd=package_dir, capture_output=True,
            text=True, timeout=10,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.stdout.split("\n")
    if out.returncode != 0 or len(lines) < 2 or not lines[1].strip():
        return None
    top, commit = Path(lines[0].strip()), lines[1].strip()
    if package_dir.parent != top.resolve() or not _is_placer_gym(top / "pyproject.toml"):
        return None
    return commit


#: What :func:`git_tree_dirty` looks at when pyproject.toml cannot say: the wheel's packages.
CODE_PATHS = ("placer", "netlists", "envs", "learned_systems")


def code_paths(top: Path) -> list[str]:
    """The checkout's code, relative to its top: the packages and files the wheel is built from
    (pyproject.toml's hatch ``packages`` and ``force-include``) and pyproject.toml itself; not
    the results, ``.plc`` files and pages the repository also tracks, which a batch writes."""
    try:
        import tomllib

        wheel = tomllib.loads((top / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
        paths = [str(p) for p in wheel.get("packages", CODE_PATHS)] + [str(p) for p in wheel.get("force-include", {})]
    except (OSError, ValueError, KeyError, TypeError):
        paths = list(CODE_PATHS)
    return [*paths, "pyproject.toml"]


def git_tree_dirty() -> bool | None:
    """Whether the package's checkout has uncommitted changes to tracked code
    (:func:`code_paths`; its commit then does not say all of the code that ran); None when git
    cannot say. Results and data files the repository tracks do not count: a batch writing
    into a tracked runs folder would mark every later run dirty. Asked only where
    :func:`git_commit` named a commit (elsewhere it would describe another repository)."""
    top = Path(__file__).resolve().parent.parent  # (git_commit checked that this is the checkout's top)
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", *code_paths(top)], cwd=top,
            capture_output=True, text=True, timeout=10,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},  # (no index.lock taken beside a user's git)
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(out.stdout.strip()) if out.returncode == 0 else None


def machine_facts() -> dict[str, Any]:
    """Where a run is made, for its row: host name, CPU count and model (each read once per
    process) and the 1-minute load average now (None where the system has none)."""
    try:
        load: float | None = os.getloadavg()[0]
    except (AttributeError, OSError):  # (Windows)
        load = None
    return {"host": socket.gethostname() or None, "cpu_count": os.cpu_count(), "cpu_model": _cpu_model(),
            "load_1m": load}


@functools.lru_cache(maxsize=1)
def _cpu_model() -> str | None:
    """The CPU's model name: /proc/cpuinfo's first ``model name`` on Linux, else what
    ``platform.processor()`` says (None when neither says anything)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip() or None
    except OSError:
        pass
    return platform.processor() or None


def _is_placer_gym(pyproject: Path) -> bool:
    """Whether ``pyproject`` is placer-gym's own."""
    try:
        import tomllib

        return tomllib.loads(pyproject.read_text()).get("project", {}).get("name") == "placer-gym"
    except (OSError, ValueError):
        return False


def package_version() -> str:
    import placer

    return str(placer.__version__)


def options_json(options: Mapping[str, Any]) -> str:
    """A method's options as canonical JSON (sorted keys; values JSON cannot hold as text)."""
    return json.dumps(dict(options), sort_keys=True, default=str)


def placed_by(version: str, method: str, seed: int, budget_s: float, options: Mapping[str, Any]) -> str:
    """The first comment line of every ``.plc`` (or ``.pl``) a method's run writes: which
    placer-gym, method, seed, budget and options made it (one wording for ``placer place`` and
    the batch's runs)."""
    return (f"Placed by placer-gym {version}: method {method}, seed {seed}, budget {exact_number(budget_s)} s, "
            f"options {options_json(options)}")  # fmt: skip


def exact_number(value: float) -> str:
    """``value`` in its short ``g`` form (``5``, ``0.25``) where that reads back as the same
    float, else in full (``repr``: ``1234567.5``, ``2.0000001``): ``g`` keeps 6 digits, and
    a budget of 1234567.5 s was written as 1.23457e+06."""
    short = f"{float(value):g}"
    return short if float(short) == float(value) else repr(float(value))


#: :func:`placed_by`'s line as a placement file's comment holds it.
_PLACED_BY = re.compile(r"#\s*Placed by placer-gym \S+: method (?P<method>.+?), seed (?P<seed>-?\d+), "
                        r"budget (?P<budget>\S+) s, options ")


def placed_by_in(path: str | Path) -> str | None:
    """``"method M, seed S, budget B s"`` from the :func:`placed_by` comment of a placement file
    (``.plc`` or ``.pl``, as ``placer place`` and the batch write them), for a picture's title;
    None when the file has no such line or cannot be read (a title goes without it)."""
    from netlists.errors import NetlistError
    from netlists.formats.textio import read_text

    try:
        text = read_text(path)
    except (NetlistError, OSError, UnicodeError):
        return None
    for line in text.splitlines():
        if not line.startswith("#") and line.strip() and not line.startswith("UCLA"):
            return None  # past the header: the comment is written in it
        found = _PLACED_BY.match(line)
        if found:
            return f"method {found['method']}, seed {found['seed']}, budget {found['budget']} s"
    return None
