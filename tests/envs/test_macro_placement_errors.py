"""MacroPlacementEnv: constructor refusals (design sources, soft placement, render mode, no
designs) and ``render()`` in each mode it declares."""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from envs.macro_placement import MacroPlacementEnv
from netlists.generate import generate
from netlists.model import Netlist, Placement

SMALL: dict[str, Any] = {"max_grid": 32, "max_nodes": 16, "max_edges": 64, "soft_placement": "keep"}


@pytest.fixture(scope="module")
def design() -> tuple[Netlist, Placement]:
    return generate(6, 20, 12, seed=3)


def finish_episode(env: MacroPlacementEnv) -> dict[str, Any]:
    """Place every macro at its first legal cell; the final info."""
    done, info = False, {}
    while not done:
        _, _, done, _, info = env.step(int(np.flatnonzero(env.action_masks())[0]))
    return info


@pytest.mark.parametrize("sources", [("netlist", "designs"), ("netlist", "generator"), ("designs", "generator"),
                                     ("netlist", "designs", "generator")])  # fmt: skip
def test_more_than_one_design_source_is_refused(design: tuple[Netlist, Placement], sources: tuple[str, ...]) -> None:
    """Two design sources would leave one silently unused: refused, naming the three options."""
    given = {"netlist": design, "designs": [design], "generator": lambda rng: design}
    with pytest.raises(ValueError) as caught:
        MacroPlacementEnv(**{name: given[name] for name in sources}, **SMALL)
    assert str(caught.value) == "give at most one of netlist=, designs=, generator="


def test_an_empty_designs_list_still_counts_as_a_source(design: tuple[Netlist, Placement]) -> None:
    """designs=[] beside a generator is two sources (checked by `is not None`, not truthiness)."""
    with pytest.raises(ValueError, match="^give at most one of netlist=, designs=, generator=$"):
        MacroPlacementEnv(designs=[], generator=lambda rng: design, **SMALL)


@pytest.mark.parametrize("empty", [[], ()])
def test_an_empty_designs_list_is_refused(empty: list[Any] | tuple[Any, ...]) -> None:
    """designs=[] has no episode to draw: refused at construction, not at the first reset."""
    with pytest.raises(ValueError) as caught:
        MacroPlacementEnv(designs=empty, **SMALL)
    assert str(caught.value) == "designs= is empty"


@pytest.mark.parametrize("value", ["FD", "force", None, ""])
def test_an_unknown_soft_placement_is_refused(design: tuple[Netlist, Placement], value: Any) -> None:
    """Only "fd" and "keep" place the soft macros before the final cost; anything else is named."""
    with pytest.raises(ValueError) as caught:
        MacroPlacementEnv(design, **{**SMALL, "soft_placement": value})
    assert str(caught.value) == f"soft_placement must be 'fd' or 'keep', got {value!r}"


@pytest.mark.parametrize("mode", ["human", "ansi", "rgb", ""])
def test_a_render_mode_not_in_the_metadata_is_refused(design: tuple[Netlist, Placement], mode: str) -> None:
    """Only the render modes the metadata declares are taken."""
    assert MacroPlacementEnv.metadata["render_modes"] == ["rgb_array"]
    with pytest.raises(ValueError) as caught:
        MacroPlacementEnv(design, render_mode=mode, **SMALL)
    assert str(caught.value) == f"unsupported render_mode {mode!r}: expected None or 'rgb_array'"


def test_the_design_sources_are_checked_before_the_other_settings(design: tuple[Netlist, Placement]) -> None:
    """Several bad arguments: the sources are named first, then soft_placement, then render_mode."""
    with pytest.raises(ValueError, match="^give at most one"):
        MacroPlacementEnv(design, designs=[design], soft_placement="x", render_mode="human")
    with pytest.raises(ValueError, match="^soft_placement must be"):
        MacroPlacementEnv(design, soft_placement="x", render_mode="human", max_grid=0)
    with pytest.raises(ValueError, match="^unsupported render_mode"):
        MacroPlacementEnv(design, render_mode="human", max_grid=0)


def test_render_without_rgb_array_mode_returns_none(design: tuple[Netlist, Placement]) -> None:
    """render_mode None (the default) draws nothing, before and during an episode."""
    env = MacroPlacementEnv(design, **SMALL)
    assert env.render_mode is None and env.render() is None
    env.reset(seed=0)
    assert env.render() is None


