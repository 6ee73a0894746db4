"""PPO end to end on a tiny design, checkpoint/resume, the rl placer and the train CLI."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

import placer.rl.monitor as monitor_module
import placer.rl.run_folder as run_folder_module
import placer.rl.train as train_module
from netlists.generate import generate
from placer.rl.config import TrainConfig
from placer.rl.train import train

TINY = {
    "max_grid": 16,
    "max_nodes": 8,
    "max_edges": 32,
    "n_steps": 64,
    "batch_size": 32,
    "n_epochs": 1,
    "n_envs": 1,
    "soft_placement": "keep",
    "device": "cpu",
}


@pytest.fixture(scope="module")
def tiny_design():
    return generate(4, 8, 6, seed=2)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, tiny_design):
    out = tmp_path_factory.mktemp("run")
    cfg = TrainConfig(out=str(out), timesteps=256, checkpoint_every=128, eval_every=128, **TINY)
    train(cfg, progress_bar=False, designs=[tiny_design])
    return cfg, out


def test_ppo_runs_end_to_end_and_writes_outputs(trained_run):
    _, out = trained_run
    for name in (
        "last.zip",
        "best.zip",
        "best.plc",
        "best.json",
        "curve.csv",
        "config.json",
        "env_kwargs.json",
    ):
        assert (out / name).exists(), name
    assert json.loads((out / "best.json").read_text())["proxy"] > 0
    assert list((out / "checkpoints").glob("step_*.zip"))


def test_checkpoint_load_gives_same_model_state(trained_run, tiny_design, tmp_path):
    from sb3_contrib import MaskablePPO

    _, out = trained_run
    model = MaskablePPO.load(out / "last.zip", device="cpu")
    model.save(tmp_path / "copy.zip")  # (not into the shared run: later tests copy that folder)
    again = MaskablePPO.load(tmp_path / "copy.zip", device="cpu")
    a, b = model.policy.state_dict(), again.policy.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert model.num_timesteps == again.num_timesteps == 256


def test_resume_continues_from_last_checkpoint(trained_run, tiny_design, tmp_path):
    import shutil

    from sb3_contrib import MaskablePPO
    from typer.testing import CliRunner

    from placer.cli import app

    cfg, out = trained_run
    run = tmp_path / "resumed"
    shutil.copytree(out, run)
    before = MaskablePPO.load(run / "last.zip", device="cpu").policy.state_dict()
    cfg2 = TrainConfig(**{**cfg.__dict__, "out": str(run), "timesteps": 320})
    with pytest.raises(FileExistsError):
        train(cfg2, progress_bar=False, designs=[tiny_design])
    # its designs came through the API: config.json cannot name them, so neither can --resume
    with pytest.raises(ValueError, match=r"train\(designs=...\).*resume it the same way"):
        train(cfg2, progress_bar=False, resume=True)
    result = CliRunner().invoke(app, ["train", "--out", str(run), "--resume"])
    assert result.exit_code == 2 and "resume it the same way" in result.stderr, result.output
    train(cfg2, progress_bar=False, designs=[tiny_design], resume=True)
    after = MaskablePPO.load(run / "last.zip", device="cpu")
    assert after.num_timesteps >= 320
    assert any(not torch.equal(before[k], after.policy.state_dict()[k]) for k in before)


def test_rl_placer_is_legal_and_reproducible(trained_run, tiny_design):
    from placer.algorithms.base import available_placers, get_placer
    from placer.algorithms.legality import check_legality

    _, out = trained_run
    assert "rl" in available_placers()
    netlist, placement = tiny_design
    p1 = get_placer("rl", model=str(out), samples=2).place(netlist, placement, 30, seed=0)
    p2 = get_placer("rl", model=str(out), samples=2).place(netlist, placement, 30, seed=0)
    assert check_legality(netlist, p1).legal
    assert np.array_equal(p1.x, p2.x) and np.array_equal(p1.y, p2.y)


def test_rl_placer_runs_torch_on_one_thread_and_puts_the_callers_count_back(trained_run, tiny_design):
    """The policy's convolutions split their sums by thread: logits 1e-6 apart between `placer
    place` (a thread per core) and a batch worker (one thread), where a near tie picks another
    cell (an audit's measurement)."""
    from placer.algorithms.base import get_placer

    _, out = trained_run
    netlist, placement = tiny_design
    before = torch.get_num_threads()
    seen: list[int] = []
    try:
        torch.set_num_threads(2)
        get_placer("rl", model=str(out), samples=1).place(
            netlist, placement, 30, seed=0, progress=lambda p: seen.append(torch.get_num_threads()))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert seen and seen[0] == 1  # (the run's notes; the legalisation's after it come at 2)


def _draws() -> tuple[float, float, float]:
    import random

    return random.random(), float(np.random.random()), float(torch.rand(1))


def _seed_all(seed: int) -> None:
    import random

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def test_placing_and_training_leave_the_callers_generators_and_threads_as_they_were(trained_run, tiny_design, tmp_path):
    """stable-baselines3 reseeds Python's, numpy's and torch's process-wide generators when it
    builds or loads a model: a program's own seeded draws changed after an rl placement or a
    train(); train() also left torch on its own thread count and a TensorBoard writer thread."""
    import random
    import subprocess
    import sys
    import threading

    from placer.algorithms.base import get_placer

    _seed_all(123)
    expected = _draws()
    _, out = trained_run
    netlist, placement = tiny_design
    _seed_all(123)
    get_placer("rl", model=str(out), samples=1).place(netlist, placement, 30, seed=0)
    assert _draws() == expected
    # in a fresh process too, where the first placement imports stable-baselines3 (rich, which
    # it imports, draws from Python's generator then)
    script = ("import random, sys, numpy, torch\n"
              "from netlists.generate import generate\n"
              "from placer.algorithms.base import get_placer\n"
              "netlist, placement = generate(4, 8, 6, seed=2)\n"
              "random.seed(1); numpy.random.seed(1); torch.manual_seed(1)\n"
              "get_placer('rl', model=sys.argv[1], samples=1).place(netlist, placement, 30, seed=0)\n"
              "print(random.random(), numpy.random.random(), float(torch.rand(1)))\n")
    done = subprocess.run([sys.executable, "-c", script, str(out)], capture_output=True, text=True, timeout=300)
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    assert done.stdout.split() == [repr(random.random()), repr(np.random.random()), repr(float(torch.rand(1)))], done.stderr
    threads, before = torch.get_num_threads(), set(threading.enumerate())
    torch.set_num_threads(2)
    try:
        _seed_all(123)
        cfg = TrainConfig(out=str(tmp_path / "run"), timesteps=64, checkpoint_every=64, eval_every=64, **TINY)
        train(cfg, progress_bar=False, designs=[tiny_design])
        assert _draws() == expected
        assert torch.get_num_threads() == 2
        assert not [t for t in threading.enumerate() if t not in before and t.is_alive()]
    finally:
        torch.set_num_threads(threads)


def test_rl_placements_sampled_in_threads_repeat_their_seed(trained_run, tiny_design, in_threads):
    """Sampled episodes seeded torch's process-wide generator: placements in several threads
    drew from one another's seeds, and a seed gave other placements than alone."""
    from placer.algorithms.base import get_placer

    _, out = trained_run
    netlist, placement = tiny_design

    def place(seed: int) -> tuple[bytes, bytes]:
        p = get_placer("rl", model=str(out), samples=3).place(netlist, placement, 30, seed=seed)
        return p.x.tobytes(), p.y.tobytes()

    alone = {seed: place(seed) for seed in range(3)}
    assert in_threads(place, range(3)) == alone


def test_an_rl_model_loaded_in_another_thread_does_not_reseed_a_sampled_episode(trained_run, tiny_design, in_threads):
    """The model load (SB3 reseeds the process's generators) ran outside the sampled episodes'
    lock: a load in one thread during another's sampled episode changed its placement."""
    from placer.algorithms.base import get_placer

    _, out = trained_run
    netlist, placement = tiny_design

    def place_or_load(k: int) -> tuple[bytes, bytes] | None:
        if k:  # greedy rl placements: mostly the model's load
            for _ in range(10):
                get_placer("rl", model=str(out), samples=0).place(netlist, placement, 60, seed=0)
            return None
        p = get_placer("rl", model=str(out), samples=30).place(netlist, placement, 60, seed=5)
        return p.x.tobytes(), p.y.tobytes()

    alone = place_or_load(0)
    assert in_threads(place_or_load, (0, 1)) == {0: alone, 1: None}  # (the loads ran to the end)


def test_rl_placer_soft_refine_keeps_the_policys_hard_macros(trained_run, tiny_design):
    from placer.algorithms.base import get_placer
    from placer.cost.proxy import evaluate

    _, out = trained_run
    netlist, placement = tiny_design
    plain = get_placer("rl", model=str(out)).place(netlist, placement, 30, seed=0)
    options = {"model": str(out), "soft_refine": True, "refine": {"max_steps": 800}}
    # max_steps ends the refinement; a budget far past it keeps the clock out of the result (at
    # 30 s, a loaded machine compiling the search's kernels in r1 cut it short: r1 != r2)
    r1 = get_placer("rl", **options).place(netlist, placement, 600, seed=0)
    r2 = get_placer("rl", **options).place(netlist, placement, 600, seed=0)
    hard = netlist.hard_macros
    assert np.array_equal(plain.x[hard], r1.x[hard]) and np.array_equal(plain.y[hard], r1.y[hard])
    assert np.array_equal(r1.x, r2.x) and np.array_equal(r1.y, r2.y)
    assert evaluate(netlist, r1).proxy <= evaluate(netlist, plain).proxy


def test_graph_encoder_ablation_builds(tiny_design, tmp_path):
    cfg = TrainConfig(
        out=str(tmp_path / "nog"),
        timesteps=64,
        use_graph=False,
        use_wiremask=False,
        checkpoint_every=1000,
        eval_every=1000,
        **TINY,
    )
    train(cfg, progress_bar=False, designs=[tiny_design])
    assert (tmp_path / "nog" / "last.zip").exists()
    # the ablation holds in the trained model: its features ignore the graph entirely
    from sb3_contrib import MaskablePPO

    extractor = MaskablePPO.load(tmp_path / "nog" / "last.zip", device="cpu").policy.features_extractor
    assert extractor.use_graph is False
    obs = {k: torch.as_tensor(v[None]) for k, v in extractor_sample(cfg, tiny_design).items()}
    noisy = dict(obs, graph_nodes=obs["graph_nodes"] + torch.randn_like(obs["graph_nodes"]),
                 graph_edge_weight=obs["graph_edge_weight"] * 3)
    with torch.no_grad():
        assert torch.equal(extractor(obs), extractor(noisy))


def extractor_sample(cfg, design):  # type: ignore[no-untyped-def]
    """The first observation of ``design`` in the run's environment (float32, as SB3 feeds it)."""
    from envs.macro_placement import MacroPlacementEnv

    env = MacroPlacementEnv(design, **train_module.env_options(cfg))
    obs, _ = env.reset(seed=0)
    return {k: np.asarray(v, dtype=np.float32) for k, v in obs.items()}


def test_training_without_tensorboard_leaves_no_logger_folder(tiny_design, tmp_path, monkeypatch):
    monkeypatch.setattr(train_module, "has_tensorboard", lambda: False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where SB3 would put SB3-<time>
    cfg = TrainConfig(
        out=str(tmp_path / "run"), timesteps=64, checkpoint_every=1000, eval_every=1000, **TINY
    )
    train(cfg, progress_bar=False, designs=[tiny_design])
    assert (tmp_path / "run" / "last.zip").exists() and not list(tmp_path.glob("SB3-*"))


def test_train_cli_errors_are_one_line(tmp_path):
    from typer.testing import CliRunner

    from placer.cli import app

    result = CliRunner().invoke(app, ["train", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["train", "--out", str(tmp_path / "x"), "--resume"])
    assert result.exit_code == 2


@pytest.mark.parametrize(("flags", "setting"), [
    (["--seed", "1"], "seed=2"), (["--no-graph"], "use_graph=true"), (["--timesteps", "8"], "timesteps=16"),
])
def test_train_cli_refuses_a_set_that_contradicts_an_option(tmp_path, flags, setting):
    """--seed 1 --set seed=2 trained with seed 2 without a word; the same value twice is fine."""
    from typer.testing import CliRunner

    from placer.cli import app

    # (n_steps=1 fails validation after the clash check: without the check, no training starts)
    base = ["train", "--netlist", "default", "--out", str(tmp_path / "x"), "--no-progress", "--n-envs", "1", "--set", "n_steps=1"]
    result = CliRunner().invoke(app, [*base, *flags, "--set", setting])
    assert result.exit_code == 2 and "contradicts the option(s)" in result.output, result.output
    assert not (tmp_path / "x").exists()



def test_train_cli_refuses_both_progress_flags(tmp_path):
    """--no-progress --progress (the old pair's last-wins) ran without a bar: refused now."""
    from typer.testing import CliRunner

    from placer.cli import app

    result = CliRunner().invoke(app, ["train", "--netlist", "default", "--out", str(tmp_path / "x"),
                                      "--no-progress", "--progress", "--n-envs", "1", "--set", "n_steps=1"])
    assert result.exit_code == 2 and "give --progress or --no-progress (--quiet), not both" in result.stderr
    assert not (tmp_path / "x").exists()


def test_train_config_takes_a_set_that_repeats_an_option(tmp_path):
    """The same value given by an option and by --set is no contradiction."""
    from placer.commands.train import _GivenOptions, _new_config

    given = _GivenOptions(
        netlist=[Path("default")], suite=None, generated=None, eval_netlist=None, timesteps=None, n_envs=None,
        device=None, seed=1, checkpoint_every=None, eval_every=None, threads=None, max_grid=None, max_nodes=None,
        no_wiremask=False, no_graph=True, dense_shaping=False, w_timing=None, timing_metric=None,
        settings=["seed=1", "use_graph=false", "n_steps=64"],
    )
    config = _new_config(tmp_path / "x", given)
    assert (config.seed, config.use_graph, config.use_wiremask, config.n_steps) == (1, False, True, 64)


def test_train_cli_set_converts_and_validates_settings() -> None:
    import pytest

    from placer.commands.common import UsageError
    from placer.commands.train import parse_settings

    got = parse_settings(
        [
            "learning_rate=3e-4",
            "n_steps=512",
            "use_graph=false",
            "order=degree",
            "time_limit_s=none",
        ]
    )
    assert got == {
        "learning_rate": 3e-4,
        "n_steps": 512,
        "use_graph": False,
        "order": "degree",
        "time_limit_s": None,
    }
    with pytest.raises(UsageError, match="KEY one of"):
        parse_settings(["no_such_field=1"])
    with pytest.raises(UsageError, match="not a valid int"):
        parse_settings(["n_steps=many"])
    with pytest.raises(UsageError, match="KEY one of"):
        parse_settings(["out=elsewhere"])  # the run folder is --out's job


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"batch_size": 1}, "batch_size must be a whole number >= 2"),
        ({"checkpoint_every": 0}, "checkpoint_every must be"),
        ({"gamma": 2.0}, r"gamma must be a finite number in \(0, 1\]"),
        ({"ent_coef": float("inf")}, "ent_coef must be a finite number"),
        ({"vec": "xx"}, "vec must be 'dummy' or 'subproc'"),
        ({"device": "tpu"}, "device must be auto, cpu, cuda or cuda:N"),
        ({"max_grid": 12}, "max_grid must be a multiple of 8"),
        ({"max_edges": 0}, "max_edges must be a whole number >= 2"),  # SB3 cannot batch (2, 0)
        ({"order": "bogus"}, "order must be 'area', 'degree' or 'file'"),
        ({"wiremask_prior": 1e39}, r"wiremask_prior must be a finite number in \[0, 1e\+06\]"),  # NaN logits
        ({"w_timing": -1.0}, r"w_timing must be a finite number in \[0, 1e\+06\]"),  # rewarded worse timing
        ({"density_weight": 1e308}, r"density_weight must be a finite number in \[0, 1e\+06\]"),  # NaN grid
        ({"timing_metric": "mean", "w_timing": 1.0}, "timing_metric must be one of 'worst', 'tail'"),
        ({"timing_metric": "tail"}, "timing_metric acts only with w_timing > 0"),  # weighed nothing
    ],
)
def test_bad_settings_are_refused_before_anything_is_written(tmp_path, tiny_design, setting, message):
    cfg = TrainConfig(out=str(tmp_path / "run"), timesteps=64, **{**TINY, **setting})
    with pytest.raises(ValueError, match=message):
        train(cfg, progress_bar=False, designs=[tiny_design])
    assert not (tmp_path / "run").exists()


def test_cuda_where_there_is_none_is_refused():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="CUDA is not available"):
        train_module.resolve_device("cuda")


def test_curve_has_one_row_per_evaluation(trained_run):
    _, out = trained_run
    steps = [line.split(",")[0] for line in (out / "curve.csv").read_text().splitlines()[1:]]
    assert steps == ["0", "128", "256"]  # the last evaluation is not written twice


def test_an_interrupt_saves_the_run_and_a_resume_drops_the_lost_curve_rows(tiny_design, tmp_path, monkeypatch):
    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=4096, checkpoint_every=10_000, eval_every=64, **TINY)
    original = train_module.TrainingMonitor._on_step

    def stop_at_200(self):  # a Ctrl-C in the middle of training
        if self.num_timesteps >= 200:
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(train_module.TrainingMonitor, "_on_step", stop_at_200)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, progress_bar=False, designs=[tiny_design])
    from sb3_contrib import MaskablePPO

    # saved at the last completed update (rollouts of 64 steps): 200 - 192 steps are redone
    assert MaskablePPO.load(out / "last.zip", device="cpu").num_timesteps == 192
    with (out / "curve.csv").open("a") as f:  # rows a killed run wrote after its checkpoint
        f.write("256,1.0,0.5,0.5\n320,1.0,0.5,0.5\n")
    run_folder_module.drop_curve_rows_after(out / "curve.csv", 192)
    assert [r.split(",")[0] for r in (out / "curve.csv").read_text().splitlines()[1:]] == ["0", "64", "128", "192"]


#: Two envs, rollouts of 2 x 30 steps over 4-macro episodes: every boundary is mid-episode.
EXACT = {**TINY, "n_envs": 2, "n_steps": 30, "batch_size": 20, "n_epochs": 2}


def _curve_without_wall_time(out):
    return [row.split(",")[:1] + row.split(",")[2:] for row in (out / "curve.csv").read_text().splitlines()]


@pytest.mark.parametrize("stop", ["mid-rollout", "mid-update", "time-limit", "completed"])
def test_a_resumed_run_is_bit_identical_to_an_unbroken_one(tmp_path, monkeypatch, stop):
    from sb3_contrib import MaskablePPO

    # 7-macro episodes, no wire-mask prior and a large step: the evaluations differ from one
    # another, so best.json says which one won
    design = generate(7, 12, 8, seed=17)
    settings = {**EXACT, "wiremask_prior": 0.0, "learning_rate": 3e-3}

    def run(out, timesteps, resume=False):
        cfg = TrainConfig(out=str(out), timesteps=timesteps, checkpoint_every=1000, eval_every=50, **settings)
        train(cfg, progress_bar=False, designs=[design], resume=resume)

    run(tmp_path / "unbroken", 240)
    broken = tmp_path / "broken"
    if stop == "completed":  # a finished run extended (the learning rate is constant)
        run(broken, 120)
    else:
        with monkeypatch.context() as patch:
            if stop in ("mid-rollout", "time-limit"):
                original_step = train_module.TrainingMonitor._on_step

                def interrupt(self):
                    if self.num_timesteps >= 150:
                        if stop == "time-limit":  # what the time limit does: stop the rollout
                            return False
                        raise KeyboardInterrupt
                    return original_step(self)

                patch.setattr(train_module.TrainingMonitor, "_on_step", interrupt)
            else:  # the third update runs to its end, then Ctrl-C before it returns
                original_train = MaskablePPO.train
                updates = []

                def interrupt(self):
                    original_train(self)
                    updates.append(1)
                    if len(updates) == 3:
                        raise KeyboardInterrupt

                patch.setattr(MaskablePPO, "train", interrupt)
            if stop == "time-limit":
                run(broken, 240)
                # evaluations at the boundaries past each 50 steps (60, 120: rollouts of 60);
                # the stop's rewound model is that of step 120, evaluated already
                assert [row.split(",")[0] for row in (broken / "curve.csv").read_text().splitlines()[1:]] == ["0", "60", "120"]
            else:
                with pytest.raises(KeyboardInterrupt):
                    run(broken, 240)
        # every stop falls in the third rollout or its update: rewound to its start
        assert MaskablePPO.load(broken / "last.zip", device="cpu").num_timesteps == 120
    run(broken, 240, resume=True)
    a = MaskablePPO.load(tmp_path / "unbroken" / "last.zip", device="cpu")
    b = MaskablePPO.load(broken / "last.zip", device="cpu")
    assert a.num_timesteps == b.num_timesteps == 240
    pa, pb = a.policy.state_dict(), b.policy.state_dict()
    assert all(torch.equal(pa[k], pb[k]) for k in pa)
    # (the shorter run's own final evaluation, at step 120, is also a boundary evaluation of
    # the unbroken run here: the same rows)
    assert _curve_without_wall_time(tmp_path / "unbroken") == _curve_without_wall_time(broken)
    assert (tmp_path / "unbroken" / "best.json").read_text() == (broken / "best.json").read_text()
    assert json.loads((tmp_path / "unbroken" / "best.json").read_text())["steps"] > 0  # not vacuous
    # TensorBoard too: SB3 writes an update's losses at the end of the next rollout, and a
    # resume lost them (one point of every train/* scalar per resume)
    unbroken_scalars = _tensorboard_scalars(tmp_path / "unbroken", "train/")
    assert unbroken_scalars == _tensorboard_scalars(broken, "train/")
    assert len(unbroken_scalars["train/loss"]) >= 3  # not vacuous


def _tensorboard_scalars(out: Path, prefix: str) -> dict[str, list[tuple[int, float]]]:
    """The run's TensorBoard scalars whose tags start with ``prefix``, as TensorBoard shows them."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(out / "tb" / "ppo_0"))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)]
            for tag in events.Tags()["scalars"] if tag.startswith(prefix)}  # fmt: skip


def test_a_run_stopped_by_its_time_limit_evaluates_the_model_it_saves(tmp_path, monkeypatch):
    """The time limit stops a rollout; the model went back to its last boundary and was never
    evaluated: up to eval_every steps of training never reached best.zip (run_experiment's
    runs always end so)."""
    from sb3_contrib import MaskablePPO

    original_step = train_module.TrainingMonitor._on_step
    monkeypatch.setattr(train_module.TrainingMonitor, "_on_step",
                        lambda self: False if self.num_timesteps >= 150 else original_step(self))
    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=240, checkpoint_every=1000, eval_every=1000, **EXACT)
    train(cfg, progress_bar=False, designs=[generate(7, 12, 8, seed=17)])
    assert MaskablePPO.load(out / "last.zip", device="cpu").num_timesteps == 120
    assert [row.split(",")[0] for row in (out / "curve.csv").read_text().splitlines()[1:]] == ["0", "120"]


@pytest.mark.parametrize("stop", ["ctrl-c in a boundary evaluation", "time limit twice in one rollout"])
@pytest.mark.slow  # (over 10 s: `pytest -m "not slow"` leaves it out)
def test_a_resume_neither_loses_nor_repeats_an_evaluation(tmp_path, monkeypatch, stop):
    """A Ctrl-C inside the evaluation at boundary 120 saved step 120, and the resume's next
    evaluation was past it: 120's row (and maybe best.*) was lost for good. A resumed run
    stopped by its time limit inside its first rollout evaluated its resume step again."""
    design = generate(7, 12, 8, seed=17)
    settings = {**EXACT, "wiremask_prior": 0.0, "learning_rate": 3e-3}

    def run(out, timesteps=240, resume=False):
        cfg = TrainConfig(out=str(out), timesteps=timesteps, checkpoint_every=1000, eval_every=50, **settings)
        train(cfg, progress_bar=False, designs=[design], resume=resume)

    run(tmp_path / "unbroken")
    broken = tmp_path / "broken"
    with monkeypatch.context() as patch:
        if stop.startswith("ctrl-c"):
            original = monitor_module.run_episode
            raised = []

            def interrupted(model, env, **kwargs):  # type: ignore[no-untyped-def]
                if model.num_timesteps == 120 and not raised:
                    raised.append(1)
                    raise KeyboardInterrupt
                return original(model, env, **kwargs)

            patch.setattr(monitor_module, "run_episode", interrupted)
            with pytest.raises(KeyboardInterrupt):
                run(broken)
        else:
            original_step = train_module.TrainingMonitor._on_step
            patch.setattr(train_module.TrainingMonitor, "_on_step",
                          lambda self: False if self.num_timesteps >= 150 else original_step(self))
            run(broken)
            run(broken, resume=True)  # stopped again in its first rollout: back to 120
    assert [row[0] for row in _curve_without_wall_time(broken)[1:]] == (
        ["0", "60"] if stop.startswith("ctrl-c") else ["0", "60", "120"])
    run(broken, resume=True)
    assert _curve_without_wall_time(tmp_path / "unbroken") == _curve_without_wall_time(broken)
    assert (tmp_path / "unbroken" / "best.json").read_text() == (broken / "best.json").read_text()


def test_evaluations_are_labelled_with_the_steps_their_policy_was_trained_on(tmp_path, monkeypatch):
    """An evaluation inside a rollout ran the last update's policy under a later step count
    (50, for the policy of step 0 here), so best.zip matched no checkpoint of its step."""
    evaluated = []
    original = train_module.TrainingMonitor.evaluate

    def spy(self):  # type: ignore[no-untyped-def]
        evaluated.append((self.num_timesteps, self.model._n_updates))
        return original(self)

    monkeypatch.setattr(train_module.TrainingMonitor, "evaluate", spy)
    cfg = TrainConfig(out=str(tmp_path / "run"), timesteps=180, checkpoint_every=1000, eval_every=50, **EXACT)
    train(cfg, progress_bar=False, designs=[generate(7, 12, 8, seed=17)])
    # rollouts of 60 steps, 2 epochs each: the policy evaluated at step 60k has 2k updates
    assert evaluated == [(0, 0), (60, 2), (120, 4), (180, 6)]


def _assert_same_run(unbroken, broken) -> None:
    """The two runs' final policies and learning curves are identical."""
    from sb3_contrib import MaskablePPO

    a = MaskablePPO.load(unbroken / "last.zip", device="cpu").policy.state_dict()
    b = MaskablePPO.load(broken / "last.zip", device="cpu").policy.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert _curve_without_wall_time(unbroken) == _curve_without_wall_time(broken)


@pytest.mark.parametrize("kill", ["between the state and last.zip", "before the first periodic checkpoint"])
def test_a_killed_run_resumes_exactly(tmp_path, monkeypatch, kill):
    """A kill -9 (a SystemExit here: nothing is saved on the way out) between writing the state
    of step 120 and last.zip of step 120 leaves last.zip at 60: the resume goes on from
    checkpoints/step_120.zip with that state (it fell back to fresh episode seeds). One before
    the first periodic checkpoint (10,000 steps by default, minutes) left a folder that could
    be neither resumed nor started again: a checkpoint is taken at step 0."""
    from sb3_contrib import MaskablePPO

    design = generate(7, 12, 8, seed=17)
    between = kill == "between the state and last.zip"
    steps, every, resumed_from = (240, 60, 60) if between else (120, 1000, 0)

    def run(out, resume=False):
        cfg = TrainConfig(out=str(out), timesteps=steps, checkpoint_every=every, eval_every=50, **EXACT)
        train(cfg, progress_bar=False, designs=[design], resume=resume)

    run(tmp_path / "unbroken")
    broken = tmp_path / "broken"
    original_save, original_step = run_folder_module.save_model, train_module.TrainingMonitor._on_step

    def killed_before_last_zip(model, path):
        if path.name == "last.zip" and model.num_timesteps == 120:
            raise SystemExit("killed")
        original_save(model, path)

    def killed_at_step_40(self):
        if self.num_timesteps >= 40:
            raise SystemExit("killed")
        return original_step(self)

    with monkeypatch.context() as patch:
        if between:
            patch.setattr(run_folder_module, "save_model", killed_before_last_zip)
        else:
            patch.setattr(train_module.TrainingMonitor, "_on_step", killed_at_step_40)
        with pytest.raises(SystemExit):
            run(broken)
    assert MaskablePPO.load(broken / "last.zip", device="cpu").num_timesteps == resumed_from
    run(broken, resume=True)
    _assert_same_run(tmp_path / "unbroken", broken)


def test_a_checkpoint_without_its_state_resumes_with_fresh_seeds(tiny_design, tmp_path, capsys):
    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=60, checkpoint_every=1000, eval_every=1000, **EXACT)
    train(cfg, progress_bar=False, designs=[tiny_design])
    (out / train_module.LAST_STATE).unlink()  # as an older version wrote it
    train(TrainConfig(**{**cfg.__dict__, "timesteps": 120}), progress_bar=False, designs=[tiny_design], resume=True)
    assert "resuming with fresh episode seeds" in capsys.readouterr().out
    assert (out / train_module.LAST_STATE).exists()


def test_a_resume_goes_on_from_the_boundarys_wall_time(tiny_design, tmp_path, monkeypatch):
    """A Ctrl-C after an update past the curve's last row: the resumed clock (curve.csv's
    wall_s) went on from that row, losing the update's seconds (an old-artifacts audit: the
    step-512 row read 14.8 s where step 256's read 14.5 s and the 256 steps between took 15 s).
    It goes on from the saved boundary's own time."""
    import time

    from placer.rl.resume import load_state

    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=120, checkpoint_every=10_000, eval_every=10_000, **EXACT)
    original = train_module.TrainingMonitor._on_step

    def slow_then_stopped(self):  # 1.5 s spent before the boundary at step 60, then a Ctrl-C
        if self.num_timesteps == 40:
            time.sleep(1.5)
        if self.num_timesteps >= 80:
            raise KeyboardInterrupt
        return original(self)

    with monkeypatch.context() as patch:
        patch.setattr(train_module.TrainingMonitor, "_on_step", slow_then_stopped)
        with pytest.raises(KeyboardInterrupt):
            train(cfg, progress_bar=False, designs=[tiny_design])
    rows = (out / "curve.csv").read_text().splitlines()[1:]
    assert [r.split(",")[0] for r in rows] == ["0"]  # (no row past step 0 before the resume)
    boundary = load_state(out / train_module.LAST_STATE)
    assert boundary.steps == 60 and boundary.wall_s >= 1.5
    train(cfg, progress_bar=False, designs=[tiny_design], resume=True)
    last = (out / "curve.csv").read_text().splitlines()[-1].split(",")
    assert last[0] == "120" and float(last[1]) >= boundary.wall_s


def test_a_resumed_clock_never_runs_backwards(tiny_design, tmp_path, monkeypatch):
    """The boundary's time is taken before its evaluation and checkpoint, whose curve row is
    kept: a resume going on from that time lost their seconds, and the next row read less than
    the kept one (a review's case: 0.09, 3.42, 0.72, 1.06 with a 3 s evaluation at step 60)."""
    import time

    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=180, checkpoint_every=60, eval_every=60, **EXACT)
    real_eval, real_step = train_module.TrainingMonitor.evaluate, train_module.TrainingMonitor._on_step

    def slow_eval(self):
        if self.num_timesteps == 60:
            time.sleep(3.0)
        return real_eval(self)

    def stop(self):
        if self.num_timesteps >= 90:
            raise KeyboardInterrupt
        return real_step(self)

    with monkeypatch.context() as patch:
        patch.setattr(train_module.TrainingMonitor, "evaluate", slow_eval)
        patch.setattr(train_module.TrainingMonitor, "_on_step", stop)
        with pytest.raises(KeyboardInterrupt):
            train(cfg, progress_bar=False, designs=[tiny_design])
    train(cfg, progress_bar=False, designs=[tiny_design], resume=True)
    walls = [float(r.split(",")[1]) for r in (out / "curve.csv").read_text().splitlines()[1:]]
    assert len(walls) == 4 and walls == sorted(walls), walls


def test_a_fresh_seeds_resume_takes_the_largest_seed(tiny_design, tmp_path):
    """seed + steps is past numpy's 2**32 - 1 for the largest seeds: SB3's reseeding of the
    model raised (the envs took any integer, as before this reseeding)."""
    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=60, checkpoint_every=1000, eval_every=1000, **{**EXACT, "seed": 2**32 - 1})
    train(cfg, progress_bar=False, designs=[tiny_design])
    (out / train_module.LAST_STATE).unlink()
    train(TrainConfig(**{**cfg.__dict__, "timesteps": 120}), progress_bar=False, designs=[tiny_design], resume=True)
    assert _saved_steps(out) == 120


def _saved_steps(out):
    from sb3_contrib import MaskablePPO

    return MaskablePPO.load(out / "last.zip", device="cpu").num_timesteps


def test_a_fresh_seeds_resume_samples_from_a_fresh_stream(tiny_design, tmp_path, monkeypatch):
    """A resume without its saved state said "fresh episode seeds", but loading the model
    reseeds torch with the run's own seed: the policy drew its actions from the stream of step
    0 again, and the resumed rollouts nearly repeated the first ones (an old-artifacts audit:
    curve rows equal to 7 digits). The first step of each segment must see another stream: two
    such resumes at different step counts too (each seeds with seed + steps, not the run's seed)."""
    import torch

    out = tmp_path / "run"
    streams: list[torch.Tensor] = []
    original_step = train_module.TrainingMonitor._on_step

    def recording_step(self):
        if self.n_calls == 1:  # (a new monitor per segment)
            streams.append(torch.random.get_rng_state())
        return original_step(self)

    monkeypatch.setattr(train_module.TrainingMonitor, "_on_step", recording_step)
    cfg = TrainConfig(out=str(out), timesteps=60, checkpoint_every=1000, eval_every=1000, **EXACT)
    train(cfg, progress_bar=False, designs=[tiny_design])
    for steps in (120, 180):
        (out / train_module.LAST_STATE).unlink()
        train(TrainConfig(**{**cfg.__dict__, "timesteps": steps}), progress_bar=False, designs=[tiny_design],
              resume=True)  # fmt: skip
    assert len(streams) == 3
    assert not torch.equal(streams[0], streams[1])
    assert not torch.equal(streams[1], streams[2])  # (the resumes at 60 and at 120 steps)


@pytest.mark.slow  # (over 10 s: `pytest -m "not slow"` leaves it out)
def test_train_cli_resumes_the_folder_given_and_keeps_its_target(tmp_path):
    import shutil

    from typer.testing import CliRunner

    from placer.cli import app

    out = tmp_path / "first"
    tiny = ["--generated", "1", "--timesteps", "64", "--n-envs", "1", "--max-grid", "16",
            "--max-nodes", "32", "--device", "cpu", "--no-progress", "--set", "n_steps=64",
            "--set", "batch_size=32", "--set", "soft_placement=keep"]  # fmt: skip
    first = CliRunner().invoke(app, ["train", "--out", str(out), *tiny])
    assert first.exit_code == 0, first.output
    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    before = sorted(p.name for p in (out / "checkpoints").iterdir())
    more = ["train", "--out", str(moved), "--resume", "--timesteps", "128", "--no-progress"]
    result = CliRunner().invoke(app, more)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == before  # the original untouched
    assert (moved / "checkpoints" / "step_128.zip").exists()
    again = CliRunner().invoke(app, ["train", "--out", str(moved), "--resume", "--no-progress"])
    assert again.exit_code == 0, again.output
    assert json.loads((moved / "config.json").read_text())["timesteps"] == 128  # kept
    for option in (["--seed", "3"], ["--w-timing", "1"], ["--timing-metric", "tail"], ["--max-grid", "24"],
                   ["--set", "n_steps=128"]):
        refused = CliRunner().invoke(app, ["train", "--out", str(moved), "--resume", *option])
        assert refused.exit_code == 2, option
        name = ' '.join(option).split('=')[0] if option[0] == '--set' else option[0]
        assert f"{name} (the run's: " in refused.output and "cannot change a run being resumed" in refused.output
    # the original command with --resume added: its values are the run's own, so it goes on
    same = [a if a != "64" else "192" for a in tiny]  # --timesteps 192 (n_steps=64 stays)
    again = CliRunner().invoke(app, ["train", "--out", str(moved), "--resume", "--seed", "0", "--w-timing", "0", *same])
    assert again.exit_code == 0, again.output
    assert (moved / "checkpoints" / "step_192.zip").exists()
    # the settings a resume may change may also come through --set (they were refused)
    longer = CliRunner().invoke(app, ["train", "--out", str(moved), "--resume", "--no-progress",
                                      "--set", "timesteps=256", "--set", "time_limit_s=600"])
    assert longer.exit_code == 0, longer.output
    assert (moved / "checkpoints" / "step_256.zip").exists()
    leftover = tmp_path / "leftover"
    leftover.mkdir()
    (leftover / "best.json").write_text('{"proxy": 0.5}')  # another run's best, no last.zip
    fresh = CliRunner().invoke(app, ["train", "--out", str(leftover), "--generated", "1"])
    assert fresh.exit_code == 2 and "without a checkpoint to resume (best.json)" in fresh.output


def test_train_cli_resume_takes_a_larger_timesteps_and_refuses_another_learning_rate(tmp_path):
    """The fast counterpart of the slow resume test above: ``--resume --set learning_rate=...``
    is refused in one line (exit 2) naming the setting and the run's value, leaving config.json
    as it was; ``--resume --timesteps 128`` (an allowed change) goes on from the run's 64 steps
    to the new total, recorded in config.json."""
    from sb3_contrib import MaskablePPO
    from typer.testing import CliRunner

    from placer.cli import app

    out = tmp_path / "run"
    tiny = ["--generated", "1", "--timesteps", "64", "--n-envs", "1", "--max-grid", "16",
            "--max-nodes", "32", "--device", "cpu", "--no-progress", "--set", "n_steps=64",
            "--set", "batch_size=32", "--set", "n_epochs=1", "--set", "soft_placement=keep",
            "--checkpoint-every", "64", "--eval-every", "64"]  # fmt: skip
    first = CliRunner().invoke(app, ["train", "--out", str(out), *tiny])
    assert first.exit_code == 0, first.output
    saved = json.loads((out / "config.json").read_text())
    assert MaskablePPO.load(out / "last.zip", device="cpu").num_timesteps == 64

    refused = CliRunner().invoke(app, ["train", "--out", str(out), "--resume", "--set", "learning_rate=0.5"])
    assert refused.exit_code == 2
    assert refused.stderr == (
        f"placer: error: --set learning_rate (the run's: {saved['learning_rate']}) cannot change a run "
        "being resumed (its config.json is kept; only --timesteps, --device and --set time_limit_s or keep_checkpoints may "
        "change)\n"
    )
    assert json.loads((out / "config.json").read_text()) == saved
    # a --set contradicting --timesteps or --device is refused as on a new run (it won silently)
    for pair in (["--timesteps", "96", "--set", "timesteps=128"], ["--device", "cpu", "--set", "device=cuda"]):
        clash = CliRunner().invoke(app, ["train", "--out", str(out), "--resume", "--no-progress", *pair])
        assert clash.exit_code == 2 and "contradicts the option(s)" in clash.stderr, clash.output
    assert json.loads((out / "config.json").read_text()) == saved

    longer = CliRunner().invoke(app, ["train", "--out", str(out), "--resume", "--timesteps", "128", "--no-progress"])
    assert longer.exit_code == 0, longer.output
    assert json.loads((out / "config.json").read_text()) == {**saved, "timesteps": 128}
    assert MaskablePPO.load(out / "last.zip", device="cpu").num_timesteps == 128
    assert (out / "checkpoints" / "step_128.zip").exists()


def test_ctrl_c_before_the_first_checkpoint_does_not_claim_a_saved_run(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from placer.cli import app

    def interrupted_while_loading(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "train", interrupted_while_loading)
    result = CliRunner().invoke(app, ["train", "--out", str(tmp_path / "run"), "--generated", "1", "--device", "cpu"])
    assert result.exit_code == 130
    assert "nothing to resume" in result.stderr and "is saved" not in result.output


def test_a_run_failing_before_training_leaves_nothing_that_blocks_its_rerun(tmp_path):
    from envs.macro_placement_checks import NothingToPlace

    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=64, **TINY)
    with pytest.raises(NothingToPlace):
        train(cfg, progress_bar=False, designs=[generate(0, 4, 2, seed=0)])  # soft macros only
    assert not (out / "config.json").exists()
    train(cfg, progress_bar=False, designs=[generate(4, 8, 6, seed=2)])  # the corrected rerun
    assert (out / "last.zip").exists()


def test_training_refuses_hard_macros_covering_more_than_the_canvas_at_once(tmp_path):
    """Such a design trained for its whole run, which ended "the policy leaves some macro no
    legal cell: train longer", while placer place refused it at once in one line."""
    import dataclasses

    from envs.macro_placement_checks import NothingToPlace

    netlist, placement = generate(4, 8, 6, seed=2, name="crowded")
    hard = netlist.hard_macros
    width, height = netlist.width.copy(), netlist.height.copy()
    area = float((width[hard] * height[hard]).sum())
    c = netlist.require_canvas()
    scale = np.sqrt(1.04 * c.width * c.height / area)
    width[hard] *= scale
    height[hard] *= scale
    crowded = dataclasses.replace(netlist, width=width, height=height)
    out = tmp_path / "run"
    with pytest.raises(NothingToPlace, match=r"^crowded: the hard macros cover 104% of the canvas"):
        train(TrainConfig(out=str(out), timesteps=64, **TINY), progress_bar=False, designs=[(crowded, placement)])
    assert not (out / "config.json").exists()


def test_rl_placer_keeps_designs_its_policy_cannot_place(trained_run):
    from placer.algorithms.base import get_placer

    _, out = trained_run
    netlist, placement = generate(0, 10, 6, seed=2)  # soft macros only: nothing for the policy
    notes: list[str] = []
    result = get_placer("rl", model=str(out)).place(
        netlist, placement, 10, seed=0, progress=lambda p: notes.append(p.message)
    )
    assert any(n.startswith("note: the policy cannot place this design") for n in notes)
    np.testing.assert_array_equal(result.x[netlist.hard_macros], placement.x[netlist.hard_macros])
    # soft_refine still refines the soft macros (it was ignored and the input came back)
    from placer.cost.proxy import evaluate

    refined = get_placer("rl", model=str(out), soft_refine=True, refine={"max_steps": 300}).place(
        netlist, placement, 10, seed=0)
    assert evaluate(netlist, refined).proxy < evaluate(netlist, placement).proxy


def test_a_checkpoint_is_placed_with_its_runs_env_options(tiny_design, tmp_path, monkeypatch):
    """``checkpoints/step_N.zip`` has no env_kwargs.json beside it: the run's, one folder up,
    is used (defaults used to be, so the same weights placed differently from last.zip)."""
    import shutil
    from pathlib import Path

    from placer.rl.inference import env_for_model, load_model

    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=64, checkpoint_every=64, eval_every=1000,
                      **{**TINY, "use_wiremask": False, "order": "degree", "soft_macros_placed": False,
                         "w_cong": 1.0, "w_timing": 2.0, "timing_metric": "tail"})
    train(cfg, progress_bar=False, designs=[tiny_design])
    checkpoint = next((out / "checkpoints").glob("step_*.zip"))
    envs = [env_for_model(load_model(p), *tiny_design, model_path=p) for p in (out / "last.zip", checkpoint)]
    # named from inside checkpoints/ or through a link (the run folder was not found: defaults)
    monkeypatch.chdir(out / "checkpoints")
    (tmp_path / "link.zip").symlink_to(checkpoint)
    for named in (Path(checkpoint.name), tmp_path / "link.zip"):
        envs.append(env_for_model(load_model(named), *tiny_design, model_path=named))
    # a copy away from its run: the options saved in the model itself (defaults before, silently)
    shutil.copy(out / "best.zip", tmp_path / "copied.zip")
    envs.append(env_for_model(load_model(tmp_path / "copied.zip"), *tiny_design, model_path=tmp_path / "copied.zip"))
    for env in envs:
        assert (env.use_wiremask, env.order_option, env.soft_macros_placed) == (False, "degree", False)
        assert env.max_grid == TINY["max_grid"]
        # the reward's weights too: samples were ranked by the plain proxy, not the model's reward
        assert env.weights == {"wirelength": 1.0, "density": 0.5, "congestion": 1.0, "timing": 2.0}
        assert env.timing_metric == "tail"
    # a model without options anywhere is placed with the defaults, and says so
    bare = load_model(tmp_path / "copied.zip")
    del bare.env_options
    notes = []
    env_for_model(bare, *tiny_design, model_path=tmp_path / "copied.zip", note=notes.append)
    assert notes and "placed with the environment defaults" in notes[0]
    # a model saved before models kept their reward weights: ranked by the proxy, said so
    older = load_model(tmp_path / "copied.zip")
    older.env_options = {k: v for k, v in older.env_options.items() if not k.startswith(("w_", "timing"))}
    notes = []
    env = env_for_model(older, *tiny_design, model_path=tmp_path / "copied.zip", note=notes.append)
    assert env.weights["timing"] == 0.0 and any("saved before models kept their reward weights" in n for n in notes)
    notes = []
    env_for_model(older, *tiny_design, model_path=tmp_path / "copied.zip", note=notes.append, ranks_episodes=False)
    assert not notes  # nothing ranked: nothing to say


def test_a_resume_with_other_settings_or_other_designs_is_refused(tiny_design, tmp_path):
    """The model keeps its own n_steps and learning rate and its saved episodes refer to the
    designs by position: such a resume used to rewrite config.json to describe another run."""
    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=60, checkpoint_every=1000, eval_every=1000, **EXACT)
    train(cfg, progress_bar=False, designs=[tiny_design])
    saved = (out / "config.json").read_text()
    for change, message in (({"n_steps": 64}, r"n_steps \(30 -> 64\)"), ({"learning_rate": 0.5}, "learning_rate")):
        with pytest.raises(ValueError, match=message):
            train(TrainConfig(**{**cfg.__dict__, **change, "timesteps": 120}), progress_bar=False,
                  designs=[tiny_design], resume=True)
    other = generate(4, 8, 6, seed=9, name="other")
    with pytest.raises(ValueError, match="the training designs changed since the run started"):
        train(TrainConfig(**{**cfg.__dict__, "timesteps": 120}), progress_bar=False, designs=[other], resume=True)
    assert (out / "config.json").read_text() == saved
    train(TrainConfig(**{**cfg.__dict__, "timesteps": 120, "time_limit_s": 600.0}), progress_bar=False,
          designs=[tiny_design], resume=True)  # the settings that may change


def test_a_design_edited_in_place_or_a_damaged_run_file_is_refused_on_resume(tiny_design, tmp_path):
    """Same name, other content (a netlist or initial.plc edited in place) used to resume onto
    saved episodes of the old design (an IndexError traceback, or silently wrong episodes); a
    last.zip that is no model and a damaged designs.json were tracebacks."""
    import zipfile

    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=60, checkpoint_every=1000, eval_every=1000, **EXACT)
    train(cfg, progress_bar=False, designs=[tiny_design])
    again = TrainConfig(**{**cfg.__dict__, "timesteps": 120})
    netlist, placement = tiny_design
    edited = placement.copy()
    edited.fixed[netlist.hard_macros[0]] = True
    with pytest.raises(ValueError, match=f"{netlist.name} changed since the run started"):
        train(again, progress_bar=False, designs=[(netlist, edited)], resume=True)

    (out / train_module.LAST_STATE).unlink()
    (out / "last.zip").unlink()
    with zipfile.ZipFile(out / "last.zip", "w") as archive:
        archive.writestr("readme.txt", "not a model")
    with pytest.raises(ValueError, match="last.zip: cannot be loaded as a trained placement policy"):
        train(again, progress_bar=False, designs=[tiny_design], resume=True)

    (out / "designs.json").write_text('{"names": [')
    with pytest.raises(ValueError, match="designs.json: damaged"):
        train(again, progress_bar=False, designs=[tiny_design], resume=True)
    # parsed but without its names or with digests of another kind: named as damaged (it was
    # blamed on the designs, "changed since the run started (was ; now ...)")
    for text in ('{"digests": []}', '{"names": ["tiny"], "digests": "x"}', '{"names": "tiny"}'):
        (out / "designs.json").write_text(text)
        with pytest.raises(ValueError, match=r"designs.json: damaged \(no list of design names and their digests\)"):
            train(again, progress_bar=False, designs=[tiny_design], resume=True)


def test_an_evaluation_design_edited_in_place_is_refused_on_resume(tiny_design, tmp_path):
    """Only the training designs were checked: the curve's eval_proxy and best.* went on with
    another design under the same file name."""
    import json

    from netlists.formats.circuit_training import write_netlist
    from netlists.formats.plc import write_plc

    netlist, placement = generate(5, 10, 6, seed=2, name="ev")
    folder = tmp_path / "ev"
    folder.mkdir()
    write_netlist(netlist, folder / "netlist.pb.txt")
    write_plc(folder / "initial.plc", netlist, placement)
    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=60, checkpoint_every=1000, eval_every=1000,
                      eval_netlist=str(folder / "netlist.pb.txt"), **EXACT)
    train(cfg, progress_bar=False, designs=[tiny_design])
    assert json.loads((out / "designs.json").read_text())["eval"]["name"] == "ev"
    again = TrainConfig(**{**cfg.__dict__, "timesteps": 120})
    moved = placement.copy()
    moved.x[netlist.hard_macros[0]] += 1.0
    write_plc(folder / "initial.plc", netlist, moved)
    with pytest.raises(ValueError, match="the evaluation design ev changed since the run started"):
        train(again, progress_bar=False, designs=[tiny_design], resume=True)
    write_plc(folder / "initial.plc", netlist, placement)  # restored: the run goes on
    train(again, progress_bar=False, designs=[tiny_design], resume=True)


@pytest.mark.slow  # (over 10 s: `pytest -m "not slow"` leaves it out)
def test_ctrl_c_with_subprocess_envs_ends_as_an_interrupt(tiny_design, tmp_path, monkeypatch):
    """Ctrl-C reaches the SubprocVecEnv workers too: closing them then failed on the broken
    pipe and the CLI ended 'placer: error: Broken pipe' (exit 2) instead of an interrupt."""
    original_step = train_module.TrainingMonitor._on_step

    def interrupt(self):
        if self.num_timesteps >= 80:
            for process in self.training_env.processes:  # what the terminal's SIGINT does
                process.terminate()
                process.join()
            raise KeyboardInterrupt
        return original_step(self)

    monkeypatch.setattr(train_module.TrainingMonitor, "_on_step", interrupt)
    cfg = TrainConfig(out=str(tmp_path / "run"), timesteps=240, checkpoint_every=1000, eval_every=1000,
                      **{**EXACT, "vec": "subproc"})
    with pytest.raises(KeyboardInterrupt):
        train(cfg, progress_bar=False, designs=[tiny_design])
    assert (tmp_path / "run" / "last.zip").exists()


def test_an_evaluation_design_that_does_not_fit_leaves_nothing_behind(tiny_design, tmp_path):
    from netlists.formats.circuit_training import write_netlist
    from netlists.formats.plc import write_plc

    big, big_placement = generate(20, 8, 6, seed=3, name="big")
    folder = tmp_path / "big"
    folder.mkdir()
    write_netlist(big, folder / "netlist.pb.txt")
    write_plc(folder / "initial.plc", big, big_placement)
    cfg = TrainConfig(out=str(tmp_path / "run"), timesteps=64, eval_netlist=str(folder / "netlist.pb.txt"), **TINY)
    with pytest.raises(ValueError, match="max_nodes"):
        train(cfg, progress_bar=False, designs=[tiny_design])
    assert not any((tmp_path / "run").glob("*.json"))


def _env_processes_left(before: set, wait_s: float = 5.0) -> list:
    """The multiprocessing children started since ``before`` still alive after up to ``wait_s``."""
    import multiprocessing
    import time

    deadline = time.monotonic() + wait_s
    while (left := set(multiprocessing.active_children()) - before) and time.monotonic() < deadline:
        time.sleep(0.1)
    return sorted(left, key=lambda process: process.pid)


def test_a_subprocess_run_failing_before_training_leaves_no_env_process(tiny_design, tmp_path):
    """An evaluation design too large for the settings fails after the vec=subproc envs are
    made: their worker processes ran on for as long as the exception was kept (a REPL's
    ``sys.last_value``, here pytest's ``raised``), each holding its env."""
    import multiprocessing

    from netlists.formats.circuit_training import write_netlist
    from netlists.formats.plc import write_plc

    big, big_placement = generate(20, 8, 6, seed=3, name="big")
    folder = tmp_path / "big"
    folder.mkdir()
    write_netlist(big, folder / "netlist.pb.txt")
    write_plc(folder / "initial.plc", big, big_placement)
    cfg = TrainConfig(out=str(tmp_path / "run"), timesteps=64, eval_netlist=str(folder / "netlist.pb.txt"),
                      **{**TINY, "vec": "subproc", "n_envs": 2})
    before = set(multiprocessing.active_children())
    with pytest.raises(ValueError, match="max_nodes") as raised:
        train(cfg, progress_bar=False, designs=[tiny_design])
    assert raised.value.__traceback__ is not None  # (the exception, and its frames, still kept)
    assert _env_processes_left(before) == []


def test_a_model_failing_to_build_leaves_no_env_process(tiny_design, tmp_path, monkeypatch):
    """The same for a failure while the model is built on the new envs."""
    import multiprocessing

    def fails(config):
        raise MemoryError("stand-in: the policy could not be built")

    monkeypatch.setattr(train_module, "policy_kwargs", fails)
    cfg = TrainConfig(out=str(tmp_path / "run"), timesteps=64, **{**TINY, "vec": "subproc", "n_envs": 2})
    before = set(multiprocessing.active_children())
    with pytest.raises(MemoryError, match="stand-in") as raised:
        train(cfg, progress_bar=False, designs=[tiny_design])
    assert raised.value.__traceback__ is not None
    assert _env_processes_left(before) == []


#: How long a ``placer train`` subprocess may take to begin training (import, a cold kernel compile):
#: inside pyproject's 900 s per-test timeout with the 180 s the kill test may wait after it.
SUBPROCESS_START_S = 600.0


@pytest.mark.slow  # (over 10 s: `pytest -m "not slow"` leaves it out)
def test_a_plain_kill_saves_a_cli_run(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    # (-X faulthandler: a process that outlives its kill is sent SIGABRT and prints every
    # thread's stack, so that a hang explains itself; one was seen once under heavy load)
    command = [sys.executable, "-X", "faulthandler", "-m", "placer.cli", "train", "--generated", "1",
               "--max-grid", "16", "--timesteps", "100000", "--set", "n_steps=32", "--set", "batch_size=32",
               "--set", "max_nodes=64", "--device", "cpu", "--no-progress", "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # the kill is meant to land in training: wait for its first curve row (a wait, not a bound:
    # with an empty kernel cache the set-up took 20 s idle and 64 s on a loaded 2-core machine,
    # and a kill after the 120 s waited before landed in the set-up, with nothing to save)
    deadline = time.monotonic() + SUBPROCESS_START_S
    while not (out / "curve.csv").exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    if not (out / "curve.csv").exists():
        process.kill()
        pytest.fail(f"training wrote no curve row in {SUBPROCESS_START_S:g} s (exit {process.wait()}): "
                    f"{process.communicate()[1][-2000:]}")
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    try:
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        stdout, stderr = process.communicate(timeout=60)
        pytest.fail(f"still running 120 s after SIGTERM; its threads' stacks:\n{stderr}")
    assert process.returncode == 130, stderr
    assert (out / "last.zip").exists() and (out / "last_state.pkl").exists()


def test_a_saved_episode_refers_to_its_designs_caches_instead_of_copying_them(tiny_design):
    """The cost context is most of an episode's bytes on a large design (7 MB of ibm17's
    11 MB per env): it is pickled as a reference to the same design's cached one."""
    from envs.macro_placement import MacroPlacementEnv
    from placer.cost.context import cost_context
    from placer.rl.resume import SnapshotMonitor, restore_monitor

    def monitor():  # type: ignore[no-untyped-def]
        return SnapshotMonitor(MacroPlacementEnv(designs=[tiny_design], max_grid=16, max_nodes=8, max_edges=32))

    live = monitor()
    live.reset(seed=0)
    live.step(int(live.unwrapped.action_masks().nonzero()[0][0]))
    fresh = monitor()
    restored = restore_monitor(live.snapshot(), fresh)
    state = restored.unwrapped._state
    assert state.ctx is cost_context(fresh.unwrapped.prepared_designs[0].netlist)
    assert state.n_placed == live.unwrapped._state.n_placed == 1


def test_a_run_saved_at_step_0_resumes_without_a_second_step_0_row(tiny_design, tmp_path, monkeypatch):
    """A kill right after the start saves step 0; the resume evaluates step 0 again. Its
    curve also keeps counting wall time instead of starting again from 0."""
    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=120, checkpoint_every=1000, eval_every=50, **EXACT)
    original = train_module.TrainingMonitor._on_step

    def stop_at_once(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module.TrainingMonitor, "_on_step", stop_at_once)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, progress_bar=False, designs=[tiny_design])
    monkeypatch.setattr(train_module.TrainingMonitor, "_on_step", original)
    train(TrainConfig(**{**cfg.__dict__, "timesteps": 60}), progress_bar=False, designs=[tiny_design], resume=True)
    rows = [r.split(",") for r in (out / "curve.csv").read_text().splitlines()[1:]]
    assert [r[0] for r in rows] == ["0", "60"]  # (evaluations at rollout boundaries: 60 steps)
    text = (out / "curve.csv").read_text().replace(f",{rows[-1][1]},", ",1000.0,")  # as if it had run long
    (out / "curve.csv").write_text(text)
    from placer.rl.resume import load_state, save_state

    state = load_state(out / train_module.LAST_STATE)
    state.wall_s = None  # as a state saved before it kept its time: the curve's last row's
    save_state(out / train_module.LAST_STATE, state)
    train(cfg, progress_bar=False, designs=[tiny_design], resume=True)
    rows = [r.split(",") for r in (out / "curve.csv").read_text().splitlines()[1:]]
    assert [r[0] for r in rows] == ["0", "60", "120"]
    assert float(rows[-1][1]) >= 1000.0  # wall time went on from the resumed run's


def test_resume_compares_paths_as_files_not_as_text(tmp_path):
    """The same netlist named through '..' or a symlink is the run's own, not a change."""
    from placer.commands.train import _same

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "n.pb.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "link").symlink_to(tmp_path / "d")
    names = {_same(tmp_path / "sub" / ".." / "d" / "n.pb.txt"), _same(tmp_path / "sub" / "link" / "n.pb.txt"),
             _same(tmp_path / "d" / "n.pb.txt")}
    assert len(names) == 1


def test_rl_placer_says_so_when_every_episode_was_infeasible(trained_run, tiny_design, monkeypatch):
    """It fell back to the given placement under the name rl, without a word."""
    import placer.rl.inference as inference
    from placer.algorithms.base import get_placer

    _, out = trained_run
    monkeypatch.setattr(inference, "place_and_refine", lambda *args, **kwargs: (None, {}))
    notes: list[str] = []
    get_placer("rl", model=str(out)).place(*tiny_design, 10, seed=0, progress=lambda p: notes.append(p.message))
    assert any("every episode of the policy was infeasible" in n for n in notes)


def test_a_sampled_episode_stops_with_the_deadline(trained_run, tiny_design):
    """The deadline was checked between episodes only: rl overran a 1.5 s budget by 0.4 s on
    ibm01 with many samples. An episode it interrupts is dropped; the deterministic one always
    completes."""
    from placer.rl.inference import env_for_model, load_model, place_with_policy
    from placer.rl.train import run_episode

    _, out = trained_run
    model = load_model(out)
    env = env_for_model(model, *tiny_design, model_path=out)
    assert run_episode(model, env, deterministic=False, seed=0, stop=lambda: True) == {}

    class FlipsDuringTheSecondEpisode:
        calls = 0

        def expired(self) -> bool:
            self.calls += 1
            return self.calls > 2  # the check before episode 1, then one step of it

    deadline = FlipsDuringTheSecondEpisode()
    best, info = place_with_policy(model, env, samples=10**6, seed=0, deadline=deadline)
    assert best is not None and "cost" in info  # the deterministic episode's
    assert deadline.calls <= 4


def _zip_without(source, target, drop: str, replace: dict[str, bytes] | None = None):  # type: ignore[no-untyped-def]
    """A copy of the SB3 zip ``source`` without entry ``drop`` and with entries replaced."""
    import zipfile

    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            if item.filename != drop:
                dst.writestr(item, (replace or {}).get(item.filename, src.read(item.filename)))
    return target


def test_damaged_or_foreign_models_are_one_line_naming_the_model(trained_run, tiny_design, tmp_path):
    import shutil
    import zipfile

    from placer.algorithms.base import get_placer

    _, out = trained_run
    netlist, placement = tiny_design
    garbage = tmp_path / "garbage.zip"
    with zipfile.ZipFile(garbage, "w") as z:
        z.writestr("readme.txt", "hello")
    broken = {
        "no policy": _zip_without(out / "last.zip", tmp_path / "nopolicy.zip", "policy.pth"),
        "bad weights": _zip_without(out / "last.zip", tmp_path / "badpth.zip", "",
                                    {"policy.pth": b"not a torch file"}),
        "bad data": _zip_without(out / "last.zip", tmp_path / "baddata.zip", "", {"data": b"{not json"}),
        "foreign zip": garbage,
    }
    for model in broken.values():
        with pytest.raises(ValueError, match=f"model {model}: cannot be loaded as a trained placement policy"):
            get_placer("rl", model=str(model)).place(netlist, placement, 10, seed=0)
    # a model from before models carried their options reads its run's env_kwargs.json
    run = tmp_path / "run_copy"
    shutil.copytree(out, run, ignore=shutil.ignore_patterns("checkpoints"))
    with zipfile.ZipFile(out / "best.zip") as z:
        data = json.loads(z.read("data"))
    del data["env_options"]
    _zip_without(out / "best.zip", run / "best.zip", "", {"data": json.dumps(data).encode()})
    for text, message in (("{not json", "not readable JSON"), ('{"foo": 1}', r"unknown environment option\(s\) \['foo'\]"),
                          ('{"order": "random"}', "env_kwargs.json")):
        (run / "env_kwargs.json").write_text(text)
        with pytest.raises(ValueError, match=message):
            get_placer("rl", model=str(run)).place(netlist, placement, 10, seed=0)


def test_a_model_in_another_runs_folder_keeps_its_own_env_options(tiny_design, tmp_path):
    """A model copied into another run's folder was placed with that run's env_kwargs.json
    (other wire mask and order), silently."""
    import shutil

    from placer.rl.inference import env_for_model, load_model

    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=64, checkpoint_every=64, eval_every=1000,
                      **{**TINY, "use_wiremask": False, "order": "degree"})
    train(cfg, progress_bar=False, designs=[tiny_design])
    other = tmp_path / "other"
    other.mkdir()
    (other / "env_kwargs.json").write_text(json.dumps({"order": "area", "use_wiremask": True}))
    shutil.copy(out / "last.zip", other / "foreign.zip")
    notes: list[str] = []
    env = env_for_model(load_model(other / "foreign.zip"), *tiny_design, model_path=other / "foreign.zip",
                        note=notes.append)
    assert (env.use_wiremask, env.order_option) == (False, "degree")
    assert len(notes) == 1 and "placed with the model's own" in notes[0]
    notes.clear()  # its own run's file agrees: nothing said
    env_for_model(load_model(out / "last.zip"), *tiny_design, model_path=out / "last.zip", note=notes.append)
    assert notes == []


@pytest.mark.parametrize("device", ["bogus", "mps", "cuda:x"])
def test_the_rl_placers_device_is_checked_with_its_options(trained_run, device):
    from placer.algorithms.base import get_placer

    _, out = trained_run
    with pytest.raises(ValueError, match="device must be auto, cpu, cuda or cuda:N"):
        get_placer("rl", model=str(out), device=device)
    if not torch.cuda.is_available():  # SB3 would quietly run "cuda" on the CPU
        netlist, placement = generate(4, 8, 6, seed=2)
        placer = get_placer("rl", model=str(out), device="cuda")  # a batch may run elsewhere
        with pytest.raises(ValueError, match="CUDA is not available"):
            placer.place(netlist, placement, 10, seed=0)


def test_the_best_checkpoint_is_kept_by_the_objective_trained_on(tiny_design, tmp_path, monkeypatch):
    """best.zip followed the plain proxy also when training weighed timing: a placement with a
    lower proxy but a higher weighted cost replaced the better one."""
    episodes = iter([
        {"cost": {"proxy": 0.95, "objective": 1.50}, "placement": tiny_design[1], "design": "d"},
        {"cost": {"proxy": 0.80, "objective": 1.60}, "placement": tiny_design[1], "design": "d"},
    ])  # fmt: skip
    monkeypatch.setattr(monitor_module, "run_episode", lambda *a, **k: next(episodes))
    cfg = TrainConfig(out=str(tmp_path / "run"), timesteps=64, w_timing=1.0, **TINY)
    monitor = train_module.TrainingMonitor(cfg, tiny_design)
    from stable_baselines3.common.logger import Logger

    monitor.model = type("M", (), {"num_timesteps": 0, "logger": Logger(None, []), "save": lambda self, f, **kw: f.write(b"model")})()
    monkeypatch.setattr(monitor.eval_env, "write_plc", lambda path, placement, file_name=None: path.write_text("plc"))
    (tmp_path / "run").mkdir()
    monitor.evaluate()
    monitor.evaluate()
    best = json.loads((tmp_path / "run" / "best.json").read_text())
    assert (best["proxy"], best["objective"]) == (0.95, 1.50)
    assert train_module.TrainingMonitor(cfg, tiny_design)._read_best() == 1.50
    # a best.json without the proxy or the step the run's summary prints is named as damaged
    # when the run (a resume) starts, not met with a KeyError once the training has finished
    for damaged in ({"proxy": 0.5}, {"objective": 0.5, "steps": 3}, {"proxy": 0.5, "steps": True}):
        (tmp_path / "run" / "best.json").write_text(json.dumps(damaged))
        with pytest.raises(ValueError, match=r"best.json: damaged \(no proxy number or step count\)"):
            train_module.TrainingMonitor(cfg, tiny_design)._read_best()
    # the curve shows what best.zip is chosen by, beside the proxy (it showed the proxy only:
    # the curve improved while best.zip stayed put)
    rows = [line.split(",") for line in (tmp_path / "run" / "curve.csv").read_text().splitlines()]
    assert rows[0] == ["steps", "wall_s", "train_mean_proxy", "eval_proxy", "eval_objective"]
    assert [(float(r[3]), float(r[4])) for r in rows[1:]] == [(0.95, 1.50), (0.80, 1.60)]


def test_a_curve_begun_before_the_objective_column_keeps_its_four(tiny_design, tmp_path, monkeypatch):
    """A run resumed from an older curve.csv goes on with its columns, not a ragged fifth."""
    monitor = stubbed_monitor(tiny_design, tmp_path, monkeypatch)
    (tmp_path / "run" / "curve.csv").write_text("steps,wall_s,train_mean_proxy,eval_proxy\n0,0.1,nan,1.0\n")
    monitor.evaluate()
    rows = [line.split(",") for line in (tmp_path / "run" / "curve.csv").read_text().splitlines()]
    assert [len(r) for r in rows] == [4, 4, 4] and rows[2][3] == "0.9"


def test_loading_on_a_missing_device_or_resizing_a_models_env_is_refused(trained_run, tiny_design):
    """load_model(..., "cuda") without CUDA loaded on the CPU without a word; env_for_model let
    max_nodes=32 replace a 16-node model's size (SB3's shape error came at the first step)."""
    from placer.rl.inference import env_for_model, load_model

    _, out = trained_run
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            load_model(out, "cuda")
    model = load_model(out, "cpu")
    netlist, placement = tiny_design
    with pytest.raises(ValueError, match=r"max_nodes=32: the model was trained with max_nodes=8"):
        env_for_model(model, netlist, placement, None, max_nodes=32)
    assert env_for_model(model, netlist, placement, None, max_nodes=8).max_nodes == 8  # its own size


def test_leftover_folders_a_shrinking_resume_and_a_damaged_state_are_handled(tiny_design, tmp_path, capsys):
    """`rm RUN/*` left checkpoints/ and tb/, which a new run mixed with its own; --resume with
    fewer timesteps than done trained nothing and rewrote config.json to say so; a damaged
    last_state.pkl ended in "invalid literal for int()" instead of resuming with fresh seeds."""
    leftover = tmp_path / "leftover"
    (leftover / "checkpoints").mkdir(parents=True)
    (leftover / "checkpoints" / "step_256.zip").write_bytes(b"old")
    with pytest.raises(FileExistsError, match=r"holds files of an earlier run .*checkpoints"):
        train(TrainConfig(out=str(leftover), timesteps=64, **TINY), progress_bar=False, designs=[tiny_design])

    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=128, checkpoint_every=64, eval_every=64, **TINY)
    train(cfg, progress_bar=False, designs=[tiny_design])
    config_before = (out / "config.json").read_text()
    with pytest.raises(ValueError, match="is at step 128: timesteps 64 would train nothing"):
        train(TrainConfig(**{**json.loads(config_before), "timesteps": 64}), progress_bar=False,
              designs=[tiny_design], resume=True)
    capsys.readouterr()
    train(TrainConfig(**json.loads(config_before)), progress_bar=False, designs=[tiny_design], resume=True)
    said = capsys.readouterr().out  # a finished run resumed: said so, not a no-op that looked
    assert "has finished: step 128 of 128; nothing to train" in said  # like training
    assert "training on" not in said and (out / "config.json").read_text() == config_before
    assert (out / "config.json").read_text() == config_before
    (out / "last_state.pkl").write_bytes(b"garbage\n")
    train(TrainConfig(**{**json.loads(config_before), "timesteps": 192}), progress_bar=False,
          designs=[tiny_design], resume=True)
    said = capsys.readouterr().out  # (named as damaged: it read "no saved training state")
    assert (f"{out}: last_state.pkl is unreadable (damaged: ValueError: invalid literal for int() with base 10: "
            "'arbage\\n'): resuming with fresh episode seeds") in said  # (the cause named: it said only "damaged,
    # or from another version"; pickle reads b"g" as its GET opcode and the rest as the number)


def test_a_run_ended_by_its_time_limit_says_so(tiny_design, tmp_path, capsys):
    cfg = TrainConfig(out=str(tmp_path / "run"), timesteps=10**6, time_limit_s=0.5, **TINY)
    train(cfg, progress_bar=False, designs=[tiny_design])
    assert "stopped by time_limit_s (0.5 s) at step" in capsys.readouterr().out


def test_a_diverged_policy_stops_the_run_in_one_line_and_is_not_saved(tiny_design, tmp_path, monkeypatch):
    """A learning rate of 1e30 was taken; the run then saved weights of ~1e30 as last.zip and
    stopped with a torch message holding a tensor dump."""
    from sb3_contrib import MaskablePPO

    with pytest.raises(ValueError, match=r"learning_rate must be a finite number in \(0, 1\]"):
        TrainConfig(out=str(tmp_path / "x"), learning_rate=1e30).validate()
    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=64, checkpoint_every=64, eval_every=1000, **TINY)
    train(cfg, progress_bar=False, designs=[tiny_design])
    model = MaskablePPO.load(out / "last.zip", device="cpu")
    with torch.no_grad():
        for parameter in model.policy.parameters():
            parameter.fill_(float("nan"))
    with pytest.raises(train_module.TrainingDiverged, match="diverged") as caught:
        monitor_module.check_sound(model, out)
    assert "\n" not in str(caught.value)
    from placer.algorithms.base import get_placer

    model.save(tmp_path / "diverged.zip")
    with pytest.raises(ValueError, match="weights are not all finite numbers"):  # placed
        get_placer("rl", model=str(tmp_path / "diverged.zip")).place(*tiny_design, 10, seed=0)
    original_load = train_module.load_model

    def load_diverged(*args, **kwargs):  # as if the update after the checkpoint blew up
        loaded = original_load(*args, **kwargs)
        with torch.no_grad():
            for parameter in loaded.policy.parameters():
                parameter.fill_(float("nan"))
        return loaded

    monkeypatch.setattr(train_module, "load_model", load_diverged)
    poisoned = (out / "last.zip").read_bytes()
    more = TrainConfig(**{**cfg.__dict__, "timesteps": 256})
    with pytest.raises(train_module.TrainingDiverged) as caught:
        train(more, progress_bar=False, designs=[tiny_design], resume=True)
    assert "\n" not in str(caught.value) and "lower learning_rate" in str(caught.value)
    assert (out / "last.zip").read_bytes() == poisoned  # no later checkpoint of it


def test_a_nan_in_the_envs_observation_is_named_as_such_not_as_divergence(tiny_design, tmp_path, monkeypatch):
    """A NaN the environment put into its observation read "training diverged ... learning_rate
    too high?" while the weights were finite and no update had run (the excepts audit)."""
    import envs.macro_placement as env_module
    from placer.rl.config import ObservationNotFinite

    real = env_module.observation
    calls = [0]

    def faulty(*args, **kwargs):  # an env bug: a NaN in one grid channel after 20 steps
        obs = real(*args, **kwargs)
        calls[0] += 1
        if calls[0] > 20:
            obs["grid"][4, 0, 0] = np.nan
        return obs

    monkeypatch.setattr(env_module, "observation", faulty)
    cfg = TrainConfig(out=str(tmp_path / "run"), timesteps=256, checkpoint_every=1000, eval_every=1000, **TINY)
    with pytest.raises(ObservationNotFinite, match=r"observation at step \d+ holds values that are not finite "
                       r"numbers \(in grid\): a fault of the environment") as caught:
        train(cfg, progress_bar=False, designs=[tiny_design])
    assert not isinstance(caught.value, train_module.TrainingDiverged) and "\n" not in str(caught.value)


def test_a_nan_in_an_evaluation_episodes_observation_is_named_too():
    """A NaN the evaluation env gave still read as divergence (the review): the training
    observation was checked, the evaluation episode's not."""
    from placer.rl.config import ObservationNotFinite

    class NaNEnv:  # (the model is never asked: the observation is refused first)
        def reset(self, seed=None):  # type: ignore[no-untyped-def]
            return {"grid": np.full((2, 2), np.nan, np.float32), "macro": np.zeros(3, np.float32)}, {}

    with pytest.raises(ObservationNotFinite, match=r"in an episode of the policy .* \(in grid\)"):
        monitor_module.run_episode(object(), NaNEnv(), deterministic=True, seed=0)


def test_a_failed_model_save_names_its_file_and_leaves_no_partial_zip(tiny_design, tmp_path):
    import errno

    class FullDisk:
        def save(self, path, **kwargs):
            Path(path).write_bytes(b"half a zip")
            raise OSError(errno.ENOSPC, "No space left on device")

    from pathlib import Path

    with pytest.raises(OSError, match="last.zip") as caught:
        run_folder_module.save_model(FullDisk(), tmp_path / "last.zip")
    assert caught.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []


def test_a_run_file_written_on_a_full_disk_is_named_and_leaves_no_temporary(tmp_path, monkeypatch):
    """config.json on a full disk: "placer: error: No space left on device" named no file and
    left config.json.tmp behind."""
    import errno

    def full_disk(text):  # type: ignore[no-untyped-def]
        def write(temporary):  # type: ignore[no-untyped-def]
            temporary.write_text(text[:10])
            raise OSError(errno.ENOSPC, "No space left on device")

        return write

    monkeypatch.setattr(run_folder_module, "text_writer", full_disk)
    with pytest.raises(OSError, match="No space left on device") as caught:
        run_folder_module.write_run_json(tmp_path / "config.json", {"a": 1})
    assert caught.value.filename == str(tmp_path / "config.json")
    assert list(tmp_path.iterdir()) == []


def test_resume_cli_says_a_live_run_is_busy_and_a_damaged_config_is_one_line(tmp_path):
    """--resume into a folder a live run writes said "no last.zip ... remove the folder"; a
    config.json with "netlists": null was a TypeError traceback."""
    from typer.testing import CliRunner

    from placer.cli import app
    from placer.folder_lock import exclusive_folder

    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"out": str(out), "netlists": ["a"]}))
    with exclusive_folder(out):
        result = CliRunner().invoke(app, ["train", "--out", str(out), "--resume"])
    assert result.exit_code == 2 and "in use by pid" in result.stderr, result.output
    (out / "last.zip").write_bytes(b"")
    (out / "config.json").write_text(json.dumps({"out": str(out), "netlists": None}))
    result = CliRunner().invoke(app, ["train", "--out", str(out), "--resume"])
    assert result.exit_code == 2 and "netlists must be a list of paths" in result.stderr, result.output
    assert "Traceback" not in result.output
    # a setting it does not know and a file that is no object, in words of the run's files
    (out / "config.json").write_text(json.dumps({"out": str(out), "bogus": 1}))
    result = CliRunner().invoke(app, ["train", "--out", str(out), "--resume"])
    assert result.exit_code == 2 and "config.json: not a training config (unknown setting 'bogus')" in result.stderr
    (out / "config.json").write_text("[1, 2]")
    result = CliRunner().invoke(app, ["train", "--out", str(out), "--resume"])
    assert result.exit_code == 2 and "config.json: damaged (not a JSON object); restore it" in result.stderr


def test_a_damaged_checkpoint_says_how_to_resume_from_an_earlier_one(tiny_design, tmp_path):
    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=64, checkpoint_every=1000, eval_every=1000, **TINY)
    train(cfg, progress_bar=False, designs=[tiny_design])
    (out / "last.zip").write_bytes(b"damaged")
    (out / train_module.LAST_STATE).unlink()
    with pytest.raises(ValueError, match=r"copy one of .*step_\*\.zip over last.zip and remove last_state.pkl"):
        train(TrainConfig(**{**cfg.__dict__, "timesteps": 128}), progress_bar=False, designs=[tiny_design], resume=True)


def test_a_ctrl_c_during_a_checkpoint_waits_for_the_checkpoint(tmp_path, monkeypatch):
    """A second Ctrl-C landing inside the save broke it off (last.zip of an older step, while
    the message said the run was saved)."""
    import signal

    written = []

    def save(model, path):
        if not written:
            signal.raise_signal(signal.SIGINT)  # the second Ctrl-C, mid-save
        written.append(path.name)

    monkeypatch.setattr(run_folder_module, "save_model", save)
    with pytest.raises(KeyboardInterrupt):
        run_folder_module.save_checkpoint(object(), tmp_path, 7)
    assert written == ["step_7.zip", "last.zip"]  # both written, then the interrupt


def test_rl_says_when_the_episodes_left_no_time_to_refine(trained_run, tiny_design):
    """The episodes can take the whole budget (a fresh process's first one): the soft macros
    then went unrefined, silently, and experiment rows reported the FD cost as final."""
    from placer.algorithms.base import Deadline, get_placer
    from placer.rl.inference import env_for_model, load_model, place_and_refine

    _, out = trained_run
    notes: list[str] = []
    get_placer("rl", model=str(out), soft_refine=True).place(
        *tiny_design, 1e-4, seed=0, progress=lambda p: notes.append(p.message))
    assert any("the soft macros were not refined" in n for n in notes), notes
    model = load_model(out)
    env = env_for_model(model, *tiny_design, model_path=out)
    _, info = place_and_refine(model, env, Deadline(1e-4), soft_refine=True)
    assert info["refined"] is False and info["proxy"] == info["fd_proxy"]
    _, info = place_and_refine(model, env, Deadline(30), soft_refine=True, refine_options={"max_steps": 50})
    assert info["refined"] is True


def test_rl_episodes_share_of_the_budget_counts_from_the_runs_start(trained_run, tiny_design, monkeypatch):
    """With soft_refine the episodes got a fresh Deadline of ``sample_share`` x budget made after
    the model's load: a load of 0.6 of the budget left them 0.5 of it more (to 1.1 under the
    default share), the refinement's share spent or the run overrunning. The load is stood for
    by the run's deadline started 0.6 x its budget early; the episodes' deadline is read where
    they receive it, so the machine's speed does not enter."""
    import placer.algorithms.refine as refine_module
    import placer.algorithms.rl as rl_module
    import placer.rl.inference as inference
    from placer.algorithms.base import Deadline, NoteCollector, get_placer

    _, out = trained_run
    seen: dict[str, float] = {}

    class LoadedLate(Deadline):
        """The run's deadline, 0.6 of its budget spent before the episodes (the model's load)."""

        def __init__(self, budget_s: float) -> None:
            super().__init__(budget_s)
            self.start -= 0.6 * self.budget_s
            seen["budget_s"] = self.budget_s

    real_episodes = inference.place_with_policy

    def episodes(model, env, samples, seed, deadline, progress):
        seen["episodes_expired"], seen["episodes_left_s"] = deadline.expired(), deadline.remaining()
        return real_episodes(model, env, samples, seed, deadline, progress)

    def refine(netlist, placement, budget_s, *args, **kwargs):
        seen["refine_s"] = budget_s
        return placement  # (its search is not what is tested)

    monkeypatch.setattr(rl_module, "Deadline", LoadedLate)
    monkeypatch.setattr(inference, "place_with_policy", episodes)
    monkeypatch.setattr(refine_module, "refine_soft_macros", refine)
    # the default share, 0.5, already spent by the load: the deterministic episode alone, and
    # the refinement gets the rest of the run's budget (0.4 of it)
    notes = NoteCollector()
    get_placer("rl", model=str(out), samples=3, soft_refine=True).place(*tiny_design, 1000, seed=0, progress=notes)
    budget = seen["budget_s"]
    assert seen["episodes_expired"] and seen["episodes_left_s"] == 0.0
    assert any("after 0 of the 3 sampled episodes" in text for text in notes.texts), notes.texts
    assert 0.3 * budget < seen["refine_s"] <= 0.4 * budget
    # a share of 0.8: the episodes get the 0.2 of the budget left of it, not 0.8 more
    seen.clear()
    get_placer("rl", model=str(out), samples=3, soft_refine=True, sample_share=0.8).place(*tiny_design, 1000, seed=0)
    budget = seen["budget_s"]
    assert not seen["episodes_expired"] and 0.1 * budget < seen["episodes_left_s"] <= 0.2 * budget


class _ExpiresAfter:
    """Stands for a :class:`~placer.algorithms.base.Deadline` whose ``expired()`` turns true
    after its first ``calls`` checks: a cut at a known point, whatever the machine's speed."""

    def __init__(self, budget_s: float, calls: int) -> None:
        from placer.algorithms.base import Deadline

        self.real, self.calls_left = Deadline(budget_s), calls
        self.budget_s = self.real.budget_s

    def expired(self) -> bool:
        self.calls_left -= 1
        return self.calls_left < 0

    def elapsed(self) -> float:
        return self.real.elapsed()

    def fraction(self) -> float:
        return self.real.fraction()

    def remaining(self) -> float:
        return self.real.remaining()


def test_rl_says_when_the_budget_cut_its_sampled_episodes(trained_run, tiny_design):
    """The deadline stopped the sampled episodes without a word: `--option samples=100000
    --budget-s 3` kept the best of however many ran, another count in every run."""
    from placer.algorithms.base import NoteCollector
    from placer.rl.inference import env_for_model, load_model, place_and_refine

    _, out = trained_run
    model = load_model(out)
    env = env_for_model(model, *tiny_design, model_path=out)
    notes = NoteCollector()
    best, _ = place_and_refine(model, env, _ExpiresAfter(600, 0), samples=5, progress=notes)
    assert best is not None  # the deterministic episode always runs
    said = [text for text in notes.texts if "not reproducible" in text]
    assert len(said) == 1 and "after 0 of the 5 sampled episodes (samples)" in said[0], notes.texts
    notes = NoteCollector()  # all of them within the budget: nothing said
    place_and_refine(model, env, _ExpiresAfter(600, 10**9), samples=2, progress=notes)
    assert not any("not reproducible" in text for text in notes.texts), notes.texts


def test_rl_passes_on_the_notes_of_its_soft_macro_refinement(trained_run, tiny_design, monkeypatch):
    """refine_soft_macros was called without the progress callback, so its note that the
    budget cut it short of max_steps was dropped (default design, 3 s: two proxies, no note),
    on the policy's placement and on a design the policy cannot place alike."""
    import placer.algorithms.anneal as anneal_module
    from placer.algorithms.base import NoteCollector, get_placer

    _, out = trained_run
    # the search's 40 start-temperature checks, then 60 proposals of its 10**9
    monkeypatch.setattr(anneal_module, "Deadline", lambda budget_s: _ExpiresAfter(budget_s, 100))
    soft_only = generate(0, 10, 6, seed=2)  # nothing for the policy: its soft macros are refined
    for netlist, placement in (tiny_design, soft_only):
        notes = NoteCollector()
        get_placer("rl", model=str(out), soft_refine=True, refine={"max_steps": 10**9}).place(
            netlist, placement, 600, seed=0, progress=notes)
        assert any("of max_steps 1,000,000,000 proposals" in text and "not reproducible" in text
                   for text in notes.texts), notes.texts


def test_a_sampled_episode_repeats_for_its_seed_and_keeps_the_callers_random_state(trained_run, tiny_design):
    """The seed only seeded env.reset: sampled actions came from torch's global generator (two
    calls differed), and place_with_policy reseeded that generator for its caller."""
    from placer.rl.inference import env_for_model, load_model

    _, out = trained_run
    model = load_model(out)
    env = env_for_model(model, *tiny_design, model_path=out)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = monitor_module.run_episode(model, env, False, 3)["placement"]
    assert torch.equal(torch.get_rng_state(), state)  # the caller's random state is its own
    torch.manual_seed(999)
    again = monitor_module.run_episode(model, env, False, 3)["placement"]
    assert np.array_equal(first.x, again.x) and np.array_equal(first.y, again.y)


def test_a_design_too_large_for_the_model_says_what_would_place_it(trained_run, tiny_design):
    """The refusal advised passing a larger max_nodes, which a model of fixed input sizes refuses."""
    from placer.rl.inference import env_for_model, load_model

    _, out = trained_run
    model = load_model(out)
    big = generate(TINY["max_nodes"] + 1, 6, 4, seed=5)
    with pytest.raises(ValueError, match="this model takes at most 8: a model trained with a larger --max-nodes") as caught:
        env_for_model(model, *big, model_path=out)
    assert "pass max_nodes" not in str(caught.value)


def test_train_takes_a_built_in_design_name_and_says_what_best_is_chosen_by(tmp_path, monkeypatch):
    """--netlist default became <cwd>/default ('no such file'); with --w-timing the closing line
    named the best proxy, though best.zip is chosen by the weighted objective."""
    from typer.testing import CliRunner

    from placer.cli import app

    monkeypatch.chdir(tmp_path)
    args = ["train", "--netlist", "default", "--timesteps", "64", "--w-timing", "2", "--timing-metric", "tail",
            "--set", "n_steps=64",
            "--set", "batch_size=32", "--set", "n_epochs=1", "--n-envs", "1", "--no-progress", "--out", "run",
            "--eval-every", "64", "--checkpoint-every", "1000", "--max-grid", "16", "--threads", "1"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["netlists"] == ["default"] and config["timing_metric"] == "tail"
    best = json.loads((tmp_path / "run" / "best.json").read_text())
    from netlists.formats.plc import read_plc
    from netlists.generate import default_design
    from placer.cost.timing import timing_cost

    netlist = default_design()[0]
    assert best["cost"]["timing"] == pytest.approx(timing_cost(netlist, read_plc(tmp_path / "run" / "best.plc", netlist)[1]).tail, rel=1e-12)
    assert f"best evaluation objective {best['objective']:.4f} (proxy {best['proxy']:.4f})" in " ".join(result.output.split())


def test_an_emptied_curve_gets_its_header_again(tiny_design, tmp_path, monkeypatch):
    monitor = stubbed_monitor(tiny_design, tmp_path, monkeypatch)
    (tmp_path / "run" / "curve.csv").write_text("")  # (a copy cut short, a disk that was full)
    monitor.evaluate()
    assert (tmp_path / "run" / "curve.csv").read_text().splitlines()[0] == ",".join(run_folder_module.CURVE_COLUMNS)


def stubbed_monitor(tiny_design, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A TrainingMonitor of a run in tmp_path/run at step 64 whose evaluation episodes score
    proxy = objective = 0.9 and whose saves write placeholders (no model, no env steps)."""
    from stable_baselines3.common.logger import Logger

    monkeypatch.setattr(monitor_module, "run_episode", lambda *a, **k: {
        "cost": {"proxy": 0.9, "objective": 0.9}, "placement": tiny_design[1], "design": "d"})
    cfg = TrainConfig(out=str(tmp_path / "run"), timesteps=64, **TINY)
    monitor = train_module.TrainingMonitor(cfg, tiny_design)
    monitor.model = type("M", (), {"num_timesteps": 64, "logger": Logger(None, []), "save": lambda self, f, **kw: f.write(b"model")})()
    monkeypatch.setattr(monitor.eval_env, "write_plc", lambda path, placement, file_name=None: path.write_text("plc"))
    (tmp_path / "run").mkdir()
    return monitor


def test_the_sampled_episode_kept_is_the_best_by_the_models_objective(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A model trained with a timing weight had its episodes picked by proxy alone: the one
    its reward ranked best lost to one with a lower proxy and a longer worst path."""
    from placer.rl import inference, monitor

    episodes = {0: {"proxy": 1.0, "objective": 1.5}, 1: {"proxy": 1.1, "objective": 1.2},
                2: {"proxy": 0.9, "objective": 1.4}}

    def fake_episode(model, env, deterministic, seed, stop=None):  # type: ignore[no-untyped-def]
        return {"placement": f"episode {seed}", "cost": episodes[seed]}

    monkeypatch.setattr(monitor, "run_episode", fake_episode)
    best, info = inference.place_with_policy(object(), object(), samples=2, seed=0)  # type: ignore[arg-type]
    assert best == "episode 1" and info["cost"]["proxy"] == 1.1


def _train_raising_at_200(tiny_design, tmp_path, monkeypatch, error: BaseException) -> list:  # type: ignore[no-untyped-def]
    """Train with a recorded progress bar until step 200, where ``error`` is raised; the bars."""
    cfg = TrainConfig(out=str(tmp_path / "run"), timesteps=4096, checkpoint_every=10_000, eval_every=64,
                      time_limit_s=3600.0, **TINY)
    original = train_module.TrainingMonitor._on_step
    bars = []

    class RecordedBar(train_module.PhaseProgressBar):
        def _on_training_start(self) -> None:
            super()._on_training_start()
            bars.append(self)

    def raise_at_200(self):  # type: ignore[no-untyped-def]
        if self.num_timesteps >= 200:
            raise error
        return original(self)

    monkeypatch.setattr(train_module, "PhaseProgressBar", RecordedBar)
    monkeypatch.setattr(train_module, "has_progress_bar", lambda: True)
    monkeypatch.setattr(train_module.TrainingMonitor, "_on_step", raise_at_200)
    with pytest.raises(type(error)):
        train(cfg, progress_bar=True, designs=[tiny_design])
    return bars


def test_an_interrupt_closes_the_progress_bar_before_saying_what_was_saved(tiny_design, tmp_path, monkeypatch, capsys):
    """learn() left its progress bar live on Ctrl-C: the saved-at line was drawn into it."""
    bars = _train_raising_at_200(tiny_design, tmp_path, monkeypatch, KeyboardInterrupt())
    assert bars[0]._time_limit_s == 3600.0  # the bar's time left ends at the run's own limit
    assert len(bars) == 1 and bars[0].pbar.disable  # closed
    assert "at step 192 (the last completed update" in capsys.readouterr().err  # (status: stderr)


def test_a_diverged_run_closes_the_progress_bar_too(tiny_design, tmp_path, monkeypatch):
    """Only a Ctrl-C closed the bar: the one-line 'diverged' error was drawn into it."""
    bars = _train_raising_at_200(tiny_design, tmp_path, monkeypatch, ValueError("something broke inside a rollout"))
    assert len(bars) == 1 and bars[0].pbar.disable


def test_tensorboard_shows_each_evaluation_at_the_step_curve_csv_gives_it(tiny_design, tmp_path):
    """Evaluations were only recorded: SB3 wrote them at the end of the next rollout, under its
    later step count, and the run's last evaluation never reached TensorBoard."""
    import csv

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=192, checkpoint_every=1000, eval_every=64, **TINY)
    train(cfg, progress_bar=False, designs=[tiny_design])
    with (out / "curve.csv").open(newline="") as f:
        curve = [(int(row["steps"]), float(row["eval_proxy"])) for row in csv.DictReader(f)]
    events = EventAccumulator(str(next((out / "tb").glob("ppo*"))))
    events.Reload()
    logged = [(e.step, e.value) for e in events.Scalars("eval/proxy")]
    assert [step for step, _ in logged] == [step for step, _ in curve] == [0, 64, 128, 192]
    assert [value for _, value in logged] == pytest.approx([value for _, value in curve], rel=1e-6)
    assert "train/loss" in events.Tags()["scalars"]  # SB3's own values still written


def test_a_model_whose_grid_caps_the_designs_own_says_so(tiny_design):
    """A model with a small max_grid placed a larger design on its coarse grid without a word."""
    from placer.algorithms.grid_state import auto_grid
    from placer.rl.inference import _note_a_coarser_grid

    netlist = tiny_design[0]
    own = auto_grid(netlist, 64)
    assert max(own) > 8  # (11 x 11)
    notes: list[str] = []
    _note_a_coarser_grid(netlist, 8, notes.append)
    assert len(notes) == 1 and f"coarser than the {own[0]} x {own[1]} of the default max_grid 64" in notes[0]
    _note_a_coarser_grid(netlist, 16, notes.append)
    assert len(notes) == 1  # its grid fits: nothing to say
    from netlists.designs import load_builtin

    _note_a_coarser_grid(load_builtin("ariane133")[0], 64, notes.append)
    assert len(notes) == 1  # the default caps by design: no note for every default model


def test_a_resume_whose_writer_count_passes_nine_keeps_its_own_tensorboard_steps(tiny_design, tmp_path, monkeypatch):
    """The session start that hides a stopped run's later steps was an event file of its own,
    TensorBoard reads a folder's files in name order, and within one second and one process
    the writers' counts compare as text: the resumed run's ``.10`` sorted before the session
    start's ``.9``, which then hid the resumed run's own steps past the checkpoint too."""
    import shutil

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.summary.writer import event_file_writer

    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=128, checkpoint_every=64, eval_every=64, **TINY)
    train(cfg, progress_bar=False, designs=[tiny_design])
    shutil.copy(out / "checkpoints" / "step_64.zip", out / "last.zip")
    (out / train_module.LAST_STATE).unlink()
    monkeypatch.setattr(event_file_writer, "_global_uid", event_file_writer.AtomicCounter(9))
    train(cfg, progress_bar=False, designs=[tiny_design], resume=True)
    events = EventAccumulator(str(out / "tb" / "ppo_0"))
    events.Reload()
    assert [e.step for e in events.Scalars("eval/proxy")] == [0, 64, 128]
    assert not list((out / "tb").glob(".purge-*"))  # (the session start's scratch folder)


def test_a_resumed_run_hides_what_the_stopped_one_logged_past_its_checkpoint(tiny_design, tmp_path):
    """curve.csv dropped the rows logged past the checkpoint a run resumed from; TensorBoard
    kept them and showed the resumed run's values beside them."""
    import shutil

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=128, checkpoint_every=64, eval_every=64, **TINY)
    train(cfg, progress_bar=False, designs=[tiny_design])
    shutil.copy(out / "checkpoints" / "step_64.zip", out / "last.zip")  # the README's way back
    (out / train_module.LAST_STATE).unlink()
    train(cfg, progress_bar=False, designs=[tiny_design], resume=True)
    events = EventAccumulator(str(out / "tb" / "ppo_0"))
    events.Reload()
    assert [e.step for e in events.Scalars("eval/proxy")] == [0, 64, 128]
    assert len({e.step for e in events.Scalars("rollout/ep_rew_mean")}) == len(events.Scalars("rollout/ep_rew_mean"))


def test_a_suite_run_begun_before_bookshelf_designs_counted_says_why_it_cannot_resume(tmp_path, design_writer):
    """A suite's Bookshelf folders are designs now; a run begun before did not train on them,
    and its resume read only 'the training designs changed' as if the user had changed them."""
    from netlists.formats.bookshelf import write_bookshelf

    suite = tmp_path / "suite"
    design_writer(suite / "ct", 4, "ct", n_soft=6)
    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), suite=str(suite), timesteps=60, checkpoint_every=1000, eval_every=1000, **EXACT)
    train(cfg, progress_bar=False)
    write_bookshelf(*generate(3, 6, 4, seed=7, name="bs"), suite / "bs_folder", "bs")  # (named by its .aux)
    with pytest.raises(ValueError, match=r"the suite's Bookshelf designs, bs, are found since 2026-12-05"):
        train(TrainConfig(**{**cfg.__dict__, "timesteps": 120}), progress_bar=False, resume=True)
    design_writer(suite / "ct2", 5, "ct2", n_soft=6)  # another change beside it: not that note
    with pytest.raises(ValueError, match=r"the training designs changed since the run started \(was ct; now bs, ct, ct2\): restore"):
        train(TrainConfig(**{**cfg.__dict__, "timesteps": 120}), progress_bar=False, resume=True)


def test_train_says_when_nothing_beat_the_untrained_policy_and_names_what_a_resume_clashes_with(tmp_path, monkeypatch):
    """A 5-minute run whose best was step 0 ended on "best evaluation proxy 0.8016 at step 0"
    alone; a --resume in another run's folder did not say what that run trains on; a misspelt
    design was "<cwd>/defualt: no such file" (eval and place name the built-in designs)."""
    from dataclasses import asdict

    from typer.testing import CliRunner

    from placer.cli import app

    monkeypatch.chdir(tmp_path)

    def trained_nothing(config, **kwargs):  # type: ignore[no-untyped-def]  # best.json as a run whose best is step 0
        out = Path(config.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(asdict(config)))
        (out / "last.zip").write_text("model")
        (out / "best.json").write_text(json.dumps({"proxy": 0.8016, "objective": 0.8016, "steps": 0}))

    monkeypatch.setattr(train_module, "train", trained_nothing)
    runner = CliRunner()
    done = runner.invoke(app, ["train", "--netlist", "default", "--timesteps", "64", "--no-progress", "--out", "run"],
                         env={"COLUMNS": "300"})
    assert done.exit_code == 0, done.output
    assert "no later evaluation beat the untrained policy (step 0)" in " ".join(done.output.split())
    clash = runner.invoke(app, ["train", "--netlist", "ariane133", "--resume", "--out", "run"], env={"COLUMNS": "300"})
    assert clash.exit_code == 2 and "--netlist (the run's: default) cannot change a run being resumed" in " ".join(
        clash.output.split())
    typo = runner.invoke(app, ["train", "--netlist", "defualt", "--timesteps", "64", "--out", "other"],
                         env={"COLUMNS": "300"})
    assert typo.exit_code == 2 and "defualt: no such file (or built-in design: ariane133, default)" in " ".join(
        typo.output.split())


def test_placing_with_an_untrained_model_or_one_of_other_designs_is_noted(trained_run, tiny_design):
    """placer place --algo rl with a run whose best.zip was its step-0 policy, or on a design
    the run never trained on, said neither."""
    from placer.rl.inference import load_model, model_notes

    _, out = trained_run
    model = load_model(out / "last.zip")
    assert model_notes(model, out / "last.zip", tiny_design[0]) == []  # trained, on this design
    other = generate(5, 8, 6, seed=3, name="another")[0]
    assert model_notes(model, out / "last.zip", other) == [
        f"the model was trained on {tiny_design[0].name}, not on another (its run's designs.json)"]
    model.num_timesteps = 0
    assert "untrained policy, saved at step 0" in model_notes(model, out / "checkpoints" / "step_128.zip", tiny_design[0])[0]


def test_a_model_of_an_older_observation_layout_is_named_as_such(trained_run, tiny_design, tmp_path, monkeypatch):
    """A model from before the density channel (6 grid channels) loaded, then failed in SB3's
    words ("use (6, 64, 64) for the observation shape"); a resume of its run also suggested
    copying an earlier checkpoint, every one of which is as old."""
    import shutil

    import gymnasium as gym
    from sb3_contrib import MaskablePPO

    from placer.algorithms.base import get_placer
    from placer.rl.inference import IncompatibleModel

    cfg, out = trained_run
    run = tmp_path / "old_run"
    shutil.copytree(out, run)
    real = MaskablePPO.load(run / "last.zip", device="cpu")
    spaces = dict(real.observation_space.spaces)
    grid = spaces["grid"]
    spaces["grid"] = gym.spaces.Box(0.0, 1.0, (grid.shape[0] - 1, *grid.shape[1:]), np.float32)
    real.observation_space = gym.spaces.Dict(spaces)
    monkeypatch.setattr(MaskablePPO, "load", classmethod(lambda cls, *a, **k: real))
    message = r"made by an older placer-gym: it observes 6 grid channels, this version's environment 7 .*train a new model"
    with pytest.raises(IncompatibleModel, match=message):
        get_placer("rl", model=str(run)).place(*tiny_design, 10, seed=0)
    cfg2 = TrainConfig(**{**cfg.__dict__, "out": str(run), "timesteps": 320})
    with pytest.raises(IncompatibleModel, match=message) as info:
        train(cfg2, progress_bar=False, designs=[tiny_design], resume=True)
    assert "copy one of" not in str(info.value)


def test_best_files_are_written_as_one_set(tmp_path, monkeypatch):
    """best.zip, best.plc and best.json were written one after the other: a kill or a full disk
    between them left a new best.zip beside the older best.plc and best.json. Now all three are
    staged, then renamed together; a failure while staging leaves the earlier set whole."""
    import errno

    out = tmp_path / "run"
    out.mkdir()
    for name in ("best.zip", "best.plc", "best.json"):
        (out / name).write_text(f"old {name}")

    class Model:
        def save(self, f, **kwargs) -> None:  # type: ignore[no-untyped-def]
            f.write(b"new model")

    class Env:
        def write_plc(self, path, placement, file_name=None):  # type: ignore[no-untyped-def]
            assert file_name == "best.plc"  # (the header names the file, not its staging name)
            path.write_text("new plc")

    def full_disk(text):  # type: ignore[no-untyped-def]
        def write(temporary):  # type: ignore[no-untyped-def]
            raise OSError(errno.ENOSPC, "No space left on device")
        return write

    with monkeypatch.context() as patch:
        patch.setattr(run_folder_module, "text_writer", full_disk)
        with pytest.raises(OSError, match="best.json"):
            run_folder_module.save_best(Model(), Env(), out, None, {"proxy": 0.5})
    assert sorted(p.name for p in out.iterdir()) == ["best.json", "best.plc", "best.zip"]  # no temporaries
    assert [(out / n).read_text() for n in ("best.zip", "best.plc", "best.json")] == [
        "old best.zip", "old best.plc", "old best.json"]  # fmt: skip
    run_folder_module.save_best(Model(), Env(), out, None, {"proxy": 0.5})
    assert (out / "best.zip").read_bytes() == b"new model" and (out / "best.plc").read_text() == "new plc"
    assert json.loads((out / "best.json").read_text()) == {"proxy": 0.5}


def test_a_run_file_that_cannot_be_read_is_not_called_damaged(tmp_path, monkeypatch):
    """A config.json this user may not read was called damaged ("restore it or start a new run")."""
    from pathlib import Path

    from placer.rl.run_folder import read_run_json

    path = tmp_path / "config.json"
    path.write_text("{}")

    def denied(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(ValueError, match=r"config.json: cannot be read \(Permission denied\)$"):
        read_run_json(path)
    monkeypatch.undo()
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ValueError, match="config.json: damaged"):
        read_run_json(path)


def test_keep_checkpoints_keeps_the_newest_and_a_resume_may_change_it(tiny_design, tmp_path):
    """Every checkpoints/step_N.zip stayed (a 10M-step run at the default 10k steps: ~1,000
    files, ~2 GB); keep_checkpoints=K keeps the newest K, and a resume may change K."""
    out = tmp_path / "run"
    settings = {**TINY, "n_envs": 1, "n_steps": 32, "batch_size": 32}
    cfg = TrainConfig(out=str(out), timesteps=160, checkpoint_every=32, eval_every=1000, keep_checkpoints=2, **settings)
    train(cfg, progress_bar=False, designs=[tiny_design])
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_128.zip", "step_160.zip"]
    assert (out / "last.zip").is_file() and (out / "best.zip").is_file()
    again = TrainConfig(**{**cfg.__dict__, "timesteps": 224, "keep_checkpoints": 0})
    train(again, progress_bar=False, designs=[tiny_design], resume=True)
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "step_128.zip", "step_160.zip", "step_192.zip", "step_224.zip"]
    with pytest.raises(ValueError, match="keep_checkpoints must be a whole number >= 0, got -1"):
        TrainConfig(out="x", keep_checkpoints=-1, device="cpu").validate()


def test_verbose_0_leaves_out_trains_lines_and_the_next_call_says_them_again(tiny_design, tmp_path, capsys):
    """A library caller (a notebook, a sweep script) had no way to silence train()'s lines."""
    out = tmp_path / "run"
    cfg = TrainConfig(out=str(out), timesteps=64, checkpoint_every=64, eval_every=64, **TINY)
    train(cfg, progress_bar=False, designs=[tiny_design], verbose=0)
    (out / train_module.LAST_STATE).unlink()  # a resume with fresh seeds would say so
    train(TrainConfig(**{**cfg.__dict__, "timesteps": 128}), progress_bar=False, designs=[tiny_design],
          resume=True, verbose=0)
    train(TrainConfig(**{**cfg.__dict__, "timesteps": 128}), progress_bar=False, designs=[tiny_design],
          resume=True, verbose=0)  # finished already
    said = capsys.readouterr()
    assert (said.out, said.err) == ("", "") and (out / "last.zip").exists()
    train(TrainConfig(**{**cfg.__dict__, "timesteps": 128}), progress_bar=False, designs=[tiny_design], resume=True)
    assert "has finished: step 128 of 128" in capsys.readouterr().out  # the default says it again


def test_each_threads_train_call_keeps_its_own_verbose(monkeypatch):
    """verbose is the calling thread's setting: a process-wide one let a quiet train() in one
    thread silence (or unsilence) another thread's."""
    import threading

    both_inside = threading.Barrier(2, timeout=30)
    seen: dict[int, int] = {}

    def fake_train(config, progress_bar, designs, resume):
        both_inside.wait()  # both calls have set their verbose before either reads it
        seen[config] = train_module._VERBOSE.get()
        both_inside.wait()
        return config

    monkeypatch.setattr(train_module, "_train", fake_train)
    threads = [threading.Thread(target=train, args=(verbose,), kwargs={"verbose": verbose}) for verbose in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert seen == {0: 0, 1: 1}


def test_a_state_from_another_version_or_of_another_kind_says_which(trained_run, tmp_path):
    """An unreadable last_state.pkl was said to be "damaged, or from another version" with
    no word of which (the excepts audit): the reason is named."""
    import dataclasses
    import pickle

    from placer.rl.resume import STATE_VERSION, load_state, read_state

    _, out = trained_run
    state = load_state(out / train_module.LAST_STATE)
    older = tmp_path / "older.pkl"
    older.write_bytes(pickle.dumps(dataclasses.replace(state, version=STATE_VERSION - 1)))
    assert read_state(older) == (None, f"from another version: state version {STATE_VERSION - 1}, "
                                       f"this one reads {STATE_VERSION}")
    other = tmp_path / "other.pkl"
    other.write_bytes(pickle.dumps({"steps": 5}))
    assert read_state(other) == (None, "damaged: it holds a dict, not a training state")
    assert read_state(tmp_path / "none.pkl") == (None, "") and read_state(out / train_module.LAST_STATE)[1] == ""


@pytest.mark.parametrize(
    ("designs", "message"),
    [
        (["default"], r"designs\[0\] must be a \(Netlist, Placement\) pair, got str 'default' \(a design's name"),
        ("default", r"designs must be a list of \(Netlist, Placement\) pairs, got str 'default'"),
        ([], "designs is empty"),
    ],
)
def test_designs_that_are_no_pairs_are_refused_before_the_run_folder_is_written(tmp_path, tiny_design, designs, message):
    """designs=["default"] failed with "too many values to unpack" after config.json was
    written, and the corrected call was then refused as an earlier run."""
    from netlists.errors import InputError

    cfg = TrainConfig(out=str(tmp_path / "run"), timesteps=64, checkpoint_every=64, eval_every=64, **TINY)
    with pytest.raises(InputError, match=message):
        train(cfg, progress_bar=False, designs=designs, verbose=0)
    assert not (tmp_path / "run" / "config.json").exists()
    with pytest.raises(InputError, match=r"give one design as designs=\[\(netlist, placement\)\]"):
        train(cfg, progress_bar=False, designs=tiny_design, verbose=0)
    train(cfg, progress_bar=False, designs=[tiny_design], verbose=0)  # the corrected call runs
    assert (tmp_path / "run" / "last.zip").exists()


def test_a_designs_record_that_fails_leaves_no_config_json(tmp_path, tiny_design, monkeypatch):
    """config.json was written before the designs' record was made: a failure there left a run
    folder that blocked the corrected rerun."""

    def failing(*args):  # type: ignore[no-untyped-def]
        raise OSError("cannot read the design")

    monkeypatch.setattr(train_module, "designs_record", failing)
    cfg = TrainConfig(out=str(tmp_path / "run"), timesteps=64, checkpoint_every=64, eval_every=64, **TINY)
    with pytest.raises(OSError, match="cannot read the design"):
        train(cfg, progress_bar=False, designs=[tiny_design], verbose=0)
    assert not (tmp_path / "run" / "config.json").exists()


def test_env_processes_the_system_limit_keeps_from_starting_are_one_refusal_and_none_is_left(
        tiny_design, tmp_path, monkeypatch):
    """vec=subproc with n_envs 3 where the second env's process cannot start (fork's EAGAIN,
    simulated: root cannot meet RLIMIT_NPROC): one Unavailable naming the limit and what to do
    (it read as "cannot write the output: Resource temporarily unavailable"), and the first
    env's process, whose half-made vector env could not be closed, is stopped."""
    import errno
    import multiprocessing.process

    from netlists.errors import Unavailable
    from placer.rl.train import make_vec_env

    started: list = []
    start = multiprocessing.process.BaseProcess.start

    def second_fails(self):
        if started:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        start(self)
        started.append(self)

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", second_fails)
    config = TrainConfig(out=str(tmp_path / "run"), **{**TINY, "vec": "subproc", "n_envs": 3})
    with pytest.raises(Unavailable) as refused:
        make_vec_env([tiny_design], config, 0)
    assert str(refused.value) == (
        "cannot start the 3 environment processes of n_envs 3 with vec=subproc: the system's limit on "
        "threads/processes was met (Resource temporarily unavailable); try a smaller n_envs, or vec=dummy")
    assert len(started) == 1 and not started[0].is_alive()


def test_a_failed_env_start_stops_only_the_env_processes(tiny_design, tmp_path, monkeypatch):
    """The cleanup after a failed vec=subproc start stopped every new child process, also one a
    library caller's other thread had started meanwhile (the review)."""
    import errno
    import multiprocessing.process
    import time

    from netlists.errors import Unavailable
    from placer.rl.train import make_vec_env

    start = multiprocessing.process.BaseProcess.start
    theirs = multiprocessing.Process(target=time.sleep, args=(60,), daemon=True)
    envs: list = []

    def second_fails(self):
        if envs:
            start(theirs)  # another thread's process, started in the meantime
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        start(self)
        envs.append(self)

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", second_fails)
    config = TrainConfig(out=str(tmp_path / "run"), **{**TINY, "vec": "subproc", "n_envs": 2})
    try:
        with pytest.raises(Unavailable):
            make_vec_env([tiny_design], config, 0)
        assert not envs[0].is_alive() and theirs.is_alive()
    finally:
        if theirs.is_alive():
            theirs.terminate()
            theirs.join()


def test_sampled_episode_seeds_stay_in_torchs_range(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Seed 2**64 - 1 with samples >= 1 gave the first sampled episode 2**64, which
    torch.manual_seed refuses (exit 70): a sampled episode's seed wraps below 2**64 (torch and
    env.reset get the same one), distinct, and seeds in range, and the deterministic episode's,
    are as they were."""
    import torch

    from placer.rl import inference, monitor

    seeds: list[tuple[bool, int, int]] = []

    def fake_episode(model, env, deterministic, seed, stop):  # type: ignore[no-untyped-def]
        seeds.append((deterministic, seed, torch.initial_seed()))
        return {"placement": f"episode {seed}", "cost": {"objective": 1.0}}

    monkeypatch.setattr(monitor, "_episode", fake_episode)
    inference.place_with_policy(object(), object(), samples=3, seed=2**64 - 2)  # type: ignore[arg-type]
    assert [s[:2] for s in seeds] == [(True, 2**64 - 2), (False, 2**64 - 1), (False, 0), (False, 1)]
    assert [s[2] for s in seeds[1:]] == [2**64 - 1, 0, 1]  # torch's, seeded in each sampled episode
    seeds.clear()
    inference.place_with_policy(object(), object(), samples=2, seed=7)  # type: ignore[arg-type]
    assert [s[1] for s in seeds] == [7, 8, 9]
    seeds.clear()
    monitor.run_episode(object(), object(), deterministic=True, seed=2**64)  # type: ignore[arg-type]
    assert [s[1] for s in seeds] == [2**64]


def test_rl_samples_with_the_largest_seed_place(trained_run, tiny_design) -> None:  # type: ignore[no-untyped-def]
    from placer.algorithms.base import get_placer

    _, out = trained_run
    netlist, placement = tiny_design
    p = get_placer("rl", model=str(out), samples=2).place(netlist, placement, 30, seed=2**64 - 1)
    assert p.x.shape == placement.x.shape
