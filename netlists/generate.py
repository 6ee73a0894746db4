"""Seeded synthetic netlists shaped like the Circuit Training clustered benchmarks.

Used as test fixtures and as the platform's embedded default design (:func:`default_design`).
The structure follows the "Synthetic connectivity" rules of ``shared/benchmarks/README.md``:

* node order: ports ``port_<k>``; hard macros ``a<k>`` (type MACRO), each followed by its pins
  ``a<k>/P<j>`` (offsets uniform inside the macro); soft macros ``Grp_<k>`` (type macro), each
  followed by its output pins ``Grp_<k>/Poutput_<j>`` (j from 1) and one ``Grp_<k>/Pinput``;
* a hard-macro pin drives a net with probability 1/3, otherwise it is the sink of exactly one
  net; a port drives with probability 1/2, otherwise it is the sink of exactly one net;
  every ``Poutput`` drives a net; ``Pinput`` collects any number of nets (at least one when
  the design allows it); a pin picked to drive that finds no free sink left (designs with
  fewer than two soft macros have no ``Pinput`` to share) becomes the sink of a nearby net
  instead, so no pin is left out of every net when the design allows it (a pin whose every
  possible partner sits on its own macro stays out, and in designs with a handful of nodes and
  at most one soft macro a sink may find no driver on another node: with two hard macros and
  nothing else the pins of one may all be drawn as sinks, and one soft macro beside one port or
  hard macro leaves a pin out for some seeds);
* fanout f drawn from P(f) ~ f^-alpha, f = 1..max_fanout; sinks drawn without replacement
  with probability ~ exp(-d / L), d the Manhattan distance in the initial placement,
  L = locality * (W + H) / 2, so the initial placement is a good one;
* integer weights (2..max_weight) on about ``weighted_fraction`` of the ``Poutput`` pins.

Geometry: hard macros have areas ~ 400 x lognormal(0, 0.4) square microns (aspect ratio in
[1/2, 2]), soft macros ~ 25 x lognormal(0, 0.3) (aspect in [2/3, 3/2]); sizes are rounded to
0.01. The canvas is square with area = total macro area / ``utilisation`` (grown by 5 % steps
if the hard macros do not fit). Hard macros are placed without overlap inside the canvas
(random rejection sampling, falling back to spread-out shelf packing), soft macros uniformly
inside the canvas (they may overlap, as clusters of standard cells do), ports evenly around the
boundary with ``side`` the edge they lie on. Grid and routing follow
:mod:`netlists.defaults`. Orientations are all N and nothing is fixed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from netlists.builder import NetlistBuilder
from netlists.defaults import default_canvas
from netlists.errors import InputError
from netlists.model import MAX_MAGNITUDE, Canvas, Netlist, NodeType, Placement

HARD_AREA_MEAN = 400.0
SOFT_AREA_MEAN = 25.0
_SIZE_DECIMALS = 2
_REJECTION_TRIES = 300
#: Largest ``max_fanout`` accepted (the fanout law is tabulated over 1..max_fanout).
MAX_FANOUT = 100_000
#: The smallest ``locality``: below any that makes a difference (from about 1e-6 down, every
#: sink is the nearest free one: the same nets), far above where ``-d / L`` overflows.
MIN_LOCALITY = 1e-12

#: The embedded default design: small enough that evaluation and short runs take seconds.
DEFAULT_DESIGN = {"n_hard": 24, "n_soft": 120, "n_ports": 48, "seed": 0, "name": "default"}


def _fanout_probabilities(alpha: float, max_fanout: int) -> np.ndarray:
    """P(f) ~ f^-alpha on 1..max_fanout, computed in log space: a large ``|alpha|`` (f^500
    overflows) gives the limit law, not NaN."""
    alpha = min(max(alpha, -1e4), 1e4)  # beyond, the law is its limit already (2^-1e4 is 0)
    log_p = -alpha * np.log(np.arange(1, max_fanout + 1, dtype=np.float64))
    p = np.exp(log_p - log_p.max())
    return p / p.sum()


def _sizes(
    rng: np.random.Generator, n: int, mean_area: float, sigma: float, max_ratio: float
) -> tuple[np.ndarray, np.ndarray]:
    """Widths and heights with lognormal areas and log-uniform aspect ratios."""
    area = mean_area * rng.lognormal(0.0, sigma, n)
    ratio = np.exp(rng.uniform(-math.log(max_ratio), math.log(max_ratio), n))
    w = np.round(np.sqrt(area * ratio), _SIZE_DECIMALS)
    h = np.round(np.sqrt(area / ratio), _SIZE_DECIMALS)
    return np.maximum(w, 10.0**-_SIZE_DECIMALS), np.maximum(h, 10.0**-_SIZE_DECIMALS)


def _overlaps(
    x: float,
    y: float,
    w: float,
    h: float,
    px: np.ndarray,
    py: np.ndarray,
    pw: np.ndarray,
    ph: np.ndarray,
) -> bool:
    return bool(np.any((np.abs(px - x) < (pw + w) / 2) & (np.abs(py - y) < (ph + h) / 2)))


def _place_hard_random(
    rng: np.random.Generator, w: np.ndarray, h: np.ndarray, W: float, H: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Rejection sampling, largest first; None when some macro finds no free spot."""
    n = w.shape[0]
    x = np.zeros(n)
    y = np.zeros(n)
    # the macros placed so far, in placing order: slices of these are views, not copies
    px, py, pw, ph = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    for k, i in enumerate(np.argsort(-(w * h), kind="stable")):
        for _ in range(_REJECTION_TRIES):
            cx = rng.uniform(w[i] / 2, W - w[i] / 2)
            cy = rng.uniform(h[i] / 2, H - h[i] / 2)
            if not _overlaps(cx, cy, w[i], h[i], px[:k], py[:k], pw[:k], ph[:k]):
                x[i], y[i] = cx, cy
                px[k], py[k], pw[k], ph[k] = cx, cy, w[i], h[i]
                break
        else:
            return None
    return x, y


