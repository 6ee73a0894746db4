"""ConfigTuning-v0 over SQLite: check_env, durable space, clear knob errors, failed trials."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401 - registers the ids
from envs.config_tuning import ConfigTuningEnv
from learned_systems.config.knobs import KnobError

TINY = dict(rows=2_000, duration_s=0.05, repeats=2)


@pytest.fixture(scope="module")
def template_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("templates")


@pytest.mark.parametrize("action_mode", ["box", "dict"])
def test_passes_check_env(action_mode, template_dir):
    env = gym.make(
        "placer/ConfigTuning-v0", action_mode=action_mode, template_dir=template_dir, **TINY
    )
    assert isinstance(env.unwrapped, ConfigTuningEnv)
    check_env(env.unwrapped, skip_render_check=True)


def test_box_actions_are_symmetric_as_sb3_expects(template_dir):
    """On a [0, 1] box PPO's first actions (centred on 0) were clipped to each knob's lowest
    value half the time: -1 is a knob's lowest value or first choice, 1 its highest or last,
    and ``KnobSpace.to_box`` gives the action of a configuration."""
    env = ConfigTuningEnv(template_dir=template_dir, **TINY)
    assert (env.action_space.low == -1).all() and (env.action_space.high == 1).all()
    space, n = env.space, len(env.space.knobs)
    assert env.decode(np.full(n, -1.0)) == space.from_unit(np.zeros(n))
    assert env.decode(np.zeros(n)) == space.from_unit(np.full(n, 0.5))
    assert env.decode(np.full(n, 7.0)) == space.from_unit(np.ones(n))  # (outside: clipped)
    wal = {**space.defaults(), "journal_mode": "WAL", "cache_size": 4096}
    assert env.decode(space.to_box(wal, symmetric=True)) == space.validate(wal)
    env.close()


def test_durable_space_by_default_and_unsafe_on_request(template_dir):
    durable = ConfigTuningEnv(template_dir=template_dir, **TINY)
    assert durable.space.name == "durable"
    assert "OFF" not in durable.space.knob("synchronous").choices
    assert {"OFF", "MEMORY"}.isdisjoint(durable.space.knob("journal_mode").choices)
    # Every action of the durable space decodes into a durable configuration.
    rng = np.random.default_rng(0)
    for _ in range(200):
        config = durable.decode(rng.random(len(durable.space.knobs)))
        assert config["synchronous"] != "OFF" and config["journal_mode"] not in ("OFF", "MEMORY")
    with pytest.raises(KnobError, match="allow_unsafe"):
        durable.run_config({"synchronous": "OFF"})
    unsafe = ConfigTuningEnv(template_dir=template_dir, allow_unsafe=True, **TINY)
    unsafe.reset(seed=0)
    result, reward = unsafe.run_config({"synchronous": "OFF", "journal_mode": "MEMORY"})
    assert result.ok and result.space == "unsafe" and reward > 0


def test_bad_knob_values_give_clear_errors(template_dir):
    env = ConfigTuningEnv(template_dir=template_dir, **TINY)
    with pytest.raises(KnobError, match="page_size"):
        env.run_config({"page_size": 3000})
    with pytest.raises(KnobError, match="cache_size.*integer"):
        env.run_config({"cache_size": "large"})
    for bad in (float("inf"), float("nan"), 10**30, 2.5, 10**5000):  # raw errors before
        with pytest.raises(KnobError, match=r"cache_size': expected an integer in \[256, "):
            env.run_config({"cache_size": bad})
    with pytest.raises(KnobError, match="unknown knob 'shared_buffers'"):
        env.run_config({"shared_buffers": 128})


def test_reward_is_throughput_relative_to_defaults(template_dir):
    env = ConfigTuningEnv(template_dir=template_dir, workload="ycsb-a", **TINY)
    _, info = env.reset(seed=0)
    assert info["reference_ok"] and info["reference_throughput"] > 0
    _, reward, _, _, step_info = env.step(
        env.space.to_box({"journal_mode": "WAL", "synchronous": "NORMAL"}, symmetric=True)
    )
    assert step_info["ok"] and step_info["space"] == "durable"
    assert reward == pytest.approx(step_info["throughput_mean"] / info["reference_throughput"])
    assert step_info["config"]["journal_mode"] == "WAL"


class _BrokenWorkload:
    """Stands in for a workload whose transactions fail (e.g. a query error)."""

    name = "broken"
    read_only = False

    def template_key(self) -> str:
        return "broken"

    def setup(self, conn, seed):
        conn.execute("CREATE TABLE t (x)")

    def prepare(self, seed):
        pass

    def transaction(self, conn):
        conn.execute("SELECT * FROM missing_table")
        return 1


def test_failed_trial_is_recorded_not_raised(tmp_path):
    from learned_systems.config.sqlite_backend import SQLiteBackend

    backend = SQLiteBackend(_BrokenWorkload(), duration_s=0.05, repeats=1, template_dir=tmp_path)
    env = ConfigTuningEnv(backend=backend)
    _, info = env.reset(seed=0)
    assert info["reference_ok"] is False
    assert "missing_table" in info["reference_error"]  # (it said only reference_ok: False)
    _, reward, _, _, step_info = env.step(env.action_space.sample())
    assert reward == 0.0 and step_info["ok"] is False
    assert "missing_table" in step_info["error"] and "missing_table" in step_info["reference_error"]


def test_step_before_reset_and_bad_mixed_actions_are_refused(template_dir):
    env = ConfigTuningEnv(action_mode="dict", template_dir=template_dir, **TINY)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(env.action_space.sample())
    with pytest.raises(ValueError, match=r"unknown reset options \['workload'\]"):
        env.reset(seed=0, options={"workload": "ycsb-a"})  # not silently the env's own workload
    good = env.action_space.sample()
    for knob, value, message in [
        ("journal_mode", -1, "choice index 0...3, got -1"),
        ("journal_mode", 99, "choice index"),
        ("journal_mode", 1.7, "choice index"),
        ("cache_size", np.array([np.nan]), "bad action value nan"),
        ("journal_mode", "WAL", "must be a choice index, got 'WAL'"),  # was numpy's message
        ("journal_mode", True, "must be a choice index, got True"),  # was read as index 1
        ("cache_size", None, r"must be a number in \[0, 1\], got None"),
    ]:
        with pytest.raises(KnobError, match=message):
            env.decode({**good, knob: value})
    with pytest.raises(KnobError, match=r"missing: \['journal_mode'\]"):
        env.decode({k: v for k, v in good.items() if k != "journal_mode"})
    box = ConfigTuningEnv(template_dir=template_dir, **TINY)
    for bad in (np.nan, np.inf):  # infinity used to be clipped to the knob's top silently
        with pytest.raises(KnobError, match="action values must be finite"):
            box.decode(np.full(len(box.space.knobs), bad))
    n = len(box.space.knobs)
    for bad, message in [
        (np.full((n, 1), 0.5), rf"shape \({n},\), one value per knob, got \({n}, 1\)"),  # was flattened
        (np.full(n + 1, 0.5), rf"got \({n + 1},\)"),
        (None, "must be an array of numbers, got None"),  # was reported as 'got [nan]'
        (["a"] * n, "must be an array of numbers"),
    ]:
        with pytest.raises(KnobError, match=message):
            box.decode(bad)
    with pytest.raises(KnobError, match="bad action value inf"):  # the same in dict mode
        env.decode({**good, "cache_size": np.array([np.inf])})


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"duration_s": float("nan")}, "duration_s must be a finite number"),
        ({"duration_s": "1"}, "duration_s must be a finite number, got '1'"),
        ({"duration_s": 0}, "duration_s must be a finite number of seconds > 0"),
        ({"repeats": float("nan")}, "repeats must be a whole number >= 1, got nan"),
        ({"repeats": 1.5}, "repeats must be a whole number >= 1, got 1.5"),
        ({"horizon": float("nan")}, "horizon must be a whole number >= 1, got nan"),
        ({"clients": 4}, "unknown option 'clients' for sqlite"),
        ({"workload": "orders", "ops_per_transaction": 5}, "ops_per_transaction sizes the YCSB"),
        ({"rows": 0}, "rows must be a whole number >= 100"),
        ({"seed": -1}, "seed must be a whole number >= 0"),
        ({"seed": None}, "seed must be a whole number >= 0, got None"),  # (a TypeError)
        ({"seed": 1.5}, "seed must be a whole number >= 0, got 1.5"),  # (taken as seed 1)
        # the text "false" is truthy: it opened the settings that lose committed data
        ({"allow_unsafe": "false"}, "allow_unsafe must be True or False, got 'false'"),
        ({"allow_unsafe": 0}, "allow_unsafe must be True or False, got 0"),
        ({"ops_per_transaction": 0}, "ops_per_transaction must be"),
        ({"ops_per_transaction": float("inf")}, "ops_per_transaction must be a whole number >= 1, got inf"),
        ({"rows": float("nan")}, "rows must be a whole number >= 100, got nan"),
        ({"render_mode": "human"}, "unsupported render_mode"),
    ],
)
def test_bad_settings_are_refused_at_construction(setting, message):
    with pytest.raises(ValueError, match=message):
        ConfigTuningEnv(**{**TINY, **setting})


def test_close_removes_the_templates_it_made():
    import copy

    env = ConfigTuningEnv(**TINY)
    env.reset(seed=0)
    folder = env.objective.inner.backend.template_dir
    assert any(folder.iterdir())
    assert isinstance(copy.deepcopy(env), ConfigTuningEnv)
    env.close()
    assert not folder.exists()
    env.close()  # twice is fine
    # a step after close() silently rebuilt the templates and left them on disk
    with pytest.raises(RuntimeError, match="this environment is closed"):
        env.step(np.zeros(len(env.space.knobs), np.float32))
    with pytest.raises(RuntimeError, match="this environment is closed"):
        env.reset(seed=0)
    # run_config too: it measured, and the backend rebuilt its template where no sweep looks
    with pytest.raises(RuntimeError, match="this environment is closed"):
        env.run_config({"journal_mode": "WAL"})
    for closed_call in (lambda b: b.run_trial({"journal_mode": "WAL"}), lambda b: b.template()):
        with pytest.raises(RuntimeError, match="this SQLite backend is closed"):
            closed_call(env.objective.inner.backend)
    assert not folder.exists()


def test_a_copy_of_an_env_given_a_backend_removes_its_own_copy_on_close():
    """The copy cloned the caller's backend into a scratch folder of its own, but took the
    original's 'the backend is the caller's': its close() left that folder on disk."""
    import copy
    import pickle

    from learned_systems.config.factory import make_backend

    backend = make_backend("sqlite", "ycsb-b", rows=500, duration_s=0.01, repeats=1)
    env = ConfigTuningEnv(backend=backend)
    env.reset(seed=0)
    for duplicate in (copy.deepcopy(env), pickle.loads(pickle.dumps(env))):
        duplicate.reset(seed=0)
        folder = duplicate.objective.inner.backend.template_dir
        assert folder != backend.template_dir and any(folder.iterdir())
        duplicate.close()
        assert not folder.exists() and any(backend.template_dir.iterdir())  # the caller's stays
    copy.copy(env).close()  # a shallow copy shares the caller's backend: left to the caller
    env.close()
    assert backend.template_dir.is_dir()
    env = ConfigTuningEnv(backend=backend)
    env.reset(seed=0)  # the backend still runs trials
    backend.close()


def test_render_after_reset_shows_no_step_of_the_previous_episode(template_dir):
    env = ConfigTuningEnv(template_dir=template_dir, render_mode="ansi", **TINY)
    env.reset(seed=0)
    env.step(np.full(len(env.space.knobs), 0.5, np.float32))
    assert "config" in env.render()
    env.reset(seed=1)
    assert env.render() == "step 0: {}"


class _FlakyWorkload(_BrokenWorkload):
    """Fails while ``broken`` is set (e.g. a server slow to start), works after."""

    name = "flaky"
    broken = True

    def transaction(self, conn):
        conn.execute("SELECT * FROM missing_table" if self.broken else "SELECT * FROM t")
        return 1


def test_a_failed_reference_is_measured_again_and_never_gives_raw_throughput(tmp_path):
    from learned_systems.config.sqlite_backend import SQLiteBackend

    workload = _FlakyWorkload()
    backend = SQLiteBackend(workload, duration_s=0.05, repeats=1, template_dir=tmp_path)
    env = ConfigTuningEnv(backend=backend)
    _, info = env.reset(seed=0)
    assert info["reference_ok"] is False
    workload.broken = False  # the first trial now works, but the defaults were not measured yet
    _, reward, _, _, step_info = env.step(env.space.to_box({"journal_mode": "WAL"}, symmetric=True))
    assert step_info["ok"] and step_info["reference_ok"] and step_info["reference_error"] is None
    assert reward == pytest.approx(step_info["throughput_mean"] / env.reference.throughput_mean)
    assert reward < 100  # a ratio (the raw figure is thousands of transactions per second)


def test_an_ended_config_episode_takes_no_more_steps(template_dir):
    env = ConfigTuningEnv(template_dir=template_dir, horizon=1, **TINY)
    env.reset(seed=0)
    action = np.full(len(env.space.knobs), 0.5, np.float32)
    assert env.step(action)[2]  # terminated
    with pytest.raises(RuntimeError, match=r"the episode ended after 1 steps: call reset\(\)"):
        env.step(action)


def test_a_copy_has_a_scratch_folder_of_its_own_and_closing_it_leaves_the_original_alone(tmp_path):
    """A copy (deepcopy, or a pickle sent to a vector env's worker) shared the original's
    template folder and lock descriptor: closing it removed the folder under the original and
    closed a descriptor number the process had since given to another file."""
    import copy
    import pickle

    env = ConfigTuningEnv(**TINY)
    env.reset(seed=0)
    folder = env.objective.inner.backend.template_dir
    for duplicate in (copy.deepcopy(env), pickle.loads(pickle.dumps(env))):
        other = duplicate.objective.inner.backend.template_dir
        assert other != folder and other.is_dir()
        duplicate.reset(seed=0)
        duplicate.step(np.full(len(duplicate.space.knobs), 0.5, np.float32))
        duplicate.close()
        assert not other.exists() and any(folder.iterdir())
    with open(tmp_path / "bystander.txt", "w") as bystander:  # may take the number a copy freed
        env.step(np.full(len(env.space.knobs), 0.5, np.float32))
        env.close()
        bystander.write("still open")  # (EBADF when the original closed the copy's descriptor)
    assert not folder.exists() and (tmp_path / "bystander.txt").read_text() == "still open"


def test_the_episode_ends_terminated_at_its_horizon_which_the_observation_counts(template_dir):
    """It was truncated: check_env refused horizon=1 ('truncates after 1 step'), and the
    observation's progress makes the end part of the task."""
    from gymnasium.utils.env_checker import check_env

    env = ConfigTuningEnv(template_dir=template_dir, horizon=1, **TINY)
    check_env(env, skip_render_check=True)
    env.reset(seed=0)
    _, _, terminated, truncated, _ = env.step(np.full(len(env.space.knobs), 0.5, np.float32))
    assert terminated and not truncated
    env.close()


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"workload": "orders"}, "workload build a backend"),
        ({"rows": 5000, "duration_s": 9.0}, "rows, duration_s build a backend"),
        ({"ops_per_transaction": 3}, "ops_per_transaction build a backend"),
        ({"allow_unsafe": True}, "the backend's knob space is durable but allow_unsafe=True"),
    ],
)
def test_arguments_a_passed_backend_would_override_are_refused(tmp_path, extra, message):
    from learned_systems.config.factory import make_backend

    backend = make_backend("sqlite", "ycsb-b", rows=1000, duration_s=0.02, repeats=1, template_dir=tmp_path)
    with pytest.raises(ValueError, match=message):
        ConfigTuningEnv(backend=backend, **extra)
    assert ConfigTuningEnv(backend=backend, system="sqlite").space.system == "sqlite"  # its own


