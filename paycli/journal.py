"""The local record of every money-moving call: written before the call, completed after it.

It is both the audit trail (`paycli audit`) and the resume log: an entry left `pending` (paycli died
mid-call) or `unknown` (the answer was lost) holds the `api_request_key` to call again with, so the
gateway answers with the original result instead of moving money a second time. One intent is one
entry: a resume reopens the entry it resumes and closes it with the gateway's answer.

SQLite in WAL mode under the state directory, shared safely by concurrent workers and processes. All SQL
lives in `Journal`, so another backend only has to provide the same methods.
"""

from __future__ import annotations

import getpass
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from paycli.errors import ConfigError, Unavailable

PENDING, DONE, FAILED, UNKNOWN = "pending", "done", "failed", "unknown"
UNFINISHED = (PENDING, UNKNOWN)
# How long a write waits for another process that holds the journal before giving up (exit 6): long enough
# for another run's own writes (milliseconds), short enough that a stuck holder is reported, not waited out.
LOCK_WAIT_S = 5.0
T = TypeVar("T")


class JournalLocked(Unavailable):
    """Another process holds the journal for longer than LOCK_WAIT_S; the caller says what that means for money."""

    type = "journal_locked"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    operator TEXT NOT NULL,
    profile TEXT NOT NULL,
    environment TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    amount TEXT,
    order_id TEXT,
    reason TEXT,
    api_request_key TEXT NOT NULL,
    state TEXT NOT NULL,
    result_id TEXT,
    error TEXT,
    batch TEXT,
    batch_row INTEGER
);
CREATE INDEX IF NOT EXISTS entries_key ON entries (merchant_id, api_request_key);
CREATE INDEX IF NOT EXISTS entries_txn ON entries (transaction_id);
CREATE INDEX IF NOT EXISTS entries_created ON entries (created_at);
"""


@dataclass(frozen=True)
class Context:
    """Who moves money, where: stamped on every entry."""

    profile: str
    environment: str
    merchant_id: str
    operator: str = ""

    @classmethod
    def current(cls, profile: str, environment: str, merchant_id: str) -> "Context":
        try:
            operator = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (some containers): still say something true
            operator = "unknown"
        return cls(profile, environment, merchant_id, operator)


@dataclass(frozen=True)
class Entry:
    id: int
    created_at: datetime
    finished_at: datetime | None
    operator: str
    profile: str
    environment: str
    merchant_id: str
    kind: str
    transaction_id: str
    amount: Decimal | None
    order_id: str | None
    reason: str | None
    api_request_key: str
    state: str
    result_id: str | None
    error: str | None
    batch: str | None
    batch_row: int | None


def _now() -> str:
    return _stamp(datetime.now(timezone.utc))


def _stamp(moment: datetime) -> str:
    """UTC ISO text, which sorts and compares as the instants do."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _entry(row: sqlite3.Row) -> Entry:
    values = dict(row)
    values["created_at"] = datetime.fromisoformat(values["created_at"])
    values["finished_at"] = datetime.fromisoformat(values["finished_at"]) if values["finished_at"] else None
    values["amount"] = Decimal(values["amount"]) if values["amount"] is not None else None
    return Entry(**values)


