"""Key validation and the (key, position) points a learned index must fit.

Lower-bound semantics: the answer for a query ``q`` is the number of keys ``< q``. For integer
keys every query falls either on a distinct key ``u_i`` (answer: its first position) or in
``[u_i + 1, u_{i+1}]`` (answer: the first position of ``u_{i+1}``). Fitting a *monotone* model
within ``eps`` on both kinds of points therefore bounds the error for every possible query,
including absent keys and duplicates.
"""

from __future__ import annotations

import numpy as np

from learned_systems.errors import InputError

UINT64_MAX = np.iinfo(np.uint64).max


class UnsortedKeysError(InputError):
    """Raised when an index is built over keys that are not sorted ascending."""


def _integer_array(values, what: str, negatives_to_zero: bool = False) -> np.ndarray:
    """``values`` as an array; a Python sequence of integers beyond int64 (up to 2**64 - 1) is
    read as uint64 (numpy alone turns a list mixing keys below and above 2**63 into floats).
    Negative items of such a sequence become 0 with ``negatives_to_zero``, else are refused."""
    if isinstance(values, np.ma.MaskedArray):  # np.array would keep the hidden values
        raise TypeError(f"{what} must not be a masked array (pass the values to use, "
                        "e.g. array.compressed())")  # fmt: skip
    if isinstance(values, np.ndarray) and values.dtype.kind != "O":
        return values
    try:
        array = np.asarray(values)
    except ValueError as error:  # ragged nested lists
        raise InputError(f"{what} must be a 1-D array or list of integers ({error})") from None
    if array.ndim == 0 and array.dtype.kind == "O" and not isinstance(values, np.ndarray):
        # a set, a dict or its views, a generator: numpy holds the object itself ("must be a
        # 1-D array, got shape ()")
        raise TypeError(f"{what} must be an array or a list of integers, got {type(values).__name__}")
    if isinstance(values, list | tuple) and array.dtype.kind in "iub" and any(
        isinstance(v, bool | np.bool_) for v in values
    ):  # numpy reads [1, True] as [1, 1]; a bool array is refused below
        raise TypeError(f"{what} must be integers, not booleans")
    if array.dtype.kind in "fO" and array.ndim == 1 and array.size:
        items = list(array if isinstance(values, np.ndarray) else values)
        if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in items):
            numbers = [int(v) for v in items]  # exact, whatever each item's numpy type
            if min(numbers) < 0:
                if not negatives_to_zero:
                    raise InputError(
                        f"{what} must be non-negative (they are stored as unsigned 64-bit)"
                    )
                numbers = [max(v, 0) for v in numbers]
            if max(numbers) > int(UINT64_MAX):
                raise InputError(f"{what} must be 64-bit unsigned integers (0 to 2**64 - 1)")
            return np.array(numbers, dtype=np.uint64)
    return array


def as_sorted_keys(keys) -> np.ndarray:
    """Return ``keys`` as a read-only contiguous uint64 copy, refusing unsorted or invalid
    input. A copy: an index over the caller's array would answer wrongly, silently, after the
    caller changed it."""
    array = _integer_array(keys, "keys")
    if array.ndim == 0 and not isinstance(keys, np.ndarray):  # ("got shape ()" for a string or a number)
        raise TypeError(f"keys must be an array or a list of integers, got {type(keys).__name__}: {keys!r}")
    if array.ndim != 1:
        raise InputError(f"keys must be a 1-D array, got shape {array.shape}")
    if array.size and array.dtype.kind not in "iu":
        raise TypeError(f"keys must be integers (64-bit keys), got dtype {array.dtype}")
    if array.size and array.dtype.kind == "i" and array.min() < 0:
        raise InputError("keys must be non-negative (they are stored as unsigned 64-bit)")
    array = np.array(array, dtype=np.uint64, order="C", copy=True)
    if array.size > 1 and bool(np.any(array[1:] < array[:-1])):
        first_bad = int(np.argmax(array[1:] < array[:-1])) + 1
        raise UnsortedKeysError(
            f"keys must be sorted ascending: keys[{first_bad - 1}]={array[first_bad - 1]} > "
            f"keys[{first_bad}]={array[first_bad]} (sort them first, e.g. numpy.sort)"
        )
    array.flags.writeable = False
    return array


