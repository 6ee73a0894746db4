"""The leaderboard: designs x methods tables from a runs folder's ``results.sqlite``.

:func:`build` reads the ok runs and keeps one row per (design, method):

* ``aggregate="best"`` (the default): the seed with the lowest proxy (among its legal seeds,
  see :func:`illegal_cells`); its wirelength, density,
  congestion, timing and seconds are that run's. This is what a user of a method would keep.
* ``aggregate="mean"``: the mean of each column over the seeds.

Either way ``seeds`` counts the ok runs, ``proxy_mean`` / ``proxy_std`` summarise the seeds and
``failed`` counts failed runs. The ``initial`` method is a reference: the proxy of each design's
``initial.plc`` (a Bookshelf design's own ``.pl``) as the batch recorded it (no timing, no seconds). It is not ranked and never
marked best; when it is not legal (ariane133's as shipped) its cells carry the illegal mark
(runs recorded before the batch checked the initial placement's legality leave it unmarked).

:func:`write_leaderboard` writes Markdown, CSV and HTML tables (proxy, then each of its parts,
timing and seconds; best per design in bold where it leads the runner-up by at least the larger
of their seed spreads, a proxy cell of several seeds with its ``(n, sd)``, both of the seeds its
figure is chosen from: the legal ones when any is, with ``aggregate="best"``; a ``mean`` row over
the designs where every method has a result and a ``mean rank`` row, rank 1 = the lowest figure
of that table among the methods, an illegal placement after every legal one, which orders the
columns; in the proxy table a ``geomean vs initial`` row and a pairwise-wins table) and a bar
chart of the mean proxy per method.

When a runs folder holds several budgets, methods are labelled ``method@<budget>s``.

Each run records the timing model its timing figure was made with
(:data:`placer.cost.timing.TIMING_MODEL`, in the ``timing_model`` column): a figure of another
model than today's is left blank, as is a mean over seeds of two models (one recording none
counts as another; ``timing_model`` :data:`MIXED_TIMING_MODELS`), and the page names those cells
and the ones that record no model (runs made before it was recorded).

Every function taking ``runs_dirs`` accepts one runs folder or several (methods run as separate
batches, e.g. one per core, each into its own folder): their rows are pooled, and a run found in
more than one folder (a copy: the same attempt, or the same figures for rows that record none)
is counted once, from the first folder that finished it ok; two different runs under one key
(design, method, seed, budget: every batch numbers its seeds from 0) are refused, as are runs
of one method made with different options (one column would mix them). :func:`keep_cells`
(``placer leaderboard --keep``) adds the cells of an earlier ``leaderboard.csv`` that the runs
do not cover, for methods whose runs folders are gone; the page says which methods came from
there.

Modules: ``runs`` (the runs folders read and checked), ``table`` (the table computed from the
runs, numbers only), ``run_facts`` (the code and machine behind each cell: the CSV's commit, CPU and
host columns and the page's notes on them) and ``render`` (the page: Markdown, HTML, the chart, and
:func:`write_leaderboard`). The names below are the package's interface.
"""

from placer.leaderboard.render import (
    ILLEGAL_MARK,
    bar_figure,
    markdown_table,
    write_leaderboard,
)
from placer.leaderboard.runs import METRICS, RunsDirs, canonical_options, load_runs, runs_folders
from placer.leaderboard.table import (
    AGGREGATES,
    INITIAL,
    MIXED_TIMING_MODELS,
    build,
    illegal_cells,
    keep_cells,
    method_order,
    pivot,
    read_leaderboard_csv,
    summary_rows,
    table_of_runs,
)

__all__ = [
    "AGGREGATES",
    "ILLEGAL_MARK",
    "INITIAL",
    "METRICS",
    "MIXED_TIMING_MODELS",
    "RunsDirs",
    "bar_figure",
    "build",
    "canonical_options",
    "illegal_cells",
    "keep_cells",
    "load_runs",
    "markdown_table",
    "method_order",
    "pivot",
    "read_leaderboard_csv",
    "runs_folders",
    "summary_rows",
    "table_of_runs",
    "write_leaderboard",
]
