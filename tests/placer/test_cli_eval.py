"""`placer eval`, `placer info`, `placer demo`: output and clean errors."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.table import Table
from typer.testing import CliRunner

from netlists.designs import builtin_path
from netlists.generate import generate
from placer.cli import app

runner = CliRunner()
ARIANE = builtin_path() / "netlist.pb.txt.gz"


def test_eval_json_has_documented_keys() -> None:
    res = runner.invoke(app, ["eval", str(ARIANE), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    for key in ("wirelength", "density", "congestion", "proxy", "timing", "seconds"):
        assert key in out
    assert set(out["seconds"]) == {"parse", "cost"}
    assert abs(out["proxy"] - (out["wirelength"] + 0.5 * out["density"] + 0.5 * out["congestion"])) < 1e-12
    assert abs(out["density"] - 0.6067) < 1e-4  # header value of the real design
    # legality beside the cost: ariane133's initial.plc has 36 macros over the canvas edge
    # (a macro 10 canvases away got a cost and not a word)
    assert (out["outside_macros"], out["overlapping_pairs"], out["overlap_area"]) == (36, 0, 0.0)
    assert (out["outside_hard"], out["outside_soft"]) == (18, 18)  # (nothing split them by kind)
    assert out["legal"] is False  # (the README says eval tells whether it is legal: no such key)
    table = runner.invoke(app, ["eval", str(ARIANE)])
    assert "note: not a legal placement (36 macro(s) outside the canvas" in " ".join(table.output.split())


def test_eval_refuses_a_position_past_1e15_and_json_has_no_infinity(tmp_path: Path) -> None:
    """A coordinate near 1e308 made the wirelength infinite; the .plc reader now refuses it on
    its line, and the JSON writer still turns any non-finite figure into null (json.dumps
    writes the invalid token Infinity)."""
    from netlists.formats.plc import write_plc
    from netlists.io import load_design
    from placer.commands.evaluate import _finite_or_null

    netlist, placement = load_design(ARIANE)
    h = netlist.hard_macros[0]
    placement.x[h] = placement.y[h] = 1e308
    write_plc(tmp_path / "far.plc", netlist, placement)
    res = runner.invoke(app, ["eval", str(ARIANE), str(tmp_path / "far.plc"), "--json"])
    assert res.exit_code == 2 and "x must be at most 1e+15 in size" in res.output
    assert _finite_or_null({"proxy": math.inf, "timing": {"tail": math.nan, "mean": 1.0}}) == {
        "proxy": None, "timing": {"tail": None, "mean": 1.0}}


def test_eval_table_and_info() -> None:
    res = runner.invoke(app, ["eval", str(ARIANE), str(builtin_path() / "initial.plc")])
    assert res.exit_code == 0 and "proxy" in res.stdout and "timing" in res.stdout
    res = runner.invoke(app, ["info", str(ARIANE)])
    assert res.exit_code == 0
    assert "133" in res.stdout and "24 x 21" in res.stdout
    assert "1433.406 x 1433.406" in res.stdout  # as the .plc gives it, not rounded to 1433.41


def test_info_without_plc_still_counts(tmp_path: Path) -> None:
    import shutil

    shutil.copy(ARIANE, tmp_path / "netlist.pb.txt.gz")
    res = runner.invoke(app, ["info", str(tmp_path / "netlist.pb.txt.gz")])
    assert res.exit_code == 0 and "no .plc" in res.stdout


def test_info_json_gives_counts_and_canvas_and_null_without_a_plc(tmp_path: Path) -> None:
    """Only eval printed JSON; scripts had to scrape info's table."""
    import shutil

    from netlists.io import load_design

    netlist, _ = load_design(ARIANE)
    res = runner.invoke(app, ["info", str(ARIANE), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["design"] == "ariane133" and out["counts"] == dict(netlist.counts())
    assert out["counts"]["hard_macros"] == 133
    assert out["canvas"] == {
        "width": 1433.406, "height": 1433.406, "cols": 24, "rows": 21, "hroutes_per_micron": 57.031,
        "vroutes_per_micron": 56.818, "hrouting_alloc": 39.583, "vrouting_alloc": 30.303,
        "smooth_range": 0,
    }  # fmt: skip
    shutil.copy(ARIANE, tmp_path / "netlist.pb.txt.gz")
    res = runner.invoke(app, ["info", str(tmp_path / "netlist.pb.txt.gz"), "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["canvas"] is None, res.output


def test_bad_input_is_one_line_on_stderr_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "netlist.pb.txt"
    bad.write_text("node {\n  name: \"a\"\n  bogus\n}\n")
    for args in (["eval", str(bad)], ["eval", str(tmp_path / "missing.pb.txt")], ["info", str(bad)]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert res.stderr.count("\n") == 1 and res.stderr.startswith("placer: error: ")
        assert "Traceback" not in res.output


def test_demo_places_the_default_design_and_saves_plc_and_picture(tmp_path: Path) -> None:
    res = runner.invoke(app, ["demo", "--budget-s", "2", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "ariane133" in res.stdout and "proxy" in res.stdout and "legal: True" in res.stdout
    assert re.search(r"\(\d+\.\d% (lower|higher)\)", res.stdout)  # not "(+31.7% lower)"
    # ariane133's shipped placement is not legal: its cost is no bar to clear (said without a word)
    assert "† not a legal placement as shipped: 36 macro(s) outside the canvas" in " ".join(res.stdout.split())
    # the seconds column holds the run on the method's row, reading and scoring on the others
    assert ("s: refine's run on its row, scoring on the default's initial one, reading and scoring on "
            "ariane133's (the real built-in design)") in " ".join(res.stdout.split())
    # the table fits 80 columns: no row label folded onto a second line
    narrow = runner.invoke(app, ["demo", "--budget-s", "0.2", "--out", str(tmp_path / "narrow")], env={"COLUMNS": "80"})
    rows = [line for line in narrow.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 3 and all(line.split("│")[1].strip() for line in rows), narrow.stdout
    assert narrow.stdout.splitlines()[0].strip().startswith("placer demo: refine, 0.2 s, on the embedded default design")
    assert (tmp_path / "default.plc").stat().st_size > 0
    assert (tmp_path / "default.png").read_bytes()[:4] == b"\x89PNG"
    assert "# This file : default.plc" in (tmp_path / "default.plc").read_text().splitlines()


def test_the_demos_picture_names_its_seed_and_budget(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The picture was titled "default design, refine": two demo runs of other seeds or
    budgets drew the same title."""
    import placer.plot

    drawn = []
    real = placer.plot.plot_placement
    monkeypatch.setattr(placer.plot, "plot_placement",
                        lambda *args, title=None, **kw: drawn.append(title) or real(*args, title=title, **kw))
    res = runner.invoke(app, ["demo", "--budget-s", "0.2", "--seed", "3", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert drawn == ["default design, refine, seed 3, budget 0.2 s"]


def test_demo_writes_its_plc_and_picture_as_one_set(tmp_path: Path, monkeypatch) -> None:
    """A picture that cannot be written (a full disk) leaves the earlier .plc and picture as
    they were: the demo wrote its .plc first, so a failure left a new .plc beside an old picture."""
    import errno

    from matplotlib.figure import Figure

    (tmp_path / "default.plc").write_text("earlier\n")
    (tmp_path / "default.png").write_bytes(b"earlier picture")

    def full_disk(*args, **kwargs) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full_disk)
    res = runner.invoke(app, ["demo", "--budget-s", "0.2", "--out", str(tmp_path)])
    assert res.exit_code != 0 and "No space left on device" in res.output, res.output
    assert (tmp_path / "default.plc").read_text() == "earlier\n"
    assert (tmp_path / "default.png").read_bytes() == b"earlier picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["default.plc", "default.png"]


def test_a_built_in_designs_name_reads_it_from_anywhere(tmp_path: Path, monkeypatch) -> None:
    """An installed package keeps ariane133 in its data folder: `placer info ariane133` said
    "no such file", and only `placer demo` could use it."""
    monkeypatch.chdir(tmp_path)
    by_name = runner.invoke(app, ["eval", "ariane133", "--json"])
    by_path = runner.invoke(app, ["eval", str(ARIANE), "--json"])
    assert by_name.exit_code == 0, by_name.output
    assert json.loads(by_name.stdout)["proxy"] == json.loads(by_path.stdout)["proxy"]
    assert runner.invoke(app, ["info", "ariane133"]).exit_code == 0
    (tmp_path / "ariane133").mkdir()  # a folder of that name here is what it names
    assert runner.invoke(app, ["info", "ariane133"]).exit_code == 2


def test_default_names_the_embedded_design_the_demo_places(tmp_path: Path, monkeypatch) -> None:
    """`placer eval default` said "no such file": the main job's design could not be evaluated,
    placed or plotted by name."""
    from netlists.generate import default_design
    from placer.cost.proxy import evaluate

    monkeypatch.chdir(tmp_path)
    netlist, placement = default_design()
    shown = runner.invoke(app, ["eval", "default", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["proxy"] == evaluate(netlist, placement).proxy
    assert runner.invoke(app, ["info", "default"]).exit_code == 0
    placed = runner.invoke(app, ["place", "default", "--algo", "fd", "--budget-s", "1", "--out", "p.plc", "--quiet"])
    assert placed.exit_code == 0, placed.output
    again = runner.invoke(app, ["eval", "default", "p.plc", "--json"])
    assert json.loads(again.stdout)["proxy"] != json.loads(shown.stdout)["proxy"]
    for command in ("eval", "info"):  # (info said a bare 'no such file')
        missing = runner.invoke(app, [command, "nosuch"])
        assert missing.exit_code == 2 and "no such file (or built-in design: ariane133, default)" in missing.stderr


def test_eval_says_when_timing_has_no_endpoint(tmp_path: Path, tiny_builder) -> None:  # type: ignore[no-untyped-def]
    """A design with no path from a port or hard macro to another read timing 0 as if its
    wires were all short; nothing said that 0 meant no endpoint."""
    from netlists.formats.circuit_training import write_netlist
    from netlists.formats.plc import write_plc
    from netlists.model import Canvas

    nl, pl = tiny_builder(
        ports=[("a", 0.0, 0.0), ("b", 9.0, 9.0)], soft=[("s1", 1, 1, 3.0, 3.0)],
        nets=[("a", ["s1/P"], 1.0)], canvas=Canvas(10.0, 10.0, 2, 2),
    )  # fmt: skip
    write_netlist(nl, tmp_path / "netlist.pb.txt")
    write_plc(tmp_path / "initial.plc", nl, pl)
    out = json.loads(runner.invoke(app, ["eval", str(tmp_path / "netlist.pb.txt"), "--json"]).stdout)
    assert (out["timing"], out["timing_endpoints"]) == (0.0, 0)
    res = runner.invoke(app, ["eval", str(tmp_path / "netlist.pb.txt")])
    assert res.exit_code == 0 and "no timing endpoint" in res.stdout
    assert json.loads(runner.invoke(app, ["eval", str(ARIANE), "--json"]).stdout)["timing_endpoints"] > 0


def test_eval_json_carries_the_warnings_of_reading(tmp_path: Path) -> None:
    """A truncated .plc was scored with the netlist's positions for the nodes it lost; the only
    sign was a line on stderr, which a script reading --json never sees."""
    netlist = builtin_path() / "netlist.pb.txt.gz"
    lines = (builtin_path() / "initial.plc").read_text().splitlines(keepends=True)
    (tmp_path / "cut.plc").write_text("".join(lines[:-40]))
    from netlists.errors import NetlistWarning

    with pytest.warns(NetlistWarning, match="a truncated file"):  # (shown as well, as before)
        out = json.loads(runner.invoke(app, ["eval", str(netlist), str(tmp_path / "cut.plc"), "--json"]).stdout)
    assert len(out["warnings"]) == 1 and "a truncated file?" in out["warnings"][0]
    assert json.loads(runner.invoke(app, ["eval", str(netlist), "--json"]).stdout)["warnings"] == []


def test_eval_and_info_tables_name_their_units(tmp_path: Path) -> None:
    """The HPWL and the overlap area had no unit (and the area switched to 2.297e+04); info's
    canvas stood under a column headed "count"."""
    from netlists.formats.plc import write_plc
    from netlists.io import load_design

    netlist, placement = load_design(ARIANE)
    stacked = netlist.hard_macros[:3]
    placement.x[stacked], placement.y[stacked] = placement.x[stacked[0]], placement.y[stacked[0]]
    write_plc(tmp_path / "stacked.plc", netlist, placement)
    res = runner.invoke(app, ["eval", str(ARIANE), str(tmp_path / "stacked.plc")], env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    lines = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in res.stdout.splitlines()
             if line.count("│") >= 3}  # fmt: skip
    assert re.fullmatch(r"\d+\.\d{3}", lines["weighted HPWL (µm)"])
    assert re.fullmatch(r"\d+\.\d{3}", lines["hard-macro overlap area (µm²)"]) and float(lines["hard-macro overlap area (µm²)"]) > 0
    info = runner.invoke(app, ["info", str(ARIANE)], env={"COLUMNS": "160"})
    assert "canvas (W x H, µm)" in info.stdout and "count" not in info.stdout.split("\n", 3)[2]


def test_a_bookshelf_designs_figures_are_in_its_own_units_not_microns(tmp_path: Path) -> None:
    """Bookshelf files give no scale (the reader keeps the .pl's numbers), yet eval and info
    labelled its HPWL, overlap area, canvas and routing in microns; place's table too."""
    from netlists.formats.bookshelf import write_bookshelf

    aux = write_bookshelf(*generate(3, 6, 4, seed=5, name="bs"), tmp_path / "bs", "bs")
    shown = [runner.invoke(app, [command, str(aux)], env={"COLUMNS": "160"}) for command in ("eval", "info")]
    placed = runner.invoke(app, ["place", str(aux), "--algo", "greedy", "--budget-s", "1", "--quiet",
                                 "--out", str(tmp_path / "out.pl")], env={"COLUMNS": "160"})  # fmt: skip
    for res in [*shown, placed]:
        assert res.exit_code == 0, res.output
        assert "µm" not in res.stdout and "micron" not in res.stdout
    assert "weighted HPWL (.pl units)" in shown[0].stdout
    assert "hard-macro overlap area (square .pl units)" in shown[0].stdout
    assert "canvas (W x H, .pl units)" in shown[1].stdout and "routes per .pl unit (h, v)" in shown[1].stdout
    assert "hard-macro overlap area (square .pl units)" in placed.stdout


def test_eval_refuses_a_gzip_bomb_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gzip_bomb: Callable[[Path, int], Path]) -> None:
    """A netlist or .plc of a few kB that inflates to tens of MB (tens of GB for a real bomb)
    was decompressed whole; past the cap (here 32 MiB, through its variable: ariane133's 11 MB
    netlist still reads) eval says so in one line naming the file, with exit status 2 as for
    any bad input."""
    from netlists.formats.textio import MAX_DECOMPRESSED_ENV

    monkeypatch.setenv(MAX_DECOMPRESSED_ENV, str(32 * 1024**2))
    netlist_bomb = gzip_bomb(tmp_path / "netlist.pb.txt.gz", 50 * 1024**2)
    plc_bomb = gzip_bomb(tmp_path / "bomb.plc.gz", 50 * 1024**2)
    for args, bomb in ((["eval", str(netlist_bomb)], netlist_bomb), (["eval", str(ARIANE), str(plc_bomb)], plc_bomb)):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        assert "Traceback" not in res.output and res.stdout == ""
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and str(bomb) in lines[0], lines
        assert f"more than {32 * 1024**2:,} bytes" in lines[0] and MAX_DECOMPRESSED_ENV in lines[0]


def test_demo_times_its_initial_row_after_the_warm_up_and_a_long_one_keeps_80_columns(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A fresh install's first demo timed the full cost's kernel compile on its initial row
    (11.1 s), one digit too wide for 80 columns (the docs walk): the warm-up comes first, and
    10 s or more are shown in whole seconds."""
    import placer.algorithms.base as base
    import placer.cost.proxy as proxy
    from placer.commands.demo import _row

    calls = []
    real_warm, real_evaluate = base.warm_up, proxy.evaluate
    monkeypatch.setattr(base, "warm_up", lambda *a, **k: (calls.append("warm"), real_warm(*a, **k))[1])
    monkeypatch.setattr(proxy, "evaluate", lambda *a, **k: (calls.append("evaluate"), real_evaluate(*a, **k))[1])
    res = runner.invoke(app, ["demo", "--budget-s", "0.2", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert calls.index("warm") < calls.index("evaluate")
    table = Table()
    for _ in range(7):
        table.add_column()
    cost = real_evaluate(*generate(3, 6, 4, seed=1))
    _row(table, "slow", cost, 0.5, 11.1)
    _row(table, "quick", cost, 0.5, 9.94)
    assert [cell for cell in table.columns[6].cells] == ["11", "9.9"]
