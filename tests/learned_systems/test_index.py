"""Learned indexes answer exactly like numpy.searchsorted(side='left') and honour their bounds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learned_systems.datasets import GENERATORS, generate_keys, generate_queries
from learned_systems.index import PGMIndex, RMIIndex, UnsortedKeysError, build_index
from learned_systems.index.keys import UINT64_MAX, constraint_points
from learned_systems.index.search import CACHE_BATCH, bounded_lower_bound, in_batches
from learned_systems.index.segmentation import segment

BUILDERS = {
    "pgm-eps4": lambda keys: PGMIndex(keys, epsilon=4, epsilon_recursive=2, top_size=4),
    "pgm-eps64": lambda keys: PGMIndex(keys, epsilon=64),
    "pgm-eps0": lambda keys: PGMIndex(keys, epsilon=0, top_size=2),
    "rmi-linear": lambda keys: RMIIndex(keys, num_models=16, root="linear"),
    "rmi-cubic": lambda keys: RMIIndex(keys, num_models=64, root="cubic"),
}

small_keys = st.lists(st.integers(0, 200), max_size=300).map(
    lambda v: np.sort(np.array(v, np.uint64))
)
wide_keys = st.lists(st.integers(0, 2**64 - 1), max_size=200).map(
    lambda v: np.sort(np.array(v, dtype=np.uint64))
)


def _queries(keys: np.ndarray, extra: list[int]) -> np.ndarray:
    """Every key, its neighbours, the extremes and arbitrary extra values."""
    around = [keys, keys - np.uint64(1), keys + np.uint64(1)] if keys.size else []
    edges = np.array([0, 1, UINT64_MAX - 1, UINT64_MAX], dtype=np.uint64)
    return np.concatenate([*around, edges, np.array(extra, dtype=np.uint64)])


@pytest.mark.parametrize("builder", BUILDERS.values(), ids=BUILDERS.keys())
@settings(max_examples=40, deadline=None)
@given(
    keys=st.one_of(small_keys, wide_keys), extra=st.lists(st.integers(0, 2**64 - 1), max_size=50)
)
def test_lookup_matches_searchsorted(builder, keys, extra):
    index = builder(keys)
    queries = _queries(keys, extra)
    np.testing.assert_array_equal(
        index.lookup(queries), np.searchsorted(keys, queries, side="left")
    )


@pytest.mark.parametrize("name", sorted(GENERATORS))
@pytest.mark.parametrize("kind", ["pgm", "rmi"])
def test_datasets_lookup_with_absent_keys(name, kind):
    keys = generate_keys(name, 20_000, seed=3)
    queries = generate_queries(keys, 5_000, seed=4, absent_fraction=0.5)
    index = build_index(kind, keys)
    np.testing.assert_array_equal(index.lookup(queries), np.searchsorted(keys, queries))


@pytest.mark.parametrize("epsilon", [0, 1, 8, 32, 128])
def test_pgm_error_bound_is_guaranteed(epsilon):
    keys = generate_keys("books", 30_000, seed=epsilon)
    index = PGMIndex(keys, epsilon=epsilon)
    assert index.max_error <= epsilon
    # Check the bound directly on the level-0 predictions of every constraint point.
    level = index.levels[0]
    xs, ys = constraint_points(keys)
    segment_ids = np.searchsorted(level.first_keys, xs, side="right") - 1
    assert np.abs(level.predict(xs, segment_ids) - ys).max() <= epsilon
    for upper in index.levels[1:]:
        assert upper.radius <= index.epsilon_recursive


def test_segmentation_bound_holds_in_floating_point_across_huge_key_gaps():
    # a stretch of clustered keys: two keys, a gap of ~1.2e16, then keys ~1e8 apart; the
    # feasible slopes span ~1e-16 and the clipped polygon's average missed a point by 0.55
    xs = np.array([466417172110264896, 466417172110264897, 478066286423832960,
                   478066286423832961, 478066286598895424, 478066286598895425,
                   478066286697027328, 478066286697027329, 478066286754330368,
                   478066286754330369, 478066286809957184, 478066286809957185], dtype=np.uint64)  # fmt: skip
    ys = np.array([0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6], dtype=np.float64)
    starts, slopes, intercepts = segment(xs, ys, 1.45)
    owner = np.repeat(np.arange(starts.size), np.diff(np.append(starts, xs.size)))
    offsets = (xs - xs[starts][owner]).astype(np.float64)
    assert np.abs(offsets * slopes[owner] + intercepts[owner] - ys).max() <= 1.45


@pytest.mark.parametrize("seed", [1, 3])
def test_pgm_bound_holds_on_clustered_keys(seed):
    keys = generate_keys("clustered", 300_000, seed=seed)  # seeds where it once missed by 1
    for epsilon in (1, 8):
        assert PGMIndex(keys, epsilon=epsilon).max_error <= epsilon


def test_pgm_larger_epsilon_means_fewer_segments():
    keys = generate_keys("lognormal", 50_000, seed=1)
    sizes = [PGMIndex(keys, epsilon=eps).num_segments for eps in (4, 16, 64, 256)]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]


def test_linear_data_needs_one_segment():
    keys = np.arange(0, 10_000 * 7, 7, dtype=np.uint64)
    index = PGMIndex(keys, epsilon=1)
    assert index.num_segments == 1 and index.max_error <= 1


def test_rmi_reports_fallbacks_and_error():
    keys = generate_keys("clustered", 20_000, seed=2)
    index = RMIIndex(keys, num_models=128, root="cubic")
    queries = generate_queries(keys, 2_000, seed=5)
    np.testing.assert_array_equal(index.lookup(queries), np.searchsorted(keys, queries))
    assert index.max_error >= 0 and index.fallbacks <= queries.size
    # a leaf: four float64 (slope, intercept, its positions' span), two int32 errors, its first
    # key; four root coefficients
    assert index.size_bytes == 128 * (4 * 8 + 2 * 4 + 8) + 4 * 8


@pytest.mark.parametrize("kind", ["pgm", "rmi"])
def test_batches_larger_than_a_cache_slice_match_searchsorted(kind):
    keys = generate_keys("clustered", 50_000, seed=6)
    queries = generate_queries(keys, 2 * CACHE_BATCH + 123, seed=7, absent_fraction=0.3)
    queries[[5, CACHE_BATCH + 1, -1]] = UINT64_MAX  # near-max queries in three slices
    index = build_index(kind, keys)
    np.testing.assert_array_equal(index.lookup(queries), np.searchsorted(keys, queries))
    if kind == "rmi":  # repairs are counted over the whole batch, not the last slice
        whole = index.fallbacks
        per_slice = 0
        for first in range(0, queries.size, CACHE_BATCH):
            index.lookup(queries[first : first + CACHE_BATCH])
            per_slice += index.fallbacks
        assert whole == per_slice


def test_in_batches_covers_every_query_in_order():
    queries = np.arange(10, dtype=np.uint64)
    seen = []

    def answer(part):
        seen.append(part.size)
        return part.astype(np.int64) * 2

    assert in_batches(answer, queries, batch=4).tolist() == list(range(0, 20, 2))
    assert seen == [4, 4, 2]


def test_duplicates_return_first_position():
    keys = np.array([5, 5, 5, 7, 7, 9], dtype=np.uint64)
    for kind in ("pgm", "rmi"):
        index = build_index(kind, keys)
        assert index.lookup(np.array([5, 6, 7, 8, 9, 10, 0])).tolist() == [0, 3, 3, 5, 5, 6, 0]


@pytest.mark.parametrize("kind", ["pgm", "rmi"])
def test_empty_and_single_key(kind):
    assert build_index(kind, np.array([], np.uint64)).lookup(np.array([0, 5])).tolist() == [0, 0]
    single = build_index(kind, np.array([42], np.uint64))
    assert single.lookup(np.array([0, 41, 42, 43])).tolist() == [0, 0, 0, 1]


@pytest.mark.parametrize("kind", ["pgm", "rmi"])
def test_bad_input_is_refused(kind):
    with pytest.raises(UnsortedKeysError, match="sorted ascending"):
        build_index(kind, np.array([3, 1, 2], np.uint64))
    with pytest.raises(TypeError, match="integers"):
        build_index(kind, np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="non-negative"):
        build_index(kind, np.array([-1, 2]))
    with pytest.raises(ValueError, match="unknown index kind"):
        build_index("btree", np.array([1], np.uint64))


@pytest.mark.parametrize("kind", ["pgm", "rmi"])
def test_a_python_list_of_keys_past_2_63_is_read_as_uint64(kind):
    """numpy alone reads [1, 2**63] as float64, and the keys were refused as not integers."""
    index = build_index(kind, [0, 1, 2**63, 2**64 - 1])
    expected = np.searchsorted(
        np.array([0, 1, 2**63, 2**64 - 1], np.uint64), np.array([5, 2**63], np.uint64)
    )
    assert index.lookup([5, 2**63]).tolist() == expected.tolist() == [2, 2]
    with pytest.raises(ValueError, match="non-negative"):
        build_index(kind, [-1, 2**64 - 1])
    with pytest.raises(ValueError, match="non-negative"):  # numpy scalars too: no wrap to 2**64 - 1
        build_index(kind, [np.uint64(2**63), np.int64(-1)])
    with pytest.raises(ValueError, match="64-bit unsigned"):
        build_index(kind, [0, 2**64])
    assert index.lookup([np.int64(-1), np.uint64(2**63)]).tolist() == [0, 2]
    assert index.lookup([-1, 2**63]).tolist() == [0, 2]


@pytest.mark.parametrize("kind", ["pgm", "rmi"])
def test_negative_queries_are_below_every_key_like_searchsorted(kind):
    keys = np.array([1, 5, 5, 9], np.int64)
    queries = np.array([-(2**63), -1, 0, 5, 10], np.int64)
    assert (
        build_index(kind, keys).lookup(queries).tolist() == np.searchsorted(keys, queries).tolist()
    )


@pytest.mark.parametrize("kind", ["pgm", "rmi"])
def test_the_index_keeps_its_own_copy_of_the_keys(kind):
    keys = np.arange(100, dtype=np.uint64) * 2
    index = build_index(kind, keys)
    keys[:] = 0  # the caller reuses its array
    assert index.lookup([50]).tolist() == [25]


def test_bad_parameters_are_refused():
    keys = np.arange(10, dtype=np.uint64)
    with pytest.raises(ValueError, match="epsilon"):
        PGMIndex(keys, epsilon=-1)
    for bad in (None, float("nan"), float("inf"), True, 2.5, "8"):
        with pytest.raises(ValueError, match="epsilon must be a whole number"):
            PGMIndex(keys, epsilon=bad)
    assert PGMIndex(keys, epsilon=8.0).epsilon == 8
    with pytest.raises(ValueError, match="num_models"):
        RMIIndex(keys, num_models=0)
    with pytest.raises(ValueError, match="num_models must be a whole number from 1 to"):
        RMIIndex(keys, num_models=10**12)  # 29 TiB of leaf models
    with pytest.raises(ValueError, match="root"):
        RMIIndex(keys, root="quartic")


@settings(max_examples=50, deadline=None)
@given(
    keys=small_keys,
    query=st.integers(0, 210),
    start=st.integers(0, 300),
    length=st.integers(1, 300),
)
def test_bounded_search_finds_lower_bound_inside_window(keys, query, start, length):
    if keys.size == 0:
        return
    start = min(start, keys.size - 1)
    length = min(length, keys.size - start)
    window = keys[start : start + length]
    expected = start + int(np.searchsorted(window, np.uint64(query)))
    q = np.array([query], np.uint64)
    assert bounded_lower_bound(keys, q, np.array([start]), length)[0] == expected
    assert bounded_lower_bound(keys, q, np.array([start]), np.array([length]))[0] == expected


def test_datasets_are_seeded_sorted_and_sized():
    for name in GENERATORS:
        first = generate_keys(name, 1_000, seed=7)
        assert first.dtype == np.uint64 and first.size == 1_000
        assert np.all(first[1:] >= first[:-1])
        np.testing.assert_array_equal(first, generate_keys(name, 1_000, seed=7))
        assert not np.array_equal(first, generate_keys(name, 1_000, seed=8))
    with pytest.raises(ValueError, match="unknown dataset"):
        generate_keys("zipf", 10)


@pytest.mark.parametrize("dataset", ["clustered", "books"])
def test_rmi_leaves_no_key_reaches_answer_absent_keys_without_a_full_search(dataset):
    """Clustered keys leave most leaves empty; absent queries landing there are answered by the
    leaf itself (they used to fall back to a full binary search almost every time)."""
    keys = generate_keys(dataset, 20_000, seed=1)
    queries = generate_queries(keys, 10_000, seed=2, absent_fraction=1.0)
    index = RMIIndex(keys, num_models=1024)
    np.testing.assert_array_equal(index.lookup(queries), np.searchsorted(keys, queries))
    assert index.fallbacks < 0.1 * queries.size


def test_pgm_keeps_no_upper_level_that_does_not_halve_the_level_below():
    rng = np.random.default_rng(0)
    keys = np.sort((2.0 ** rng.uniform(0, 63.999, size=20_000)).astype(np.uint64))
    index = PGMIndex(keys, epsilon=0, epsilon_recursive=0, top_size=1)
    sizes = [keys.size] + [level.first_keys.size for level in index.levels]
    assert all(2 * upper <= lower for lower, upper in zip(sizes[1:], sizes[2:], strict=False))
    level0 = index.levels[0]
    assert index.size_bytes <= 2 * (level0.first_keys.nbytes + level0.params.nbytes)
    queries = np.concatenate([keys, keys + np.uint64(1), rng.integers(0, 2**63, 1000).astype(np.uint64)])
    np.testing.assert_array_equal(index.lookup(queries), np.searchsorted(keys, queries))


def test_python_int_queries_outside_int64_are_answered_or_clearly_refused():
    index = PGMIndex(np.arange(5, dtype=np.uint64))
    assert index.lookup(2**64 - 1) == 5
    assert index.lookup(-(2**63) - 1) == 0
    with pytest.raises(ValueError, match="64-bit unsigned"):
        index.lookup(2**64)


def test_dataset_generators_refuse_bad_sizes_in_one_line():
    for size in (None, float("nan"), True, -1, 2.5, 10**10):
        with pytest.raises(ValueError, match="size must be a whole number"):
            generate_keys("uniform", size)
    with pytest.raises(ValueError, match="size must be a whole number"):
        generate_queries(np.arange(3, dtype=np.uint64), -1)
    queries = generate_queries([1, 2, 3], 4, seed=0)  # a plain list of keys is fine
    assert queries.dtype == np.uint64 and set(queries.tolist()) <= {1, 2, 3}
    with pytest.raises(UnsortedKeysError):
        generate_queries([3, 1], 4)


def test_dataset_generators_refuse_bad_seeds_and_fractions_naming_them():
    keys = np.arange(3, dtype=np.uint64)
    for seed in (-1, 2.5, "0"):
        with pytest.raises(ValueError, match="seed must be a whole number"):
            generate_keys("uniform", 10, seed=seed)
        with pytest.raises(ValueError, match="seed must be a whole number"):
            generate_queries(keys, 4, seed=seed)
    for fraction in ("0.5", float("nan"), -0.1):
        with pytest.raises(ValueError, match="absent_fraction must be a finite number"):
            generate_queries(keys, 4, absent_fraction=fraction)
    with pytest.raises(ValueError, match=r"absent_fraction must be in \[0, 1\]"):
        generate_queries(keys, 4, absent_fraction=1.5)


@pytest.mark.parametrize("root", ["linear", "cubic"])
def test_rmi_queries_above_the_largest_key_need_no_full_search(root):
    """A cubic root extrapolated past the last key used to turn down and send every larger
    query to leaf 0, answered only by the full-search repair; clamped, they land on the last
    training point, whose leaf window holds ``n``."""
    rng = np.random.default_rng(0)
    keys = np.sort(rng.integers(2**40, 2**41, 100_000, dtype=np.uint64))
    above = rng.integers(2**41, 2**62, 10_000, dtype=np.uint64)
    index = RMIIndex(keys, num_models=1024, root=root)
    np.testing.assert_array_equal(index.lookup(above), np.full(above.size, keys.size))
    assert index.fallbacks == 0


@pytest.mark.parametrize("dataset", ["normal", "books", "lognormal"])
@pytest.mark.parametrize("root", ["linear", "cubic"])
def test_rmi_windows_hold_every_answer_without_a_full_search(dataset, root):
    """Each leaf's line is clamped to the positions its points span (a query past a leaf's last
    point extrapolated out of its window) and a least-squares cubic that turns back is blended
    toward the line until it rises (it sent queries to far leaves): before, 0.3-43 % of these
    queries fell back to a full binary search."""
    keys = generate_keys(dataset, 20_000, seed=3)
    queries = generate_queries(keys, 20_000, seed=4, absent_fraction=0.5)
    index = RMIIndex(keys, num_models=1024, root=root)
    np.testing.assert_array_equal(index.lookup(queries), np.searchsorted(keys, queries))
    assert index.fallbacks == 0
    coefficients = np.polyder(index._root_coefficients)
    assert np.polyval(coefficients, np.linspace(0, 1, 1001)).min() >= 0


@pytest.mark.parametrize("kind", ["pgm", "rmi"])
def test_one_query_is_answered_with_one_number_like_searchsorted(kind):
    keys = np.array([1, 5, 5, 9], np.uint64)
    index = build_index(kind, keys)
    for query in (5, np.uint64(6), np.array(9), 2**64 - 1):
        answer = index.lookup(query)
        assert np.ndim(answer) == 0 and answer == np.searchsorted(keys, np.uint64(query))
    assert index.lookup([5]).tolist() == [1]
    assert np.ndim(build_index(kind, []).lookup(3)) == 0


@pytest.mark.parametrize("kind", ["pgm", "rmi"])
def test_object_arrays_of_python_ints_read_as_lists_and_masked_arrays_are_refused(kind):
    keys = np.array([1, 2**63, 2**64 - 1], dtype=object)
    index = build_index(kind, keys)
    assert index.lookup(np.array([0, 2**63 + 1], dtype=object)).tolist() == [0, 2]
    with pytest.raises(TypeError, match="masked array"):
        build_index(kind, np.ma.array([1, 2, 3], mask=[0, 1, 0]))
    with pytest.raises(TypeError, match="masked array"):
        index.lookup(np.ma.array([1, 2], mask=[1, 0]))


def test_pgm_refuses_an_error_bound_past_float_precision_in_one_line():
    for name in ("epsilon", "epsilon_recursive"):
        with pytest.raises(ValueError, match=f"{name} must be a whole number from 0 to"):
            PGMIndex([1, 2, 3], **{name: 10**400})


def test_rmi_leaves_fit_dense_keys_in_a_huge_range_exactly():
    """Normalised over a range of 2^63, keys one apart rounded ~1000 to one float: the leaf
    holding a run of 100,000 consecutive keys (beside one outlier at 0) erred by ~49,000."""
    keys = np.concatenate([[np.uint64(0)], np.arange(2**63, 2**63 + 100_000, dtype=np.uint64)])
    index = RMIIndex(keys, num_models=1024)
    assert index.max_error <= 1
    queries = np.concatenate([keys, keys + np.uint64(1), keys[1:] - np.uint64(1), [np.uint64(UINT64_MAX)]])
    assert np.array_equal(index.lookup(queries), np.searchsorted(keys, queries, side="left"))
    assert index.fallbacks == 0
    assert index.size_bytes == 1024 * 48 + index._root_coefficients.nbytes  # 48 bytes a leaf, as before


@pytest.mark.parametrize("kind", ["pgm", "rmi"])
def test_inputs_numpy_misreads_are_refused_or_read_as_meant(kind):
    """[1, True] was read as [1, 1]; a set or a generator of keys was 'a 1-D array, got shape
    ()'; one Python int in an object array was refused as 'dtype object' while the int itself
    was answered."""
    with pytest.raises(TypeError, match="keys must be integers, not booleans"):
        build_index(kind, [1, True])
    for keys in ({1, 2}, (k for k in (1, 2)), {1: 2}, {1: 2}.keys(), map(int, "12"), "abc", 5):  # (a string:
        # "a 1-D array, got shape ()")
        with pytest.raises(TypeError, match="keys must be an array or a list of integers, got"):
            build_index(kind, keys)
    with pytest.raises(ValueError, match="keys must be a 1-D array or list of integers"):
        build_index(kind, [[1, 2], [3]])
    index = build_index(kind, [1, 5, 2**64 - 1])
    with pytest.raises(TypeError, match="queries must be integers, not booleans"):
        index.lookup([3, False])
    assert index.lookup(np.array(2**64 - 1, dtype=object)) == index.lookup(2**64 - 1) == 2


def test_cdf_sketch_refuses_a_bad_number_of_points_in_words():
    from learned_systems.datasets import cdf_sketch

    for points in (-1, 0, 2.5, "3"):
        with pytest.raises((TypeError, ValueError), match="points"):
            cdf_sketch(np.arange(10, dtype=np.uint64), points)


@pytest.mark.parametrize("kind", ["pgm", "rmi-linear", "rmi-cubic"])
def test_an_index_built_in_slices_is_the_index_built_whole(kind, monkeypatch):
    """Builds measure their errors (and the RMI fits its leaves and root) slice by slice, so the
    per-point temporaries stay small (a 10M-key build peaked at 21-29x the key array); the
    slices change nothing but rounding in the root's normal equations."""
    from learned_systems.index import search

    keys = generate_keys("lognormal", 30_000, seed=4)
    queries = generate_queries(keys, 3_000, seed=5)

    def build():
        if kind == "pgm":
            return PGMIndex(keys, epsilon=16)
        return RMIIndex(keys, num_models=256, root=kind.split("-")[1])

    whole = build()
    monkeypatch.setattr(search, "BUILD_CHUNK", 1_000)
    sliced = build()
    assert sliced.max_error == whole.max_error
    np.testing.assert_array_equal(sliced.lookup(queries), np.searchsorted(keys, queries))
    if kind != "pgm":  # the root from the normal equations, not numpy's polyfit
        np.testing.assert_allclose(sliced._root_coefficients, whole._root_coefficients, rtol=1e-7, atol=1e-6)
        np.testing.assert_array_equal(sliced.leaf_errors, whole.leaf_errors)


