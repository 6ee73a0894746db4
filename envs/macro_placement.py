"""``placer/MacroPlacement-v0``: place the hard macros of a netlist one by one onto grid cells.

A thin Gymnasium adapter over :class:`placer.algorithms.grid_state.SequentialGridState`
(masks, wire mask, maps) and :mod:`placer.cost` (the exact reward); no cost or search logic
lives here. This module holds the env class and is the public home of its names; the jobs it
delegates sit beside it: :mod:`envs.macro_placement_designs` (design forms and the static
per-design data), :mod:`envs.macro_placement_checks` (settings checks and the errors),
:mod:`envs.macro_placement_obs` (spaces and observation encoding) and
:mod:`envs.macro_placement_reward` (rewards).

Episode: the movable hard macros are placed in a fixed order (decreasing area by default,
``order=``), one per step (fixed ones stay where they are and take no step). The action is a
cell index ``row * max_grid + col`` of a ``max_grid x max_grid`` grid (default 64 x 64, enough for every ICCAD04 design: their canvas
grids have at most 57 columns (ibm15) and 48 rows (ibm16)); the design's own placing grid (:func:`~placer.algorithms.grid_state.auto_grid`) sits in the lower-left
corner (:attr:`MacroPlacementEnv.placing_grid` gives its columns and rows and
:meth:`MacroPlacementEnv.cell_centre` a cell's position) and the padding is always masked.
:meth:`MacroPlacementEnv.action_masks` marks the cells
where the current macro, centred on the cell, lies inside the canvas and overlaps no placed
macro, so the env never reaches an overlapping state: an action outside the mask (only
unmasked samplers send one) is moved to the nearest legal cell and reported as
``info["illegal_action"]``; ``info["cell"]`` is the ``(row, col)`` each step used.

Observation (``Dict``, fixed shapes):

* ``grid`` ``(7, G, G)`` float32 in [0, 1], channels :data:`~envs.macro_placement_obs.GRID_CHANNELS`: placed-macro
  occupancy, the current macro's footprint (drawn at the lower-left corner), the wire mask
  (HPWL increase of the current macro per cell towards the pins already known: ports, soft
  macros where the given placement has them, placed hard macros; plus ``density_weight`` x
  the soft-macro density the macro would cover, i.e. the ``greedy`` placer's cell score
  (:meth:`~placer.algorithms.grid_state.SequentialGridState.cost_mask`); min-max normalised
  over legal cells, 1 on illegal cells; zeros when ``use_wiremask=False``), the legal mask, a
  RUDY congestion estimate (divided by its maximum), the design's extent inside the padded
  grid, and a density estimate: the soft-macro density of the whole density-grid cells the
  current macro's footprint touches, centred at each cell, over the footprint's area in cells
  (an upper estimate of the mean density under it: partly covered boundary cells count whole,
  so it reads high where the footprint is small against the cells; clipped to [0, 1]);
* ``macro`` ``(8,)``: current macro width, height (canvas fractions), area share, distinct
  nets / max over macros, episode progress, area still to place, footprint width and height
  in grid cells / G (two values);
* ``design`` ``(8,)``: hard macros / ``max_nodes``, soft macros, ports and nets (log-scaled),
  grid cols and rows / G, aspect ratio, hard-macro utilisation;
* ``graph_nodes`` ``(max_nodes, 8)``: per hard macro [valid, w, h, degree, placed, x, y,
  is current]; ``graph_edges`` ``(2, max_edges)`` int64 and ``graph_edge_weight``
  ``(max_edges,)``: the clique-expanded macro graph (both directions, heaviest edges kept,
  padding has weight 0). ``design`` and the graph's two keys are the same at every step of a
  design's episodes (:data:`~envs.macro_placement_obs.DESIGN_CONSTANT_KEYS`).

Reward: at the last step, the soft macros are placed by the force-directed placer
(:func:`~placer.algorithms.fd.place_soft_macros_or_keep`) and the reward is
``-(w_wl * wirelength + w_den * density + w_cong * congestion + w_timing * timing)`` from
:func:`placer.cost.proxy.evaluate` (and :func:`placer.cost.timing.timing_cost`'s ``worst``, or
its ``tail`` with ``timing_metric="tail"``, computed only when ``w_timing`` is not 0:
``info["cost"]["timing"]`` is None otherwise).
Defaults 1 / 0.5 / 0.5 / 0: minus the proxy cost. With ``dense_shaping=True`` every step also
gets ``-w_wl * wire-mask increase / ((W + H) * net_cnt)`` (the step's share of the wirelength
term over placed pins). If the next macro has no legal cell, the episode ends with reward
``-(partial_cost + infeasible_penalty * (1 + unplaced / movable hard macros))``, where
``partial_cost`` is the weighted cost above of the placement reached, its unplaced hard macros
stacked at the canvas centre and its soft macros kept (so getting stuck costs more than the
design's placements do); ``info["infeasible"]`` names the macro, ``info["unplaced"]`` counts
the hard macros left and ``info["partial_cost"]`` holds that cost (``cost`` and ``placement``
are only given for complete placements). The force-directed step is seeded by the episode's
seed (``reset(seed=...)``), so the same actions after another seed may end a few 1e-6 apart.

``info`` at the end of a complete episode holds ``cost`` (the breakdown, ``proxy`` and
``objective``, the weighted cost the reward is minus of), ``placement`` (a
:class:`~netlists.model.Placement`, writable with :meth:`MacroPlacementEnv.write_plc`) and
``design``.

The density masks (the soft-macro density a macro would cover, per cell) depend only on the
design and the macro's size, never on the placements made: the env keeps those of the last
few designs it used across episodes
(:class:`~placer.algorithms.density_masks.DensityMaskCache`, found by content, so a generator
of fresh designs holds at most its few; left out of pickles).

Designs: ``netlist=`` (a Netlist, a ``(Netlist, Placement)`` pair or a path), ``designs=``
(a list of those) or ``generator=`` (``rng -> (Netlist, Placement)``); each reset samples one
with the env's seeded generator, or takes ``reset(options={"design": i})``, the ``i``-th of
``designs=`` (the only reset option; others are refused). Default:
:func:`netlists.generate.default_design`.

Through ``gymnasium.make`` the env is wrapped and Gymnasium 1.x wrappers do not forward
``action_masks``: call ``env.unwrapped.action_masks()`` (sb3-contrib and ``vector.call`` find
it themselves). ``render()`` draws :attr:`MacroPlacementEnv.render_grid`, each cell a square of
:func:`render_scale` pixels a side (the fewest that make the picture's longer side at least
:data:`RENDER_MIN_SIDE` pixels and both sides even: 280 x 280 for the default design's 28 x 28
grid). Every frame of
an env has one shape, whatever design its episode draws (video recorders and SB3's tiled
``VecEnv.render()`` need that): an env of one design draws its grid; one of several designs
the smallest grid that holds each of theirs, a ``generator=`` env the ``max_grid x max_grid``
grid (or ``grid=``'s cells when given), the episode's design in the lower-left corner as in
the observation and the cells outside it grey (:data:`RENDER_PADDING`). Both sides are even
(H.264 video in the 4:2:0 colour format browsers play needs that).

Observation normalisers: every key but ``graph_edges`` is in ``[0, 1]`` already;
``graph_edges`` holds node indices, ``graph_edge_weight``'s zeros mark padding edges and
``graph_nodes``' first and last columns are flags (a real node; the current macro) the
placement policy uses as masks, so a normaliser must leave those three keys alone: SB3's ``VecNormalize(venv, norm_obs_keys=["macro",
"design"])`` (``"grid"`` too, for a policy of one's own: :class:`placer.rl.policy.PlacementPolicy`
reads the raw wire-mask channel as its prior), not plain ``norm_obs=True``, which normalises
every key (:class:`placer.rl.features.PlacementFeatures` refuses edges that are no node indices).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.macro_placement_checks import (
    MAX_WEIGHT,
    NothingToPlace,
    TooLargeForSettings,
    check_settings,
    fits_nowhere,
)
from envs.macro_placement_designs import (
    DesignGenerator,
    DesignLike,
    DesignStatic,
    is_pair,
    prepare,
    prepare_all,
)
from envs.macro_placement_obs import (
    DESIGN_FEATURES,
    GRID_CHANNELS,
    MACRO_FEATURES,
    NODE_FEATURES,
    observation,
    observation_space,
    step_masks,
)
from envs.macro_placement_reward import (
    final_cost,
    partial_cost,
    shaping_reward,
    stuck_penalty,
)
from netlists.errors import InputError
from netlists.model import Netlist, Placement
from placer.algorithms.density_masks import DensityMaskCache
from placer.algorithms.fd import place_soft_macros_or_keep
from placer.algorithms.grid_state import SequentialGridState

__all__ = [
    "DESIGN_FEATURES",
    "GRID_CHANNELS",
    "MACRO_FEATURES",
    "MAX_WEIGHT",
    "NODE_FEATURES",
    "RENDER_LEGAL",
    "RENDER_MIN_SIDE",
    "RENDER_PADDING",
    "RENDER_PLACED",
    "DesignGenerator",
    "DesignLike",
    "MacroPlacementEnv",
    "NothingToPlace",
    "TooLargeForSettings",
    "place_soft_macros_or_keep",
    "render_scale",
]

#: render colours (RGB in [0, 1], Okabe-Ito's palette): placed macros, the cheapest legal cell
RENDER_PLACED = np.array([0.0, 114 / 255, 178 / 255])
RENDER_LEGAL = np.array([230 / 255, 159 / 255, 0.0])
#: render colour of the cells outside the episode's design (a grey: free cells are black)
RENDER_PADDING = np.array([0.4, 0.4, 0.4])
#: The fewest pixels the longer side of a ``render()`` picture has: one pixel per cell made
#: the default design's picture 28 x 28, a dot in a video.
RENDER_MIN_SIDE = 256


def render_scale(rows: int, cols: int) -> int:
    """Pixels per grid cell a side in ``render()``: the smallest number that makes the longer
    side of a ``rows`` x ``cols`` grid at least :data:`RENDER_MIN_SIDE` pixels and both sides
    even (1 for a grid that long already, where rows and cols are even); whole, so every cell
    is a square of one colour, and the sides even as H.264 videos need (an odd side made them
    yuv444p, which browsers cannot play). An always even scale drew a 1024 x 1024 grid at 2
    pixels a cell (2048 x 2048 frames)."""
    scale = max(1, -(-RENDER_MIN_SIDE // max(rows, cols, 1)))
    return scale if scale % 2 == 0 or (rows % 2 == 0 and cols % 2 == 0) else scale + 1

#: the old name of :class:`~envs.macro_placement_designs.DesignStatic`, which training states
#: pickled before the env was split into modules refer to
_DesignStatic = DesignStatic


def _as_int_action(action: Any) -> Any:
    """A whole-number action as ``int`` (numpy scalars and one-element arrays included);
    anything else unchanged, so that ``Discrete.contains`` refuses it."""
    value = np.asarray(action)
    if value.size == 1:
        value = value.reshape(())
    if value.shape == () and np.issubdtype(value.dtype, np.integer):
        return int(value)
    if value.shape == () and np.issubdtype(value.dtype, np.floating) and float(value).is_integer():
        return int(value)
    return action


class MacroPlacementEnv(gym.Env):
    """Sequential hard-macro placement (see module docstring for spaces, reward and options).

    Args:
        netlist, designs, generator: the design source (at most one; default design otherwise).
        max_grid: side G of the padded action grid (default 64).
        max_nodes: padded number of hard macros in the graph observation (default 256: ibm01
            has 246, and of the ICCAD04 suite only ibm01, ibm06 and ibm09 fit; ibm15 needs 393,
            1024 holds every shared design); a design with more hard macros is refused.
        max_edges: padded number of directed graph edges (default 4096; heaviest kept).
        grid: placing grid ``(cols, rows)``, or "auto" (:func:`~placer.algorithms.grid_state.auto_grid`) or "canvas".
        order: hard-macro order, "area" | "degree" | "file".
        w_wl, w_den, w_cong, w_timing: reward weights (default the proxy: 1, 0.5, 0.5, 0;
            each from 0 to 1e6).
        timing_metric: the timing figure ``w_timing`` weighs, "worst" (the worst path; default)
            or "tail" (the mean of the worst 10 % of endpoints, which moves with many wires).
        dense_shaping: add the per-step wire-mask shaping reward (default False).
        use_wiremask: fill the wire-mask channel (False for the ablation; shapes unchanged).
        density_weight: weight of the covered soft-macro density in the wire-mask channel
            (default 0.05, the ``greedy`` placer's; 0: the pure HPWL wire mask; at most 1e6). On ariane133
            the pure wire mask packs the SRAMs onto the soft-macro region (greedy without the
            term: 0.852 proxy, with it 0.778).
        soft_macros_placed: the wire mask and RUDY channels count soft-macro pins where the
            given placement has them (default True; False: only ports and placed hard macros,
            which leaves the first macros of a design whose nets reach soft macros blind).
        soft_placement: "fd" (force-directed, when available) or "keep" before the final cost.
        fd_iterations: iterations for the force-directed placer (None: its default).
        infeasible_penalty: base penalty when a macro has no legal cell (default 2.0).
        render_mode: None or "rgb_array".
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}
    #: (a class default too: an env pickled in a training run's state before this option existed
    #: has no such attribute, and its resume crashed on the first timing-weighted episode)
    timing_metric: str = "worst"
    #: the density masks of the designs of the last episodes (they depend on the design and
    #: the macro, never on the placements made; :mod:`placer.algorithms.density_masks`); None,
    #: in an env pickled before it existed: every mask computed afresh, as then
    _density_cache: DensityMaskCache | None = None
    #: :attr:`render_grid` once worked out (None until then, and in an env pickled before it)
    _render_grid: tuple[int, int] | None = None

    def __init__(
        self,
        netlist: DesignLike | None = None,
        designs: Sequence[DesignLike] | None = None,
        generator: DesignGenerator | None = None,
        *,
        max_grid: int = 64,
        max_nodes: int = 256,
        max_edges: int = 4096,
        grid: str | tuple[int, int] = "auto",
        order: str = "area",
        w_wl: float = 1.0,
        w_den: float = 0.5,
        w_cong: float = 0.5,
        w_timing: float = 0.0,
        timing_metric: str = "worst",
        dense_shaping: bool = False,
        use_wiremask: bool = True,
        density_weight: float = 0.05,
        soft_macros_placed: bool = True,
        soft_placement: str = "fd",
        fd_iterations: int | None = None,
        infeasible_penalty: float = 2.0,
        render_mode: str | None = None,
    ) -> None:
        sources = [s is not None for s in (netlist, designs, generator)]
        if sum(sources) > 1:
            raise InputError("give at most one of netlist=, designs=, generator=")
        if soft_placement not in ("fd", "keep"):
            raise InputError(f"soft_placement must be 'fd' or 'keep', got {soft_placement!r}")
        from placer.cost.timing import TIMING_METRICS  # (here: scipy costs the import 0.3 s)

        if timing_metric not in TIMING_METRICS:
            raise InputError(f"timing_metric must be one of {', '.join(map(repr, TIMING_METRICS))}, got {timing_metric!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise InputError(f"unsupported render_mode {render_mode!r}: expected None or "
                             f"{', '.join(map(repr, self.metadata['render_modes']))}")
        check_settings(
            max_grid=max_grid, max_nodes=max_nodes, max_edges=max_edges, grid=grid,
            weights=(w_wl, w_den, w_cong, w_timing, density_weight, infeasible_penalty),
            flags=(dense_shaping, use_wiremask, soft_macros_placed), fd_iterations=fd_iterations,
            order=order,
        )  # fmt: skip
        if isinstance(grid, np.ndarray):
            grid = tuple(int(n) for n in grid)  # (checked above: whole numbers)
        self.max_grid, self.max_nodes, self.max_edges = int(max_grid), int(max_nodes), int(max_edges)
        self.grid_option, self.order_option = grid, order
        self.weights = {"wirelength": w_wl, "density": w_den, "congestion": w_cong, "timing": w_timing}
        self.timing_metric = timing_metric
        self.dense_shaping, self.use_wiremask = dense_shaping, use_wiremask
        self.density_weight = float(density_weight)
        self.soft_macros_placed = bool(soft_macros_placed)
        self.soft_placement, self.fd_iterations = soft_placement, fd_iterations
        self.infeasible_penalty = float(infeasible_penalty)
        self.render_mode = render_mode
        self._generator = generator
        if isinstance(designs, str | os.PathLike | Netlist) or is_pair(designs):
            designs = [designs]  # one design, not a sequence of its characters or parts
        if designs is not None and not isinstance(designs, Sequence):
            raise InputError(f"designs= must be a list of designs, got {type(designs).__name__}")
        if generator is not None and not callable(generator):
            raise InputError(f"generator= must be a function rng -> (Netlist, Placement), got {generator!r}")
        if generator is None:
            if designs is None:
                if netlist is None:
                    from netlists.generate import default_design

                    netlist = default_design()
                designs = [netlist]
            self._designs: list[DesignStatic] = prepare_all(designs, self._prepare)
            if not self._designs:
                raise InputError("designs= is empty")
        else:
            self._designs = []
        G = self.max_grid
        self.action_space = spaces.Discrete(G * G)
        self.observation_space = observation_space(G, self.max_nodes, self.max_edges)
        self._state: SequentialGridState | None = None
        self._static: DesignStatic | None = None
        self._mask: np.ndarray | None = None
        self._wiremask: np.ndarray | None = None
        self._score: np.ndarray | None = None
        self._density: np.ndarray | None = None
        self._episode_seed = 0
        self._terminated = False
        self._density_cache = DensityMaskCache()
        self.last_info: dict[str, Any] = {}
        #: design and placement of the last complete episode (kept across resets for write_plc)
        self._last_result: tuple[Netlist, Placement] | None = None

    # ----------------------------------------------------------------- design prep
    def _prepare(self, netlist: Netlist, placement: Placement) -> DesignStatic:
        """:func:`~envs.macro_placement_designs.prepare` with this env's settings."""
        return prepare(
            netlist, placement, max_grid=self.max_grid, max_nodes=self.max_nodes, max_edges=self.max_edges,
            grid_option=self.grid_option, order_option=self.order_option,
            soft_macros_placed=self.soft_macros_placed,
        )

    def _sample_design(self, options: dict[str, Any] | None) -> DesignStatic:
        """The episode's design: ``options["design"]`` (an index into the env's designs) when
        given, else drawn with the env's seeded generator."""
        options = dict(options or {})
        choice = options.pop("design", None)
        if options:
            raise InputError(f"unknown reset options {sorted(options)}: the only one is 'design'")
        if choice is not None:
            if self._generator is not None:
                raise InputError("reset option 'design' needs designs=, not a generator= env")
            if isinstance(choice, bool) or not isinstance(choice, int | np.integer) or not (
                0 <= choice < len(self._designs)
            ):
                raise InputError(
                    f"reset option 'design' must be an index in [0, {len(self._designs)}), got {choice!r}"
                )
            return self._designs[int(choice)]
        if self._generator is not None:
            made = self._generator(self.np_random)
            if not is_pair(made):  # (a bare Netlist or a triple failed in prepare's words)
                raise InputError("generator= must return a (Netlist, Placement) pair, got "
                                 f"{type(made).__name__}{f' of {len(made)}' if isinstance(made, tuple) else ''}")
            return self._prepare(*made)
        return self._designs[int(self.np_random.integers(len(self._designs)))]

    # ----------------------------------------------------------------- gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        self._state = self._static = None  # a reset that fails leaves no old episode to step
        static = self._sample_design(options)
        self._static = static
        self._episode_seed = int(self.np_random.integers(2**31 - 1))
        self._state = SequentialGridState(
            static.netlist,
            static.placement,
            static.order,
            soft_macros_placed=self.soft_macros_placed,
            grid=static.grid,
            density_cache=self._density_cache,
        )
        self._refresh()
        self._terminated = False
        if not self._mask.any():  # type: ignore[union-attr]
            name = static.netlist.names[self._state.current]
            why = fits_nowhere(static.netlist, static.placement, self._state, self._state.current)
            self._state = None
            raise NothingToPlace(f"{static.netlist.name}: macro {name} {why}")
        self.last_info = {"design": static.netlist.name}
        return self._observation(), dict(self.last_info)

    def step(self, action: int) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        state, static = self._state, self._static
        if state is None or static is None or state.done or self._terminated:
            raise RuntimeError("call reset() before step()")
        G = self.max_grid
        number = _as_int_action(action)
        # (Discrete takes True as cell 1: a boolean is no cell number)
        if isinstance(number, bool | np.bool_) or not self.action_space.contains(number):
            raise InputError(f"action must be a whole number in [0, {G * G}), got {action!r}")
        row, col = divmod(number, G)
        info: dict[str, Any] = {"design": static.netlist.name}
        if row >= state.rows or col >= state.cols or not self._mask[row, col]:  # type: ignore[index]
            row, col = self._nearest_legal(row, col)
            info["illegal_action"] = number
        reward = 0.0
        if self.dense_shaping:
            reward -= shaping_reward(self.weights, float(self._wiremask[row, col]), static.wl_norm)  # type: ignore[index]
        state.place(row, col)
        info["cell"] = (row, col)
        terminated = False
        if state.done:
            terminated = True
            reward += self._final_reward(info)
            self._mask = np.zeros_like(self._mask)  # nothing is left to place
        else:
            self._refresh()
            if not self._mask.any():  # type: ignore[union-attr]
                terminated = True
                unplaced = state.order.size - state.n_placed
                info["infeasible"] = static.netlist.names[state.current]
                info["unplaced"] = unplaced
                info["partial_cost"] = partial_cost(static.netlist, state, self.weights, self.timing_metric)
                reward -= stuck_penalty(info["partial_cost"], self.infeasible_penalty, unplaced, state.order.size)
        self._terminated = terminated
        self.last_info = info
        return self._observation(), float(reward), terminated, False, dict(info)

    def _nearest_legal(self, row: int, col: int) -> tuple[int, int]:
        """The legal cell closest (Euclidean, in cells) to ``(row, col)``; ties: lowest index."""
        cells = np.argwhere(self._mask)  # type: ignore[arg-type]
        d = (cells[:, 0] - row) ** 2 + (cells[:, 1] - col) ** 2
        r, c = cells[int(np.argmin(d))]
        return int(r), int(c)

    def _final_reward(self, info: dict[str, Any]) -> float:
        """Exact cost of the final placement (soft macros by FD first) as a reward; the cost
        and the placement go into ``info``."""
        state, static = self._state, self._static
        assert state is not None and static is not None
        placement = state.placement.copy()
        if self.soft_placement == "fd":
            placement = place_soft_macros_or_keep(static.netlist, placement, self._episode_seed, self.fd_iterations)
        objective, info["cost"] = final_cost(static.netlist, placement, self.weights, self.timing_metric)
        info["placement"] = placement
        # a copy: a caller changing info["placement"] in place (legalising it) must not change
        # what write_plc writes as the episode's result
        self._last_result = (static.netlist, placement.copy())
        return -objective

    @property
    def placing_grid(self) -> tuple[int, int]:
        """``(cols, rows)`` of this episode's placing grid (the lower-left part of the
        ``max_grid x max_grid`` action grid); after :meth:`reset`."""
        if self._state is None:
            raise RuntimeError("call reset() first: the placing grid is the episode's design's")
        return int(self._state.cols), int(self._state.rows)

    def cell_centre(self, action: int) -> tuple[float, float]:
        """The canvas position ``(x, y)`` where ``action`` centres the current macro (a cell of
        the placing grid; after :meth:`reset`)."""
        cols, rows = self.placing_grid
        assert self._state is not None  # (placing_grid raised otherwise)
        number = _as_int_action(action)  # (as step() takes actions: 131.7, True or "131" are none)
        if isinstance(number, bool | np.bool_) or not isinstance(number, int):
            raise InputError(f"action must be a whole number, got {action!r}")
        row, col = divmod(number, self.max_grid)
        if not (0 <= row < rows and 0 <= col < cols):
            raise InputError(f"action {action} is no cell of the {cols} x {rows} placing grid "
                             f"(row * {self.max_grid} + col)")
        return self._state.cell_centre(row, col)

    def action_masks(self) -> np.ndarray:
        """Flat bool mask over the ``G * G`` actions (never all False while an episode runs)."""
        if self._state is None:  # (action 0 read as legal, and step(0) then refused)
            raise RuntimeError("call reset() before action_masks()")
        G = self.max_grid
        out = np.zeros((G, G), dtype=bool)
        if self._mask is not None:
            out[: self._state.rows, : self._state.cols] = self._mask
        flat = out.ravel()
        if not flat.any():  # terminal observation of an infeasible episode: keep the dist valid
            flat[0] = True
        return flat

    # ----------------------------------------------------------------- observation
    def _refresh(self) -> None:
        """The current macro's masks (:func:`~envs.macro_placement_obs.step_masks`), kept for
        the observation, the action mask and the shaping reward."""
        state = self._state
        assert state is not None
        masks = step_masks(state, dense_shaping=self.dense_shaping, use_wiremask=self.use_wiremask,
                           density_weight=self.density_weight)
        self._mask, self._wiremask, self._density, self._score = masks.legal, masks.wire, masks.density, masks.score

    def _observation(self) -> dict[str, np.ndarray]:
        """The observation (:func:`~envs.macro_placement_obs.observation`) of the episode now."""
        state, static = self._state, self._static
        assert state is not None and static is not None
        return observation(state, static, self._mask, self._score, self._density, self.max_grid)

    # ----------------------------------------------------------------- extras
    @property
    def prepared_designs(self) -> tuple[DesignStatic, ...]:
        """The designs episodes are drawn from, as prepared once at construction (empty for a
        ``generator`` env); a training checkpoint refers to them instead of copying them."""
        return tuple(self._designs)

    @property
    def render_grid(self) -> tuple[int, int]:
        """``(cols, rows)`` of the grid every ``render()`` frame of this env draws (one shape
        for all its episodes): ``grid=``'s cells when given, else the single design's grid,
        the smallest grid holding each of ``designs=``' grids, or ``max_grid`` a side for a
        ``generator=`` env (its designs are not known in advance)."""
        if self._render_grid is None:
            if not isinstance(self.grid_option, str):
                cols, rows = self.grid_option
            elif self._generator is not None:
                cols = rows = self.max_grid
            else:
                cols = max(static.grid[0] for static in self._designs)
                rows = max(static.grid[1] for static in self._designs)
            self._render_grid = (int(cols), int(rows))
        return self._render_grid

    @property
    def netlist(self) -> Netlist | None:
        """The design of the current episode."""
        return self._static.netlist if self._static is not None else None

    def write_plc(self, path: str | Path, placement: Placement | None = None, file_name: str | None = None) -> Path:
        """Write ``placement`` (default: the final placement of the last complete episode) as a
        ``.plc`` of that episode's design, its costs in the header (which names the file
        ``file_name``, default ``path``'s name: a file staged under another name). The last
        complete episode is kept across resets, so this works under vector envs that reset on
        their own."""
        from netlists.formats.plc import write_plc
        from placer.cost.proxy import evaluate

        if self._last_result is None:
            raise RuntimeError("no complete episode yet: nothing to write")
        netlist, last = self._last_result
        placement = placement if placement is not None else last
        if placement.x.shape != (netlist.n_nodes,):
            raise InputError(
                f"placement has {placement.x.size} nodes; the last episode's design "
                f"{netlist.name} has {netlist.n_nodes}"
            )
        return write_plc(path, netlist, placement, costs=evaluate(netlist, placement).plc_header(), file_name=file_name)

    def render(self) -> np.ndarray | None:
        """``rgb_array``: :attr:`render_grid`, rows up, each cell :func:`render_scale` pixels a
        side (the observation is unchanged), in colours told apart with any colour vision
        (Okabe-Ito blue and orange, not red and green): placed hard macros blue by the share
        of the cell they cover, cells where the current macro may go orange, the brighter the
        cheaper (the wire-mask channel), other free cells black; the episode's design in the
        lower-left corner, cells outside it grey."""
        if self.render_mode != "rgb_array" or self._state is None:
            return None
        obs = self._observation()["grid"]
        R, C = self._state.rows, self._state.cols
        cols, rows = self.render_grid
        covered = obs[0, :R, :C, None]
        legal = obs[3, :R, :C, None] * (1.0 - 0.6 * obs[2, :R, :C, None])
        img = np.empty((rows, cols, 3))
        img[...] = RENDER_PADDING
        img[:R, :C] = covered * RENDER_PLACED + (1.0 - covered) * legal * RENDER_LEGAL
        cells = np.round(np.flipud(img) * 255).astype(np.uint8)
        scale = render_scale(rows, cols)
        return np.repeat(np.repeat(cells, scale, axis=0), scale, axis=1)