def _place_hard_shelves(
    w: np.ndarray, h: np.ndarray, W: float, H: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Shelf packing (tallest first) with the slack spread evenly; None when it does not fit."""
    order = np.argsort(-h, kind="stable")
    shelves: list[list[int]] = []
    width_used = W + 1.0
    for i in order:
        if width_used + w[i] > W:
            shelves.append([])
            width_used = 0.0
        shelves[-1].append(int(i))
        width_used += w[i]
    heights = [max(h[s]) for s in shelves]
    if sum(heights) > H or any(w[i] > W for i in order):
        return None
    x = np.zeros(w.shape[0])
    y = np.zeros(w.shape[0])
    gap_y = (H - sum(heights)) / (len(shelves) + 1)
    bottom = gap_y
    for shelf, sh in zip(shelves, heights, strict=True):
        gap_x = (W - float(np.sum(w[shelf]))) / (len(shelf) + 1)
        left = gap_x
        for i in shelf:
            x[i] = left + w[i] / 2
            y[i] = bottom + sh / 2
            left += w[i] + gap_x
        bottom += sh + gap_y
    return x, y


def _boundary_points(
    rng: np.random.Generator, n: int, W: float, H: float
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``n`` jittered, evenly spaced points walking the boundary counter-clockwise from (0, 0)."""
    perimeter = 2 * (W + H)
    t = (np.arange(n) + rng.uniform(0.1, 0.9, n)) * perimeter / max(n, 1)
    x = np.empty(n)
    y = np.empty(n)
    sides: list[str] = []
    for k, s in enumerate(t):
        if s < W:
            x[k], y[k], side = s, 0.0, "BOTTOM"
        elif s < W + H:
            x[k], y[k], side = W, s - W, "RIGHT"
        elif s < 2 * W + H:
            x[k], y[k], side = 2 * W + H - s, H, "TOP"
        else:
            x[k], y[k], side = 0.0, perimeter - s, "LEFT"
        sides.append(side)
    return np.round(x, 3), np.round(y, 3), sides


def _gumbel_top_k(rng: np.random.Generator, log_weight: np.ndarray, k: int) -> np.ndarray:
    """Positions of ``k`` draws without replacement with probability ~ exp(log_weight)."""
    keys = log_weight + rng.gumbel(size=log_weight.shape[0])
    if k >= keys.shape[0]:
        return np.argsort(-keys, kind="stable")
    top = np.argpartition(-keys, k - 1)[:k]
    return top[np.argsort(-keys[top], kind="stable")]


#: Most macros or ports of each kind (the net generation grows about with the square of the
#: node count: 8,000 hard macros take about 20 s, 20,000 about two minutes).
MOST_PER_KIND = 20_000
#: Most pins a pin range may give one macro.
MOST_PINS_PER_MACRO = 10_000
#: Most pins the pin ranges may give a design in all (hard pins plus soft outputs at the top of
#: their ranges): the per-kind and per-macro caps multiply to 2e8, which never finishes; the
#: CLI's largest request (20,000 of each kind, default ranges) needs 400,000.
MOST_PINS = 500_000


def generate(
    n_hard: int = 16,
    n_soft: int = 64,
    n_ports: int = 32,
    *,
    pins_per_hard: tuple[int, int] = (4, 12),
    outputs_per_soft: tuple[int, int] = (1, 8),
    grid: tuple[int, int] | None = None,
    utilisation: float = 0.5,
    fanout_alpha: float = 1.6,
    max_fanout: int = 20,
    locality: float = 0.02,
    weighted_fraction: float = 0.25,
    max_weight: int = 4,
    seed: int = 0,
    name: str | None = None,
) -> tuple[Netlist, Placement]:
    """A seeded synthetic netlist with a legal initial placement and a canvas (see module doc).

    Args:
        n_hard, n_soft, n_ports: numbers of hard macros, soft macros and ports.
        pins_per_hard: inclusive range of pins per hard macro.
        outputs_per_soft: inclusive range of ``Poutput`` pins per soft macro.
        grid: ``(cols, rows)``; None picks :func:`netlists.defaults.default_grid`.
        utilisation: target total macro area / canvas area.
        fanout_alpha, max_fanout: fanout law P(f) ~ f^-alpha on 1..max_fanout.
        locality: L = locality * (W + H) / 2 in the sink probability exp(-d / L).
        weighted_fraction, max_weight: share of ``Poutput`` pins given a weight in 2..max_weight.
        seed: the only source of randomness; same arguments give an identical netlist.
        name: netlist name (default ``synthetic_h{n_hard}_s{n_soft}_p{n_ports}_seed{seed}``).

    Returns:
        The netlist (its ``x``/``y`` hold the initial placement, canvas set) and that placement.
    """
    _check_argument_kinds(n_hard, n_soft, n_ports, max_fanout, max_weight, seed, grid, name,
                          pins_per_hard, outputs_per_soft)  # fmt: skip
    # Python ints from here: numpy's small ints overflowed (int8 100 + 100 hard and soft macros
    # sized the canvas for -56) and a range's + 1 failed in numpy's words
    n_hard, n_soft, n_ports, max_fanout, max_weight, seed = map(int, (n_hard, n_soft, n_ports, max_fanout, max_weight, seed))
    pins_per_hard = (int(pins_per_hard[0]), int(pins_per_hard[1]))
    outputs_per_soft = (int(outputs_per_soft[0]), int(outputs_per_soft[1]))
    _check_numbers(n_hard, n_soft, n_ports, utilisation, fanout_alpha, locality, weighted_fraction)
    _check_ranges(n_hard, n_soft, pins_per_hard, outputs_per_soft, max_fanout, locality, max_weight,
                  weighted_fraction)  # fmt: skip
    rng = np.random.default_rng(seed)
    name = name if name is not None else f"synthetic_h{n_hard}_s{n_soft}_p{n_ports}_seed{seed}"

    geo = _draw_geometry(rng, n_hard, n_soft, n_ports, utilisation, grid)
    b = NetlistBuilder(name)
    ports = _add_ports(b, geo)
    hard_pins = _add_hard_macros(rng, b, geo, pins_per_hard)
    soft_outputs, soft_inputs = _add_soft_macros(rng, b, geo, outputs_per_soft, weighted_fraction, max_weight)
    _add_nets(rng, b, geo, ports, hard_pins, soft_outputs, soft_inputs,
              fanout_alpha, max_fanout, locality)  # fmt: skip

    b.metadata["generator"] = {
        "n_hard": n_hard,
        "n_soft": n_soft,
        "n_ports": n_ports,
        "seed": seed,
        "utilisation": utilisation,
        "fanout_alpha": fanout_alpha,
        "locality": locality,
    }
    netlist = b.build(geo.canvas)
    placement = netlist.initial_placement()
    return netlist, placement


# ---------------------------------------------------------------- argument checks
def _check_argument_kinds(
    n_hard: int,
    n_soft: int,
    n_ports: int,
    max_fanout: int,
    max_weight: int,
    seed: int,
    grid: tuple[int, int] | None,
    name: str | None,
    pins_per_hard: tuple[int, int],
    outputs_per_soft: tuple[int, int],
) -> None:
    """Refuse counts that are not whole numbers, a negative seed, oversized kinds and malformed
    grid, name and pin ranges: checked before the counts are turned into Python ints."""
    for label, count in (("n_hard", n_hard), ("n_soft", n_soft), ("n_ports", n_ports), ("max_fanout", max_fanout),
                         ("max_weight", max_weight), ("seed", seed)):  # fmt: skip
        if isinstance(count, bool) or not isinstance(count, int | np.integer):
            raise InputError(f"{label} must be a whole number, got {count!r}")
    if seed < 0:  # (None would draw a new design each call: the seed is the only randomness)
        raise InputError(f"seed must be >= 0, got {seed}")
    if max(n_hard, n_soft, n_ports) > MOST_PER_KIND:
        raise InputError(f"need n_hard, n_soft, n_ports <= {MOST_PER_KIND:,} (the nets take time growing "
                         f"with the square of the count), got {n_hard}, {n_soft}, {n_ports}")
    if grid is not None and not (isinstance(grid, tuple | list) and len(grid) == 2):
        raise InputError(f"grid must be a (cols, rows) pair, got {grid!r}")
    if name is not None and not (isinstance(name, str) and name.strip() and name.isprintable()):
        # (a line break in the name broke the .plc header it is written into)
        raise InputError(f"name must be printable text on one line (or None for the default), got {name!r}")
    if max_weight > MAX_MAGNITUDE:  # (2**62 passed: files no reader takes, weights not whole)
        raise InputError(f"max_weight must be at most {MAX_MAGNITUDE:g}, got {max_weight}")
    for label, pair in (("pins_per_hard", pins_per_hard), ("outputs_per_soft", outputs_per_soft)):
        if not (isinstance(pair, tuple | list) and len(pair) == 2
                and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in pair)):
            raise InputError(f"{label} must be a (low, high) pair of whole numbers, got {pair!r}")


