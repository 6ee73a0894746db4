"""MacroPlacementEnv: API checks, masks, wire mask, reward = exact cost, seeding."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest

from envs.macro_placement import MacroPlacementEnv
from envs.macro_placement_obs import DESIGN_CONSTANT_KEYS, GRID_CHANNELS
from netlists.generate import generate
from placer.algorithms.grid_state import SequentialGridState, auto_grid
from placer.algorithms.legality import check_legality
from placer.cost.context import cost_context
from placer.cost.proxy import evaluate

SMALL = {"max_grid": 32, "max_nodes": 16, "max_edges": 64, "soft_placement": "keep"}


@pytest.fixture(scope="module")
def design():
    return generate(6, 20, 12, seed=3)


def make(design, **kw) -> MacroPlacementEnv:
    return MacroPlacementEnv(design, **{**SMALL, **kw})


def random_episode(env: MacroPlacementEnv, seed: int) -> tuple[list[int], float, dict]:
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    actions, total, done, info = [], 0.0, False, {}
    while not done:
        mask = env.action_masks()
        a = int(rng.choice(np.flatnonzero(mask)))
        actions.append(a)
        _, r, done, _, info = env.step(a)
        total += r
    return actions, total, info


def test_gymnasium_and_sb3_checkers(design):
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(make(design), skip_render_check=True)
        sb3_check_env(make(design))


def test_checkers_pass_when_the_first_step_ends_the_episode():
    """One macro: the first step ends the episode and its info carries the placement, which
    compared by identity: check_env called the env nondeterministic."""
    from gymnasium.utils.env_checker import check_env

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(make(generate(1, 8, 4, seed=3)), skip_render_check=True)


def test_an_infeasible_end_marks_every_cell_illegal_in_the_wiremask_channel():
    """With no legal cell left the wire-mask channel was all 0 ("best everywhere") while the
    footprint and the current-macro flag were still set."""
    env = make(generate(12, 0, 4, seed=1, utilisation=0.95))
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        done, info = False, {}
        while not done:
            obs, _, done, _, info = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
        if "infeasible" in info:
            wiremask = obs["grid"][GRID_CHANNELS.index("wiremask")]
            assert obs["grid"][GRID_CHANNELS.index("legal")].max() == 0.0
            assert wiremask.min() == 1.0
            return
    pytest.fail("no random episode got stuck on this design: pick one where some does")


def test_registered_ids(design):
    import envs  # noqa: F401

    env = gym.make("placer/MacroPlacement-v0", netlist=design, **SMALL)
    env.reset(seed=0)
    env2 = gym.make("envs:placer/MacroPlacement-v0", netlist=design, **SMALL)
    assert env2.unwrapped.action_space.n == 32 * 32


def test_masks_never_allow_overlap_and_padding_is_masked(design):
    env = make(design)
    for seed in range(5):
        env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        done = False
        while not done:
            mask = env.action_masks().reshape(32, 32)
            st = env._state
            assert not mask[st.rows :, :].any() and not mask[:, st.cols :].any()
            _, _, done, _, info = env.step(int(rng.choice(np.flatnonzero(mask.ravel()))))
        assert "cost" in info
        assert check_legality(design[0], info["placement"]).legal


def test_every_legal_cell_is_legal_and_blocked_cells_overlap(design):
    netlist, placement = design
    state = SequentialGridState(netlist, placement, grid=auto_grid(netlist))
    rng = np.random.default_rng(0)
    while not state.done:
        mask = state.legal_mask()
        node = state.current
        w, h = netlist.width[node], netlist.height[node]
        placed = state.order[: state.n_placed]
        for r in range(state.rows):
            for c in range(state.cols):
                x, y = state.col_x[c], state.row_y[r]
                inside = x - w / 2 >= -1e-9 and x + w / 2 <= state.canvas.width + 1e-9 and y - h / 2 >= -1e-9 and y + h / 2 <= state.canvas.height + 1e-9
                ox = (w + netlist.width[placed]) / 2 - np.abs(state.placement.x[placed] - x)
                oy = (h + netlist.height[placed]) / 2 - np.abs(state.placement.y[placed] - y)
                overlap = bool(np.any((ox > 1e-6) & (oy > 1e-6)))
                if mask[r, c]:
                    assert inside and not overlap
                elif inside:
                    assert np.any((ox > -1e-6) & (oy > -1e-6))
        cells = np.argwhere(mask)
        state.place(*cells[rng.integers(len(cells))])


@pytest.mark.parametrize("soft_macros_placed", [False, True])
def test_wire_mask_equals_hpwl_increase_of_placed_pins(design, soft_macros_placed):
    netlist, placement = design
    ctx = cost_context(netlist)
    state = SequentialGridState(
        netlist, placement, soft_macros_placed=soft_macros_placed, grid=auto_grid(netlist)
    )
    anchors = (0, 2) if soft_macros_placed else (0,)  # PORT (and SOFT_MACRO)

    def placed_hpwl() -> float:
        placed = set(state.order[: state.n_placed].tolist())
        keep = np.array([netlist.node_type[a] in anchors or a in placed for a in ctx.entry_anchor])
        entries = np.flatnonzero(keep)
        x, y = ctx.entry_positions(state.placement, entries)
        nets = ctx.entry_net[entries]
        total = 0.0
        for k in np.unique(nets):
            m = nets == k
            total += ctx.net_weight[k] * (np.ptp(x[m]) + np.ptp(y[m]))
        return total

    rng = np.random.default_rng(1)
    while not state.done:
        wm = state.wire_mask()
        cells = np.argwhere(state.legal_mask())
        r, c = cells[rng.integers(len(cells))]
        before = placed_hpwl()
        state.place(r, c)
        assert placed_hpwl() - before == pytest.approx(wm[r, c], rel=1e-9, abs=1e-9)


def test_rudy_is_never_negative(design):
    netlist, placement = design
    state = SequentialGridState(netlist, placement, soft_macros_placed=True, grid=auto_grid(netlist))
    rng = np.random.default_rng(0)
    while not state.done:
        assert state.rudy().min() >= 0.0
        cells = np.argwhere(state.legal_mask())
        state.place(*cells[rng.integers(len(cells))])
    assert state.rudy().min() >= 0.0


def test_wire_mask_channel_counts_soft_macros_by_default(design):
    netlist, placement = design
    channels = {}
    for soft in (True, False):
        env = make(design, soft_macros_placed=soft, density_weight=0.0)
        obs, _ = env.reset(seed=0)
        channels[soft] = obs["grid"][2]
    state = SequentialGridState(netlist, placement, soft_macros_placed=True, grid=auto_grid(netlist))
    mask = state.legal_mask()
    wm = state.wire_mask()
    lo, hi = wm[mask].min(), wm[mask].max()
    R, C = mask.shape
    expected = np.where(mask, (wm - lo) / (hi - lo), 1.0)
    np.testing.assert_allclose(channels[True][:R, :C], expected, atol=1e-6)
    assert not np.allclose(channels[True], channels[False])


def test_reward_equals_exact_cost_of_final_placement(design):
    env = make(design)
    _, total, info = random_episode(env, 0)
    cost = evaluate(design[0], info["placement"])
    assert total == pytest.approx(-cost.proxy, rel=1e-12)
    assert info["cost"]["proxy"] == pytest.approx(cost.proxy, rel=1e-12)
    env2 = make(design, w_wl=2.0, w_den=0.0, w_cong=1.0)
    _, total2, info2 = random_episode(env2, 0)
    c2 = evaluate(design[0], info2["placement"])
    assert total2 == pytest.approx(-(2 * c2.wirelength + c2.congestion), rel=1e-12)


def test_dense_shaping_adds_wiremask_terms(design):
    env = make(design, dense_shaping=True)
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    mask = env.action_masks()
    a = int(rng.choice(np.flatnonzero(mask)))
    r, c = divmod(a, 32)
    expected = -env._wiremask[r, c] / env._static.wl_norm
    _, reward, _, _, _ = env.step(a)
    assert reward == pytest.approx(expected)


def test_seeding_is_reproducible(design):
    a1, t1, _ = random_episode(make(design), 7)
    a2, t2, _ = random_episode(make(design), 7)
    assert a1 == a2 and t1 == t2
    envs_ = [MacroPlacementEnv(designs=[design, generate(5, 10, 8, seed=9)], **SMALL) for _ in range(2)]
    names = [[e.reset(seed=s)[1]["design"] for s in range(6)] for e in envs_]
    assert names[0] == names[1] and len(set(names[0])) == 2


def test_observation_is_inside_space_and_wiremask_ablation(design):
    env = make(design)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert obs["grid"][2].max() > 0
    obs2, _ = make(design, use_wiremask=False).reset(seed=0)
    assert obs2["grid"][2].max() == 0


def test_infeasible_episode_ends_with_penalty():
    netlist, placement = generate(8, 4, 4, seed=0)  # 8 macros, 4 cells: cannot all fit
    env = MacroPlacementEnv((netlist, placement), max_grid=8, max_nodes=8, max_edges=16, grid=(2, 2), soft_placement="keep")
    env.reset(seed=0)
    done, info, reward = False, {}, 0.0
    while not done:
        _, reward, done, _, info = env.step(int(np.flatnonzero(env.action_masks())[0]))
    assert info["infeasible"] in netlist.names and info["unplaced"] > 0
    assert env.action_masks().any()  # the terminal mask stays a valid distribution
    assert "placement" not in info and "cost" not in info  # no placement to keep
    # the penalty sits on the design's own cost scale: the cost of the placement reached, the
    # unplaced macros at the canvas centre (a flat 2-4 paid getting stuck on costly designs)
    reached = env._state.placement.copy()
    rest = env._state.order[env._state.step_index:]
    canvas = netlist.require_canvas()
    reached.x[rest], reached.y[rest] = canvas.width / 2, canvas.height / 2
    assert info["partial_cost"] == pytest.approx(evaluate(netlist, reached).proxy, rel=1e-12)
    n = env._state.order.size
    expected = -(info["partial_cost"] + env.infeasible_penalty * (1 + info["unplaced"] / n))
    assert reward == pytest.approx(expected, rel=1e-12)


def test_generator_source():
    env = MacroPlacementEnv(generator=lambda rng: generate(4, 8, 6, seed=int(rng.integers(100))), **SMALL)
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs) and info["design"].startswith("synthetic")


def test_write_plc(design, tmp_path):
    """The written .plc is the episode's placement: read back, it scores what info said."""
    from netlists.formats.plc import read_plc
    from placer.cost.proxy import evaluate

    env = make(design)
    _, _, info = random_episode(env, 0)
    path = env.write_plc(tmp_path / "out.plc")
    _, placement, _ = read_plc(path, env.netlist)
    assert evaluate(env.netlist, placement).proxy == info["cost"]["proxy"]


