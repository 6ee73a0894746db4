"""Seeded key distributions in the style of SOSD, at any size up to 1e9 keys (8 GB), as sorted
uint64 arrays.

``uniform``, ``normal``, ``lognormal`` mirror the SOSD synthetic sets; ``books`` is a
heavy-tailed mix standing in for the popularity-skewed real ``books`` set (a lognormal body, a
Pareto tail and dense runs of consecutive ids); ``clustered`` packs keys into narrow clusters
spread over a wide range. Duplicates are kept, as in the SOSD files. The SOSD files
themselves are read by :func:`load_keys` (see :mod:`learned_systems.sosd`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from learned_systems.errors import InputError
from learned_systems.index.keys import as_sorted_keys
from learned_systems.validation import finite_number, whole_number

_SCALE = 2.0**52  # key units per standard deviation of the normal keys (they span 0..~2^55)


def _uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**63, size=n, dtype=np.uint64)


def _normal(rng: np.random.Generator, n: int) -> np.ndarray:
    values = rng.normal(0.0, 1.0, size=n)
    return ((values - values.min()) * _SCALE).astype(np.uint64)


def _lognormal(rng: np.random.Generator, n: int) -> np.ndarray:
    values = rng.lognormal(mean=0.0, sigma=2.0, size=n)
    return (values * 1e9).astype(np.uint64)


def _books(rng: np.random.Generator, n: int) -> np.ndarray:
    body = int(n * 0.7)
    tail = int(n * 0.2)
    runs = n - body - tail
    parts = [
        (rng.lognormal(mean=20.0, sigma=1.5, size=body)).astype(np.uint64),
        ((rng.pareto(1.2, size=tail) + 1.0) * 2.0**30).clip(max=2.0**62).astype(np.uint64),
    ]
    if runs:
        run_starts = rng.integers(2**40, 2**44, size=max(runs // 1000, 1), dtype=np.uint64)
        offsets = rng.integers(0, 1000, size=runs, dtype=np.uint64)
        parts.append(rng.choice(run_starts, size=runs) + offsets)
    return np.concatenate(parts)


def _clustered(rng: np.random.Generator, n: int) -> np.ndarray:
    clusters = max(n // 10_000, 4)
    centres = rng.uniform(2.0**40, 2.0**60, size=clusters)
    spread = rng.uniform(2.0**20, 2.0**30, size=clusters)
    which = rng.integers(0, clusters, size=n)
    values = rng.normal(centres[which], spread[which])
    return np.clip(values, 0, 2.0**63).astype(np.uint64)


#: Most keys (or queries) generated at once: 8 GB of uint64.
MAX_KEYS = 1_000_000_000

#: The key distributions by dataset name: ``generate(rng, n)`` returns ``n`` keys as a uint64
#: array in any order (:func:`generate_keys` sorts them), drawn from ``rng`` so that a seed
#: repeats them. One of one's own is added under its name (docs/extending.md, "Extending learned_systems").
GENERATORS: dict[str, Callable[[np.random.Generator, int], np.ndarray]] = {
    "uniform": _uniform,
    "normal": _normal,
    "lognormal": _lognormal,
    "books": _books,
    "clustered": _clustered,
}


def generate_keys(name: str, size: int, seed: int = 0) -> np.ndarray:
    """Sorted uint64 keys of distribution ``name`` (see :data:`GENERATORS`), reproducible by seed."""
    if name not in GENERATORS:
        raise InputError(f"unknown dataset {name!r}: expected one of {sorted(GENERATORS)}")
    size = whole_number("size", size, 0, MAX_KEYS)
    rng = np.random.default_rng(whole_number("seed", seed, 0))
    keys = _generated_keys(name, GENERATORS[name](rng, size), size) if size else np.zeros(0, np.uint64)
    keys.sort()
    return keys


def _generated_keys(name: str, keys: object, size: int) -> np.ndarray:
    """A generator's result as uint64 keys, refused by the generator's name where it is not
    ``size`` whole numbers >= 0 in a 1-D array (one of one's own returning floats, a list or
    a key short failed later in numpy's words, or was taken as it was)."""
    kind = getattr(getattr(keys, "dtype", None), "kind", None)
    if not (isinstance(keys, np.ndarray) and keys.ndim == 1 and kind in ("u", "i") and keys.size == size):
        got = (f"a {keys.ndim}-D {keys.dtype} array of {keys.size}" if isinstance(keys, np.ndarray)
               else f"a {type(keys).__name__}")
        raise InputError(f"the key generator {name!r} returned {got} (expected a 1-D numpy array of "
                         f"{size} unsigned 64-bit integer keys)")
    if kind == "i" and keys.size and int(keys.min()) < 0:
        raise InputError(f"the key generator {name!r} returned negative keys (keys are unsigned 64-bit integers)")
    return keys if keys.dtype == np.uint64 else keys.astype(np.uint64)


def is_key_file(dataset: str | os.PathLike[str]) -> bool:
    """Whether ``dataset`` names a SOSD key file rather than one of :data:`GENERATORS`: a path
    object, or a string that is no generator's name."""
    return not (isinstance(dataset, str) and dataset in GENERATORS)


def dataset_label(dataset: str | os.PathLike[str]) -> str:
    """A short name for ``dataset`` in results, run names and plots: a generator's name, or a
    key file's name (``books_200M_uint64``) with anything but letters, digits, ``.``, ``_`` and
    ``-`` replaced by ``_``, and ``_file`` added to a file named like a generator
    (``./lognormal`` is ``lognormal_file``: its results are not the generated set's)."""
    if not is_key_file(dataset):
        return str(dataset)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(dataset).name) or "keys"
    return f"{name}_file" if name in GENERATORS else name


