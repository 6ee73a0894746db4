"""PostgreSQL's knob space and a configuration as server settings: the durable space (and the
unsafe one behind ``allow_unsafe``), whose top of ``shared_buffers`` follows the memory of the
machine or of the container this process runs in (its control group's limit), and the ``-c``
settings a trial's server starts with."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from learned_systems.config.knobs import Knob, KnobSpace

#: Memory limits at the top of the control-group trees (v2, v1): a container's own group.
CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


#: Which groups this process is in, and where the trees are mounted (Linux).
PROC_CGROUP = "/proc/self/cgroup"


PROC_MOUNTINFO = "/proc/self/mountinfo"


def _cgroup_mounts() -> list[tuple[str, str, Path]]:
    """``(kind, root, mount point)`` of each memory control-group tree mounted here: kind
    ``"v2"`` or ``"memory"`` (v1), root the group the mount shows at its top (``/docker/ID``
    in a container without its own cgroup namespace, else ``/``)."""
    try:
        lines = Path(PROC_MOUNTINFO).read_text().splitlines()
    except OSError:
        return []
    mounts = []
    for line in lines:
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        root, point = _unescaped(fields[3]), Path(_unescaped(fields[4]))
        if tail[0] == "cgroup2":
            mounts.append(("v2", root, point))
        elif tail[0] == "cgroup" and "memory" in tail[2].split(","):
            mounts.append(("memory", root, point))
    return mounts


def _unescaped(field: str) -> str:
    """A mountinfo path field as the path: the kernel writes a space as ``\\040``, a
    backslash as ``\\134`` (octal escapes)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), field)


def _cgroup_limit_files() -> list[Path]:
    """Memory-limit files that bind this process: the trees' tops (:data:`CGROUP_LIMITS`),
    and the group ``/proc/self/cgroup`` names with each group above it that the mounts show,
    in the v2 tree (``memory.max``) and the v1 memory tree (``memory.limit_in_bytes``): a
    Slurm job or a systemd unit limits a group below the top, where the tops read no limit."""
    files = [Path(path) for path in CGROUP_LIMITS]
    try:
        lines = Path(PROC_CGROUP).read_text().splitlines()
    except OSError:
        return files
    mounts = _cgroup_mounts()
    for line in lines:
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        kind = "v2" if fields[1] == "" else "memory" if "memory" in fields[1].split(",") else None
        name = "memory.max" if kind == "v2" else "memory.limit_in_bytes"
        for mount_kind, root, point in mounts:
            group = fields[2]
            if mount_kind != kind or not (group == root or group.startswith(root.rstrip("/") + "/")):
                continue  # (a group outside what the mount shows)
            parts = [part for part in group[len(root):].split("/") if part]
            if ".." not in parts:
                files += [point.joinpath(*parts[:k], name) for k in range(len(parts), 0, -1)]
    return files


def _total_memory_mb() -> int:
    """The memory this process may use, in MB: the machine's, or the lowest limit of a control
    group it is in when lower (a container's, a job's: a quarter of the host's RAM can be more
    than a whole container has)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in _cgroup_limit_files():
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < total:  # "max", or v1's near-2**63: no limit
            total = int(text)
    return int(total // 2**20)


#: Beside each limit file, what the group uses now (v2, v1).
_USAGE_FILES = {"memory.max": "memory.current", "memory.limit_in_bytes": "memory.usage_in_bytes"}


def cgroup_memory_free_bytes() -> int | None:
    """What the tightest control group this process is in (a container's, a job's) leaves it:
    its limit less its use, the least over the groups with a limit; None where no group limits
    memory (or this is not Linux). The machine's ``MemAvailable`` counts the host's memory,
    which a container's limit may be far below."""
    free = None
    for path in _cgroup_limit_files():
        try:
            limit = path.read_text().strip()
            used = path.with_name(_USAGE_FILES[path.name]).read_text().strip()
        except (OSError, KeyError):
            continue
        if limit.isdigit() and used.isdigit() and int(limit) < 2**60:  # ("max", v1's near-2**63: none)
            left = max(0, int(limit) - int(used))
            free = left if free is None else min(free, left)
    return free