def test_write_plc_after_the_next_reset_writes_the_finished_episode(design, tmp_path):
    """Vector envs reset on their own: the finished placement must survive the reset, written
    against its own design (the next episode's may be another one)."""
    from netlists.formats.plc import read_plc

    other = generate(3, 10, 6, seed=8)
    env = MacroPlacementEnv(designs=[design, other], **SMALL)
    _, _, info = random_episode(env, 0)
    finished = env.last_info["placement"]
    for seed in range(1, 6):  # draw other designs too
        env.reset(seed=seed)
        path = env.write_plc(tmp_path / f"after_reset_{seed}.plc")
        _, back, _ = read_plc(path, design[0] if info["design"] == design[0].name else other[0])
        np.testing.assert_allclose(back.x, finished.x, atol=1e-6)
    with pytest.raises(RuntimeError, match="no complete episode"):
        make(design).write_plc(tmp_path / "none.plc")


def test_designs_of_the_wrong_form_are_one_line_errors(design):
    netlist, placement = design
    env = MacroPlacementEnv(designs=(netlist, placement), **SMALL)  # one design as a pair
    assert len(env.prepared_designs) == 1
    for bad in ((placement, netlist), [123], [None]):
        with pytest.raises(ValueError, match="a design must be a Netlist"):
            MacroPlacementEnv(designs=bad, **SMALL)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="designs= must be a list"):
        MacroPlacementEnv(designs=5, **SMALL)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="generator= must be a function"):
        MacroPlacementEnv(generator=5, **SMALL)  # type: ignore[arg-type]