def check_dataset(dataset: object) -> None:
    """Refuse a dataset that is neither a generator's name nor an existing file.

    Raises:
        ValueError: naming the dataset and what is expected.
    """
    if isinstance(dataset, str) and dataset in GENERATORS:
        return
    if isinstance(dataset, str | os.PathLike) and str(dataset) and Path(dataset).is_file():
        return
    if isinstance(dataset, np.ndarray):  # (the whole array was printed)
        raise InputError(
            f"dataset is a name or a key file, got an array of {dataset.size:,} values: to tune for keys of one's "
            "own, write them as a SOSD key file (learned_systems.sosd.write_sosd(path, keys)) and pass its path; "
            "keys= is how many keys to use"
        )
    shown = repr(dataset)
    shown = shown if len(shown) <= 200 else shown[:197] + "..."
    raise InputError(
        f"unknown dataset {shown}: expected one of {sorted(GENERATORS)} or the path of a SOSD "
        "key file (an 8-byte key count, then the sorted keys as uint64 or uint32)"
    )


def load_keys(dataset: str | os.PathLike[str], size: int, seed: int = 0) -> np.ndarray:
    """``size`` sorted uint64 keys of ``dataset``: generated (a :data:`GENERATORS` name, by
    ``seed``) or read from a SOSD key file (an evenly spaced subset of ``size`` keys, every key
    when the file holds fewer; ``seed`` unused)."""
    check_dataset(dataset)
    if not is_key_file(dataset):
        return generate_keys(str(dataset), size, seed=seed)
    from learned_systems.sosd import SOSDFormatError, read_sosd

    keys = read_sosd(dataset, max_keys=whole_number("size", size, 0, MAX_KEYS))
    if keys.size == 0 and size > 0:  # (an index over nothing scores as if perfect)
        raise SOSDFormatError(f"{dataset}: holds no keys (its count is 0): nothing to index")
    return keys


def generate_queries(
    keys: np.ndarray, size: int, seed: int = 0, absent_fraction: float = 0.0
) -> np.ndarray:
    """Query keys: drawn uniformly from ``keys`` (SOSD style), a fraction replaced by random
    values between the smallest and largest key (mostly absent from the set)."""
    absent_fraction = finite_number("absent_fraction", absent_fraction, 0.0)
    if absent_fraction > 1.0:
        raise InputError(f"absent_fraction must be in [0, 1], got {absent_fraction}")
    size = whole_number("size", size, 0, MAX_KEYS)
    seed = whole_number("seed", seed, 0)
    if not (isinstance(keys, np.ndarray) and keys.dtype == np.uint64 and keys.ndim == 1):
        keys = as_sorted_keys(keys)  # checked and converted (a copy)
    elif keys.size > 1 and bool(np.any(keys[1:] < keys[:-1])):  # checked without a copy
        keys = as_sorted_keys(keys)  # raises, naming the first unsorted pair
    rng = np.random.default_rng(seed)
    if keys.size == 0:
        return rng.integers(0, 2**63, size=size, dtype=np.uint64)
    queries = keys[rng.integers(0, keys.size, size=size)]
    absent = rng.random(size) < absent_fraction
    if absent.any():
        low, high = int(keys[0]), int(keys[-1]) + 1
        queries[absent] = rng.integers(low, high, size=int(absent.sum()), dtype=np.uint64)
    return queries


def cdf_sketch(keys: np.ndarray, points: int = 32) -> np.ndarray:
    """A fixed-size summary of the key distribution for agents: the normalised key value at
    ``points`` evenly spaced quantiles (the inverse CDF), then the duplicate fraction and
    ``log10(n) / 10``. All entries lie in [0, 1]. ``keys`` as :func:`as_sorted_keys` takes
    them (a list too)."""
    points = whole_number("points", points, 1)
    keys = as_sorted_keys(keys)
    sketch = np.zeros(points + 2, dtype=np.float32)
    if keys.size == 0:
        return sketch
    picks = keys[np.round(np.linspace(0, keys.size - 1, points)).astype(np.int64)]
    # offsets from the smallest key taken in integers first: keys near 2**63 are 2048 apart as
    # float64, so converting them first flattened a 1000-wide key range to all zeros
    span = float(keys[-1] - keys[0])
    offsets = (picks - keys[0]).astype(np.float64)
    sketch[:points] = offsets / span if span > 0 else 0.0
    sketch[points] = (
        1.0 - np.count_nonzero(np.diff(keys)) / max(keys.size - 1, 1) if keys.size > 1 else 0.0
    )
    sketch[points + 1] = min(np.log10(keys.size) / 10.0, 1.0)
    return np.clip(sketch, 0.0, 1.0)
