"""The examples of the README and the docs pages run as written, and the pages say what they
must (keeps them true)."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
LEARNED, LIBRARY, EXTENDING = DOCS / "learned_systems.md", DOCS / "library.md", DOCS / "extending.md"
BENCHMARKS = DOCS / "benchmarks.md"


def _section(page: Path, heading: str) -> str:
    """The text of ``page`` under the heading ``heading`` (of any level), up to the next heading
    of that level or above; a ``#`` line inside a code block is no heading."""
    lines = page.read_text().splitlines(keepends=True)
    fenced, start, level = False, None, 0
    for number, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
            continue
        found = None if fenced else re.match(r"(#+) (.*)", line)
        if found and start is not None and len(found.group(1)) <= level:
            return "".join(lines[start:number])
        if found and start is None and found.group(2).rstrip() == heading:
            start, level = number + 1, len(found.group(1))
    assert start is not None, f"no heading '{heading}' in {page.name}"
    return "".join(lines[start:])


def _python_block(page: Path, section: str, index: int = 0) -> str:
    """The ``index``-th ```python block of ``page`` under the heading ``section`` (0: the first)."""
    blocks = re.findall(r"```python\n(.*?)```", _section(page, section), flags=re.S)
    assert len(blocks) > index, f"no python example {index} under '{section}' in {page.name}"
    return blocks[index]


def test_learned_systems_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    import warnings

    with warnings.catch_warnings():  # (the env was left to the collector: "Implicitly cleaning up")
        warnings.simplefilter("error", ResourceWarning)
        exec(compile(_python_block(LEARNED, "Learned systems"), str(LEARNED), "exec"), scope)  # noqa: S102
    assert scope["env"].unwrapped._closed, "the example leaves its env open"
    assert scope["positions"].shape == (100_000,)
    assert scope["info"]["ok"] and scope["reward"] > 0
    assert os.listdir(tmp_path) == []  # the example leaves no files behind


def test_cost_example_runs(tmp_path, monkeypatch):
    """It loaded "netlist.pb.txt.gz" from the current folder: pasted as written, it failed."""
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(_python_block(LIBRARY, "Using the library"), str(LIBRARY), "exec"), scope)  # noqa: S102
    assert scope["ev"].cost.proxy <= scope["evaluate"](scope["netlist"], scope["placement"]).proxy


def test_agent_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(_python_block(LIBRARY, "Your own placement agent"), str(LIBRARY), "exec"), scope)  # noqa: S102
    assert -scope["reward"] == scope["info"]["cost"]["proxy"] and (tmp_path / "greedy.plc").is_file()



def test_method_example_registers_places_and_runs_from_the_cli(tmp_path, monkeypatch):
    """The section on writing a method, run as written; then its class saved as a plugin file
    and placed by the CLI, as the section says."""
    from typer.testing import CliRunner

    import placer.algorithms.base as base
    from placer.algorithms.legality import check_legality
    from placer.cli import app

    monkeypatch.chdir(tmp_path)
    base.available_placers()  # the built-in methods registered first: a copy made before they
    # were (this test run first) was put back without them, and later tests found 'sa' unknown
    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))  # (the example's method, then gone)
    code = _python_block(EXTENDING, "Your own placement method")
    scope: dict = {"__name__": "__main__"}  # (python jitter.py)
    exec(compile(code, str(EXTENDING), "exec"), scope)  # noqa: S102
    assert check_legality(scope["netlist"], scope["result"]).legal
    plugin = tmp_path / "jitter.py"
    plugin.write_text(code)  # saved as written: imported (as the CLI loads it), it runs no example
    monkeypatch.setattr(base, "_REGISTRY", {k: v for k, v in base._REGISTRY.items() if k != "jitter"})
    imported: dict = {"__name__": "jitter"}
    exec(compile(code, str(plugin), "exec"), imported)  # noqa: S102
    assert "result" not in imported and "jitter" in base._REGISTRY
    monkeypatch.setattr(base, "_REGISTRY", {k: v for k, v in base._REGISTRY.items() if k != "jitter"})
    done = CliRunner().invoke(app, ["place", "ariane133", "--algo", "jitter", "--plugin", str(plugin),
                                    "--option", "max_steps=3", "--budget-s", "5", "--out", "j.plc", "--quiet"])  # fmt: skip
    assert done.exit_code == 0 and (tmp_path / "j.plc").is_file(), done.output


