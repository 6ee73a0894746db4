"""Index kinds of one's own: registered with their builder and knobs, built by name, searched in
a space over chosen kinds by IndexObjective and IndexTuning-v0, in both modes; a kind that cannot
count its search steps is refused in cost mode by name, not an AttributeError deep inside."""

from __future__ import annotations

import math

import numpy as np
import pytest

from learned_systems.config.knobs import Knob, KnobSpace
from learned_systems.index import (
    as_sorted_keys,
    available_index_kinds,
    build_index,
    kinds,
    register_index_kind,
)
from learned_systems.index.search import bounded_lower_bound
from learned_systems.objectives import IndexObjective, index_space

STRIDE = Knob("stride", 64, low=2, high=1024, log=True, help="keys per sample")


class SampledIndex:
    """Every ``stride``-th key, then a search of one stride of keys."""

    def __init__(self, keys: np.ndarray, stride: int = 64) -> None:
        self.keys, self.stride = as_sorted_keys(keys), int(stride)
        self.sample = self.keys[:: self.stride]
        self.size_bytes, self.max_error, self.build_seconds = self.sample.nbytes, self.stride, 0.0

    def lookup(self, queries: np.ndarray) -> np.ndarray:
        queries = np.asarray(queries, dtype=np.uint64)
        length = min(self.stride, self.keys.size)
        block = np.maximum(np.searchsorted(self.sample, queries) - 1, 0)
        start = np.minimum(block * self.stride, self.keys.size - length)
        return bounded_lower_bound(self.keys, queries, start, length)

    def counted_steps(self, queries: np.ndarray) -> float:
        return math.ceil(math.log2(self.sample.size)) + 1 + math.ceil(math.log2(self.stride)) + 1


class UncountedIndex(SampledIndex):
    counted_steps = None  # type: ignore[assignment]


