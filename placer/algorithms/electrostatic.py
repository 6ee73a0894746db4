"""The torch side of ``analytical`` (:mod:`placer.algorithms.analytical`): the spectral Poisson
solver, the smoothed wirelength and the Nesterov / Adam descent. Imported only when the method
runs, so that ``placer place`` with any other method does not load torch (about a second).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from netlists.errors import InputError
from netlists.model import Netlist, Placement, orient_offsets
from placer.algorithms.analytical import CUT_BY_THE_BUDGET, SETUP_TOOK_THE_BUDGET, default_bins
from placer.algorithms.base import Deadline, Progress, ProgressCallback, proxy_or_nan
from placer.cost.context import cost_context
from placer.device import resolve_device, torch_threads
from placer.interrupts import stop_requested


# ------------------------------------------------------------------ spectral Poisson solver
def dct_last(x: torch.Tensor) -> torch.Tensor:
    """Unnormalised DCT-II along the last dimension, ``X_k = sum_n x_n cos(pi k (2n+1) / 2N)``,
    through one FFT of the even extension."""
    n = x.shape[-1]
    spectrum = torch.fft.fft(torch.cat([x, x.flip(-1)], dim=-1), dim=-1)[..., :n]
    k = torch.arange(n, device=x.device, dtype=x.dtype)
    twiddle = torch.exp(-1j * math.pi * k / (2 * n))
    return (spectrum * twiddle).real / 2


def cosine_series_last(c: torch.Tensor) -> torch.Tensor:
    """``sum_k c_k cos(pi k (2n+1) / 2N)`` for ``n < N`` along the last dimension (the inverse
    cosine series), through one inverse FFT of length ``2N``."""
    n = c.shape[-1]
    k = torch.arange(n, device=c.device, dtype=c.dtype)
    z = c * torch.exp(1j * math.pi * k / (2 * n))
    z = torch.cat([z, torch.zeros_like(z)], dim=-1)
    return (torch.fft.ifft(z, dim=-1)[..., :n] * (2 * n)).real


class Electrostatics:
    """Potential and field of a charge density on a ``rows x cols`` bin grid (Neumann boundary).

    ``rho`` is expanded in cosines, ``rho = sum a_uv cos(w_u x) cos(w_v y)`` (bin centres,
    ``w_u = pi u / W``); then ``phi = sum a_uv / (w_u^2 + w_v^2) cos cos`` with the mean
    dropped (a neutral system). The field is ``-grad(phi)`` by central differences.
    """

    def __init__(
        self,
        rows: int,
        cols: int,
        width: float,
        height: float,
        device: torch.device,
        dtype: torch.dtype,
    ) -> None:
        self.rows, self.cols = rows, cols
        self.bin_w, self.bin_h = width / cols, height / rows
        wu = math.pi * torch.arange(cols, device=device, dtype=dtype) / width
        wv = math.pi * torch.arange(rows, device=device, dtype=dtype) / height
        scale_u = torch.where(torch.arange(cols, device=device) == 0, 1.0, 2.0).to(dtype) / cols
        scale_v = torch.where(torch.arange(rows, device=device) == 0, 1.0, 2.0).to(dtype) / rows
        denom = wv[:, None] ** 2 + wu[None, :] ** 2
        denom[0, 0] = 1.0
        coef = scale_v[:, None] * scale_u[None, :] / denom
        coef[0, 0] = 0.0
        self.coef = coef

    def potential(self, rho: torch.Tensor) -> torch.Tensor:
        """``phi`` at bin centres, shape ``(rows, cols)``."""
        a = dct_last(dct_last(rho).transpose(0, 1)).transpose(0, 1)  # (v, u)
        c = a * self.coef
        return cosine_series_last(cosine_series_last(c).transpose(0, 1)).transpose(0, 1)

    def field(self, rho: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(phi, Ex, Ey)`` at bin centres."""
        phi = self.potential(rho)
        grad_y, grad_x = torch.gradient(phi, spacing=(self.bin_h, self.bin_w))
        return phi, -grad_x, -grad_y


#: How far analytical's density weight may grow over its start (see ``global_place``).
MAX_DENSITY_WEIGHT_GROWTH = 1e20


