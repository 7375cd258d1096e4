"""The local record of every money-moving call: written before the call, completed after it.

It is both the audit trail (`paycli audit`) and the resume log: an entry left `pending` (paycli died
mid-call) or `unknown` (the answer was lost) holds the `api_request_key` to call again with, so the
gateway answers with the original result instead of moving money a second time. One intent is one
entry: a resume reopens the entry it resumes and closes it with the gateway's answer.

Two homes, one set of entries and semantics: SQLite in WAL mode under the state directory (the default,
shared safely by the workers and processes of one machine), or a team's PostgreSQL database
(`journal: postgresql://...`, see `paycli.journal_pg`). All SQL lives in `Journal` and is written once for
both; a store (`SqliteStore` here, `PostgresStore` there) supplies connections, the few dialect
differences, error translation, and the per-transaction lock a team needs.

The journal creates and upgrades its own schema (`journal_schema` holds the version); a database written
by a newer paycli is refused rather than guessed at.
"""

from __future__ import annotations

import getpass
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from paycli.errors import ConfigError, PaycliError, Unavailable

PENDING, DONE, FAILED, UNKNOWN = "pending", "done", "failed", "unknown"
UNFINISHED = (PENDING, UNKNOWN)
# How long a write waits for another process that holds the journal before giving up (exit 6): long enough
# for another run's own writes (milliseconds), short enough that a stuck holder is reported, not waited out.
LOCK_WAIT_S = 5.0

# Version n's statements upgrade a journal from version n-1. {id} is the one column whose type differs.
# Version 1 is the journal as paycli first wrote it (no version table): such a file is taken as version 1.
SCHEMA_VERSION = 3
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE IF NOT EXISTS entries (
            id {id},
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
        )""",
        "CREATE INDEX IF NOT EXISTS entries_key ON entries (merchant_id, api_request_key)",
        "CREATE INDEX IF NOT EXISTS entries_txn ON entries (transaction_id)",
        "CREATE INDEX IF NOT EXISTS entries_created ON entries (created_at)",
    ),
    2: (  # who is user@host: a team's journal holds many machines
        "ALTER TABLE entries ADD COLUMN host TEXT",
    ),
    3: (  # an amount means nothing without its currency; NULL on entries written before it was recorded
        "ALTER TABLE entries ADD COLUMN currency TEXT",
    ),
}
_KEYS_PER_QUERY = 500  # under SQLite's oldest limit of 999 parameters per statement
_VERSION_TABLE = "CREATE TABLE IF NOT EXISTS journal_schema (version INTEGER NOT NULL)"
ENTRY_COLUMNS = (
    "created_at",
    "finished_at",
    "operator",
    "host",
    "profile",
    "environment",
    "merchant_id",
    "kind",
    "transaction_id",
    "amount",
    "currency",
    "order_id",
    "reason",
    "api_request_key",
    "state",
    "result_id",
    "error",
    "batch",
    "batch_row",
)


class JournalUnavailable(Unavailable):
    """The journal cannot be reached or written right now (exit 6); the caller says what that means for money."""

    type = "journal_unavailable"


class JournalLocked(JournalUnavailable):
    """Another process holds the (SQLite) journal for longer than LOCK_WAIT_S."""

    type = "journal_locked"


class TransactionBusy(Unavailable):
    """Another agent held the transaction's lock for longer than the bounded wait (exit 6: try again)."""

    type = "transaction_busy"


@dataclass(frozen=True)
class Context:
    """Who moves money, where: stamped on every entry."""

    profile: str
    environment: str
    merchant_id: str
    operator: str = ""
    host: str = ""

    @classmethod
    def current(cls, profile: str, environment: str, merchant_id: str) -> Context:
        try:
            operator = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (some containers): still say something true
            operator = "unknown"
        return cls(profile, environment, merchant_id, operator, socket.gethostname() or "unknown")


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
    currency: str | None  # the transaction's; None: written by a paycli from before currencies were recorded
    order_id: str | None
    reason: str | None
    api_request_key: str
    state: str
    result_id: str | None
    error: str | None
    batch: str | None
    batch_row: int | None
    host: str | None = None  # None: written by a paycli from before hosts were recorded

    @property
    def who(self) -> str:
        return f"{self.operator}@{self.host}" if self.host else self.operator


