"""Columnar data model of a macro-placement netlist and of a placement.

A :class:`Netlist` is immutable: node attributes and nets live in numpy arrays so that every
consumer (cost, placers, environments) vectorises over them. A :class:`Placement` holds the
mutable part (centre positions, orientations, fixed flags) for every node; many placements
share one netlist.

Node indices follow file order (a Circuit Training ``__metadata__`` node is skipped). Pin
positions are not stored: they follow from the owning macro's position, the pin offset and the
macro orientation (see :func:`netlists.model.orient_offsets`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from netlists.errors import InputError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


class NodeType(IntEnum):
    """Kinds of node in a Circuit Training netlist (stored as int8 in ``Netlist.node_type``).

    Compare numpy values (``node_type`` and its elements) with the plain ints
    (``int(NodeType.PORT)``), never with the members: numpy looks a member's
    ``__array_ufunc__`` up through Python code (Python 3.11's ``EnumType.__getattr__``) and
    drops what is raised there, so a Ctrl-C or kill landing in it was lost (in a loop over the
    nodes of ``placer generate``, most were). ``tests/test_static_checks.py`` keeps members out
    of comparisons."""

    PORT = 0
    HARD_MACRO = 1  # "MACRO": a memory / IP block
    SOFT_MACRO = 2  # "macro": a cluster of standard cells
    HARD_PIN = 3  # "MACRO_PIN"
    SOFT_PIN = 4  # "macro_pin"


#: Circuit Training type strings, by node type.
CT_TYPE_NAMES: dict[NodeType, str] = {
    NodeType.PORT: "PORT",
    NodeType.HARD_MACRO: "MACRO",
    NodeType.SOFT_MACRO: "macro",
    NodeType.HARD_PIN: "MACRO_PIN",
    NodeType.SOFT_PIN: "macro_pin",
}
CT_TYPES: dict[str, NodeType] = {v: k for k, v in CT_TYPE_NAMES.items()}

#: Orientation names; the index is the int8 code stored in placements.
ORIENTATIONS: tuple[str, ...] = ("N", "FN", "S", "FS", "E", "FE", "W", "FW")
ORIENTATION_CODE: dict[str, int] = {name: i for i, name in enumerate(ORIENTATIONS)}

# Pin-offset transform per orientation: offset used = (a*dx + b*dy, c*dx + d*dy).
_ORIENT_MATRIX = np.array(
    [
        [1, 0, 0, 1],  # N  ( dx,  dy)
        [-1, 0, 0, 1],  # FN (-dx,  dy)
        [-1, 0, 0, -1],  # S  (-dx, -dy)
        [1, 0, 0, -1],  # FS ( dx, -dy)
        [0, 1, -1, 0],  # E  ( dy, -dx)
        [0, -1, -1, 0],  # FE (-dy, -dx)
        [0, -1, 1, 0],  # W  (-dy,  dx)
        [0, 1, 1, 0],  # FW ( dy,  dx)
    ],
    dtype=np.float64,
)


def invalid_orientation_codes(codes: ArrayLike) -> np.ndarray:
    """Mask of entries of ``codes`` that are no orientation code: outside 0-7, not a whole
    number (NaN, 2.5: casting to int8 made them N or truncated them, silently) or not a number
    at all (names such as "N": :data:`ORIENTATION_CODE` maps them to codes)."""
    codes = np.asarray(codes)
    if codes.dtype.kind in "iub":
        return (codes < 0) | (codes > 7)
    if codes.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            return ~np.isfinite(codes) | (codes != np.round(codes)) | (codes < 0) | (codes > 7)
    return np.ones(codes.shape, dtype=bool)


def code_text(value: object) -> str:
    """An orientation code as a message shows it: ``9``, ``2.5``, ``nan``, ``'N'`` (not
    ``np.int8(9)``)."""
    item = value.item() if isinstance(value, np.generic) else value
    return repr(item) if isinstance(item, str) else str(item)


def check_orientation_codes(netlist: Netlist, placement: Placement, macros: np.ndarray, suffix: str = "") -> None:
    """Refuse a placement giving one of ``macros`` an orientation code that is no code (see
    :func:`invalid_orientation_codes`); ``suffix`` ends the message.

    Raises:
        ValueError: naming the first such macro and its code.
    """
    bad = invalid_orientation_codes(np.asarray(placement.orientation)[macros])
    if np.any(bad):
        k = int(macros[np.argmax(bad)])
        raise InputError(
            f"macro {netlist.names[k]!r} has orientation code {code_text(placement.orientation[k])}; "
            f"codes are whole numbers 0-7 ({', '.join(ORIENTATIONS)}; netlists.model."
            f"ORIENTATION_CODE maps the names){suffix}"
        )


def orient_offsets(
    dx: np.ndarray, dy: np.ndarray, orientation: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Turn pin offsets ``(dx, dy)`` (given for orientation N) by orientation codes."""
    m = _ORIENT_MATRIX[np.asarray(orientation, dtype=np.intp)]
    return m[..., 0] * dx + m[..., 1] * dy, m[..., 2] * dx + m[..., 3] * dy


@dataclass(frozen=True)
class Canvas:
    """Canvas, placement grid and routing parameters (the ``.plc`` header fields).

    Attributes:
        width, height: canvas size in microns, lower-left corner at the origin.
        cols, rows: placement / routing grid.
        hroutes_per_micron, vroutes_per_micron: routing tracks per micron.
        hrouting_alloc, vrouting_alloc: tracks per micron a hard macro consumes.
        smooth_range: congestion smoothing range in grid cells.
        overlap_threshold: read and written, not used by the cost.
    """

    width: float
    height: float
    cols: int
    rows: int
    hroutes_per_micron: float = 10.0
    vroutes_per_micron: float = 10.0
    hrouting_alloc: float = 0.0
    vrouting_alloc: float = 0.0
    smooth_range: int = 2
    overlap_threshold: float = 0.004

    @property
    def cell_width(self) -> float:
        return self.width / self.cols

    @property
    def cell_height(self) -> float:
        return self.height / self.rows

    @property
    def smoothing_reach(self) -> int:
        """``smooth_range`` capped at the grid's larger side: a wider range spreads every row
        and column over all of it, exactly as this one does, and a huge header value such as
        ``2**63`` would overflow the cost's integer arithmetic."""
        return int(min(self.smooth_range, max(self.cols, self.rows)))

    def replace(self, **changes: Any) -> Canvas:
        """A copy with ``changes`` (field name -> value), e.g. ``canvas.replace(cols=32, rows=32)``."""
        return dataclasses.replace(self, **changes)


#: Largest magnitude of any coordinate, size or canvas figure a design file may hold: far past
#: any real design in any unit, and small enough that sums, areas and products of such
#: numbers stay finite (``1e308`` in a file used to overflow the cost into NaN).
MAX_MAGNITUDE = 1e15

#: Most grid cells a canvas may declare. Real designs use at most a few hundred columns and
#: rows; every cost map holds one float per cell, so a typo such as ``Columns : 100000000``
#: would otherwise ask for hundreds of GiB.
MAX_GRID_CELLS = 2**22


def _is_whole_number(value: object) -> bool:
    """Whether ``value`` is an integer (Python's or numpy's; a bool is no count)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def canvas_problem(canvas: Canvas) -> tuple[str, str] | None:
    """The first field group of ``canvas`` no cost can be computed with, and why; else ``None``.

    Groups are ``grid`` (cols, rows), ``size`` (width, height), ``routes`` (per micron),
    ``alloc`` (routes used by macros), ``smooth`` and ``overlap``, so that file readers can point
    at the line that declared them. Shared by every reader, so all formats refuse the same values.
    """
    c = canvas
    if not (_is_whole_number(c.cols) and _is_whole_number(c.rows)):  # (an API caller's 2.5 or
        # True failed deep inside numpy with a cast error)
        return "grid", f"grid columns and rows must be whole numbers, got {c.cols!r} x {c.rows!r}"
    cells = c.cols * c.rows
    if c.cols < 1 or c.rows < 1:
        return "grid", f"grid must have at least one column and row, got {c.cols} x {c.rows}"
    if cells > MAX_GRID_CELLS:
        return "grid", (
            f"grid of {c.cols} x {c.rows} = {cells} cells is larger than the {MAX_GRID_CELLS} "
            "cells any cost map here allows"
        )
    if not (0 < c.width <= MAX_MAGNITUDE and 0 < c.height <= MAX_MAGNITUDE):
        return "size", (
            f"canvas must have a positive size of at most {MAX_MAGNITUDE:g}, got {c.width} x {c.height}"
        )
    if not c.cell_width * c.cell_height > 0:
        return "size", (
            f"grid cells of a {c.width} x {c.height} canvas in {c.cols} x {c.rows} cells have "
            "no area (the size underflows)"
        )
    hr, vr = c.hroutes_per_micron, c.vroutes_per_micron
    if not (0 < hr <= MAX_MAGNITUDE and 0 < vr <= MAX_MAGNITUDE):
        return "routes", (
            f"routes per micron must be positive and at most {MAX_MAGNITUDE:g}, got {hr}, {vr}"
        )
    # a cell's routing capacity divides every demand: 5e-324 routes per micron made the
    # congestion inf (or 1e300, whose squares in the search overflowed), eval printing proxy inf
    capacity = min(c.cell_width * vr, c.cell_height * hr)
    if not capacity >= 1 / MAX_MAGNITUDE:
        return "routes", (
            f"a grid cell's routing capacity (cell side x routes per micron) must be at least "
            f"{1 / MAX_MAGNITUDE:g}, got {capacity:g} (routes per micron {hr:g}, {vr:g} in "
            f"{c.cell_width:g} x {c.cell_height:g} cells)"
        )
    ha, va = c.hrouting_alloc, c.vrouting_alloc
    if not (0 <= ha <= MAX_MAGNITUDE and 0 <= va <= MAX_MAGNITUDE):
        return "alloc", (
            f"routes used by macros must be from 0 to {MAX_MAGNITUDE:g}, got {ha}, {va}"
        )
    if not (ha <= MAX_MAGNITUDE * hr and va <= MAX_MAGNITUDE * vr):
        return "alloc", (
            f"routes used by macros may be at most {MAX_MAGNITUDE:g} times the routes per micron, "
            f"got {ha:g}, {va:g} against {hr:g}, {vr:g}"
        )
    if not _is_whole_number(c.smooth_range) or c.smooth_range < 0:  # (NaN failed in int(), 1.5
        # was taken as 1)
        return "smooth", f"smoothing factor must be a whole number >= 0, got {c.smooth_range!r}"
    if not (np.isfinite(c.overlap_threshold) and c.overlap_threshold >= 0):
        return "overlap", f"overlap threshold must be finite and >= 0, got {c.overlap_threshold}"
    return None


def _frozen_all_the_way(array: np.ndarray) -> bool:
    """Whether no one can write ``array``'s data: it and every array it views are read-only
    (a read-only view of a writable array still changes with it)."""
    base: object = array
    while isinstance(base, np.ndarray):
        if base.flags.writeable:
            return False
        base = base.base
    return base is None or isinstance(base, bytes)  # (not a bytearray, mmap or other buffer)


#: The dtype of each of :class:`Netlist`'s array fields (as the readers and the builder make them).
_ARRAY_DTYPES: dict[str, type] = {
    "node_type": np.int8, "width": np.float64, "height": np.float64, "x": np.float64, "y": np.float64,
    "orientation": np.int8, "pin_macro": np.int64, "pin_dx": np.float64, "pin_dy": np.float64,
    "weight": np.float64, "net_driver": np.int64, "net_ptr": np.int64, "net_pins": np.int64,
    "net_weight": np.float64,
}


def _field_array(name: str, value: object, dtype: np.dtype) -> np.ndarray:
    """``value`` as :class:`Netlist` field ``name``'s array (see ``Netlist._as_arrays``)."""
    def refused(why: str) -> TypeError:
        return TypeError(f"Netlist.{name}: expected a one-dimensional array of {dtype.name}, {why}")

    try:
        given = np.asarray(value)
    except (TypeError, ValueError) as exc:  # (ragged lists)
        raise refused(f"got {type(value).__name__} ({exc})") from None
    if given.ndim != 1:
        raise refused(f"got {type(value).__name__} of shape {given.shape}")
    if given.dtype.kind == "O" and dtype.kind == "f":  # (Python ints past 2**64 are numbers too)
        try:
            given = given.astype(dtype)
        except (TypeError, ValueError):
            pass
    if given.dtype.kind not in "iuf" + ("b" if dtype.kind == "f" else ""):
        raise refused(f"got values of type {given.dtype}")
    if dtype.kind == "i" and given.size:
        floats = given.dtype.kind == "f"
        whole = not floats or bool(np.all(np.isfinite(given) & (given == np.round(given))))
        info = np.iinfo(dtype)
        # (a float compares with the bound as a float: 2**63 - 1 rounds up to 2**63, which then
        # passed and wrapped round to -2**63)
        too_high = given.max() >= float(info.max) + 1 if floats else given.max() > info.max
        if not whole or given.min() < info.min or too_high:
            raise refused(f"got values from {given.min()} to {given.max()}"
                          + ("" if whole else " that are not all whole numbers"))
    return given.astype(dtype)


@dataclass(frozen=True, eq=False)
class Netlist:
    """An immutable, columnar netlist.

    Per node (length ``n_nodes``): ``names``, ``node_type`` (:class:`NodeType` codes),
    ``width``/``height`` (0 for ports and pins), ``x``/``y``/``orientation`` (the positions
    written in the netlist file), ``pin_macro`` (owning macro index for pins, -1 otherwise),
    ``pin_dx``/``pin_dy`` (offsets from the macro centre for orientation N), ``weight``
    (the ``weight`` attribute, 1 where absent) and ``side`` (ports only, "" otherwise).

    Nets in CSR form (length ``n_nets``): ``net_driver`` (node index) and
    ``net_ptr``/``net_pins`` (``net_pins[net_ptr[k]:net_ptr[k+1]]`` are the driver first, then
    the sinks in file order, duplicates kept), ``net_weight`` (the driver's weight).
    """

    name: str
    names: tuple[str, ...]
    node_type: np.ndarray
    width: np.ndarray
    height: np.ndarray
    x: np.ndarray
    y: np.ndarray
    orientation: np.ndarray
    pin_macro: np.ndarray
    pin_dx: np.ndarray
    pin_dy: np.ndarray
    weight: np.ndarray
    side: tuple[str, ...]
    net_driver: np.ndarray
    net_ptr: np.ndarray
    net_pins: np.ndarray
    net_weight: np.ndarray
    canvas: Canvas | None = None
    metadata: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._as_arrays()
        self._freeze(private=False)

    def _as_arrays(self) -> None:
        """Every array field as a one-dimensional array of its dtype (``_ARRAY_DTYPES``), and
        names and sides as tuples: a list given (``dataclasses.replace(nl, width=[...])``) was
        kept, for the caller to change under the netlist, and failed deep inside the cost.

        Raises:
            TypeError: a value that is no such array: not one-dimensional, not numbers, or
                for an index or code field not whole numbers its dtype holds (1.7 was cut to 1).
        """
        for name, dtype in _ARRAY_DTYPES.items():
            value = getattr(self, name)
            if not (isinstance(value, np.ndarray) and value.dtype == dtype and value.ndim == 1):
                object.__setattr__(self, name, _field_array(name, value, np.dtype(dtype)))
        for name in ("names", "side"):
            if not isinstance(getattr(self, name), tuple):
                object.__setattr__(self, name, tuple(getattr(self, name)))

    def _freeze(self, private: bool) -> None:
        """Make every array read-only; ones that are not ``private`` and that someone can still
        write (the caller's, or a view of one: they would change the netlist under every cached
        cost, and freezing them would change the caller's) are copied first."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                if not (private or _frozen_all_the_way(value)):
                    value = value.copy()
                    object.__setattr__(self, f.name, value)
                value.setflags(write=False)

    def __setstate__(self, state: dict[str, object]) -> None:
        """Unpickling and ``copy.deepcopy`` make fresh, writable arrays of their own: freeze
        them again (no copy needed)."""
        self.__dict__.update(state)
        self._freeze(private=True)

    # ----------------------------------------------------------------- sizes
    @property
    def n_nodes(self) -> int:
        return int(self.node_type.shape[0])

    @property
    def n_nets(self) -> int:
        return int(self.net_driver.shape[0])

    def indices_of(self, kind: NodeType) -> np.ndarray:
        """Indices of all nodes of one type, in file order."""
        return np.flatnonzero(self.node_type == int(kind))

    @property
    def ports(self) -> np.ndarray:
        return self.indices_of(NodeType.PORT)

    @property
    def hard_macros(self) -> np.ndarray:
        return self.indices_of(NodeType.HARD_MACRO)

    @property
    def soft_macros(self) -> np.ndarray:
        return self.indices_of(NodeType.SOFT_MACRO)

    @property
    def macros(self) -> np.ndarray:
        """Hard and soft macros, in file order."""
        t = self.node_type
        return np.flatnonzero((t == int(NodeType.HARD_MACRO)) | (t == int(NodeType.SOFT_MACRO)))

    @property
    def placeable(self) -> np.ndarray:
        """Ports and macros: the nodes a ``.plc`` file lists."""
        t = self.node_type
        return np.flatnonzero(t <= int(NodeType.SOFT_MACRO))

    @property
    def is_pin(self) -> np.ndarray:
        return self.node_type >= int(NodeType.HARD_PIN)

    def anchor(self) -> np.ndarray:
        """For every node, the node whose position it moves with (its macro, or itself)."""
        return np.where(self.pin_macro >= 0, self.pin_macro, np.arange(self.n_nodes))

    def index(self, name: str) -> int:
        """Index of the node called ``name`` (KeyError when absent)."""
        cached = self.metadata.get("_name_index")
        # kept with the names it was made from: dataclasses.replace(names=...) shares metadata,
        # and the old lookup then named the wrong nodes
        if not (isinstance(cached, tuple) and cached[0] is self.names):
            cached = (self.names, {n: i for i, n in enumerate(self.names)})
            self.metadata["_name_index"] = cached
        return cached[1][name]

    def net(self, k: int) -> np.ndarray:
        """Node indices of net ``k``: driver first, then sinks."""
        if not 0 <= k < self.n_nets:  # -1 would slice an empty net silently
            raise IndexError(f"net {k} out of range: {self.name!r} has {self.n_nets} nets")
        return self.net_pins[self.net_ptr[k] : self.net_ptr[k + 1]]

    def with_canvas(self, canvas: Canvas) -> Netlist:
        """The same netlist on another canvas / grid."""
        return dataclasses.replace(self, canvas=canvas, metadata=dict(self.metadata))

    def require_canvas(self) -> Canvas:
        """The canvas, or an InputError saying how to give one (a netlist read without its .plc)."""
        if self.canvas is None:
            raise InputError(
                f"netlist {self.name!r} has no canvas: load it with a .plc file "
                "(netlists.io.load_design) or give one with Netlist.with_canvas"
            )
        return self.canvas

    @property
    def length_unit(self) -> str:
        """What lengths count in: ``µm`` for a Circuit Training design, ``.pl units`` for a
        Bookshelf one (its files give no scale, and the reader keeps its numbers as they are)."""
        return ".pl units" if "bookshelf_origin" in self.metadata else "µm"

    @property
    def area_unit(self) -> str:
        """What areas count in: ``µm²``, or ``square .pl units`` (see :attr:`length_unit`)."""
        return "µm²" if self.length_unit == "µm" else f"square {self.length_unit}"

    def counts(self) -> dict[str, int]:
        """Node and net counts by kind."""
        t = self.node_type
        return {
            "ports": int(np.sum(t == int(NodeType.PORT))),
            "hard_macros": int(np.sum(t == int(NodeType.HARD_MACRO))),
            "soft_macros": int(np.sum(t == int(NodeType.SOFT_MACRO))),
            "hard_macro_pins": int(np.sum(t == int(NodeType.HARD_PIN))),
            "soft_macro_pins": int(np.sum(t == int(NodeType.SOFT_PIN))),
            "nets": self.n_nets,
            "net_pins": int(self.net_pins.shape[0]),
        }

    def __repr__(self) -> str:
        """Its name, counts, canvas and grid (the dataclass's repr held every node's name: 1 MB
        for ariane133)."""
        t = self.node_type
        kinds = ", ".join(f"{kind}={int(np.count_nonzero(t == int(code)))}" for kind, code in (
            ("hard_macros", NodeType.HARD_MACRO), ("soft_macros", NodeType.SOFT_MACRO), ("ports", NodeType.PORT)))
        c = self.canvas
        where = "canvas=None" if c is None else f"canvas={c.width:g} x {c.height:g}, grid={c.cols} cols x {c.rows} rows"
        return f"Netlist(name={self.name!r}, nodes={self.n_nodes}, {kinds}, nets={self.n_nets}, {where})"

    def initial_placement(self) -> Placement:
        """The placement written in the netlist file itself."""
        return Placement(
            x=np.array(self.x, dtype=np.float64),
            y=np.array(self.y, dtype=np.float64),
            orientation=np.array(self.orientation, dtype=np.int8),
            fixed=np.zeros(self.n_nodes, dtype=bool),
        )


@dataclass(eq=False)
class Placement:
    """Mutable positions (centres), orientation codes and fixed flags of every node.

    Only ports and macros are meaningful; pins follow their macro.
    """

    x: np.ndarray
    y: np.ndarray
    orientation: np.ndarray
    fixed: np.ndarray

    def __eq__(self, other: object) -> bool:
        """Equal positions (NaN equal to NaN), orientations and fixed flags: two placements of
        the same values compared unequal (by identity), so gymnasium's ``check_env`` took an
        env whose first step ends the episode (one macro) for a nondeterministic one."""
        if not isinstance(other, Placement):
            return NotImplemented
        return (
            np.array_equal(self.x, other.x, equal_nan=True)
            and np.array_equal(self.y, other.y, equal_nan=True)
            and np.array_equal(self.orientation, other.orientation)
            and np.array_equal(self.fixed, other.fixed)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable: no hash (as a list)

    def __repr__(self) -> str:
        """Its node count, fixed count and the first and last few positions (every value of a
        placement of up to 1,000 nodes was shown)."""
        def short(array: np.ndarray) -> str:
            values = np.asarray(array).ravel()
            shown = [f"{v:g}" for v in values[:3]] + (["..."] if values.size > 6 else [])
            shown += [f"{v:g}" for v in values[max(3, values.size - 3):]]
            return f"[{', '.join(shown)}]"

        fixed = int(np.count_nonzero(self.fixed))
        return f"Placement(nodes={len(self)}, fixed={fixed}, x={short(self.x)}, y={short(self.y)})"

    def copy(self) -> Placement:
        """A copy with arrays of its own."""
        return Placement(self.x.copy(), self.y.copy(), self.orientation.copy(), self.fixed.copy())

    def standardised(self) -> Placement:
        """A copy with the standard dtypes: float64 positions, int8 orientation codes, bool
        fixed flags (integer positions would cut every move to whole microns, and 0/1 integer
        flags would index nodes 0 and 1 instead of masking)."""
        return Placement(
            np.array(self.x, dtype=np.float64),
            np.array(self.y, dtype=np.float64),
            np.array(self.orientation, dtype=np.int8),
            np.array(self.fixed, dtype=bool),
        )

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def positions(self, nodes: np.ndarray) -> np.ndarray:
        """``(len(nodes), 2)`` array of centre positions."""
        return np.stack([self.x[nodes], self.y[nodes]], axis=1)


PLACEMENT_FIELDS = ("x", "y", "orientation", "fixed")


def check_is_netlist(netlist: object) -> None:
    """Refuse anything but a :class:`Netlist` (a path, or arguments given the other way round)
    with a TypeError saying what was expected."""
    if not isinstance(netlist, Netlist):
        raise TypeError(f"expected a Netlist (netlists.io.load_design reads one), got a {type(netlist).__name__}")


def check_placement_matches(
    netlist: Netlist,
    placement: Placement,
    fields: tuple[str, ...] = PLACEMENT_FIELDS,
    arrays_only: bool = True,
    label: str = "placement",
) -> None:
    """Refuse arguments that are no :class:`Netlist` and :class:`Placement` (swapped, or a path
    given for the netlist), and a placement whose ``fields`` are not one entry per node in one
    dimension (a placement of another design, an ``(n, 1)`` column): numpy raised about
    broadcasting or indexing deep inside, or a shorter placement was silently read as legal.
    ``arrays_only`` also refuses fields that are no numpy arrays (lists) rather than reading
    their length; ``label`` names the argument in the message.

    Raises:
        TypeError: a wrong type, naming what was expected.
        ValueError: a field of the wrong shape, naming it and the design.
    """
    check_is_netlist(netlist)
    if not isinstance(placement, Placement):
        raise TypeError(f"expected a Placement as {label} (netlists.io.load_design reads one), "
                        f"got a {type(placement).__name__}")
    n = netlist.n_nodes
    for name in fields:
        value = getattr(placement, name)
        if arrays_only and not isinstance(value, np.ndarray):
            raise TypeError(
                f"{label}.{name} is a {type(value).__name__}: a Placement holds numpy arrays "
                "(numpy.asarray each, or placement.standardised())"
            )
        shape = np.shape(value)
        if shape != (n,):
            why = "a placement of another design?" if len(shape) == 1 else "one-dimensional arrays"
            raise InputError(f"{label}.{name} has shape {shape}, but the {n} nodes of {netlist.name!r} "
                             f"need ({n},): one entry per node ({why})")


def pin_positions(
    netlist: Netlist, placement: Placement, nodes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Absolute positions of ``nodes`` (all nodes by default), per the proxy-cost rules.

    Ports and macros sit at their placed centre; a soft-macro pin at its macro's centre; a
    hard-macro pin at its macro's centre plus its offset turned by the macro's orientation.
    """
    if nodes is None:
        nodes = np.arange(netlist.n_nodes)
    owner = netlist.pin_macro[nodes]
    anchor = np.where(owner >= 0, owner, nodes)
    x = placement.x[anchor].astype(np.float64, copy=True)
    y = placement.y[anchor].astype(np.float64, copy=True)
    hard = netlist.node_type[nodes] == int(NodeType.HARD_PIN)
    if np.any(hard):
        ox, oy = orient_offsets(
            netlist.pin_dx[nodes[hard]],
            netlist.pin_dy[nodes[hard]],
            placement.orientation[anchor[hard]],
        )
        x[hard] += ox
        y[hard] += oy
    return x, y