def test_reset_option_design_picks_a_design_and_others_are_refused(design):
    other = generate(3, 10, 6, seed=8)
    env = MacroPlacementEnv(designs=[design, other], **SMALL)
    for index, (netlist, _) in enumerate((design, other)):
        for seed in range(4):
            _, info = env.reset(seed=seed, options={"design": index})
            assert info["design"] == netlist.name
    for options, message in (({"design": 2}, r"index in \[0, 2\)"), ({"desing": 0}, "unknown reset options")):
        with pytest.raises(ValueError, match=message):
            env.reset(seed=0, options=options)
    generated = MacroPlacementEnv(generator=lambda rng: other, **SMALL)
    with pytest.raises(ValueError, match="needs designs="):
        generated.reset(seed=0, options={"design": 0})
    env.reset(seed=0, options={})  # empty options, as vector envs pass them


def test_density_mask_sums_the_soft_density_under_each_footprint(design):
    from placer.cost.density import density_grid

    netlist, placement = design
    state = SequentialGridState(netlist, placement, grid=auto_grid(netlist))
    c = netlist.require_canvas()
    soft = netlist.soft_macros
    dens = density_grid(c, placement.x[soft], placement.y[soft], netlist.width[soft], netlist.height[soft])
    node = state.current
    w, h = netlist.width[node], netlist.height[node]
    got = state.density_mask()
    cw, ch = c.width / c.cols, c.height / c.rows
    rng = np.random.default_rng(1)
    for r, col in zip(rng.integers(state.rows, size=12), rng.integers(state.cols, size=12), strict=True):
        x, y = state.col_x[col], state.row_y[r]
        # canvas-grid cells whose rectangle overlaps the footprint (clamped to the canvas)
        xs = np.arange(c.cols)
        ys = np.arange(c.rows)
        cols_hit = xs[((xs + 1) * cw > max(x - w / 2, 0)) & (xs * cw < min(x + w / 2, c.width))]
        rows_hit = ys[((ys + 1) * ch > max(y - h / 2, 0)) & (ys * ch < min(y + h / 2, c.height))]
        assert got[r, col] == pytest.approx(dens[np.ix_(rows_hit, cols_hit)].sum(), abs=1e-9)


