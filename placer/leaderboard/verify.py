"""Runs checked against their files: each ok run's ``.plc`` re-read, evaluated afresh and
checked for legality, so that a table ranks only figures its placements have.

A run's stored figures are what the batch measured on the placement it wrote; a results
database edited by hand, or a ``.plc`` replaced since, would be ranked as it stands. These
checks read every design the runs name (``netlist_path``, as the batch found it) once. Each
``.plc`` is evaluated on the canvas its own header gives, as ``placer eval`` reads it: a header
edited since (grid, size, routing) changes the file's cost, and the run is refused.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from netlists.errors import InputError
from netlists.formats.plc import read_plc
from netlists.io import design_start, load_design
from netlists.model import Canvas, Netlist, Placement
from placer.algorithms.legality import check_legality
from placer.cost.proxy import evaluate
from placer.results import STATUS_OK, attempt_of

#: Relative difference at which a stored proxy is not its file's.
SAME_COST_RTOL = 1e-9

#: The columns of :func:`verify_runs`' table (there even when no run was checked).
VERIFIED_COLUMNS = ("design", "method", "seed", "budget_s", "proxy", "fresh", "initial", "same_cost", "own_file",
                    "legal", "same_legality", "seconds", "runs_dir", "plc", "canvas_changes")


def verify_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per ok run of ``runs`` (:func:`~placer.leaderboard.load_runs`' table) that has a
    ``.plc``: its stored and fresh proxy, the initial proxy, and the checks ``same_cost`` (the
    stored proxy is the file's), ``own_file`` (the file carries the run's attempt id; rows
    from before attempt ids: any file) and ``legal`` (fixed nodes where the design's start has
    them), and ``same_legality`` (the stored overlap and canvas figures, which the tables' marks
    read, say what the file's placement has). Each file is evaluated on the canvas its header
    gives (as ``placer eval`` does); ``plc`` is its path and ``canvas_changes`` says where that
    canvas is not the design's (empty when it is)."""
    rows = []
    designs: dict[str, tuple[Netlist, Placement]] = {}  # each netlist parsed once
    digests: dict[str, str | None] = {}  # and its files digested once
    for r in runs.to_dict("records"):
        if r["status"] != STATUS_OK or not isinstance(r["plc_path"], str) or not r["plc_path"]:
            continue
        run = f"the run {r['design']}/{r['method']}/seed{r['seed']} in {r['runs_dir']}"
        netlist_path = r["netlist_path"]
        if not isinstance(netlist_path, str) or not netlist_path:  # (a row edited by hand: NULL)
            raise InputError(f"{run} cannot be checked: it records no design path")
        plc = Path(r["runs_dir"]) / r["plc_path"]
        if not plc.resolve().is_relative_to(Path(r["runs_dir"]).resolve()):  # (the batch writes it inside)
            raise InputError(f"{run} cannot be checked: its .plc path {r['plc_path']!r} leads outside its runs folder")
        if netlist_path not in digests:
            digests[netlist_path] = _files_digest(run, netlist_path)
        recorded = r.get("design_digest")
        if isinstance(recorded, str) and recorded and digests[netlist_path] not in (None, recorded):
            raise InputError(  # (read before the design is: its stored figures were not wrong)
                f"{run} cannot be checked: its design's files at {netlist_path} changed since the run "
                "(their digest is not the one it recorded): restore them, or place the design again")
        try:
            if netlist_path not in designs:
                designs[netlist_path] = load_design(netlist_path)  # canvas, initial.plc
            netlist, start = designs[netlist_path]
            canvas, placement, _ = read_plc(plc, netlist)
        except (OSError, ValueError) as error:  # (a moved suite, a .plc removed or replaced)
            raise InputError(
                f"{run} cannot be checked: {error} (its design is read from where the batch found it, {netlist_path})"
            ) from None
        design_canvas = netlist.require_canvas()
        own = netlist if canvas == design_canvas else netlist.with_canvas(canvas)  # (the file's header)
        fresh = evaluate(own, placement).proxy
        attempt = r.get("plc_attempt")
        legality = check_legality(own, placement, reference=start)
        stored_illegal = (r.get("overlap_area") or 0) > 0 or (r.get("out_of_canvas") or 0) > 0
        rows.append({
            "design": r["design"], "method": r["method"], "seed": r["seed"], "budget_s": r["budget_s"],
            "proxy": r["proxy"], "fresh": fresh, "initial": r["initial_proxy"],
            "same_cost": abs(fresh - r["proxy"]) <= SAME_COST_RTOL * max(abs(fresh), 1e-12),
            "own_file": not (isinstance(attempt, str) and attempt) or attempt_of(plc) == attempt,
            "legal": legality.legal,  # (overlap and canvas, as the batch recorded them, beside fixed nodes)
            "same_legality": stored_illegal == (legality.overlapping_pairs > 0 or legality.outside_macros > 0),
            "seconds": r["seconds"], "runs_dir": r["runs_dir"], "plc": str(plc),
            "canvas_changes": _canvas_changes(design_canvas, canvas),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=VERIFIED_COLUMNS)


def _canvas_changes(design: Canvas, own: Canvas) -> str:
    """Where a ``.plc``'s header canvas ``own`` is not its design's, in words ("cols 10 in the
    design, 12 in the .plc; ..."); empty when they agree."""
    changes = [f"{field.name} {getattr(design, field.name)!r} in the design, {getattr(own, field.name)!r} in the .plc"
               for field in dataclasses.fields(Canvas) if getattr(design, field.name) != getattr(own, field.name)]  # fmt: skip
    return "; ".join(changes)


def _files_digest(run: str, netlist_path: str) -> str | None:
    """The digest the batch records of the design at ``netlist_path`` (its files as found
    there now: the netlist and initial .plc, or a Bookshelf design's files); None when a file
    is missing (reading it will say so).

    Raises:
        ValueError: ``netlist_path`` names no design file (a row edited by hand): not read.
    """
    from placer.designs import DesignFiles, design_files_digest

    path = Path(netlist_path)
    start = design_start(path)
    if start is None:
        raise InputError(f"{run} cannot be checked: its design path {netlist_path} names no design file "
                         "(a netlist.pb.txt[.gz] or a Bookshelf .aux)")
    if not path.is_file():
        return None
    return design_files_digest(DesignFiles(path.parent.name, path, start, path.parent)) or None


def failing_runs(checked: pd.DataFrame) -> pd.DataFrame:
    """The runs of :func:`verify_runs` that fail a check: a stored cost that is not the file's,
    a file that is not the run's own, an illegal placement."""
    return checked[~(checked["same_cost"] & checked["own_file"] & checked["legal"])]


def untrue_runs(checked: pd.DataFrame) -> pd.DataFrame:
    """The runs of :func:`verify_runs` whose stored figures are not their file's: the cost, the
    file itself, or the legality the tables mark (an illegal placement recorded as illegal is
    true: the tables mark it)."""
    return checked[~(checked["same_cost"] & checked["own_file"] & checked["same_legality"])]


def failure_text(failing: pd.DataFrame, most: int = 8) -> str:
    """The failing runs in words, ``most`` of them named."""
    parts = []
    for r in failing.head(most).itertuples():
        why = []
        if not r.same_cost:
            why.append(f"stored proxy {r.proxy!r}, its .plc {r.fresh!r}")
        if r.canvas_changes and not (r.same_cost and r.same_legality):
            why.append(f"its .plc {r.plc} has another canvas in its header than its design: {r.canvas_changes}")
        if not r.own_file:
            why.append("its .plc is another run's")
        if not r.same_legality:
            why.append("its stored overlap and canvas figures are not its placement's")
        elif not r.legal:
            why.append("its placement is not legal")
        parts.append(f"{r.design}/{r.method}/seed{int(r.seed)} in {r.runs_dir} ({'; '.join(why)})")
    more = f"; and {len(failing) - most} more" if len(failing) > most else ""
    return "; ".join(parts) + more
