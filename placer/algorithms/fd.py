"""``fd``: force-directed placement of the soft macros around fixed hard macros and ports.

Follows the force-directed (FD) step of Circuit Training (Mirhoseini et al., "A graph placement
methodology for fast chip design", Nature 2021; its documented settings: attractive forces
along nets, repulsive forces between macros, a few rounds of iterations with decreasing move
limits). Hard macros, ports and fixed nodes stay where they are; only the free soft macros move.

Per iteration, vectorised over all nets and macros (no Python loop over either):

* **attraction** -- every net is a clique of springs of stiffness ``weight / (k - 1)`` between
  its ``k`` pins. The spring equilibrium of one soft macro with the others held is the
  weighted mean of its neighbours (one Jacobi step of quadratic placement), computed from
  per-net position sums with ``np.bincount``. The macro moves towards it.
* **repulsion** -- overlapping macros push each other apart. The overlap is measured on bins:
  all macro footprints (hard and soft, exact areas) make a density map, and each soft macro is
  pushed along the electric field of that charge map (Poisson's equation, solved with a cosine
  transform on the bin grid), averaged over its footprint: away from crowded bins and off hard
  macros. This is an ``O(macros x bins)`` stand-in for pairwise overlap forces that stays
  fast on thousands of soft macros. Its weight grows over the iterations (wires first, then
  spreading), as Circuit Training raises its repulsion factor from round to round.
* **move limit** -- each step is clipped to a maximum move that shrinks geometrically from
  ``start_move`` to ``end_move`` (fractions of ``(W + H) / 2``), and centres are clamped so
  every soft macro lies inside the canvas.

:func:`place_soft_macros` is the plain function the greedy placer and simulated annealing call
(the RL environment through :func:`place_soft_macros_or_keep`); :class:`ForceDirected` (``fd``)
is the registered method, which tries a few repulsion strengths within its budget and keeps
the one with the lowest proxy cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from netlists.model import Canvas, Netlist, Placement
from placer.algorithms import options as opt
from placer.algorithms.base import (
    Deadline,
    NoteCollector,
    Placer,
    Progress,
    ProgressCallback,
    legalize_start,
    note_budget_cut,
    proxy_or_nan,
    register_placer,
)
from placer.cost.context import cost_context, per_netlist
from placer.cost.density import density_grid
from placer.interrupts import stop_requested

#: Smallest number of bins per side of the repulsion grid (the proxy grid, refined).
MIN_BINS = 32
#: Largest number of bins per side of the repulsion grid.
MAX_BINS = 128


@dataclass(frozen=True, eq=False)
class _NetArrays:
    """Per-netlist arrays for the spring model (cached; independent of the placement)."""

    soft: np.ndarray  # soft macro node indices
    entry_anchor: np.ndarray  # (P,) node each net-pin entry moves with
    entry_net: np.ndarray  # (P,)
    entry_stiffness: np.ndarray  # (P,) weight / (k - 1) of the entry's net (0 for k < 2)
    net_size: np.ndarray  # (N,) pins per net


@per_netlist
def _net_arrays(netlist: Netlist) -> _NetArrays:
    ctx = cost_context(netlist)
    size = np.diff(netlist.net_ptr).astype(np.float64)
    stiff_net = np.where(size >= 2, ctx.net_weight / np.maximum(size - 1.0, 1.0), 0.0)
    anchor = ctx.entry_anchor
    return _NetArrays(
        soft=netlist.soft_macros,
        entry_anchor=anchor,
        entry_net=ctx.entry_net,
        entry_stiffness=stiff_net[ctx.entry_net],
        net_size=size,
    )


def bin_grid(netlist: Netlist) -> tuple[int, int]:
    """``(rows, cols)`` of the repulsion grid: the proxy grid refined to at least ``MIN_BINS``."""
    c = netlist.require_canvas()
    factor = max(1, int(np.ceil(MIN_BINS / max(min(c.rows, c.cols), 1))))
    return min(c.rows * factor, MAX_BINS), min(c.cols * factor, MAX_BINS)


class PoissonField:
    """Electric field of a charge density on a ``rows x cols`` bin grid over a ``W x H`` canvas.

    Solves ``laplacian(phi) = -(rho - mean(rho))`` with Neumann (zero-flux) boundaries by a
    cosine expansion (the ePlace formulation), with explicit cosine matrices, exact and fast at
    these grid sizes. ``field(rho)`` gives ``(Ex, Ey) = -grad(phi)`` at bin centres (central
    differences of the potential, which unlike the truncated sine series of the field does not
    ring around a concentrated charge), shapes ``(rows, cols)``.
    """

    def __init__(self, rows: int, cols: int, width: float, height: float) -> None:
        self.bin_w, self.bin_h = width / cols, height / rows
        xs = (np.arange(cols) + 0.5) * self.bin_w
        ys = (np.arange(rows) + 0.5) * self.bin_h
        wu = np.pi * np.arange(cols) / width
        wv = np.pi * np.arange(rows) / height
        self.cos_x = np.cos(np.outer(xs, wu))  # (cols, u)
        self.cos_y = np.cos(np.outer(ys, wv))  # (rows, v)
        scale_u = np.where(np.arange(cols) == 0, 1.0, 2.0) / cols
        scale_v = np.where(np.arange(rows) == 0, 1.0, 2.0) / rows
        denom = wv[:, None] ** 2 + wu[None, :] ** 2
        denom[0, 0] = 1.0
        self.coef = scale_v[:, None] * scale_u[None, :] / denom
        self.coef[0, 0] = 0.0  # drop the mean: a neutral system

    def potential(self, rho: np.ndarray) -> np.ndarray:
        """The potential of the charge density ``rho`` (its cosine transform scaled and
        transformed back), by numpy's own loops (``einsum``), not BLAS: a BLAS product's
        summation order follows its thread count, and the soft macros' placement would differ
        between a one-thread batch worker and a command on all cores."""
        a = np.einsum("rv,rc->vc", self.cos_y, rho)  # (v, u) cosine coefficients, unscaled
        a = np.einsum("vc,cu->vu", a, self.cos_x)
        b = np.einsum("rv,vu->ru", self.cos_y, a * self.coef)
        return np.einsum("ru,cu->rc", b, self.cos_x)

    def field(self, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        grad_y, grad_x = np.gradient(self.potential(rho), self.bin_h, self.bin_w)
        return -grad_x, -grad_y


def _window_overlaps(
    lo: np.ndarray, hi: np.ndarray, n_bins: int, step: float, span: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bins ``(M, span)`` from the one holding ``lo`` on, and the length of ``[lo, hi]`` in each.

    A local version of the dense interval-bin overlap: ``span`` bins cover every interval, so
    density scatter and field gather cost ``O(M span^2)`` without a dense matrix product.
    """
    first = np.clip(np.floor(lo / step).astype(np.int64), 0, n_bins - 1)
    bins = first[:, None] + np.arange(span)[None, :]
    left = bins * step
    overlap = np.minimum(hi[:, None], left + step) - np.maximum(lo[:, None], left)
    np.maximum(overlap, 0.0, out=overlap)
    overlap[bins >= n_bins] = 0.0
    return np.minimum(bins, n_bins - 1), overlap