def test_render_before_reset_returns_none(design: tuple[Netlist, Placement]) -> None:
    """No episode yet: nothing to draw (None, not an error)."""
    assert MacroPlacementEnv(design, render_mode="rgb_array", **SMALL).render() is None


def test_render_draws_the_designs_own_grid_as_rgb_rows_up(design: tuple[Netlist, Placement]) -> None:
    """rgb_array: a uint8 image of the design's grid (no padding), each cell a square of
    render_scale pixels, row 0 at the bottom, in Okabe-Ito colours (no red against green):
    placed macros blue, legal cells orange (the cheapest full orange, dimmer as the wire mask
    rises), other free cells black."""
    from envs.macro_placement import render_scale

    env = MacroPlacementEnv(design, render_mode="rgb_array", **SMALL)
    obs, _ = env.reset(seed=0)
    cols, rows = env.prepared_designs[0].grid
    k = render_scale(rows, cols)
    image = env.render()
    assert image is not None and image.shape == (rows * k, cols * k, 3) and image.dtype == np.uint8
    assert (rows, cols) != (SMALL["max_grid"], SMALL["max_grid"])  # the padding is left out
    grid = obs["grid"][:, :rows, :cols]
    legal, score = grid[3] > 0, grid[2]
    assert legal.any() and not legal.all()
    shown = image[::k, ::k][::-1].astype(int)  # one pixel per cell, rows up
    np.testing.assert_array_equal(shown[~legal], 0)  # nothing placed yet: illegal cells black
    cheapest = legal & (score == score[legal].min())
    np.testing.assert_array_equal(shown[cheapest], np.broadcast_to([230, 159, 0], (cheapest.sum(), 3)))
    dearest = legal & (score == score[legal].max())
    np.testing.assert_array_equal(shown[dearest], np.broadcast_to([92, 64, 0], (dearest.sum(), 3)))
    assert (shown[legal][:, 2] == 0).all()  # orange: no blue in any legal cell

    action = int(np.flatnonzero(env.action_masks())[0])
    row, col = divmod(action, SMALL["max_grid"])
    env.step(action)
    image = env.render()
    assert image is not None
    assert tuple(image[(rows - 1 - row) * k, col * k]) == (0, 114, 178)  # the placed macro's cell, rows up


def test_render_follows_a_non_square_grid(design: tuple[Netlist, Placement]) -> None:
    """A (cols, rows) grid option gives a rows x cols image of square cells: not transposed."""
    env = MacroPlacementEnv(design, render_mode="rgb_array", grid=(9, 5), **SMALL)
    env.reset(seed=0)
    image = env.render()
    assert image is not None and image.shape == (5 * 30, 9 * 30, 3)  # (30 px a cell: 9 x 30 >= 256, even)


@pytest.mark.parametrize("grid", [(28, 28), (9, 5), (3, 40), (300, 2), (1024, 1024), (300, 256), (257, 256)])
def test_render_upscales_each_cell_to_a_square_block_at_least_256_pixels_along(
    design: tuple[Netlist, Placement], grid: tuple[int, int]
) -> None:
    """One pixel per grid cell made the default design's picture 28 x 28 (a dot in a video):
    each cell is now a square block of one colour, by the smallest factor that makes the
    longer side at least 256 pixels and both sides even (an odd side made H.264 videos browsers
    cannot play; an always even factor drew a 1024 grid at 2 pixels a cell); the observation is
    what it was."""
    from envs.macro_placement import RENDER_MIN_SIDE, render_scale

    cols, rows = grid
    k = render_scale(rows, cols)
    def fits(scale: int) -> bool:
        return max(rows, cols) * scale >= RENDER_MIN_SIDE and rows * scale % 2 == 0 and cols * scale % 2 == 0

    assert fits(k) and not any(fits(smaller) for smaller in range(1, k))
    if max(grid) > SMALL["max_grid"]:
        return  # (the env caps its grid: the scale alone is checked)
    env = MacroPlacementEnv(design, render_mode="rgb_array", grid=grid, **SMALL)
    obs, _ = env.reset(seed=0)
    assert obs["grid"].shape == env.observation_space["grid"].shape  # type: ignore[index]
    image = env.render()
    assert image is not None and image.shape == (rows * k, cols * k, 3)
    assert image.shape[0] % 2 == 0 and image.shape[1] % 2 == 0  # (H.264's 4:2:0 needs even sides)
    blocks = image.reshape(rows, k, cols, k, 3)
    assert (blocks == blocks[:, :1, :, :1, :]).all()  # every block one colour


