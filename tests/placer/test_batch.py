"""Batch placement: rows and files written at once, resume, failures, kills, Ray."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from netlists.formats.circuit_training import write_netlist
from netlists.formats.plc import write_plc
from netlists.generate import generate
from netlists.io import load_design
from placer.batch import find_designs, load_plugins, make_tasks, run_batch
from placer.cost.proxy import evaluate
from placer.cost.timing import TIMING_MODEL
from placer.results import ResultStore

METHOD = "test_batch_jitter"

# A trivial method, written to a file so that spawned workers (and Ray) can import it.
PLUGIN_SOURCE = '''
import time

import numpy as np

from placer.algorithms.base import Placer, register_placer


@register_placer
class JitterForBatchTests(Placer):
    """Moves every movable macro by seeded noise; options: scale, sleep_s."""

    name = "test_batch_jitter"

    def run(self, netlist, placement, budget_s, seed, progress):
        if self.options.get("die_on") == [netlist.name, seed]:  # a crash / an OOM kill
            import os, signal
            os.kill(os.getpid(), signal.SIGKILL)
        if self.options.get("exit_on") == [netlist.name, seed]:  # a method ending its process
            raise SystemExit(3)
        if self.options.get("os_exit_on") == [netlist.name, seed]:  # a hard exit, no cleanup
            import os
            os._exit(1)
        if self.options.get("hang_on") == [netlist.name, seed]:  # stuck (for good by default)
            stop = time.monotonic() + float(self.options.get("hang_limit_s", "inf"))
            while time.monotonic() < stop:
                time.sleep(0.05)
        time.sleep(float(self.options.get("sleep_s", 0.0)))
        rng = np.random.default_rng(seed)
        m = netlist.macros
        scale = float(self.options.get("scale", 0.5))
        placement.x[m] += rng.normal(0.0, scale, m.size)
        placement.y[m] += rng.normal(0.0, scale, m.size)
        return placement
'''


@pytest.fixture
def suite(tmp_path: Path, design_writer) -> Path:  # type: ignore[no-untyped-def]
    """Two tiny generated designs in a suite laid out like the shared benchmarks."""
    root = tmp_path / "suite"
    design_writer(root / "gen" / "tiny_a", 1, "tiny_a", n_soft=8)
    design_writer(root / "gen" / "tiny_b", 2, "tiny_b", n_soft=8)
    return root


@pytest.fixture
def plugin(tmp_path: Path) -> str:
    path = tmp_path / "batch_test_placers.py"
    path.write_text(PLUGIN_SOURCE)
    load_plugins([str(path)])
    return str(path)


def rows(runs: Path) -> dict[tuple[str, str, int], object]:
    return {(r.design, r.method, r.seed): r for r in ResultStore.in_runs_dir(runs).records()}


def test_parallel_batch_writes_every_row_and_plc(suite: Path, plugin: str, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    designs = find_designs(suite)
    assert [d.name for d in designs] == ["tiny_a", "tiny_b"]
    tasks = make_tasks(designs, [METHOD], [0, 1], runs, 1.0, {METHOD: {"scale": 0.3}}, [plugin])
    summary = run_batch(tasks, runs, jobs=2, show_progress=False)
    assert (summary.ok, summary.failed, summary.interrupted) == (4, 0, False)

    found = rows(runs)
    assert set(found) == {(d, METHOD, s) for d in ("tiny_a", "tiny_b") for s in (0, 1)}
    for record in found.values():
        assert record.status == "ok" and record.error is None
        assert record.plc_path == f"{record.design}/{METHOD}/seed{record.seed}.plc"
        assert record.options == '{"scale": 0.3}'
        assert record.seconds is not None and record.seconds >= 0
        assert record.overlap_area == 0.0 and record.out_of_canvas == 0
        assert record.timing is not None and record.initial_proxy is not None
        assert record.timing_model == TIMING_MODEL  # which model made that figure
        assert record.version and record.started <= record.finished
        netlist, placement = load_design(record.netlist_path, runs / record.plc_path)
        fresh = evaluate(netlist, placement)
        assert record.proxy == fresh.proxy
        assert (record.wirelength, record.density, record.congestion) == (
            fresh.wirelength, fresh.density, fresh.congestion)
    # different seeds give different placements
    assert found[("tiny_a", METHOD, 0)].proxy != found[("tiny_a", METHOD, 1)].proxy


def test_resume_skips_finished_runs(suite: Path, plugin: str, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    designs = find_designs(suite, ["tiny_a"])
    first = run_batch(make_tasks(designs, [METHOD], [0], runs, 1.0, plugins=[plugin]), runs,
                      show_progress=False)
    assert first.ok == 1
    before = rows(runs)[("tiny_a", METHOD, 0)]
    again = run_batch(make_tasks(designs, [METHOD], [0, 1], runs, 1.0, plugins=[plugin]), runs,
                      resume=True, show_progress=False)
    assert (again.total, again.skipped, again.ok) == (2, 1, 1)
    assert [r.seed for r in again.records] == [1]
    assert rows(runs)[("tiny_a", METHOD, 0)].finished == before.finished


def test_resume_places_again_a_run_whose_plc_was_deleted_or_replaced(
    suite: Path, plugin: str, tmp_path: Path
) -> None:
    """--resume trusted the row: a run whose file was gone stayed "finished" for good."""
    runs = tmp_path / "runs"
    designs = find_designs(suite, ["tiny_a"])

    def batch():  # type: ignore[no-untyped-def]
        return run_batch(make_tasks(designs, [METHOD], [0, 1, 2], runs, 1.0, plugins=[plugin]), runs,
                         resume=True, show_progress=False)

    assert batch().ok == 3
    (runs / "tiny_a" / METHOD / "seed0.plc").unlink()
    (runs / "tiny_a" / METHOD / "seed1.plc").write_text((suite / "gen" / "tiny_a" / "initial.plc").read_text())
    again = batch()
    assert (again.skipped, again.ok) == (1, 2) and sorted(r.seed for r in again.records) == [0, 1]
    assert batch().skipped == 3


def test_a_failed_attempt_takes_the_earlier_plc_with_its_row(suite: Path, plugin: str, tmp_path: Path) -> None:
    """The row became failed but the earlier attempt's .plc stayed, matching no row."""
    runs = tmp_path / "runs"
    designs = find_designs(suite, ["tiny_a"])
    run_batch(make_tasks(designs, [METHOD], [0], runs, 1.0, plugins=[plugin]), runs, show_progress=False)
    plc = runs / "tiny_a" / METHOD / "seed0.plc"
    assert plc.is_file()
    failing = make_tasks(designs, [METHOD], [0], runs, 1.0, {METHOD: {"scale": "not a number"}}, [plugin])
    assert run_batch(failing, runs, show_progress=False).failed == 1
    assert rows(runs)[("tiny_a", METHOD, 0)].status == "failed" and not plc.exists()


def test_resume_refuses_runs_an_edited_plugin_made_and_rows_name_the_plugin_code(
    suite: Path, plugin: str, tmp_path: Path
) -> None:
    """Rows did not say which plugin code made them, and --resume kept runs of an edited one."""
    runs = tmp_path / "runs"
    designs = find_designs(suite, ["tiny_a"])

    def batch(plugins: list[str]):  # type: ignore[no-untyped-def]
        return run_batch(make_tasks(designs, [METHOD], [0], runs, 1.0, plugins=plugins), runs,
                         resume=True, show_progress=False)

    assert batch([plugin]).ok == 1
    source = rows(runs)[("tiny_a", METHOD, 0)].method_source
    assert source.startswith("JitterForBatchTests (sha1 ") and source.endswith(f"from {plugin}")
    header = (runs / "tiny_a" / METHOD / "seed0.plc").read_text()
    assert f"# Method code: {source}" in header
    copy = tmp_path / "elsewhere" / "batch_test_placers.py"  # the same code moved: resumed
    copy.parent.mkdir()
    copy.write_text(Path(plugin).read_text())
    assert batch([str(copy)]).skipped == 1
    Path(plugin).write_text(Path(plugin).read_text() + "# edited\n")  # run by a new process
    edited = subprocess.run(
        [sys.executable, "-m", "placer.cli", "place", "--suite", str(suite), "--designs", "tiny_a",
         "--algo", METHOD, "--budget-s", "1", "--out", str(runs), "--plugin", plugin, "--resume",
         "--quiet"],
        capture_output=True, text=True, timeout=120,
    )
    assert edited.returncode == 2, edited.stdout + edited.stderr
    assert "made by JitterForBatchTests" in edited.stderr and "--resume would keep it" in edited.stderr
    sa = run_batch(make_tasks(designs, ["sa"], [0], runs, 0.3), runs, resume=True, show_progress=False)
    assert sa.ok == 1 and rows(runs)[("tiny_a", "sa", 0)].method_source == ""