def test_extending_learned_systems_example_runs_and_its_tuner_plugs_into_the_cli(tmp_path, monkeypatch):
    """The section on extending learned_systems, run as written (a tuner by name and as an
    instance, an index kind in the objective's space, a key generator, a system of one's own);
    then saved as a plugin whose tuner placer tune runs on its generator's keys, as the section
    says."""
    import json

    import numpy as np
    from typer.testing import CliRunner

    from learned_systems import datasets
    from learned_systems.index import kinds
    from learned_systems.tuners import registry
    from placer.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))  # (the example's, then gone)
    monkeypatch.setattr(kinds, "_KINDS", dict(kinds._KINDS))
    monkeypatch.setattr(datasets, "GENERATORS", dict(datasets.GENERATORS))
    code = _python_block(EXTENDING, "Extending learned_systems")
    scope: dict = {"__name__": "__main__"}  # (python extend.py)
    exec(compile(code, str(EXTENDING), "exec"), scope)  # noqa: S102
    found, toy = scope["found"], scope["toy"]
    assert found.tuner == "coord" and found.failed == 0 and len(found.best_so_far) == 20
    assert set(scope["space"].knob("kind").choices) == {"pgm", "rmi", "sampled"}
    assert toy.tuner == "coord" and toy.best_score > 1.0  # above the defaults
    keys = datasets.generate_keys("steps", 5_000, seed=3)  # sorted uint64, repeated by a seed
    assert keys.dtype == np.uint64 and keys.size == 5_000 and bool(np.all(keys[1:] >= keys[:-1]))
    assert np.array_equal(keys, datasets.generate_keys("steps", 5_000, seed=3))
    assert scope["index"].workload == "steps" and np.array_equal(scope["index"].keys, datasets.load_keys("steps", 20_000))
    assert os.listdir(tmp_path) == []  # the example leaves no files behind
    plugin = tmp_path / "extend.py"
    plugin.write_text(code)  # saved as written: imported (as the CLI loads it), it runs no example
    monkeypatch.setattr(registry, "_FACTORIES", {k: v for k, v in registry._FACTORIES.items() if k != "coord"})
    monkeypatch.setattr(kinds, "_KINDS", {k: v for k, v in kinds._KINDS.items() if k != "sampled"})
    monkeypatch.setattr(datasets, "GENERATORS", {k: v for k, v in datasets.GENERATORS.items() if k != "steps"})
    done = CliRunner().invoke(app, ["tune", "--system", "index", "--workload", "steps", "--index-cost", "counted",
                                    "--rows", "2000", "--trials", "3", "--tuner", "coord,optuna", "--plugin",
                                    str(plugin), "--out", "out", "--quiet"])  # fmt: skip
    assert done.exit_code == 0, done.output
    report = json.loads((tmp_path / "out" / "best_config.json").read_text())
    assert list(report["tuners"]) == ["coord", "optuna"] and report["tuners"]["coord"]["failed"] == 0
    assert report["workload"] == "steps" and report["run"] == "index-steps-safe"


def test_the_python_tuning_example_stores_the_trials_of_the_command_it_names(tmp_path, monkeypatch):
    """The seeds from Python: the objective's seed (keys, queries) and run_tuning's (the tuner)
    together are placer tune's --seed; the example's run and the command's store the same
    configurations and scores, and the command's run resumes from Python."""
    from typer.testing import CliRunner

    from learned_systems.results import ResultsStore
    from placer.cli import app

    monkeypatch.chdir(tmp_path)
    code = _python_block(LEARNED, "Learned systems", 1)
    words = " ".join(LEARNED.read_text().split())
    assert "--seed 2 --out runs/index-counted" in words
    # the earlier CLI example's rl run of the same name, measured costs, must not be its store:
    # run in the page's order the Python example ended in a SettingsMismatch traceback
    assert "--tuner rl --trials 30 --out runs/index " in words and '"runs/index/' not in code
    scope: dict = {}
    exec(compile(code, str(LEARNED), "exec"), scope)  # noqa: S102
    assert scope["kind"] in ("pgm", "rmi") and set(scope["params"]) < set(scope["summary"].best_config)
    command = ["tune", "--system", "index", "--workload", "lognormal", "--rows", "20000", "--index-cost", "counted",
               "--tuner", "optuna", "--trials", "6", "--seed", "2", "--out", "cli", "--quiet"]
    done = CliRunner().invoke(app, command)
    assert done.exit_code == 0, done.output
    with ResultsStore("runs/index-counted/results.sqlite") as ours, ResultsStore("cli/results.sqlite") as theirs:
        stored = [[(row["tuner"], row["config"], row["score"]) for row in store.rows()] for store in (ours, theirs)]
    assert stored[0] == stored[1] and len(stored[0]) == 7
    again = scope["run_tuning"](scope["objective"], "optuna", 6, 2, "cli/results.sqlite", "index-lognormal-safe")
    assert again.resumed == 6


def test_every_benchmark_script_is_in_the_benchmarks_table() -> None:
    """plot_speed.py and tuning_env_actions.py were left out of the table."""
    bench = ROOT / "experiments" / "bench"
    listed = set(re.findall(r"^\| `([a-z_]+\.py)` \|", BENCHMARKS.read_text(), flags=re.MULTILINE))
    scripts = {path.name for path in bench.glob("*.py") if not path.name.startswith("_")}
    assert scripts - listed == set()
    assert listed - scripts == set()


def test_the_front_page_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(_python_block(README, "From Python"), str(README), "exec"), scope)  # noqa: S102
    printed = float(capsys.readouterr().out.split()[-1])
    assert printed == scope["evaluate"](scope["netlist"], scope["placement"]).proxy > 0
    assert scope["env"].observation_space.contains(scope["obs"])
    assert os.listdir(tmp_path) == []


def test_the_set_up_commands_are_the_ones_ci_runs() -> None:
    """.ci/run runs the README's install command (without ``placer demo``) and its ``pytest``:
    the front page keeps the two commands as they are."""
    setup = _section(README, "Set-up (two commands)")
    block = re.findall(r"```bash\n(.*?)```", setup, flags=re.S)
    assert block and block[0].splitlines() == ['pip install "torch==2.13.0" -e ".[dev]" && placer demo', "pytest"]
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert 'pip install --quiet "torch==2.13.0" -e ".[dev]"' in ci and "pytest" in ci
