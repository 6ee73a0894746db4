"""placer.rl.train before any training: finding a suite's designs, loading the training designs
and the TrainConfig checks, each refusal with its exact message."""

from __future__ import annotations

import errno
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from placer.batch import find_designs
from placer.rl.train import TrainConfig, find_suite, generated_designs, load_designs

ARIANE = Path(__file__).resolve().parents[3] / "netlists" / "data" / "ariane133"


@pytest.fixture
def suite(tmp_path: Path, design_writer) -> Path:  # type: ignore[no-untyped-def]
    """A suite laid out like the shared benchmarks: a plain design, a gzipped one (ariane133,
    copied), and a folder without any netlist that must be passed over."""
    root = tmp_path / "suite"
    design_writer(root / "gen" / "tiny_b", seed=1)
    shutil.copytree(ARIANE, root / "builtin" / "ariane133")
    (root / "notes").mkdir()
    (root / "notes" / "README.md").write_text("no design here\n")
    return root


def test_find_suite_names_a_missing_folder(tmp_path: Path) -> None:
    """A mistyped --suite is a FileNotFoundError naming the folder, not an empty run."""
    missing = tmp_path / "no_such_suite"
    with pytest.raises(FileNotFoundError) as caught:
        find_suite(missing)
    assert (caught.value.errno, caught.value.strerror, caught.value.filename) == (
        errno.ENOENT, "no such folder", str(missing)
    )


def test_find_suite_refuses_a_file_as_the_suite_folder(tmp_path: Path, design_writer) -> None:  # type: ignore[no-untyped-def]
    """A netlist file given where a folder of designs belongs is refused naming it as a file (as
    placer place --suite says it), not 'no such folder' for a path that exists."""
    netlist = design_writer(tmp_path / "one", seed=0)
    with pytest.raises(ValueError) as caught:
        find_suite(netlist)
    assert str(caught.value) == f"{netlist} is a file; --suite takes a folder of design folders"


def test_find_suite_refuses_a_folder_without_any_netlist(tmp_path: Path) -> None:
    """A folder holding files but no netlist.pb.txt[.gz] is refused, naming that folder."""
    root = tmp_path / "empty_suite"
    (root / "design").mkdir(parents=True)
    (root / "design" / "initial.plc").write_text("# a placement without its netlist\n")
    with pytest.raises(FileNotFoundError) as caught:
        find_suite(root)
    assert (caught.value.errno, caught.value.strerror, caught.value.filename) == (
        errno.ENOENT, "no design (a folder with netlist.pb.txt[.gz] and initial.plc, or one Bookshelf .aux) under this folder", str(root)
    )


def test_find_suite_finds_the_designs_placer_place_finds(tmp_path: Path, design_writer) -> None:  # type: ignore[no-untyped-def]
    """A folder holding only a netlist.pb.txt.bak was a design (a netlist.pb.txt.gz that is not
    there), and one without an initial.plc, or with a link to one that is gone, stopped
    training at load time: placer place --suite skips such folders."""
    root = tmp_path / "suite"
    good = design_writer(root / "good", seed=0)
    (root / "backup").mkdir()
    (root / "backup" / "netlist.pb.txt.bak").write_text(good.read_text())
    (root / "backup" / "initial.plc").write_text((good.parent / "initial.plc").read_text())
    (root / "no_plc").mkdir()
    (root / "no_plc" / "netlist.pb.txt").write_text(good.read_text())
    (root / "gone").mkdir()
    (root / "gone" / "netlist.pb.txt").write_text(good.read_text())
    (root / "gone" / "initial.plc").symlink_to(tmp_path / "nowhere.plc")
    from netlists.errors import NetlistWarning

    for found in (lambda: find_suite(root), lambda: [d.netlist for d in find_designs(root)]):
        with pytest.warns(NetlistWarning) as warned:  # (skipped, but said: both folders named)
            assert [p.resolve() for p in found()] == [good.resolve()]
        assert sorted(str(w.message).split(" holds")[0].rsplit("/", 1)[1] for w in warned) == ["gone", "no_plc"]