def postgres_space(allow_unsafe: bool = False) -> KnobSpace:
    """PostgreSQL knobs (memory sizes in MB). Durability settings are part of the space but keep
    the commit flush unless ``allow_unsafe``: ``fsync`` and ``full_page_writes`` stay ``on``,
    ``synchronous_commit`` is ``on`` or ``local`` (the same local flush without standbys). The
    rule of thumb is shared_buffers = a quarter of RAM."""
    memory = _total_memory_mb()
    knobs = (
        # the top never below PostgreSQL's own 128 MB default, which the defaults trial sets
        # (a container under 256 MB put it outside the space: the run stopped on it)
        Knob("shared_buffers", 128, low=16, high=max(memory // 2, 128), log=True, help="MB"),
        Knob("work_mem", 4, low=1, high=1024, log=True, help="MB per sort/hash"),
        # 0 is PostgreSQL's own default, -1: shared_buffers / 32 up to 16 MB (a fixed 4 MB
        # default kept it at 4 MB whatever shared_buffers the rule of thumb or a trial set)
        Knob("wal_buffers", 0, low=1, high=256, log=True, zero_allowed=True,
             help="MB (0 = automatic: shared_buffers / 32, at most 16 MB)"),
        Knob("checkpoint_timeout", 300, low=30, high=3600, log=True, help="seconds"),
        Knob("max_wal_size", 1024, low=64, high=16384, log=True, help="MB"),
        Knob("effective_io_concurrency", 1, low=0, high=512, help="concurrent I/O requests"),
        Knob("random_page_cost", 4.0, choices=(1.1, 1.5, 2.0, 3.0, 4.0), help="planner cost"),
        # log-scaled: useful delays are around half a flush (tens to hundreds of microseconds);
        # on a linear 0-10000 scale nine samples in ten would be >= 1 ms
        Knob(
            "commit_delay",
            0,
            low=1,
            high=10_000,
            log=True,
            zero_allowed=True,
            help="microseconds (group commit; 0 = off)",
        ),
        Knob(
            "commit_siblings", 5, low=0, high=16, help="open transactions needed for commit_delay"
        ),
        Knob(
            "wal_compression",
            "off",
            choices=("off", "pglz", "lz4", "zstd"),
            help="compress full-page images in the WAL (fewer bytes per commit flush)",
        ),
        Knob(
            "wal_sync_method",
            "fdatasync",
            choices=("fdatasync", "fsync", "open_datasync", "open_sync"),
            help="how the WAL is forced to disk (every method is durable)",
        ),
        Knob("max_parallel_workers_per_gather", 2, low=0, high=4, help="parallel query workers"),
        Knob("jit", "on", choices=("on", "off"), help="LLVM JIT compilation of costly queries"),
        Knob("fsync", "on", choices=("on", "off"), unsafe=("off",),
             help="force writes to disk (off: not durable, only with allow_unsafe)"),
        Knob("synchronous_commit", "on", choices=("on", "local", "off"), unsafe=("off",),
             help="wait for the WAL flush at commit (off: not durable, only with allow_unsafe)"),
        Knob("full_page_writes", "on", choices=("on", "off"), unsafe=("off",),
             help="whole pages into the WAL after a checkpoint (off: torn pages after a crash)"),
    )
    return KnobSpace.build(
        "postgres", knobs, allow_unsafe, {"shared_buffers": max(memory // 4, 16)}
    )


def server_settings(config: Mapping[str, Any]) -> dict[str, str]:
    """A validated configuration as PostgreSQL settings with their units (``wal_buffers`` 0:
    automatic, -1 to the server), as ``postgresql.conf`` or ``-c`` takes them."""
    units = {
        "shared_buffers": "MB",
        "work_mem": "MB",
        "wal_buffers": "MB",
        "max_wal_size": "MB",
        "checkpoint_timeout": "s",
    }
    return {
        name: "-1" if name == "wal_buffers" and value == 0 else f"{value}{units.get(name, '')}"
        for name, value in config.items()
    }


def _settings(config: Mapping[str, Any]) -> list[str]:
    """``-c name=value`` arguments of the server for ``config``."""
    args = []
    for name, value in server_settings(config).items():
        args += ["-c", f"{name}={value}"]
    return args
