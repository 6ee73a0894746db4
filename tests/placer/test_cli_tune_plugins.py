"""``placer tune --plugin``: modules or ``.py`` files registering tuners of one's own, loaded as
``placer place --plugin`` loads methods; one that fails is one line naming it, exit 2."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from learned_systems.tuners import registry
from placer.cli import app

PLUGIN = '''
import numpy as np

from learned_systems.tuners import register_tuner


@register_tuner("plugged")
class Plugged:
    """Random search under a name of its own."""

    name = "plugged"

    def __init__(self, space, seed, trials):
        self.space, self.rng = space, np.random.default_rng(seed)

    def ask(self):
        return self.space.sample(self.rng)

    def tell(self, config, score):
        pass

    observe = tell

    def replay(self, config, score):
        self.ask()
'''

RUN = ["tune", "--system", "index", "--index-cost", "counted", "--rows", "2000", "--trials", "3", "--quiet"]


@pytest.fixture(autouse=True)
def own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))


def test_a_plugin_tuner_runs_beside_a_builtin_one(tmp_path: Path) -> None:
    """--plugin was "No such option" and --tuner took random, optuna and rl only."""
    plugin = tmp_path / "plugged.py"
    plugin.write_text(PLUGIN)
    out = tmp_path / "out"
    done = CliRunner().invoke(app, [*RUN, "--tuner", "plugged,random", "--plugin", str(plugin), "--out", str(out)])
    assert done.exit_code == 0, done.output
    report = json.loads((out / "best_config.json").read_text())
    assert list(report["tuners"]) == ["plugged", "random"] and report["covers"]["tuners"] == ["plugged", "random"]
    assert report["tuners"]["plugged"]["failed"] == 0 and report["apply"]["lines"][0].startswith("build_index(")
    assert "registered no tuner" not in done.output


def test_a_plugin_tuner_is_unknown_without_its_plugin(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, [*RUN, "--tuner", "plugged", "--out", str(tmp_path / "out")])
    assert done.exit_code == 2 and "unknown tuner 'plugged': expected one of ['random', 'optuna', 'rl']" in done.output


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("raise RuntimeError('boom')\n", r"--plugin \S+bad\.py: could not load it: RuntimeError: boom \(at \S+bad\.py, line 1\)"),
        ("from learned_systems.tuners import register_tuner\nregister_tuner('random', lambda s, k, t: None)\n",
         r"--plugin \S+bad\.py: could not load it: ValueError: tuner 'random' is already registered .*\(at \S+bad\.py, line 2\)"),
    ],
)
def test_a_plugin_that_fails_to_load_is_one_line_naming_it(tmp_path: Path, text: str, words: str) -> None:
    plugin = tmp_path / "bad.py"
    plugin.write_text(text)
    done = CliRunner().invoke(app, [*RUN, "--tuner", "random", "--plugin", str(plugin), "--out", str(tmp_path / "out")])
    assert done.exit_code == 2 and "Traceback" not in done.output, done.output
    (line,) = done.output.strip().splitlines()
    assert line.startswith("placer: error: ")
    assert re.search(words, line), line
    assert not (tmp_path / "out").exists()


def test_a_missing_plugin_or_one_registering_no_tuner_is_said(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, [*RUN, "--plugin", str(tmp_path / "none.py"), "--knobs"])
    assert done.exit_code == 2 and "--plugin " in done.output and "no such file" in done.output
    empty = tmp_path / "empty.py"
    empty.write_text("X = 1\n")
    done = CliRunner().invoke(app, [*RUN, "--plugin", str(empty), "--knobs"])
    assert done.exit_code == 0 and f"note: --plugin {empty} registered no tuner or index key generator" in done.output


GENERATOR_PLUGINS = {
    "steps": (  # defined in the plugin
        "import numpy as np\n\nfrom learned_systems.datasets import GENERATORS\n\n\n"
        "def steps(rng, n):\n    return rng.integers(0, 2**40, size=n, dtype=np.uint64)\n\n\n"
        "GENERATORS['steps'] = steps\n"
    ),
    # one defined elsewhere: the package's own uniform under a name of the plugin's
    "again": "from learned_systems.datasets import GENERATORS\n\nGENERATORS['again'] = GENERATORS['uniform']\n",
}


@pytest.fixture
def own_generators(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The key generators and the plugins seen adding one as they were before the test."""
    from learned_systems.datasets import GENERATORS
    from placer.commands import tune

    monkeypatch.setattr(tune, "_GENERATOR_PLUGINS", set(), raising=False)
    kept = dict(GENERATORS)
    yield
    GENERATORS.clear()
    GENERATORS.update(kept)


