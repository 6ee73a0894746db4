"""The placement policy: MaskablePPO actor-critic with a deconvolution head over the grid.

As in Circuit Training's policy, the actor upsamples a coarse spatial encoding (here fused with
a global vector of the current macro, the design and the macro graph) through transposed
convolutions to one logit per grid cell; it adds full-resolution features and a learnable
multiple of the wire-mask channel (initially ``-wiremask_prior``: a soft preference for cells
that lengthen wires least, which the policy can learn to outweigh). The critic is an MLP over
the pooled coarse features and the global vector. Masking of illegal cells is sb3-contrib's.
"""

from __future__ import annotations

from typing import Any

import torch
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from torch import nn

from placer.rl.features import CONV_MEMORY_FORMAT, PlacementFeatures, lay_out_convolutions


class DeconvHead(nn.Module):
    """Actor (per-cell logits) and critic latents from :class:`PlacementFeatures` output."""

    def __init__(self, extractor: PlacementFeatures, wiremask_prior: float = 20.0, value_dim: int = 64) -> None:
        super().__init__()
        self.extractor = [extractor]  # a list: not registered twice as a submodule
        C, D, F, G = extractor.coarse_channels, extractor.global_dim, extractor.fine_channels, extractor.grid_side
        self.global_to_map = nn.Linear(D, 8)
        self.up = nn.Sequential(
            nn.ConvTranspose2d(C + 8, 32, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1), nn.ReLU(),
        )
        self.logits = nn.Conv2d(8 + F - 1, 1, 1)
        nn.init.normal_(self.logits.weight, std=0.01)
        assert self.logits.bias is not None  # (made with one: torch types a layer's bias Optional)
        nn.init.zeros_(self.logits.bias)
        self.wiremask_weight = nn.Parameter(torch.tensor(-float(wiremask_prior)))
        self.critic = nn.Sequential(nn.Linear(C + D, value_dim), nn.ReLU(), nn.Linear(value_dim, value_dim), nn.ReLU())
        self.latent_dim_pi = G * G
        self.latent_dim_vf = value_dim
        lay_out_convolutions(self, CONV_MEMORY_FORMAT)  # (as the extractor's: see CONV_MEMORY_FORMAT)

    def forward_actor(self, z: torch.Tensor) -> torch.Tensor:
        coarse, fine, glob = self.extractor[0].split(z)
        s = coarse.shape[-1]
        g = self.global_to_map(glob)[:, :, None, None].expand(-1, -1, s, s)
        up = self.up(torch.cat([coarse, g], dim=1))
        logits = self.logits(torch.cat([up, fine[:, :-1]], dim=1)) + self.wiremask_weight * fine[:, -1:]
        return logits.flatten(1)

    def forward_critic(self, z: torch.Tensor) -> torch.Tensor:
        coarse, _, glob = self.extractor[0].split(z)
        return self.critic(torch.cat([coarse.mean(dim=(2, 3)), glob], dim=1))

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_actor(z), self.forward_critic(z)


class PlacementPolicy(MaskableActorCriticPolicy):
    """MaskableActorCriticPolicy with :class:`PlacementFeatures` and :class:`DeconvHead`.

    Extra keyword ``wiremask_prior`` (default 20.0): initial weight of the wire-mask prior in
    the logits (0 disables it). The layers keep torch's default initialisation: SB3's
    ``ortho_init`` is not applied (``_build`` is this class's own), whatever it is set to.
    At initialisation the logits are in effect the wire-mask prior: the coarse and global path
    (the graph encoder's included) moves them by ~1e-6 and takes some 10k steps to matter (an
    audit's measurement; a per-cell route for the global vector is left for a future model).
    """

    def __init__(self, *args: Any, wiremask_prior: float = 20.0, **kwargs: Any) -> None:
        self.wiremask_prior = wiremask_prior
        kwargs.setdefault("features_extractor_class", PlacementFeatures)
        kwargs.setdefault("share_features_extractor", True)
        super().__init__(*args, **kwargs)

    def _build_mlp_extractor(self) -> None:
        self.mlp_extractor = DeconvHead(self.features_extractor, self.wiremask_prior)  # type: ignore[assignment,arg-type]

    def _build(self, lr_schedule: Any) -> None:
        """Networks and optimiser; the action "net" is the identity (the head gives logits)."""
        self._build_mlp_extractor()
        self.action_net = nn.Identity()
        self.value_net = nn.Linear(self.mlp_extractor.latent_dim_vf, 1)
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)  # type: ignore[call-arg]

    def lay_out_convolutions(self, memory_format: torch.memory_format) -> None:
        """Lay out the convolutions' weights and the grid they read in ``memory_format`` (built
        in :data:`placer.rl.features.CONV_MEMORY_FORMAT`; the tests and
        ``experiments/bench/policy_update_speed.py`` compare it with the contiguous layout)."""
        lay_out_convolutions(self, memory_format)
        for module in self.modules():  # (one extractor, or the actor's and the critic's)
            if isinstance(module, PlacementFeatures):
                module.conv_memory_format = memory_format

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data["wiremask_prior"] = self.wiremask_prior
        return data