@dataclass(frozen=True, eq=False)
class _Springs:
    """The clique springs of one run: the movable entries and the fixed anchors' net sums."""

    n_nets: int
    mov_net: np.ndarray  # (Q,) net of each entry of a movable soft macro
    mov_local: np.ndarray  # (Q,) that soft macro, as an index into the movable ones
    mov_stiff: np.ndarray  # (Q,) stiffness of the entry's net
    fixed_sum_x: np.ndarray  # (N,) sum of the fixed entries' x on each net
    fixed_sum_y: np.ndarray  # (N,) sum of the fixed entries' y on each net
    total_stiff: np.ndarray  # (S,) total spring stiffness of each movable soft macro (1 if none)
    connected: np.ndarray  # (S,) whether the soft macro has a spring at all


def _springs(
    netlist: Netlist, placement: Placement, arrays: _NetArrays, local: np.ndarray, n_soft: int
) -> _Springs:
    """The spring model: entries of movable soft macros move, every other entry is a fixed
    anchor whose positions are summed per net once (they do not change over the iterations)."""
    ctx = cost_context(netlist)
    ex, ey = ctx.entry_positions(placement)
    entry_local = local[arrays.entry_anchor]
    moving = np.flatnonzero(entry_local >= 0)
    fixed_entries = np.flatnonzero(entry_local < 0)
    n_nets = arrays.net_size.size
    fixed_sum_x = np.bincount(arrays.entry_net[fixed_entries], ex[fixed_entries], minlength=n_nets)
    fixed_sum_y = np.bincount(arrays.entry_net[fixed_entries], ey[fixed_entries], minlength=n_nets)
    mov_net = arrays.entry_net[moving]
    mov_local = entry_local[moving]
    mov_stiff = arrays.entry_stiffness[moving]
    # total spring stiffness of each soft macro: sum over its entries of weight/(k-1) * (k-1)
    total_stiff = np.bincount(
        mov_local, mov_stiff * (arrays.net_size[mov_net] - 1.0), minlength=n_soft
    )
    connected = total_stiff > 0
    total_stiff = np.where(connected, total_stiff, 1.0)
    return _Springs(
        n_nets=n_nets,
        mov_net=mov_net,
        mov_local=mov_local,
        mov_stiff=mov_stiff,
        fixed_sum_x=fixed_sum_x,
        fixed_sum_y=fixed_sum_y,
        total_stiff=total_stiff,
        connected=connected,
    )