def as_queries(queries) -> np.ndarray:
    """Return query keys as a contiguous uint64 array (a negative query asks for position 0,
    as query 0 does: every key is >= 0). Queries are integers: floats are refused, and so are
    values above 2**64 - 1, which no 64-bit key can be compared with exactly."""
    if isinstance(queries, int) and not isinstance(queries, bool):
        queries = [queries]  # a Python int beyond int64 would become an object array
    elif isinstance(queries, np.ndarray) and queries.dtype.kind == "O" and queries.ndim == 0:
        queries = [queries.item()]  # one Python int held in an array, read as the int itself
    array = _integer_array(queries, "queries", negatives_to_zero=True)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise InputError(f"queries must be a 1-D array, got shape {array.shape}")
    if array.size and array.dtype.kind not in "iu":
        raise TypeError(f"queries must be integers, got dtype {array.dtype}")
    if array.size and array.dtype.kind == "i" and array.min() < 0:
        # below every (unsigned) key: lower bound 0, the answer of query 0, as searchsorted gives
        array = np.maximum(array, 0)
    return np.ascontiguousarray(array, dtype=np.uint64)


def shaped_like(queries, positions: np.ndarray) -> np.ndarray | np.int64:
    """``positions`` answering ``queries`` as given: one number for one query (a Python or
    numpy scalar, or a 0-d array), as ``numpy.searchsorted`` answers, else the array."""
    return positions[0] if np.ndim(queries) == 0 else positions


def constraint_points(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points ``(x, lower_bound(x))`` that bound the error of a monotone model for every query.

    For each distinct key ``u_i`` (first position ``p_i``) the point ``(u_i, p_i)``; when the next
    integer ``u_i + 1`` is not itself a key, also ``(u_i + 1, p_{i+1})`` (``p_{i+1} = n`` after
    the last key). Returned sorted by ``x`` with strictly increasing ``x``.
    """
    n = keys.size
    if n == 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    # (built with few temporaries alive at once: a 10M-key build's peak was set here)
    is_first = np.empty(n, dtype=bool)
    is_first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=is_first[1:])
    first_pos = np.flatnonzero(is_first).astype(np.int64, copy=False)
    del is_first
    unique = keys if first_pos.size == n else keys[first_pos]  # (distinct keys: no copy)
    has_gap = np.ones(unique.size, dtype=bool)  # the successor u_i + 1 is not the next key
    np.not_equal(unique[:-1] + np.uint64(1), unique[1:], out=has_gap[:-1])
    if unique[-1] == UINT64_MAX:  # (its successor wraps: no point past the largest key)
        has_gap[-1] = False
    xs = np.empty(unique.size + int(has_gap.sum()), dtype=np.uint64)
    ys = np.empty(xs.size, dtype=np.int64)
    # Interleave: each key, followed by its successor point when there is a gap.
    slots = np.empty(unique.size, dtype=np.int64)  # slot i = i + gaps before key i
    slots[0] = 0
    np.add(has_gap[:-1], 1, out=slots[1:], dtype=np.int64)  # (in place: an arange added was
    np.cumsum(slots[1:], out=slots[1:])  # one more array of the keys' size at the peak)
    xs[slots] = unique
    ys[slots] = first_pos
    del first_pos
    gap_slots = slots[has_gap]
    del slots
    gap_slots += 1
    successors = unique[has_gap]
    successors += np.uint64(1)
    xs[gap_slots] = successors
    del successors
    del unique
    # a successor point's position is the next distinct key's first one: the point right after
    # it (n past the last key, whose successor point, when it has one, is the last point)
    last_is_gap = bool(has_gap[-1])
    inner = gap_slots[:-1] if last_is_gap else gap_slots
    ys[inner] = ys[inner + 1]
    if last_is_gap:
        ys[-1] = n
    return xs, ys
