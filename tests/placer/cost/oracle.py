"""A literal, loop-by-loop implementation of shared/PROXY_COST.md, used only as a test oracle.

Written from the specification text alone, independently of the vectorised kernels, and
deliberately naive: one net, one cell, one macro at a time.
"""

from __future__ import annotations

import math

from netlists.model import Netlist, NodeType, Placement

_OFFSET = {
    0: lambda dx, dy: (dx, dy),
    1: lambda dx, dy: (-dx, dy),
    2: lambda dx, dy: (-dx, -dy),
    3: lambda dx, dy: (dx, -dy),
    4: lambda dx, dy: (dy, -dx),
    5: lambda dx, dy: (-dy, -dx),
    6: lambda dx, dy: (-dy, dx),
    7: lambda dx, dy: (dy, dx),
}


def _pos(nl: Netlist, p: Placement, i: int) -> tuple[float, float]:
    t = nl.node_type[i]
    if t == NodeType.SOFT_PIN:
        m = nl.pin_macro[i]
        return float(p.x[m]), float(p.y[m])
    if t == NodeType.HARD_PIN:
        m = nl.pin_macro[i]
        ox, oy = _OFFSET[int(p.orientation[m])](float(nl.pin_dx[i]), float(nl.pin_dy[i]))
        return float(p.x[m]) + ox, float(p.y[m]) + oy
    return float(p.x[i]), float(p.y[i])


