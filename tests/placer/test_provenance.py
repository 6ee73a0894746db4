"""The provenance line every placement file a run writes begins with."""

from __future__ import annotations

from pathlib import Path

import pytest

from placer.provenance import placed_by, placed_by_in


@pytest.mark.parametrize(("budget", "expected"), [
    (5.0, "5"), (0.25, "0.25"), (0.1, "0.1"), (600.0, "600"), (1e-7, "1e-07"), (3e20, "3e+20"),
    (1234567.5, "1234567.5"), (2.0000001, "2.0000001"), (1 / 3, repr(1 / 3)),
])  # fmt: skip
def test_the_placed_by_line_writes_the_budget_exactly(tmp_path: Path, budget: float, expected: str) -> None:
    """'budget {budget_s:g} s' kept 6 digits: a run of 1234567.5 s said 1.23457e+06 s, one of
    2.0000001 s said 2 s. The number written reads back as the same float, short where it can."""
    line = placed_by("0.1.0", "greedy", 3, budget, {})
    plc = tmp_path / "x.plc"
    plc.write_text(f"# {line}\n# Columns : 2  Rows : 2\n0 1 1 N 0\n")
    said = placed_by_in(plc)
    assert said is not None and said.startswith("method greedy, seed 3, budget ") and said.endswith(" s")
    written = said.removeprefix("method greedy, seed 3, budget ").removesuffix(" s")
    assert written == expected and float(written) == budget


def test_a_checkout_is_dirty_for_changed_code_not_for_results_it_tracks(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The repository tracks runs folders (results.sqlite, .plc files) and pages: a batch writing
    into one marked every later run's checkout dirty. Only changed code counts: the packages
    pyproject.toml builds, and pyproject.toml itself."""
    import subprocess

    import placer.provenance as provenance

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    (tmp_path / "placer").mkdir()
    (tmp_path / "placer" / "code.py").write_text("x = 1\n")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "placer-gym"\n[tool.hatch.build.targets.wheel]\npackages = ["placer"]\n')
    runs = tmp_path / "experiments" / "results" / "a"
    runs.mkdir(parents=True)
    (runs / "results.sqlite").write_bytes(b"rows")
    (runs / "d1.plc").write_text("# placed\n")
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "start")
    monkeypatch.setattr(provenance, "__file__", str(tmp_path / "placer" / "provenance.py"))
    assert provenance.git_tree_dirty() is False

    (runs / "results.sqlite").write_bytes(b"more rows")  # a batch wrote into the tracked runs folder
    (runs / "d1.plc").write_text("# placed again\n")
    assert provenance.git_tree_dirty() is False
    (tmp_path / "placer" / "code.py").write_text("x = 2\n")  # the code changed
    assert provenance.git_tree_dirty() is True
    git("checkout", "-q", "--", "placer")
    (tmp_path / "pyproject.toml").write_text((tmp_path / "pyproject.toml").read_text() + "# changed\n")
    assert provenance.git_tree_dirty() is True


def test_the_environment_prefix_names_only_variables_that_change_results() -> None:
    """A results page named its command without the ``OMP_NUM_THREADS=1`` it ran under."""
    from placer.provenance import environment_prefix

    assert environment_prefix({"HOME": "/root", "PATH": "/bin"}) == ""
    got = environment_prefix({"PLACER_BENCHMARKS": "/my suite", "OMP_NUM_THREADS": "1", "LANG": "C"})
    assert got == "OMP_NUM_THREADS=1 PLACER_BENCHMARKS='/my suite' "  # (a fixed order; values quoted)


def test_typed_command_leads_with_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from placer.commands.common import typed_command
    from placer.provenance import RESULT_ENVIRONMENT

    for name in RESULT_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.argv", ["/venv/bin/placer", "leaderboard", "--runs", "a b"])
    assert typed_command() == "placer leaderboard --runs 'a b'"
    monkeypatch.setenv("NUMBA_NUM_THREADS", "2")
    assert typed_command() == "NUMBA_NUM_THREADS=2 placer leaderboard --runs 'a b'"