def test_render_after_the_last_macro_shows_no_legal_cell(design: tuple[Netlist, Placement]) -> None:
    """At the end of a complete episode the image is still drawn, with no cell left legal."""
    env = MacroPlacementEnv(design, render_mode="rgb_array", **SMALL)
    env.reset(seed=0)
    assert "cost" in finish_episode(env)
    image = env.render()
    assert image is not None and image.dtype == np.uint8
    assert image[..., 0].max() == 0 and image[..., 2].max() == 178  # no orange cell, blue macros


def cells_shown(image: np.ndarray, k: int) -> np.ndarray:
    """One pixel per cell of a ``render()`` image of ``k``-pixel cells, row 0 first (rows up)."""
    return image[::k, ::k][::-1].astype(int)


def test_render_draws_every_design_of_an_env_in_one_frame_shape() -> None:
    """Several designs: every frame covers the smallest grid holding each design's (one shape,
    as video recorders and SB3's tiled render need), the episode's design in the lower-left
    corner drawn as its own env draws it, the other cells grey."""
    from envs.macro_placement import RENDER_PADDING, render_scale

    wide, tall = generate(4, 10, 6, grid=(12, 6), seed=0), generate(5, 10, 6, grid=(7, 10), seed=1)
    env = MacroPlacementEnv(designs=[wide, tall], grid="canvas", render_mode="rgb_array", **SMALL)
    assert env.render_grid == (12, 10)
    k = render_scale(10, 12)
    grey = np.round(RENDER_PADDING * 255).astype(int)
    for index, design in enumerate((wide, tall)):
        env.reset(seed=0, options={"design": index})
        cols, rows = env.placing_grid
        image = env.render()
        assert image is not None and image.shape == (10 * k, 12 * k, 3)
        alone = MacroPlacementEnv(design, grid="canvas", render_mode="rgb_array", **SMALL)
        alone.reset(seed=0)
        own = alone.render()
        assert own is not None and own.shape[:2] == (rows * render_scale(rows, cols), cols * render_scale(rows, cols))
        shown = cells_shown(image, k)
        np.testing.assert_array_equal(shown[:rows, :cols], cells_shown(own, render_scale(rows, cols)))
        outside = np.ones((10, 12), dtype=bool)
        outside[:rows, :cols] = False
        np.testing.assert_array_equal(shown[outside], np.broadcast_to(grey, (outside.sum(), 3)))


def test_render_of_a_generator_env_covers_max_grid_whatever_it_draws() -> None:
    """A generator's designs are not known in advance: its frames cover max_grid a side."""
    from envs.macro_placement import render_scale

    designs = [generate(4, 8, 4, seed=0), generate(12, 30, 10, seed=1)]
    env = MacroPlacementEnv(generator=lambda rng: designs[int(rng.integers(2))], render_mode="rgb_array", **SMALL)
    G, k, grids = SMALL["max_grid"], render_scale(SMALL["max_grid"], SMALL["max_grid"]), set()
    for seed in range(6):
        env.reset(seed=seed)
        grids.add(env.placing_grid)
        image = env.render()
        assert image is not None and image.shape == (G * k, G * k, 3)
    assert len(grids) == 2  # (both designs drawn)