def test_an_unsafe_backend_needs_allow_unsafe(tmp_path):
    from learned_systems.config.factory import make_backend

    backend = make_backend("sqlite", "ycsb-b", rows=1000, duration_s=0.02, repeats=1, allow_unsafe=True,
                           template_dir=tmp_path)
    with pytest.raises(ValueError, match="knob space is unsafe but allow_unsafe=False"):
        ConfigTuningEnv(backend=backend)
    env = ConfigTuningEnv(backend=backend, allow_unsafe=True)
    assert env.space.name == "unsafe"


def test_sb3_make_vec_env_builds_it_and_rgb_array_draws_the_episode(template_dir):
    """SB3's make_vec_env asks for render_mode="rgb_array" (and retries without it only on a
    TypeError): the env refused the mode with a ValueError, so the helper could not build it."""
    from stable_baselines3.common.env_util import make_vec_env

    vec = make_vec_env("placer/ConfigTuning-v0", n_envs=1, seed=0, env_kwargs=dict(template_dir=template_dir, **TINY))
    vec.reset()
    image = vec.env_method("render")[0]
    vec.step(np.full((1, *vec.action_space.shape), 0.5, np.float32))
    drawn = vec.env_method("render")[0]
    vec.close()
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert drawn.shape == image.shape and not np.array_equal(drawn, image)
    assert drawn.shape[0] % 2 == 0 and drawn.shape[1] % 2 == 0  # (417 rows made unplayable H.264 videos)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        # it said "unknown option 'duration' for sqlite: expected one of ['ops_per_transaction']"
        ({"duration": 0.2}, r"unknown option 'duration' for sqlite: did you mean duration_s\? \(ConfigTuning-v0 takes "
                            r"system, workload, rows, duration_s, .*; sqlite's own options: ops_per_transaction\)"),
        ({"ops_per_txn": 5}, "did you mean ops_per_transaction?"),
        ({"warmup_s": 1}, r"unknown option 'warmup_s' for sqlite: \(ConfigTuning-v0 takes"),  # (no close name)
    ],
)
def test_a_misspelt_option_names_the_envs_own_parameters_and_the_closest(setting, message):
    from learned_systems.errors import InputError

    with pytest.raises(InputError, match=message):
        gym.make("placer/ConfigTuning-v0", **{**TINY, **setting})


def test_make_backend_names_its_own_parameters_for_a_misspelt_option():
    from learned_systems.config.factory import make_backend
    from learned_systems.errors import InputError

    with pytest.raises(InputError, match=r"'row' for postgres: did you mean rows\? \(make_backend takes system, workload, "
                                         r"rows, duration_s, .*; postgres's own options: clients, warmup_s\)"):
        make_backend("postgres", row=5)