# ------------------------------------------------------------------ the model
@dataclass
class _Model:
    """Tensors of one design: movable macros, fixed positions, pins, nets, footprints."""

    movable: torch.Tensor  # (M,) node indices of movable macros
    base_xy: torch.Tensor  # (n_nodes, 2) positions of everything (fixed ones are used)
    entry_anchor: torch.Tensor  # (P,) node each pin follows
    entry_offset: torch.Tensor  # (P, 2) pin offset turned by the orientation
    entry_net: torch.Tensor  # (P,)
    net_weight: torch.Tensor  # (N,)
    n_nets: int
    macros: torch.Tensor  # (K,) all hard and soft macros (fixed ones are fixed charges)
    half_w: torch.Tensor  # (K,) half of the stretched footprint
    half_h: torch.Tensor
    charge_scale: torch.Tensor  # (K,) true area / stretched area
    lo: torch.Tensor  # (M, 2) lowest allowed centre of each movable macro
    hi: torch.Tensor  # (M, 2)
    movable_area: float
    pins_per_movable: torch.Tensor  # (M,) weighted pin count (preconditioner)
    charge_per_movable: torch.Tensor  # (M,) area / bin area (preconditioner)


def _choose_device(device: str) -> torch.device:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N``, refused in one line where it does not exist."""
    return torch.device(resolve_device(device))


def _build_model(
    netlist: Netlist, placement: Placement, bins: int, device: torch.device, dtype: torch.dtype
) -> _Model:
    c = netlist.require_canvas()
    ctx = cost_context(netlist)
    as_t = lambda a: torch.as_tensor(np.array(a), device=device)  # noqa: E731
    macros = ctx.macros
    movable = macros[~placement.fixed[macros]]
    ox, oy = orient_offsets(ctx.entry_dx, ctx.entry_dy, placement.orientation[ctx.entry_anchor])
    bw, bh = c.width / bins, c.height / bins
    w, h = netlist.width[macros].astype(np.float64), netlist.height[macros].astype(np.float64)
    fw, fh = np.maximum(w, math.sqrt(2) * bw), np.maximum(h, math.sqrt(2) * bh)
    mw, mh = netlist.width[movable].astype(np.float64), netlist.height[movable].astype(np.float64)
    lo = np.stack([mw / 2, mh / 2], axis=1)
    hi = np.maximum(np.stack([c.width - mw / 2, c.height - mh / 2], axis=1), lo)
    local = np.full(netlist.n_nodes, -1)
    local[movable] = np.arange(movable.size)
    owner = local[ctx.entry_anchor]
    pins = np.bincount(
        owner[owner >= 0], ctx.net_weight[ctx.entry_net[owner >= 0]], minlength=movable.size
    )
    return _Model(
        movable=as_t(movable),
        base_xy=as_t(np.stack([placement.x, placement.y], axis=1)).to(dtype),
        entry_anchor=as_t(ctx.entry_anchor),
        entry_offset=as_t(np.stack([ox, oy], axis=1)).to(dtype),
        entry_net=as_t(ctx.entry_net),
        net_weight=as_t(ctx.net_weight).to(dtype),
        n_nets=ctx.n_nets,
        macros=as_t(macros),
        half_w=as_t(fw / 2).to(dtype),
        half_h=as_t(fh / 2).to(dtype),
        charge_scale=as_t(w * h / (fw * fh)).to(dtype),
        lo=as_t(lo).to(dtype),
        hi=as_t(hi).to(dtype),
        movable_area=float(np.sum(mw * mh)) or 1.0,
        pins_per_movable=as_t(pins).to(dtype),
        charge_per_movable=as_t(mw * mh / (bw * bh)).to(dtype),
    )


def smooth_wirelength(
    model: _Model,
    xy: torch.Tensor,
    gamma: float,
    kind: str = "wa",
    exact: dict[str, float] | None = None,
) -> torch.Tensor:
    """Weighted smooth wirelength (``"wa"`` weighted-average or ``"lse"`` log-sum-exp) of all nets.

    When ``exact`` is given, the exact weighted HPWL is stored in it under ``"hpwl"`` (free here).
    """
    pins = xy[model.entry_anchor] + model.entry_offset  # (P, 2)
    net = model.entry_net
    n = model.n_nets
    idx = net[:, None].expand(-1, 2)
    hi = torch.full((n, 2), -torch.inf, dtype=xy.dtype, device=xy.device).scatter_reduce(
        0, idx, pins.detach(), "amax"
    )
    lo = torch.full((n, 2), torch.inf, dtype=xy.dtype, device=xy.device).scatter_reduce(
        0, idx, pins.detach(), "amin"
    )
    e_pos = torch.exp((pins - hi[net]) / gamma)
    e_neg = torch.exp((lo[net] - pins) / gamma)
    zeros = torch.zeros((n, 2), dtype=xy.dtype, device=xy.device)
    s_pos = zeros.index_add(0, net, e_pos)
    s_neg = zeros.index_add(0, net, e_neg)
    if kind == "wa":
        top = zeros.index_add(0, net, pins * e_pos) / s_pos
        bottom = zeros.index_add(0, net, pins * e_neg) / s_neg
        span = top - bottom
    elif kind == "lse":
        span = gamma * (torch.log(s_pos) + torch.log(s_neg)) + hi - lo
    else:
        raise InputError(f"unknown wirelength model {kind!r}: 'wa' or 'lse'")
    if exact is not None:
        exact["hpwl"] = float(torch.sum(model.net_weight * (hi - lo).sum(dim=1)))
    return torch.sum(model.net_weight * span.sum(dim=1))


def _bin_overlaps(model: _Model, xy: torch.Tensor, field: Electrostatics) -> tuple[torch.Tensor, torch.Tensor]:
    """Each macro's (stretched) footprint's overlap with each bin column ``(K, cols)`` and row
    ``(K, rows)``: its overlap with bin ``(r, c)`` is ``over_y[:, r] * over_x[:, c]``."""
    centres = xy[model.macros]
    left = torch.arange(field.cols, device=xy.device, dtype=xy.dtype) * field.bin_w
    bottom = torch.arange(field.rows, device=xy.device, dtype=xy.dtype) * field.bin_h
    cx, cy = centres[:, :1], centres[:, 1:]
    over_x = (
        torch.minimum(cx + model.half_w[:, None], left + field.bin_w)
        - torch.maximum(cx - model.half_w[:, None], left)
    ).clamp(min=0)
    over_y = (
        torch.minimum(cy + model.half_h[:, None], bottom + field.bin_h)
        - torch.maximum(cy - model.half_h[:, None], bottom)
    ).clamp(min=0)
    return over_x, over_y


def density_map(model: _Model, xy: torch.Tensor, field: Electrostatics) -> torch.Tensor:
    """``(rows, cols)`` macro area per bin over the bin area (differentiable in ``xy``)."""
    over_x, over_y = _bin_overlaps(model, xy, field)
    return (over_y * model.charge_scale[:, None]).T @ over_x / (field.bin_w * field.bin_h)


def density_gradient(model: _Model, xy: torch.Tensor, field: Electrostatics, phi: torch.Tensor) -> torch.Tensor:
    """``(M, 2)``: the density energy's gradient for each movable macro in ePlace's form, its
    charge times the potential's gradient averaged over its footprint (each bin weighted by
    the overlap). Smooth in the position: the exact overlaps' own derivative reads the
    potential at the footprint's edges only, constant in between and jumping each time an
    edge crossed a bin boundary, so that equal macros stacked on one point were never pulled
    apart."""
    grad_y, grad_x = torch.gradient(phi, spacing=(field.bin_h, field.bin_w))
    over_x, over_y = _bin_overlaps(model, xy, field)
    scale = model.charge_scale / (field.bin_w * field.bin_h)
    gx = ((over_y @ grad_x) * over_x).sum(dim=1) * scale
    gy = ((over_x @ grad_y.T) * over_y).sum(dim=1) * scale
    per_node = torch.zeros_like(xy).index_put((model.macros,), torch.stack([gx, gy], dim=1))
    return per_node[model.movable]


def global_place(
    netlist: Netlist,
    placement: Placement,
    budget_s: float,
    seed: int,
    progress: ProgressCallback,
    o: Mapping[str, Any],
) -> Placement:
    """``analytical``'s run with options ``o`` (see :class:`~placer.algorithms.analytical.Analytical`)."""
    deadline = Deadline(budget_s)
    opts = _read_options(o)
    with torch_threads(opts.device, int(o.get("threads", 1))):
        return _global_place(netlist, placement, progress, o, deadline, opts, seed)