@pytest.fixture
def sampled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kind 'sampled' registered for the test only."""
    monkeypatch.setattr(kinds, "_KINDS", dict(kinds._KINDS))
    register_index_kind("sampled", SampledIndex, [STRIDE])


def test_a_registered_kind_is_built_by_name(sampled) -> None:
    """build_index said "unknown index kind 'sampled': expected 'pgm' or 'rmi'"."""
    keys = np.sort(np.random.default_rng(0).integers(0, 2**40, 5000, dtype=np.uint64))
    index = build_index("sampled", keys, stride=32)
    assert isinstance(index, SampledIndex) and index.stride == 32
    queries = np.concatenate([keys[::7], keys[::11] + np.uint64(1), np.array([0, 2**63], np.uint64)])
    np.testing.assert_array_equal(index.lookup(queries), np.searchsorted(keys, queries))
    assert available_index_kinds() == ["pgm", "rmi", "sampled"]


def test_a_space_over_chosen_kinds_applies_each_kinds_knobs_to_it_only(sampled) -> None:
    space = index_space(("pgm", "rmi", "sampled"))
    assert space.names == ["kind", "epsilon", "epsilon_recursive", "num_models", "root", "stride"]
    assert space.knob("kind").choices == ("pgm", "rmi", "sampled") and space.knob("kind").default == "pgm"
    assert space.knob("stride").applies_when == ("kind", "sampled")
    assert space.effective({"kind": "pgm", "stride": 8})["stride"] == 64
    only = index_space(("sampled",))
    assert only.names == ["kind", "stride"] and only.defaults() == {"kind": "sampled", "stride": 64}
    assert index_space() == index_space(("pgm", "rmi"))  # the default: the built-in kinds


@pytest.mark.parametrize("mode", ["measured", "cost"])
def test_index_objective_searches_a_kind_of_ones_own(sampled, mode: str) -> None:
    """IndexObjective had no space parameter: its space and builder were module-level names
    the audit had to patch."""
    space = index_space(("pgm", "sampled"))
    objective = IndexObjective("lognormal", keys=20_000, queries=2_000, mode=mode, repeats=1, space=space)
    assert objective.space is space
    result = objective.evaluate({"kind": "sampled", "stride": 16})
    assert result.ok, result.error
    assert result.config == {"kind": "sampled", "epsilon": 64, "epsilon_recursive": 8, "stride": 16}
    assert result.metrics["max_error"] == 16 and objective.score(result) is not None
    if mode == "cost":
        steps = math.ceil(math.log2(20_000 / 16)) + 1 + 4 + 1
        assert result.metrics["relative_time"] == steps / (math.log2(20_000) + 1)
    assert objective.evaluate({"kind": "pgm"}).ok


def test_cost_mode_names_the_method_a_kind_of_ones_own_lacks(monkeypatch) -> None:
    """Every index that was not a PGM was counted as an RMI: AttributeError 'windows' deep
    inside the cost model."""
    monkeypatch.setattr(kinds, "_KINDS", dict(kinds._KINDS))
    register_index_kind("uncounted", UncountedIndex, [STRIDE])
    space = index_space(("pgm", "uncounted"))
    with pytest.raises(ValueError, match="index kind 'uncounted': mode='cost' .*counted_steps.* UncountedIndex lacks"):
        IndexObjective("lognormal", keys=2_000, queries=200, mode="cost", space=space)
    assert IndexObjective("lognormal", keys=2_000, queries=200, space=space).evaluate({"kind": "uncounted"}).ok
    # a builder that is a function: found at the first trial of the kind, as a bug (raised)
    register_index_kind("uncounted_fn", lambda keys, stride=64: UncountedIndex(keys, stride), [])
    objective = IndexObjective("lognormal", keys=2_000, queries=200, mode="cost", space=index_space(("uncounted_fn",)))
    with pytest.raises(TypeError, match="counted_steps.*UncountedIndex lacks.*implement it, or use mode='measured'"):
        objective.evaluate({"kind": "uncounted_fn"})


def test_the_env_takes_a_space_of_ones_own(sampled) -> None:
    """IndexTuning-v0's space was index_space(), five dimensions, whatever was registered."""
    from gymnasium.utils.env_checker import check_env

    from envs.index_tuning import IndexTuningEnv

    env = IndexTuningEnv(datasets=("lognormal",), keys=5_000, queries=500, mode="cost",
                         space=index_space(("rmi", "sampled")))  # fmt: skip
    assert env.action_space.shape == (4,) and env.space.names == ["kind", "num_models", "root", "stride"]
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.array([1.0, -1.0, -1.0, -1.0], np.float32))  # kind: the last one
    assert info["ok"] and info["config"]["kind"] == "sampled" and info["config"]["stride"] == 2 and reward < 0
    check_env(env, skip_render_check=True)


def test_a_space_or_kind_no_trial_could_build_from_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(kinds, "_KINDS", dict(kinds._KINDS))
    with pytest.raises(ValueError, match="unknown index kind 'btree': expected one of 'pgm', 'rmi'.*register_index_kind"):
        index_space(("pgm", "btree"))
    with pytest.raises(ValueError, match="one or more kinds, each once"):
        index_space(("pgm", "pgm"))
    register_index_kind("flat", SampledIndex, [Knob("epsilon", 4, low=1, high=8)])
    with pytest.raises(ValueError, match="index kinds 'pgm' and 'flat' both have a knob 'epsilon'"):
        index_space(("pgm", "flat"))
    with pytest.raises(ValueError, match="already registered by .*PGMIndex"):
        register_index_kind("pgm", SampledIndex)
    with pytest.raises(ValueError, match="differ from one another and from 'kind'"):
        register_index_kind("mine", SampledIndex, [Knob("kind", 1, low=0, high=2)])
    with pytest.raises(ValueError, match=r"knobs \['stride'\] set applies_when"):  # (it was replaced unsaid)
        register_index_kind("mine", SampledIndex, [Knob("stride", 4, low=1, high=8, applies_when=("epsilon", 64))])
    with pytest.raises(ValueError, match="needs a knob 'kind'"):
        IndexObjective("lognormal", keys=2_000, queries=200, space=KnobSpace.build("index", [STRIDE]))
    pgm = kinds.index_kind("pgm")
    assert register_index_kind("pgm", pgm.build, pgm.knobs) == pgm  # (its module loaded again)