def _check_numbers(
    n_hard: int,
    n_soft: int,
    n_ports: int,
    utilisation: float,
    fanout_alpha: float,
    locality: float,
    weighted_fraction: float,
) -> None:
    """Refuse real-valued options that are not numbers (or not finite), negative counts, no
    macro at all and a utilisation outside (0, 1]."""
    for label, number in (("fanout_alpha", fanout_alpha), ("utilisation", utilisation), ("locality", locality),
                          ("weighted_fraction", weighted_fraction)):  # fmt: skip
        if isinstance(number, bool | np.bool_) or not isinstance(number, int | float | np.integer | np.floating):
            raise InputError(f"{label} must be a number, got {number!r}")  # (True passed as 1)
    if not math.isfinite(fanout_alpha):
        raise InputError(f"fanout_alpha must be a finite number, got {fanout_alpha!r}")
    for label, count in (("n_hard", n_hard), ("n_soft", n_soft), ("n_ports", n_ports)):
        if count < 0:
            raise InputError(f"{label} must be >= 0, got {count}")
    if n_hard + n_soft == 0:
        raise InputError("need at least one macro: n_hard and n_soft are both 0")
    if not 0 < utilisation <= 1:
        raise InputError(f"utilisation must be in (0, 1], got {utilisation}")


