"""``placer place``: one design with its cost table, a suite batch, options and bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from netlists.formats.circuit_training import write_netlist
from netlists.formats.plc import write_plc
from netlists.generate import generate
from netlists.io import load_design
from placer.algorithms.base import Placer, register_placer
from placer.commands.common import UsageError
from placer.commands.place import parse_options, register
from placer.cost.proxy import evaluate
from placer.results import ResultStore

METHOD = "test_cli_place_shift"


@register_placer
class ShiftForCliTests(Placer):
    """Moves every movable macro by ``dx`` (an option, default 0.1) plus seeded noise."""

    name = METHOD

    def run(self, netlist, placement, budget_s, seed, progress):  # type: ignore[no-untyped-def]
        rng = np.random.default_rng(seed)
        m = netlist.macros
        placement.x[m] += float(self.options.get("dx", 0.1)) + rng.normal(0.0, 0.1, m.size)
        return placement


def make_app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:  # keeps "place" a named sub-command
        pass

    return app


@pytest.fixture
def design(tmp_path: Path) -> Path:
    folder = tmp_path / "suite" / "tiny_cli"
    folder.mkdir(parents=True)
    netlist, placement = generate(3, 6, 4, seed=5, name="tiny_cli")
    write_netlist(netlist, folder / "netlist.pb.txt")
    write_plc(folder / "initial.plc", netlist, placement)
    return folder


def test_one_design_prints_costs_and_writes_plc(design: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "placed.plc"
    result = CliRunner().invoke(make_app(), [
        "place", str(design / "netlist.pb.txt"), "--algo", METHOD, "--budget-s", "1",
        "--seed", "3", "--out", str(out), "--option", "dx=0.5", "--quiet",
    ])
    assert result.exit_code == 0, result.output
    netlist, placement = load_design(design / "netlist.pb.txt", out)
    _, initial = load_design(design / "netlist.pb.txt")
    assert f"{evaluate(netlist, placement).proxy:.6f}" in result.output
    assert f"{evaluate(netlist, initial).proxy:.6f}" in result.output
    assert "proxy" in result.output and "overlap" in result.output
    assert not np.array_equal(placement.x[netlist.macros], initial.x[netlist.macros])


@pytest.mark.parametrize("broken", ["design", "out"])
def test_a_line_break_in_a_name_is_refused_before_the_run(tmp_path: Path, broken: str) -> None:
    """A design or --out name holding a line break (which no .plc header can hold) was found
    only at the write, after the whole budget: a traceback and exit 1."""
    folder = tmp_path / ("two\nlines" if broken == "design" else "tiny")  # a design is named by its folder
    folder.mkdir()
    netlist, placement = generate(3, 6, 4, seed=5, name="tiny")
    write_netlist(netlist, folder / "netlist.pb.txt")
    write_plc(folder / "initial.plc", netlist, placement)
    out = tmp_path / ("o\n3.plc" if broken == "out" else "o.plc")
    result = CliRunner().invoke(make_app(), ["place", str(folder / "netlist.pb.txt"), "--algo", METHOD,
                                             "--budget-s", "60", "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    what = "design name 'two\\nlines'" if broken == "design" else "file name 'o\\n3.plc'"
    assert f"the {what} holds a line break: a .plc header cannot hold it" in result.output
    assert not out.exists()


def test_an_interrupted_search_writes_its_best_placement_and_exits_130(design: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The search's best-so-far was lost on Ctrl-C: nothing written, 'placer: interrupted'."""
    import signal

    from placer.commands import place as place_command

    real = place_command._run_method

    def interrupted(placer, *args, **kwargs):  # type: ignore[no-untyped-def]
        signal.raise_signal(signal.SIGINT)  # as a Ctrl-C at the search's start
        return real(placer, *args, **kwargs)

    monkeypatch.setattr(place_command, "_run_method", interrupted)
    out = tmp_path / "placed.plc"
    result = CliRunner().invoke(make_app(), ["place", str(design / "netlist.pb.txt"), "--algo", "sa",
                                             "--budget-s", "3600", "--out", str(out), "--quiet"])
    assert result.exit_code == 130, result.output
    assert "interrupted after" in " ".join(result.output.split())
    assert "# Stopped by an interrupt after" in out.read_text()
    netlist, placement = load_design(design / "netlist.pb.txt", out)
    from placer.algorithms.legality import check_legality

    assert check_legality(netlist, placement).legal