def test_find_suite_lists_plain_and_gzipped_netlists_recursively_in_folder_order(suite: Path) -> None:
    """Design folders at any depth are found, sorted, with .gz taken where no plain file is."""
    assert find_suite(suite) == [
        suite / "builtin" / "ariane133" / "netlist.pb.txt.gz",
        suite / "gen" / "tiny_b" / "netlist.pb.txt",
    ]


def test_find_suite_prefers_the_plain_netlist_beside_a_gzipped_one(tmp_path: Path, design_writer) -> None:  # type: ignore[no-untyped-def]
    """A folder holding both forms is one design (listed once), read from the plain file."""
    netlist = design_writer(tmp_path / "suite" / "both", seed=2)
    shutil.copy(ARIANE / "netlist.pb.txt.gz", netlist.parent / "netlist.pb.txt.gz")
    assert find_suite(tmp_path / "suite") == [netlist]


def test_load_designs_reads_files_then_the_suite_then_generated(suite: Path, tmp_path: Path, design_writer) -> None:  # type: ignore[no-untyped-def]
    """The training designs come in the documented order: --netlist files, the suite, generated."""
    single = design_writer(tmp_path / "single" / "tiny_a", seed=3)
    config = TrainConfig(out=str(tmp_path / "run"), netlists=[str(single)], suite=str(suite), generated=1, seed=7)
    designs = load_designs(config)
    expected_generated = generated_designs(1, 7)[0][0].name
    assert [netlist.name for netlist, _ in designs] == ["tiny_a", "ariane133", "tiny_b", expected_generated]
    assert expected_generated.endswith("_seed7")  # generated from the config's seed
    ariane, placement = designs[1]
    assert ariane.n_nodes == 19887 and placement.x.shape == (19887,)


def test_load_designs_without_any_source_is_a_one_line_value_error(tmp_path: Path) -> None:
    """No --netlist, --suite or --generated: a ValueError that says which options give designs."""
    with pytest.raises(ValueError) as caught:
        load_designs(TrainConfig(out=str(tmp_path / "run")))
    assert str(caught.value) == (
        "no training design: give --netlist, --suite or --generated (from Python: TrainConfig's netlists, "
        "suite or generated, or train()'s designs)"
    )


def test_load_designs_passes_on_a_missing_suite_naming_it(tmp_path: Path) -> None:
    """A missing suite folder stops the load with its name, before any design is generated."""
    missing = tmp_path / "gone"
    with pytest.raises(FileNotFoundError, match=re.escape(f"no such folder: '{missing}'")):
        load_designs(TrainConfig(out=str(tmp_path / "run"), suite=str(missing), generated=1))


def test_an_empty_suite_string_counts_as_no_suite(tmp_path: Path) -> None:
    """suite="" passes the type check and is skipped (falsy), leaving only the generated designs."""
    config = TrainConfig(out=str(tmp_path / "run"), suite="", generated=1, device="cpu")
    config.validate()
    assert [netlist.name for netlist, _ in load_designs(config)] == ["synthetic_h22_s88_p44_seed0"]


