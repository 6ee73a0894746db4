"""The rollout buffer storing a design's constant observation parts once
(:class:`placer.rl.buffer.DesignConstantRolloutBuffer`) against sb3-contrib's own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from gymnasium import spaces
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.buffers import MaskableDictRolloutBuffer, MaskableRolloutBuffer
from stable_baselines3.common.logger import Logger

from envs.macro_placement_obs import DESIGN_CONSTANT_KEYS
from netlists.generate import generate
from placer.device import torch_threads
from placer.rl.buffer import DesignConstantRolloutBuffer
from placer.rl.config import TrainConfig
from placer.rl.train import _new_model, make_vec_env, train

SMALL = {"max_grid": 16, "max_nodes": 8, "max_edges": 32, "soft_placement": "keep", "device": "cpu",
         "n_envs": 2, "n_steps": 64, "batch_size": 32, "n_epochs": 2, "learning_rate": 3e-3}  # fmt: skip


def _trained(designs: list, buffer_class: type, tmp_path: Path) -> tuple[MaskablePPO, dict[str, torch.Tensor]]:
    """A policy trained for 256 steps (two rollouts of 64 steps x 2 envs) as ``placer train``
    builds it, with ``buffer_class`` as its rollout buffer, and its initial parameters."""
    config = TrainConfig(out=str(tmp_path), seed=3, **SMALL)
    model, _ = _new_model(config, designs, "cpu", None, buffer_class=buffer_class)
    model.set_logger(Logger(folder=None, output_formats=[]))
    initial = {k: v.clone() for k, v in model.policy.state_dict().items()}
    with torch_threads("cpu", 1):  # (as placer train runs; two threads on a busy CPU took 4x)
        model.learn(256)
    return model, initial


def _assert_same_parameters(a: MaskablePPO, b: MaskablePPO) -> None:
    pa, pb = a.policy.state_dict(), b.policy.state_dict()
    assert pa.keys() == pb.keys()
    assert all(torch.equal(pa[k], pb[k]) for k in pa)


@pytest.mark.parametrize("n_designs", [1, 2])
def test_training_with_either_buffer_is_bit_identical(tmp_path: Path, n_designs: int) -> None:
    """One design, and two designs drawn episode by episode (so an env switches designs
    between episodes and the table holds one entry per design)."""
    designs = [generate(4, 8, 6, seed=2), generate(6, 10, 8, seed=5)][:n_designs]
    old, initial = _trained(designs, MaskableDictRolloutBuffer, tmp_path / "old")
    new, _ = _trained(designs, DesignConstantRolloutBuffer, tmp_path / "new")
    _assert_same_parameters(old, new)
    trained = old.policy.state_dict()
    assert sum(not torch.equal(initial[k], trained[k]) for k in initial) > len(initial) // 2  # it trained
    buffer = new.rollout_buffer  # (still holding the last rollout)
    assert isinstance(buffer, DesignConstantRolloutBuffer)
    assert [len(buffer.table[key]) for key in DESIGN_CONSTANT_KEYS] == [n_designs] * 3
    assert not set(DESIGN_CONSTANT_KEYS) & set(buffer.observations)  # no rows for them
    switched = [np.unique(buffer.entry_of_row[:, env]).size for env in range(buffer.n_envs)]
    assert max(switched) == n_designs  # (two designs: an env met both in one rollout)


def _space() -> spaces.Dict:
    return spaces.Dict({
        "grid": spaces.Box(0.0, 1.0, (2, 3), np.float32),
        "graph_edges": spaces.Box(0, 9, (2, 5), np.int64),
        "graph_edge_weight": spaces.Box(-1.0, 1.0, (5,), np.float32),
    })  # fmt: skip


def test_minibatches_hold_the_same_bits_in_the_same_layout() -> None:
    """Rows filled with a few distinct constant arrays per env (signed zeros and a NaN
    included: equal by ``==`` or not, they are different bits) come out of both buffers as
    the same tensors, key order and dtype included; the constant keys take a fraction of
    the bytes."""
    space, actions = _space(), spaces.Discrete(4)
    steps, n_envs = 40, 3
    old = MaskableDictRolloutBuffer(steps, space, actions, "cpu", n_envs=n_envs)
    new = DesignConstantRolloutBuffer(steps, space, actions, "cpu", n_envs=n_envs,
                                      constant_keys=("graph_edges", "graph_edge_weight"))
    rng = np.random.default_rng(7)
    edges = rng.integers(0, 10, (2, 5))
    designs = [  # the first two differ only in a zero's sign
        (edges, np.array([0.5, 0.0, 0.0, 1.0, 0.25], np.float32)),
        (edges, np.array([0.5, -0.0, 0.0, 1.0, 0.25], np.float32)),
        (rng.integers(0, 10, (2, 5)), np.array([0.5, 0.0, np.nan, 1.0, 0.25], np.float32)),
    ]
    design_of_env = [0, 1, 0]
    for step in range(steps):
        if step % 7 == 6:  # a new episode in one env, on another design
            env = step % n_envs
            design_of_env[env] = (design_of_env[env] + 1) % len(designs)
        obs = {
            "grid": rng.random((n_envs, 2, 3)).astype(np.float32),
            "graph_edges": np.stack([designs[d][0] for d in design_of_env]),
            "graph_edge_weight": np.stack([designs[d][1] for d in design_of_env]),
        }
        args = (obs, rng.integers(0, 4, (n_envs, 1)), rng.random(n_envs), np.zeros(n_envs),
                torch.tensor(rng.random(n_envs)), torch.tensor(rng.random(n_envs)))  # fmt: skip
        masks = rng.random((n_envs, 4)) > 0.3
        old.add(*args, action_masks=masks)
        new.add(*args, action_masks=masks)
    last = torch.zeros(n_envs)
    old.compute_returns_and_advantage(last, np.zeros(n_envs))
    new.compute_returns_and_advantage(last, np.zeros(n_envs))
    assert len(new.table["graph_edges"]) == len(designs)  # each design once, whatever env met it
    np.random.seed(0)
    old_batches = list(old.get(16))
    np.random.seed(0)
    new_batches = list(new.get(16))
    assert len(old_batches) == len(new_batches) == -(-steps * n_envs // 16)
    for a, b in zip(old_batches, new_batches, strict=True):
        assert list(a.observations) == list(b.observations) == list(space.spaces)
        for key in space.spaces:
            x, y = a.observations[key], b.observations[key]
            assert x.dtype == y.dtype and x.shape == y.shape
            assert x.numpy().tobytes() == y.numpy().tobytes(), key
        for field in ("actions", "old_values", "old_log_prob", "advantages", "returns", "action_masks"):
            assert torch.equal(getattr(a, field), getattr(b, field)), field
    constant = sum(old.observations[key].nbytes for key in ("graph_edges", "graph_edge_weight"))
    kept = sum(a.nbytes for arrays in new.table.values() for a in arrays) + new.entry_of_row.nbytes
    assert kept < constant / 5


def test_a_deferred_buffer_allocates_its_rows_at_its_first_rollout_and_is_then_the_same() -> None:
    """DeferredRolloutBuffer (load_model's) holds no row when built; its first reset or add
    allocates them, and its minibatches are those of the buffer it defers, bit for bit."""
    from placer.rl.buffer import DeferredRolloutBuffer, deferred_rollout_buffer

    space, actions = _space(), spaces.Discrete(4)
    steps, n_envs = 8, 2
    deferred = deferred_rollout_buffer(steps, space, actions, "cpu", n_envs=n_envs)
    assert isinstance(deferred, DeferredRolloutBuffer) and not deferred.allocated
    assert sum(a.nbytes for a in deferred.observations.values()) + deferred.action_masks.nbytes == 0
    eager = DesignConstantRolloutBuffer(steps, space, actions, "cpu", n_envs=n_envs)
    rng = np.random.default_rng(3)
    for _ in range(steps):  # (no reset first: an add straight after building allocates too)
        obs = {key: rng.random((n_envs, *box.shape)).astype(box.dtype) for key, box in space.spaces.items()}
        args = (obs, rng.integers(0, 4, (n_envs, 1)), rng.random(n_envs), np.zeros(n_envs),
                torch.tensor(rng.random(n_envs)), torch.tensor(rng.random(n_envs)))  # fmt: skip
        masks = rng.random((n_envs, 4)) > 0.3
        eager.add(*args, action_masks=masks)
        deferred.add(*args, action_masks=masks)
    assert deferred.allocated and deferred.full
    for buffer in (eager, deferred):
        buffer.compute_returns_and_advantage(torch.zeros(n_envs), np.zeros(n_envs))
    np.random.seed(1)
    a_batches = list(eager.get(4))
    np.random.seed(1)
    b_batches = list(deferred.get(4))
    for a, b in zip(a_batches, b_batches, strict=True):
        assert all(torch.equal(a.observations[key], b.observations[key]) for key in space.spaces)
        assert torch.equal(a.action_masks, b.action_masks) and torch.equal(a.advantages, b.advantages)
    assert isinstance(deferred_rollout_buffer(steps, spaces.Box(0, 1, (3,)), actions, "cpu"),
                      MaskableRolloutBuffer)  # (a foreign model's space: refused by load_model afterwards)


def test_constant_keys_must_be_box_keys_of_the_space() -> None:
    space, actions = _space(), spaces.Discrete(4)
    with pytest.raises(ValueError, match=r"constant_keys \['design'\] are not observation keys"):
        DesignConstantRolloutBuffer(4, space, actions, "cpu", constant_keys=("design",))
    default = DesignConstantRolloutBuffer(4, space, actions, "cpu")  # the env's keys this space has
    assert default.constant_keys == ("graph_edges", "graph_edge_weight")


def test_placer_train_uses_the_buffer_its_models_do_not_name_it_and_a_resume_gets_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saved models named placer.rl.buffer's class (SB3 keeps it by reference), so an older
    version could not load them (the review); a checkpoint saved before resumed with
    sb3-contrib's buffer. Models leave it out now, and every resume sets it."""
    import zipfile

    import placer.rl.train as train_module

    out = tmp_path / "run"
    design = generate(4, 8, 6, seed=2)
    config = TrainConfig(out=str(out), timesteps=128, checkpoint_every=1000, eval_every=1000, **SMALL)
    used = []
    real = train_module._learn
    monkeypatch.setattr(train_module, "_learn", lambda model, *a: (used.append(type(model.rollout_buffer)),
                                                                   real(model, *a))[1])
    train(config, progress_bar=False, designs=[design], verbose=0)
    assert used == [DesignConstantRolloutBuffer]
    with zipfile.ZipFile(out / "last.zip") as saved:
        assert b"placer.rl.buffer" not in saved.read("data")
    assert type(MaskablePPO.load(out / "last.zip", device="cpu").rollout_buffer) is MaskableDictRolloutBuffer
    more = TrainConfig(**{**config.__dict__, "timesteps": 256})
    train(more, progress_bar=False, designs=[design], resume=True, verbose=0)
    assert used == [DesignConstantRolloutBuffer, DesignConstantRolloutBuffer]


def _rows_bytes(buffer: MaskableDictRolloutBuffer) -> int:
    """The bytes of a buffer's per-row observation arrays and action masks."""
    return sum(a.nbytes for a in buffer.observations.values()) + buffer.action_masks.nbytes


def test_a_model_loaded_to_place_allocates_no_rollout_rows_and_places_alike(tmp_path: Path) -> None:
    """load_model (the rl placer, scripts) built sb3-contrib's buffer of n_steps x n_envs rows
    (its action masks filled with ones), unused by inference. Now no row is allocated until a
    rollout begins; the placements are those of the model as SB3 loads it, and training the
    loaded model goes on bit for bit as with the buffer a resume gets."""
    from placer.rl.buffer import use_design_constant_buffer
    from placer.rl.inference import env_for_model, load_model, place_with_policy

    out = tmp_path / "run"
    design = generate(4, 8, 6, seed=2)
    config = TrainConfig(out=str(out), timesteps=128, checkpoint_every=1000, eval_every=1000, **SMALL)
    train(config, progress_bar=False, designs=[design], verbose=0)
    plain = MaskablePPO.load(out / "last.zip", device="cpu")
    assert _rows_bytes(plain.rollout_buffer) >= SMALL["n_steps"] * SMALL["n_envs"] * SMALL["max_grid"] ** 2 * 4
    loaded = load_model(out / "last.zip")
    assert _rows_bytes(loaded.rollout_buffer) == 0
    assert loaded.rollout_buffer.entry_of_row.size == 0

    placements = []
    for model in (plain, loaded):
        env = env_for_model(model, *design, model_path=out / "last.zip")
        placed, info = place_with_policy(model, env, samples=2, seed=5)
        assert placed is not None
        placements.append((placed.x.tobytes(), placed.y.tobytes(), info["cost"]["objective"]))
    assert placements[0] == placements[1]

    trained = []
    for give_resume_buffer in (False, True):
        model = load_model(out / "last.zip")
        if give_resume_buffer:
            use_design_constant_buffer(model)
        model.set_env(make_vec_env([design], config, seed=9))
        model.set_logger(Logger(folder=None, output_formats=[]))
        with torch_threads("cpu", 1):
            model.learn(128, reset_num_timesteps=False)
        assert _rows_bytes(model.rollout_buffer) > 0  # (allocated when the rollout began)
        trained.append(model)
    _assert_same_parameters(*trained)


def test_a_design_made_afresh_each_episode_keeps_only_its_rollouts_designs() -> None:
    """An env given a generator makes a new design every episode: the table gains an entry per
    episode, but only for the rows of the current rollout (it is emptied at each reset), so over
    rollouts it holds exactly the distinct designs its rows refer to, never more."""
    from envs.macro_placement import MacroPlacementEnv

    env = MacroPlacementEnv(generator=lambda rng: generate(4, 8, 6, seed=int(rng.integers(2**31))),
                            **{key: SMALL[key] for key in ("max_grid", "max_nodes", "max_edges", "soft_placement")})
    steps = 24
    buffer = DesignConstantRolloutBuffer(steps, env.observation_space, env.action_space, "cpu")
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=1)
    for _ in range(3):  # rollouts
        buffer.reset()
        designs = set()
        for _ in range(steps):
            designs.add(b"".join(obs[key].tobytes() for key in DESIGN_CONSTANT_KEYS))
            mask = env.action_masks()
            action = int(rng.choice(np.flatnonzero(mask)))
            buffer.add({key: value[None] for key, value in obs.items()}, np.array([[action]]), np.zeros(1),
                       np.zeros(1), torch.zeros(1), torch.zeros(1), action_masks=mask[None])  # fmt: skip
            obs, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                obs, _ = env.reset()
        assert len(designs) >= 4  # (several episodes, each on its own design)
        assert [len(buffer.table[key]) for key in DESIGN_CONSTANT_KEYS] == [len(designs)] * 3
        assert np.unique(buffer.entry_of_row).size == len(designs)


def test_a_bug_building_the_loaded_models_buffer_is_raised_not_told_as_a_bad_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """load_model told any failure inside SB3's load as a file that is no trained policy (an
    InputError, exit 2), the construction of our own buffer included: a bug there read as bad
    input."""
    import placer.rl.buffer as buffer_module
    from placer.rl.inference import load_model

    out = tmp_path / "run"
    config = TrainConfig(out=str(out), timesteps=64, checkpoint_every=1000, eval_every=1000, **SMALL)
    train(config, progress_bar=False, designs=[generate(4, 8, 6, seed=2)], verbose=0)

    def broken(*args: object, **kwargs: object) -> None:
        raise TypeError("a bug in the buffer's constructor")

    monkeypatch.setattr(buffer_module, "deferred_rollout_buffer", broken)
    with pytest.raises(TypeError, match="a bug in the buffer's constructor"):
        load_model(out / "last.zip")