@dataclass(frozen=True, eq=False)
class _Repulsion:
    """The bin grid of the density field, its fixed charges and the movable footprints on it."""

    rows: int
    cols: int
    bw: float  # bin width
    bh: float  # bin height
    solver: PoissonField
    fixed_density: np.ndarray  # (rows, cols) density of the hard and fixed macros
    fw: np.ndarray  # (S,) footprint width, stretched to at least one bin
    fh: np.ndarray  # (S,) footprint height, likewise
    area: np.ndarray  # (S,) fw * fh
    charge_per_bin: np.ndarray  # (S,) density each soft macro adds, spread over its footprint
    span_x: int  # bins that cover any footprint, across
    span_y: int  # bins that cover any footprint, up


def _repulsion(
    netlist: Netlist,
    canvas: Canvas,
    placement: Placement,
    local: np.ndarray,
    w: np.ndarray,
    h: np.ndarray,
) -> _Repulsion:
    """The repulsion grid: hard and fixed macros are fixed charges (their density computed
    once), movable soft macros are footprints of widths ``w`` and heights ``h``."""
    rows, cols = bin_grid(netlist)
    bw, bh = canvas.width / cols, canvas.height / rows
    solver = PoissonField(rows, cols, canvas.width, canvas.height)
    macros = cost_context(netlist).macros
    still = macros[local[macros] < 0]
    fixed_density = density_grid(  # (the proxy's density map, on this grid of bins)
        canvas.replace(rows=rows, cols=cols),
        placement.x[still], placement.y[still], netlist.width[still], netlist.height[still],
    )
    # a footprint narrower than a bin is stretched to one bin (the charge kept), as in ePlace,
    # so that the field it feels is smooth in its position
    fw, fh = np.maximum(w, bw), np.maximum(h, bh)
    return _Repulsion(
        rows=rows,
        cols=cols,
        bw=bw,
        bh=bh,
        solver=solver,
        fixed_density=fixed_density,
        fw=fw,
        fh=fh,
        area=fw * fh,
        charge_per_bin=(w * h) / (bw * bh),
        span_x=int(np.ceil(np.max(fw) / bw)) + 1,
        span_y=int(np.ceil(np.max(fh) / bh)) + 1,
    )