def test_cost_mask_picks_the_greedy_placers_first_cell():
    """The wire-mask channel with ``density_weight`` is ``greedy``'s score: on the canvas grid its
    best cell for the first macro is where ``greedy`` puts that macro."""
    from placer.algorithms.greedy import Greedy

    netlist, placement = generate(8, 60, 16, seed=5)
    greedy_out = Greedy(fd=False).run(netlist, placement.copy(), 10.0, 0, lambda _p: None)
    hard = netlist.hard_macros
    first = hard[np.lexsort((hard, -(netlist.width[hard] * netlist.height[hard])))][0]
    state = SequentialGridState(netlist, placement, soft_macros_placed=True)
    score = np.where(state.legal_mask(first), state.cost_mask(0.05, node=first), np.inf)
    r, col = np.unravel_index(int(np.argmin(score)), score.shape)
    assert (state.col_x[col], state.row_y[r]) == pytest.approx((greedy_out.x[first], greedy_out.y[first]))
    assert not np.allclose(state.cost_mask(0.05, node=first), state.cost_mask(0.0, node=first))


def test_auto_grid_packs_every_ariane133_macro():
    """With the placing grid at three cells per short macro side, the greedy (argmin of the
    wire-mask channel) episode on the real ariane133 finds a legal cell for all 133 SRAMs."""
    from netlists.designs import load_builtin

    env = MacroPlacementEnv(load_builtin("ariane133"), soft_placement="keep")
    obs, _ = env.reset(seed=0)
    done, info = False, {}
    while not done:
        score = np.where(env.action_masks(), obs["grid"][2].ravel(), np.inf)
        obs, _, done, _, info = env.step(int(np.argmin(score)))
    assert "infeasible" not in info and "cost" in info
    netlist, p = env.netlist, info["placement"]
    hard, c = netlist.hard_macros, netlist.require_canvas()
    assert np.all(p.x[hard] - netlist.width[hard] / 2 >= -1e-6) and np.all(p.x[hard] + netlist.width[hard] / 2 <= c.width + 1e-6)
    assert np.all(p.y[hard] - netlist.height[hard] / 2 >= -1e-6) and np.all(p.y[hard] + netlist.height[hard] / 2 <= c.height + 1e-6)
    assert check_legality(netlist, p).overlapping_pairs == 0


def test_actions_outside_the_space_are_refused_and_episodes_end_for_good(design):
    env = make(design)
    env.reset(seed=0)
    G = env.max_grid
    for bad in (-1, G * G, 2.5, "3"):
        with pytest.raises(ValueError, match=rf"whole number in \[0, {G * G}\)"):
            env.step(bad)
    assert env.step(np.array([int(np.flatnonzero(env.action_masks())[0])]))[4]["cell"]
    done = False
    while not done:
        _, _, done, _, _ = env.step(int(np.flatnonzero(env.action_masks())[0]))
    assert env.action_masks().sum() == 1  # nothing left: only the placeholder action
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    netlist, placement = generate(8, 4, 4, seed=0)  # an infeasible ending is an ending too
    tight = MacroPlacementEnv((netlist, placement), max_grid=8, max_nodes=8, max_edges=16,
                              grid=(2, 2), soft_placement="keep")  # fmt: skip
    tight.reset(seed=0)
    info: dict = {}
    while "infeasible" not in info:
        info = tight.step(int(np.flatnonzero(tight.action_masks())[0]))[4]
    with pytest.raises(RuntimeError, match="reset"):
        tight.step(0)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"max_grid": 0}, "max_grid must be a whole number >= 1"),
        ({"max_edges": -2}, "max_edges must be"),
        ({"max_edges": 0}, "max_edges must be a whole number >= 2"),  # a policy could not place
        ({"grid": (0, 0)}, "grid must be"),
        ({"grid": "bogus"}, "grid must be"),
        ({"w_wl": float("nan")}, "w_wl must be a finite number"),
        ({"w_den": None}, "w_den must be a finite number"),
        ({"fd_iterations": -1}, "fd_iterations must be None or"),
        ({"dense_shaping": "no"}, "dense_shaping must be True or False"),
        ({"infeasible_penalty": -1.0}, "infeasible_penalty must be >= 0"),  # (rewarded getting stuck)
        ({"w_timing": -5.0}, "w_timing must be from 0 to 1e"),  # worse timing earned +5.8
        ({"density_weight": 1e308}, "density_weight must be from 0 to 1e"),  # NaN in the grid channel
        ({"timing_metric": "mean"}, "timing_metric must be one of 'worst', 'tail'"),
    ],
)
def test_bad_settings_are_refused_at_construction(setting, message):
    with pytest.raises(ValueError, match=message):
        MacroPlacementEnv(**setting)


def test_a_macro_nearly_as_wide_as_the_canvas_gets_a_grid_it_fits():
    netlist, placement = generate(1, 0, 4, seed=1)  # one 29.29-wide macro on a 30.31 canvas
    cols, rows = auto_grid(netlist, 64)
    assert cols % 2 == 1  # an odd count puts a cell centre in the middle
    env = MacroPlacementEnv((netlist, placement), max_grid=16, max_nodes=4, max_edges=8, soft_placement="keep")
    env.reset(seed=0)
    _, _, terminated, _, info = env.step(int(np.flatnonzero(env.action_masks())[0]))
    assert terminated and "cost" in info


