"""torch's device choice and the CPU thread count a run's torch work uses."""

from __future__ import annotations

import pytest
import torch

from placer.device import torch_threads


def test_a_run_uses_the_thread_count_asked_for_and_puts_the_callers_back() -> None:
    """torch split its sums by thread: one seed gave other placements at another thread count
    (a thread per core in `placer place`, one in a batch worker)."""
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with torch_threads("cpu", 1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), torch_threads("cpu", 1):  # put back on errors too
            raise RuntimeError
        assert torch.get_num_threads() == 2
        with torch_threads(torch.device("cuda"), 1):  # (no CUDA needed: nothing changes)
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
