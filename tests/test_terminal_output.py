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
    sales = [
        sandbox.sale(amount, order_id=f"order-{amount}", customer={"email": "someone.long@example.com"})
        for amount in ("11.00", "1234.56")
    ]
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


# an empty result says so ------------------------------------------------------------------------------------


def test_search_that_matches_nothing_says_so_on_stderr(invoke, sandbox, tty) -> None:
    sandbox.sale("3.00", order_id="kept")
    run = invoke("txn", "search", "--order-id", "nobody", "--status", "settled")
    assert "no transactions matched --order-id nobody --status settled on profile test" in plain(run.stderr)
    assert run.stdout == ""  # no header alone on a terminal: the note says it
    json_run = invoke("txn", "search", "--order-id", "nobody", "-f", "json")
    assert json_run.json() == [] and "no transactions matched" in json_run.stderr  # stdout stays one document
    assert "no transactions" not in invoke("-q", "txn", "search", "--order-id", "nobody").stderr


def test_summary_of_an_empty_default_day_names_the_day_and_how_to_see_today(invoke, sandbox, tty) -> None:
    from freezegun import freeze_time

    sandbox.sale("10.00", settle=True)  # settled today: the default (yesterday) shows nothing
    with freeze_time("2026-03-02T15:00:00Z", tick=True, ignore=["paycli.sandbox", "braintree", "urllib3"]):
        run = invoke("settlement", "summary")
    text = plain(run.stderr)
    assert "nothing settled on 2026-03-01 (the default, yesterday there; what settled today: --date today)" in text
    assert "profile test, timezone UTC" in text
    explicit = invoke("settlement", "summary", "--date", "2020-01-01")
    assert "nothing settled on 2020-01-01 for profile test" in plain(explicit.stderr)
    assert "nothing settled" not in invoke("settlement", "summary", "--date", "today").stderr


def test_export_of_an_empty_day_says_so(invoke, sandbox) -> None:
    run = invoke("settlement", "export", "--date", "2020-01-01", "-f", "csv")
    assert run.stdout.count("\n") == 1  # the header only
    assert "nothing settled on 2020-01-01 for profile test" in run.stderr


# export -o on a terminal says where it wrote ------------------------------------------------------------------


def test_export_to_a_file_on_a_terminal_says_where_how_many_and_reconciled(invoke, sandbox, tty, tmp_path) -> None:
    for amount in ("10.00", "20.00"):
        sandbox.sale(amount, settle=True)
    target = tmp_path / "day.csv"
    run = invoke("settlement", "export", "--date", "today", "-o", target)
    assert run.stdout == ""
    assert f"wrote 2 transactions to {target}, reconciled with the settlement summary" in plain(run.stderr)
    assert len(target.read_text().splitlines()) == 3


def test_export_to_a_file_off_a_terminal_stays_silent(invoke, sandbox, tmp_path) -> None:
    sandbox.sale("10.00", settle=True)
    run = invoke("settlement", "export", "--date", "today", "-o", tmp_path / "day.csv")
    assert run.stdout == "" and run.stderr == ""


# NO_COLOR and --no-color: plain text ------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["env", "option"])
def test_no_color_means_no_escape_codes_at_all(invoke, sandbox, tty, monkeypatch, how: str) -> None:
    sandbox.sale("3.00")
    before = []
    if how == "env":
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        before = ["--no-color"]
    table = invoke(*before, "txn", "search")
    failure = invoke(*before, "txn", "show", "nosuchid", code=5)
    assert table.stdout.startswith("id ") and "\x1b" not in table.stdout + table.stderr
    assert failure.stderr.startswith("error: ") and "\x1b" not in failure.stderr


def test_a_terminal_with_colour_still_gets_bold_headers(invoke, sandbox, tty) -> None:
    sandbox.sale("3.00")
    assert "\x1b[1m" in invoke("txn", "search").stdout


# --help ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("columns", ["80", "200"])
def test_root_help_shows_each_command_description_whole(invoke, monkeypatch, columns: str) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    text = invoke("--help").stdout
    assert "…" not in text and "..." not in text.split("Commands:")[1]
    commands = " ".join(text.split("Commands:")[1].split())  # wrapped lines joined
    assert "Settlement reports: Braintree's batch summary and a reconciled transaction export." in commands
    assert "Refund a settled or settling sale; an unsettled sale refunded in full is voided instead." in commands
    assert all(len(line) <= int(columns) for line in text.splitlines())


def test_root_help_uses_a_wide_terminal() -> None:
    import os
    import subprocess
    import sys

    # a real process: Click's test runner pins the help width to 80
    text = subprocess.run(
        [sys.executable, "-m", "paycli", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    assert (
        "  batch-refund  Refund every row of a CSV; validated first, safe to rerun (done rows are never refunded "
        "again)." in text.splitlines()
    )
