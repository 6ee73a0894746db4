"""The torch device a policy runs on, refused in one line where this machine has none, and
the CPU thread count a run's torch work uses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from netlists.errors import InputError


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; ``cpu``, ``cuda`` and ``cuda:N`` as
    they are when this machine has them.

    Raises:
        ValueError: another name, or CUDA asked for where there is none (stable-baselines3
            would quietly train on the CPU instead).
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return device
    parsed = _cuda_device(device)
    if not torch.cuda.is_available():
        raise InputError(f"device {device!r}: CUDA is not available on this machine (use auto or cpu)")
    if parsed.index is not None and parsed.index >= torch.cuda.device_count():
        raise InputError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device


def check_device_name(device: str) -> None:
    """Refuse a device name that is none of auto, cpu, cuda or cuda:N (a ValueError), without
    asking whether this machine has it: a run may go to other machines (Ray workers)."""
    if device not in ("auto", "cpu"):
        _cuda_device(device)


def _cuda_device(device: str) -> torch.device:
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        parsed = None
    if parsed is None or parsed.type != "cuda":
        raise InputError(f"device must be auto, cpu, cuda or cuda:N, got {device!r}")
    return parsed


@contextmanager
def torch_threads(device: str | torch.device, threads: int = 1) -> Iterator[None]:
    """torch's CPU thread count within the block, put back after (on CUDA nothing changes):
    torch's matrix products and convolutions split their sums by thread, so each count gives
    its own last bits, and ``placer place`` (a thread per core) and a batch worker (one thread)
    gave different placements for one seed (``analytical``: 857 um apart after global_refine's
    20,000 steps). The count is the calling thread's (OpenMP's); a thread of the caller's whose
    first torch work falls within the block takes it too, and keeps it after."""
    if torch.device(device).type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    if threads != before:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
