"""The placement policy's convolutions laid out channels last: the same policy as the
contiguous layout before, saved models of that layout loading and acting alike."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from gymnasium import spaces
from torch import nn

import placer.rl.features as features_module
import placer.rl.policy as policy_module
from envs.macro_placement_obs import observation_space
from netlists.generate import generate
from placer.rl.config import TrainConfig, policy_kwargs
from placer.rl.inference import load_model
from placer.rl.policy import PlacementPolicy
from placer.rl.train import train

#: As the training tests' tiny runs (tests/placer/rl/test_training.py).
TINY = {"max_grid": 16, "max_nodes": 8, "max_edges": 32, "n_steps": 32, "batch_size": 16, "n_epochs": 1,
        "n_envs": 1, "soft_placement": "keep", "device": "cpu"}


def _policy(config: TrainConfig) -> PlacementPolicy:
    """A fresh policy over ``config``'s observation space, seeded."""
    torch.manual_seed(0)
    space = observation_space(config.max_grid, config.max_nodes, config.max_edges)
    return PlacementPolicy(space, spaces.Discrete(config.max_grid**2), lambda _: 3e-4, **policy_kwargs(config))


def _convolutions(policy: nn.Module) -> list[nn.Module]:
    return [m for m in policy.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]


def _old_form(policy: PlacementPolicy) -> PlacementPolicy:
    """A copy of ``policy`` (same weights) computing as the policy did before: contiguous
    convolutions and grid, the graph encoder's per-row path."""
    old = _policy(TrainConfig(out="unused"))
    old.load_state_dict(policy.state_dict())
    old.lay_out_convolutions(torch.contiguous_format)
    old.features_extractor.graph.group_by_graph = False
    return old


def _spatial(layers: list[nn.Module]) -> list[nn.Module]:
    """The layers whose kernel is wider than 1 x 1 (a 1 x 1 weight is both layouts at once)."""
    return [m for m in layers if m.weight.shape[2:] != (1, 1)]


def test_the_convolutions_compute_channels_last() -> None:
    """The policy's convolutions ran on contiguous (NCHW) weights and grids; laid out channels
    last, oneDNN computes them without converting layouts (an update step 0.74-0.83 x the
    time in experiments/results/policy_update_speed.md): every convolution's weight is channels last, and
    so is what each computes, at any batch size (the first of the head's deconvolutions reads
    the features' contiguous view, which it takes in the weight's layout)."""
    policy = _policy(TrainConfig(out="unused", **{k: TINY[k] for k in ("max_grid", "max_nodes", "max_edges")}))
    layers = _convolutions(policy)
    assert len(layers) == 9  # (the extractor's five, the head's three deconvolutions and its logits)
    assert all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in layers)
    assert not any(m.weight.is_contiguous() for m in _spatial(layers))
    outputs: list[bool] = []
    for layer in layers:
        layer.register_forward_hook(lambda m, args, out: outputs.append(
            out.is_contiguous(memory_format=torch.channels_last)))
    obs = {key: torch.as_tensor(space.sample()[None]).float() for key, space in policy.observation_space.items()}
    for batch in (1, 3):
        outputs.clear()
        policy.evaluate_actions({k: v.expand(batch, *v.shape[1:]) for k, v in obs.items()}, torch.zeros(batch))
        assert outputs == [True] * 9, batch


@pytest.mark.parametrize("batch", ["default", "ariane133", "mixed"])
def test_the_policy_equals_its_form_before_on_real_observations(real_batches, batch: str) -> None:
    """On real observations (`placer train`'s default settings), the features (their coarse,
    fine and global parts in the same flattened order), every cell's logit, the values, and
    the gradients of every weight equal the contiguous, per-row form's within float rounding.
    (The gradients' float32 sums over a batch's cells cancel heavily: on the last deconvolution's
    weight either form is 1-4e-4 of the largest entry away from float64's, so they are compared
    at 1e-3 of each tensor's largest entry.)"""
    obs = real_batches[batch]
    new = _policy(TrainConfig(out="unused"))
    old = _old_form(new)
    found = {}
    for name, policy in (("new", new), ("old", old)):
        z = policy.extract_features(obs, policy.features_extractor)
        logits, latent_vf = policy.mlp_extractor(z)
        values = policy.value_net(latent_vf)
        weights = torch.linspace(-1.0, 1.0, logits.numel()).view_as(logits)
        ((logits * weights).sum() + values.sum() + 1e-3 * (z * z).sum()).backward()
        found[name] = ([z.detach(), logits.detach(), values.detach()],
                       [p.grad for p in policy.parameters()])
    for new_out, old_out in zip(found["new"][0], found["old"][0], strict=True):
        torch.testing.assert_close(new_out, old_out, rtol=1e-5, atol=1e-5 * float(old_out.abs().max()))
    for new_grad, old_grad in zip(found["new"][1], found["old"][1], strict=True):
        torch.testing.assert_close(new_grad, old_grad, rtol=1e-3, atol=1e-3 * float(old_grad.abs().max()))


def test_a_run_of_the_contiguous_layout_loads_acts_alike_and_resumes(tmp_path: Path, monkeypatch) -> None:
    """A run saved by the code before (contiguous convolution weights and Adam state; made here
    with that layout) loads into channels-last weights, places with the same actions and
    values, and resumes training (its Adam state in the old layout)."""
    from sb3_contrib import MaskablePPO

    design = generate(5, 10, 6, seed=3)
    config = TrainConfig(out=str(tmp_path / "run"), timesteps=32, checkpoint_every=1000, eval_every=1000, **TINY)
    with monkeypatch.context() as patch:  # the layout the models were built in before
        patch.setattr(features_module, "CONV_MEMORY_FORMAT", torch.contiguous_format)
        patch.setattr(policy_module, "CONV_MEMORY_FORMAT", torch.contiguous_format)
        train(config, progress_bar=False, designs=[design])
        before = MaskablePPO.load(tmp_path / "run" / "last.zip", device="cpu")
    assert all(m.weight.is_contiguous() for m in _convolutions(before.policy))
    before.policy.features_extractor.graph.group_by_graph = False
    with zipfile.ZipFile(tmp_path / "run" / "last.zip") as saved:
        weights = torch.load(saved.open("policy.pth"), weights_only=True)
    assert all(t.is_contiguous() for t in weights.values())  # (what the code before saved)

    after = load_model(tmp_path / "run" / "last.zip")
    assert not any(m.weight.is_contiguous() for m in _spatial(_convolutions(after.policy)))
    rng = np.random.default_rng(0)
    observations = {key: np.stack([space.sample() for _ in range(6)]) for key, space in after.observation_space.items()}
    observations["grid"] = rng.random(observations["grid"].shape, dtype=np.float32)
    actions_before, _ = before.predict(observations, deterministic=True)
    actions_after, _ = after.predict(observations, deterministic=True)
    assert np.array_equal(actions_before, actions_after)
    obs_tensor, _ = after.policy.obs_to_tensor(observations)
    torch.testing.assert_close(after.policy.predict_values(obs_tensor), before.policy.predict_values(obs_tensor),
                               rtol=1e-5, atol=1e-6)

    train(TrainConfig(**{**config.__dict__, "timesteps": 64}), progress_bar=False, designs=[design], resume=True)
    resumed = MaskablePPO.load(tmp_path / "run" / "last.zip", device="cpu")
    assert resumed.num_timesteps == 64
    assert all(torch.isfinite(t).all() for t in resumed.policy.state_dict().values())
    changed = resumed.policy.state_dict()
    assert any(not torch.equal(changed[k], t) for k, t in before.policy.state_dict().items())  # (it trained)
