"""Large freed blocks reused from the heap inside a block of torch work (glibc only)."""

from __future__ import annotations

import ctypes
import os
import resource
import sys

import pytest
import torch

#: 64 MiB of float32, the size of the PPO update's largest activations (over glibc's largest
#: mmap threshold, 32 MiB, so by default each one is a fresh mapping).
BLOCK_FLOATS = 16 * 1024 * 1024
PAGES_PER_BLOCK = BLOCK_FLOATS * 4 // 4096
#: Allocations of the block measured: the heap takes a few to settle (torch's aligned requests
#: are a little larger than the hole a freed block leaves, until holes merge: seven here).
TIMES = 24

needs_glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="glibc's malloc only (elsewhere nothing changes)"
)


class _MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (malloc.h)."""

    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def faults_of_reallocations() -> int:
    """Minor page faults of allocating, writing and freeing a 64 MiB tensor ``TIMES`` times."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(TIMES):
        torch.ones(BLOCK_FLOATS)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def mapped_for_a_block_over_the_free_heap() -> int:
    """Chunks glibc maps (``mmap``) for one tensor larger than all the heap's free memory
    together (so no free chunk can serve it; never written: no memory is used)."""
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = _MallInfo2
    before = libc.mallinfo2()
    block = torch.empty((before.fordblks + (64 << 20)) // 4)
    mapped = libc.mallinfo2().hblks - before.hblks
    del block
    return mapped


@needs_glibc
def test_a_freed_large_block_is_reused_inside_and_glibcs_defaults_are_back_after() -> None:
    """Every 64 MiB tensor of a PPO update was a fresh mapping that the kernel zero-filled one
    4 KiB page fault at a time (5.4 million faults, 10 s of system time per update)."""
    from placer.heap import large_blocks_reused

    with large_blocks_reused():
        with large_blocks_reused():  # (nested: the inner block's end restores nothing)
            pass
        inside = faults_of_reallocations()
        assert mapped_for_a_block_over_the_free_heap() == 0
    assert inside < TIMES // 2 * PAGES_PER_BLOCK, inside
    assert mapped_for_a_block_over_the_free_heap() == 1  # mapped again, as by default


def resident_bytes() -> int:
    """The process's resident memory (``/proc/self/statm``'s second field, in pages), read with
    one small ``os.read`` (no large buffer whose free could trim the heap on its own)."""
    fd = os.open("/proc/self/statm", os.O_RDONLY)
    try:
        return int(os.read(fd, 256).split()[1]) * os.sysconf("SC_PAGE_SIZE")
    finally:
        os.close(fd)


@needs_glibc
def test_the_memory_kept_inside_is_handed_back_when_the_block_ends() -> None:
    """Inside, freed 64 MiB blocks stay in the heap (resident); the block's end trims them."""
    from placer.heap import large_blocks_reused

    count = 6
    allocated = count * BLOCK_FLOATS * 4  # 384 MiB, written (resident)
    before = resident_bytes()
    with large_blocks_reused():
        blocks = [torch.ones(BLOCK_FLOATS) for _ in range(count)]
        peak = resident_bytes()
        del blocks
        kept = resident_bytes()
    after = resident_bytes()
    assert peak - before > allocated // 2, (before, peak)  # (the blocks were resident)
    assert kept > peak - allocated // 2, (peak, kept)  # kept in the heap inside the block
    assert after < peak - allocated // 2, (peak, after)  # handed back at its end


@needs_glibc
def test_training_runs_with_large_blocks_reused(monkeypatch, tmp_path) -> None:
    """`placer train`'s run (all of train()'s work, the PPO updates included) reuses freed
    large blocks, and the process is back to glibc's defaults when it returns."""
    import placer.rl.train as train_module
    from placer.rl.config import TrainConfig

    seen: list[tuple[int, int]] = []

    def run(*args: object) -> None:
        seen.append((faults_of_reallocations(), mapped_for_a_block_over_the_free_heap()))

    monkeypatch.setattr(train_module, "_train", run)
    train_module.train(TrainConfig(out=str(tmp_path / "run")), progress_bar=False)
    assert seen and seen[0][0] < TIMES // 2 * PAGES_PER_BLOCK and seen[0][1] == 0, seen
    assert mapped_for_a_block_over_the_free_heap() == 1
