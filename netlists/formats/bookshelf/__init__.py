"""Bookshelf placement format (ISPD / ICCAD academic suites): ``.aux .nodes .nets .pl .scl [.wts]``.

Files: ``.aux`` names the others (``RowBasedPlacement : d.nodes d.nets d.wts d.pl d.scl``);
``.nodes`` has ``NumNodes``/``NumTerminals`` and ``name width height [terminal|terminal_NI]``;
``.nets`` has ``NumNets``/``NumPins`` and, per net, ``NetDegree : k name`` followed by k lines
``node I|O|B [: dx dy]`` (offsets from the node *centre*, orientation N); ``.pl`` has
``name x y : ORIENT [/FIXED|/FIXED_NI]`` with the *lower-left* corner of the (turned) node;
``.scl`` has ``CoreRow`` blocks (``Coordinate``, ``Height``, ``Sitewidth``, ``Sitespacing``,
``SubrowOrigin``, ``NumSites``); the optional ``.wts`` has ``name weight`` lines (net weights;
lines naming a node are node weights and are ignored).

Mapping into :class:`~netlists.model.Netlist`:

* row height = the largest row ``Height``; a terminal of zero area is a PORT, and so is a pad:
  a terminal with an area that lies wholly outside the rows (I/O pads around the core) or is
  ``terminal_NI`` (allowed to overlap anything), at its centre (its pins meet there; its size
  is kept in ``metadata`` for writing); other terminals and every node taller than the row
  height are hard macros (fixed blockages); the rest are soft macros (standard cells or
  clusters; a cell of double height or more is a hard macro). Terminals are fixed, as are
  ``/FIXED`` and ``/FIXED_NI`` nodes.
* every pin line of a net becomes a pin node ``<node>/P<j>`` (j counts that node's pins in net
  order), placed right after its node: HARD_PIN with the offset for a hard macro, SOFT_PIN for
  a soft macro (offset kept, though the cost puts soft pins at the centre); a port is its own pin.
* a net's driver is its first ``O`` pin (else its first pin); the other pins follow in file
  order. The ``.wts`` weight (1 when absent) goes into ``net_weight`` and the driver's
  ``weight``. (A port may drive several nets; its ``weight`` is that of the first.)
* sizes are the footprint as placed: a node turned E, FE, W or FW gets the ``.nodes`` width
  and height swapped (the cost reads sizes whatever the orientation; writing swaps them back).
  Positions are centres: lower-left + half the footprint, shifted so that the lower-left corner of the rows' bounding box is the origin (the
  sum rounded once). The
  canvas is that bounding box; grid and routing follow :mod:`netlists.defaults`.
* ``metadata`` keeps what the model has no field for, so that writing restores it:
  ``bookshelf_origin`` (the shift), ``bookshelf_rows``, ``bookshelf_row_height``,
  ``bookshelf_net_names``, ``bookshelf_terminals`` (name -> ``terminal``/``terminal_NI``) and
  ``bookshelf_pad_sizes`` (name -> ``.nodes`` width and height of each pad).

Writing lists ports and macros as nodes (ports 0 x 0, ``terminal``; pads with their size and a
``# placer-gym kind : NAME pad`` comment, so they stay ports wherever they lie) and every net pin by its
owner; the driver is written ``O``, the other pins ``I`` (``B`` directions are not kept). Netlists
that did not come from Bookshelf get rows synthesised over the canvas with the tallest soft macro
as row height, at least 1/10,000 of the canvas's height (so hard macros no taller than that are standard cells to other Bookshelf tools,
which do not read the kind comments below) and net names from their drivers; a macro the reader's height rule would class
otherwise (a hard macro no taller than a row) is named in a ``# placer-gym kind : NAME hard``
comment of the ``.nodes``, which the reader applies, so hard macros stay hard. The canvas grid and routing figures are written as a ``# placer-gym canvas``
comment in the ``.scl`` and read back from it, so for a design read from Bookshelf, read ->
write -> read gives the same netlist, placement and canvas (corners are written so that the
centres read back exactly). A design from another format comes back in Bookshelf's own shape:
ports are fixed terminals and every net pin is its own pin node, so node indices (and the
design's ``.plc`` files) do not carry over.

Modules: ``grammar`` (what reader and writer share: file kinds, ``# placer-gym`` comments,
names, footprints), ``coordinates`` (exact corners and centres), ``parse`` (each file read into
raw records, malformed input refused), ``reader`` (:func:`read_bookshelf`: the records made a
netlist and placement) and ``writer`` (:func:`write_bookshelf`, :func:`bookshelf_texts`,
:func:`pl_text`). The names below are the package's interface.
"""

from netlists.formats.bookshelf.grammar import is_bookshelf_aux, is_bookshelf_pl
from netlists.formats.bookshelf.reader import PIN_OVERHANG, listed_files, read_bookshelf
from netlists.formats.bookshelf.writer import (
    bookshelf_texts,
    check_pl_writable,
    pl_text,
    write_bookshelf,
)

__all__ = [
    "PIN_OVERHANG",
    "bookshelf_texts",
    "check_pl_writable",
    "is_bookshelf_aux",
    "is_bookshelf_pl",
    "listed_files",
    "pl_text",
    "read_bookshelf",
    "write_bookshelf",
]