def _now() -> str:
    return _stamp(datetime.now(timezone.utc))


def _stamp(moment: datetime) -> str:
    """UTC ISO text, which sorts and compares as the instants do."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _entry(row: Any) -> Entry:
    values = dict(row)
    values["created_at"] = datetime.fromisoformat(values["created_at"])
    values["finished_at"] = datetime.fromisoformat(values["finished_at"]) if values["finished_at"] else None
    values["amount"] = Decimal(values["amount"]) if values["amount"] is not None else None
    return Entry(**values)


class Store(Protocol):
    """What a backend gives `Journal`: connections speaking `?` placeholders, and its dialect's few words."""

    location: str  # where the journal is, safe to print (no password)
    id_column: str  # DDL of an auto-numbered primary key
    shared: bool  # a team's journal: entries from other machines, locks that span them

    def connection(self) -> Any: ...  # this thread's; `execute(sql, params)` returns a cursor of mapping rows
    def migrating(self) -> AbstractContextManager[Any]: ...  # one writer at a time while the schema changes
    def has_table(self, conn: Any, name: str) -> bool: ...
    def translate(self, err: Exception) -> PaycliError | None: ...  # a driver error as exit 4/6, None: a bug
    def hold(self, key: str) -> AbstractContextManager[bool]: ...  # the per-transaction lock; True if it waited
    def server_version(self) -> str | None: ...  # a database server's version, for `journal status`
    def lazy_commit(self) -> AbstractContextManager[Any]: ...  # a connection whose commits need not wait for the disk
    def close(self) -> None: ...


class SqliteStore:
    """One SQLite file in WAL mode, a connection per thread."""

    id_column = "INTEGER PRIMARY KEY AUTOINCREMENT"
    shared = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        self._local = threading.local()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ConfigError(f"cannot open the journal {path}: {err}") from None

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            wait = LOCK_WAIT_S
            conn = sqlite3.connect(self.path, timeout=wait, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
            self._local.conn = conn  # kept before the WAL pragma, which can meet a lock: close() still closes it
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "PRAGMA synchronous=NORMAL"
            )  # WAL: durable across a crash of paycli; the api_request_key covers the rest
        return conn

    @contextmanager
    def migrating(self) -> Iterator[sqlite3.Connection]:
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def has_table(self, conn: sqlite3.Connection, name: str) -> bool:
        return (
            conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
            is not None
        )

    def translate(self, err: Exception) -> PaycliError | None:
        if isinstance(err, sqlite3.OperationalError) and ("locked" in str(err) or "busy" in str(err)):
            return JournalLocked(
                f"the journal {self.path} is locked by another process (waited {LOCK_WAIT_S:g} s)",
                journal=self.location,
            )
        if isinstance(err, sqlite3.Error):
            return ConfigError(f"cannot use the journal {self.path}: {err}", journal=self.location)
        return None

    def hold(self, key: str) -> AbstractContextManager[bool]:
        # one machine's journal: paycli's own workers never plan the same transaction twice, and the
        # api_request_key covers reruns; there is no other agent to wait for
        return nullcontext(False)

    def server_version(self) -> str | None:
        return None  # SQLite is a library, not a server

    def lazy_commit(self) -> AbstractContextManager[sqlite3.Connection]:
        return nullcontext(self.connection())  # synchronous=NORMAL already commits without an fsync in WAL mode

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def open_store(location: str | Path) -> Store:
    """The store for a journal location: a postgresql:// URL, or a SQLite file's path."""
    if isinstance(location, str) and location.startswith(("postgresql://", "postgres://")):
        from paycli.journal_pg import PostgresStore  # psycopg is an optional extra

        return PostgresStore(location)
    return SqliteStore(Path(location).expanduser())