def test_a_vector_env_of_several_designs_renders_and_collects_one_frame_shape() -> None:
    """SB3's DummyVecEnv.render() tiles its envs' frames into one array (it crashed on frames
    of two shapes: "inhomogeneous shape"), and the frames of episodes of two designs stack
    into one array, as a video recorder's writer needs (MoviePy refused two sizes)."""
    from gymnasium.wrappers import RenderCollection
    from stable_baselines3.common.env_util import make_vec_env

    import envs  # noqa: F401  (registers the ids)

    designs = [generate(4, 8, 4, seed=0), generate(12, 30, 10, seed=1)]
    settings = {**SMALL, "designs": designs, "render_mode": "rgb_array"}
    vec = make_vec_env("placer/MacroPlacement-v0", n_envs=2, seed=0, env_kwargs=settings)
    vec.reset()
    for index, env in enumerate(vec.envs):
        env.reset(seed=0, options={"design": index})
    assert [netlist.name for netlist in vec.get_attr("netlist")] == [d[0].name for d in designs]
    height, width, _ = vec.get_images()[0].shape
    tiled = vec.render()
    assert tiled is not None and tiled.shape[2] == 3 and tiled.size == 2 * height * width * 3  # (two frames tiled)
    vec.close()
    collected = RenderCollection(gym.make("placer/MacroPlacement-v0", **settings), pop_frames=False)
    for index in (0, 1):
        collected.reset(seed=0, options={"design": index})
        done = False
        while not done:
            _, _, done, _, _ = collected.step(int(np.flatnonzero(collected.unwrapped.action_masks())[0]))  # type: ignore[attr-defined]
    frames = collected.render()
    assert isinstance(frames, list) and len(frames) > 2
    assert np.stack(frames).shape == (len(frames), height, width, 3)


def test_render_through_gym_make_and_the_gymnasium_checker(design: tuple[Netlist, Placement]) -> None:
    """The registered env takes render_mode and renders through Gymnasium's wrappers and checker."""
    from gymnasium.utils.env_checker import check_env

    import envs  # noqa: F401  (registers the ids)

    env = gym.make("placer/MacroPlacement-v0", netlist=design, render_mode="rgb_array", **SMALL)
    env.reset(seed=0)
    cols, rows = env.unwrapped.prepared_designs[0].grid  # type: ignore[attr-defined]
    image = env.render()
    from envs.macro_placement import render_scale

    k = render_scale(rows, cols)
    assert isinstance(image, np.ndarray) and image.shape == (rows * k, cols * k, 3) and max(image.shape) >= 256
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(MacroPlacementEnv(design, render_mode="rgb_array", **SMALL))  # render checked too


@pytest.mark.parametrize("made", ["netlist", "pair with None", "triple"])
def test_a_generator_returning_no_pair_is_refused_in_words(design: tuple[Netlist, Placement], made: str) -> None:
    """A bare Netlist, (Netlist, None) or a triple failed inside the env in Python's words."""
    netlist, placement = design
    result = {"netlist": netlist, "pair with None": (netlist, None), "triple": (netlist, placement, 1)}[made]
    env = MacroPlacementEnv(generator=lambda rng: result, **SMALL)
    with pytest.raises(ValueError, match=r"generator= must return a \(Netlist, Placement\) pair, got"):
        env.reset(seed=0)


def test_a_pair_whose_placement_holds_lists_is_read_as_arrays(design: tuple[Netlist, Placement]) -> None:
    """Lists passed the length check and then failed deep in numpy ('only integer scalar
    arrays can be converted to a scalar index'); Placer.place reads them as arrays."""
    import dataclasses

    netlist, placement = design
    listed = dataclasses.replace(placement, x=placement.x.tolist(), y=placement.y.tolist(),
                                 orientation=placement.orientation.tolist())  # fmt: skip
    final_infos = []
    for pair in ((netlist, placement), (netlist, listed)):
        env = MacroPlacementEnv(netlist=pair)
        env.reset(seed=0)
        final_infos.append(finish_episode(env))
    assert final_infos[0] == final_infos[1]


def test_designs_too_large_for_the_settings_are_refused_together_asking_for_the_largest() -> None:
    """The first design too large was refused alone: a suite took five runs of `placer train`
    to learn the --max-nodes it needed (271, 290, 295, 301, then 786)."""
    from envs.macro_placement_checks import TooLargeForSettings

    designs = [generate(12, 4, 4, seed=1, name="twelve"), generate(4, 4, 4, seed=2, name="four"),
               generate(20, 4, 4, seed=3, name="twenty")]
    with pytest.raises(TooLargeForSettings) as refused:
        MacroPlacementEnv(designs=designs, max_nodes=8)
    assert (refused.value.setting, refused.value.needed) == ("max_nodes", 20)
    assert str(refused.value).startswith("2 designs are too large for the settings, the largest twenty: 20 hard")
    with pytest.raises(TooLargeForSettings, match=r"^twelve: 12 hard macros exceed max_nodes=8 \(pass max_nodes=12"):
        MacroPlacementEnv(designs=designs[:2], max_nodes=8)
