"""Incremental construction of a :class:`~netlists.model.Netlist` from node and net records.

Readers and generators append nodes and nets here, then call :meth:`NetlistBuilder.build`,
which resolves sink names, checks pins against their macros and packs everything into arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

import numpy as np

from netlists.errors import NetlistError
from netlists.model import Canvas, Netlist, NodeType


class NetlistBuilder:
    """Collects nodes (in index order) and nets, then builds an immutable ``Netlist``."""

    def __init__(self, name: str, path: str | None = None) -> None:
        self.name = name
        self.path = path
        self.names: list[str] = []
        self.types: list[int] = []
        self.width: list[float] = []
        self.height: list[float] = []
        self.x: list[float] = []
        self.y: list[float] = []
        self.orientation: list[int] = []
        self.macro_name: list[str | None] = []
        self.dx: list[float] = []
        self.dy: list[float] = []
        self.weight: list[float] = []
        self.side: list[str] = []
        self.lines: list[int | None] = []
        # nets: driver index, sink names, line of the driver (for errors)
        self._net_driver: list[int] = []
        self._net_sinks: list[Sequence[str]] = []
        self._net_sink_idx: list[Sequence[int]] = []
        self._net_sink_lines: list[Sequence[int] | None] = []  # each named sink's line, if known
        self.metadata: dict[str, object] = {}

    def add_node(
        self,
        name: str,
        node_type: NodeType,
        *,
        width: float = 0.0,
        height: float = 0.0,
        x: float = 0.0,
        y: float = 0.0,
        orientation: int = 0,
        macro_name: str | None = None,
        dx: float = 0.0,
        dy: float = 0.0,
        weight: float = 1.0,
        side: str = "",
        line: int | None = None,
    ) -> int:
        """Append one node; returns its index."""
        self.names.append(name)
        self.types.append(int(node_type))
        self.width.append(width)
        self.height.append(height)
        self.x.append(x)
        self.y.append(y)
        self.orientation.append(orientation)
        self.macro_name.append(macro_name)
        self.dx.append(dx)
        self.dy.append(dy)
        self.weight.append(weight)
        self.side.append(side)
        self.lines.append(line)
        return len(self.names) - 1

    def add_net_by_name(self, driver: int, sinks: Sequence[str], lines: Sequence[int] | None = None) -> None:
        """A net driven by node ``driver`` whose sinks are given by name (``lines``: the file
        line of each, for an error naming a sink that is no node)."""
        self._net_driver.append(driver)
        self._net_sinks.append(sinks)
        self._net_sink_idx.append(())
        self._net_sink_lines.append(lines)

    def add_net(self, driver: int, sinks: Sequence[int]) -> None:
        """A net driven by node ``driver`` whose sinks are given by index."""
        self._net_driver.append(driver)
        self._net_sinks.append(())
        self._net_sink_idx.append(sinks)
        self._net_sink_lines.append(None)

    def _bad_pin(self, i: int, mname: str | None, want: int, index: dict[str, int]) -> NoReturn:
        """Raise the NetlistError for pin ``i`` whose macro is missing or of the wrong kind."""
        if mname is None:
            raise NetlistError(
                f"pin {self.names[i]!r} lacks the 'macro_name' attribute", self.path, self.lines[i]
            )
        j = index.get(mname)
        if j is None:
            raise NetlistError(
                f"pin {self.names[i]!r} names unknown macro {mname!r}", self.path, self.lines[i]
            )
        raise NetlistError(
            f"pin {self.names[i]!r} of type {NodeType(self.types[i]).name} names "
            f"{mname!r}, which is a {NodeType(self.types[j]).name}, not a {NodeType(want).name}",
            self.path,
            self.lines[i],
        )

    def build(self, canvas: Canvas | None = None) -> Netlist:
        """Resolve names and pack into arrays (raises NetlistError on dangling references)."""
        n = len(self.names)
        index: dict[str, int] = {}
        for i, nm in enumerate(self.names):
            if nm in index:
                raise NetlistError(f"duplicate node name {nm!r}", self.path, self.lines[i])
            index[nm] = i
        types = np.array(self.types, dtype=np.int8)

        pin_macro = np.full(n, -1, dtype=np.int64)
        hard_pin, hard_macro, soft_macro = int(NodeType.HARD_PIN), int(NodeType.HARD_MACRO), int(NodeType.SOFT_MACRO)
        type_list = self.types
        macro_names = self.macro_name
        for i in np.flatnonzero(types >= hard_pin).tolist():
            mname = macro_names[i]
            j = index.get(mname) if mname is not None else None
            want = hard_macro if type_list[i] == hard_pin else soft_macro
            if j is None or type_list[j] != want:
                self._bad_pin(i, mname, want, index)
            pin_macro[i] = j

        n_nets = len(self._net_driver)
        sizes = np.empty(n_nets, dtype=np.int64)
        flat: list[int] = []
        for k in range(n_nets):
            drv = self._net_driver[k]
            flat.append(drv)
            names = self._net_sinks[k]
            if names:
                try:
                    flat.extend([index[s] for s in names])
                except KeyError:
                    at = next(i for i, s in enumerate(names) if s not in index)
                    lines = self._net_sink_lines[k]
                    raise NetlistError(
                        f"node {self.names[drv]!r} has input {names[at]!r}, which is no node of the netlist",
                        self.path,
                        lines[at] if lines else self.lines[drv],  # (the input's line where known)
                    ) from None
                sizes[k] = len(names) + 1
            else:
                idx = self._net_sink_idx[k]
                flat.extend(int(s) for s in idx)
                sizes[k] = len(idx) + 1
        net_ptr = np.zeros(n_nets + 1, dtype=np.int64)
        np.cumsum(sizes, out=net_ptr[1:])
        net_pins = np.array(flat, dtype=np.int64)
        if net_pins.size and (net_pins.min() < 0 or net_pins.max() >= n):
            raise NetlistError("net refers to a node index out of range", self.path)
        weight = np.array(self.weight, dtype=np.float64)
        net_driver = np.array(self._net_driver, dtype=np.int64)
        return Netlist(
            name=self.name,
            names=tuple(self.names),
            node_type=types,
            width=np.array(self.width, dtype=np.float64),
            height=np.array(self.height, dtype=np.float64),
            x=np.array(self.x, dtype=np.float64),
            y=np.array(self.y, dtype=np.float64),
            orientation=np.array(self.orientation, dtype=np.int8),
            pin_macro=pin_macro,
            pin_dx=np.array(self.dx, dtype=np.float64),
            pin_dy=np.array(self.dy, dtype=np.float64),
            weight=weight,
            side=tuple(self.side),
            net_driver=net_driver,
            net_ptr=net_ptr,
            net_pins=net_pins,
            # PROXY_COST.md: a net weighs its driver's weight, and ports weigh 1 (a port's own
            # weight attribute does not count)
            net_weight=np.where(types[net_driver] == int(NodeType.PORT), 1.0, weight[net_driver])
            if n_nets
            else np.zeros(0),
            canvas=canvas,
            metadata=dict(self.metadata),
        )