def test_fixed_hard_macros_stay_put_as_obstacles_and_placed_pins():
    netlist, placement = generate(8, 20, 8, seed=3)
    hard = netlist.hard_macros
    placement.fixed[hard[:3]] = True
    env = MacroPlacementEnv((netlist, placement), max_grid=32, max_nodes=16, max_edges=64,
                            soft_placement="keep")  # fmt: skip
    obs, _ = env.reset(seed=0)
    assert obs["graph_nodes"][:, 4].sum() == 3  # the fixed ones count as placed from the start
    steps, done, info = 0, False, {}
    while not done:
        _, _, done, _, info = env.step(int(np.flatnonzero(env.action_masks())[0]))
        steps += 1
    assert steps == 5 and "cost" in info  # only the movable macros are placed
    final = info["placement"]
    np.testing.assert_array_equal(final.x[hard[:3]], placement.x[hard[:3]])
    assert check_legality(netlist, final).legal  # nothing was put on top of them
    placement.fixed[hard] = True
    with pytest.raises(ValueError, match="every hard macro is fixed"):
        MacroPlacementEnv((netlist, placement), max_grid=32, max_nodes=16, max_edges=64)


def test_zero_weight_nets_give_finite_graph_weights():
    """The format allows weight 0; the edge weights were divided by their maximum, 0 / 0."""
    from netlists.builder import NetlistBuilder
    from netlists.model import Canvas, NodeType

    b = NetlistBuilder("zero-weight")
    for name, x in (("A", 20.0), ("B", 60.0)):
        b.add_node(name, NodeType.HARD_MACRO, width=10, height=10, x=x, y=50)
    driver = b.add_node("A/P0", NodeType.HARD_PIN, macro_name="A", weight=0.0)
    sink = b.add_node("B/P0", NodeType.HARD_PIN, macro_name="B")
    b.add_net(driver, [sink])
    netlist = b.build(Canvas(100, 100, 10, 10))
    env = MacroPlacementEnv(netlist, soft_placement="keep")
    obs, _ = env.reset(seed=0)
    assert np.all(np.isfinite(obs["graph_edge_weight"])) and env.observation_space.contains(obs)


@pytest.mark.parametrize("fixed_big", [False, True])
def test_zero_size_hard_macros_give_episodes_with_finite_observations(fixed_big) -> None:  # type: ignore[no-untyped-def]
    """The format allows hard macros of width or height 0: auto_grid divided by their median
    size (ZeroDivisionError) and the macro features by their total area (NaN)."""
    import dataclasses

    netlist, placement = generate(4, 8, 4, seed=5)
    hard = netlist.hard_macros
    width, height = netlist.width.copy(), netlist.height.copy()
    width[hard[:3]] = 0.0  # three of four: the median size is 0
    if fixed_big:  # the only macro with area is fixed: every movable one has none
        placement.fixed[hard[3]] = True
    else:
        height[hard[3]] = 0.0
    netlist = dataclasses.replace(netlist, width=width, height=height)
    grid = auto_grid(netlist, 16)
    assert 1 <= min(grid) and max(grid) <= 16
    env = MacroPlacementEnv((netlist, placement), max_grid=16, max_nodes=8, max_edges=32)
    obs, _ = env.reset(seed=0)
    done = False
    while not done:
        assert env.observation_space.contains(obs)
        assert all(np.isfinite(v).all() for v in obs.values())
        obs, _, done, _, _ = env.step(int(np.flatnonzero(env.action_masks())[0]))


def test_a_design_that_can_never_start_an_episode_is_refused_at_construction() -> None:
    """A fixed macro covering the canvas leaves the others no cell: with several designs, such
    a one used to surface only at the reset that drew it, deep into a training run."""
    import dataclasses

    from envs.macro_placement_checks import NothingToPlace

    good = generate(4, 8, 4, seed=5)
    netlist, placement = generate(4, 8, 4, seed=6, name="blocked")
    c = netlist.require_canvas()
    wall = netlist.hard_macros[0]
    width, height = netlist.width.copy(), netlist.height.copy()
    width[wall], height[wall] = c.width, c.height
    placement.x[wall], placement.y[wall], placement.fixed[wall] = c.width / 2, c.height / 2, True
    blocked = (dataclasses.replace(netlist, width=width, height=height), placement)
    with pytest.raises(NothingToPlace, match=r"blocked: macro .* fits at none of the \d+ x \d+ placing grid's cell centres, beside the 1 fixed hard macro\(s\)"):
        MacroPlacementEnv(designs=[good, blocked], max_grid=16, max_nodes=8, max_edges=32)