@dataclass(frozen=True)
class Status:
    """What `profiles check` and `journal status` say about a journal: where, reachable, which schema."""

    location: str  # never with a password
    backend: str  # sqlite | postgresql
    schema_version: int  # 0: nothing written there yet (created on first use)
    supported_version: int
    server: str | None  # PostgreSQL's version; None for SQLite
    ms: int

    @property
    def too_new(self) -> bool:
        return self.schema_version > self.supported_version


def status(where: str | Path) -> Status:
    """Connect and read the schema version, writing nothing (an empty database stays empty)."""
    started = time.perf_counter()
    store = open_store(where)
    try:
        path = getattr(store, "path", None)
        if path is not None and not path.exists():
            version, server = 0, None
        else:
            version = _translated(store, lambda: _schema_version(store, store.connection()))
            server = _translated(store, store.server_version)
    finally:
        store.close()
    backend = "postgresql" if store.shared else "sqlite"
    return Status(
        store.location, backend, version, SCHEMA_VERSION, server, round((time.perf_counter() - started) * 1000)
    )


def _translated(store: Store, work: Any) -> Any:
    """`work()` with the store's driver errors turned into paycli's (exit 4 or 6)."""
    try:
        return work()
    except PaycliError:
        raise
    except Exception as err:
        mapped = store.translate(err)
        if mapped is None:
            raise
        raise mapped from None


def _schema_version(store: Store, conn: Any) -> int:
    if not store.has_table(conn, "journal_schema"):
        return 1 if store.has_table(conn, "entries") else 0  # the first paycli wrote no version table
    row = conn.execute("SELECT max(version) AS version FROM journal_schema").fetchone()
    return int(row["version"]) if row and row["version"] is not None else 0


