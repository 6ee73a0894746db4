"""A rollout buffer that stores the observation parts fixed for a design once per design.

sb3-contrib's ``MaskableDictRolloutBuffer`` keeps every observation key for each of its
``n_steps x n_envs`` rows. The design vector and the padded macro graph
(:data:`envs.macro_placement_obs.DESIGN_CONSTANT_KEYS`) are the same at every step of a
design's episodes, yet they were 37 % of the buffer's bytes on the default config (the
``(2, max_edges)`` int64 edge list alone 64 KiB a row; 168 MB at ``n_steps`` 1,024 x 2 envs,
growing linearly with ``max_edges``). :class:`DesignConstantRolloutBuffer` keeps a small table
of the distinct arrays of those keys met in a rollout and one table index per row, and hands
the minibatches the same arrays (same dtype, same bits) as the buffer it replaces, so training
is bit-identical (``tests/placer/rl/test_buffer.py`` trains with both and compares every
parameter). Measured by ``experiments/bench/rollout_buffer_memory.py`` (``n_steps`` 1,024 x 2
envs, default design: 453 -> 285 MB; ``max_edges`` 16,384: 957 -> 286 MB; its adds and
minibatches take no longer).

``placer train`` builds its models with it and gives it to every model it resumes
(:func:`use_design_constant_buffer`), a checkpoint saved before it included. Saved models leave
the class out (stable-baselines3 would keep it by reference: a model naming this module could
not be loaded by a version without it). :func:`placer.rl.inference.load_model` (the ``rl``
placer, scripts) loads them with a :class:`DeferredRolloutBuffer`, which allocates its rows
only when a rollout begins: loaded with sb3-contrib's buffer, a model placing designs held
``n_steps x n_envs`` rows it never fills (its action masks alone 32 MB at ``n_steps`` 1,024 x
2 envs, filled with ones at load; a plain ``MaskablePPO.load`` still builds that buffer).
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from sb3_contrib.common.maskable.buffers import (
    MaskableDictRolloutBuffer,
    MaskableDictRolloutBufferSamples,
    MaskableRolloutBuffer,
)
from stable_baselines3.common.vec_env import VecNormalize

from envs.macro_placement_obs import DESIGN_CONSTANT_KEYS


class DesignConstantRolloutBuffer(MaskableDictRolloutBuffer):
    """``MaskableDictRolloutBuffer`` storing the ``constant_keys`` once per distinct array.

    ``constant_keys`` (default: those of :data:`DESIGN_CONSTANT_KEYS` the observation space
    has) must be keys whose arrays stay the same for many rows in a row (a design's episodes);
    any key is still stored exactly, only more entries are made when it changes often. A row's
    arrays are compared, bit for bit, with those of the entry its env used last (an env may
    switch designs between episodes: a multi-design run), then with the others, before a new
    entry is made; the table is emptied at every :meth:`reset` (each rollout).
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Dict,
        action_space: spaces.Space,
        device: torch.device | str = "auto",
        gae_lambda: float = 1,
        gamma: float = 0.99,
        n_envs: int = 1,
        constant_keys: Sequence[str] | None = None,
    ) -> None:
        if not isinstance(observation_space, spaces.Dict):
            raise ValueError(f"DesignConstantRolloutBuffer needs a Dict observation space, got {observation_space}")
        present = observation_space.spaces
        if constant_keys is None:
            constant_keys = [key for key in DESIGN_CONSTANT_KEYS if key in present]
        unknown = [key for key in constant_keys if key not in present]
        if unknown:
            raise ValueError(f"constant_keys {unknown} are not observation keys (those are {list(present)})")
        not_box = [key for key in constant_keys if not isinstance(present[key], spaces.Box)]
        if not_box:
            raise ValueError(f"constant_keys {not_box} must be Box observations")
        self.constant_keys = tuple(dict.fromkeys(constant_keys))
        #: the constant keys' shapes, moved out of ``obs_shape`` so SB3 allocates no rows for them
        self.constant_shapes: dict[str, tuple[int, ...]] = {}
        self.key_order = tuple(present)  # the minibatches' observation dicts keep this order
        super().__init__(buffer_size, observation_space, action_space, device, gae_lambda, gamma, n_envs)

    def reset(self) -> None:
        """Empty the buffer: SB3's arrays for the other keys, an empty table, row indices."""
        # (the first reset runs inside SB3's __init__, right after obs_shape is set)
        for key in self.constant_keys:
            if key in self.obs_shape:
                self.constant_shapes[key] = self.obs_shape.pop(key)
        super().reset()
        #: per constant key, its distinct arrays met in this rollout, in the space's dtype
        self.table: dict[str, list[np.ndarray]] = {key: [] for key in self.constant_keys}
        #: the table entry of each (step, env) row (flattened like SB3's arrays by :meth:`get`)
        self.entry_of_row = np.zeros((self.buffer_size, self.n_envs), np.int32)
        self._last_entry = [-1] * self.n_envs  # per env, the entry its latest row used
        #: the entries by a digest of their parts' bytes (a constant key changing every row was
        #: a linear scan of the table per row: quadratic, 2.4 s per rollout of 1,024 x 2)
        self._entries_by_digest: dict[bytes, list[int]] = {}
        self._stacked: dict[str, np.ndarray] = {}
        self._rows = np.zeros(0, np.int32)

    def add(self, obs: dict[str, np.ndarray], *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Record the row's constant parts in the table, the rest as SB3 does."""
        if self.constant_keys:
            for env in range(self.n_envs):
                self.entry_of_row[self.pos, env] = self._entry_for(env, obs)
        super().add(obs, *args, **kwargs)

    def _entry_for(self, env: int, obs: dict[str, np.ndarray]) -> int:
        """The table entry holding ``env``'s constant parts of ``obs`` (a new one if none does)."""
        parts = {key: self._stored_form(key, obs[key][env]) for key in self.constant_keys}

        def holds_parts(entry: int) -> bool:
            return all(_same_bits(self.table[key][entry], part) for key, part in parts.items())

        last = self._last_entry[env]
        if last >= 0 and holds_parts(last):
            return last  # (the common case: the env's design as in its previous row)
        digest = hashlib.blake2b(b"".join(part.tobytes() for part in parts.values()), digest_size=16).digest()
        same = self._entries_by_digest.setdefault(digest, [])
        entry = next((k for k in same if holds_parts(k)), None)
        if entry is None:
            for key, part in parts.items():
                self.table[key].append(np.array(part, copy=True))
            entry = len(self.table[self.constant_keys[0]]) - 1
            same.append(entry)
        self._last_entry[env] = entry
        return entry

    def _stored_form(self, key: str, value: np.ndarray) -> np.ndarray:
        """``value`` as SB3's buffer holds it: cast into an array of the space's dtype."""
        dtype = self.observation_space[key].dtype
        if isinstance(value, np.ndarray) and value.dtype == dtype:
            return value
        stored = np.empty(self.constant_shapes[key], dtype=dtype)
        stored[...] = value  # (the assignment SB3's add makes into its row)
        return stored

    def get(self, batch_size: int | None = None) -> Generator[MaskableDictRolloutBufferSamples, None, None]:  # type: ignore[override]
        """SB3's minibatches; the table is stacked and the row indices flattened once first."""
        if not self.generator_ready:
            self._rows = self.entry_of_row.swapaxes(0, 1).reshape(-1)  # (SB3's swap_and_flatten order)
            self._stacked = {key: np.stack(arrays) for key, arrays in self.table.items() if arrays}
        yield from super().get(batch_size)

    def _get_samples(  # type: ignore[override]
        self, batch_inds: np.ndarray, env: VecNormalize | None = None
    ) -> MaskableDictRolloutBufferSamples:
        """SB3's samples with the constant keys' arrays gathered from the table."""
        samples = super()._get_samples(batch_inds, env)
        entries = self._rows[batch_inds]
        varying = samples.observations
        observations = {key: varying[key] if key in varying else self.to_torch(self._stacked[key][entries])
                        for key in self.key_order}  # fmt: skip
        return samples._replace(observations=observations)


class DeferredRolloutBuffer(DesignConstantRolloutBuffer):
    """A :class:`DesignConstantRolloutBuffer` that allocates its ``buffer_size x n_envs`` rows
    at its first :meth:`reset` after construction (SB3's ``collect_rollouts`` makes one before
    each rollout) or its first :meth:`add`, not when it is built: the buffer of a model loaded to
    place designs, which collects no rollout. Trained on, it is that buffer, bit for bit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._built = False  # (SB3's __init__ calls reset: that reset allocates no rows)
        super().__init__(*args, **kwargs)
        self._built = True

    @property
    def allocated(self) -> bool:
        """Whether the rows are allocated (a rollout has begun)."""
        return self.entry_of_row.shape[0] == self.buffer_size

    def reset(self) -> None:
        """Empty the buffer; during construction, with zero rows of every array."""
        if self._built:
            super().reset()
            return
        size, self.buffer_size = self.buffer_size, 0
        try:
            super().reset()
        finally:
            self.buffer_size = size

    def add(self, obs: dict[str, np.ndarray], *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Allocate the rows first when no rollout began (an ``add`` straight after building)."""
        if not self.allocated:
            self.reset()
        super().add(obs, *args, **kwargs)


def deferred_rollout_buffer(
    buffer_size: int,
    observation_space: spaces.Space,
    action_space: spaces.Space,
    device: torch.device | str = "auto",
    **kwargs: Any,
) -> MaskableDictRolloutBuffer | MaskableRolloutBuffer:
    """The rollout buffer :func:`placer.rl.inference.load_model` has SB3 build (it is passed as
    the model's ``rollout_buffer_class``): a :class:`DeferredRolloutBuffer` for a Dict
    observation space, every placement policy's; for another, sb3-contrib's own, as SB3 would
    choose, so a foreign model is refused for what it observes rather than by this buffer."""
    if isinstance(observation_space, spaces.Dict):
        return DeferredRolloutBuffer(buffer_size, observation_space, action_space, device, **kwargs)
    return MaskableRolloutBuffer(buffer_size, observation_space, action_space, device, **kwargs)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``a`` and ``b`` hold the same bits (not ``==``: -0.0 and 0.0 differ, NaN is itself)."""
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def use_design_constant_buffer(model: Any) -> None:
    """Give a loaded ``model`` (MaskablePPO) a :class:`DesignConstantRolloutBuffer` in place of
    the one loading made: saved models leave the buffer's class out (so older versions load
    them), and a checkpoint saved before this buffer existed resumes with it too. The buffer
    holds nothing between rollouts, so training goes on bit for bit as before."""
    model.rollout_buffer_class = DesignConstantRolloutBuffer
    model.rollout_buffer = DesignConstantRolloutBuffer(
        model.n_steps,
        model.observation_space,
        model.action_space,
        device=model.device,
        gamma=model.gamma,
        gae_lambda=model.gae_lambda,
        n_envs=model.n_envs,
        **(model.rollout_buffer_kwargs or {}),
    )
