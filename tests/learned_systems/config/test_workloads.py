"""SQLite workloads: key skew, operation mixes, the order-entry invariants, database sizes."""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest

from learned_systems.config.workloads import WORKLOAD_NAMES, Workload, ZipfKeys, make_workload

DEFAULT_CACHE_BYTES = 2000 * 1024  # SQLite's default cache_size = -2000 (KiB)


def _loaded(name: str, rows: int = 2_000, seed: int = 0):
    """An in-memory database set up for workload ``name``, and the prepared workload."""
    workload = make_workload(name, rows=rows)
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("BEGIN")
    workload.setup(conn, seed)
    conn.execute("COMMIT")
    workload.prepare(seed)
    return workload, conn


def _statement_kinds(name: str, transactions: int) -> tuple[Counter, int]:
    """Counts of SELECT / UPDATE / INSERT statements run by ``transactions`` transactions."""
    workload, conn = _loaded(name)
    kinds: Counter = Counter()
    conn.set_trace_callback(lambda sql: kinds.update([sql.split()[0].upper()]))
    operations = sum(workload.transaction(conn) for _ in range(transactions))
    return kinds, operations


def test_zipf_keys_are_skewed_like_ycsb_and_scrambled():
    keys = ZipfKeys(1_000, theta=0.99, seed=0)
    draws = keys.draw(np.random.default_rng(1), 200_000)
    assert draws.min() >= 0 and draws.max() < 1_000
    counts = np.bincount(draws, minlength=1_000)
    harmonic = (1.0 / np.arange(1, 1_001) ** 0.99).sum()
    assert counts.max() / draws.size == pytest.approx(1.0 / harmonic, rel=0.05)
    hottest = np.argsort(counts)[::-1][:10]
    assert np.ptp(hottest) > 100  # the hot keys are spread over the table, not one range
    again = keys.draw(np.random.default_rng(1), 200_000)
    np.testing.assert_array_equal(draws, again)


@pytest.mark.parametrize(
    ("name", "update_share"), [("ycsb-a", 0.5), ("ycsb-b", 0.05), ("ycsb-c", 0.0)]
)
def test_ycsb_read_update_mix(name, update_share):
    kinds, operations = _statement_kinds(name, 300)
    assert operations == 300 * 20
    assert kinds["SELECT"] + kinds["UPDATE"] == operations
    assert kinds["UPDATE"] / operations == pytest.approx(update_share, abs=0.03)
    assert kinds["BEGIN"] == kinds["COMMIT"] == 300  # many operations per transaction


@pytest.mark.parametrize("name", ["ycsb-a", "ycsb-b"])
def test_every_ycsb_update_writes_a_new_value(name):
    """SQLite skips writing a page whose bytes do not change: with one value for every update,
    hot Zipf keys soon held it already and most updates wrote nothing (65-81% on ycsb-a)."""
    workload, conn = _loaded(name)
    for _ in range(100):
        workload.transaction(conn)
    values = [row[0] for row in conn.execute("SELECT field0 FROM usertable")]
    assert len(values) == len(set(values))  # the loaded rows and every update all differ


def test_ycsb_f_reads_before_it_writes_back():
    kinds, operations = _statement_kinds("ycsb-f", 300)
    updates = kinds["UPDATE"]
    assert updates / operations == pytest.approx(0.5, abs=0.03)
    assert kinds["SELECT"] == operations  # every operation reads, updates read first
    workload, conn = _loaded("ycsb-f")
    before = dict(conn.execute("SELECT ycsb_key, field0 FROM usertable"))
    workload.transaction(conn)
    after = dict(conn.execute("SELECT ycsb_key, field0 FROM usertable"))
    changed = [key for key in before if before[key] != after[key]]
    assert changed and all(after[key] in (before[key][::-1], before[key]) for key in changed)


def test_order_entry_keeps_stock_totals_and_payments_consistent():
    workload, conn = _loaded("orders")
    stock_before = conn.execute("SELECT sum(stock) FROM item").fetchone()[0]
    orders_before = conn.execute("SELECT max(id) FROM orders").fetchone()[0]
    for _ in range(200):
        workload.transaction(conn)
    new_lines = conn.execute(
        "SELECT count(*) FROM order_line WHERE order_id > ?", (orders_before,)
    ).fetchone()[0]
    assert stock_before - conn.execute("SELECT sum(stock) FROM item").fetchone()[0] == new_lines
    mismatched = conn.execute(
        "SELECT count(*) FROM orders o WHERE o.id > ? AND abs(o.total - (SELECT sum(amount) "
        "FROM order_line l WHERE l.order_id = o.id)) > 1e-6",
        (orders_before,),
    ).fetchone()[0]
    assert mismatched == 0
    new_orders = conn.execute("SELECT count(*) FROM orders WHERE id > ?", (orders_before,))
    payments = conn.execute("SELECT count(*) FROM history").fetchone()[0]
    assert conn.execute("SELECT sum(payments) FROM customer").fetchone()[0] == payments
    # the documented mix: new order 45 %, payment 43 %, order status 12 % (200 draws)
    assert 60 <= new_orders.fetchone()[0] <= 120 and 55 <= payments <= 115