class Journal:
    def __init__(self, where: str | Path | Store) -> None:
        self.store = where if not isinstance(where, (str, Path)) else open_store(where)
        self.location = self.store.location
        self.version = self._run(lambda _db: self._upgrade())

    @property
    def path(self) -> Path | None:
        return getattr(self.store, "path", None)

    def _db(self) -> Any:
        return self.store.connection()

    def _run(self, work: Any) -> Any:
        """One statement against the journal; driver errors become paycli's (exit 4 or 6)."""
        return _translated(self.store, lambda: work(self._db()))

    def _upgrade(self) -> int:
        """Bring the schema to SCHEMA_VERSION; refuse (exit 4) one newer than this paycli knows."""
        version = _schema_version(self.store, self._db())
        if version == SCHEMA_VERSION:
            return version  # the common case: no write, no lock
        self._refuse_newer(version)
        with self.store.migrating() as conn:
            conn.execute(_VERSION_TABLE)
            version = _schema_version(self.store, conn)  # another process may have upgraded it meanwhile
            self._refuse_newer(version)
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[step]:
                    conn.execute(statement.format(id=self.store.id_column))
            if version != SCHEMA_VERSION:
                conn.execute("DELETE FROM journal_schema")
                conn.execute("INSERT INTO journal_schema (version) VALUES (?)", (SCHEMA_VERSION,))
        return SCHEMA_VERSION

    def _refuse_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"the journal {self.location} has schema version {version}, newer than this paycli understands "
                f"({SCHEMA_VERSION}): upgrade paycli on this machine before using it",
                journal=self.location,
                schema_version=version,
            )

    @contextmanager
    def hold(self, merchant_id: str, transaction_id: str) -> Iterator[bool]:
        """Hold this transaction against other agents from lookup to the `done` write (a no-op on SQLite).

        Yields True when another agent held it first, so the caller must plan from fresh data.
        """
        with ExitStack() as stack:
            waited = self._run(lambda _db: stack.enter_context(self.store.hold(f"{merchant_id}\x1f{transaction_id}")))
            yield waited

    def begin(
        self,
        context: Context,
        *,
        kind: str,
        transaction_id: str,
        amount: Decimal | None,
        api_request_key: str,
        currency: str | None = None,
        order_id: str | None = None,
        reason: str | None = None,
        batch: str | None = None,
        batch_row: int | None = None,
    ) -> int:
        """Record the intent before the call, with the transaction's currency; committed when this returns."""
        row = self._run(
            lambda db: db.execute(
                "INSERT INTO entries (created_at, operator, host, profile, environment, merchant_id, kind,"
                " transaction_id, amount, currency, order_id, reason, api_request_key, state, batch, batch_row)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    _now(),
                    context.operator,
                    context.host or None,
                    context.profile,
                    context.environment,
                    context.merchant_id,
                    kind,
                    transaction_id,
                    str(amount) if amount is not None else None,
                    currency,
                    order_id,
                    reason,
                    api_request_key,
                    PENDING,
                    batch,
                    batch_row,
                ),
            ).fetchone()
        )
        return int(row["id"])

    def reopen(self, entry_id: int, *, currency: str | None = None) -> None:
        """An unfinished entry is about to be sent again under its own key: `pending` until the answer.

        An entry written before currencies were recorded takes `currency` (its transaction's); one that has
        its currency keeps it.
        """
        self._run(
            lambda db: db.execute(
                "UPDATE entries SET state = ?, finished_at = NULL, currency = COALESCE(currency, ?) WHERE id = ?",
                (PENDING, currency, entry_id),
            )
        )

    def finish(self, entry_id: int, state: str, *, result_id: str | None = None, error: str | None = None) -> None:
        """Record the answer. Unlike `begin`, this need not wait for the disk: were it lost in a database
        crash, the entry would stay `pending` and a rerun would resume it under its key (no money twice)."""

        def write(_db: Any) -> None:
            with self.store.lazy_commit() as db:
                db.execute(
                    "UPDATE entries SET state = ?, finished_at = ?, result_id = ?, error = ? WHERE id = ?",
                    (state, _now(), result_id, error, entry_id),
                )

        self._run(write)

    def latest(self, merchant_id: str, api_request_key: str) -> Entry | None:
        row = self._run(
            lambda db: db.execute(
                "SELECT * FROM entries WHERE merchant_id = ? AND api_request_key = ? ORDER BY id DESC LIMIT 1",
                (merchant_id, api_request_key),
            ).fetchone()
        )
        return _entry(row) if row else None

    def latest_many(self, merchant_id: str, api_request_keys: list[str]) -> dict[str, Entry]:
        """`latest` for many keys at once: {key: its newest entry}, keys without one left out."""
        found: dict[str, Entry] = {}
        for start in range(0, len(api_request_keys), _KEYS_PER_QUERY):
            chunk = api_request_keys[start : start + _KEYS_PER_QUERY]
            rows = self._run(
                lambda db, chunk=chunk: db.execute(
                    f"SELECT * FROM entries WHERE merchant_id = ? AND api_request_key IN ({', '.join('?' for _ in chunk)})"
                    " ORDER BY id",
                    (merchant_id, *chunk),
                ).fetchall()
            )
            for row in rows:  # oldest first: the newest of a key is written last
                found[row["api_request_key"]] = _entry(row)
        return found

    def unfinished(self, merchant_id: str, kind: str, transaction_id: str) -> list[Entry]:
        """Calls for this transaction whose outcome paycli never learned, newest first."""
        rows = self._run(
            lambda db: db.execute(
                "SELECT * FROM entries WHERE merchant_id = ? AND kind = ? AND transaction_id = ? AND state IN (?, ?)"
                " ORDER BY id DESC",
                (merchant_id, kind, transaction_id, *UNFINISHED),
            ).fetchall()
        )
        return [_entry(row) for row in rows]

    @property
    def shared(self) -> bool:
        """A team's journal: other agents write to it, so plans can go stale under them."""
        return self.store.shared

    def high_water(self, merchant_id: str) -> tuple[int, frozenset[int]]:
        """A mark to tell later activity from (`changed_since`): the newest entry id, and the entries
        still unfinished now (their outcome may arrive later under an older id)."""
        top = self._run(lambda db: db.execute("SELECT max(id) AS id FROM entries").fetchone())
        rows = self._run(
            lambda db: db.execute(
                "SELECT id FROM entries WHERE merchant_id = ? AND state IN (?, ?)", (merchant_id, *UNFINISHED)
            ).fetchall()
        )
        return int(top["id"] or 0), frozenset(int(row["id"]) for row in rows)

    @staticmethod
    def changed_since(entries: list[Entry], mark: tuple[int, frozenset[int]]) -> bool:
        """Whether any of these entries was written after `mark`, or was in flight then."""
        top, in_flight = mark
        return any(entry.id > top or entry.id in in_flight for entry in entries)

    def about(self, merchant_id: str, transaction_id: str) -> list[Entry]:
        """Every entry about this transaction, oldest first: what a row rechecks under its lock, in one query."""
        rows = self._run(
            lambda db: db.execute(
                "SELECT * FROM entries WHERE merchant_id = ? AND transaction_id = ? ORDER BY id",
                (merchant_id, transaction_id),
            ).fetchall()
        )
        return [_entry(row) for row in rows]

    def last_done(
        self, merchant_id: str, kind: str, transaction_id: str, amount: Decimal, *, since: datetime
    ) -> Entry | None:
        """The newest `done` call of this kind, transaction and amount created at or after `since`."""
        row = self._run(
            lambda db: db.execute(
                "SELECT * FROM entries WHERE merchant_id = ? AND kind = ? AND transaction_id = ? AND amount = ?"
                " AND state = ? AND created_at >= ? ORDER BY id DESC LIMIT 1",
                (merchant_id, kind, transaction_id, str(amount), DONE, _stamp(since)),
            ).fetchone()
        )
        return _entry(row) if row else None

    def entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        kind: str | None = None,
        transaction_id: str | None = None,
        operator: str | None = None,
        host: str | None = None,
        profile: str | None = None,
    ) -> Iterator[Entry]:
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
        for column, value in (("operator", operator), ("host", host), ("profile", profile)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        rows = self._run(
            lambda db: db.execute(f"SELECT * FROM entries WHERE {' AND '.join(clauses)} ORDER BY id", args).fetchall()
        )
        for row in rows:
            yield _entry(row)

    def import_entries(self, source: Journal) -> tuple[int, int]:
        """Copy every entry of `source` that this journal lacks; (added, already there). Running it twice adds nothing.

        An entry is the same entry when merchant, api_request_key, kind, transaction and creation instant
        match: what no two calls share. Ids are this journal's own; states and results are copied as they are.
        """
        added = present = 0
        columns = ", ".join(ENTRY_COLUMNS)
        marks = ", ".join("?" for _ in ENTRY_COLUMNS)
        with self.store.migrating() as conn:  # one importer at a time, so two runs cannot both add a row
            for entry in source.entries():
                values = [getattr(entry, name) for name in ENTRY_COLUMNS]
                values = [
                    _stamp(v) if isinstance(v, datetime) else str(v) if isinstance(v, Decimal) else v for v in values
                ]
                if conn.execute(
                    "SELECT 1 FROM entries WHERE merchant_id = ? AND api_request_key = ? AND kind = ?"
                    " AND transaction_id = ? AND created_at = ?",
                    (
                        entry.merchant_id,
                        entry.api_request_key,
                        entry.kind,
                        entry.transaction_id,
                        _stamp(entry.created_at),
                    ),
                ).fetchone():
                    present += 1
                    continue
                conn.execute(f"INSERT INTO entries ({columns}) VALUES ({marks})", values)
                added += 1
        return added, present

    def close(self) -> None:
        self.store.close()