def test_timing_is_none_in_the_info_unless_it_weighs_something() -> None:  # type: ignore[no-untyped-def]
    """0.0 read as a perfect timing; it was only not computed."""
    design = generate(4, 8, 4, seed=5)
    for weight, computed in ((0.0, False), (0.1, True)):
        env = MacroPlacementEnv(design, max_grid=16, max_nodes=8, max_edges=32, w_timing=weight)
        env.reset(seed=0)
        done, info = False, {}
        while not done:
            _, _, done, _, info = env.step(int(np.flatnonzero(env.action_masks())[0]))
        assert (info["cost"]["timing"] is not None) == computed


@pytest.mark.parametrize("metric", ["worst", "tail"])
def test_the_reward_weighs_the_timing_figure_asked_for(metric: str) -> None:
    from placer.cost.timing import timing_cost

    design = generate(4, 8, 4, seed=5)
    env = MacroPlacementEnv(design, max_grid=16, max_nodes=8, max_edges=32, w_timing=2.0,
                            timing_metric=metric, soft_placement="keep")
    env.reset(seed=0)
    done, reward, info = False, 0.0, {}
    while not done:
        _, reward, done, _, info = env.step(int(np.flatnonzero(env.action_masks())[0]))
    netlist, placement = design[0], info["placement"]
    figure = getattr(timing_cost(netlist, placement), metric)
    cost = evaluate(netlist, placement)
    assert info["cost"]["timing"] == figure
    assert reward == pytest.approx(-(cost.wirelength + 0.5 * cost.density + 0.5 * cost.congestion + 2.0 * figure), rel=1e-12)


def test_an_env_restored_from_before_the_timing_metric_weighs_the_worst_path() -> None:
    """A training run's saved state pickles its envs: one saved before timing_metric existed
    has no such attribute, and its resume crashed (AttributeError) on the first timing-weighted
    episode, every time."""
    import pickle

    from placer.cost.timing import timing_cost

    design = generate(4, 8, 4, seed=5)
    env = MacroPlacementEnv(design, max_grid=16, max_nodes=8, max_edges=32, w_timing=1.0, soft_placement="keep")
    del env.__dict__["timing_metric"]  # as an env pickled by an older version
    restored = pickle.loads(pickle.dumps(env))
    restored.reset(seed=0)
    done, info = False, {}
    while not done:
        _, _, done, _, info = restored.step(int(np.flatnonzero(restored.action_masks())[0]))
    assert info["cost"]["timing"] == timing_cost(design[0], info["placement"]).worst


def test_a_later_macro_that_fits_nowhere_is_found_at_construction() -> None:
    """Only the first macro of the order was checked: a later one too wide for the canvas made
    every episode end infeasible."""
    import dataclasses

    from envs.macro_placement_checks import NothingToPlace

    netlist, placement = generate(6, 12, 6, seed=0, name="wide")
    c = netlist.require_canvas()
    hard = netlist.hard_macros
    smallest = hard[np.argmin(netlist.width[hard] * netlist.height[hard])]  # placed last by area
    width, height = netlist.width.copy(), netlist.height.copy()
    area = width[smallest] * height[smallest]
    width[smallest] = 1.2 * c.width  # too wide, and thin: still the smallest area, placed last
    height[smallest] = 0.5 * area / width[smallest]
    wide = (dataclasses.replace(netlist, width=width, height=height), placement)
    with pytest.raises(NothingToPlace, match=r"wide: macro .* is larger than the canvas"):
        MacroPlacementEnv(wide, max_grid=16, max_nodes=8, max_edges=32)


def test_hard_macros_covering_more_than_the_canvas_are_refused_at_construction() -> None:
    """Each macro fitted a cell of the empty grid, so a design whose hard macros cover 104 % of
    the canvas was taken: placer train ran and ended "the policy leaves some macro no legal
    cell: train longer", where placer place refuses it at once."""
    import dataclasses

    from envs.macro_placement_checks import NothingToPlace
    from placer.algorithms.legality import hard_area_share

    netlist, placement = generate(4, 8, 6, seed=2, name="crowded")
    hard = netlist.hard_macros
    scale = np.sqrt(1.04 / hard_area_share(netlist))
    width, height = netlist.width.copy(), netlist.height.copy()
    width[hard] *= scale
    height[hard] *= scale
    crowded = dataclasses.replace(netlist, width=width, height=height)
    c = crowded.require_canvas()
    assert np.all(width[hard] < c.width) and np.all(height[hard] < c.height)  # each one fits
    with pytest.raises(NothingToPlace, match=r"^crowded: the hard macros cover 104% of the canvas: no legal "
                                             r"placement fits them$"):
        MacroPlacementEnv((crowded, placement), max_grid=16, max_nodes=8, max_edges=32)
    width[hard] /= scale * 1.05  # (covering 94 %: taken)
    height[hard] /= scale * 1.05
    MacroPlacementEnv((dataclasses.replace(netlist, width=width, height=height), placement),
                      max_grid=16, max_nodes=8, max_edges=32)