def _check_ranges(
    n_hard: int,
    n_soft: int,
    pins_per_hard: tuple[int, int],
    outputs_per_soft: tuple[int, int],
    max_fanout: int,
    locality: float,
    max_weight: int,
    weighted_fraction: float,
) -> None:
    """Refuse pin ranges out of order or too large (per macro and in all) and fanout, locality
    and weight options outside their ranges: the nets' time and the files' readers need them."""
    if not 1 <= pins_per_hard[0] <= pins_per_hard[1]:
        raise InputError(f"pins_per_hard must be (low, high) with 1 <= low <= high, got {pins_per_hard}")
    if not 0 <= outputs_per_soft[0] <= outputs_per_soft[1]:
        raise InputError(f"outputs_per_soft must be (low, high) with 0 <= low <= high, got {outputs_per_soft}")
    if max(pins_per_hard[1], outputs_per_soft[1]) > MOST_PINS_PER_MACRO:
        raise InputError(f"pin ranges must end at most at {MOST_PINS_PER_MACRO:,} pins per macro, got "
                         f"{pins_per_hard} and {outputs_per_soft}")
    most_pins = n_hard * pins_per_hard[1] + n_soft * outputs_per_soft[1]
    if most_pins > MOST_PINS:
        raise InputError(f"the pin ranges may give {most_pins:,} pins in all (n_hard x pins_per_hard's high + "
                         f"n_soft x outputs_per_soft's high); at most {MOST_PINS:,} (the nets take time "
                         "growing with the square of the pins)")
    # (a locality near 5e-324 made -d / L overflow to -inf for every candidate: all tied, the
    # sinks drawn at random, the least local nets instead of the most local)
    for label, ok, expected, value in (
        ("max_fanout", 1 <= max_fanout <= MAX_FANOUT, f"in 1..{MAX_FANOUT}", max_fanout),
        ("locality", MIN_LOCALITY <= locality < math.inf, f"a finite number >= {MIN_LOCALITY:g}", locality),
        ("max_weight", max_weight >= 2, ">= 2", max_weight),
        ("weighted_fraction", 0 <= weighted_fraction <= 1, "in [0, 1]", weighted_fraction),
    ):
        if not ok:
            raise InputError(f"{label} must be {expected}, got {value!r}")