def test_suite_batch_in_process(design: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    result = CliRunner().invoke(make_app(), [
        "place", "--suite", str(design.parent), "--algo", METHOD, "--seeds", "2", "--jobs", "1",
        "--budget-s", "1", "--out", str(runs), "--quiet", "--option", f"{METHOD}.dx=0.2",
    ])
    assert result.exit_code == 0, result.output
    records = ResultStore.in_runs_dir(runs).records()
    assert [(r.design, r.seed, r.status) for r in records] == [("tiny_cli", 0, "ok"), ("tiny_cli", 1, "ok")]
    assert records[0].options == '{"dx": 0.2}'
    assert (runs / "tiny_cli" / METHOD / "seed1.plc").is_file()
    # one design's .plc names the version as a batch's does (it said "placer-gym:" alone)
    import placer

    single = tmp_path / "single.plc"
    result = CliRunner().invoke(make_app(), ["place", str(design / "netlist.pb.txt"), "--algo", METHOD,
                                             "--budget-s", "1", "--out", str(single), "--quiet"])
    assert result.exit_code == 0, result.output
    stamp = f"# Placed by placer-gym {placer.__version__}: method {METHOD}, seed 0"
    for plc in (single, runs / "tiny_cli" / METHOD / "seed0.plc"):
        assert any(line.startswith(stamp) for line in plc.read_text().splitlines()), plc


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--algo", METHOD, "--out", "x.plc"], "give NETLIST (one design) or --suite DIR (a batch)"),
        (["NETLIST", "--suite", "SUITE", "--algo", METHOD, "--out", "x.plc"], "not both"),
        (["--suite", "SUITE", "--algo", METHOD, "--out", "runs", "--designs", " , "], "names no design"),
        (["NETLIST", "--algo", "sa", "--out", "x.plc", "--plugin", "RAISING"], "could not load it: RuntimeError: boom"),
        (["NETLIST", "--out", "x.plc"], "--algo is required"),
        (["NETLIST", "--algo", "no_such_method", "--out", "x.plc"], "unknown placement method"),
        (["NETLIST", "--algo", METHOD, "--out", "x.plc", "--option", "novalue"], "key=value"),
        (["--suite", "SUITE", "--algo", METHOD, "--out", "runs", "--designs", "nope"], "no design called"),
        (["--suite", "MISSING", "--algo", METHOD, "--out", "runs"], "no such"),
        (["--suite", "NETLIST", "--algo", METHOD, "--out", "runs"], "is a file; --suite takes a folder"),
        (["NOFILE", "--algo", METHOD, "--out", "x.plc"], "no such file"),
        (["NETLIST", "--algo", "sa", "--out", "x.plc", "--option", "sa.max_step=3"], "has no option 'max_step'"),
        (["NETLIST", "--algo", "sa", "--out", "x.plc", "--plugin", "no_such_plugin_module"],
         "--plugin no_such_plugin_module: could not load it"),  # (which of several failed: unsaid)
        # a missing file was "could not load it: FileNotFoundError: [Errno 2] ...", a folder
        # "No module named '/...'", a clash named the plugin's internal module
        (["NETLIST", "--algo", "sa", "--out", "x.plc", "--plugin", "NOPLUGIN"], "--plugin NOPLUGIN: no such file (NOPLUGIN)"),
        (["NETLIST", "--algo", "sa", "--out", "x.plc", "--plugin", "SUITE"], "neither a .py file nor a module name"),
        # a file the plugin itself opens is not the plugin file missing
        (["NETLIST", "--algo", "sa", "--out", "x.plc", "--plugin", "OPENER"],
         "could not load it: FileNotFoundError: [Errno 2] No such file or directory: '/nonexistent/data.csv'"),
        (["NETLIST", "--algo", "sa", "--out", "x.plc", "--plugin", "CLASH"],
         "already registered by placer.algorithms.sa.SimulatedAnnealing; give class Clash in CLASH a name of its own"),
        (["NETLIST", "--algo", "sa", "--out", "x.plc", "--seeds", "3"], "apply to --suite only"),
        (["NETLIST", "--algo", "sa", "--out", "x.plc", "--jobs", "2"], "apply to --suite only"),
        (["--suite", "SUITE", "--algo", METHOD, "--out", "runs", "--seed", "5"], "--seed applies to one design"),
        # a .plc written under a Bookshelf .pl name replaced the input design's placement file;
        # a .pl is now written as one, of a Bookshelf design only, never over its own files
        (["NETLIST", "--algo", METHOD, "--out", "x.pl"], "a .pl places a Bookshelf design"),
        (["NETLIST", "--algo", METHOD, "--out", "x.txt"], "expected a .plc (or .plc.gz) file name"),
        (["NETLIST", "--algo", METHOD, "--out", "INITIAL"], "is an input of this run"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    design: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    subs = {"NETLIST": str(design / "netlist.pb.txt"), "SUITE": str(design.parent),
            "MISSING": str(tmp_path / "missing"), "NOFILE": str(tmp_path / "none.pb.txt"),
            "x.plc": str(tmp_path / "x.plc"), "runs": str(tmp_path / "runs"),
            "RAISING": str(tmp_path / "raising_plugin.py"), "x.pl": str(tmp_path / "x.pl"),
            "x.txt": str(tmp_path / "x.txt"),            "INITIAL": str(design / "initial.plc"),
            "NOPLUGIN": str(tmp_path / "none_plugin.py"), "CLASH": str(tmp_path / "clash_plugin.py"),
            "OPENER": str(tmp_path / "opener_plugin.py")}
    (tmp_path / "opener_plugin.py").write_text("open('/nonexistent/data.csv')\n")
    (tmp_path / "raising_plugin.py").write_text("raise RuntimeError('boom')\n")
    (tmp_path / "clash_plugin.py").write_text(
        "from placer.algorithms.base import Placer, register_placer\n\n\n@register_placer\nclass Clash(Placer):\n"
        "    name = 'sa'\n\n    def run(self, netlist, placement, budget_s, seed, progress):\n        return placement\n")
    for name in ("NOPLUGIN", "CLASH"):  # (the paths the messages name)
        message = message.replace(name, subs[name])
    result = CliRunner().invoke(make_app(), ["place", *[subs.get(a, a) for a in args]])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_parse_options_scopes_and_json_values() -> None:
    options = parse_options(
        [
            "max_steps=10",  # read by both: shared
            "sa.start_factor=0.5",
            "sa.max_steps=3",  # scoped wins over shared
            "soft=false",  # read by refine only: not given to sa
            'refine.moves={"shift": 1}',
        ],
        ["sa", "refine"],
    )
    assert options == {
        "sa": {"max_steps": 3, "start_factor": 0.5},
        "refine": {"max_steps": 10, "soft": False, "moves": {"shift": 1}},
    }
    assert parse_options(["device=cpu"], ["analytical", "sa"]) == {
        "analytical": {"device": "cpu"},  # not JSON: kept as text
        "sa": {},
    }
    with pytest.raises(UsageError):
        parse_options(["=3"], ["sa"])


@pytest.mark.parametrize(
    ("items", "methods", "message"),
    [
        (["max_step=3"], ["sa", "refine"], "no method of sa, refine reads it"),
        (["sa.max_step=3"], ["sa"], "sa has no option 'max_step'"),
        (['greedy.refine={"max_step": 3}'], ["greedy"], "'refine.max_step'"),
        (["nope.x=1"], ["nope"], "unknown placement method 'nope'"),
    ],
)
def test_parse_options_refuses_options_no_method_reads(
    items: list[str], methods: list[str], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        parse_options(items, methods)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["place", "x.pb.txt", "--budget-s", "inf"], "expected a finite number of seconds >= 0, got inf"),
        (["place", "x.pb.txt", "--budget-s", "-1"], "Invalid value for '--budget-s'"),
        # (nan was "Input should be greater than or equal to 0")
        (["place", "x.pb.txt", "--budget-s", "nan"], "expected a finite number of seconds >= 0, got nan"),
        # a file's name as a runs folder: quietly a folder called x.plc
        (["place", "--suite", ".", "--algo", "sa", "--out", "x.plc"], "with --suite it is a runs folder"),
        (["demo", "--budget-s", "inf"], "expected a finite number of seconds"),
        (["place", "--bogus"], "No such option: --bogus"),
        (["nosuch"], "No such command 'nosuch'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, message, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """What Typer itself refuses (ranges, unknown options) also gets the one line every other
    input error gets, not Typer's boxed usage message."""
    import subprocess
    import sys

    # in a folder of its own: a command that is not refused must not write into the checkout
    result = subprocess.run([sys.executable, "-m", "placer.cli", *args], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("placer: error: ") and message in lines[0], result.stderr
    assert not lines[0].startswith("placer: error: placer: "), "the program named twice"


def test_an_infinite_or_nan_budget_is_refused_by_every_method() -> None:
    from netlists.generate import generate
    from placer.algorithms.base import get_placer

    netlist, placement = generate(3, 6, 4, seed=1)
    for budget in (math.inf, math.nan):
        with pytest.raises(ValueError, match="budget_s must be a finite number of seconds"):
            get_placer("sa").place(netlist, placement, budget_s=budget)


def test_an_illegal_initial_placement_is_noted(tmp_path: Path) -> None:
    """ariane133's initial.plc has macros outside the canvas: a legal result can cost more."""
    from netlists.designs import builtin_path
    from placer.cli import app

    netlist = builtin_path("ariane133")
    result = CliRunner().invoke(
        app, ["place", str(netlist), "--algo", "greedy", "--budget-s", "5", "--out", str(tmp_path / "o.plc"), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "note: the initial placement is not legal (36 macro(s) outside the canvas" in text


PLUGINS = {
    # forgot its own name: inherits "sa", and used to run in place of the real sa, labelled sa
    "nameless_sa.py": (
        "from placer.algorithms.base import register_placer\n"
        "from placer.algorithms.sa import SimulatedAnnealing\n"
        "@register_placer\n"
        "class MySA(SimulatedAnnealing):\n"
        "    pass\n"
    ),
    "bad_results.py": (
        "from placer.algorithms.base import Placer, register_placer\n"
        "@register_placer\n"
        "class ReturnsNone(Placer):\n"
        "    name = 'test_returns_none'\n"
        "    def run(self, netlist, placement, budget_s, seed, progress):\n"
        "        return None\n"
        "@register_placer\n"
        "class BadOrientation(Placer):\n"
        "    name = 'test_bad_orientation'\n"
        "    def run(self, netlist, placement, budget_s, seed, progress):\n"
        "        placement.orientation[netlist.hard_macros] = 42\n"
        "        return placement\n"
        "@register_placer\n"
        "class AnyOptions(Placer):\n"
        "    name = 'test_any_options'\n"
        "    def run(self, netlist, placement, budget_s, seed, progress):\n"
        "        return placement\n"
    ),
}


@pytest.fixture
def plugin_files(tmp_path: Path) -> dict[str, str]:
    for name, text in PLUGINS.items():
        (tmp_path / name).write_text(text)
    return {name: str(tmp_path / name) for name in PLUGINS}


def test_a_plugin_taking_a_built_in_methods_name_is_refused(design: Path, tmp_path: Path, plugin_files) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "x.plc"
    args = ["place", str(design / "netlist.pb.txt"), "--algo", "sa", "--budget-s", "0.2",
            "--out", str(out), "--plugin", plugin_files["nameless_sa.py"]]
    result = CliRunner().invoke(make_app(), args)
    assert result.exit_code == 2, result.output
    assert "'sa' is already registered by placer.algorithms.sa.SimulatedAnnealing" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("test_returns_none", "method 'test_returns_none' returned NoneType, not a Placement"),
        ("test_bad_orientation", "returned orientation codes outside 0-7"),
    ],
)
def test_a_method_returning_no_placement_of_the_design_is_named_not_the_design(  # type: ignore[no-untyped-def]
    design: Path, tmp_path: Path, plugin_files, method: str, message: str
) -> None:
    """A traceback from inside the legaliser, or "NETLIST: orientation code 42" blaming the
    design's file for the plugin's result."""
    netlist = str(design / "netlist.pb.txt")
    result = CliRunner().invoke(make_app(), [
        "place", netlist, "--algo", method, "--budget-s", "0.2", "--out", str(tmp_path / "x.plc"),
        "--plugin", plugin_files["bad_results.py"], "--quiet"])
    assert result.exit_code == 2, result.output
    assert f"{method} on {netlist}: " in result.output.replace("\n", "") and message in result.output
    assert "Traceback" not in result.output


def test_a_method_declaring_no_options_takes_shared_ones_only_alone(plugin_files) -> None:  # type: ignore[no-untyped-def]
    """A misspelt option of sa (max_stpes) went silently to the plugin beside it."""
    from placer.batch import load_plugins

    load_plugins([plugin_files["bad_results.py"]])
    with pytest.raises(UsageError, match=r"give it as test_any_options.max_stpes=\.\.\."):
        parse_options(["max_stpes=50"], ["sa", "test_any_options"])
    both = parse_options(["max_steps=50", "test_any_options.foo=1"], ["sa", "test_any_options"])
    assert both == {"sa": {"max_steps": 50}, "test_any_options": {"foo": 1}}
    assert parse_options(["foo=1"], ["test_any_options"]) == {"test_any_options": {"foo": 1}}


def test_a_plugin_file_that_failed_to_load_loads_once_fixed(tmp_path: Path) -> None:
    from placer.algorithms.base import available_placers
    from placer.batch import load_plugins

    path = tmp_path / "fixed_later.py"
    path.write_text("def broken(:\n")
    with pytest.raises(SyntaxError):
        load_plugins([str(path)])
    path.write_text(PLUGINS["bad_results.py"].replace("test_", "test_fixed_"))
    load_plugins([str(path)])  # was skipped: the failed module stayed in sys.modules
    assert "test_fixed_returns_none" in available_placers()


def test_a_text_option_is_read_as_written(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A run folder called 123 was read as the number 123 ("model takes text, got 123")."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="model=123: no such file or folder"):  # text, then looked for
        parse_options(["model=123"], ["rl"])
    assert parse_options(["sa.max_steps=5", "analytical.dtype=float32"], ["sa", "analytical"]) == {
        "sa": {"max_steps": 5}, "analytical": {"dtype": "float32"}}


def test_a_nested_methods_option_can_be_given_by_its_dotted_name() -> None:
    """--option global_refine.analytical.max_iterations=5 was refused ("no option
    'analytical.max_iterations'") though the message then listed max_iterations among them."""
    options = parse_options(
        ["global_refine.analytical.max_iterations=5", "global_refine.analytical.dtype=float32",
         'global_refine.analytical={"bins": 32}'],  # fmt: skip
        ["global_refine"],
    )
    assert options["global_refine"]["analytical"] == {"bins": 32, "max_iterations": 5, "dtype": "float32"}
    with pytest.raises(UsageError, match=r"no option 'analytical.bin' \(analytical options: bins"):
        parse_options(["global_refine.analytical.bin=5"], ["global_refine"])
    with pytest.raises(UsageError, match="is given as 3, not a dict"):
        parse_options(["global_refine.analytical=3", "global_refine.analytical.bins=5"], ["global_refine"])


def test_parse_options_refuses_a_key_given_twice_and_names_a_prefix_that_is_no_method_run() -> None:
    """sa.max_steps=1 then =2 took the last without a word; nosuch.x=1 said only that sa does
    not read it; sa.foo.bar=1 (a dotted name of no nested option) was a KeyError traceback."""
    with pytest.raises(UsageError, match=r"--option sa.max_steps is given twice \(1 and 2\)"):
        parse_options(["sa.max_steps=1", "sa.max_steps=2"], ["sa"])
    assert parse_options(["sa.max_steps=5", "sa.max_steps=5"], ["sa"])["sa"] == {"max_steps": 5}
    with pytest.raises(UsageError, match="'nosuch' is no method"):
        parse_options(["nosuch.x=1"], ["sa"])
    with pytest.raises(UsageError, match=r"'refine' is not among the methods run \(sa\)"):
        parse_options(["refine.max_steps=1"], ["sa"])
    with pytest.raises(UsageError, match="sa has no option 'foo.bar'"):
        parse_options(["sa.foo.bar=1"], ["sa"])
    with pytest.raises(UsageError, match=r"given as global_refine.analytical.max_iterations=\.\.\."):
        parse_options(["analytical.max_iterations=5"], ["global_refine"])
    assert parse_options(["global_refine.analytical.max_iterations=5"], ["global_refine"])["global_refine"] == {
        "analytical": {"max_iterations": 5}
    }


def test_a_plugin_that_registers_no_method_is_noted(design: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """--plugin os loaded, registered nothing and the run went on without a word."""
    from placer.commands import common

    monkeypatch.setattr(common.console, "_width", 1000)
    result = CliRunner().invoke(make_app(), ["place", str(design / "netlist.pb.txt"), "--algo", METHOD,
                                             "--budget-s", "0.2", "--out", str(tmp_path / "x.plc"), "--plugin", "os"])
    assert result.exit_code == 0, result.output
    assert "note: --plugin os registered no placement method" in result.output


def test_an_option_given_twice_with_one_value_in_two_spellings_is_taken() -> None:
    """w_timing=1 and w_timing=1.0 read the same: refused as two values."""
    assert parse_options(["sa.w_timing=1", "sa.w_timing=1.0"], ["sa"])["sa"] == {"w_timing": 1.0}


def test_a_plugin_path_that_is_a_folder_is_named_as_such(tmp_path: Path) -> None:
    """A folder (or a FIFO) named like a plugin file read 'no such plugin file'."""
    from placer.batch import load_plugins

    (tmp_path / "plug.py").mkdir()
    with pytest.raises(ValueError, match=r"plugin .*plug\.py is not a file \(a folder, a pipe or a device\)"):
        load_plugins([str(tmp_path / "plug.py")])
    with pytest.raises(FileNotFoundError, match="no such plugin file"):
        load_plugins([str(tmp_path / "absent.py")])


def test_a_bookshelf_design_is_placed_into_a_pl(design: Path, tmp_path: Path) -> None:
    """A Bookshelf user got only a .plc, which no Bookshelf tool reads; `--out OUT.pl` writes
    the design's own format, which eval (and other tools with the design's files) read back."""
    import re

    from netlists.formats.bookshelf import write_bookshelf

    aux = write_bookshelf(*generate(3, 6, 4, seed=5, name="bs"), tmp_path / "bs", "bs")
    out = tmp_path / "out" / "placed.pl"
    args = ["--algo", METHOD, "--budget-s", "1", "--seed", "3", "--quiet"]
    result = CliRunner().invoke(make_app(), ["place", str(aux), *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    netlist, placement = load_design(aux, out)
    _, initial = load_design(aux)
    assert not np.array_equal(placement.x[netlist.macros], initial.x[netlist.macros])
    proxy = float(re.search(r"# Costs: proxy (\S+),", out.read_text()).group(1))  # type: ignore[union-attr]
    assert proxy == evaluate(netlist, placement).proxy and f"{proxy:.6f}" in result.output
    for target, netlist_arg, message in [
        (aux.with_suffix(".pl"), aux, "is an input of this run"),  # the design's own .pl
        (aux.with_suffix(".pl"), aux.parent, "is an input of this run"),
        (tmp_path / "ct.pl", design / "netlist.pb.txt", "a .pl places a Bookshelf design"),
    ]:
        refused = CliRunner().invoke(make_app(), ["place", str(netlist_arg), *args, "--out", str(target)])
        assert refused.exit_code == 2 and message in refused.output, refused.output
    assert not (tmp_path / "ct.pl").exists()
    stray = aux.parent / "initial.plc"  # not read for a Bookshelf design: no input of it
    stray.write_text("left here\n")
    kept = CliRunner().invoke(make_app(), ["place", str(aux.parent), *args, "--out", str(stray)])
    assert kept.exit_code == 0, kept.output


@register_placer
class TurnForCliTests(Placer):
    """Turns the first non-square hard macro by 90 degrees (E): no built-in method does."""

    name = "test_cli_place_turn"

    def run(self, netlist, placement, budget_s, seed, progress):  # type: ignore[no-untyped-def]
        hard = netlist.hard_macros
        placement.orientation[next(int(i) for i in hard if netlist.width[i] != netlist.height[i])] = 4
        return placement


def test_a_result_no_pl_can_hold_is_written_as_a_plc_not_lost(tmp_path: Path) -> None:
    """A plugin's result turning a macro by 90 degrees failed at the .pl write, after the whole
    budget: the result was lost."""
    from netlists.formats.bookshelf import write_bookshelf

    aux = write_bookshelf(*generate(3, 6, 4, seed=5, name="bs"), tmp_path / "bs", "bs")
    out = tmp_path / "out" / "placed.pl.gz"
    result = CliRunner().invoke(make_app(), ["place", str(aux), "--algo", "test_cli_place_turn", "--budget-s", "1",
                                             "--out", str(out), "--quiet"])  # fmt: skip
    assert result.exit_code == 1, result.output  # written, but not where asked
    kept = tmp_path / "out" / "placed.plc.gz"
    said = "".join(result.output.split())  # (the console wraps long paths anywhere)
    assert "isturnedby90degrees" in said and f"theresultgoesto{kept}" in said
    assert kept.exists() and not out.exists()
    netlist, placement = load_design(aux, kept)
    assert int(placement.orientation[netlist.hard_macros].max()) == 4
    # the .plc beside it is the run's start: not overwritten, the result goes to OUT.pl.plc
    start = write_plc(tmp_path / "out" / "start.plc", *load_design(aux))
    before = start.read_bytes()
    again = CliRunner().invoke(make_app(), ["place", str(aux), "--plc", str(start), "--algo", "test_cli_place_turn",
                                            "--budget-s", "1", "--out", str(tmp_path / "out" / "start.pl"), "--quiet"])  # fmt: skip
    assert again.exit_code == 1 and start.read_bytes() == before
    assert (tmp_path / "out" / "start.pl.plc").exists()


def test_a_design_name_with_a_line_break_or_an_escape_is_printed_escaped(tmp_path: Path, plugin_files) -> None:  # type: ignore[no-untyped-def]
    """A folder name is any name a file system takes: a line break in one split the summary's
    'failed:' line in two and an escape sequence coloured the terminal."""
    name = "odd\n| fake |\x1b[31mred"
    folder = tmp_path / "suite" / name
    folder.mkdir(parents=True)
    netlist, placement = generate(3, 6, 4, seed=5, name="odd")
    write_netlist(netlist, folder / "netlist.pb.txt")
    write_plc(folder / "initial.plc", netlist, placement)
    result = CliRunner().invoke(make_app(), [
        "place", "--suite", str(tmp_path / "suite"), "--algo", "test_returns_none", "--seeds", "1",
        "--budget-s", "0.2", "--out", str(tmp_path / "runs"), "--plugin", plugin_files["bad_results.py"], "--quiet"])
    assert result.exit_code == 1, result.output
    failed = [line for line in result.output.splitlines() if "failed:" in line]
    assert failed and failed[0].startswith("  failed: odd\\n| fake |\\x1b[31mred/test_returns_none/seed0: ")
    assert "\x1b" not in result.output


def test_printable_escapes_only_what_cannot_be_shown() -> None:
    from placer.results import printable

    assert printable("ibm01 ü 設計") == "ibm01 ü 設計"
    assert printable("a\tb\r\nc\x00") == "a\\tb\\r\\nc\\x00"


def test_a_plugin_failing_as_it_is_imported_is_named_with_its_own_file_and_line(design: Path, tmp_path: Path) -> None:
    """The one-line error dropped the plugin's traceback, so its author lost the file and line
    (the excepts audit); a module not found names no frame of Python's import machinery."""
    plugin = tmp_path / "typo_plugin.py"
    plugin.write_text("x = 1\ny = undefined_name\n")
    args = ["place", str(design / "netlist.pb.txt"), "--algo", "sa", "--out", str(tmp_path / "x.plc")]
    result = CliRunner().invoke(make_app(), [*args, "--plugin", str(plugin)])
    assert result.exit_code == 2
    assert f"NameError: name 'undefined_name' is not defined (at {plugin}, line 2)" in " ".join(result.output.split())
    missing = CliRunner().invoke(make_app(), [*args, "--plugin", "no_such_plugin_module"])
    assert "No module named 'no_such_plugin_module'" in missing.output and "(at " not in missing.output


def test_a_methods_own_type_error_without_options_is_not_called_a_bad_option(
    design: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`placer place` called any TypeError from a method's constructor a "bad option" (exit 2),
    even with no option given: a bug of ours read as the user's (the excepts audit)."""
    from placer.algorithms.base import placer_class

    def broken(self, **options):  # type: ignore[no-untyped-def]
        raise TypeError("object of type 'NoneType' has no len()")

    monkeypatch.setattr(placer_class("sa"), "__init__", broken)
    args = ["place", str(design / "netlist.pb.txt"), "--algo", "sa", "--out", str(tmp_path / "x.plc")]
    result = CliRunner().invoke(make_app(), args)
    # told as the bug it is: its own line and traceback, exit 70 (not bad input's 2)
    assert result.exit_code == 70, result.output
    assert "placer: internal error: TypeError: object of type 'NoneType' has no len()" in result.stderr
    assert "Traceback (most recent call last):" in result.stderr and "bad option" not in result.output
    given = CliRunner().invoke(make_app(), [*args, "--option", "max_steps=5"])  # an option given: the user's
    assert given.exit_code == 2 and "bad option for 'sa'" in given.output


def test_a_plugin_method_missing_its_required_option_is_a_bad_option(design: Path, tmp_path: Path) -> None:
    """A plugin whose __init__ requires an option, run without it, printed a traceback (the
    review of the change above): nothing given where something is required is the user's."""
    plugin = tmp_path / "needs_plugin.py"
    plugin.write_text(
        "from placer.algorithms.base import Placer, register_placer\n\n\n@register_placer\nclass Needs(Placer):\n"
        "    name = 'needs_target'\n\n    def __init__(self, target, **options):\n"
        "        super().__init__(target=target, **options)\n\n"
        "    def run(self, netlist, placement, budget_s, seed, progress):\n        return placement\n")
    result = CliRunner().invoke(make_app(), ["place", str(design / "netlist.pb.txt"), "--algo", "needs_target",
                                             "--plugin", str(plugin), "--out", str(tmp_path / "x.plc")])
    assert result.exit_code == 2, result.output
    assert "bad option for 'needs_target'" in result.output and "missing 1 required positional argument" in result.output


def test_an_option_value_nested_past_pythons_limit_is_read_as_text() -> None:
    """json.loads raised RecursionError for brackets nested past the interpreter's limit, which
    the option parser did not catch: a traceback (exit 70) where a bad value gets one line."""
    from placer.commands.place import parse_options

    with pytest.raises(UsageError, match="takes a whole number"):
        parse_options(["max_steps=" + "[" * 100_000], ["sa"])  # read as text, refused as one