def test_a_reset_whose_first_macro_fits_nowhere_names_it_and_leaves_no_episode(monkeypatch) -> None:
    """reset()'s own check (behind the constructor's, which refuses such a design first: it is
    reached only if the grid state changes under a built env, simulated here by a legal mask
    with no cell): NothingToPlace names the design and the first macro of the order with why,
    and the env keeps no episode, so step() asks for a reset rather than stepping the old one."""
    from envs.macro_placement_checks import NothingToPlace

    env = MacroPlacementEnv(generate(4, 8, 4, seed=5, name="late"), max_grid=16, max_nodes=8, max_edges=32)
    env.reset(seed=0)  # an episode under way
    static = env.prepared_designs[0]
    first = static.netlist.names[int(static.order[0])]
    cols, rows = static.grid
    monkeypatch.setattr(SequentialGridState, "legal_mask", lambda self, node=None: np.zeros((self.rows, self.cols), bool))
    with pytest.raises(NothingToPlace) as info:
        env.reset(seed=0)
    assert str(info.value) == (
        f"late: macro {first} fits at none of the {cols} x {rows} placing grid's cell centres on the "
        "empty canvas (a finer grid, max_grid, may have one)"
    )
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        env.step(0)


def test_a_non_finite_kept_position_is_refused_at_construction() -> None:
    netlist, placement = generate(6, 12, 6, seed=0)
    bad = placement.copy()
    bad.x[netlist.soft_macros[0]] = np.nan  # soft macros are kept: NaN observations followed
    with pytest.raises(ValueError, match="has a non-finite position"):
        MacroPlacementEnv((netlist, bad), max_grid=16, max_nodes=8, max_edges=32)
    ignored = placement.copy()
    ignored.x[netlist.hard_macros[0]] = np.nan  # a movable hard macro's is never read
    MacroPlacementEnv((netlist, ignored), max_grid=16, max_nodes=8, max_edges=32).reset(seed=0)


def test_a_placement_of_another_design_or_a_bad_orientation_is_refused_at_construction(design) -> None:
    """It used to run whole episodes on wrong positions and fail at the last step (or raise a
    bare IndexError), and an orientation of -1 was read as 7 by the wire mask."""
    netlist, placement = design
    longer, _ = generate(12, 30, 12, seed=4)
    with pytest.raises(ValueError, match="a placement of another design"):
        make((netlist, longer.initial_placement()))
    with pytest.raises(ValueError, match="a placement of another design"):
        make((longer, placement))
    for code in (-1, 8):
        turned = placement.copy()
        turned.orientation[netlist.hard_macros[0]] = code
        with pytest.raises(ValueError, match=f"orientation code {code}; codes are whole numbers 0-7"):
            make((netlist, turned))


def test_the_wiremask_channel_reads_illegal_on_the_padding_too(design) -> None:
    env = make(design)
    obs, _ = env.reset(seed=0)
    wiremask = obs["grid"][2]
    rows, cols = env._state.rows, env._state.cols
    assert rows < env.max_grid  # the case at hand: there is padding
    padding = np.ones_like(wiremask, dtype=bool)
    padding[:rows, :cols] = False
    assert (wiremask[padding] == 1.0).all()
    assert wiremask[env.action_masks().reshape(wiremask.shape)].min() == 0.0  # the best legal cell


def test_one_design_path_a_grid_array_and_a_bad_order_are_taken_or_refused_as_meant(tmp_path) -> None:
    from netlists.formats.circuit_training import write_netlist
    from netlists.formats.plc import write_plc

    netlist, placement = generate(4, 8, 6, seed=2)
    write_netlist(netlist, tmp_path / "netlist.pb.txt")
    write_plc(tmp_path / "initial.plc", netlist, placement)
    env = MacroPlacementEnv(designs=str(tmp_path / "netlist.pb.txt"), **SMALL)  # not its characters
    assert env.prepared_designs[0].netlist.n_nodes == netlist.n_nodes
    env = MacroPlacementEnv(netlist, grid=np.array([8, 8]), **SMALL)
    assert env.prepared_designs[0].grid == (8, 8)
    with pytest.raises(ValueError, match="order must be one of 'area', 'degree', 'file', got 'Area'"):
        MacroPlacementEnv(generator=lambda rng: generate(4, 8, 6, seed=2), order="Area", **SMALL)


def test_a_boolean_action_is_refused_and_the_info_is_the_callers_own(design) -> None:
    env = make(design)
    env.reset(seed=0)
    for action in (True, np.True_):
        with pytest.raises(ValueError, match="action must be a whole number"):
            env.step(action)
    _, _, _, _, info = env.step(int(np.flatnonzero(env.action_masks())[0]))
    info["cell"] = "changed by the caller"
    assert env.last_info["cell"] != "changed by the caller"


def test_a_failed_reset_leaves_no_old_episode_to_step() -> None:
    calls = []

    def generator(rng):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("the design source failed")
        return generate(4, 8, 6, seed=2)

    env = MacroPlacementEnv(generator=generator, **SMALL)
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match="the design source failed"):
        env.reset(seed=1)
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        env.step(0)