@pytest.mark.parametrize("workload", sorted(GENERATOR_PLUGINS))
def test_a_plugin_adding_only_a_key_generator_registered_something(
    tmp_path: Path, workload: str, own_generators: None
) -> None:
    """--plugin's help offers key generators beside tuners, but a plugin adding only a generator
    was told it "registered no tuner": one of its own or one defined elsewhere (a module
    loaded again, as a second command in one process, is not run again) counts."""
    plugin = tmp_path / f"{workload}.py"
    plugin.write_text(GENERATOR_PLUGINS[workload])
    for _ in range(2):
        done = CliRunner().invoke(app, [*RUN, "--workload", workload, "--plugin", str(plugin), "--knobs"])
        assert done.exit_code == 0, done.output
        assert "registered no" not in done.output and "epsilon" in done.output


def test_a_plugin_factory_of_the_wrong_shape_is_one_line_before_any_measurement(tmp_path: Path) -> None:
    """`__init__(self, space)` printed a traceback after the baselines were stored (the second
    review): refused with the options, the out folder never made."""
    plugin = tmp_path / "badsig.py"
    plugin.write_text(PLUGIN.replace("def __init__(self, space, seed, trials):", "def __init__(self, space):"))
    out = tmp_path / "out"
    done = CliRunner().invoke(app, [*RUN, "--tuner", "plugged", "--plugin", str(plugin), "--out", str(out)])
    assert done.exit_code == 2 and "Traceback" not in done.output, done.output
    assert "tuner 'plugged': its factory" in done.output and "must take (space, seed, trials)" in done.output
    assert not out.exists()


def _as_a_new_process_loads(plugin: Path) -> None:
    """Forget ``plugin``'s module and its tuner, so that the next command loads the file anew
    (a command of its own, as each ``placer tune`` is)."""
    import sys

    from placer.algorithms.plugins import plugin_module_name

    sys.modules.pop(plugin_module_name(str(plugin)), None)
    registry._FACTORIES.pop("plugged", None)


def test_a_run_of_an_edited_plugin_tuner_is_not_resumed(tmp_path: Path) -> None:
    """An edited tuner resumed its stored trials with other proposals, unsaid (placer place
    refuses a plugin method's edited code): the run records each plugin tuner's code."""
    plugin = tmp_path / "plugged.py"
    plugin.write_text(PLUGIN)
    out = tmp_path / "out"
    run = [*RUN, "--tuner", "plugged,random", "--out", str(out)]  # (3 trials each)
    assert CliRunner().invoke(app, [*run, "--trials", "2", "--plugin", str(plugin)]).exit_code == 0
    report = json.loads((out / "best_config.json").read_text())
    assert list(report["settings"]["tuner_code"]) == ["plugged"]  # (random: the package's own)
    assert re.fullmatch(rf"Plugged \(sha1 [0-9a-f]{{12}}\) from {re.escape(str(plugin))}",
                        report["settings"]["tuner_code"]["plugged"])
    _as_a_new_process_loads(plugin)
    plugin.write_text(PLUGIN.replace("return self.space.sample(self.rng)", "return self.space.defaults()"))
    refused = CliRunner().invoke(app, [*run, "--plugin", str(plugin)])
    assert refused.exit_code == 2 and "Traceback" not in refused.output, refused.output
    assert "trials of tuner 'plugged' in run 'index-lognormal-safe' made by other code" in refused.stderr
    assert "use another --out, or put back the code that made them" in refused.stderr
    _as_a_new_process_loads(plugin)
    moved = tmp_path / "elsewhere" / "plugged.py"  # the code that made them, copied elsewhere
    moved.parent.mkdir()
    moved.write_text(PLUGIN)
    resumed = CliRunner().invoke(app, [*run, "--plugin", str(moved)])
    assert resumed.exit_code == 0 and "plugged: best score" in resumed.stdout and "2 resumed" in resumed.stdout, resumed.output
    _as_a_new_process_loads(moved)