def _global_place(
    netlist: Netlist,
    placement: Placement,
    progress: ProgressCallback,
    o: Mapping[str, Any],
    deadline: Deadline,
    opts: _Options,
    seed: int,
) -> Placement:
    c = netlist.require_canvas()
    ctx = cost_context(netlist)
    bins = int(o.get("bins") or default_bins(ctx.macros.size))

    model = _build_model(netlist, placement, bins, opts.device, opts.dtype)
    if model.movable.numel() == 0:
        return placement
    field = Electrostatics(bins, bins, c.width, c.height, opts.device, opts.dtype)
    descent = _Descent(model, field, opts, deadline, progress)
    start = descent.jittered_start(seed)
    g_wl, g_den, rho = descent.gradients(start)
    if deadline.expired():  # the set-up took the budget: no iteration fits, keep the start
        progress(Progress.noting(SETUP_TOOK_THE_BUDGET))
        return placement
    descent.state["overflow"] = descent.overflow_of(rho)
    descent.start_density_weight(g_wl, g_den, float(o.get("density_weight", 0.1)))
    if opts.method == "adam":
        v, iteration = _descend_adam(descent, start, float(o.get("learning_rate", 0.5)))
    elif opts.method == "nesterov":
        ran = _descend_nesterov(descent, start)
        if ran is None:
            progress(Progress.noting(SETUP_TOOK_THE_BUDGET))
            return placement
        v, iteration = ran
    else:
        raise InputError(f"unknown optimizer {opts.method!r}: 'nesterov' or 'adam'")
    descent.state["overflow"] = descent.overflow_at(v)  # what the run reports is its result's
    _note_if_cut(descent, iteration)
    return _result(netlist, placement, descent, v, iteration)