def test_the_final_info_names_the_objective_the_reward_is_minus_of():
    netlist, placement = generate(3, 6, 4, seed=1)
    env = MacroPlacementEnv((netlist, placement), max_grid=16, max_nodes=4, max_edges=8,
                            soft_placement="keep", w_timing=1.0, w_cong=0.25)
    env.reset(seed=0)
    done, reward, info = False, 0.0, {}
    while not done:
        _, reward, terminated, truncated, info = env.step(int(np.flatnonzero(env.action_masks())[0]))
        done = terminated or truncated
    cost = info["cost"]
    assert cost["objective"] == -reward
    expected = cost["wirelength"] + 0.5 * cost["density"] + 0.25 * cost["congestion"] + cost["timing"]
    assert cost["objective"] == pytest.approx(expected, rel=1e-12)


def test_the_episodes_result_is_kept_apart_from_its_info_and_masks_need_a_reset(design, tmp_path):
    """A caller legalising info["placement"] in place changed what write_plc wrote as the
    episode's result; action_masks() before reset marked action 0 legal, which step refused."""
    from netlists.formats.plc import read_plc

    env = make(design)
    with pytest.raises(RuntimeError, match="reset"):
        env.action_masks()
    _, _, info = random_episode(env, seed=0)
    result = info["placement"].copy()
    info["placement"].x[:] = 0.0  # the caller's own use of it
    env.write_plc(tmp_path / "r.plc")
    netlist = design[0]
    _, written, _ = read_plc(tmp_path / "r.plc", netlist)
    assert np.allclose(written.x[netlist.hard_macros], result.x[netlist.hard_macros])


def test_a_design_with_more_hard_macros_than_max_nodes_says_what_to_pass(design):
    netlist = design[0]
    with pytest.raises(ValueError, match=f"pass max_nodes={netlist.hard_macros.size} or more"):
        make(design, max_nodes=netlist.hard_macros.size - 1).reset(seed=0)


def test_the_placing_grid_and_a_cells_position_are_public() -> None:
    """An outside agent mapping actions to coordinates had to read the private state or call
    auto_grid itself."""
    env = MacroPlacementEnv(max_grid=16)
    with pytest.raises(RuntimeError, match="reset"):
        _ = env.placing_grid
    obs, _ = env.reset(seed=0)
    cols, rows = env.placing_grid
    assert (cols, rows) == tuple(np.rint(obs["design"][4:6] * env.max_grid).astype(int))
    action = int(np.flatnonzero(env.action_masks())[0])
    node = env._state.current
    x, y = env.cell_centre(action)
    env.step(action)
    assert (env._state.placement.x[node], env._state.placement.y[node]) == (x, y)
    with pytest.raises(ValueError, match="no cell of the"):
        env.cell_centre(env.max_grid * env.max_grid)  # past the last row
    assert env.cell_centre(np.array([action])) == env.cell_centre(action)  # as step() takes it
    for bad in (action + 0.7, True, str(action)):
        with pytest.raises(ValueError, match="whole number"):
            env.cell_centre(bad)


def test_the_names_split_out_of_the_env_module_are_still_its_public_names() -> None:
    """``envs.macro_placement`` is the env's public home (and the registered entry point): the
    public names that moved into its sibling modules are the same objects there, and so is
    ``_DesignStatic``, the class training states pickled before the split refer to."""
    import envs.macro_placement as home
    from envs import (
        macro_placement_checks,
        macro_placement_designs,
        macro_placement_obs,
        macro_placement_reward,
    )

    assert set(home.__all__) <= set(vars(home))
    for module in (macro_placement_checks, macro_placement_designs, macro_placement_obs, macro_placement_reward):
        for name in set(home.__all__) & set(vars(module)):
            assert getattr(home, name) is getattr(module, name), name
    assert home._DesignStatic is macro_placement_designs.DesignStatic
    assert {"MacroPlacementEnv", "NothingToPlace", "TooLargeForSettings", "GRID_CHANNELS"} <= set(home.__all__)


def test_the_envs_constant_keys_are_constant_over_a_designs_episodes() -> None:
    """What placer.rl.buffer relies on: every step of every episode of a design observes the same
    arrays under :data:`DESIGN_CONSTANT_KEYS`, and two designs differ in them."""
    designs = [generate(4, 8, 6, seed=2), generate(6, 10, 8, seed=5)]
    env = MacroPlacementEnv(designs=designs, max_grid=16, max_nodes=8, max_edges=32, soft_placement="keep")
    seen: dict[int, list[bytes]] = {}
    for episode in range(4):
        obs, _ = env.reset(seed=episode, options={"design": episode % 2})
        first = {key: obs[key].tobytes() for key in DESIGN_CONSTANT_KEYS}
        seen.setdefault(episode % 2, []).append(b"".join(first.values()))
        done = False
        while not done:
            action = int(np.flatnonzero(env.action_masks())[0])
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
            assert {key: obs[key].tobytes() for key in DESIGN_CONSTANT_KEYS} == first
    assert len(seen) == 2 and all(len(set(values)) == 1 for values in seen.values())
    assert len({values[0] for values in seen.values()}) == 2