def test_the_root_fit_is_numpys_polyfit_without_touching_the_warnings_filters(in_threads) -> None:  # type: ignore[no-untyped-def]
    """The single-slice root fit silenced polyfit's RankWarning with warnings.catch_warnings,
    which swaps process-wide state: builds in threads left RankWarning ignored for the whole
    program. The fit is now polyfit's own arithmetic, bit for bit, and warns of nothing."""
    import warnings

    from learned_systems.index.rmi import _polyfit

    rng = np.random.default_rng(0)
    for unit in (np.sort(rng.random(1000)), np.repeat([0.0, 0.5, 1.0], 4)):  # the second: rank 3 < 4
        unit = (unit - unit[0]) / (unit[-1] - unit[0])
        positions = np.arange(unit.size, dtype=np.float64)
        for degree in (1, 3):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = np.polyfit(unit, positions, degree)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                assert np.array_equal(_polyfit(unit, positions, degree), expected)
    filters = list(warnings.filters)
    keys = np.repeat(np.arange(5, dtype=np.uint64), 2000)  # few distinct keys
    built = in_threads(lambda _: RMIIndex(keys, num_models=64, root="cubic"), range(6))  # (raises a build's error)
    assert len(built) == 6 and warnings.filters == filters


_ROOT_PROBE = """
from learned_systems.datasets import load_keys
from learned_systems.index.rmi import RMIIndex

keys = load_keys("books", 1_000_000, seed=0)  # (~2M constraint points: the root fit in parts)
for root in ("linear", "cubic"):
    print(RMIIndex(keys, num_models=16, root=root)._root_coefficients.tolist())
"""


@pytest.mark.slow  # (over 10 s: `pytest -m "not slow"` leaves it out)
def test_the_rmi_root_is_the_same_bits_at_any_blas_thread_count(thread_probe) -> None:  # type: ignore[no-untyped-def]
    """The root fit's sums over 2^20 points and more went through a BLAS product, whose order
    follows its thread count: the root's last bits differed between 1 and 2 threads (at 3M
    keys, keys moved to other leaves)."""
    assert thread_probe(_ROOT_PROBE, 1) == thread_probe(_ROOT_PROBE, 2)


def test_the_indexes_reprs_are_their_parameters_and_sizes_not_their_keys():
    keys = generate_keys("lognormal", 5000, seed=0)
    pgm, rmi = PGMIndex(keys, epsilon=32), RMIIndex(keys, num_models=64)
    assert repr(pgm) == (f"PGMIndex(keys=5000, epsilon=32, epsilon_recursive=8, levels={len(pgm.levels)}, "
                         f"segments={pgm.num_segments}, size_bytes={pgm.size_bytes})")
    assert repr(rmi) == (f"RMIIndex(keys=5000, num_models=64, root='linear', max_error={rmi.max_error}, "
                         f"size_bytes={rmi.size_bytes})")