def test_a_default_config_is_valid() -> None:
    """The defaults themselves pass every check (on a machine without CUDA too)."""
    TrainConfig(out="run", device="cpu").validate()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"out": None}, "out must be a path, got None"),
        ({"out": 5}, "out must be a path, got 5"),
        ({"suite": 3}, "suite must be a path or None, got 3"),
        ({"suite": ["a", "b"]}, "suite must be a path or None, got ['a', 'b']"),
        ({"netlists": "a.pb.txt"}, "netlists must be a list of paths, got 'a.pb.txt'"),
        ({"netlists": ["a.pb.txt", 2]}, "netlists must be a list of paths, got ['a.pb.txt', 2]"),
        ({"use_wiremask": 1}, "use_wiremask must be true or false, got 1"),
        ({"soft_macros_placed": "yes"}, "soft_macros_placed must be true or false, got 'yes'"),
        ({"use_graph": None}, "use_graph must be true or false, got None"),
        ({"dense_shaping": 0}, "dense_shaping must be true or false, got 0"),
        ({"n_envs": True}, "n_envs must be a whole number >= 1, got True"),
        ({"seed": -1}, "seed must be a whole number >= 0, got -1"),
        ({"seed": 2**32}, "seed must be a whole number from 0 to 4294967295, got 4294967296"),
        ({"generated": 1.5}, "generated must be a whole number >= 0, got 1.5"),
        ({"n_steps": 1, "n_envs": 1},
         "n_steps x n_envs must be >= 2 (a rollout of one step has no advantage spread)"),
        ({"n_steps": 4, "n_envs": 1, "batch_size": 3},  # (sb3-contrib's NaN: "training diverged")
         "n_steps x n_envs (4) leaves a last minibatch of one row with batch_size 3, whose advantages "
         "cannot be normalised (NaN): choose a batch_size that divides n_steps x n_envs, or leaves at "
         "least two rows over"),
        ({"vec": "Subproc"}, "vec must be 'dummy' or 'subproc', got 'Subproc'"),
        ({"vec": None}, "vec must be 'dummy' or 'subproc', got None"),
        ({"soft_placement": "none"}, "soft_placement must be 'fd' or 'keep', got 'none'"),
        ({"time_limit_s": 0.0}, "time_limit_s must be a finite number > 0, got 0.0"),  # (it said "in (0, inf]")
        ({"learning_rate": True}, "learning_rate must be a finite number in (0, 1], got True"),
        ({"gae_lambda": float("nan")}, "gae_lambda must be a finite number in [0, 1], got nan"),
    ],
)
def test_bad_settings_are_refused_with_what_is_allowed(setting: dict[str, Any], message: str) -> None:
    """Each TrainConfig.validate refusal names the setting, what it takes and the value given."""
    config = TrainConfig(**{"out": "run", "device": "cpu", **setting})
    with pytest.raises(ValueError) as caught:
        config.validate()
    assert str(caught.value) == message


@pytest.mark.parametrize(("n_steps", "n_envs"), [(2, 1), (1, 2)])
def test_a_rollout_of_two_steps_is_enough(n_steps: int, n_envs: int) -> None:
    """n_steps x n_envs = 2 is the smallest rollout taken, however it is made up."""
    TrainConfig(out="run", device="cpu", n_steps=n_steps, n_envs=n_envs).validate()


def test_the_first_bad_setting_is_the_one_named() -> None:
    """With several bad settings the paths come first (out before vec), one error at a time."""
    with pytest.raises(ValueError, match="^out must be a path, got None$"):
        TrainConfig(out=None, vec="bogus", n_steps=1, n_envs=1, device="cpu").validate()  # type: ignore[arg-type]


def test_the_finer_grid_advice_is_given_only_where_max_grid_caps_a_grid(tmp_path) -> None:
    """With no best.plc, train always advised a larger --max-grid, which changes nothing where
    no design's placing grid is capped by it."""
    from placer.commands.train import _finer_grid_advice
    from placer.rl.train import TrainConfig

    assert "train longer" in _finer_grid_advice(TrainConfig(out=str(tmp_path), generated=1))  # 27 x 27 < 64
    capped = _finer_grid_advice(TrainConfig(out=str(tmp_path), generated=1, max_grid=8))
    assert capped.startswith("a larger --max-grid gives finer cells (synthetic_")
    assert "ariane133" in _finer_grid_advice(TrainConfig(out=str(tmp_path), generated=1, eval_netlist="ariane133"))


def test_paths_given_as_path_objects_are_taken_as_their_text(tmp_path: Path) -> None:
    """out=Path("x") was refused: "out must be a path, got PosixPath('x')" (netlists, suite and
    eval_netlist alike); config.json stores them as text."""
    import json
    from dataclasses import asdict

    paths: dict[str, Any] = {"out": tmp_path / "run", "netlists": [Path("a.pb.txt"), "b.pb.txt"], "suite": Path("suite"),
                             "eval_netlist": Path("e.pb.txt")}
    config = TrainConfig(**paths, device="cpu")
    config.validate()
    assert (config.out, config.netlists, config.suite, config.eval_netlist) == (
        str(tmp_path / "run"), ["a.pb.txt", "b.pb.txt"], "suite", "e.pb.txt")
    assert json.loads(json.dumps(asdict(config)))["out"] == str(tmp_path / "run")
    later = TrainConfig(out="run", device="cpu")
    setattr(later, "out", Path("elsewhere"))  # noqa: B010 - (set after the config was made: taken too)
    later.validate()
    assert later.out == "elsewhere"


