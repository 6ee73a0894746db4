"""SQLite workloads: YCSB A/B/C/F, a small order-entry transaction mix and an analytical mix.

A workload knows how to build its database (``setup``, done once into a template file) and how
to run one transaction (``transaction``), returning how many operations it performed. Keys follow
a scrambled Zipf distribution (theta 0.99, as in YCSB) so hot rows spread over many pages; a YCSB
transaction groups many operations (``ops_per_transaction``); the order-entry mix runs TPC-C-like
transactions of 1 to 46 statements (about 16 on average: a payment runs 3, an order status 1 or
2). Sizes are set by ``rows`` so the database is larger than SQLite's default 2 MB page cache
while trials stay short.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from learned_systems.errors import InputError
from learned_systems.validation import whole_number

FIELD_BYTES = 100  # YCSB records: one 100-byte payload field per row (plus the key)


class ZipfKeys:
    """Scrambled Zipfian keys over ``[0, count)``: rank ``r`` drawn with probability ~ 1/r^theta."""

    def __init__(self, count: int, theta: float = 0.99, seed: int = 0) -> None:
        weights = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** theta
        self._cdf = np.cumsum(weights / weights.sum())
        self._scramble = np.random.default_rng(seed).permutation(count)

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        ranks = np.minimum(np.searchsorted(self._cdf, rng.random(size)), self._cdf.size - 1)
        return self._scramble[ranks]


#: The base's fields that shape only the transactions, not the database :meth:`Workload.setup`
#: builds (left out of the default template key, so they share a template).
TRANSACTION_FIELDS = ("name", "ops_per_transaction")


def _key_text(value: Any) -> str:
    """A field's value as the default template key reads it: its ``repr``, or for an array its
    type, shape and bytes' digest (numpy shortens a large array's repr with "...")."""
    if isinstance(value, np.ndarray):
        data = hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()
        return f"ndarray({value.dtype}, {value.shape}, {data})"
    return repr(value)


@dataclass
class Workload:
    """Base: ``rows`` sets the database size, ``ops_per_transaction`` the transaction size.

    A workload of one's own (a dataclass subclass) writes :meth:`setup` and :meth:`transaction`,
    and :meth:`prepare` when it keeps per-trial state (calling ``super().prepare``).
    """

    name: str
    rows: int = 200_000
    ops_per_transaction: int = 20

    #: A class's own template name, its instances' key being ``NAME-rows``: set by a class whose
    #: fields other than ``rows`` shape only its transactions, so that its variants share one
    #: template (the built-ins: ``ycsb``, ``orders``). Read from the class itself, never
    #: inherited: a subclass (a payload field of its own) may build another database.
    SHARED_TEMPLATE: ClassVar[str | None] = None

    def template_key(self) -> str:
        """Workloads with equal keys share a template database (a file name part).

        ``SHARED_TEMPLATE-rows`` for a class that sets :attr:`SHARED_TEMPLATE` itself; else the
        class's name and a digest of every dataclass field but :data:`TRANSACTION_FIELDS`: a
        field of a subclass may shape the database (a payload size), and a key of ``rows`` alone
        measured a 4,000-byte-payload workload on another's 64-byte rows.
        """
        shared = type(self).__dict__.get("SHARED_TEMPLATE")
        if shared is not None:
            return f"{shared}-{self.rows}"
        shaping = [
            (field.name, _key_text(getattr(self, field.name)))
            for field in fields(self)
            if field.name not in TRANSACTION_FIELDS
        ]
        kind = f"{type(self).__module__}.{type(self).__qualname__}"
        digest = hashlib.sha256(repr((kind, sorted(shaping))).encode()).hexdigest()[:16]
        return f"{type(self).__name__}-{self.rows}-{digest}"

    def setup(self, conn: sqlite3.Connection, seed: int) -> None:  # pragma: no cover - abstract
        """Build the database once into ``conn`` (a template every trial copies).

        It runs inside a transaction the backend opened (``BEGIN``) and commits afterwards: a
        ``setup`` need not commit, and one that does (``conn.commit()``, or ``executescript``,
        which commits first) is fine, its later statements then committing one by one
        (slower to build). Seed any randomness from ``seed``.
        """
        raise NotImplementedError

    def prepare(self, seed: int) -> None:
        """Per-trial state (random generators) before the first transaction."""
        self.rng = np.random.default_rng(seed)

    def transaction(self, conn: sqlite3.Connection) -> int:  # pragma: no cover - abstract
        """Run one transaction on the trial's copy; the number of operations it performed.

        ``conn`` is in autocommit mode (``isolation_level=None``): every statement outside an
        explicit ``BEGIN`` ... ``COMMIT`` is a transaction of its own, so a transaction of
        several statements opens and commits its own (as :class:`YCSB`'s does). Draw random
        numbers from ``self.rng`` (seeded by :meth:`prepare`).
        """
        raise NotImplementedError


@dataclass
class YCSB(Workload):
    """YCSB core workloads over ``usertable``: A 50/50 read/update, B 95/5, C read only,
    F 50% read and 50% read-modify-write."""

    read_fraction: float = 0.5
    read_modify_write: bool = False

    SHARED_TEMPLATE = "ycsb"

    def setup(self, conn: sqlite3.Connection, seed: int) -> None:
        rng = np.random.default_rng(seed)
        conn.execute("CREATE TABLE usertable (ycsb_key INTEGER PRIMARY KEY, field0 BLOB NOT NULL)")
        batch = 20_000
        for start in range(0, self.rows, batch):
            count = min(batch, self.rows - start)
            payload = rng.bytes(FIELD_BYTES * count)
            conn.executemany(
                "INSERT INTO usertable VALUES (?, ?)",
                (
                    (start + i, payload[i * FIELD_BYTES : (i + 1) * FIELD_BYTES])
                    for i in range(count)
                ),
            )

    def prepare(self, seed: int) -> None:
        super().prepare(seed)
        self._keys = ZipfKeys(self.rows, seed=0)
        self._payload = np.random.default_rng(seed + 1).bytes(FIELD_BYTES)
        self._writes = 0  # numbers every update's value, so that no two are the same

    def transaction(self, conn: sqlite3.Connection) -> int:
        keys = self._keys.draw(self.rng, self.ops_per_transaction).tolist()
        reads = (self.rng.random(self.ops_per_transaction) < self.read_fraction).tolist()
        conn.execute("BEGIN")
        for key, is_read in zip(keys, reads, strict=True):
            if is_read:
                conn.execute("SELECT field0 FROM usertable WHERE ycsb_key = ?", (key,)).fetchone()
            else:
                if self.read_modify_write:
                    row = conn.execute(
                        "SELECT field0 FROM usertable WHERE ycsb_key = ?", (key,)
                    ).fetchone()
                    value = bytes(reversed(row[0]))
                else:
                    # a new value each time, as YCSB writes: SQLite skips writing a page whose
                    # bytes do not change, and hot Zipf keys would soon hold the value already
                    # (65-81% of ycsb-a's updates wrote nothing when every update wrote one value)
                    self._writes += 1
                    value = self._writes.to_bytes(8, "little") + self._payload[8:]
                conn.execute("UPDATE usertable SET field0 = ? WHERE ycsb_key = ?", (value, key))
        conn.execute("COMMIT")
        return self.ops_per_transaction


def _order_schema(conn: sqlite3.Connection, rows: int, rng: np.random.Generator) -> None:
    """Customers, items, orders and order lines (TPC-C-like, one warehouse)."""
    schema = """
        CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT, balance REAL, payments INTEGER,
                               data BLOB);
        CREATE TABLE item (id INTEGER PRIMARY KEY, price REAL, stock INTEGER, data BLOB);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, created INTEGER,
                             total REAL, lines INTEGER);
        CREATE INDEX orders_customer ON orders (customer_id, id);
        CREATE TABLE order_line (order_id INTEGER, line INTEGER, item_id INTEGER, quantity INTEGER,
                                 amount REAL, PRIMARY KEY (order_id, line)) WITHOUT ROWID;
        CREATE TABLE history (customer_id INTEGER, amount REAL, created INTEGER);
        """
    for statement in schema.split(";"):  # not executescript: it would commit the open transaction
        if statement.strip():
            conn.execute(statement)
    customers = rows // 4
    items = rows // 4
    conn.executemany(
        "INSERT INTO customer VALUES (?, ?, ?, 0, ?)",
        ((i, f"customer-{i}", 0.0, rng.bytes(60)) for i in range(customers)),
    )
    prices = rng.uniform(1, 100, items).round(2).tolist()
    conn.executemany(
        "INSERT INTO item VALUES (?, ?, 100000, ?)",
        ((i, prices[i], rng.bytes(60)) for i in range(items)),
    )
    order_customers = rng.integers(0, customers, rows).tolist()
    line_counts = rng.integers(1, 8, rows).tolist()
    conn.executemany(
        "INSERT INTO orders VALUES (?, ?, ?, 0.0, ?)",
        ((o, order_customers[o], o, line_counts[o]) for o in range(rows)),
    )
    line_items = rng.integers(0, items, sum(line_counts)).tolist()
    quantities = rng.integers(1, 10, len(line_items)).tolist()
    cursor = 0
    lines = []
    for order, count in enumerate(line_counts):
        for line in range(count):
            item = line_items[cursor]
            lines.append((order, line, item, quantities[cursor], prices[item] * quantities[cursor]))
            cursor += 1
    conn.executemany("INSERT INTO order_line VALUES (?, ?, ?, ?, ?)", lines)
    conn.execute(
        "UPDATE orders SET total = (SELECT sum(amount) FROM order_line WHERE order_id = orders.id)"
    )


@dataclass
class OrderEntry(Workload):
    """Transaction mix: new order 45%, payment 43%, order status 12%, each many statements."""

    SHARED_TEMPLATE = "orders"

    def setup(self, conn: sqlite3.Connection, seed: int) -> None:
        _order_schema(conn, self.rows, np.random.default_rng(seed))

    def prepare(self, seed: int) -> None:
        super().prepare(seed)
        self._customers = ZipfKeys(self.rows // 4, seed=1)
        self._items = ZipfKeys(self.rows // 4, seed=2)
        self._next_order: int | None = None

    def transaction(self, conn: sqlite3.Connection) -> int:
        if self._next_order is None:
            self._next_order = conn.execute("SELECT max(id) + 1 FROM orders").fetchone()[0]
        kind = self.rng.random()
        customer = int(self._customers.draw(self.rng, 1)[0])
        conn.execute("BEGIN")
        ops = 0
        if kind < 0.45:  # new order: read items, update stock, insert order and lines
            items = self._items.draw(self.rng, int(self.rng.integers(5, 16))).tolist()
            order = self._next_order
            self._next_order += 1
            total = 0.0
            for line, item in enumerate(items):
                (price,) = conn.execute("SELECT price FROM item WHERE id = ?", (item,)).fetchone()
                conn.execute("UPDATE item SET stock = stock - 1 WHERE id = ?", (item,))
                conn.execute(
                    "INSERT INTO order_line VALUES (?, ?, ?, 1, ?)", (order, line, item, price)
                )
                total += price
                ops += 3
            conn.execute(
                "INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
                (order, customer, order, total, len(items)),
            )
            ops += 1
        elif kind < 0.88:  # payment: update customer, append history
            amount = float(self.rng.uniform(1, 5000))
            conn.execute(
                "UPDATE customer SET balance = balance - ?, payments = payments + 1 WHERE id = ?",
                (amount, customer),
            )
            conn.execute("INSERT INTO history VALUES (?, ?, ?)", (customer, amount, 0))
            conn.execute("SELECT name, balance FROM customer WHERE id = ?", (customer,)).fetchone()
            ops += 3
        else:  # order status: latest order of the customer and its lines
            row = conn.execute(
                "SELECT id FROM orders WHERE customer_id = ? ORDER BY id DESC LIMIT 1", (customer,)
            ).fetchone()
            ops += 1
            if row:
                conn.execute("SELECT * FROM order_line WHERE order_id = ?", (row[0],)).fetchall()
                ops += 1
        conn.execute("COMMIT")
        return ops


@dataclass
class Analytical(Workload):
    """Read-only analytical mix over the order tables: a date-range filter (a full scan:
    ``created`` has no index), aggregates, a join."""

    QUERIES = (
        "SELECT count(*), sum(total), avg(lines) FROM orders WHERE created BETWEEN ? AND ?",
        "SELECT item_id % 50, sum(amount), count(*) FROM order_line WHERE order_id BETWEEN ? AND ? "
        "GROUP BY 1 ORDER BY 2 DESC",
        "SELECT c.id, count(*), sum(o.total) FROM orders o JOIN customer c ON c.id = o.customer_id "
        "WHERE o.id BETWEEN ? AND ? GROUP BY c.id ORDER BY 3 DESC LIMIT 10",
        "SELECT i.id, sum(l.quantity) FROM order_line l JOIN item i ON i.id = l.item_id "
        "WHERE l.order_id BETWEEN ? AND ? AND i.price > 50 GROUP BY i.id",
    )

    SHARED_TEMPLATE = "orders"

    def setup(self, conn: sqlite3.Connection, seed: int) -> None:
        _order_schema(conn, self.rows, np.random.default_rng(seed))

    def transaction(self, conn: sqlite3.Connection) -> int:
        width = max(self.rows // 50, 1)
        conn.execute("BEGIN")
        for query in self.QUERIES:
            start = int(self.rng.integers(0, max(self.rows - width, 1)))
            conn.execute(query, (start, start + width)).fetchall()
        conn.execute("COMMIT")
        return len(self.QUERIES)


WORKLOAD_NAMES = ("ycsb-a", "ycsb-b", "ycsb-c", "ycsb-f", "orders", "analytical")


#: Fewest rows a workload's database may have: below it some tables of the order-entry and
#: analytical mixes would be empty and every trial would fail.
MIN_ROWS = 100


def make_workload(
    name: str, rows: int | None = None, ops_per_transaction: int | None = None
) -> Workload:
    """The workload called ``name`` (see :data:`WORKLOAD_NAMES`), ``rows`` sizing its database;
    ``ops_per_transaction`` sizes a YCSB transaction (default 20; the order-entry and
    analytical mixes have transactions of their own shape).

    Raises:
        ValueError: an unknown name, fewer than :data:`MIN_ROWS` rows, fewer than one
            operation per transaction, or operations per transaction for a non-YCSB mix.
    """
    if rows is not None:
        rows = whole_number("rows", rows, MIN_ROWS)
    if ops_per_transaction is None:
        ops_per_transaction = 20
    else:
        ops_per_transaction = whole_number("ops_per_transaction", ops_per_transaction, 1)
        if name in ("orders", "analytical"):
            raise InputError(
                f"ops_per_transaction sizes the YCSB workloads; {name!r} transactions have a "
                "fixed shape"
            )
    size: dict[str, Any] = {} if rows is None else {"rows": rows}
    if name == "ycsb-a":
        return YCSB(name, read_fraction=0.5, ops_per_transaction=ops_per_transaction, **size)
    if name == "ycsb-b":
        return YCSB(name, read_fraction=0.95, ops_per_transaction=ops_per_transaction, **size)
    if name == "ycsb-c":
        return YCSB(name, read_fraction=1.0, ops_per_transaction=ops_per_transaction, **size)
    if name == "ycsb-f":
        return YCSB(
            name,
            read_fraction=0.5,
            read_modify_write=True,
            ops_per_transaction=ops_per_transaction,
            **size,
        )
    if name == "orders":
        return OrderEntry(name, **size)
    if name == "analytical":
        return Analytical(name, **size)
    raise InputError(f"unknown SQLite workload {name!r}: expected one of {list(WORKLOAD_NAMES)}")