def test_analytical_mix_only_reads():
    workload, conn = _loaded("analytical")
    changes = conn.total_changes
    assert all(workload.transaction(conn) == 4 for _ in range(20))
    assert conn.total_changes == changes


def test_a_workload_declares_no_read_only_flag_that_nothing_reads():
    """``Workload.read_only`` (True for ycsb-c and analytical) was read by nothing: neither the
    trial nor its WAL checkpoint depended on it, so a workload of one's own setting it changed
    nothing. Removed, its template key unchanged (it was left out of the key's digest)."""
    from dataclasses import fields

    from learned_systems.config.workloads import YCSB

    assert "read_only" not in {field.name for field in fields(Workload)}
    with pytest.raises(TypeError, match="read_only"):
        YCSB("ycsb-c", read_fraction=1.0, read_only=True)  # type: ignore[call-arg]


@pytest.mark.parametrize("name", ["ycsb-a", "orders"])
def test_default_databases_outgrow_the_default_page_cache(name, tmp_path):
    workload = make_workload(name)
    path = tmp_path / "template.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    workload.setup(conn, 0)
    conn.execute("COMMIT")
    conn.close()
    assert path.stat().st_size > 5 * DEFAULT_CACHE_BYTES


def test_workload_names_and_sizes():
    assert {make_workload(name, rows=100).rows for name in WORKLOAD_NAMES} == {100}
    shared = {make_workload(name).template_key() for name in ("orders", "analytical")}
    assert len(shared) == 1  # the two order workloads share one template database
    with pytest.raises(ValueError, match="unknown SQLite workload 'tpcc'.*ycsb-a"):
        make_workload("tpcc")


@dataclass
class _Blobs(Workload):
    """A workload of one's own with a field that shapes its database."""

    payload: int = 64


def test_the_default_template_key_follows_the_fields_that_shape_the_database():
    """It named ``rows`` only: workloads differing in a field of their own (a payload size)
    shared a template; a name or a transaction size still shares one."""
    base = _Blobs("blobs", rows=1_000)
    assert _Blobs("blobs", rows=1_000, payload=4_000).template_key() != base.template_key()
    assert _Blobs("blobs", rows=2_000).template_key() != base.template_key()
    assert _Blobs("other", rows=1_000, ops_per_transaction=5).template_key() == base.template_key()
    weights = np.zeros(5_000)  # (numpy shortens a large array's repr: equal for these two)
    changed = weights.copy()
    changed[2_500] = 1.0
    assert _Blobs("blobs", payload=weights).template_key() != _Blobs("blobs", payload=changed).template_key()
    assert _Blobs("blobs", payload=weights).template_key() == _Blobs("blobs", payload=weights.copy()).template_key()


def test_the_built_in_workloads_share_templates_as_before():
    """The built-ins keep their own keys: the YCSB mixes share one database, orders and
    analytical another."""
    keys = {name: make_workload(name, rows=3_000).template_key() for name in WORKLOAD_NAMES}
    assert len({keys[name] for name in WORKLOAD_NAMES if name.startswith("ycsb")}) == 1
    assert keys["orders"] == keys["analytical"] != keys["ycsb-a"]


def test_a_subclass_of_a_built_in_workload_gets_a_key_of_its_own():
    """A subclass of YCSB with a payload field of its own inherited YCSB's short key and shared
    its template (the review): a built-in's short key is its own class's only."""
    from learned_systems.config.workloads import YCSB, Analytical, OrderEntry

    @dataclass
    class BigYCSB(YCSB):
        payload: int = 4000

    @dataclass
    class MoreOrders(OrderEntry):
        extra: int = 1

    @dataclass
    class MoreAnalytical(Analytical):
        extra: int = 1

    ycsb = make_workload("ycsb-a", rows=3_000)
    assert BigYCSB(name="big", rows=3_000).template_key() != ycsb.template_key() == "ycsb-3000"
    orders, analytical = make_workload("orders", rows=3_000), make_workload("analytical", rows=3_000)
    assert MoreOrders(name="o", rows=3_000).template_key() != orders.template_key()
    assert MoreAnalytical(name="a", rows=3_000).template_key() != analytical.template_key()
