"""Congestion smoothing: a wide reach is spread in a fixed number of passes, with the sums the
shifted form gives (and the shifted form's own bits kept for the reaches the benchmarks use)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from placer.cost import congestion
from placer.cost.congestion import SPREAD_LOOP_REACH, _spread, _spread_running, _spread_shifted


def _sparse(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Values of very different sizes, with runs of zeros (cells no route crosses)."""
    return rng.random(shape) * (rng.random(shape) < 0.3) * 10.0 ** rng.integers(-3, 4, shape)


def _close(fast: np.ndarray, loop: np.ndarray) -> None:
    scale = max(float(np.max(np.abs(loop))), 1e-300)
    assert np.max(np.abs(fast - loop)) <= 1e-12 * scale
    assert np.array_equal(fast == 0.0, loop == 0.0)  # a window of zeros stays exactly 0


@pytest.mark.parametrize("shape", [(5, 90), (90, 5), (40, 40), (3, 257)])
def test_the_running_sums_give_the_shifted_sums_at_every_reach(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    a = _sparse(rng, shape)
    for axis in (0, 1):
        for reach in range(shape[axis]):
            _close(_spread_running(a, reach, axis), _spread_shifted(a, reach, axis))


def test_a_reach_up_to_the_threshold_keeps_the_shifted_bits_and_a_wider_one_never_loops(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A header's range of 2,048 on a 2,048-cell grid looped 4,097 times over the grid (33 s
    for one evaluation); the benchmarks' reaches (0 and 2) keep the bits they were recorded with."""
    rng = np.random.default_rng(3)
    a = _sparse(rng, (30, 60))
    narrow = _spread(a, SPREAD_LOOP_REACH, 1)
    count = np.minimum(59, np.arange(60) + SPREAD_LOOP_REACH) - np.maximum(0, np.arange(60) - SPREAD_LOOP_REACH) + 1
    assert np.array_equal(narrow, _spread_shifted(a / count, SPREAD_LOOP_REACH, 1))

    def shifted_reference(s: int) -> np.ndarray:
        reach = min(s, 59)
        count = np.minimum(59, np.arange(60) + reach) - np.maximum(0, np.arange(60) - reach) + 1
        return _spread_shifted(a / count, reach, 1)

    wider = (SPREAD_LOOP_REACH + 1, 59, 10**9)
    expected = [shifted_reference(s) for s in wider]

    def no_loop(share: np.ndarray, reach: int, axis: int) -> np.ndarray:
        raise AssertionError(f"a reach of {reach} was spread by {2 * reach + 1} shifted sums")

    monkeypatch.setattr(congestion, "_spread_shifted", no_loop)
    for s, loop in zip(wider, expected, strict=True):
        _close(_spread(a, s, 1), loop)


def test_the_kernels_running_spread_adds_what_its_shifted_spread_adds() -> None:
    from placer.cost.move_kernel import spread_deltas_running, spread_deltas_shifted

    rng = np.random.default_rng(5)
    R, C = 37, 53
    for s in (SPREAD_LOOP_REACH + 1, 25, 60):
        for r0, r1, c0, c1 in ((0, R - 1, 0, C - 1), (10, 14, 20, 31), (0, 0, C - 1, C - 1), (30, 36, 0, 3)):
            dV, dH = np.zeros((R, C)), np.zeros((R, C))
            box = (slice(r0, r1 + 1), slice(c0, c1 + 1))
            dV[box] = _sparse(rng, dV[box].shape) * rng.choice([-1.0, 1.0], dV[box].shape)
            dH[box] = _sparse(rng, dH[box].shape) * rng.choice([-1.0, 1.0], dH[box].shape)
            shifted = np.zeros((R, C)), np.zeros((R, C))
            running = np.zeros((R, C)), np.zeros((R, C))
            spread_deltas_shifted(dV, dH, *shifted, r0, r1, c0, c1, s, R, C, 1.7, 2.3)
            spread_deltas_running(dV, dH, *running, r0, r1, c0, c1, s, R, C, 1.7, 2.3)
            for fast, loop in zip(running, shifted, strict=True):
                _close(fast, loop)


def test_moves_under_a_wide_reach_are_priced_like_a_full_evaluation() -> None:
    from netlists.generate import generate
    from placer.cost.incremental import IncrementalEvaluator
    from placer.cost.proxy import evaluate

    nl, start = generate(16, 64, 32, seed=3)
    c = nl.require_canvas()
    rng = np.random.default_rng(11)
    for s in (SPREAD_LOOP_REACH + 5, 10**6):
        wide = dataclasses.replace(nl, canvas=c.replace(cols=48, rows=41, smooth_range=s))
        ev = IncrementalEvaluator(wide, start, resync_every=0)
        for _ in range(12):
            i = int(rng.choice(np.concatenate([wide.hard_macros, wide.ports])))
            move = ev.move(i, float(rng.uniform(0, c.width)), float(rng.uniform(0, c.height)))
            trial = ev.placement.copy()
            trial.x[move.nodes], trial.y[move.nodes] = move.x, move.y
            assert move.cost.congestion == pytest.approx(evaluate(wide, trial).congestion, rel=1e-9, abs=1e-12)
            ev.commit(move)
        assert ev.cost.congestion == pytest.approx(evaluate(wide, ev.placement).congestion, rel=1e-9, abs=1e-12)


def _spread_by_the_move_kernel(
    dV: np.ndarray, dH: np.ndarray, box: tuple[int, int, int, int], s: int
) -> tuple[np.ndarray, np.ndarray]:
    """The congestion change the move kernel spreads from the raw changes ``dV, dH`` of ``box``
    (``r0, r1, c0, c1``) under the reach ``s`` (capacities 1.7 and 2.3, no macro moved)."""
    from placer.cost.move_kernel import _congestion_delta

    R, C = dV.shape
    spread = np.zeros((R, C)), np.zeros((R, C))
    zero = np.zeros((R, C))
    _congestion_delta(dV, dH, zero, zero, *spread, np.array(box, dtype=np.int64), s, R, C, 1.7, 2.3, False)
    return spread


@pytest.mark.parametrize("s", [SPREAD_LOOP_REACH - 1, SPREAD_LOOP_REACH, SPREAD_LOOP_REACH + 1, 2 * SPREAD_LOOP_REACH])
def test_the_move_kernel_takes_running_sums_past_the_loop_reach_and_shifted_ones_up_to_it(s: int) -> None:
    """A change of 1e16 and one of 1 within ``s + 2`` cells along a row: where the first leaves
    the running sum, the second's share is left with rounding the shifted sums do not make,
    which tells the two paths apart (a switch stuck on either is caught)."""
    from placer.cost.move_kernel import spread_deltas_running, spread_deltas_shifted

    R, C = 5, 3 * s
    dV, dH = np.zeros((R, C)), np.zeros((R, C))
    dV[2, 0], dV[2, s + 2] = 1e16, 1.0
    box = (2, 2, 0, s + 2)
    by_path = {}
    for name, kernel in (("shifted", spread_deltas_shifted), ("running", spread_deltas_running)):
        by_path[name] = np.zeros((R, C)), np.zeros((R, C))
        kernel(dV, dH, *by_path[name], *box, s, R, C, 1.7, 2.3)
    assert not np.array_equal(by_path["shifted"][0], by_path["running"][0])  # (the input tells them apart)
    taken, other = ("running", "shifted") if s > SPREAD_LOOP_REACH else ("shifted", "running")
    spread = _spread_by_the_move_kernel(dV, dH, box, s)
    assert np.array_equal(spread[0], by_path[taken][0]) and not np.array_equal(spread[0], by_path[other][0])


def test_on_an_axis_shorter_than_the_reach_the_kernels_two_paths_give_the_same_bits() -> None:
    """The kernel switches on ``s``, the full evaluator on each axis's ``min(s, n - 1)``: they
    take different paths only on an axis of at most SPREAD_LOOP_REACH + 1 cells under a wider
    ``s``, where the running sum never drops a change and so adds what the shifted sums add."""
    from placer.cost.move_kernel import spread_deltas_running, spread_deltas_shifted

    rng = np.random.default_rng(8)
    for R, C in ((SPREAD_LOOP_REACH + 1, 60), (60, SPREAD_LOOP_REACH + 1), (5, 9)):
        for s in (SPREAD_LOOP_REACH + 1, 40):
            dV = _sparse(rng, (R, C)) * rng.choice([-1e6, 1.0], (R, C))
            dH = _sparse(rng, (R, C)) * rng.choice([-1e6, 1.0], (R, C))
            shifted = np.zeros((R, C)), np.zeros((R, C))
            running = np.zeros((R, C)), np.zeros((R, C))
            spread_deltas_shifted(dV, dH, *shifted, 0, R - 1, 0, C - 1, s, R, C, 1.7, 2.3)
            spread_deltas_running(dV, dH, *running, 0, R - 1, 0, C - 1, s, R, C, 1.7, 2.3)
            if C <= SPREAD_LOOP_REACH + 1:  # (V spreads along a row, H along a column)
                assert np.array_equal(shifted[0], running[0])
            if R <= SPREAD_LOOP_REACH + 1:
                assert np.array_equal(shifted[1], running[1])
