"""`paycli txn show|search` against the sandbox: shapes, formats, filters and streaming."""

from __future__ import annotations

import csv
import io
import re

import pytest

from paycli.cli.views import TRANSACTION


def test_show_has_the_design_shape_with_refunds_resolved(invoke, sandbox) -> None:
    sale = sandbox.sale("30.00", settle=True)
    sandbox.sdk.transaction.refund(sale, "10.00")
    txn = invoke("txn", "show", sale).json()
    for key in (
        "id",
        "type",
        "status",
        "amount",
        "currency",
        "merchant_account_id",
        "order_id",
        "created_at",
        "updated_at",
        "payment_instrument_type",
        "card_type",
        "last_4",
        "customer_email",
        "processor_response_code",
        "processor_response_text",
        "gateway_rejection_reason",
        "settlement_batch_id",
        "refund_ids",
        "refunded_transaction_id",
        "refunded_amount",
        "refundable_amount",
        "status_history",
    ):
        assert key in txn
    assert (txn["status"], txn["refunded_amount"], txn["refundable_amount"]) == ("settled", "10.00", "20.00")
    assert len(txn["refund_ids"]) == 1
    assert txn["created_at"].endswith("Z") and txn["settlement_batch_id"].endswith(f"_{sandbox.merchant.id}_usd")
    assert [e["status"] for e in txn["status_history"]] == ["authorized", "submitted_for_settlement", "settled"]
    assert all(e["amount"] == "30.00" for e in txn["status_history"])


def test_show_a_refund_credit(invoke, sandbox) -> None:
    sale = sandbox.sale("12.00", settle=True)
    credit = sandbox.sdk.transaction.refund(sale).transaction
    txn = invoke("txn", "show", credit.id).json()
    assert (txn["type"], txn["refunded_transaction_id"], txn["refundable_amount"]) == ("credit", sale, "0.00")


def test_show_unknown_id_exits_5(invoke, sandbox) -> None:
    run = invoke("txn", "show", "nosuchid", code=5)
    assert run.stderr.count("\n") == 1 and "not found" in run.stderr
    assert run.json()["error"]["type"] == "not_found"


@pytest.mark.parametrize("bad", ["bad.id", "a b", "x" * 65, "ü"])
def test_show_malformed_id_exits_2(invoke, sandbox, bad: str) -> None:
    assert "malformed" in invoke("txn", "show", bad, code=2).stderr


def test_show_as_a_table_on_a_terminal(invoke, sandbox, tty) -> None:
    sale = sandbox.sale("8.00")
    run = invoke("txn", "show", sale)
    assert sale in run.stdout and "submitted_for_settlement" in run.stdout and "status_history" in run.stdout


def test_search_filters_by_order_id_status_and_amount(invoke, sandbox) -> None:
    a = sandbox.sale("10.00", order_id="o-a")
    b = sandbox.sale("20.00", order_id="o-b", submit=False)
    assert [t["id"] for t in invoke("txn", "search", "--order-id", "o-a").json()] == [a]
    assert [t["id"] for t in invoke("txn", "search", "--status", "authorized").json()] == [b]
    both = invoke("txn", "search", "--amount-min", "5", "--amount-max", "25").json()
    assert sorted(t["id"] for t in both) == sorted([a, b])
    assert invoke("txn", "search", "--amount-min", "15").json()[0]["id"] == b


def test_search_by_email_last4_and_dates(invoke, sandbox) -> None:
    sale = sandbox.sale("11.00", customer={"email": "zoe@example.com"})
    assert [t["id"] for t in invoke("txn", "search", "--email", "zoe@example.com").json()] == [sale]
    assert [t["id"] for t in invoke("txn", "search", "--last4", "1881").json()] == [sale]
    assert invoke("txn", "search", "--last4", "1111").json() == []
    assert [t["id"] for t in invoke("txn", "search", "--since", "today", "--until", "today").json()] == [sale]
    assert invoke("txn", "search", "--until", "2000-01-01").json() == []


def test_search_settled_on_a_day(invoke, sandbox) -> None:
    settled = sandbox.sale("9.00", settle=True)
    sandbox.sale("9.00")
    day = sandbox.sdk.transaction.find(settled).settlement_batch_id[:10]
    assert [t["id"] for t in invoke("txn", "search", "--settled-on", day).json()] == [settled]


def test_search_streams_ndjson_and_respects_limit(invoke, sandbox) -> None:
    for _ in range(3):
        sandbox.sale("1.00")
    rows = invoke("txn", "search", "-f", "ndjson", "--limit", "2").ndjson()
    assert len(rows) == 2 and all(r["amount"] == "1.00" for r in rows)