def _locked(err: sqlite3.Error) -> bool:
    return isinstance(err, sqlite3.OperationalError) and ("locked" in str(err) or "busy" in str(err))


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._run(lambda db: db.executescript(_SCHEMA))
        except (OSError, sqlite3.Error) as err:
            raise ConfigError(f"cannot open the journal {path}: {err}") from None

    def _db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            wait = LOCK_WAIT_S
            conn = sqlite3.connect(self.path, timeout=wait, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
            self._local.conn = conn  # kept before the WAL pragma, which can meet a lock: close() still closes it
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across a crash of paycli; the api_request_key covers the rest
        return conn

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """One statement (or script) against the journal; a lock held past LOCK_WAIT_S becomes JournalLocked."""
        try:
            return work(self._db())
        except sqlite3.Error as err:
            if not _locked(err):
                raise
            raise JournalLocked(f"the journal {self.path} is locked by another process (waited {LOCK_WAIT_S:g} s)",
                                journal=str(self.path)) from None

    def begin(self, context: Context, *, kind: str, transaction_id: str, amount: Decimal | None,
              api_request_key: str, order_id: str | None = None, reason: str | None = None,
              batch: str | None = None, batch_row: int | None = None) -> int:
        """Record the intent before the call; committed when this returns."""
        cursor = self._run(lambda db: db.execute(
            "INSERT INTO entries (created_at, operator, profile, environment, merchant_id, kind, transaction_id,"
            " amount, order_id, reason, api_request_key, state, batch, batch_row)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (_now(), context.operator, context.profile, context.environment, context.merchant_id, kind,
             transaction_id, str(amount) if amount is not None else None, order_id, reason, api_request_key,
             PENDING, batch, batch_row),
        ))
        return int(cursor.lastrowid)

    def reopen(self, entry_id: int) -> None:
        """An unfinished entry is about to be sent again under its own key: `pending` until the answer."""
        self._run(lambda db: db.execute("UPDATE entries SET state = ?, finished_at = NULL WHERE id = ?",
                                        (PENDING, entry_id)))

    def finish(self, entry_id: int, state: str, *, result_id: str | None = None, error: str | None = None) -> None:
        self._run(lambda db: db.execute(
            "UPDATE entries SET state = ?, finished_at = ?, result_id = ?, error = ? WHERE id = ?",
            (state, _now(), result_id, error, entry_id),
        ))

    def latest(self, merchant_id: str, api_request_key: str) -> Entry | None:
        row = self._run(lambda db: db.execute(
            "SELECT * FROM entries WHERE merchant_id = ? AND api_request_key = ? ORDER BY id DESC LIMIT 1",
            (merchant_id, api_request_key),
        ).fetchone())
        return _entry(row) if row else None

    def unfinished(self, merchant_id: str, kind: str, transaction_id: str) -> list[Entry]:
        """Calls for this transaction whose outcome paycli never learned, newest first."""
        rows = self._run(lambda db: db.execute(
            "SELECT * FROM entries WHERE merchant_id = ? AND kind = ? AND transaction_id = ? AND state IN (?, ?)"
            " ORDER BY id DESC",
            (merchant_id, kind, transaction_id, *UNFINISHED),
        ).fetchall())
        return [_entry(row) for row in rows]

    def last_done(self, merchant_id: str, kind: str, transaction_id: str, amount: Decimal, *,
                  since: datetime) -> Entry | None:
        """The newest `done` call of this kind, transaction and amount created at or after `since`."""
        row = self._run(lambda db: db.execute(
            "SELECT * FROM entries WHERE merchant_id = ? AND kind = ? AND transaction_id = ? AND amount = ?"
            " AND state = ? AND created_at >= ? ORDER BY id DESC LIMIT 1",
            (merchant_id, kind, transaction_id, str(amount), DONE, _stamp(since)),
        ).fetchone())
        return _entry(row) if row else None

    def entries(self, *, since: datetime | None = None, until: datetime | None = None, kind: str | None = None,
                transaction_id: str | None = None) -> Iterator[Entry]:
        clauses, args = ["1 = 1"], []
        if since is not None:
            clauses.append("created_at >= ?")
            args.append(_stamp(since))
        if until is not None:
            clauses.append("created_at <= ?")
            args.append(_stamp(until))
        if kind is not None:
            clauses.append("kind = ?")
            args.append(kind)
        if transaction_id is not None:
            clauses.append("(transaction_id = ? OR result_id = ?)")
            args.extend([transaction_id, transaction_id])
        rows = self._run(lambda db: db.execute(f"SELECT * FROM entries WHERE {' AND '.join(clauses)} ORDER BY id", args))
        for row in rows:
            yield _entry(row)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
