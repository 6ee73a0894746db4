"""The full proxy-cost evaluator: wirelength + 0.5 density + 0.5 congestion, with maps.

This is the one source of truth for the proxy cost (``shared/PROXY_COST.md``); the incremental
evaluator is tested against it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from netlists.model import Netlist, Placement
from placer.cost import grid
from placer.cost.blockage_kernel import blockage_grids
from placer.cost.congestion import congestion_cost, integrate, smooth
from placer.cost.context import CostContext, check_placement, cost_context
from placer.cost.density import density_cost, density_grid
from placer.cost.net_kernel import net_pass
from placer.cost.wirelength import wirelength_cost


@dataclass(eq=False)
class CostMaps:
    """Per-cell maps ``(R, C)``: density, and vertical / horizontal congestion (net demand,
    smoothed, plus hard-macro blockage, normalised by routing capacity). Equal when their
    values are (``==`` on the dataclass's tuples of arrays raised numpy's "truth value of an
    array is ambiguous")."""

    density: np.ndarray
    vertical: np.ndarray
    horizontal: np.ndarray

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CostMaps):
            return NotImplemented
        return all(np.array_equal(getattr(self, name), getattr(other, name))
                   for name in ("density", "vertical", "horizontal"))  # fmt: skip

    __hash__ = None  # type: ignore[assignment]  # mutable arrays: no hash

    def __repr__(self) -> str:
        rows, cols = self.density.shape
        return f"CostMaps({rows} rows x {cols} cols)"


@dataclass
class ProxyCost:
    """The three proxy-cost terms and their sum; ``hpwl`` is the weighted half-perimeter.

    Two costs are equal when every term is, their maps (``with_maps=True``) compared by value:
    a cost with maps and one without differ."""

    wirelength: float
    density: float
    congestion: float
    hpwl: float
    net_cnt: float
    maps: CostMaps | None = field(default=None, repr=False)

    @property
    def proxy(self) -> float:
        return self.wirelength + 0.5 * self.density + 0.5 * self.congestion

    def __repr__(self) -> str:
        maps = "" if self.maps is None else f", maps={self.maps!r}"
        return (f"ProxyCost(proxy={self.proxy!r}, wirelength={self.wirelength!r}, density={self.density!r}, "
                f"congestion={self.congestion!r}, hpwl={self.hpwl!r}, net_cnt={self.net_cnt!r}{maps})")

    def as_dict(self) -> dict[str, float]:
        """The terms and ``proxy`` as a plain dict of floats (no maps)."""
        d = {k: v for k, v in asdict(self).items() if k != "maps"}
        d["proxy"] = self.proxy
        return d

    def plc_header(self) -> dict[str, float]:
        """The costs as :func:`netlists.formats.plc.write_plc` writes them into a ``.plc``
        header (Circuit Training's names: ``wirelength`` there is the weighted HPWL)."""
        return {"wirelength": self.hpwl, "wirelength_cost": self.wirelength,
                "density_cost": self.density, "congestion_cost": self.congestion}  # fmt: skip


def net_terms(ctx: CostContext, ex: np.ndarray, ey: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each net's half-perimeter and the raw (unnormalised, unsmoothed) ``(V, H)`` routing
    demand of all nets, from the pin entries' positions ``ex``, ``ey`` (one compiled pass: the
    bits of ``net_hpwl`` and of ``route_nets``' demand)."""
    c = ctx.canvas
    hpwl, dv, dh = net_pass(
        ex, ey, ctx.net_start, ctx.route_weight, c.width / c.cols, c.height / c.rows, c.rows, c.cols
    )
    v, h = integrate(dv, dh, c.rows, c.cols)
    return hpwl, v, h


def hard_macro_blockage(netlist: Netlist, ctx: CostContext, placement: Placement) -> tuple[np.ndarray, np.ndarray]:
    """Raw ``(Vm, Hm)`` routing demand of the hard macros (compiled: the bits of
    :func:`placer.cost.congestion.macro_blockage`)."""
    c, hard = ctx.canvas, ctx.hard
    return blockage_grids(
        np.asarray(placement.x[hard], dtype=np.float64),
        np.asarray(placement.y[hard], dtype=np.float64),
        np.asarray(netlist.width[hard], dtype=np.float64),
        np.asarray(netlist.height[hard], dtype=np.float64),
        c.width,
        c.height,
        c.rows,
        c.cols,
        c.vrouting_alloc,
        c.hrouting_alloc,
        grid.OVERLAP_CHUNK,
    )


def congestion_maps(
    ctx: CostContext, v_raw: np.ndarray, h_raw: np.ndarray, vm_raw: np.ndarray, hm_raw: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Final ``(V, H)`` congestion maps from raw net demand and raw macro blockage."""
    c = ctx.canvas
    cw, ch = c.width / c.cols, c.height / c.rows
    vcap, hcap = cw * c.vroutes_per_micron, ch * c.hroutes_per_micron
    v, h = smooth(v_raw / vcap, h_raw / hcap, c.smoothing_reach)
    return v + vm_raw / vcap, h + hm_raw / hcap


def evaluate(netlist: Netlist, placement: Placement, with_maps: bool = False) -> ProxyCost:
    """Exact proxy cost of ``placement`` on ``netlist`` (whose canvas must be set)."""
    ctx = cost_context(netlist)
    check_placement(netlist, ctx, placement)
    c = ctx.canvas
    ex, ey = ctx.entry_positions(placement)
    hpwl, v_raw, h_raw = net_terms(ctx, ex, ey)
    hpwl_total, wl = wirelength_cost(ctx, hpwl)

    m = ctx.macros
    w, h = netlist.width[m], netlist.height[m]
    dens = density_grid(c, placement.x[m], placement.y[m], w, h)

    vm, hm = hard_macro_blockage(netlist, ctx, placement)
    v, hh = congestion_maps(ctx, v_raw, h_raw, vm, hm)
    return ProxyCost(
        wirelength=wl,
        density=density_cost(dens),
        congestion=congestion_cost(v, hh),
        hpwl=hpwl_total,
        net_cnt=ctx.net_cnt,
        maps=CostMaps(dens, v, hh) if with_maps else None,
    )
