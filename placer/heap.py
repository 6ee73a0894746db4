"""Large freed blocks kept in the process's heap while a block of torch work runs (glibc only).

glibc's malloc serves a request over its mmap threshold (at most 32 MiB, whatever it has
adapted to) with a fresh ``mmap`` and hands it back to the kernel on ``free``. A PPO update of
the placement policy allocates and frees tensors of 32-64 MiB for every minibatch (the
full-resolution convolutions' activations and gradients: 256 x 16 x 64 x 64 floats is 64 MiB),
so each of them was mapped, zero-filled by the kernel one 4 KiB page fault at a time and
unmapped again: 5.4 million page faults and 10 s of system time in the 25 s of CPU one update
of ``placer train --netlist default`` took (rollouts of 512 steps x 2 envs) when this was
written; 2.2 million and 5 s of 15.5 s with today's policy (``experiments/results/ppo_update_speed.md``). Inside
:func:`large_blocks_reused` those requests come from the heap and a freed block stays there
for the next one. Only where memory comes from changes, not a single computed bit. The price:
the heap keeps the update's peak between updates, handed back when the block ends. In
``placer train --netlist default --timesteps 6144 --set n_steps=256`` (12 updates; RSS sampled
every 0.2 s, one run each way, with the design-constant rollout buffer of
:mod:`placer.rl.buffer`) it stayed at 1.45-1.48 GiB from the first update on, where with glibc's
default heap (this block made a no-op) the process fell back to 0.85-1.06 GiB between updates;
peak RSS 1.37 -> 1.48 GiB.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: glibc's mallopt parameters (malloc.h) and its documented defaults, put back afterwards.
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
DEFAULT_TRIM_THRESHOLD, DEFAULT_MMAP_MAX = 128 * 1024, 65536
#: The heap top kept rather than trimmed inside the block (so a freed 64 MiB block at the top
#: is not handed back and faulted in again): 1 GiB; what is left over is trimmed at the end.
KEPT_TRIM_THRESHOLD = 1 << 30

_lock = threading.Lock()
_depth = 0


def _glibc() -> ctypes.CDLL | None:
    """The process's C library when it is glibc (``mallopt`` and ``malloc_trim``), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 (only glibc has it: musl's mallopt does nothing)
        libc.mallopt, libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


@contextmanager
def large_blocks_reused() -> Iterator[None]:
    """Within the block, serve every allocation from the heap (no ``mmap``) and keep up to
    1 GiB of freed heap top; after it, glibc's default limits again and the free memory
    handed back (``malloc_trim``). Process-wide (nested and concurrent blocks count: the last
    one out restores); nothing happens where the C library is not glibc. glibc's adaptive mmap
    threshold cannot be switched back on once a limit is set: after the block the thresholds
    stay at the fixed defaults (128 KiB), as with ``MALLOC_MMAP_MAX_`` set in the environment."""
    global _depth
    libc = _glibc()
    if libc is None:
        yield
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            libc.mallopt(M_MMAP_MAX, 0)
            libc.mallopt(M_TRIM_THRESHOLD, KEPT_TRIM_THRESHOLD)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                libc.mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
                libc.mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM_THRESHOLD)
                libc.malloc_trim(0)