def _attraction_step(
    springs: _Springs, x: np.ndarray, y: np.ndarray, attraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """Displacement of each movable soft macro ``attraction`` of the way towards the
    equilibrium of its clique springs with the other pins held (one damped Jacobi step);
    0 for a soft macro on no net."""
    s = springs
    px, py = x[s.mov_local], y[s.mov_local]
    sum_x = s.fixed_sum_x + np.bincount(s.mov_net, px, minlength=s.n_nets)
    sum_y = s.fixed_sum_y + np.bincount(s.mov_net, py, minlength=s.n_nets)
    pull_x = np.bincount(s.mov_local, s.mov_stiff * (sum_x[s.mov_net] - px), minlength=x.size)
    pull_y = np.bincount(s.mov_local, s.mov_stiff * (sum_y[s.mov_net] - py), minlength=x.size)
    step_x = np.where(s.connected, attraction * (pull_x / s.total_stiff - x), 0.0)
    step_y = np.where(s.connected, attraction * (pull_y / s.total_stiff - y), 0.0)
    return step_x, step_y


def _repulsion_push(
    grid: _Repulsion, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Field of the density map (fixed charges plus the soft macros at ``x, y``) averaged
    over each (stretched) footprint: the unweighted repulsive displacement."""
    g = grid
    n = x.size
    bin_y, over_y = _window_overlaps(y - g.fh / 2, y + g.fh / 2, g.rows, g.bh, g.span_y)
    bin_x, over_x = _window_overlaps(x - g.fw / 2, x + g.fw / 2, g.cols, g.bw, g.span_x)
    cell = (bin_y[:, :, None] * g.cols + bin_x[:, None, :]).reshape(n, -1)
    share = (over_y[:, :, None] * over_x[:, None, :]).reshape(n, -1) / g.area[:, None]
    rho = g.fixed_density + np.bincount(
        cell.ravel(), (share * g.charge_per_bin[:, None]).ravel(), minlength=g.rows * g.cols
    ).reshape(g.rows, g.cols)
    field_x, field_y = g.solver.field(rho)
    push_x = np.sum(field_x.ravel()[cell] * share, axis=1)
    push_y = np.sum(field_y.ravel()[cell] * share, axis=1)
    return push_x, push_y


def _moved(
    v: np.ndarray, step: np.ndarray, limit: float, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Centres ``v`` moved by ``step`` clipped to ``[-limit, limit]``, then clamped to
    ``[lo, max(hi, lo)]`` (inside the canvas; at ``lo`` for a macro wider than it)."""
    return np.clip(v + np.clip(step, -limit, limit), lo, np.maximum(hi, lo))


def _jittered(
    v: np.ndarray, jitter: float, rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Start centres ``v`` moved by a uniform jitter in ``[-jitter, jitter]`` (it separates soft
    macros sitting on one point) and clamped as by :func:`_moved`."""
    return np.clip(v + rng.uniform(-jitter, jitter, v.size), lo, np.maximum(hi, lo))


def place_soft_macros(
    netlist: Netlist,
    placement: Placement,
    *,
    iterations: int = 40,
    seed: int = 0,
    budget_s: float | None = None,
    repulsion: float = 0.5,
    start_move: float = 0.1,
    end_move: float = 0.005,
    attraction: float = 0.5,
    progress: ProgressCallback | None = None,
) -> Placement:
    """Soft macros re-placed by force-directed iterations; a new placement (input untouched).

    Args:
        netlist, placement: the design and the placement to start from (its hard macros,
            ports and fixed soft macros stay where they are).
        iterations: force-directed iterations (40: about 0.3 s on ibm17, a few ms on small
            designs; the move limit shrinks over exactly this many steps).
        seed: seeds the tiny jitter that separates soft macros sitting on one point.
        budget_s: stop early after this many seconds (None: run all iterations).
        repulsion: final weight of the repulsive (density-field) displacement; it ramps up
            from ``repulsion / 10`` (0.5).
        start_move, end_move: largest move per iteration at the first / last iteration, as a
            fraction of ``(W + H) / 2`` (0.1 and 0.005).
        attraction: fraction of the way to the spring equilibrium taken per iteration (0.5:
            damped Jacobi, which avoids the oscillation of a full step).
        progress: called every few iterations with ``Progress(fraction)``, and with a note
            when ``budget_s`` stops it short of ``iterations``.
    """
    start_time = time.perf_counter()
    result = placement.copy()
    arrays = _net_arrays(netlist)
    soft = arrays.soft[~placement.fixed[arrays.soft]]
    if soft.size == 0 or iterations <= 0:
        return result
    c = netlist.require_canvas()
    rng = np.random.default_rng(seed)
    span = 0.5 * (c.width + c.height)
    local = np.full(netlist.n_nodes, -1, dtype=np.int64)  # index among the movable soft macros
    local[soft] = np.arange(soft.size)
    springs = _springs(netlist, placement, arrays, local, soft.size)
    w, h = netlist.width[soft].astype(np.float64), netlist.height[soft].astype(np.float64)
    grid = _repulsion(netlist, c, placement, local, w, h)
    x_lo, x_hi = w / 2, c.width - w / 2
    y_lo, y_hi = h / 2, c.height - h / 2
    jitter = 1e-3 * min(grid.bw, grid.bh)
    x = _jittered(placement.x[soft].astype(np.float64), jitter, rng, x_lo, x_hi)
    y = _jittered(placement.y[soft].astype(np.float64), jitter, rng, y_lo, y_hi)

    decay = (end_move / start_move) ** (1.0 / max(iterations - 1, 1))
    ramp = 10.0 ** (1.0 / max(iterations - 1, 1))
    for it in range(iterations):
        if budget_s is not None and time.perf_counter() - start_time > budget_s:
            if progress is not None:  # (cut by the clock: another run stops elsewhere)
                progress(Progress.noting(
                    f"the budget ran out after {it:,} of {iterations:,} force-directed iterations of the "
                    "soft macros: they stopped short of their spread and the run is not reproducible "
                    "(a larger budget is)"))  # fmt: skip
            break
        step_x, step_y = _attraction_step(springs, x, y, attraction)
        push_x, push_y = _repulsion_push(grid, x, y)
        weight = repulsion / 10.0 * ramp**it  # wires first, then spreading
        step_x += weight * push_x
        step_y += weight * push_y
        limit = start_move * span * decay**it
        x = _moved(x, step_x, limit, x_lo, x_hi)
        y = _moved(y, step_y, limit, y_lo, y_hi)
        if progress is not None and it % 10 == 0:
            progress(Progress(it / iterations))

    result.x[soft] = x
    result.y[soft] = y
    return result


def place_soft_macros_or_keep(
    netlist: Netlist, placement: Placement, seed: int = 0, iterations: int | None = None
) -> Placement:
    """The final placement of an RL episode (``placer/MacroPlacement-v0``): soft macros placed
    by :func:`place_soft_macros` (``iterations`` None: its default), or ``placement`` itself,
    not a copy, when the design has no soft macro."""
    if netlist.soft_macros.size == 0:
        return placement
    if iterations is None:
        return place_soft_macros(netlist, placement, seed=seed)
    return place_soft_macros(netlist, placement, seed=seed, iterations=iterations)


@register_placer
class ForceDirected(Placer):
    """Force-directed soft-macro placement (see module docstring); hard macros stay put.

    Options (keyword arguments):
        iterations: force-directed iterations per trial (80: better converged springs than the
            fast default of :func:`place_soft_macros`, which callers in loops rely on).
        repulsions: repulsion strengths tried in turn while the budget lasts; the placement
            with the lowest proxy cost is kept (default (0.5, 0.25, 1.0, 2.0, 0.1)). A run the
            budget cut short of them or of a trial's iterations says so in a note (it is then
            not reproducible).
        start_move, end_move: largest move per iteration at the first / last iteration, as a
            fraction of ``(W + H) / 2`` (0.1 and 0.005; geometric in between).
        attraction: fraction of the way to the spring equilibrium taken per iteration (0.5).
    """

    name = "fd"
    option_names = frozenset({"iterations", "repulsions", "start_move", "end_move", "attraction"})
    option_checks = {
        "iterations": opt.whole(1),
        "repulsions": opt.numbers(0.0),
        "start_move": opt.number(0.0, low_open=True),  # divides the decay
        "end_move": opt.number(0.0),
        "attraction": opt.number(0.0, 1.0),  # (a fraction of the way: above 1 overshoots)
    }

    def run(
        self,
        netlist: Netlist,
        placement: Placement,
        budget_s: float,
        seed: int,
        progress: ProgressCallback,
    ) -> Placement:
        from placer.cost.proxy import evaluate

        deadline = Deadline(budget_s)
        options = dict(self.options)
        repulsions = tuple(options.pop("repulsions", (0.5, 0.25, 1.0, 2.0, 0.1)))
        iterations = int(options.pop("iterations", 80))
        # the hard macros stay, so make them legal first: the costs compared (and reported)
        # are then those of placements the final legalisation leaves as they are
        placement = legalize_start(netlist, placement, budget_s, progress)
        best = placement
        best_cost = evaluate(netlist, placement).proxy
        progress(Progress(0.0, best_cost, "start"))
        soft = netlist.soft_macros
        if not np.any(~placement.fixed[soft]):  # (it said no repulsion strength lowered the proxy)
            progress(Progress.noting("no movable soft macro: fd has nothing to place (the hard macros are "
                                     "legalised only)"))  # fmt: skip
            return best.copy()
        tried = 0
        trial_notes = NoteCollector()  # a trial's own notes that the budget stopped its iterations
        for trial, strength in enumerate(repulsions):
            if trial > 0 and deadline.fraction() > 0.5:
                break  # a trial takes about as long as the ones before: keep the reserve
            candidate = place_soft_macros(
                netlist,
                placement,
                iterations=iterations,
                seed=seed + trial,
                repulsion=strength,
                budget_s=deadline.remaining(),
                progress=trial_notes,
                **options,
            )
            tried += 1
            cost = proxy_or_nan(netlist, candidate)  # NaN (a diverged run) never wins
            if cost < best_cost:
                best, best_cost = candidate, cost
            progress(Progress(deadline.fraction(), best_cost, f"repulsion {strength}"))
            if deadline.expired():
                break
        if trial_notes.texts and not stop_requested():  # (an interrupt's stop: the caller says why)
            progress(Progress.noting(trial_notes.texts[0]))
        elif tried < len(repulsions):
            note_budget_cut(progress, f"after {tried} of {len(repulsions)} repulsion strengths",
                            "a larger budget, or fewer repulsions, is")
        if best is placement:  # (the result equal to its start said nothing)
            progress(Progress.noting(
                f"no repulsion strength tried ({tried} of {len(repulsions)}) lowered the proxy: "
                "the soft macros stay where they were (the hard macros are legalised only)"))  # fmt: skip
        return best.copy()