@dataclass(frozen=True)
class _Options:
    """``analytical``'s options as the descent reads them (defaults filled in)."""

    device: torch.device
    dtype: torch.dtype
    kind: str  # the wirelength model, "wa" or "lse"
    method: str  # the optimiser, "nesterov" or "adam"
    target_density: float
    stop_overflow: float
    max_iterations: int
    density_growth: float
    gamma_factor: float
    max_step: float  # in bins
    hpwl_ref: float


def _read_options(o: Mapping[str, Any]) -> _Options:
    """The options of ``o`` with their defaults (float64 on the CPU, float32 elsewhere), read in
    a fixed order so that a bad one is refused as it always was."""
    device = _choose_device(str(o.get("device", "auto")))
    dtype = getattr(
        torch, str(o.get("dtype", "float64" if device.type == "cpu" else "float32"))
    )
    return _Options(
        device=device,
        dtype=dtype,
        kind=str(o.get("wirelength", "wa")),
        method=str(o.get("optimizer", "nesterov")),
        target_density=float(o.get("target_density", 1.0)),
        stop_overflow=float(o.get("stop_overflow", 0.1)),
        max_iterations=int(o.get("max_iterations", 1000)),
        density_growth=float(o.get("density_growth", 1.05)),
        gamma_factor=float(o.get("gamma_factor", 4.0)),
        max_step=float(o.get("max_step_bins", 4.0)),
        hpwl_ref=float(o.get("hpwl_ref", 0.0)),
    )