def test_edited_plugin_code_into_a_folder_of_its_older_runs_is_refused_before_any_run(
    suite: Path, plugin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a run --resume would keep was compared: edited plugin code batched onto another
    design of the folder ran to its end, then `placer leaderboard` refused the folder (one
    column, two versions of the code). A process that loaded the edited file is stood for by
    the text the registry keeps for the class (the file as it was loaded)."""
    from netlists.errors import InputError
    from placer.algorithms.base import _LOADED_SOURCE, placer_class

    runs = tmp_path / "runs"
    a, b = find_designs(suite, ["tiny_a"]), find_designs(suite, ["tiny_b"])
    assert run_batch(make_tasks(a, [METHOD], [0], runs, 1.0, plugins=[plugin]), runs, show_progress=False).ok == 1
    old_source = rows(runs)[("tiny_a", METHOD, 0)].method_source
    edited = Path(plugin).read_text() + "# edited\n"
    Path(plugin).write_text(edited)
    monkeypatch.setitem(_LOADED_SOURCE, placer_class(METHOD), edited.encode())
    for resume in (False, True):
        tasks = make_tasks(b, [METHOD], [0], runs, 1.0, plugins=[plugin])
        assert tasks[0].method_source != old_source
        with pytest.raises(InputError, match=rf"holds {METHOD} on tiny_a seed 0 made by JitterForBatchTests "
                                             r"\(sha1 .* two versions of the plugin's code"):
            run_batch(tasks, runs, resume=resume, show_progress=False)
    assert set(rows(runs)) == {("tiny_a", METHOD, 0)} and not list(runs.glob("tiny_b/**/*.plc"))
    # the older run placed again in the same batch: the folder holds one version of the code
    both = run_batch(make_tasks(a + b, [METHOD], [0], runs, 1.0, plugins=[plugin]), runs, show_progress=False)
    assert both.ok == 2 and {r.method_source for r in rows(runs).values()} == {tasks[0].method_source}


def test_resume_refuses_finished_runs_of_other_options_or_another_design_file(
    suite: Path, plugin: str, tmp_path: Path, design_writer  # type: ignore[no-untyped-def]
) -> None:
    runs = tmp_path / "runs"
    designs = find_designs(suite, ["tiny_a"])

    def batch(options: dict, found=designs, resume: bool = True):  # type: ignore[no-untyped-def]
        tasks = make_tasks(found, [METHOD], [0], runs, 1.0, {METHOD: options}, [plugin])
        return run_batch(tasks, runs, resume=resume, show_progress=False)

    assert batch({"scale": 0.3}).ok == 1
    assert batch({"scale": 0.3}).skipped == 1  # same options: resumed
    with pytest.raises(ValueError, match=r'with options \{"scale": 0.3\} \(asked: \{"scale": 0.9\}\)'):
        batch({"scale": 0.9})
    assert batch({"scale": 0.9}, resume=False).ok == 1  # without --resume: placed again
    assert rows(runs)[("tiny_a", METHOD, 0)].options == '{"scale": 0.9}'
    # a suite copied elsewhere resumes; another design of the same name does not
    copied = tmp_path / "copy"
    copied.mkdir()
    os.rename(suite, copied / "suite")
    assert batch({"scale": 0.9}, find_designs(copied / "suite", ["tiny_a"])).skipped == 1
    design_writer(tmp_path / "other" / "tiny_a", 7, "tiny_a", n_soft=8)
    os.rename(copied / "suite", suite)  # the stored file exists again, and differs
    with pytest.raises(ValueError, match="another file than"):
        batch({"scale": 0.9}, find_designs(tmp_path / "other", ["tiny_a"]))


def test_a_design_edited_in_place_is_not_taken_for_the_one_already_placed(
    suite: Path, plugin: str, tmp_path: Path
) -> None:
    """Same folder, same netlist file, its initial.plc edited (a macro fixed, the canvas
    changed): --resume skipped it as done and a rerun mixed both versions in one folder."""
    runs = tmp_path / "runs"
    designs = find_designs(suite)

    def batch(found, seeds=(0,), resume=True):  # type: ignore[no-untyped-def]
        tasks = make_tasks(found, [METHOD], list(seeds), runs, 1.0, plugins=[plugin])
        return run_batch(tasks, runs, resume=resume, show_progress=False)

    assert batch(designs).ok == 2
    digest = rows(runs)[("tiny_a", METHOD, 0)].design_digest
    assert len(digest) == 64 and digest != rows(runs)[("tiny_b", METHOD, 0)].design_digest
    plc = suite / "gen" / "tiny_a" / "initial.plc"
    text = plc.read_text()
    plc.write_text(text.replace("\n", "\r\n"))  # the same text with other line ends: same design
    assert batch(designs).skipped == 2
    netlist, placement = load_design(suite / "gen" / "tiny_a" / "netlist.pb.txt")
    placement.fixed[netlist.hard_macros[0]] = True
    write_plc(plc, netlist, placement)
    with pytest.raises(ValueError, match="initial.plc has been edited since"):
        batch(designs)
    with pytest.raises(ValueError, match="initial.plc has been edited since"):
        batch(designs, seeds=(1,), resume=False)  # seed 0 of the old version would stay
    assert batch(find_designs(suite, ["tiny_b"])).skipped == 1  # the other design still resumes
    # a copy of the suite whose initial.plc differs: the copy is not said to be an edit of the
    # file the runs came from (that one was never touched)
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(suite, copy)
    write_plc(plc, netlist, load_design(suite / "gen" / "tiny_a" / "netlist.pb.txt")[1])
    plc.write_text(text)
    with pytest.raises(ValueError, match=r"runs of design tiny_a placed from .*, whose netlist or initial.plc differs from those of .*copy") as refused:
        batch(find_designs(copy), resume=True)
    assert "edited since" not in str(refused.value)


def _signal_after_each_write(monkeypatch: pytest.MonkeyPatch, signum: int) -> None:
    """Every results row the batch commits is followed by ``signum`` sent to this process."""
    original = ResultStore.write

    def write_then_signal(self, record):  # type: ignore[no-untyped-def]
        original(self, record)
        os.kill(os.getpid(), signum)
        time.sleep(0.2)

    monkeypatch.setattr(ResultStore, "write", write_then_signal)


def test_a_ctrl_c_right_after_a_rows_commit_still_counts_that_run(
    suite: Path, plugin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interrupted batch's summary said one ok run fewer than its folder held."""
    runs = tmp_path / "runs"
    _signal_after_each_write(monkeypatch, signal.SIGINT)
    tasks = make_tasks(find_designs(suite), [METHOD], [0], runs, 1.0, plugins=[plugin])
    summary = run_batch(tasks, runs, show_progress=False)
    assert summary.interrupted and summary.ok == 1 == len(rows(runs))
    assert (runs / "tiny_a" / METHOD / "seed0.plc").exists()


def test_a_kill_stops_a_library_batch_and_then_reaches_the_callers_own_handler(
    suite: Path, plugin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run_batch turned SIGTERM into its own Ctrl-C and returned: the calling program was not
    ended by the kill and its own handler never ran. Under a handler that turns kills into
    interrupts (the CLI's), the batch still just returns interrupted."""
    from placer.interrupts import sigterm_as_interrupt

    _signal_after_each_write(monkeypatch, signal.SIGTERM)
    calls: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    try:
        tasks = make_tasks(find_designs(suite), [METHOD], [0], tmp_path / "a", 1.0, plugins=[plugin])
        summary = run_batch(tasks, tmp_path / "a", show_progress=False)
        assert summary.interrupted and summary.ok == 1 and calls == [signal.SIGTERM]
        with sigterm_as_interrupt():  # as the CLI runs its commands
            tasks = make_tasks(find_designs(suite), [METHOD], [0], tmp_path / "b", 1.0, plugins=[plugin])
            summary = run_batch(tasks, tmp_path / "b", show_progress=False)
        assert summary.interrupted and calls == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_threads_loading_one_plugin_at_once_all_find_its_method(tmp_path: Path) -> None:
    """A plugin's name is in sys.modules before its code has run: a second thread skipped it as
    loaded and found its method unknown (a run recorded as failed)."""
    import threading

    from placer.algorithms.base import get_placer

    path = tmp_path / "slow_plugin_for_threads.py"
    path.write_text(
        "import time\n"
        "from placer.algorithms.base import Placer, register_placer\n"
        "time.sleep(0.5)\n"
        "@register_placer\n"
        "class SlowToImport(Placer):\n"
        "    name = 'test_slow_to_import'\n"
        "    def run(self, netlist, placement, budget_s, seed, progress):\n"
        "        return placement\n"
    )
    outcomes: list[str] = []

    def load_and_look_up() -> None:
        try:
            load_plugins([str(path)])
            outcomes.append(get_placer("test_slow_to_import").name)
        except Exception as error:  # noqa: BLE001 - the outcome is what is compared
            outcomes.append(repr(error))

    threads = [threading.Thread(target=load_and_look_up, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)  # (a deadlock fails, not hangs)
    assert outcomes == ["test_slow_to_import"] * 3


def test_failing_design_is_recorded_and_the_batch_goes_on(
    suite: Path, plugin: str, tmp_path: Path
) -> None:
    broken = suite / "gen" / "broken"
    broken.mkdir()
    (broken / "netlist.pb.txt").write_text("node {\n  name: \n")
    (broken / "initial.plc").write_text("# nothing\n")
    runs = tmp_path / "runs"
    tasks = make_tasks(find_designs(suite), [METHOD], [0], runs, 1.0, plugins=[plugin])
    summary = run_batch(tasks, runs, jobs=1, show_progress=False)
    assert (summary.ok, summary.failed) == (2, 1)
    found = rows(runs)
    bad = found[("broken", METHOD, 0)]
    assert bad.status == "failed" and "NetlistError" in bad.error and bad.proxy is None
    assert found[("tiny_b", METHOD, 0)].status == "ok"
    # a resume retries the failed design only
    again = run_batch(tasks, runs, resume=True, show_progress=False)
    assert (again.skipped, again.failed) == (2, 1)


def test_unknown_method_and_budget_clash_fail_before_any_work(
    suite: Path, plugin: str, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    designs = find_designs(suite, ["tiny_a"])
    with pytest.raises(ValueError, match="unknown placement method 'nope'"):
        run_batch(make_tasks(designs, ["nope"], [0], runs, 1.0), runs, show_progress=False)
    run_batch(make_tasks(designs, [METHOD], [0], runs, 1.0, plugins=[plugin]), runs,
              show_progress=False)
    with pytest.raises(ValueError, match="another runs folder"):
        run_batch(make_tasks(designs, [METHOD], [0], runs, 2.0, plugins=[plugin]), runs,
                  show_progress=False)


@pytest.mark.parametrize(
    ("how", "jobs"), [("SIGKILL to the whole group", 1), ("SIGTERM to the parent", 2)]
)
def test_killed_batch_keeps_finished_rows_and_resumes(
    suite: Path, plugin: str, tmp_path: Path, how: str, jobs: int
) -> None:
    runs = tmp_path / "runs"
    command = [
        sys.executable, "-m", "placer.cli", "place", "--suite", str(suite), "--algo", METHOD,
        "--seeds", "3", "--jobs", str(jobs), "--budget-s", "5", "--out", str(runs), "--quiet",
        "--plugin", plugin, "--option", "sleep_s=0.4",
    ]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    db = runs / "results.sqlite"
    deadline = time.monotonic() + 60
    n_rows = 0
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if db.exists():
                try:
                    with closing(sqlite3.connect(db, timeout=10)) as conn:
                        n_rows = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
                except sqlite3.OperationalError:  # the table is being created
                    n_rows = 0
                if n_rows:
                    break
            time.sleep(0.05)
        if how.startswith("SIGTERM"):  # a plain kill: the batch stops its workers, exits 130
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 130
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert n_rows >= 1, process.stderr.read().decode() if process.stderr else ""
    killed = rows(runs)
    assert 1 <= len(killed) < 6
    assert all(record.status == "ok" for record in killed.values())
    tasks = make_tasks(find_designs(suite), [METHOD], [0, 1, 2], runs, 5.0,
                       {METHOD: {"sleep_s": 0.4}}, [plugin])  # the same options: a resume
    summary = run_batch(tasks, runs, jobs=1, resume=True, show_progress=False)
    assert summary.skipped == len(killed) and summary.ok == 6 - len(killed)
    final = rows(runs)
    assert len(final) == 6
    for key, record in killed.items():
        assert final[key].finished == record.finished and final[key].proxy == record.proxy
        # its .plc holds what the row measured: checked after the resume, which (as any next
        # batch) first moves a .plc a kill left staged between its row's commit and its
        # rename into place (read before it, that one was 'no such file' under load)
        netlist, placement = load_design(record.netlist_path, runs / record.plc_path)
        assert evaluate(netlist, placement).proxy == record.proxy


@pytest.mark.slow  # (over 10 s: `pytest -m "not slow"` leaves it out)
def test_ray_runs_the_same_tasks(suite: Path, plugin: str, tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'placer-gym[ray]')")
    runs = tmp_path / "runs"
    tasks = make_tasks(find_designs(suite), [METHOD], [0], runs, 1.0, plugins=[plugin])
    # a new local instance: "auto" (the default) would join a cluster the machine already runs
    ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        summary = run_batch(tasks, runs, ray_address="local", show_progress=False)
    finally:
        ray.shutdown()
    assert (summary.ok, summary.failed) == (2, 0)
    for record in rows(runs).values():
        netlist, placement = load_design(record.netlist_path, runs / record.plc_path)
        assert evaluate(netlist, placement).proxy == record.proxy


@pytest.mark.slow  # (over 10 s: `pytest -m "not slow"` leaves it out)
def test_a_run_stuck_on_ray_is_cancelled_at_its_deadline(suite: Path, plugin: str, tmp_path: Path) -> None:
    """Runs on Ray had no deadline: one stuck method held the batch for good."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'placer-gym[ray]')")
    runs = tmp_path / "runs"
    options = {METHOD: {"hang_on": ["tiny_a", 0], "hang_limit_s": 150}}  # (without a deadline: ok)
    tasks = make_tasks(find_designs(suite, ["tiny_a"]), [METHOD], [0, 1], runs, 1.0, options, [plugin])
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        started = time.monotonic()
        # (the deadline counts the worker's imports and warm-up too: 15 s failed the run that
        # does not hang on a machine at load 5.5, whose Ray worker took that long to begin)
        summary = run_batch(tasks, runs, ray_address="local", show_progress=False, deadline_s=40.0)
        assert time.monotonic() - started < 120
    finally:
        ray.shutdown()
    assert (summary.ok, summary.failed, summary.interrupted) == (1, 1, False)
    failed = rows(runs)[("tiny_a", METHOD, 0)]
    assert failed.status == "failed" and "past its deadline of 40 s" in failed.error, failed.error
    assert rows(runs)[("tiny_a", METHOD, 1)].status == "ok"


def test_a_ray_run_is_timed_from_when_it_began_and_one_done_in_time_is_kept() -> None:
    """The deadline's bookkeeping without a cluster: a queued run is not timed, a run whose
    record came in the poll its deadline passed is recorded as it came, a run past it is
    cancelled and recorded as failed."""
    from types import SimpleNamespace

    from placer import batch_ray

    cancelled: list[str] = []
    done_refs = {"done"}

    class Ref(str):
        def __next__(self) -> str:
            return self

    fake_ray = SimpleNamespace(
        wait=lambda refs, num_returns, timeout: ([r for r in refs if r in done_refs], []),
        get=lambda ref: f"record of {ref}",
        cancel=lambda ref, force: cancelled.append(ref if force else f"{ref} (not forced)"),
    )
    now = time.monotonic()
    pending = {
        Ref("queued"): batch_ray._RayRun("queued", None),  # type: ignore[arg-type]
        Ref("done"): batch_ray._RayRun("done", now - 50.0),  # type: ignore[arg-type]
        Ref("stuck"): batch_ray._RayRun("stuck", now - 50.0),  # type: ignore[arg-type]
        Ref("young"): batch_ray._RayRun("young", now - 1.0),  # type: ignore[arg-type]
    }
    records: list[object] = []
    failed = SimpleNamespace(failed_record=lambda task, error: (task, error))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batch_ray, "failed_record", failed.failed_record)
        running = {ref: run for ref, run in pending.items() if run.began is not None}
        batch_ray._stop_overdue(fake_ray, pending, running, lambda task: 10.0, records.append)
    assert cancelled == ["stuck"] and sorted(pending) == ["queued", "young"] and sorted(running) == ["young"]
    assert records[0] == "record of done"
    assert records[1][0] == "stuck" and "past its deadline of 10 s" in records[1][1]  # type: ignore[index]


def test_a_corrupt_results_database_is_a_clear_error(suite: Path, plugin: str, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "results.sqlite").write_bytes(b"not a database " * 200)
    tasks = make_tasks(find_designs(suite), [METHOD], [0], runs, 1.0, plugins=[plugin])
    with pytest.raises(ValueError, match="not a readable results database"):
        run_batch(tasks, runs, resume=True, show_progress=False)


def test_each_row_records_whether_the_designs_initial_placement_is_legal(
    suite: Path, plugin: str, tmp_path: Path
) -> None:
    """The leaderboard's ``initial`` column showed an illegal given placement (ariane133's) like
    a legal one: the batch recorded its cost only."""
    plc = suite / "gen" / "tiny_a" / "initial.plc"
    netlist, placement = load_design(suite / "gen" / "tiny_a" / "netlist.pb.txt")
    placement.x[netlist.hard_macros[0]] = netlist.canvas.width * 1.5  # out of the canvas
    write_plc(plc, netlist, placement)
    runs = tmp_path / "runs"
    tasks = make_tasks(find_designs(suite), [METHOD], [0], runs, 1.0, {METHOD: {"scale": 0.3}}, [plugin])
    assert run_batch(tasks, runs, show_progress=False).ok == 2
    found = rows(runs)
    moved, kept = found[("tiny_a", METHOD, 0)], found[("tiny_b", METHOD, 0)]
    assert (moved.initial_out_of_canvas, moved.initial_overlap_area) == (1, 0.0)
    assert (kept.initial_out_of_canvas, kept.initial_overlap_area) == (0, 0.0)


def test_a_run_that_kept_the_given_placement_says_so_in_its_row(
    tmp_path: Path, dense_legal_design
) -> None:  # type: ignore[no-untyped-def]
    netlist, start = dense_legal_design
    folder = tmp_path / "suite" / "dense"
    folder.mkdir(parents=True)
    write_netlist(netlist, folder / "netlist.pb.txt")
    write_plc(folder / "initial.plc", netlist, start)
    runs = tmp_path / "runs"
    tasks = make_tasks(find_designs(tmp_path / "suite"), ["greedy"], [0], runs, 1.0)
    summary = run_batch(tasks, runs, show_progress=False)
    row = rows(runs)[("dense", "greedy", 0)]
    assert summary.ok == 1 and row.status == "ok"
    assert "could not be legalised" in row.note and "kept the given one" in row.note


def test_a_truncated_initial_plc_is_noted_in_every_row_of_the_design(
    suite: Path, plugin: str, tmp_path: Path
) -> None:
    """The reader's warning (its body lists fewer nodes than its header counts) went to the
    worker's stderr in Python's format, once per worker, and into no row."""
    plc = suite / "gen" / "tiny_a" / "initial.plc"
    plc.write_text("\n".join(plc.read_text().splitlines()[:-3]) + "\n")
    runs = tmp_path / "runs"
    tasks = make_tasks(find_designs(suite, ["tiny_a"]), [METHOD], [0, 1], runs, 1.0, plugins=[plugin])
    assert run_batch(tasks, runs, show_progress=False, jobs=1).ok == 2
    for seed in (0, 1):
        assert "the other 3 keep the netlist's positions" in rows(runs)[("tiny_a", METHOD, seed)].note


def test_a_kill_between_a_workers_file_and_its_row_leaves_files_that_match_their_rows(
    suite: Path, plugin: str, tmp_path: Path
) -> None:
    """Workers write ``.plc.staged``; the batch moves it into place once the row is committed.
    Here the two states a kill can leave are made by hand, and the next batch settles both."""
    from placer.batch import STAGED_SUFFIX, run_task
    from placer.results import attempt_of

    runs = tmp_path / "runs"
    designs = find_designs(suite, ["tiny_a"])
    tasks = make_tasks(designs, [METHOD], [0, 1], runs, 1.0, {METHOD: {"scale": 0.3}}, [plugin])
    run_batch(tasks, runs, show_progress=False)
    first = rows(runs)
    store = ResultStore.in_runs_dir(runs)
    # seed 0: a rerun's worker finished, the batch was killed before writing the row
    orphan = run_task(tasks[0])
    # seed 1: the row was committed, the batch was killed before moving the file into place
    committed = run_task(tasks[1])
    store.write(committed)
    staged = sorted(p.name for p in runs.rglob("*" + STAGED_SUFFIX))
    assert staged == ["seed0.plc" + STAGED_SUFFIX, "seed1.plc" + STAGED_SUFFIX]
    assert orphan.plc_attempt != first[("tiny_a", METHOD, 0)].plc_attempt

    run_batch(tasks, runs, resume=True, show_progress=False)  # nothing to run: only settles
    assert not list(runs.rglob("*" + STAGED_SUFFIX))
    final = rows(runs)
    assert final[("tiny_a", METHOD, 0)].plc_attempt == first[("tiny_a", METHOD, 0)].plc_attempt
    assert final[("tiny_a", METHOD, 1)].plc_attempt == committed.plc_attempt
    for record in final.values():
        assert attempt_of(runs / record.plc_path) == record.plc_attempt
        netlist, placement = load_design(record.netlist_path, runs / record.plc_path)
        assert evaluate(netlist, placement).proxy == record.proxy


def test_a_worker_exits_when_the_batch_process_is_killed(tmp_path: Path) -> None:
    """Killed at once, before the worker has started its watch (it read getppid() then: the
    new parent, and ran on; a flake on a loaded machine, where a 1 s wait was too short)."""
    script = tmp_path / "orphan.py"
    script.write_text(
        "import multiprocessing, os, sys, time\n"
        "from placer.batch import _worker_init\n"
        "def work(batch):\n    time.sleep(1.0)\n    _worker_init(batch)\n    time.sleep(120)\n"
        "if __name__ == '__main__':\n"
        "    child = multiprocessing.get_context('spawn').Process(target=work, args=(os.getpid(),))\n"
        "    child.start()\n    print(child.pid, flush=True)\n    time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()  # (before the worker's watch starts: it sleeps 1 s first)
    parent.wait()

    def running(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z"  # an exited worker no one has reaped yet counts as gone

    deadline = time.monotonic() + 10
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = running(child)
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive, "the worker kept running after its batch process was killed"


def test_a_run_at_another_budget_supersedes_an_old_failure(suite: Path, plugin: str, tmp_path: Path) -> None:
    from placer.results import RunRecord

    runs = tmp_path / "runs"
    store = ResultStore.in_runs_dir(runs)
    store.write(RunRecord(design="tiny_a", method=METHOD, seed=0, budget_s=1.0, status="failed", error="boom"))
    tasks = make_tasks(find_designs(suite, ["tiny_a"]), [METHOD], [0], runs, 2.0, plugins=[plugin])
    run_batch(tasks, runs, show_progress=False)
    left = [(r.budget_s, r.status) for r in store.records()]
    assert left == [(2.0, "ok")]  # the failure at 1 s no longer splits the table


def test_a_method_named_twice_runs_once() -> None:
    from placer.commands.place import _split_list

    assert _split_list("sa, refine,sa,,greedy") == ["sa", "refine", "greedy"]


@pytest.mark.slow  # (over 10 s: `pytest -m "not slow"` leaves it out)
def test_a_task_that_kills_its_worker_fails_alone(suite: Path, plugin: str, tmp_path: Path) -> None:
    """A dead worker broke the pool and every queued task was recorded as failed ("worker
    process died"), on every rerun too: now only the task that kills its worker fails."""
    runs = tmp_path / "runs"
    options = {METHOD: {"die_on": ["tiny_a", 0], "sleep_s": 0.3}}
    tasks = make_tasks(find_designs(suite), [METHOD], [0, 1, 2], runs, 1.0, options, [plugin])
    summary = run_batch(tasks, runs, jobs=2, show_progress=False)
    assert (summary.ok, summary.failed) == (5, 1)
    failed = [r for r in rows(runs).values() if r.status != "ok"]
    assert [(r.design, r.seed) for r in failed] == [("tiny_a", 0)]
    assert "its worker process died while running it" in failed[0].error


def test_a_worker_ending_its_process_fails_its_task_only_with_two_jobs(suite: Path, plugin: str, tmp_path: Path) -> None:
    """The fast counterpart of the slow kill test above (the same path with 6 tasks): a method
    that ``os._exit(1)``s its worker on seed 0 kills its slot's worker, twice (a task whose
    worker dies runs once more in a fresh one), so seed 0's row is failed naming the dead
    worker, seed 1's is ok, and there are exactly 2 rows (none lost, none counted twice)."""
    runs = tmp_path / "runs"
    options = {METHOD: {"os_exit_on": ["tiny_a", 0]}}
    tasks = make_tasks(find_designs(suite, ["tiny_a"]), [METHOD], [0, 1], runs, 1.0, options, [plugin])
    summary = run_batch(tasks, runs, jobs=2, show_progress=False)
    assert (summary.total, summary.ok, summary.failed, summary.interrupted) == (2, 1, 1, False)
    assert sorted(r.seed for r in summary.records) == [0, 1]
    with closing(sqlite3.connect(runs / "results.sqlite")) as db:
        stored = db.execute("SELECT seed, status, error FROM runs ORDER BY seed").fetchall()
    assert [(seed, status) for seed, status, _ in stored] == [(0, "failed"), (1, "ok")]
    assert stored[0][2].startswith("its worker process died while running it (killed, out of memory or a crash)")
    assert stored[1][2] is None
    assert (runs / "tiny_a" / METHOD / "seed1.plc").is_file()
    assert not (runs / "tiny_a" / METHOD / "seed0.plc").exists()


@pytest.mark.slow  # (over 10 s: `pytest -m "not slow"` leaves it out)
def test_a_stuck_run_is_stopped_at_its_deadline_even_with_one_job(suite: Path, plugin: str, tmp_path: Path) -> None:
    """A method stuck for good held the batch for good; with a deadline given, --jobs 1 runs in
    a worker process too (this process cannot be stopped by a deadline), and the stuck run's
    row says why it failed while the other runs are ok."""
    runs = tmp_path / "runs"
    options = {METHOD: {"hang_on": ["tiny_a", 0]}}
    tasks = make_tasks(find_designs(suite, ["tiny_a"]), [METHOD], [0, 1], runs, 1.0, options, [plugin])
    started = time.monotonic()
    summary = run_batch(tasks, runs, jobs=1, show_progress=False, deadline_s=20.0)
    assert time.monotonic() - started < 120
    assert (summary.ok, summary.failed, summary.interrupted) == (1, 1, False)
    failed = rows(runs)[("tiny_a", METHOD, 0)]
    assert failed.status == "failed" and "past its deadline of 20 s" in failed.error
    assert rows(runs)[("tiny_a", METHOD, 1)].status == "ok"


def test_a_stop_between_a_rows_commit_and_its_publish_leaves_no_row_without_a_file(
    suite: Path, plugin: str, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-C or SIGTERM there used to leave an ok row whose .plc was still only staged until
    some later batch ran in the folder; a write cut short left a .plc.tmp.staged for good."""
    import placer.batch as batch

    runs = tmp_path / "runs"
    tasks = make_tasks(find_designs(suite, ["tiny_a"]), [METHOD], [0, 1], runs, 1.0, {}, [plugin])

    def stopped(runs_dir, record):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt  # arrives right after the row was committed

    monkeypatch.setattr(batch, "publish", stopped)
    leftover = runs / "tiny_a" / METHOD / ("seed9.plc.tmp" + batch.STAGED_SUFFIX)
    leftover.parent.mkdir(parents=True)
    leftover.write_text("half a file")
    assert run_batch(tasks, runs, show_progress=False).interrupted
    found = rows(runs)
    assert found and all((runs / r.plc_path).is_file() for r in found.values() if r.status == "ok")
    assert not list(runs.rglob("*" + batch.STAGED_SUFFIX))


def test_tasks_made_for_another_runs_folder_are_refused_before_any_write(suite: Path, plugin: str, tmp_path: Path) -> None:
    """run_batch(make_tasks(..., "runsA", ...), "runsB") ran: the .plc files were staged under
    runsA and never published, runsB's rows named files it did not hold."""
    tasks = make_tasks(find_designs(suite, ["tiny_a"]), [METHOD], [0], tmp_path / "a", 1.0, plugins=[plugin])
    with pytest.raises(ValueError, match=r"tasks made for another runs folder \(.*/a\) given to a batch into .*/b"):
        run_batch(tasks, tmp_path / "b", show_progress=False)
    assert not (tmp_path / "a").exists() and not list((tmp_path / "b").glob("*/**/*.plc*"))
    assert run_batch(tasks, tmp_path / "a", show_progress=False).ok == 1  # (the same folder, spelt
    same = make_tasks(find_designs(suite, ["tiny_a"]), [METHOD], [0], tmp_path / "b" / ".." / "a", 1.0,
                      plugins=[plugin])  # another way, is the same folder)
    assert run_batch(same, tmp_path / "a", show_progress=False, resume=True).skipped == 1


def test_a_link_in_the_runs_folder_leading_outside_it_is_refused_before_any_write(suite: Path, plugin: str, tmp_path: Path) -> None:
    """RUNS/tiny_a -> ../victim had the batch overwrite victim/METHOD/seed0.plc (and remove
    superseded ones there) without a word."""
    runs, victim = tmp_path / "runs", tmp_path / "victim"
    (victim / METHOD).mkdir(parents=True)
    (victim / METHOD / "seed0.plc").write_text("precious")
    runs.mkdir()
    (runs / "tiny_a").symlink_to(victim)
    tasks = make_tasks(find_designs(suite, ["tiny_a"]), [METHOD], [0], runs, 1.0, {}, [plugin])
    with pytest.raises(ValueError, match=r"tiny_a is a link leading outside the runs folder .*victim"):
        run_batch(tasks, runs, show_progress=False)
    assert (victim / METHOD / "seed0.plc").read_text() == "precious"
    assert not (runs / "results.sqlite").exists()
    (runs / "tiny_a").unlink()  # a link inside the folder is fine
    (runs / "elsewhere").mkdir()
    (runs / "tiny_a").symlink_to(runs / "elsewhere")
    assert run_batch(tasks, runs, show_progress=False).ok == 1
    assert (runs / "elsewhere" / METHOD / "seed0.plc").is_file()
    (runs / "tiny_a").unlink()  # a broken link is named as such, not as leading outside
    (runs / "tiny_a").symlink_to(runs / "missing")
    with pytest.raises(ValueError, match=r"tiny_a is a broken link \(to .*missing\): remove it"):
        run_batch(tasks, runs, show_progress=False)

def test_a_results_file_of_another_kind_is_refused_not_given_a_runs_table(tmp_path: Path, sqlite_file) -> None:  # type: ignore[no-untyped-def]
    import sqlite3
    from contextlib import closing

    path = sqlite_file(tmp_path / "results.sqlite", "CREATE TABLE trials (run TEXT)")  # e.g. placer tune's
    with pytest.raises(ValueError, match=r"holds other tables \(trials\), not placement runs"):
        ResultStore(path)
    with pytest.raises(ValueError, match=r"holds other tables \(trials\), not placement runs"):
        ResultStore(path, read_only=True)  # (the leaderboard's reading said 'no such table: runs')
    with closing(sqlite3.connect(path)) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["trials"]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    # a runs table of another tool, without the run key: re-runs would have added rows
    other = sqlite_file(
        tmp_path / "other.sqlite", "CREATE TABLE runs (design TEXT, method TEXT, seed INTEGER, budget_s REAL, status TEXT)"
    )
    with pytest.raises(ValueError, match=r"no UNIQUE \(design, method, seed, budget_s\): not made by placer-gym"):
        ResultStore(other)


def test_an_index_name_with_a_quote_in_the_results_database_is_no_syntax_error(tmp_path: Path) -> None:
    """The run key check put each index's name into the PRAGMA's text: an index named x'y made
    the folder 'not a readable results database (near "y": syntax error)'."""
    import sqlite3
    from contextlib import closing

    path = tmp_path / "results.sqlite"
    ResultStore(path)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("""CREATE INDEX "x'y" ON runs (design)""")
        conn.execute("""CREATE INDEX "z'); DROP TABLE runs; --" ON runs (method)""")
    ResultStore(path)  # opens: the run key is there
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'runs'").fetchone()[0] == 1

def test_a_folder_never_mixes_two_netlists_of_one_name_or_two_option_sets_in_one_column(
    suite: Path, plugin: str, tmp_path: Path, design_writer  # type: ignore[no-untyped-def]
) -> None:
    """Only a --resume of the same run was checked: a new seed with other options went into
    the same leaderboard cell, and a new method on another netlist of the same name was
    accepted (the folder's leaderboard then refused the whole folder)."""
    runs = tmp_path / "runs"
    designs = find_designs(suite, ["tiny_a"])
    first = make_tasks(designs, [METHOD], [0], runs, 1.0, {METHOD: {"scale": 0.3}}, [plugin])
    assert run_batch(first, runs, show_progress=False).ok == 1
    other_seed = make_tasks(designs, [METHOD], [1], runs, 1.0, {METHOD: {"scale": 0.9}}, [plugin])
    with pytest.raises(ValueError, match="one leaderboard column would mix them"):
        run_batch(other_seed, runs, show_progress=False)
    both = make_tasks(designs, [METHOD], [0, 1], runs, 1.0, {METHOD: {"scale": 0.9}}, [plugin])
    assert run_batch(both, runs, show_progress=False).ok == 2  # every run of the cell replaced
    # another design with other options: the column would mix them (written, then the folder's
    # leaderboard refused it)
    other_design = make_tasks(find_designs(suite, ["tiny_b"]), [METHOD], [0], runs, 1.0, {METHOD: {"scale": 0.3}}, [plugin])
    with pytest.raises(ValueError, match="holds .* on tiny_a seed 0 with options .*one leaderboard column would mix them"):
        run_batch(other_design, runs, show_progress=False)
    design_writer(tmp_path / "other" / "tiny_a", 7, "tiny_a", n_soft=8)
    elsewhere = make_tasks(find_designs(tmp_path / "other"), ["greedy"], [0], runs, 1.0, {}, [plugin])
    with pytest.raises(ValueError, match="holds runs of design tiny_a placed from .* another file"):
        run_batch(elsewhere, runs, show_progress=False)


def test_a_ray_address_nothing_answers_on_is_refused_at_once(suite: Path, plugin: str, tmp_path: Path) -> None:
    """ray.init waited many minutes on an unreachable host:port without a word."""
    from placer.batch_ray import ray_endpoint

    assert ray_endpoint("10.0.0.5:6379") == ("10.0.0.5", 6379)
    assert ray_endpoint("ray://head:10001") == ("head", 10001)
    assert ray_endpoint("auto") is None and ray_endpoint("local") is None
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'placer-gym[ray]')")
    tasks = make_tasks(find_designs(suite, ["tiny_a"]), [METHOD], [0], tmp_path / "runs", 1.0, plugins=[plugin])
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="--ray 127.0.0.1:1: nothing answers there"):
        run_batch(tasks, tmp_path / "runs", ray_address="127.0.0.1:1", show_progress=False)
    assert time.monotonic() - started < 30
    # refused before the runs folder is made (an empty results.sqlite and a lock were left),
    # and an address Ray cannot read in our words (Ray's: "Invalid address format: bogus")
    with pytest.raises(ValueError, match=r"--ray bogus: expected local, auto, HOST:PORT or ray://HOST\[:PORT\]"):
        run_batch(tasks, tmp_path / "runs", ray_address="bogus", show_progress=False)
    assert not (tmp_path / "runs").exists()


def test_a_suite_plc_header_names_its_own_file(tmp_path: Path) -> None:
    """The header said 'This file : seed0.plc.staged' (the staging name)."""
    netlist, placement = generate(3, 6, 4, seed=1, name="d")
    (tmp_path / "suite" / "d").mkdir(parents=True)
    write_netlist(netlist, tmp_path / "suite" / "d" / "netlist.pb.txt")
    write_plc(tmp_path / "suite" / "d" / "initial.plc", netlist, placement)
    tasks = make_tasks(find_designs(tmp_path / "suite"), ["greedy"], [0], tmp_path / "runs", 1.0)
    assert run_batch(tasks, tmp_path / "runs", show_progress=False).ok == 1
    header = (tmp_path / "runs" / "d" / "greedy" / "seed0.plc").read_text().splitlines()[:4]
    assert "# This file : seed0.plc" in header


def test_an_install_inside_another_projects_repository_records_no_commit(tmp_path, monkeypatch) -> None:
    """git rev-parse from the installed package's folder gave the user's own repository's HEAD,
    stored and printed as placer's commit."""
    import subprocess

    import placer.provenance as provenance

    if (Path(provenance.__file__).resolve().parents[1] / ".git").exists():
        assert provenance.git_commit() is not None  # this checkout: placer-gym's own commit
    other = tmp_path / "someone_else"
    (other / "venv" / "site" / "placer").mkdir(parents=True)
    (other / "pyproject.toml").write_text('[project]\nname = "their-app"\n')
    for args in (["init", "-q"], ["-c", "user.name=u", "-c", "user.email=u@x", "commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run(["git", *args], cwd=other, check=True, capture_output=True)
    fake_module = other / "venv" / "site" / "placer" / "provenance.py"
    monkeypatch.setattr(provenance, "__file__", str(fake_module))
    assert provenance.git_commit() is None


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_method_calling_sys_exit_fails_its_run_only(suite: Path, plugin: str, tmp_path: Path, jobs: int) -> None:
    """SystemExit passed the worker's error handling: the batch ended at once with exit 3,
    the other runs never made and (with --jobs 2) no row recorded."""
    runs = tmp_path / "runs"
    options = {METHOD: {"exit_on": ["tiny_a", 1]}}
    tasks = make_tasks(find_designs(suite), [METHOD], [0, 1, 2], runs, 1.0, options, [plugin])
    summary = run_batch(tasks, runs, jobs=jobs, show_progress=False)
    assert (summary.ok, summary.failed) == (5, 1)
    (failed,) = [r for r in rows(runs).values() if r.status != "ok"]
    assert (failed.design, failed.seed) == ("tiny_a", 1) and failed.error.startswith("SystemExit: 3")


def test_two_designs_of_one_name_or_an_empty_suite_are_refused_before_any_run(
    tmp_path: Path, design_writer  # type: ignore[no-untyped-def]
) -> None:
    """Design names key the results rows and the runs folder: a suite holding a/x and b/x is
    refused naming both folders, and a suite with no design says what a design is; through
    ``placer place --suite`` each is one line, exit 2, and no runs folder is made."""
    from typer.testing import CliRunner

    from placer.cli import app

    twice = tmp_path / "twice"
    design_writer(twice / "a" / "x", 1, "x")
    design_writer(twice / "b" / "x", 2, "x")
    clash = (f"two designs are called 'x': {twice.resolve() / 'a' / 'x'} and {twice.resolve() / 'b' / 'x'} "
             "(design names must be unique in a suite)")
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    nothing = f"no design (a folder with netlist.pb.txt[.gz] and initial.plc, or one Bookshelf .aux) under {empty}"
    for folder, message in ((twice, clash), (empty, nothing)):
        with pytest.raises(ValueError) as info:
            find_designs(folder)
        assert str(info.value) == message
        runs = tmp_path / f"runs_{folder.name}"
        result = CliRunner().invoke(app, ["place", "--suite", str(folder), "--algo", "greedy", "--out", str(runs)])
        assert result.exit_code == 2, result.output
        assert result.stderr == f"placer: error: {message}\n"
        assert not runs.exists()


@pytest.mark.parametrize("name", ["results.sqlite", "results.sqlite-wal", "Results.SQLite-journal", ".placer.lock",
                                  "leaderboard.csv", "leaderboard.md", "leaderboard.png"])
def test_a_design_named_as_a_file_of_the_runs_folder_is_refused_before_any_run(
    tmp_path: Path, design_writer, name: str  # type: ignore[no-untyped-def]
) -> None:
    """A design's runs go into RUNS/<design>/: a design called results.sqlite stopped the whole
    batch ('RUNS/results.sqlite/greedy/seed0.plc: Not a directory', the other design's runs
    lost under --jobs 2), and one called leaderboard.csv placed, then made ``placer
    leaderboard RUNS`` fail ('Is a directory'). Refused up front, naming the folder, what the
    name is taken by and the remedy; --designs may leave it out."""
    from typer.testing import CliRunner

    from placer.cli import app

    suite = tmp_path / "suite"
    design_writer(suite / name, 1, "odd")
    design_writer(suite / "fine", 2, "fine")
    with pytest.raises(ValueError) as info:
        find_designs(suite)
    message = str(info.value)
    assert message.startswith(f"design folder {suite.resolve() / name}: its name {name!r} is taken in a runs folder by ")
    assert message.endswith("rename the design folder (or leave it out with --designs)")
    assert ("results database" in message) == name.casefold().startswith("results.sqlite")
    assert ("lock file" in message) == (name == ".placer.lock")
    assert ("placer leaderboard" in message) == name.startswith("leaderboard.")
    runs = tmp_path / "runs"
    result = CliRunner().invoke(app, ["place", "--suite", str(suite), "--algo", "greedy", "--out", str(runs)])
    assert result.exit_code == 2 and result.stderr == f"placer: error: {message}\n", result.output
    assert not runs.exists()
    assert [d.name for d in find_designs(suite, ["fine"])] == ["fine"]


def test_a_suite_of_linked_design_folders_is_found(suite: Path, tmp_path: Path) -> None:
    """Path.rglob does not follow links: a suite made of links to designs was "no design"
    (placer place --suite and placer train --suite alike)."""
    from placer.rl.train import find_suite

    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "a").symlink_to(suite / "gen" / "tiny_a")
    (linked / "b").symlink_to(suite / "gen")  # a folder of designs
    (linked / "gen_again").symlink_to(linked)  # a loop back up is walked once
    # tiny_a is reached as a/ and as b/tiny_a/: named by the first path in sorted order (the
    # link's own name), whatever order the file system lists the folders in
    names = [d.name for d in find_designs(linked)]
    assert names == ["a", "tiny_b"]
    assert [p.parent.name for p in find_suite(linked)] == ["a", "tiny_b"]  # each once


def test_ray_errors_lose_colour_codes_and_auto_checks_the_address_ray_reads(monkeypatch) -> None:
    from placer.batch import error_text
    from placer.batch_ray import _check_reachable

    assert "\x1b" not in error_text(RuntimeError("\x1b[36mray::run_task()\x1b[39m failed"))
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")  # nothing there: ray.init hung for minutes
    with pytest.raises(RuntimeError, match=r"--ray auto \(RAY_ADDRESS=127.0.0.1:1\): nothing answers there"):
        _check_reachable("auto", timeout_s=2.0)


@pytest.mark.slow  # (over 10 s: `pytest -m "not slow"` leaves it out)
def test_a_kill_under_ray_stops_the_batch_like_ctrl_c(suite: Path, plugin: str, tmp_path: Path) -> None:
    """ray.init made SIGTERM a sys.exit: a kill ended the batch with exit 1 and no summary."""
    import signal

    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'placer-gym[ray]')")
    from placer.interrupts import sigterm_as_interrupt

    runs = tmp_path / "runs"
    tasks = make_tasks(find_designs(suite), [METHOD], [0], runs, 1.0, plugins=[plugin])
    seen = []
    try:
        with sigterm_as_interrupt():
            run_batch(tasks, runs, ray_address="local", show_progress=False,
                      on_record=lambda record: seen.append(signal.getsignal(signal.SIGTERM)))
    finally:
        ray.shutdown()
    ours = sigterm_as_interrupt.__name__ + ".<locals>.interrupt"  # (run_batch sets its own)
    assert seen and all(getattr(handler, "__qualname__", "") == ours for handler in seen), seen


def test_a_ray_instance_started_here_prints_only_its_errors(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """--ray local printed Ray's WARNING (token authentication) and INFO lines into the batch."""
    import logging

    from placer import batch_ray

    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'placer-gym[ray]')")
    given = {}

    def refuse(**kwargs):  # type: ignore[no-untyped-def]
        given.update(kwargs)
        raise ConnectionError("no cluster here")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", refuse)
    with pytest.raises(RuntimeError, match="could not connect"):
        batch_ray.run_on_ray([], "local", lambda record: None)
    assert given["logging_level"] == logging.ERROR and given["log_to_driver"] is False


def test_a_row_whose_options_are_no_json_is_named_with_its_file(suite: Path, plugin: str, tmp_path: Path) -> None:
    """A hand-edited options cell stopped the resume with json's bare 'Expecting value: line 1
    column 1 (char 0)', naming neither the file nor the run."""
    runs = tmp_path / "runs"
    designs = find_designs(suite, ["tiny_a"])
    run_batch(make_tasks(designs, [METHOD], [0], runs, 1.0, plugins=[plugin]), runs, show_progress=False)
    with closing(sqlite3.connect(runs / "results.sqlite")) as conn, conn:
        conn.execute("UPDATE runs SET options = 'not json{'")
    tasks = make_tasks(designs, [METHOD], [0], runs, 1.0, plugins=[plugin])
    with pytest.raises(ValueError, match=r"results.sqlite: the run tiny_a/test_batch_jitter/seed0 has options "
                                         r"'not json\{' \(expected a JSON object\)"):
        run_batch(tasks, runs, resume=True, show_progress=False)
    # the batch reads only the rows it compares with: another design of the method is compared
    # with the method's column (named too); a rerun without --resume replaces the damaged row
    other = make_tasks(find_designs(suite, ["tiny_b"]), [METHOD], [0], runs, 1.0, plugins=[plugin])
    with pytest.raises(ValueError, match=r"the run tiny_a/test_batch_jitter/seed0 has options 'not json\{'"):
        run_batch(other, runs, resume=True, show_progress=False)
    run_batch(tasks, runs, show_progress=False)
    assert rows(runs)[("tiny_a", METHOD, 0)].options_dict() == {}
    assert run_batch(other, runs, resume=True, show_progress=False).ok == 1


def test_a_budget_clash_shows_budgets_that_differ_beyond_g(suite: Path, plugin: str, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    designs = find_designs(suite, ["tiny_a"])
    run_batch(make_tasks(designs, [METHOD], [0], runs, 2.0, plugins=[plugin]), runs, show_progress=False)
    with pytest.raises(ValueError, match=r"budget 2 s \(asked: 2.0000001 s\)"):  # read '2 s (asked: 2 s)'
        run_batch(make_tasks(designs, [METHOD], [0], runs, 2.0000001, plugins=[plugin]), runs,
                  show_progress=False)


def test_a_design_folder_whose_name_is_not_utf8_is_refused_before_any_work(suite: Path, tmp_path: Path) -> None:
    """The whole suite stopped with "'utf-8' codec can't encode characters", naming no path."""
    import os
    import shutil

    shutil.copytree(suite / "gen" / "tiny_a", Path(os.fsdecode(bytes(suite / "gen") + b"/d\xff\xfe")))
    with pytest.raises(ValueError, match=r"design folder b'.*/gen/d\\xff\\xfe': its name is not UTF-8 text"):
        find_designs(suite)
    assert [d.name for d in find_designs(suite, ["tiny_a"])] == ["tiny_a"]  # left out: no bar


def test_a_utf8_folder_name_under_an_ascii_locale_is_not_called_not_utf8(suite: Path) -> None:
    """Under a non-UTF-8 locale a folder called "dés" was refused as "not UTF-8 text"."""
    import os
    import shutil
    import subprocess
    import sys

    shutil.copytree(suite / "gen" / "tiny_a", suite / "gen" / "d\u00e9s")
    script = ("import sys; from placer.batch import find_designs\n"
              "try:\n    find_designs(sys.argv[1])\nexcept ValueError as e:\n    print(e)")
    env = {**os.environ, "PYTHONUTF8": "0", "LC_ALL": "C"}
    done = subprocess.run([sys.executable, "-c", script, str(suite)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert "its name is UTF-8 text, but this process reads file names as ascii" in done.stdout, done.stderr


def test_a_folder_where_a_runs_plc_goes_is_refused_before_any_work(suite: Path, plugin: str, tmp_path: Path) -> None:
    """The run's ok row was committed, then publishing its .plc failed: a row pointing at a folder."""
    runs = tmp_path / "runs"
    tasks = make_tasks(find_designs(suite, ["tiny_a"]), [METHOD], [0], runs, 1.0, plugins=[plugin])
    (runs / tasks[0].plc_relpath).mkdir(parents=True)
    with pytest.raises(ValueError, match=r"is in the way of run tiny_a/test_batch_jitter/seed0's \.plc"):
        run_batch(tasks, runs, show_progress=False)
    assert not rows(runs)


def test_a_stored_design_compressed_as_GZ_is_the_same_design_as_its_text(tmp_path: Path) -> None:
    """``.GZ`` in upper case was compared byte for byte with the plain text: 'another design'."""
    import gzip

    from placer.results import same_design_file

    plain, packed = tmp_path / "netlist.pb.txt", tmp_path / "netlist.pb.txt.GZ"
    plain.write_text("node {\n}\n")
    packed.write_bytes(gzip.compress(b"node {\n}\n"))
    assert same_design_file(str(packed), plain) and same_design_file(str(plain), packed)


def test_a_folder_of_the_suite_that_cannot_be_read_is_warned_of(
    suite: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unlistable design folder (mode 000) was left out of the batch without a word, which
    then reported success over the designs it did read."""
    from netlists.errors import NetlistWarning

    locked = suite / "gen" / "tiny_b"
    listing = os.scandir

    def scandir(path="."):  # type: ignore[no-untyped-def]  # as a folder without read permission
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return listing(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.warns(NetlistWarning, match=r"tiny_b cannot be read \(Permission denied\): any design in it is left out"):
        designs = find_designs(suite)
    assert [d.name for d in designs] == ["tiny_a"]


def test_a_suite_runs_bookshelf_designs_beside_circuit_training_ones(suite: Path, plugin: str, tmp_path: Path) -> None:
    """A folder holding one Bookshelf .aux was no design: a mixed suite dropped it without a
    word, and a suite of Bookshelf designs alone could not be run."""
    from netlists.errors import NetlistWarning
    from netlists.formats.bookshelf import write_bookshelf

    aux = write_bookshelf(*generate(3, 6, 4, seed=7, name="bs"), suite / "bookshelf" / "bs", "bs")
    (suite / "two_aux").mkdir()  # a folder of two .aux files is no one design: said so
    for name in ("x", "y"):
        (suite / "two_aux" / f"{name}.aux").write_text("RowBasedPlacement : x.nodes\n")
    (suite / "no_plc").mkdir()
    (suite / "no_plc" / "netlist.pb.txt").write_text("")
    with pytest.warns(NetlistWarning) as warned:
        designs = find_designs(suite)
    said = sorted(str(w.message) for w in warned)
    assert "two_aux holds 2 Bookshelf .aux files: not a design of the suite" in said[1]
    assert "no_plc holds a netlist but no initial.plc: not a design of the suite" in said[0]
    assert [(d.name, d.netlist, d.plc) for d in designs if d.name == "bs"] == [("bs", aux, aux.with_suffix(".pl"))]
    assert [d.name for d in designs] == ["bs", "tiny_a", "tiny_b"]
    # named by its .aux's folder, not by the folder of a .pl it lists elsewhere
    elsewhere = suite / "bookshelf" / "bs2"
    elsewhere.mkdir()
    listed = aux.read_text().replace("bs.pl", "../bs/bs.pl").replace("bs.", "../bs/bs.").replace("../bs/../bs/", "../bs/")
    (elsewhere / "bs2.aux").write_text(listed)
    with pytest.warns(NetlistWarning):
        assert "bs2" in [d.name for d in find_designs(suite)]
    for left_out in ("two_aux", "no_plc"):  # (said above; the runs below need no more of it)
        shutil.rmtree(suite / left_out)
    runs = tmp_path / "runs"

    def batch():  # type: ignore[no-untyped-def]
        tasks = make_tasks(find_designs(suite, ["bs"]), [METHOD], [0], runs, 1.0, plugins=[plugin])
        return run_batch(tasks, runs, resume=True, show_progress=False)

    assert batch().ok == 1
    record = rows(runs)[("bs", METHOD, 0)]
    netlist, placement = load_design(aux, runs / record.plc_path)  # its .plc reads with the .aux
    assert record.proxy == evaluate(netlist, placement).proxy
    assert batch().skipped == 1
    nodes = aux.with_suffix(".nodes")
    nodes.write_text(nodes.read_text() + "\n# edited\n")  # any file the .aux lists is the design's
    with pytest.raises(ValueError, match="edited since"):
        batch()


def test_a_workers_design_cache_sees_an_edit_of_any_file_a_bookshelf_design_reads(tmp_path: Path) -> None:
    """The cache was keyed on the netlist's and the placement's times only: an edited .nodes
    of a Bookshelf design was placed as it was before by a long-lived worker."""
    from netlists.formats.bookshelf import write_bookshelf
    from placer.batch import DesignFiles, _load_design

    aux = write_bookshelf(*generate(3, 6, 4, seed=7, name="bs"), tmp_path / "bs", "bs")
    design = DesignFiles("bs", aux, aux.with_suffix(".pl"), tmp_path)
    netlist, _, _ = _load_design(design)
    nodes = aux.with_suffix(".nodes")
    lines = nodes.read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if line.split()[:1] == ["a0"])
    name, width, height = lines[k].split()[:3]
    lines[k] = f"  {name} {float(width) + 1.0:g} {height}"
    nodes.write_text("\n".join(lines) + "\n")
    stamp = nodes.stat().st_mtime_ns + 10**9
    os.utime(nodes, ns=(stamp, stamp))
    edited, _, _ = _load_design(design)
    assert edited.width[edited.index("a0")] == netlist.width[netlist.index("a0")] + 1.0


def test_a_resume_reads_each_stored_runs_options_once(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every task was compared with every stored run of its column, parsing the run's options
    each time: deciding that 8,000 runs were done took 100 s."""
    from placer.batch import DesignFiles, PlacementTask, _refuse_mixed_designs_and_options
    from placer.results import RunRecord

    design = DesignFiles("d1", tmp_path / "netlist.pb.txt", tmp_path / "initial.plc", tmp_path)
    existing = {("d1", "greedy", s): RunRecord(design="d1", method="greedy", seed=s, budget_s=1.0,
                                               options='{"fd": false}', design_digest="x")
                for s in range(300)}  # fmt: skip
    tasks = [PlacementTask(design, "greedy", s, 1.0, tmp_path, options={"fd": False}, design_digest="x")
             for s in range(300)]
    parsed = []
    real = RunRecord.options_dict
    monkeypatch.setattr(RunRecord, "options_dict", lambda row: (parsed.append(row.seed), real(row))[1])
    _refuse_mixed_designs_and_options(existing, tasks, True, tmp_path)
    assert len(parsed) == 300  # once each, not 300 x 300
    other = [PlacementTask(design, "greedy", 300, 1.0, tmp_path, options={"fd": True}, design_digest="x")]
    with pytest.raises(ValueError, match="one leaderboard column would mix them"):
        _refuse_mixed_designs_and_options(existing, other, True, tmp_path)
    # compared as the leaderboard spells them: 0 is not false there (as dicts they were equal,
    # and the leaderboard then refused the folder), 1.0 is 1
    as_number = [PlacementTask(design, "greedy", 300, 1.0, tmp_path, options={"fd": 0}, design_digest="x")]
    with pytest.raises(ValueError, match="one leaderboard column would mix them"):
        _refuse_mixed_designs_and_options(existing, as_number, True, tmp_path)
    weighted = {("d1", "sa", 0): RunRecord(design="d1", method="sa", seed=0, budget_s=1.0, options='{"w": 1.0}',
                                           design_digest="x")}
    _refuse_mixed_designs_and_options(weighted, [PlacementTask(design, "sa", 1, 1.0, tmp_path, options={"w": 1},
                                                               design_digest="x")], True, tmp_path)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir() or (os.cpu_count() or 1) < 2,
                    reason="counts threads in /proc, of a machine with more than one core")
def test_batch_workers_start_with_one_math_thread_each(tmp_path: Path) -> None:
    """OPENBLAS_NUM_THREADS=1 was set in the worker's initializer, after it had loaded numpy
    (unpickling its task): each worker ran a BLAS thread per core (J x cores in all), and under
    a process limit a worker spun on a thread it could not start while the batch waited."""
    script = tmp_path / "threads.py"
    script.write_text(
        "import multiprocessing, os\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "import placer.batch as batch\n"
        "def threads(_):\n"
        "    import numpy\n"
        "    return len(os.listdir(f'/proc/{os.getpid()}/task'))\n"
        "if __name__ == '__main__':\n"
        "    before = dict(os.environ)\n"
        "    with batch._one_math_thread_for_workers():\n"
        "        pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context('spawn'),\n"
        "                                   initializer=batch._worker_init, initargs=(os.getpid(),))\n"
        "        with pool:\n"
        "            print(*pool.map(threads, range(2)))\n"
        "    print(dict(os.environ) == before)\n"
    )
    from placer.batch import _WORKER_MATH_THREADS

    env = {k: v for k, v in os.environ.items() if k not in _WORKER_MATH_THREADS}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    # each worker: its main thread and its watch of the batch process, no BLAS thread per core;
    # the batch's own environment as it was
    assert done.stdout.split() == ["2", "2", "True"], done.stderr


def test_a_worker_ignores_the_terminals_ctrl_c(tmp_path: Path) -> None:
    """A Ctrl-C sent to the process group made a worker idle in its task queue print
    multiprocessing's KeyboardInterrupt traceback before the batch's "interrupted" line (the
    batch stops its workers itself)."""
    script = tmp_path / "sigint.py"
    script.write_text(
        "import multiprocessing, os, signal\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "import placer.batch as batch\n"
        "def handler(_):\n"
        "    return signal.getsignal(signal.SIGINT) == signal.SIG_IGN\n"
        "if __name__ == '__main__':\n"
        "    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('spawn'),\n"
        "                               initializer=batch._worker_init, initargs=(os.getpid(),))\n"
        "    with pool:\n"
        "        print(pool.submit(handler, 0).result())\n"
        "    print(signal.getsignal(signal.SIGINT) == signal.default_int_handler)\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["True", "True"], done.stderr  # the batch's own is untouched


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_the_default_worker_count_is_the_cpus_this_process_may_use() -> None:
    """--jobs defaulted to os.cpu_count(): under taskset, Slurm or a cpuset every worker got a
    fraction of a core, and its wall-clock budget less search."""
    from placer.batch import usable_cpus

    allowed = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(allowed)})
        assert usable_cpus() == 1
    finally:
        os.sched_setaffinity(0, allowed)
    assert usable_cpus() == len(allowed)


def test_the_one_thread_settings_reach_the_workers_only(suite: Path, plugin: str, tmp_path: Path) -> None:
    """They were set around the whole pool loop: the batch's own process and its caller's
    threads (on_record) saw OMP_NUM_THREADS=1 and the like for the batch's whole length, and a
    numba compile there failed once numba's threads had been launched with another count."""
    from placer.batch import _WORKER_MATH_THREADS

    before = {name: os.environ.get(name) for name in _WORKER_MATH_THREADS}
    seen: list[dict[str, str | None]] = []
    tasks = make_tasks(find_designs(suite), [METHOD], [0, 1], tmp_path / "runs", 1.0, plugins=[plugin])
    summary = run_batch(tasks, tmp_path / "runs", jobs=2, show_progress=False,
                        on_record=lambda record: seen.append({n: os.environ.get(n) for n in _WORKER_MATH_THREADS}))
    assert summary.ok == 4 and seen == [before] * 4


def test_a_batch_whose_runs_wait_in_rays_queue_says_so_once(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """On a cluster without a free CPU the batch waited for good without a word (its deadline
    counts from a run's start, and none starts)."""
    from types import SimpleNamespace

    from placer import batch_ray

    fake_ray = SimpleNamespace(available_resources=lambda: {"CPU": 0.0}, cluster_resources=lambda: {"CPU": 4.0})
    watch = batch_ray._QueueWatch(time.monotonic() - batch_ray.QUEUE_WARNING_S - 1)
    watch.check(fake_ray, begun=True)  # a run began: nothing to say
    assert capsys.readouterr().err == ""
    watch.check(fake_ray, begun=False)
    watch.check(fake_ray, begun=False)
    said = capsys.readouterr().err
    assert said.count("no run has begun on Ray after 60 s (CPUs free on the cluster: 0 of 4)") == 1, said
    fresh = batch_ray._QueueWatch(time.monotonic())
    fresh.check(fake_ray, begun=False)  # too early
    assert capsys.readouterr().err == ""


def test_rays_queue_warning_is_not_said_while_a_run_is_going(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """run_on_ray with a fake Ray: a run begins at once and goes on past the warning's time;
    the warning (for a batch none of whose runs has begun) must not come."""
    import sys as system
    from types import SimpleNamespace

    from placer import batch_ray

    monkeypatch.setattr(batch_ray, "QUEUE_WARNING_S", 0.3)
    start = time.monotonic()

    class Run:  # a generator task: "began" at once, its record after 0.8 s
        def __init__(self, task: object) -> None:
            self.task, self.values = task, [batch_ray._BEGAN]

        def ready(self) -> bool:
            if not self.values and time.monotonic() - start > 0.8:
                self.values.append(("record", self.task))
            return bool(self.values)

        def __next__(self) -> object:
            return self.values.pop(0)

    def wait(refs, num_returns, timeout):  # type: ignore[no-untyped-def]
        ready = [ref for ref in refs if ref.ready()]
        if not ready and timeout:
            time.sleep(timeout)
        return ready[:num_returns], []

    fake_ray = SimpleNamespace(
        is_initialized=lambda: True,
        remote=lambda **options: (lambda function: SimpleNamespace(remote=Run)),
        wait=wait, get=lambda value: value, cancel=lambda ref, force: None,
        available_resources=lambda: {"CPU": 0.0}, cluster_resources=lambda: {"CPU": 1.0},
    )
    monkeypatch.setitem(system.modules, "ray", fake_ray)
    records: list[object] = []
    batch_ray.run_on_ray(["task"], "local", records.append)  # type: ignore[list-item]
    assert records == [("record", "task")] and "no run has begun" not in capsys.readouterr().err


def test_a_warning_in_a_cli_batchs_worker_is_one_line_as_in_the_command(suite: Path, tmp_path: Path) -> None:
    """A method's failed warm-up in a worker printed Python's two-line report
    ("batch_task.py:152: WarmUpWarning: ..." and the source line) beside the command's own
    one-line messages: the workers of a CLI batch show the project's warnings as it does."""
    import os
    import subprocess
    import sys

    plugin = tmp_path / "small_bug.py"
    plugin.write_text(
        "from placer.algorithms.base import Placer, register_placer\n\n\n@register_placer\n"
        "class SmallBug(Placer):\n    name = 'small_bug'\n\n"
        "    def run(self, netlist, placement, budget_s, seed, progress):\n"
        "        raise TypeError('a bug of the plugin')\n")
    command = [sys.executable, "-c", "from placer.launch import main; main()", "place", "--suite", str(suite),
               "--designs", "tiny_a", "--algo", "small_bug", "--plugin", str(plugin), "--budget-s", "1",
               "--jobs", "2", "--out", str(tmp_path / "runs")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 1, done.stderr
    assert "placer: warning: the warm-up of small_bug failed (TypeError: a bug of the plugin)" in done.stderr
    assert "WarmUpWarning:" not in done.stderr, done.stderr


@pytest.mark.parametrize("jobs", [1, 2])
def test_each_row_records_its_cpu_seconds_machine_load_and_the_batchs_jobs(
    suite: Path, plugin: str, tmp_path: Path, jobs: int
) -> None:
    """The budget is wall-clock: a run's CPU seconds (its worker's own; with one job the
    batch's process), host, CPUs, load at its start and the batch's --jobs say what it had."""
    import socket

    runs = tmp_path / "runs"
    tasks = make_tasks(find_designs(suite, ["tiny_a"]), [METHOD], [0], runs, 1.0, {METHOD: {"sleep_s": 0.5}},
                       [plugin])
    assert run_batch(tasks, runs, jobs=jobs, show_progress=False).ok == 1
    (row,) = ResultStore.in_runs_dir(runs).records()
    assert row.seconds is not None and row.seconds >= 0.5
    assert row.cpu_s is not None and 0 <= row.cpu_s < row.seconds - 0.3  # asleep: no CPU spent
    assert (row.host, row.cpu_count, row.jobs) == (socket.gethostname(), os.cpu_count(), jobs)
    assert row.load_1m is not None and row.load_1m >= 0


def test_rows_record_a_checkout_with_uncommitted_changes(
    suite: Path, plugin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import placer.batch

    monkeypatch.setattr(placer.batch, "git_commit", lambda: "c" * 40)
    monkeypatch.setattr(placer.batch, "git_tree_dirty", lambda: True)
    runs = tmp_path / "runs"
    run_batch(make_tasks(find_designs(suite, ["tiny_a"]), [METHOD], [0], runs, 1.0, plugins=[plugin]), runs,
              show_progress=False)
    (row,) = ResultStore.in_runs_dir(runs).records()
    assert (row.git_commit, row.git_dirty) == ("c" * 40, 1)


def test_resume_warns_once_per_built_in_method_whose_stored_runs_another_commit_made(
    suite: Path, plugin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A built-in method's version number never changes, so a folder resumed after a commit
    changed its code mixed two versions in one column, unsaid. The batch warns once per such
    method, naming both commits (and goes on: resuming after a fix is a real workflow); a
    plugin's edited code is refused elsewhere, and an unchanged commit says nothing."""
    import warnings

    import placer.batch
    from placer.batch_folder import CommitMixWarning

    runs = tmp_path / "runs"
    designs = find_designs(suite)
    options = {"fd": {"iterations": 2}}
    monkeypatch.setattr(placer.batch, "git_commit", lambda: "a" * 40)
    run_batch(make_tasks(designs, ["fd", METHOD], [0], runs, 1.0, options, [plugin]), runs, show_progress=False)

    with warnings.catch_warnings(record=True) as same:  # the same commit: nothing to say
        warnings.simplefilter("always")
        run_batch(make_tasks(designs, ["fd", METHOD], [0, 1], runs, 1.0, options, [plugin]), runs,
                  resume=True, show_progress=False)
    assert not [w for w in same if issubclass(w.category, CommitMixWarning)]

    monkeypatch.setattr(placer.batch, "git_commit", lambda: "b" * 40)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = run_batch(make_tasks(designs, ["fd", METHOD], [0, 1, 2], runs, 1.0, options, [plugin]), runs,
                            resume=True, show_progress=False)
    assert summary.ok == 4  # seed 2 of both methods on both designs: run, not refused
    mixes = [str(w.message) for w in caught if issubclass(w.category, CommitMixWarning)]
    assert len(mixes) == 1 and "\n" not in mixes[0]
    assert "fd runs made at git commit aaaaaaaaaa (4 runs)" in mixes[0] and "at commit bbbbbbbbbb" in mixes[0]
    assert "leaderboard" in mixes[0] and METHOD not in mixes[0]
