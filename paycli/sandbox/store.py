"""The sandbox's state: SQLite in WAL mode, shared safely by threads and by several processes.

Rows only: no HTTP, no XML, no Braintree rules. A transaction is kept as a JSON document next to
the few columns that searches narrow on; every write that must be all-or-nothing (a sale and its
idempotency record, a refund and the original's refund ids) runs in one `BEGIN IMMEDIATE`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS merchants (
    id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL UNIQUE,
    private_key TEXT NOT NULL,
    accounts TEXT NOT NULL,              -- JSON {merchant_account_id: currency}, default first
    timezone TEXT NOT NULL DEFAULT 'UTC',
    nightly_settlement TEXT,             -- 'HH:MM' local cutoff, or NULL: nothing settles by itself
    settled_through TEXT                 -- last cutoff instant already applied (ISO UTC)
);
CREATE TABLE IF NOT EXISTS transactions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    settled_at TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_created ON transactions (merchant_id, created_at);
CREATE INDEX IF NOT EXISTS transactions_settled ON transactions (merchant_id, settled_at);
CREATE INDEX IF NOT EXISTS transactions_status ON transactions (merchant_id, status);
CREATE TABLE IF NOT EXISTS customers (
    merchant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
CREATE TABLE IF NOT EXISTS payment_methods (
    merchant_id TEXT NOT NULL,
    token TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    doc TEXT NOT NULL,
    PRIMARY KEY (merchant_id, token)
);
CREATE INDEX IF NOT EXISTS payment_methods_customer ON payment_methods (merchant_id, customer_id, seq);
CREATE TABLE IF NOT EXISTS idempotency (
    merchant_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (merchant_id, key)
);
CREATE TABLE IF NOT EXISTS client_nonces (  -- single-use nonces the browser's client API tokenized
    nonce TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    consumed_at TEXT,
    doc TEXT NOT NULL                    -- card details without the full number (a published test card excepted)
);
"""


@dataclass(frozen=True)
class Merchant:
    id: str
    public_key: str
    private_key: str = field(repr=False)
    accounts: dict[str, str] = field(default_factory=dict)  # merchant account id → currency
    timezone: str = "UTC"
    nightly_settlement: str | None = None

    @property
    def default_account(self) -> str:
        return next(iter(self.accounts))


def default_accounts(merchant_id: str) -> dict[str, str]:
    return {f"{merchant_id}_usd": "USD", f"{merchant_id}_eur": "EUR"}


