"""A team's journal on PostgreSQL, through the CLI: config, profiles show/check, audit across the team, import.

Every test here runs against the suite's real PostgreSQL server and the real SDK against the sandbox.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from paycli.journal import SCHEMA_VERSION, Journal


@pytest.fixture
def team(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """This run's journal is the team's database (by $PAYCLI_JOURNAL)."""
    monkeypatch.setenv("PAYCLI_JOURNAL", postgres_url)
    return postgres_url


def team_entries(url: str) -> list[Any]:
    journal = Journal(url)
    try:
        return list(journal.entries())
    finally:
        journal.close()


# ---- config ------------------------------------------------------------------------------------------------


def test_profiles_show_names_the_journal_and_where_it_was_set(invoke, write_config) -> None:
    write_config(
        """
        journal: postgresql://paycli@db.internal:5432/payments
        profiles: {}
    """,
        mode=0o644,
    )
    shown = invoke("profiles", "show").json()
    assert shown["journal"] == "postgresql://paycli@db.internal:5432/payments"
    assert shown["origin"]["journal"].endswith("config.yaml: journal")
    table = invoke("profiles", "show", "-f", "table").stdout
    assert "postgresql://paycli@db.internal:5432/payments" in table


def test_paycli_journal_wins_over_the_file(invoke, write_config, monkeypatch) -> None:
    write_config("journal: postgresql://paycli@db.internal/payments\n")
    monkeypatch.setenv("PAYCLI_JOURNAL", "postgresql://ops@other/payments")
    shown = invoke("profiles", "show").json()
    assert (shown["journal"], shown["origin"]["journal"]) == ("postgresql://ops@other/payments", "$PAYCLI_JOURNAL")


def test_a_password_in_a_readable_config_file_is_refused_with_exit_4(invoke, write_config) -> None:
    path = write_config("journal: postgresql://paycli:hunter2@db.internal/payments\n", mode=0o644)
    run = invoke("profiles", "show", code=4)
    assert "key 'journal'" in run.stderr and f"chmod 600 {path}" in run.stderr and "hunter2" not in run.stderr


def test_a_password_in_a_0600_file_is_used_but_never_shown(invoke, write_config) -> None:
    write_config("journal: postgresql://paycli:hunter2@db.internal/payments?sslmode=require\n", mode=0o600)
    run = invoke("profiles", "show", "-f", "json")
    assert "hunter2" not in run.stdout + run.stderr
    assert run.json()["journal"] == "postgresql://paycli@db.internal/payments?sslmode=require"


def test_a_journal_that_is_not_postgresql_or_a_file_is_exit_4(invoke, write_config) -> None:
    write_config("journal: mysql://db/payments\n")
    assert "key 'journal'" in invoke("profiles", "show", code=4).stderr


def test_a_journal_path_is_a_sqlite_file_relative_to_the_config_file(
    invoke, sandbox, write_config, tmp_path, monkeypatch
) -> None:
    profiles = (tmp_path / "home" / ".config" / "paycli" / "config.yaml").read_text()  # the sandbox's profile
    config = write_config("journal: team/journal.db\n" + profiles, path=tmp_path / "cfg" / "c.yaml")
    monkeypatch.setenv("PAYCLI_CONFIG", str(config))
    assert invoke("profiles", "show").json()["journal"] == str(tmp_path / "cfg" / "team" / "journal.db")
    invoke("refund", sandbox.sale("5.00", settle=True))
    assert [e.state for e in team_entries(str(tmp_path / "cfg" / "team" / "journal.db"))] == ["done"]


def test_a_postgresql_journal_without_psycopg_is_exit_4_naming_the_extra(invoke, sandbox, monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as on a machine without the postgres extra
    monkeypatch.setenv("PAYCLI_JOURNAL", "postgresql://paycli@db.internal/payments")
    sale = sandbox.sale("5.00", settle=True)
    run = invoke("refund", sale, code=4)
    assert "pip install 'paycli[postgres]'" in run.stderr
    assert sandbox.sdk.transaction.find(sale).refund_ids == []


def test_profiles_check_tests_the_team_journal(invoke, sandbox, team) -> None:
    run = invoke("profiles", "check")
    assert run.json()[0]["ok"] is True
    assert "journal postgresql://paycli@127.0.0.1" in run.stderr and "reachable" in run.stderr
    assert "(postgresql, PostgreSQL 1" in run.stderr and "no entries yet" in run.stderr
    Journal(team).close()  # created by a first use
    assert f"schema version {SCHEMA_VERSION}" in invoke("profiles", "check").stderr


def test_profiles_check_exits_6_when_the_journal_is_unreachable(invoke, sandbox, monkeypatch) -> None:
    monkeypatch.setenv("PAYCLI_JOURNAL", f"postgresql://paycli@127.0.0.1:{_closed_port()}/payments")
    run = invoke("profiles", "check", code=6)
    assert "journal postgresql://paycli@127.0.0.1" in run.stderr and "unreachable" in run.stderr


def test_profiles_check_exits_4_when_the_journal_is_newer_than_paycli(invoke, sandbox, team) -> None:
    journal = Journal(team)
    journal._db().execute("UPDATE journal_schema SET version = 99")
    run = invoke("profiles", "check", code=4)
    assert "schema version 99" in run.stderr and "upgrade paycli" in run.stderr
    assert "schema version 99" in invoke("refund", sandbox.sale("5.00", settle=True), code=4).stderr
    journal.close()


def test_journal_status_shows_where_and_which_schema(invoke, team) -> None:
    status = invoke("journal", "status").json()
    assert (status["backend"], status["schema_version"], status["supported_version"]) == (
        "postgresql",
        0,
        SCHEMA_VERSION,
    )
    assert status["location"].startswith("postgresql://paycli@127.0.0.1:")


# ---- money and audit across the team -----------------------------------------------------------------------


def test_refund_on_the_team_journal_records_user_at_host(invoke, sandbox, team, isolated_env) -> None:
    sale = sandbox.sale("25.00", settle=True)
    credit = invoke("refund", sale, "--amount", "5").json()
    [entry] = team_entries(team)
    assert (entry.kind, entry.transaction_id, entry.state, entry.result_id) == ("refund", sale, "done", credit["id"])
    assert entry.host == socket.gethostname() and entry.who == f"{entry.operator}@{entry.host}"
    assert not (isolated_env / ".local" / "state" / "paycli" / "journal.db").exists()  # nothing written locally
    assert sandbox.sdk.transaction.find(sale).refund_ids == [credit["id"]]


def test_audit_filters_by_user_host_and_profile(invoke, sandbox, team) -> None:
    from paycli.journal import Context

    other = Journal(team)
    other.begin(
        Context("acme-eu", "production", "m2", "bob", "desk-2"),
        kind="void",
        transaction_id="t-bob",
        amount=None,
        api_request_key="k-bob",
    )
    other.close()
    sale = sandbox.sale("9.00", settle=True)
    invoke("refund", sale)
    everyone = invoke("audit").json()
    assert [e["transaction_id"] for e in everyone] == ["t-bob", sale]
    assert everyone[0]["who"] == "bob@desk-2" and everyone[0]["host"] == "desk-2"
    assert [e["transaction_id"] for e in invoke("audit", "--by", "bob").json()] == ["t-bob"]
    assert [e["transaction_id"] for e in invoke("audit", "--host", "desk-2").json()] == ["t-bob"]
    assert [e["transaction_id"] for e in invoke("audit", "--profile", "test").json()] == [sale]
    assert invoke("audit", "--by", "nobody").json() == []
    assert "bob@desk-2" in invoke("audit", "-f", "table").stdout


def test_a_refund_with_the_journal_unreachable_exits_6_before_any_money_call(invoke, sandbox, monkeypatch) -> None:
    monkeypatch.setenv("PAYCLI_JOURNAL", f"postgresql://paycli@127.0.0.1:{_closed_port()}/payments")
    sale = sandbox.sale("12.00", settle=True)
    run = invoke("refund", sale, code=6)
    assert "unreachable" in run.stderr and run.json()["error"]["type"] == "journal_unavailable"
    assert sandbox.sdk.transaction.find(sale).refund_ids == []


# ---- import ------------------------------------------------------------------------------------------------


def test_journal_import_copies_local_history_once(invoke, sandbox, team, isolated_env, monkeypatch) -> None:
    local = isolated_env / ".local" / "state" / "paycli" / "journal.db"
    monkeypatch.delenv("PAYCLI_JOURNAL")  # first, history made on this machine alone
    sales = [sandbox.sale("8.00", settle=True) for _ in range(3)]
    for sale in sales:
        invoke("refund", sale, "--amount", "2")
    monkeypatch.setenv("PAYCLI_JOURNAL", team)
    first = invoke("journal", "import", local)
    assert first.json()["added"] == 3 and "imported 3 entries" in first.stderr
    again = invoke("journal", "import", local).json()
    assert (again["added"], again["already_there"]) == (0, 3)
    imported = team_entries(team)
    assert sorted(e.transaction_id for e in imported) == sorted(sales)
    assert {e.state for e in imported} == {"done"} and all(e.amount == 2 for e in imported)


def test_journal_import_of_a_missing_file_is_exit_2(invoke, team, tmp_path: Path) -> None:
    assert "FILE" in invoke("journal", "import", tmp_path / "nope.db", code=2).stderr


def test_journal_import_refuses_a_file_that_is_not_a_journal_and_leaves_it_alone(invoke, team, tmp_path) -> None:
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    run = invoke("journal", "import", other, code=2)
    assert "FILE" in run.stderr and "not a paycli journal" in run.stderr
    with sqlite3.connect(other) as db:
        assert [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["notes"]
    (tmp_path / "text.db").write_text("not sqlite at all")
    assert "not a paycli journal" in invoke("journal", "import", tmp_path / "text.db", code=2).stderr


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
