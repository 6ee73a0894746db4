"""``placer/MacroPlacement-v0`` keeps each design's density masks across episodes: whole episodes
give the same observations, masks, rewards and infos, bit for bit, as with every mask computed
afresh; a later episode's masks are the first one's; and a generator of fresh designs holds at
most the cache's few designs, however many episodes it runs."""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import numpy as np
import pytest

from envs.macro_placement import MacroPlacementEnv
from netlists.generate import generate
from netlists.model import Placement

SMALL = {"max_grid": 32, "max_nodes": 16, "max_edges": 64}


def _same(a: Any, b: Any) -> bool:
    """Whether two observations / infos are equal bit for bit (arrays in value and dtype)."""
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, Placement):
        return isinstance(b, Placement) and all(
            _same(getattr(a, f), getattr(b, f)) for f in ("x", "y", "orientation", "fixed")
        )
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return type(a) is type(b) and a == b


def _lockstep(cached: MacroPlacementEnv, fresh: MacroPlacementEnv, episodes: int, seed: int) -> int:
    """Run both envs through the same episodes (random legal actions) and check every output is
    the same; returns the steps taken."""
    rng = np.random.default_rng(seed)
    steps = 0
    for episode in range(episodes):
        got, want = cached.reset(seed=seed + episode), fresh.reset(seed=seed + episode)
        assert _same(got, want)
        done = False
        while not done:
            mask = fresh.action_masks()
            assert _same(cached.action_masks(), mask)
            state = cached._state
            assert state is not None and cached._density is not None
            assert not cached._density.flags.writeable  # (the cache's own array)
            assert np.array_equal(cached._density, state.density_mask(fresh=True))
            action = int(rng.choice(np.flatnonzero(mask)))
            got, want = cached.step(action), fresh.step(action)
            assert _same(got[0], want[0]) and got[1:4] == want[1:4] and _same(got[4], want[4])
            done = got[2] or got[3]
            steps += 1
    return steps


def _fresh_twin(**kw: Any) -> MacroPlacementEnv:
    """The env with its density cache taken away: every mask computed afresh, as before the cache."""
    env = MacroPlacementEnv(**kw)
    env._density_cache = None
    return env


@pytest.mark.parametrize("which", ["ariane133", "generated", "two designs"])
def test_cached_episodes_are_the_fresh_ones_bit_for_bit(which: str) -> None:
    if which == "ariane133":
        from netlists.designs import load_builtin

        kw: dict[str, Any] = {"netlist": load_builtin("ariane133"), "soft_placement": "keep"}
        episodes = 2
    elif which == "generated":
        kw = {"netlist": generate(12, 60, 16, seed=11), **SMALL}
        episodes = 3
    else:  # the cache switching between designs drawn at random
        kw = {"designs": [generate(10, 50, 12, seed=2), generate(8, 40, 12, seed=5)], **SMALL}
        episodes = 6
    cached = MacroPlacementEnv(**kw)
    assert _lockstep(cached, _fresh_twin(**kw), episodes, seed=7) > 0
    assert cached._density_cache is not None and len(cached._density_cache) >= 1


def test_ibm01_episodes_are_the_fresh_ones_bit_for_bit(benchmarks_dir) -> None:  # type: ignore[no-untyped-def]
    kw = {"netlist": str(benchmarks_dir / "iccad04" / "ibm01" / "netlist.pb.txt"), "soft_placement": "keep"}
    assert _lockstep(MacroPlacementEnv(**kw), _fresh_twin(**kw), episodes=2, seed=3) > 0


def _masks_by_node(env: MacroPlacementEnv, seed: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per macro of a random episode: the density mask the env used and one computed afresh."""
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    seen, done = {}, False
    while not done:
        state = env._state
        assert state is not None and env._density is not None
        seen[state.current] = (env._density, state.density_mask(fresh=True))
        _, _, done, _, _ = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
    return seen


@pytest.mark.parametrize("source", ["netlist", "generator of copies"])
def test_a_later_episode_uses_the_first_episodes_masks(source: str) -> None:
    """The masks are computed once per design (a generator handing out new copies of one design
    included); the later episode's are the first one's arrays, equal to masks computed afresh."""
    if source == "netlist":
        env = MacroPlacementEnv(generate(12, 60, 16, seed=11), soft_placement="keep", **SMALL)
    else:
        env = MacroPlacementEnv(generator=lambda rng: generate(12, 60, 16, seed=11), soft_placement="keep", **SMALL)
    first = _masks_by_node(env, seed=1)
    later = _masks_by_node(env, seed=2)
    assert later.keys() == first.keys()
    for node, (used, fresh) in later.items():
        assert used is first[node][0]
        assert np.array_equal(used, first[node][1]) and np.array_equal(used, fresh)


def test_memory_stays_flat_over_many_episodes_of_a_generator_of_fresh_designs() -> None:
    env = MacroPlacementEnv(
        generator=lambda rng: generate(8, 30, 12, seed=int(rng.integers(2**31))), soft_placement="keep", **SMALL
    )
    cache = env._density_cache
    assert cache is not None

    def episodes(count: int, start: int) -> None:
        for seed in range(start, start + count):
            _masks_by_node(env, seed)

    tracemalloc.start()
    try:
        episodes(cache.capacity + 1, 0)  # the cache full
        gc.collect()
        settled, settled_masks = tracemalloc.get_traced_memory()[0], cache.nbytes
        episodes(3 * cache.capacity, 100)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - settled
    finally:
        tracemalloc.stop()
    assert len(cache) == cache.capacity
    per_design = cache.nbytes / len(cache)  # (the masks of one design, measured)
    # The cache now holds other designs' masks, whose count of distinct macro sizes differs, so
    # its own bytes move by a design or two either way: that change is the cache's, bounded by
    # its capacity (checked above). What else grew must stay under a few designs' masks: the 12
    # more designs, were anything of theirs kept, would add 12 x per_design or more.
    elsewhere = grown - (cache.nbytes - settled_masks)
    assert elsewhere < 3 * per_design, f"{elsewhere} bytes more outside the cache after {3 * cache.capacity} more episodes"