class _Descent:
    """One descent's model, field and options, and what its iterations update: the density
    weight ``lam`` and ``state`` (the overflow where the last gradient was taken, the exact
    HPWL there and, with ``hpwl_ref``, the previous iteration's)."""

    def __init__(
        self,
        model: _Model,
        field: Electrostatics,
        opts: _Options,
        deadline: Deadline,
        progress: ProgressCallback,
    ) -> None:
        self.model, self.field, self.opts = model, field, opts
        self.deadline, self.progress = deadline, progress
        self.bin_size = 0.5 * (field.bin_w + field.bin_h)
        self.state: dict[str, float] = {"overflow": 1.0}
        self.lam = 0.0
        self.lam_cap = 0.0

    def jittered_start(self, seed: int) -> torch.Tensor:
        """The movable macros' positions moved by a seeded jitter of a thousandth of a bin (so
        stacked macros part), kept inside their bounds."""
        model, opts = self.model, self.opts
        rng = np.random.default_rng(seed)
        start = model.base_xy[model.movable]
        jitter = (
            torch.as_tensor(
                rng.uniform(-1e-3, 1e-3, tuple(start.shape)), device=opts.device, dtype=opts.dtype
            )
            * self.bin_size
        )
        return torch.minimum(torch.maximum(start + jitter, model.lo), model.hi)

    def overflow_of(self, rho: torch.Tensor) -> float:
        """The density overflow of ``rho`` above the target, over the movable area."""
        field = self.field
        excess = (rho - self.opts.target_density).clamp(min=0).sum() * field.bin_w * field.bin_h
        return float(excess) / self.model.movable_area

    def overflow_at(self, v: torch.Tensor) -> float:
        """The overflow of the movable macros at ``v`` (the rest where they are)."""
        model = self.model
        with torch.no_grad():
            return self.overflow_of(density_map(model, model.base_xy.index_put((model.movable,), v), self.field))

    def gradients(self, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gradients of the wirelength and of the density energy at ``v``, and the density."""
        model, field, state = self.model, self.field, self.state
        v = v.detach().requires_grad_(True)
        xy = model.base_xy.index_put((model.movable,), v)
        gamma = self.opts.gamma_factor * self.bin_size * 10.0 ** ((state["overflow"] - 0.1) * 20.0 / 9.0 - 1.0)
        (g_wl,) = torch.autograd.grad(
            smooth_wirelength(model, xy, gamma, self.opts.kind, state), v, retain_graph=True
        )
        with torch.no_grad():
            rho = density_map(model, xy, field)
            g_den = density_gradient(model, xy, field, field.potential(rho))
        return g_wl, g_den, rho

    def start_density_weight(self, g_wl: torch.Tensor, g_den: torch.Tensor, density_weight: float) -> None:
        """Set ``lam`` from the start's gradients and its cap."""
        wl_norm, den_norm = float(g_wl.abs().sum()), float(g_den.abs().sum())
        # balanced against the wirelength pull; without one (no nets on the movable macros) any
        # positive weight spreads alike (the steps are scale-free), and 0 never grew from 0
        self.lam = density_weight * (wl_norm if wl_norm > 0 else 1.0) / max(den_norm, 1e-30)
        # past this the density term is all there is (the steps are preconditioned by it); growing
        # on where the overflow cannot fall reached infinity, and the positions NaN, after some
        # thousand iterations: the whole run was thrown away
        self.lam_cap = self.lam * MAX_DENSITY_WEIGHT_GROWTH

    def grow(self) -> None:
        """ePlace's lambda update: faster while the HPWL holds, slower when it climbs; at most
        ``lam_cap``."""
        self.lam = min(self._grown(self.lam), self.lam_cap)

    def _grown(self, lam: float) -> float:
        """``lam`` times the growth factor (``hpwl_ref``'s adaptive one when it is set)."""
        state, density_growth, hpwl_ref = self.state, self.opts.density_growth, self.opts.hpwl_ref
        if hpwl_ref <= 0:
            return lam * density_growth
        previous = state.get("previous_hpwl", state["hpwl"])
        relative_rise = (state["hpwl"] - previous) / max(previous, 1e-30)
        state["previous_hpwl"] = state["hpwl"]
        # density_growth ** (1 - rise / hpwl_ref) clipped to [0.95, density_growth], in
        # logarithms: a tiny hpwl_ref makes the power overflow before it is clipped
        exponent = min(1.0 - relative_rise / hpwl_ref, 1.0)
        log_mu = max(exponent * math.log(density_growth), math.log(0.95)) if density_growth > 1 else 0.0
        return lam * math.exp(log_mu)

    def total_grad(self, v: torch.Tensor) -> torch.Tensor:
        """The preconditioned gradient of wirelength plus ``lam`` times the density energy at
        ``v`` (the overflow there kept in ``state``)."""
        model = self.model
        g_wl, g_den, rho = self.gradients(v)
        self.state["overflow"] = self.overflow_of(rho)
        precondition = torch.clamp(
            model.pins_per_movable + self.lam * model.charge_per_movable, min=1.0
        )[:, None]
        return (g_wl + self.lam * g_den) / precondition

    def project(self, v: torch.Tensor) -> torch.Tensor:
        """``v`` clamped to the movable macros' bounds."""
        return torch.minimum(torch.maximum(v, self.model.lo), self.model.hi)

    def converged(self, iteration: int) -> bool:
        """Report every 20 iterations; whether the overflow is down to ``stop_overflow``."""
        state = self.state
        if iteration % 20 == 0:
            self.progress(Progress(self.deadline.fraction(), None, f"iteration {iteration} overflow {state['overflow']:.3f}"))
        return state["overflow"] < self.opts.stop_overflow and iteration > 20

    def stops_at(self, point: torch.Tensor, iteration: int) -> bool:
        """Whether the run stops with ``point`` as its result: :meth:`converged` reads the
        overflow where the last gradient was taken (Nesterov's look-ahead point, Adam's point
        before its step), the result is ``point``, so the stop is decided on ``point``'s own
        overflow (the last gradient's is kept otherwise: the next step's smoothing reads it).
        Reported 0.099 for results at up to 0.105, over the stop at 0.1, before."""
        state = self.state
        if not self.converged(iteration):
            return False
        last = state["overflow"]
        state["overflow"] = self.overflow_at(point)
        if state["overflow"] < self.opts.stop_overflow:
            return True
        state["overflow"] = last
        return False


def _descend_adam(descent: _Descent, start: torch.Tensor, learning_rate: float) -> tuple[torch.Tensor, int]:
    """Adam steps of ``learning_rate`` bins from ``start`` until it converges, reaches
    ``max_iterations`` or the budget ends; the last point and the iteration count."""
    max_iterations, deadline = descent.opts.max_iterations, descent.deadline
    iteration = 0
    param = start.clone().requires_grad_(True)
    opt = torch.optim.Adam([param], lr=learning_rate * descent.bin_size)
    while iteration < max_iterations and not deadline.expired():
        opt.zero_grad()
        param.grad = descent.total_grad(param.detach())
        opt.step()
        with torch.no_grad():
            param.copy_(descent.project(param))
        descent.grow()
        iteration += 1
        if descent.stops_at(param.detach(), iteration):
            break
    return param.detach(), iteration


def _descend_nesterov(descent: _Descent, start: torch.Tensor) -> tuple[torch.Tensor, int] | None:
    """Nesterov steps from ``start`` with a Lipschitz step estimate (capped at ``max_step``
    bins) until it converges, reaches ``max_iterations`` or the budget ends; the last point and
    the iteration count, or None when the budget ran out before the first iteration."""
    max_iterations, deadline, project = descent.opts.max_iterations, descent.deadline, descent.project
    max_move = descent.opts.max_step * descent.bin_size
    iteration = 0
    v = start.clone()
    u = v.clone()
    g = descent.total_grad(v)
    if deadline.expired():
        return None
    step = _first_step_length(descent, v, g)
    a = 1.0
    while iteration < max_iterations and not deadline.expired():
        u_next = project(v - step * g)
        a_next = (1.0 + math.sqrt(4.0 * a * a + 1.0)) / 2.0
        v_next = project(u_next + (a - 1.0) / a_next * (u_next - u))
        g_next = descent.total_grad(v_next)
        diff = float((g_next - g).norm())
        if diff > 0:
            step = float((v_next - v).norm()) / diff
        # no backtracking: cap the move instead, so a bad estimate cannot scatter macros
        step = min(step, max_move / max(float(g_next.abs().max()), 1e-30))
        u, v, g, a = u_next, v_next, g_next, a_next
        descent.grow()
        iteration += 1
        if descent.stops_at(u, iteration):
            break
    return u, iteration


def _first_step_length(descent: _Descent, v: torch.Tensor, g: torch.Tensor) -> float:
    """The first Nesterov step length from a small probe (ePlace's initial Lipschitz estimate)."""
    probe = descent.project(v - 0.01 * descent.bin_size * g / g.abs().max().clamp(min=1e-30))
    g_probe = descent.total_grad(probe)
    return float((v - probe).norm() / (g - g_probe).norm().clamp(min=1e-30))


def _note_if_cut(descent: _Descent, iteration: int) -> None:
    """Note a run an interrupt or the budget stopped short of ``max_iterations`` with its
    overflow still above ``stop_overflow``."""
    opts, overflow = descent.opts, descent.state["overflow"]
    max_iterations, stop_overflow = opts.max_iterations, opts.stop_overflow
    if iteration < max_iterations and descent.deadline.expired() and not overflow < stop_overflow:
        cut = "the analytical placement was stopped by an interrupt" if stop_requested() else CUT_BY_THE_BUDGET
        descent.progress(Progress.noting(
            f"{cut} after {iteration} of at most {max_iterations} "
            f"iterations, its density overflow {overflow:.3f} (it stops at {stop_overflow:g}); "
            "the result is its last iterate"
            + ("" if stop_requested() else ", not reproducible (a max_iterations it reaches within "
               "the budget is)")))  # fmt: skip


def _result(
    netlist: Netlist, placement: Placement, descent: _Descent, v: torch.Tensor, iteration: int
) -> Placement:
    """``placement`` with the movable macros at ``v`` (within bounds), reported with its proxy."""
    model = descent.model
    result = placement.copy()
    final = descent.project(v).detach().cpu().numpy().astype(np.float64)
    movable = model.movable.cpu().numpy()
    result.x[movable] = final[:, 0]
    result.y[movable] = final[:, 1]
    descent.progress(
        Progress(
            descent.deadline.fraction(),
            proxy_or_nan(netlist, result),
            f"{iteration} iterations, overflow {descent.state['overflow']:.3f}",
        )
    )
    return result