@pytest.mark.parametrize(
    ("setting", "field"),
    [({"out": "r\x00un"}, "out"), ({"suite": "s\x00"}, "suite"), ({"eval_netlist": "\x00e"}, "eval_netlist"),
     ({"netlists": ["a", "b", "c\x00.pb.txt"]}, "netlists[2]")],
)
def test_a_path_holding_a_nul_byte_is_refused_naming_the_field(setting: dict[str, Any], field: str) -> None:
    """A NUL byte in a path (a config.json edited by hand, resumed) failed in os.path.realpath
    or open as "ValueError: embedded null byte", a bug's report (exit 70)."""
    from netlists.errors import InputError

    with pytest.raises(InputError) as refused:
        TrainConfig(**{"out": "run", "device": "cpu", **setting}).validate()
    assert str(refused.value) == f"{field} holds a NUL byte; not a path"


def test_resuming_a_config_json_with_a_nul_byte_in_a_path_is_one_line_naming_the_file(tmp_path: Path) -> None:
    """``placer train --resume`` of a run whose config.json holds a NUL byte in ``netlists``."""
    import json
    from dataclasses import asdict

    from typer.testing import CliRunner

    from placer.cli import app

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(asdict(TrainConfig(out=str(run), netlists=["default", "a\x00b"]))))
    (run / "last.zip").write_bytes(b"")  # (never read: the config is refused first)
    done = CliRunner().invoke(app, ["train", "--out", str(run), "--resume"])
    assert done.exit_code == 2, done.output
    assert done.stderr.strip() == (f"placer: error: {run / 'config.json'}: not a training config (netlists[1] "
                                   "holds a NUL byte; not a path)")


@pytest.mark.parametrize(("setting", "message"), [
    ({"max_grid": 1032}, "max_grid must be a whole number from 8 to 1024, got 1032"),
    ({"max_grid": 10**9}, "max_grid must be a whole number from 8 to 1024, got 1000000000"),
    ({"max_nodes": 65537}, "max_nodes must be a whole number from 1 to 65536, got 65537"),
    ({"max_nodes": 0}, "max_nodes must be a whole number from 1 to 65536, got 0"),
])
def test_max_grid_and_max_nodes_have_a_hard_cap(setting: dict[str, Any], message: str) -> None:
    """A mistyped --max-grid 1e9 grew memory until torch's allocator refused, minutes in."""
    with pytest.raises(ValueError) as refused:
        TrainConfig(**{"out": "run", "device": "cpu", **setting}).validate(memory=False)
    assert str(refused.value) == message