def test_search_csv_has_the_fixed_columns(invoke, sandbox) -> None:
    sandbox.sale("3.00")
    text = invoke("txn", "search", "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == TRANSACTION.columns and len(rows) == 2


def test_search_pages_beyond_fifty(invoke, sandbox) -> None:
    ids = {sandbox.sale("1.00", order_id="bulk") for _ in range(55)}
    assert {t["id"] for t in invoke("txn", "search", "--order-id", "bulk").json()} == ids


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--status", "paid"], "--status paid is not a transaction status"),
        (["--last4", "12"], "--last4 '12' must be exactly 4 digits"),
        (["--since", "last tuesday"], "--since"),
        (["--amount-min", "1.001"], "--amount-min"),
        (["--amount-min", "20", "--amount-max", "10"], "larger than --amount-max"),
        (["--settled-on", "2026-02-30"], "--settled-on"),
        (["--since", "2026-02-01", "--until", "2026-01-01"], "--since 2026-02-01 is after --until 2026-01-01"),
        (["--since", "2026-01-01T10:00:00Z", "--until", "2026-01-01T09:00:00Z"], "is after --until"),
        (["--order-id", "o-\x01"], "--order-id contains a control character (U+0001 at position 3)"),
        (["--email", "a@b.c\n"], "--email contains a control character"),
        (["--customer-id", "c\x7f"], "--customer-id contains a control character"),
    ],
)
def test_search_bad_filters_exit_2(invoke, sandbox, args: list[str], message: str) -> None:
    run = invoke("txn", "search", *args, code=2)
    assert message in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_search_table_on_a_terminal_shows_the_columns_that_fit(invoke, sandbox, tty) -> None:
    sale = sandbox.sale("3.00", order_id="fit-1")
    plain = re.sub(r"\x1b\[[0-9;]*m", "", invoke("txn", "search").stdout)  # bold headers on a terminal
    header, _, row = plain.splitlines()[:3]
    assert header.split() == list(TRANSACTION.table_columns)
    assert row.split()[:3] == [sale, "sale", "submitted_for_settlement"]


def test_since_equal_to_until_is_one_day_not_an_error(invoke, sandbox) -> None:
    sale = sandbox.sale("2.00")
    assert [t["id"] for t in invoke("txn", "search", "--since", "today", "--until", "today").json()] == [sale]


# a reader that stops early (`| head`) ---------------------------------------------------------------------


def _many_sales(sandbox, count: int) -> None:
    """`count` sales for the merchant, cloned in the sandbox's store from one made through the SDK."""
    import copy

    store, merchant = sandbox.running.store, sandbox.merchant.id
    template = store.transaction(store.read(), merchant, sandbox.sale("1.00", order_id="many"))
    with store.write() as db:
        for index in range(count - 1):
            doc = copy.deepcopy(template)
            doc.update(id=f"{merchant[1:7]}{index:05d}", global_id=None)
            store.insert_transaction(db, merchant, doc)


@pytest.mark.slow  # a paycli process per format
@pytest.mark.parametrize("fmt", ["ndjson", "table", "csv", "json"])
def test_a_reader_that_stops_early_gets_a_quiet_exit_141(sandbox, tmp_path, fmt: str) -> None:
    import subprocess
    import sys

    _many_sales(sandbox, 1100)  # well over a pipe's 64 KiB, and over one 1000-row table chunk
    with open(tmp_path / "stderr", "w+", encoding="utf-8") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "paycli", "txn", "search", "-f", fmt],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        first = child.stdout.readline()  # what `| head -1` reads before it goes away
        child.stdout.close()
        code = child.wait(timeout=120)
        stderr.seek(0)
        said = stderr.read()
    assert first.strip()
    assert code == 141, said  # never 130 (Ctrl-C) and never 1 (a bug)
    assert said == ""


@pytest.mark.slow  # a shell pipeline of paycli processes
def test_a_closed_pipe_in_a_shell_pipeline_is_sigpipe_status(sandbox) -> None:
    import shlex
    import subprocess
    import sys

    _many_sales(sandbox, 1100)
    paycli = shlex.join([sys.executable, "-m", "paycli", "txn", "search", "-f", "ndjson"])
    run = subprocess.run(
        ["bash", "-c", f'set -o pipefail; {paycli} | head -1 >/dev/null; echo "${{PIPESTATUS[@]}}"'],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.stdout.split() == ["141", "0"] and run.stderr == ""
