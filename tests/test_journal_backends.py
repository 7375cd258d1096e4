"""The journal's own contract, on both homes: a SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from paycli import journal as journal_
from paycli.errors import ConfigError, ExitCode
from paycli.journal import Context, Journal

ALICE = Context("acme", "production", "acme_mid", "alice", "desk-1")
BOB = Context("acme-eu", "production", "acme_mid", "bob", "desk-2")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])  # slow: starts PostgreSQL
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh journal lives: a file, or an empty database on the suite's PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "journal.db")
    return request.getfixturevalue("postgresql_url")


@pytest.fixture
def postgresql_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
def journal(location: str) -> Any:
    opened = Journal(location)
    yield opened
    opened.close()


def test_an_entry_goes_pending_then_done_with_everything_it_was_given(journal: Journal) -> None:
    entry_id = journal.begin(
        ALICE,
        kind="refund",
        transaction_id="t1",
        amount=Decimal("12.50"),
        api_request_key="k1",
        order_id="o-9",
        reason="damaged",
        batch="b.csv",
        batch_row=3,
    )
    [pending] = journal.unfinished("acme_mid", "refund", "t1")
    assert (pending.id, pending.state, pending.finished_at) == (entry_id, journal_.PENDING, None)
    journal.finish(entry_id, journal_.DONE, result_id="credit1")
    entry = journal.latest("acme_mid", "k1")
    assert entry is not None and journal.unfinished("acme_mid", "refund", "t1") == []
    assert (entry.state, entry.result_id, entry.amount, entry.order_id, entry.reason, entry.batch, entry.batch_row) == (
        "done",
        "credit1",
        Decimal("12.50"),
        "o-9",
        "damaged",
        "b.csv",
        3,
    )
    assert (entry.who, entry.profile, entry.environment) == ("alice@desk-1", "acme", "production")
    assert entry.created_at.tzinfo is not None and entry.finished_at >= entry.created_at


def test_latest_many_finds_each_keys_newest_entry_across_query_chunks(journal: Journal) -> None:
    first = journal.begin(ALICE, kind="refund", transaction_id="t1", amount=Decimal("1.00"), api_request_key="k1")
    journal.finish(first, journal_.UNKNOWN)
    again = journal.begin(ALICE, kind="refund", transaction_id="t1", amount=Decimal("1.00"), api_request_key="k1")
    journal.begin(BOB, kind="void", transaction_id="t2", amount=None, api_request_key="k2")
    journal.begin(BOB, kind="void", transaction_id="t3", amount=None, api_request_key="k3", batch="other merchant")
    keys = [f"absent-{i}" for i in range(1200)] + ["k2", "k1"]  # past the per-query chunk
    found = journal.latest_many("acme_mid", keys)
    assert sorted(found) == ["k1", "k2"] and found["k1"].id == again
    assert journal.latest_many("someone_else", ["k1"]) == {}


def test_entries_filter_by_person_machine_profile_kind_and_transaction(journal: Journal) -> None:
    for context, kind, txn in ((ALICE, "refund", "t1"), (BOB, "void", "t2"), (ALICE, "void", "t3")):
        journal.begin(context, kind=kind, transaction_id=txn, amount=Decimal("1.00"), api_request_key=f"k-{txn}")

    def txns(**filters: Any) -> list[str]:
        return [entry.transaction_id for entry in journal.entries(**filters)]

    assert txns() == ["t1", "t2", "t3"]
    assert txns(operator="alice") == ["t1", "t3"]
    assert txns(host="desk-2") == ["t2"] and txns(profile="acme-eu") == ["t2"]
    assert txns(kind="void", operator="alice") == ["t3"] and txns(transaction_id="t2") == ["t2"]
    assert txns(since=datetime.now(timezone.utc) + timedelta(minutes=1)) == []


def test_a_new_journal_is_at_the_current_schema_version(journal: Journal, location: str) -> None:
    assert journal.version == journal_.SCHEMA_VERSION
    assert Journal(location).version == journal_.SCHEMA_VERSION  # reopening changes nothing


def test_a_journal_from_a_newer_paycli_is_refused_with_exit_4(journal: Journal, location: str) -> None:
    journal._db().execute("UPDATE journal_schema SET version = ?", (journal_.SCHEMA_VERSION + 1,))
    with pytest.raises(ConfigError) as caught:
        Journal(location)
    assert caught.value.exit_code == ExitCode.CONFIG
    assert (
        f"schema version {journal_.SCHEMA_VERSION + 1}" in caught.value.message
        and "upgrade paycli" in caught.value.message
    )


def test_a_first_version_journal_is_upgraded_and_keeps_its_entries(location: str) -> None:
    store = journal_.open_store(location)
    conn = store.connection()
    for statement in journal_._MIGRATIONS[1]:  # what the first paycli wrote: no version table, no host
        conn.execute(statement.format(id=store.id_column))
    conn.execute(
        "INSERT INTO entries (created_at, operator, profile, environment, merchant_id, kind, transaction_id,"
        " amount, api_request_key, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ("2026-01-02T03:04:05.000000+00:00", "carol", "acme", "sandbox", "m", "refund", "old", "5.00", "k-old", "done"),
    )
    store.close()
    upgraded = Journal(location)
    [old] = list(upgraded.entries())
    assert upgraded.version == journal_.SCHEMA_VERSION and (old.who, old.amount) == ("carol", Decimal("5.00"))
    upgraded.begin(ALICE, kind="void", transaction_id="new", amount=None, api_request_key="k-new")
    assert [e.who for e in upgraded.entries()] == ["carol", "alice@desk-1"]
    upgraded.close()


def _second_version_journal(
    location: str, *, merchant_id: str = "m", transaction_id: str = "old", amount: str = "7.00", key: str = "k-old"
) -> None:
    """A journal as a paycli of schema version 2 left it (who, host; no currency), with one refund in it
    whose answer was lost."""
    store = journal_.open_store(location)
    conn = store.connection()
    for step in (1, 2):
        for statement in journal_._MIGRATIONS[step]:
            conn.execute(statement.format(id=store.id_column))
    conn.execute(journal_._VERSION_TABLE)
    conn.execute("INSERT INTO journal_schema (version) VALUES (2)")
    conn.execute(
        "INSERT INTO entries (created_at, finished_at, operator, host, profile, environment, merchant_id,"
        " kind, transaction_id, amount, api_request_key, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            "2026-01-02T03:04:05.000000+00:00",
            "2026-01-02T03:04:06.000000+00:00",
            "dave",
            "desk-9",
            "acme",
            "sandbox",
            merchant_id,
            "refund",
            transaction_id,
            amount,
            key,
            "unknown",
        ),
    )
    store.close()


def test_an_entry_records_its_transactions_currency(journal: Journal) -> None:
    journal.begin(
        ALICE, kind="refund", transaction_id="t1", amount=Decimal("3.00"), currency="EUR", api_request_key="k1"
    )
    entry = journal.latest("acme_mid", "k1")
    assert entry is not None and (entry.amount, entry.currency) == (Decimal("3.00"), "EUR")


def test_a_second_version_journal_is_upgraded_its_old_entries_without_a_currency(location: str) -> None:
    _second_version_journal(location)
    upgraded = Journal(location)
    assert upgraded.version == journal_.SCHEMA_VERSION == 3
    [old] = list(upgraded.entries())
    assert (old.who, old.amount, old.currency) == ("dave@desk-9", Decimal("7.00"), None)  # not guessed
    upgraded.begin(
        ALICE, kind="refund", transaction_id="new", amount=Decimal("1.00"), currency="EUR", api_request_key="k-new"
    )
    assert [(e.transaction_id, e.currency) for e in upgraded.entries()] == [("old", None), ("new", "EUR")]
    upgraded.reopen(old.id, currency="USD")  # resumed by this paycli, which knows its transaction's currency
    upgraded.reopen(upgraded.entries(transaction_id="new").__next__().id, currency="USD")  # a known one stays
    assert [e.currency for e in upgraded.entries()] == ["USD", "EUR"]
    upgraded.close()


# ---- through the CLI, on both homes -------------------------------------------------------------------------


def test_a_refund_in_euros_is_journaled_and_audited_in_euros(
    invoke, sandbox, location, tty, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv
    import re

    monkeypatch.setenv("PAYCLI_JOURNAL", location)
    sale = sandbox.sale("12.00", settle=True, merchant_account_id=f"{sandbox.merchant.id}_eur")
    credit = invoke("refund", sale, "--amount", "4.50", "-f", "json").json()
    journal = Journal(location)
    [entry] = list(journal.entries())
    journal.close()
    assert (entry.transaction_id, entry.result_id, entry.amount, entry.currency) == (
        sale,
        credit["id"],
        Decimal("4.50"),
        "EUR",
    )
    [row] = list(csv.DictReader(invoke("audit", "-f", "csv").stdout.splitlines()))
    assert (row["transaction_id"], row["amount"], row["currency"]) == (sale, "4.50", "EUR")
    [shown] = invoke("audit", "-f", "json").json()
    assert list(shown)[list(shown).index("amount") + 1] == "currency" and shown["currency"] == "EUR"
    monkeypatch.setenv("COLUMNS", "80")  # a narrow terminal leaves columns out, never the amount's currency
    lines = re.sub(r"\x1b\[[0-9;]*m", "", invoke("audit").stdout).splitlines()  # without the header's bold
    header = lines[0].split()
    assert header[header.index("amount") + 1] == "currency"
    [line] = [line.split() for line in lines if sale in line]
    assert line[header.index("amount")] == "4.50" and line[header.index("currency")] == "EUR"


def test_resuming_an_entry_from_before_currencies_records_its_currency(
    invoke, sandbox, location, monkeypatch: pytest.MonkeyPatch
) -> None:
    sale = sandbox.sale("9.00", settle=True, merchant_account_id=f"{sandbox.merchant.id}_eur")
    lost = sandbox.sdk.transaction.refund(sale, {"amount": "3.00", "api_request_key": "k-lost"}).transaction
    _second_version_journal(location, merchant_id=sandbox.merchant.id, transaction_id=sale, amount="3.00", key="k-lost")
    monkeypatch.setenv("PAYCLI_JOURNAL", location)
    assert invoke("refund", sale, "--amount", "3.00").json()["id"] == lost.id  # the original answer, again
    [entry] = invoke("audit", "-f", "json").json()
    assert (entry["state"], entry["result_id"], entry["amount"], entry["currency"]) == ("done", lost.id, "3.00", "EUR")


def test_import_carries_each_entrys_currency(
    invoke, sandbox, location, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "local.db"
    _second_version_journal(str(local))  # history from before currencies were recorded...
    monkeypatch.setenv("PAYCLI_JOURNAL", str(local))
    invoke("refund", sandbox.sale("6.00", settle=True, merchant_account_id=f"{sandbox.merchant.id}_eur"))
    invoke("refund", sandbox.sale("8.00", settle=True))  # ...then this paycli's, in two currencies
    monkeypatch.setenv("PAYCLI_JOURNAL", location)
    assert invoke("journal", "import", local).json()["added"] == 3
    audited = invoke("audit", "-f", "json").json()
    assert [(e["amount"], e["currency"]) for e in audited] == [("7.00", None), ("6.00", "EUR"), ("8.00", "USD")]


def test_sqlite_needs_no_lock_between_agents(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    with journal.hold("m", "t1") as first, journal.hold("m", "t1") as second:
        assert (first, second) == (False, False)


# ---- PostgreSQL only: what a team's server adds --------------------------------------------------------------


def test_a_held_transaction_makes_the_next_agent_wait_then_say_it_waited(postgres_url: str) -> None:
    agent1, agent2 = Journal(postgres_url), Journal(postgres_url)
    got: list[tuple[bool, float]] = []

    def second() -> None:
        started = time.monotonic()
        with agent2.hold("m", "t1") as waited:
            got.append((waited, time.monotonic() - started))

    with agent1.hold("m", "t1") as waited_first:
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
        assert got == []  # still waiting
        with agent1.hold("m", "t2") as other:  # another transaction is not blocked
            assert other is False
    thread.join(10)
    assert waited_first is False and got and got[0][0] is True and got[0][1] >= 0.4
    agent1.close(), agent2.close()


def test_a_lock_held_past_the_bounded_wait_is_exit_6_naming_the_transaction(postgres_url: str) -> None:
    from paycli.journal_pg import PostgresStore

    holder, waiter = Journal(postgres_url), Journal(PostgresStore(postgres_url, lock_wait_s=0.3))
    with holder.hold("m", "t1"), pytest.raises(journal_.TransactionBusy) as caught, waiter.hold("m", "t1"):
        pass
    assert caught.value.exit_code == ExitCode.UNAVAILABLE and "t1" in caught.value.message
    with waiter.hold("m", "t1") as waited:  # released by the holder: free again
        assert waited is False
    holder.close(), waiter.close()


def test_a_dead_agents_lock_is_released_by_the_server(postgres_url: str) -> None:
    crashed, survivor = Journal(postgres_url), Journal(postgres_url)
    held = crashed.hold("m", "t1")
    held.__enter__()
    crashed.store.connection().raw.pgconn.finish()  # the socket closes, as when the process is killed
    with survivor.hold("m", "t1"):
        pass
    survivor.close()


def test_a_session_lost_while_holding_a_lock_is_not_silently_replaced(postgres_url: str, postgres_cluster: Any) -> None:
    import psycopg

    journal = Journal(postgres_url)
    with journal.hold("m", "t1"):
        pid = journal._db().raw.info.backend_pid
        with psycopg.connect(postgres_cluster.url(), password=postgres_cluster.password, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))  # waits until the session is gone
        with pytest.raises(journal_.JournalUnavailable):
            journal.latest("m", "k")  # the first statement finds the session gone
        with pytest.raises(journal_.JournalUnavailable):  # and the lock with it: no money call now
            journal.begin(ALICE, kind="refund", transaction_id="t1", amount=Decimal("1.00"), api_request_key="k")
    journal.begin(ALICE, kind="refund", transaction_id="t1", amount=Decimal("1.00"), api_request_key="k")
    assert [e.api_request_key for e in journal.entries()] == ["k"]  # outside a hold it reconnects
    journal.close()


def test_an_unreachable_server_is_exit_6_without_the_password(postgres_cluster: Any) -> None:
    url = f"postgresql://paycli:s3cret@127.0.0.1:{_closed_port()}/payments"
    with pytest.raises(journal_.JournalUnavailable) as caught:
        Journal(url)
    assert caught.value.exit_code == ExitCode.UNAVAILABLE
    assert "unreachable" in caught.value.message and "s3cret" not in caught.value.message
    assert "postgresql://paycli@127.0.0.1" in caught.value.message


def test_a_wrong_password_is_exit_4_naming_libpqs_password_sources(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSWORD", "wrong")
    with pytest.raises(ConfigError) as caught:
        Journal(postgres_url)
    assert "PGPASSWORD" in caught.value.message and "wrong" not in caught.value.message


def test_pgpass_supplies_the_password(
    postgres_url: str, postgres_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{postgres_cluster.port}:*:paycli:{postgres_cluster.password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert Journal(postgres_url).version == journal_.SCHEMA_VERSION


def test_a_pg_service_entry_supplies_host_database_and_user(
    postgres_url: str, postgres_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    services = tmp_path / "pg_service.conf"
    services.write_text(f"[payments]\nhost=127.0.0.1\nport={postgres_cluster.port}\ndbname={database}\nuser=paycli\n")
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    journal = Journal("postgresql:///?service=payments")
    assert journal.version == journal_.SCHEMA_VERSION and journal.location == "postgresql:///?service=payments"
    journal.close()


def test_agents_opening_a_new_database_at_once_create_the_schema_once(postgres_url: str) -> None:
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            Journal(postgres_url).close()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    journal = Journal(postgres_url)
    assert errors == []
    assert journal._db().execute("SELECT count(*) AS n FROM journal_schema").fetchone()["n"] == 1


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://paycli:pw@db:5433/payments?sslmode=require",
            "postgresql://paycli@db:5433/payments?sslmode=require",
        ),
        (
            "postgres://paycli@db/payments?password=pw&application_name=x",
            "postgres://paycli@db/payments?application_name=x",
        ),
        ("postgresql:///?service=payments", "postgresql:///?service=payments"),
    ],
)
def test_a_journal_location_is_shown_without_its_password(url: str, shown: str) -> None:
    from paycli.journal_pg import redact

    assert redact(url) == shown