class Store:
    """One database file; a connection per thread, created on first use."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._local = threading.local()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # Merchants' private keys are stored here: owner-only. SQLite creates the -wal and -shm files
            # with the database file's mode, so they follow.
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        self._connection().executescript(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One atomic write; IMMEDIATE takes the write lock up front so checks and writes agree."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def read(self) -> sqlite3.Connection:
        return self._connection()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # merchants -------------------------------------------------------------------------

    def put_merchant(self, merchant: Merchant) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO merchants (id, public_key, private_key, accounts, timezone, nightly_settlement)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET public_key=excluded.public_key,"
                " private_key=excluded.private_key, accounts=excluded.accounts, timezone=excluded.timezone,"
                " nightly_settlement=excluded.nightly_settlement",
                (
                    merchant.id,
                    merchant.public_key,
                    merchant.private_key,
                    json.dumps(merchant.accounts),
                    merchant.timezone,
                    merchant.nightly_settlement,
                ),
            )

    def merchant(self, merchant_id: str) -> Merchant | None:
        row = (
            self.read()
            .execute(
                "SELECT id, public_key, private_key, accounts, timezone, nightly_settlement FROM merchants WHERE id = ?",
                (merchant_id,),
            )
            .fetchone()
        )
        if row is None:
            return None
        return Merchant(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5])

    def merchants(self) -> list[Merchant]:
        ids = [row[0] for row in self.read().execute("SELECT id FROM merchants ORDER BY id")]
        return [m for m in (self.merchant(i) for i in ids) if m]

    def settled_through(self, db: sqlite3.Connection, merchant_id: str) -> str | None:
        row = db.execute("SELECT settled_through FROM merchants WHERE id = ?", (merchant_id,)).fetchone()
        return row[0] if row else None

    def mark_settled_through(self, db: sqlite3.Connection, merchant_id: str, instant: str) -> None:
        db.execute("UPDATE merchants SET settled_through = ? WHERE id = ?", (instant, merchant_id))

    # transactions ------------------------------------------------------------------------

    def insert_transaction(self, db: sqlite3.Connection, merchant_id: str, doc: dict[str, Any]) -> None:
        db.execute(
            "INSERT INTO transactions (merchant_id, id, type, status, created_at, settled_at, doc)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                merchant_id,
                doc["id"],
                doc["type"],
                doc["status"],
                doc["created_at"],
                doc.get("settled_at"),
                json.dumps(doc, separators=(",", ":")),
            ),
        )

    def update_transaction(self, db: sqlite3.Connection, merchant_id: str, doc: dict[str, Any]) -> None:
        db.execute(
            "UPDATE transactions SET status = ?, settled_at = ?, doc = ? WHERE merchant_id = ? AND id = ?",
            (doc["status"], doc.get("settled_at"), json.dumps(doc, separators=(",", ":")), merchant_id, doc["id"]),
        )

    def transaction(self, db: sqlite3.Connection, merchant_id: str, txn_id: str) -> dict[str, Any] | None:
        row = db.execute(
            "SELECT doc FROM transactions WHERE merchant_id = ? AND id = ?", (merchant_id, txn_id)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def transaction_text(self, db: sqlite3.Connection, merchant_id: str, txn_id: str) -> str | None:
        """The stored JSON document as text, for callers that key caches on it."""
        row = db.execute(
            "SELECT doc FROM transactions WHERE merchant_id = ? AND id = ?", (merchant_id, txn_id)
        ).fetchone()
        return row[0] if row else None

    def transaction_exists(self, db: sqlite3.Connection, txn_id: str) -> bool:
        return db.execute("SELECT 1 FROM transactions WHERE id = ?", (txn_id,)).fetchone() is not None

    def transactions_by_ids(self, merchant_id: str, ids: list[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        # `+merchant_id`: look rows up by the unique id index; with an index on merchant_id to choose from, the
        # planner would otherwise read every row of the merchant for each page (0.2 s at 100,000 rows)
        rows = (
            self.read()
            .execute(f"SELECT doc FROM transactions WHERE +merchant_id = ? AND id IN ({marks})", (merchant_id, *ids))
            .fetchall()
        )
        docs = {doc["id"]: doc for doc in (json.loads(row[0]) for row in rows)}
        return [docs[i] for i in ids if i in docs]

    def scan_transactions(
        self,
        merchant_id: str,
        *,
        created: tuple[str | None, str | None] = (None, None),
        settled: tuple[str | None, str | None] = (None, None),
        statuses: Iterable[str] | None = None,
        ids: Iterable[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Transactions in creation order, narrowed by the indexed columns; callers filter the rest."""
        clauses, args = ["merchant_id = ?"], [merchant_id]
        for column, (low, high) in (("created_at", created), ("settled_at", settled)):
            if low is not None:
                clauses.append(f"{column} >= ?")
                args.append(low)
            if high is not None:
                clauses.append(f"{column} <= ?")
                args.append(high)
        for column, values in (("status", statuses), ("id", ids)):
            if values is not None:
                values = list(values)
                clauses.append(f"{column} IN ({','.join('?' * len(values))})")
                args.extend(values)
        sql = f"SELECT doc FROM transactions WHERE {' AND '.join(clauses)} ORDER BY created_at, seq"
        for row in self.read().execute(sql, args):
            yield json.loads(row[0])

    def pending_settlement(self, db: sqlite3.Connection, merchant_id: str, before: str) -> list[dict[str, Any]]:
        rows = db.execute(
            "SELECT doc FROM transactions WHERE merchant_id = ? AND status IN ('submitted_for_settlement', 'settling')",
            (merchant_id,),
        ).fetchall()
        docs = (json.loads(row[0]) for row in rows)
        return [doc for doc in docs if doc.get("submitted_for_settlement_at", doc["created_at"]) < before]

    # customers ---------------------------------------------------------------------------

    def customer(self, db: sqlite3.Connection, merchant_id: str, customer_id: str) -> dict[str, Any] | None:
        row = db.execute(
            "SELECT doc FROM customers WHERE merchant_id = ? AND id = ?", (merchant_id, customer_id)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def put_customer(self, db: sqlite3.Connection, merchant_id: str, doc: dict[str, Any]) -> None:
        db.execute(
            "INSERT INTO customers (merchant_id, id, doc) VALUES (?, ?, ?)"
            " ON CONFLICT(merchant_id, id) DO UPDATE SET doc = excluded.doc",
            (merchant_id, doc["id"], json.dumps(doc)),
        )

    def delete_customer(self, db: sqlite3.Connection, merchant_id: str, customer_id: str) -> bool:
        cursor = db.execute("DELETE FROM customers WHERE merchant_id = ? AND id = ?", (merchant_id, customer_id))
        return cursor.rowcount > 0

    # vaulted payment methods -------------------------------------------------------------

    def payment_method(self, db: sqlite3.Connection, merchant_id: str, token: str) -> dict[str, Any] | None:
        row = db.execute(
            "SELECT doc FROM payment_methods WHERE merchant_id = ? AND token = ?", (merchant_id, token)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def customer_payment_methods(
        self,
        db: sqlite3.Connection,
        merchant_id: str,
        customer_id: str,
    ) -> list[dict[str, Any]]:
        rows = db.execute(
            "SELECT doc FROM payment_methods WHERE merchant_id = ? AND customer_id = ? ORDER BY seq",
            (merchant_id, customer_id),
        ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def put_payment_method(self, db: sqlite3.Connection, merchant_id: str, doc: dict[str, Any]) -> None:
        db.execute(
            "INSERT INTO payment_methods (merchant_id, token, customer_id, seq, doc) VALUES (?, ?, ?,"
            " (SELECT COALESCE(MAX(seq), 0) + 1 FROM payment_methods WHERE merchant_id = ?), ?)"
            " ON CONFLICT(merchant_id, token) DO UPDATE SET doc = excluded.doc",
            (merchant_id, doc["token"], doc["customer_id"], merchant_id, json.dumps(doc)),
        )

    def delete_payment_methods(self, db: sqlite3.Connection, merchant_id: str, customer_id: str) -> None:
        db.execute("DELETE FROM payment_methods WHERE merchant_id = ? AND customer_id = ?", (merchant_id, customer_id))

    # idempotency -------------------------------------------------------------------------

    def idempotent_reply(self, db: sqlite3.Connection, merchant_id: str, key: str) -> tuple[str, int, bytes] | None:
        row = db.execute(
            "SELECT fingerprint, status, body FROM idempotency WHERE merchant_id = ? AND key = ?", (merchant_id, key)
        ).fetchone()
        return (row[0], row[1], bytes(row[2])) if row else None

    def remember_reply(
        self, db: sqlite3.Connection, merchant_id: str, key: str, fingerprint: str, status: int, body: bytes
    ) -> None:
        db.execute(
            "INSERT OR REPLACE INTO idempotency (merchant_id, key, fingerprint, status, body) VALUES (?, ?, ?, ?, ?)",
            (merchant_id, key, fingerprint, status, body),
        )

    # client-API nonces -------------------------------------------------------------------

    def put_client_nonce(
        self, db: sqlite3.Connection, merchant_id: str, nonce: str, created_at: str, doc: dict[str, Any]
    ) -> None:
        db.execute(
            "INSERT INTO client_nonces (nonce, merchant_id, created_at, doc) VALUES (?, ?, ?, ?)",
            (nonce, merchant_id, created_at, json.dumps(doc)),
        )

    def client_nonce(
        self,
        db: sqlite3.Connection,
        merchant_id: str,
        nonce: str,
    ) -> tuple[dict[str, Any], str | None] | None:
        """(doc, consumed_at) of a nonce this merchant's client API issued."""
        row = db.execute(
            "SELECT doc, consumed_at FROM client_nonces WHERE merchant_id = ? AND nonce = ?", (merchant_id, nonce)
        ).fetchone()
        return (json.loads(row[0]), row[1]) if row else None

    def consume_client_nonce(self, db: sqlite3.Connection, merchant_id: str, nonce: str, at: str) -> bool:
        cursor = db.execute(
            "UPDATE client_nonces SET consumed_at = ? WHERE merchant_id = ? AND nonce = ? AND consumed_at IS NULL",
            (at, merchant_id, nonce),
        )
        return cursor.rowcount > 0

    # housekeeping ------------------------------------------------------------------------

    def reset(self, merchant_id: str | None = None) -> None:
        """Forget transactions, customers, client nonces and idempotency records (merchants stay)."""
        with self.write() as db:
            for table in ("transactions", "customers", "payment_methods", "idempotency", "client_nonces"):
                if merchant_id is None:
                    db.execute(f"DELETE FROM {table}")
                else:
                    db.execute(f"DELETE FROM {table} WHERE merchant_id = ?", (merchant_id,))
            db.execute(
                "UPDATE merchants SET settled_through = NULL" + (" WHERE id = ?" if merchant_id else ""),
                (merchant_id,) if merchant_id else (),
            )

    def counts(self, merchant_id: str) -> dict[str, int]:
        rows = (
            self.read()
            .execute("SELECT status, COUNT(*) FROM transactions WHERE merchant_id = ? GROUP BY status", (merchant_id,))
            .fetchall()
        )
        return {status: count for status, count in rows}