# ---------------------------------------------------------------- geometry
@dataclass
class _Geometry:
    """Sizes and initial positions of every macro and port, and the canvas they sit on."""

    hw: np.ndarray  # hard macros: widths, heights, centres
    hh: np.ndarray
    hx: np.ndarray
    hy: np.ndarray
    sw: np.ndarray  # soft macros: widths, heights, centres
    sh: np.ndarray
    sx: np.ndarray
    sy: np.ndarray
    px: np.ndarray  # ports: positions and the canvas edge each lies on
    py: np.ndarray
    sides: list[str]
    W: float
    H: float
    canvas: Canvas


def _draw_geometry(
    rng: np.random.Generator,
    n_hard: int,
    n_soft: int,
    n_ports: int,
    utilisation: float,
    grid: tuple[int, int] | None,
) -> _Geometry:
    """Macro sizes, a canvas they fit, hard macros placed apart, soft macros and ports spread:
    the legal initial placement the nets are drawn around."""
    hw, hh = _sizes(rng, n_hard, HARD_AREA_MEAN, 0.4, 2.0)
    sw, sh = _sizes(rng, n_soft, SOFT_AREA_MEAN, 0.3, 1.5)
    side = _canvas_side(hw, hh, sw, sh, utilisation)
    W, hx, hy = _place_hard(rng, hw, hh, side)
    H = W
    sx = rng.uniform(sw / 2, W - sw / 2)
    sy = rng.uniform(sh / 2, H - sh / 2)
    px, py, sides = _boundary_points(rng, n_ports, W, H)
    canvas: Canvas = default_canvas(W, H, n_hard + n_soft, grid)
    return _Geometry(hw, hh, hx, hy, sw, sh, sx, sy, px, py, sides, W, H, canvas)


