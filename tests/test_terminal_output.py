"""What a person sees on a terminal: tables that fit the width, empty results, notes, help and colour."""

from __future__ import annotations

import re

import pytest

from paycli.cli.views import SETTLEMENT_EXPORT_COLUMNS, TRANSACTION

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(text: str) -> str:
    return ANSI.sub("", text)


# tables fit the terminal; ids, amounts and dates never wrap ------------------------------------------------


def test_search_at_80_columns_keeps_ids_amounts_and_dates_whole(invoke, sandbox, tty, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    sales = [sandbox.sale(amount, order_id=f"order-{amount}", customer={"email": "someone.long@example.com"})
             for amount in ("11.00", "1234.56")]
    run = invoke("txn", "search")
    lines = plain(run.stdout).splitlines()
    assert all(len(line) <= 80 for line in lines)
    header = lines[0].split()
    assert header[0] == "id" and {"amount", "currency", "created_at", "status"} <= set(header)
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert set(rows) == set(sales)  # each id on one line, whole, starting its row
    assert rows[sales[1]][header.index("amount")] == "1234.56"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rows[sales[0]][header.index("created_at")])
    assert "not shown at 80 columns:" in run.stderr and "customer_email" in run.stderr  # what was left out
    assert "-f csv" in run.stderr


def test_search_on_a_wide_terminal_shows_every_table_column(invoke, sandbox, tty, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    sandbox.sale("3.00")
    run = invoke("txn", "search")
    assert plain(run.stdout).splitlines()[0].split() == list(TRANSACTION.table_columns)
    assert "not shown" not in run.stderr


def test_settlement_export_table_at_160_columns_is_one_line_per_row(invoke, sandbox, tty, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    sales = [sandbox.sale(amount, settle=True) for amount in ("10.00", "20.00", "30.00")]
    run = invoke("settlement", "export", "--date", "today", code=(0, 7))
    lines = [line for line in plain(run.stdout).splitlines() if line.strip()]
    assert all(len(line) <= 160 for line in lines)
    assert len(lines) == 2 + len(sales)  # header, rule, one line per transaction
    header = lines[0].split()
    assert {"id", "amount", "status", "settled_at"} <= set(header) and set(header) <= set(SETTLEMENT_EXPORT_COLUMNS)


def test_a_table_written_to_a_pipe_keeps_every_column(invoke, sandbox, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    sandbox.sale("3.00", customer={"email": "someone.long@example.com"})
    run = invoke("txn", "search", "-f", "table")
    assert run.stdout.splitlines()[0].split() == list(TRANSACTION.table_columns)
