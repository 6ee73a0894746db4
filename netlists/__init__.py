"""The chip: netlist data model, file formats, generators (the lowest layer: numpy, and networkx for the graph views).

Where to start: :func:`netlists.io.load_design` reads a Circuit Training ``netlist.pb.txt``
with its ``.plc`` (or a Bookshelf ``.aux``) into an immutable :class:`netlists.model.Netlist`
and a mutable :class:`netlists.model.Placement`; :func:`netlists.designs.load_builtin` gives
the shipped ``ariane133``; :func:`netlists.generate.generate` and ``default_design`` make
seeded synthetic designs; :mod:`netlists.formats` holds one reader/writer module per format;
:mod:`netlists.graph` gives networkx views; :mod:`netlists.errors` the error classes every
package raises (``InputError``, ``Unavailable``, ``UnknownName``).
"""