def _canvas_side(
    hw: np.ndarray, hh: np.ndarray, sw: np.ndarray, sh: np.ndarray, utilisation: float
) -> float:
    """The square canvas's side for the macro area at ``utilisation``, at least every macro's
    own width and height (so each fits); refused when it passes ``MAX_MAGNITUDE``."""
    total_area = float(np.sum(hw * hh) + np.sum(sw * sh))
    side = math.sqrt(total_area / utilisation)
    if not side <= MAX_MAGNITUDE:  # (1e-300 passed here and failed later, naming the canvas)
        raise InputError(f"utilisation {utilisation} makes the canvas wider than {MAX_MAGNITUDE:g}")
    return max(side, *(float(np.max(a, initial=0)) for a in (hw, hh, sw, sh)))  # every macro fits


def _place_hard(
    rng: np.random.Generator, hw: np.ndarray, hh: np.ndarray, side: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """``(W, x, y)``: the hard macros placed apart on a square canvas of side ``W``, grown from
    ``side`` by 5 % steps until random placement or shelf packing fits them."""
    while True:
        W = H = math.ceil(side * 100) / 100
        placed = _place_hard_random(rng, hw, hh, W, H) or _place_hard_shelves(hw, hh, W, H)
        if placed is not None:
            return W, placed[0], placed[1]
        side *= 1.05


# ------------------------------------------------------------------ nodes
def _add_ports(b: NetlistBuilder, geo: _Geometry) -> list[int]:
    """Add the ports ``port_<k>`` on the boundary; their node indices."""
    return [
        b.add_node(f"port_{k}", NodeType.PORT, x=float(geo.px[k]), y=float(geo.py[k]), side=geo.sides[k])
        for k in range(len(geo.sides))
    ]


def _add_hard_macros(
    rng: np.random.Generator, b: NetlistBuilder, geo: _Geometry, pins_per_hard: tuple[int, int]
) -> list[int]:
    """Add the hard macros ``a<m>``, each followed by its pins at uniform offsets; the pins'
    node indices."""
    hw, hh, hx, hy = geo.hw, geo.hh, geo.hx, geo.hy
    hard_pins: list[int] = []
    for m in range(hw.shape[0]):
        mname = f"a{m}"
        b.add_node(
            mname,
            NodeType.HARD_MACRO,
            width=float(hw[m]),
            height=float(hh[m]),
            x=float(hx[m]),
            y=float(hy[m]),
        )
        n_pins = int(rng.integers(pins_per_hard[0], pins_per_hard[1] + 1))
        dx = np.round(rng.uniform(-hw[m] / 2, hw[m] / 2, n_pins), 3)
        dy = np.round(rng.uniform(-hh[m] / 2, hh[m] / 2, n_pins), 3)
        for j in range(n_pins):
            hard_pins.append(
                b.add_node(
                    f"{mname}/P{j}",
                    NodeType.HARD_PIN,
                    macro_name=mname,
                    dx=float(dx[j]),
                    dy=float(dy[j]),
                    x=float(hx[m] + dx[j]),
                    y=float(hy[m] + dy[j]),
                )
            )
    return hard_pins


def _add_soft_macros(
    rng: np.random.Generator,
    b: NetlistBuilder,
    geo: _Geometry,
    outputs_per_soft: tuple[int, int],
    weighted_fraction: float,
    max_weight: int,
) -> tuple[list[int], list[int]]:
    """Add the soft macros ``Grp_<m>``, each followed by its (sometimes weighted) output pins
    and its one input pin; the output and input pins' node indices."""
    soft_outputs: list[int] = []
    soft_inputs: list[int] = []
    for m in range(geo.sw.shape[0]):
        mname = f"Grp_{m}"
        x, y = float(geo.sx[m]), float(geo.sy[m])
        b.add_node(mname, NodeType.SOFT_MACRO, width=float(geo.sw[m]), height=float(geo.sh[m]), x=x, y=y)
        n_out = int(rng.integers(outputs_per_soft[0], outputs_per_soft[1] + 1))
        for j in range(1, n_out + 1):
            weight = (
                float(rng.integers(2, max_weight + 1)) if rng.random() < weighted_fraction else 1.0
            )
            soft_outputs.append(
                b.add_node(
                    f"{mname}/Poutput_{j}",
                    NodeType.SOFT_PIN,
                    macro_name=mname,
                    weight=weight,
                    x=x,
                    y=y,
                )
            )
        soft_inputs.append(
            b.add_node(f"{mname}/Pinput", NodeType.SOFT_PIN, macro_name=mname, x=x, y=y)
        )
    return soft_outputs, soft_inputs


# ------------------------------------------------------------------- nets
@dataclass
class _NetSpace:
    """What the sink draws read: each node's position and the macro it sits on, the drivers,
    the distance scale L and the sinks drawn so far for each driver."""

    x: np.ndarray
    y: np.ndarray
    anchor: np.ndarray
    drivers: np.ndarray
    scale: float
    sinks_of: list[list[int]]


def _add_nets(
    rng: np.random.Generator,
    b: NetlistBuilder,
    geo: _Geometry,
    ports: list[int],
    hard_pins: list[int],
    soft_outputs: list[int],
    soft_inputs: list[int],
    fanout_alpha: float,
    max_fanout: int,
    locality: float,
) -> None:
    """Draw each pin's role, each driver's fanout and sinks near it, attach the pins left out,
    and add the nets to ``b``."""
    n = len(b.names)
    drivers, exclusive, shared = _draw_roles(rng, n, hard_pins, ports, soft_outputs, soft_inputs)
    space = _NetSpace(np.array(b.x), np.array(b.y), _anchors(b), drivers,
                      locality * (geo.W + geo.H) / 2, [])  # fmt: skip
    fanouts = rng.choice(
        np.arange(1, max_fanout + 1),
        size=drivers.shape[0],
        p=_fanout_probabilities(fanout_alpha, max_fanout),
    )
    used = _draw_sinks(rng, space, fanouts, exclusive, shared)
    _attach_left_out(rng, space, exclusive, shared, used)
    for drv, sinks in zip(drivers, space.sinks_of, strict=True):
        if sinks:
            b.add_net(int(drv), sinks)


def _anchors(b: NetlistBuilder) -> np.ndarray:
    """Per node, the macro it moves with (a pin's owner, every other node itself): no net is
    drawn between two nodes with the same anchor."""
    types = np.array(b.types, dtype=np.int8)
    anchor = np.arange(len(b.names))
    # (a mask, not `types[i] in (NodeType.HARD_MACRO, ...)` per node: numpy ran Python code
    # for each such comparison and dropped a Ctrl-C landing there; most were lost)
    macros = np.flatnonzero(np.isin(types, (int(NodeType.HARD_MACRO), int(NodeType.SOFT_MACRO))))
    owner_of = {b.names[i]: i for i in macros.tolist()}
    for i, mname in enumerate(b.macro_name):
        if mname is not None:
            anchor[i] = owner_of[mname]
    return anchor


def _draw_roles(
    rng: np.random.Generator,
    n: int,
    hard_pins: list[int],
    ports: list[int],
    soft_outputs: list[int],
    soft_inputs: list[int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(drivers, exclusive, shared)``: the driving pins (sorted; a third of the hard pins, half
    of the ports, every soft output), the masks of sinks of exactly one net (the other hard
    pins and ports) and of sinks of any number of nets (the soft inputs)."""
    hard_pins_a = np.array(hard_pins, dtype=np.intp)
    ports_a = np.array(ports, dtype=np.intp)
    hard_drives = rng.random(hard_pins_a.shape[0]) < 1 / 3
    port_drives = rng.random(ports_a.shape[0]) < 1 / 2
    drivers = np.sort(
        np.concatenate(
            [hard_pins_a[hard_drives], ports_a[port_drives], np.array(soft_outputs, dtype=np.intp)]
        )
    )
    exclusive = np.zeros(n, dtype=bool)  # sink of exactly one net
    exclusive[hard_pins_a[~hard_drives]] = True
    exclusive[ports_a[~port_drives]] = True
    shared = np.zeros(n, dtype=bool)  # sink of any number of nets
    shared[np.array(soft_inputs, dtype=np.intp)] = True
    return drivers, exclusive, shared


def _draw_sinks(
    rng: np.random.Generator,
    space: _NetSpace,
    fanouts: np.ndarray,
    exclusive: np.ndarray,
    shared: np.ndarray,
) -> np.ndarray:
    """Draw each driver's sinks among the free ones on other macros, nearer ones likelier
    (into ``space.sinks_of``); the mask of nodes drawn as a sink."""
    x, y, anchor, scale = space.x, space.y, space.anchor, space.scale
    used = np.zeros(x.shape[0], dtype=bool)
    for drv, f in zip(space.drivers, fanouts, strict=True):
        cand = np.flatnonzero(((exclusive & ~used) | shared) & (anchor != anchor[drv]))
        if cand.size == 0:
            space.sinks_of.append([])
            continue
        d = np.abs(x[cand] - x[drv]) + np.abs(y[cand] - y[drv])
        chosen = cand[_gumbel_top_k(rng, -d / scale, int(f))]
        used[chosen] = True
        space.sinks_of.append([int(c) for c in chosen])
    return used


def _attach_left_out(
    rng: np.random.Generator,
    space: _NetSpace,
    exclusive: np.ndarray,
    shared: np.ndarray,
    used: np.ndarray,
) -> None:
    """Make each driver that found no free sink, then each sink in no net, the sink of a nearby
    net instead, so that no pin is left out of every net when the design allows it."""
    # A driver that found no free sink (few or no soft macros: no Pinput to share) would be in
    # no net: it becomes the sink of a nearby net instead.
    converted = np.zeros(space.drivers.shape[0], dtype=bool)
    for j, drv in enumerate(space.drivers):
        if not space.sinks_of[j]:
            converted[j] = _join_nearby_net(rng, space, converted, int(drv))
    # Every exclusive sink in exactly one net; every Pinput in at least one: attach leftovers.
    for node in np.flatnonzero((exclusive | shared) & ~used):
        _join_nearby_net(rng, space, converted, int(node))


def _join_nearby_net(
    rng: np.random.Generator, space: _NetSpace, converted: np.ndarray, node: int
) -> bool:
    """Make ``node`` a sink of a nearby net whose driver sits on another macro (and still
    drives); False when there is none."""
    drivers, x, y = space.drivers, space.x, space.y
    ok = np.flatnonzero((space.anchor[drivers] != space.anchor[node]) & ~converted)
    if ok.size == 0:
        return False
    d = np.abs(x[drivers[ok]] - x[node]) + np.abs(y[drivers[ok]] - y[node])
    space.sinks_of[int(ok[_gumbel_top_k(rng, -d / space.scale, 1)[0]])].append(int(node))
    return True


def default_design() -> tuple[Netlist, Placement]:
    """The embedded default design: 24 hard macros, 120 soft macros, 48 ports, seed 0."""
    return generate(**DEFAULT_DESIGN)  # type: ignore[arg-type]