def oracle_cost(nl: Netlist, p: Placement) -> dict[str, float]:
    c = nl.canvas
    assert c is not None
    W, H, C, R = c.width, c.height, c.cols, c.rows
    cw, ch = W / C, H / R

    def cell(x: float, y: float) -> tuple[int, int]:
        row = min(max(math.floor(y / ch), 0), R - 1)
        col = min(max(math.floor(x / cw), 0), C - 1)
        return row, col

    # wirelength
    total = 0.0
    cnt = 0.0
    for k in range(nl.n_nets):
        pins = [int(v) for v in nl.net(k)]
        xs, ys = zip(*(_pos(nl, p, i) for i in pins), strict=True)
        w = _driver_weight(nl, pins[0])
        total += w * ((max(xs) - min(xs)) + (max(ys) - min(ys)))
        cnt += w
    if cnt == 0:
        cnt = 1.0
    wl = total / ((W + H) * cnt)

    # density
    grid = [[0.0] * C for _ in range(R)]
    macros = [i for i in range(nl.n_nodes) if nl.node_type[i] in (NodeType.HARD_MACRO, NodeType.SOFT_MACRO)]
    for m in macros:
        x, y, mw, mh = float(p.x[m]), float(p.y[m]), float(nl.width[m]), float(nl.height[m])
        for r in range(R):
            for col in range(C):
                ox = min(x + mw / 2, (col + 1) * cw) - max(x - mw / 2, col * cw)
                oy = min(y + mh / 2, (r + 1) * ch) - max(y - mh / 2, r * ch)
                if ox > 0 and oy > 0:
                    grid[r][col] += ox * oy
    vals = [grid[r][col] / (cw * ch) for r in range(R) for col in range(C)]
    nz = sorted((v for v in vals if v != 0), reverse=True)
    if R * C < 10:
        den = 0.5 * (sum(nz) / len(nz)) if nz else 0.0
    else:
        k = math.floor(0.1 * R * C)
        den = 0.5 * sum(nz[:k]) / k

    # congestion
    V = [[0.0] * C for _ in range(R)]
    Hd = [[0.0] * C for _ in range(R)]

    def hseg(row: int, a: int, b: int, w: float) -> None:
        for cc in range(a, b):
            Hd[row][cc] += w

    def vseg(col: int, a: int, b: int, w: float) -> None:
        for rr in range(a, b):
            V[rr][col] += w

    def two(src: tuple[int, int], t: tuple[int, int], w: float) -> None:
        hseg(src[0], min(src[1], t[1]), max(src[1], t[1]), w)
        vseg(t[1], min(src[0], t[0]), max(src[0], t[0]), w)

    for k in range(nl.n_nets):
        pins = [int(v) for v in nl.net(k)]
        cells = [cell(*_pos(nl, p, i)) for i in pins]
        src = cells[0]
        G = set(cells)
        r = max(_driver_weight(nl, pins[0]), 1.0)
        if len(G) == 1:
            continue
        if len(G) == 3:
            s = sorted(G, key=lambda rc: (rc[1], rc[0]))
            (y1, x1), (y2, x2), (y3, x3) = s
            if x1 < x2 < x3 and min(y1, y3) < y2 < max(y1, y3):
                hseg(y1, x1, x2, r)
                hseg(y2, x2, x3, r)
                vseg(x2, min(y1, y2), max(y1, y2), r)
                vseg(x3, min(y2, y3), max(y2, y3), r)
            elif x2 == x3 and x1 < x2 and y1 < min(y2, y3):
                hseg(y1, x1, x2, r)
                vseg(x2, y1, max(y2, y3), r)
            elif y2 == y3:
                hseg(y1, x1, x2, r)
                hseg(y2, x2, x3, r)
                vseg(x2, min(y1, y2), max(y1, y2), r)
            else:
                s = sorted(G)
                (y1, x1), (y2, x2), (y3, x3) = s
                hseg(y2, min(x1, x2, x3), max(x1, x2, x3), r)
                vseg(x1, min(y1, y2), max(y1, y2), r)
                vseg(x3, min(y2, y3), max(y2, y3), r)
        else:
            for t in G:
                if t != src:
                    two(src, t, r)
    for rr in range(R):
        for cc in range(C):
            V[rr][cc] /= cw * c.vroutes_per_micron
            Hd[rr][cc] /= ch * c.hroutes_per_micron
    s = c.smooth_range
    Vs = [[0.0] * C for _ in range(R)]
    Hs = [[0.0] * C for _ in range(R)]
    for rr in range(R):
        for cc in range(C):
            cols = [q for q in range(cc - s, cc + s + 1) if 0 <= q < C]
            for q in cols:
                Vs[rr][q] += V[rr][cc] / len(cols)
            rows = [q for q in range(rr - s, rr + s + 1) if 0 <= q < R]
            for q in rows:
                Hs[q][cc] += Hd[rr][cc] / len(rows)
    Vm = [[0.0] * C for _ in range(R)]
    Hm = [[0.0] * C for _ in range(R)]
    for m in macros:
        if nl.node_type[m] != NodeType.HARD_MACRO:
            continue
        x, y, mw, mh = float(p.x[m]), float(p.y[m]), float(nl.width[m]), float(nl.height[m])
        r0, c0 = cell(x - mw / 2, y - mh / 2)
        r1, c1 = cell(x + mw / 2, y + mh / 2)
        dxs: dict[tuple[int, int], float] = {}
        dys: dict[tuple[int, int], float] = {}
        for rr in range(r0, r1 + 1):
            for cc in range(c0, c1 + 1):
                dx = min(x + mw / 2, (cc + 1) * cw) - max(x - mw / 2, cc * cw)
                dy = min(y + mh / 2, (rr + 1) * ch) - max(y - mh / 2, rr * ch)
                if dx > 0 and dy > 0:
                    Vm[rr][cc] += dx * c.vrouting_alloc
                    Hm[rr][cc] += dy * c.hrouting_alloc
                else:
                    dx = dy = 0.0
                dxs[rr, cc] = dx
                dys[rr, cc] = dy
        if r1 != r0 and any(
            abs(dys[rr, cc] - ch) > 1e-5 for rr in (r0, r1) for cc in range(c0, c1 + 1)
        ):
            for cc in range(c0, c1 + 1):
                Vm[r1][cc] -= dxs[r1, cc] * c.vrouting_alloc
        if c1 != c0 and any(
            abs(dxs[rr, cc] - cw) > 1e-5 for cc in (c0, c1) for rr in range(r0, r1 + 1)
        ):
            for rr in range(r0, r1 + 1):
                Hm[rr][c1] -= dys[rr, c1] * c.hrouting_alloc
    allv = []
    for rr in range(R):
        for cc in range(C):
            allv.append(Vs[rr][cc] + Vm[rr][cc] / (cw * c.vroutes_per_micron))
    for rr in range(R):
        for cc in range(C):
            allv.append(Hs[rr][cc] + Hm[rr][cc] / (ch * c.hroutes_per_micron))
    allv.sort(reverse=True)
    k = math.floor(0.05 * 2 * R * C)
    cong = allv[0] if k == 0 else sum(allv[:k]) / k
    return {"wirelength": wl, "density": den, "congestion": cong, "hpwl": total}


def _driver_weight(nl, driver: int) -> float:  # type: ignore[no-untyped-def]
    """The spec's net weight: the driver's ``weight``; ports weigh 1."""
    return 1.0 if nl.node_type[driver] == NodeType.PORT else float(nl.weight[driver])