def test_sizes_whose_estimated_memory_exceeds_what_is_free_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under the hard caps the machine's free memory bounds the sizes: the estimate (rollout
    buffer and an update's minibatch) against MemAvailable + SwapFree, before anything is
    allocated; the refusal names both, and what to make smaller."""
    import placer.rl.memory as memory
    from netlists.errors import InputError

    default = TrainConfig(out="run", device="cpu")
    need = sum(memory.training_bytes(default).values())
    monkeypatch.setattr(memory, "free_memory_bytes", lambda: need)
    default.validate()  # (exactly enough)
    for larger in ({"max_grid": 72}, {"max_nodes": 257}, {"max_edges": 4097}, {"n_steps": 1025}, {"batch_size": 257}):
        config = TrainConfig(out="run", device="cpu", **larger)
        assert sum(memory.training_bytes(config).values()) > need
        with pytest.raises(InputError) as refused:
            config.validate()
        text = str(refused.value)
        assert text.startswith(f"training with max_grid {config.max_grid}, max_nodes {config.max_nodes} and "
                               f"max_edges {config.max_edges} needs about ")
        assert f"but this machine has {need / 2**30:.1f} GiB free: choose a smaller max_grid" in text
        config.validate(memory=False)  # (a config.json read back is no damage for it)
    monkeypatch.setattr(memory, "free_memory_bytes", lambda: None)  # a machine that does not say
    TrainConfig(out="run", device="cpu", max_grid=1024).validate()


def test_the_free_memory_is_read_from_proc_meminfo() -> None:
    """MemAvailable + SwapFree where /proc/meminfo has them (Linux)."""
    from placer.rl.memory import machine_free_bytes

    meminfo = Path("/proc/meminfo")
    if not meminfo.is_file():
        pytest.skip("no /proc/meminfo on this system")
    fields = {line.split(":")[0]: int(line.split()[1]) for line in meminfo.read_text().splitlines()}
    free = machine_free_bytes()
    expected = 1024 * (fields["MemAvailable"] + fields.get("SwapFree", 0))
    assert free is not None and abs(free - expected) < 2**30  # (read a moment apart)


@pytest.mark.parametrize(("args", "message"), [
    (["--max-grid", "1000000000"], "Invalid value for '--max-grid'"),
    (["--max-nodes", "70000"], "Invalid value for '--max-nodes'"),
    (["--max-grid", "1024"], "training with max_grid 1024, max_nodes 256 and max_edges 4096 needs about "),
])
def test_train_refuses_sizes_too_large_before_it_trains(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       args: list[str], message: str) -> None:
    """At the command line: one line, exit status 2, and no training begun (the free memory
    set to 8 GB: --max-grid 1024 needs far more at the default rollout)."""
    from typer.testing import CliRunner

    import placer.rl.memory as memory
    import placer.rl.train as rl_train
    from placer.cli import app

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("training began")

    monkeypatch.setattr(memory, "free_memory_bytes", lambda: 8 * 2**30)
    monkeypatch.setattr(rl_train, "train", never)
    done = CliRunner().invoke(app, ["train", "--out", str(tmp_path / "run"), "--netlist", "default", *args])
    assert done.exit_code == 2, done.output
    assert message in done.stderr and "AssertionError" not in done.output
    assert not (tmp_path / "run").exists()


def test_a_containers_limit_bounds_the_free_memory_below_the_hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MemAvailable is the host's: under a container's limit the refusal never fired and the
    run was killed for memory instead (the review)."""
    from learned_systems.config import postgres_knobs
    from placer.rl import memory

    group = tmp_path / "group"
    group.mkdir()
    (group / "memory.max").write_text(f"{3 * 2**30}\n")
    (group / "memory.current").write_text(f"{2**30}\n")
    monkeypatch.setattr(postgres_knobs, "CGROUP_LIMITS", (str(group / "memory.max"),))
    monkeypatch.setattr(postgres_knobs, "PROC_CGROUP", str(tmp_path / "no-proc-cgroup"))
    monkeypatch.setattr(memory, "machine_free_bytes", lambda: 20 * 2**30)
    assert postgres_knobs.cgroup_memory_free_bytes() == 2 * 2**30
    assert memory.free_memory_bytes() == 2 * 2**30
    (group / "memory.max").write_text("max\n")  # no limit: the machine's figure
    assert postgres_knobs.cgroup_memory_free_bytes() is None and memory.free_memory_bytes() == 20 * 2**30


def test_a_gpu_runs_update_is_not_counted_against_the_machines_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a GPU the update's activations (most of the estimate) live in its memory: a GPU run
    on a machine with little free memory was refused although it would fit."""
    import placer.device
    from netlists.errors import InputError
    from placer.rl import memory

    config = TrainConfig(out="run", device="cpu")
    parts = memory.training_bytes(config)
    host_part = parts["rollout buffer"] + parts["working"]
    with pytest.raises(InputError):
        memory.refuse_what_cannot_fit(config, free=lambda: host_part)
    monkeypatch.setattr(placer.device, "resolve_device", lambda device: "cuda")
    memory.refuse_what_cannot_fit(config, free=lambda: host_part)  # (fits: the update is on the GPU)
    with pytest.raises(InputError) as refused:
        memory.refuse_what_cannot_fit(config, free=lambda: host_part - 1)
    assert "minibatch" not in str(refused.value)
