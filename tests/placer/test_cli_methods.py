"""``placer methods``: every method with its options, one documented, unknown names refused."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from typer.testing import CliRunner

from placer.algorithms.base import available_placers, placer_class
from placer.cli import app
from placer.commands.methods import method_doc

runner = CliRunner()


def _plugin_file(path: Path, method: str, docstring: str | None) -> Path:
    """A plugin module at ``path`` registering ``method``, a placer that keeps its start, its
    class documented by ``docstring`` (None: no docstring)."""
    doc = f'    """{docstring}"""\n' if docstring is not None else ""
    path.write_text(
        "from placer.algorithms.base import Placer, register_placer\n"
        "@register_placer\n"
        "class KeepsTheStart(Placer):\n"
        f"{doc}"
        f"    name = {method!r}\n"
        "    def run(self, netlist, placement, budget_s, seed, progress):\n"
        "        return placement\n"
    )
    return path


def test_the_list_names_every_method_and_every_option_it_reads() -> None:
    result = runner.invoke(app, ["methods"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for method in available_placers():
        # the method's entry: its line and the indented ones under it (wrapped to the width)
        first = next(i for i, line in enumerate(lines) if line.startswith(f"{method}: "))
        under = itertools.takewhile(lambda line: line.startswith(" "), lines[first + 1:])
        options = " ".join(line.strip() for line in under).split("options: ", 1)[1].split(", ")
        for option in placer_class(method).option_names or ():
            assert option in options, (method, option)


def test_one_method_is_documented_with_its_defaults() -> None:
    result = runner.invoke(app, ["methods", "sa"])
    assert result.exit_code == 0, result.output
    assert "max_steps: stop after this many proposals" in result.output
    assert "final_ratio: final / initial temperature (1e-3)" in result.output
    assert "option names: fd_every, final_ratio, max_steps, moves, start_factor" in result.output
    rl = runner.invoke(app, ["methods", "rl"])  # its options are documented by its module
    assert "`model` (path to a `.zip` or a training run folder; required;" in rl.output
    # read as text: no reStructuredText roles or double backticks (they were printed as written)
    assert "``" not in rl.output and ":mod:" not in rl.output and ":func:" not in rl.output


def test_an_unknown_method_is_one_line_and_plugins_are_listed(tmp_path: Path) -> None:
    result = runner.invoke(app, ["methods", "nope"])
    assert result.exit_code == 2 and "unknown placement method 'nope'; available:" in result.output
    plugin = _plugin_file(tmp_path / "methods_plugin.py", "test_methods_listed", "Keeps the start (a test plugin).")
    listed = runner.invoke(app, ["methods", "--plugin", str(plugin)])
    assert "test_methods_listed: Keeps the start (a test plugin).\n    options: any" in listed.output


def test_a_package_plugin_whose_module_registers_the_method_is_not_noted(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A package importing the module that registers its method read as 'registered no
    placement method' (only the package's own module was looked at)."""
    package = tmp_path / "pkg_plugin_cli_methods"
    package.mkdir()
    (package / "__init__.py").write_text("from . import impl  # noqa: F401\n")
    (package / "impl.py").write_text(
        "from placer.algorithms.base import Placer, register_placer\n"
        "@register_placer\n"
        "class Packaged(Placer):\n"
        '    """Keeps the start (a packaged test plugin)."""\n'
        "    name = 'test_methods_packaged'\n"
        "    def run(self, netlist, placement, budget_s, seed, progress):\n"
        "        return placement\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)  # the package's folder beside it is no bar to its module name
    listed = runner.invoke(app, ["methods", "--plugin", "pkg_plugin_cli_methods"])
    assert listed.exit_code == 0 and "test_methods_packaged" in listed.output
    assert "registered no placement method" not in listed.output


def test_a_method_taking_anothers_options_points_to_their_documentation() -> None:
    """global_refine listed refine's option names but documented none of them, nor said where."""
    result = runner.invoke(app, ["methods", "global_refine"])
    assert "it takes the options of refine too: `placer methods refine` documents them" in result.output
    assert "takes the options of" not in runner.invoke(app, ["methods", "sa"]).output


def test_a_plugins_few_option_names_are_not_read_as_a_shared_option_set(tmp_path: Path) -> None:
    """A plugin declaring only 'device' made analytical and rl 'take the options of' it."""
    plugin = tmp_path / "device_plugin.py"
    plugin.write_text(
        "from placer.algorithms.base import Placer, register_placer\n"
        "@register_placer\n"
        "class OnDevice(Placer):\n"
        '    """Keeps the start (a test plugin)."""\n'
        "    name = 'test_methods_on_device'\n"
        "    option_names = frozenset({'device'})\n"
        "    def run(self, netlist, placement, budget_s, seed, progress):\n"
        "        return placement\n"
    )
    result = runner.invoke(app, ["methods", "analytical", "--plugin", str(plugin)])
    assert result.exit_code == 0 and "takes the options of" not in result.output


def test_a_plugin_method_without_a_docstring_is_not_given_the_base_classes(tmp_path: Path) -> None:
    """It was listed as 'Base class of placement methods (see module docstring).'"""
    plugin = _plugin_file(tmp_path / "undocumented_plugin.py", "test_methods_quiet", None)
    listed = runner.invoke(app, ["methods", "--plugin", str(plugin)])
    assert "test_methods_quiet: (undocumented)" in listed.output
    assert "Base class" not in runner.invoke(app, ["methods", "test_methods_quiet", "--plugin", str(plugin)]).output


@pytest.mark.parametrize("width", [80, 120])
def test_the_documentation_is_wrapped_to_the_terminal_between_words(width: int) -> None:
    """It kept its source's line lengths: in an 80-column terminal `methods analytical` had 44
    lines over 80 characters (the longest 198), the list 10, and the terminal broke them
    mid-word (`densi` | `ty_weight`)."""
    env = {"COLUMNS": str(width)}
    for args in (["methods"], *(["methods", method] for method in available_placers())):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        assert max(map(len, result.output.splitlines())) <= width, args
    # every word of a method's documentation there, none split or lost
    shown = runner.invoke(app, ["methods", "analytical"], env=env).output.split()
    words = method_doc(placer_class("analytical")).split()
    start = shown.index(words[0])
    assert shown[start:start + len(words)] == words
