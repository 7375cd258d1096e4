"""`paycli batch-refund`: validation, plans, results, reruns — and exactly-once under faults and SIGKILL."""

from __future__ import annotations

import csv
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import harness
import pytest

from paycli import sandbox as offline
from paycli.sandbox.store import Merchant

RESULT_COLUMNS = ["row", "transaction_id", "amount", "currency", "action", "outcome", "refund_id", "message"]


def write_csv(path: Path, rows: list[list[str]], header: str = "transaction_id,amount,order_id,reason") -> Path:
    path.write_text(header + "\n" + "".join(",".join(row) + "\n" for row in rows), encoding="utf-8")
    return path


def journal(home: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(home / ".local" / "state" / "paycli" / "journal.db") as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM entries ORDER BY id").fetchall()


def test_bad_rows_are_all_listed_and_nothing_is_refunded(invoke, sandbox, tmp_path) -> None:
    good = sandbox.sale("10.00", settle=True)
    path = write_csv(
        tmp_path / "b.csv",
        [
            [good, "", "", ""],
            ["bad.id", "", "", ""],
            [good, "1", "", ""],
            ["abc123", "1.001", "", ""],
            ["xyz789", "-3", "", ""],
        ],
    )
    run = invoke("batch-refund", path, code=2)
    message = run.stderr.strip()
    assert len(message.splitlines()) == 1 and "4 bad row(s), nothing was refunded" in message
    for line in ("line 3:", "line 4: transaction", "line 5:", "line 6:"):
        assert line in message
    assert sandbox.sdk.transaction.find(good).refund_ids == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,amount\nabc,1\n", "header with transaction_id"),
        ("transaction_id,price\nabc,1\n", "unknown column 'price'"),
        ("transaction_id\n", "no rows"),
    ],
)
def test_bad_files_exit_2(invoke, sandbox, tmp_path, content: str, message: str) -> None:
    path = tmp_path / "f.csv"
    path.write_text(content)
    assert message in invoke("batch-refund", path, code=2).stderr


def test_missing_file_exits_2(invoke, sandbox, tmp_path) -> None:
    assert "cannot read" in invoke("batch-refund", tmp_path / "nope.csv", code=2).stderr


def test_mixed_batch_results_and_rerun(invoke, sandbox, tmp_path, isolated_env) -> None:
    full = sandbox.sale("10.00", settle=True)
    partial = sandbox.sale("10.00", settle=True)
    unsettled = sandbox.sale("8.00")
    credit = sandbox.sdk.transaction.refund(sandbox.sale("5.00", settle=True)).transaction.id
    path = write_csv(
        tmp_path / "r.csv",
        [[full, "", "", "late"], [partial, "4.00", "ord-9", ""], [unsettled, "", "", ""], [credit, "", "", ""]],
    )
    results = tmp_path / "results.csv"
    run = invoke("batch-refund", path, "--results", results, code=7)
    rows = {r["transaction_id"]: r for r in run.json()}
    assert (rows[full]["action"], rows[full]["outcome"], rows[full]["amount"]) == ("refund", "done", "10.00")
    assert (rows[partial]["amount"], rows[partial]["outcome"]) == ("4.00", "done")
    assert (rows[unsettled]["action"], rows[unsettled]["outcome"]) == ("void", "done")
    assert (rows[credit]["action"], rows[credit]["outcome"]) == ("none", "failed")
    assert "line 5" in run.stderr and "rerun the same file" in run.stderr
    with results.open() as handle:
        written = list(csv.DictReader(handle))
    assert list(written[0]) == RESULT_COLUMNS and [int(r["row"]) for r in written] == [2, 3, 4, 5]
    assert sandbox.sdk.transaction.find(partial).refund_ids == [rows[partial]["refund_id"]]
    assert sandbox.sdk.transaction.find(unsettled).status == "voided"
    assert sandbox.sdk.transaction.find(rows[partial]["refund_id"]).order_id == "ord-9"

    again = {r["transaction_id"]: r for r in invoke("batch-refund", path, code=7).json()}
    assert {again[t]["outcome"] for t in (full, partial, unsettled)} == {"already_done"}
    assert again[partial]["refund_id"] == rows[partial]["refund_id"]
    assert len(sandbox.sdk.transaction.find(full).refund_ids) == 1
    assert len([e for e in journal(isolated_env) if e["state"] == "done"]) == 3


def test_dry_run_plans_without_touching_anything(invoke, sandbox, tmp_path, isolated_env) -> None:
    settled = sandbox.sale("10.00", settle=True)
    path = write_csv(tmp_path / "d.csv", [[settled, "3", "", ""], [sandbox.sale("2.00"), "", "", ""]])
    run = invoke("batch-refund", path, "--dry-run")
    assert [(r["action"], r["outcome"]) for r in run.json()] == [("refund", "skipped"), ("void", "skipped")]
    assert "1 to refund, 1 to void" in run.stderr and "total 5.00" in run.stderr
    assert sandbox.sdk.transaction.find(settled).refund_ids == []
    assert not (isolated_env / ".local" / "state" / "paycli" / "journal.db").exists() or journal(isolated_env) == []


def test_the_same_rows_in_a_new_file_are_not_refunded_again(invoke, sandbox, tmp_path) -> None:
    settled = sandbox.sale("10.00", settle=True)
    invoke("batch-refund", write_csv(tmp_path / "a.csv", [[settled, "2.00", "", ""]]))
    other = write_csv(tmp_path / "b.csv", [[sandbox.sale("1.00", settle=True), "", "", ""], [settled, "2.00", "", ""]])
    rows = invoke("batch-refund", other).json()
    assert rows[1]["outcome"] == "already_done"
    assert len(sandbox.sdk.transaction.find(settled).refund_ids) == 1


def test_editing_the_order_id_or_reason_of_a_done_row_refunds_nothing_more(invoke, sandbox, tmp_path) -> None:
    settled = sandbox.sale("10.00", settle=True)
    path = write_csv(tmp_path / "e.csv", [[settled, "1.00", "ord-1", "damaged"]])
    [first] = invoke("batch-refund", path).json()
    assert sandbox.sdk.transaction.find(first["refund_id"]).order_id == "ord-1"  # the refund's own order id
    for edited in ([settled, "1.00", "ord-2", "damaged"], [settled, "1.00", "ord-2", "broken on arrival"]):
        [row] = invoke("batch-refund", write_csv(path, [edited])).json()
        assert (row["outcome"], row["refund_id"]) == ("already_done", first["refund_id"])
    assert sandbox.sdk.transaction.find(settled).refund_ids == [first["refund_id"]]


def test_only_the_transaction_id_column_is_required(invoke, sandbox, tmp_path) -> None:
    settled = sandbox.sale("6.00", settle=True)
    path = write_csv(tmp_path / "ids.csv", [[settled]], header="transaction_id")
    assert invoke("batch-refund", path).json()[0]["amount"] == "6.00"


def test_progress_bar_on_a_terminal_keeps_stdout_clean(invoke, sandbox, tmp_path, tty) -> None:
    path = write_csv(tmp_path / "t.csv", [[sandbox.sale("6.00", settle=True), "", "", ""]])
    run = invoke("batch-refund", path)
    assert "done" in run.stdout and "Refunding" in run.stderr
    assert "Refunding" not in run.stdout and "Looking up" not in run.stdout


# --- exactly once, against a served sandbox that loses answers and kills runs ------------------------

MERCHANT = Merchant("batch", "batch_pub", "batch_priv", {"batch_usd": "USD"})


def _serve(db: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    return harness.serve_sandbox(db, "--merchant", "batch:batch_pub:batch_priv:batch_usd=USD", *extra)


@pytest.fixture
def flaky_batch(tmp_path, write_config, monkeypatch, sdk_for) -> Iterator[Any]:
    """300 sales (full refunds, partial refunds, voids) and a served sandbox over the same db with faults."""
    db = tmp_path / "shared.db"
    steady = offline.start(db, [MERCHANT])
    sdk = sdk_for(steady.url, "batch", "batch_pub", "batch_priv")
    rows, expected = [], {}
    for i in range(300):
        settle = i % 10 < 8
        sale = sdk.transaction.sale(
            {"amount": "10.00", "payment_method_nonce": "fake-valid-nonce", "options": {"submit_for_settlement": True}}
        ).transaction.id
        if settle:
            sdk.testing.settle_transaction(sale)
        amount = "4.00" if settle and i % 3 == 0 else ""
        rows.append([sale, amount, f"o{i}", ""])
        expected[sale] = ("refund", amount or "10.00") if settle else ("void", "10.00")
    server, url = _serve(
        db, "--faults", "refund=drop-after@0.05,*=503@0.03,*=429@0.02,void=drop-after@0.05", "--fault-seed", "42"
    )
    monkeypatch.setenv("BATCH_KEY", "batch_priv")
    write_config(f"""
        default_profile: b
        profiles:
          b: {{environment: local, url: "{url}", merchant_id: batch, public_key: batch_pub, private_key_env: BATCH_KEY}}
    """)

    class Batch:
        path = write_csv(tmp_path / "batch.csv", rows)

        def check_exactly_once(self, home: Path) -> None:
            done = {e["transaction_id"]: e for e in journal(home) if e["state"] == "done"}
            for sale, (action, amount) in expected.items():
                found = sdk.transaction.find(sale)
                if action == "void":
                    assert found.status == "voided" and found.refund_ids == [], sale
                    continue
                assert len(found.refund_ids) == 1, (sale, found.refund_ids)
                assert str(sdk.transaction.find(found.refund_ids[0]).amount) == amount
                entries = [dict(e) for e in journal(home) if e["transaction_id"] == sale]
                assert sale in done, (sale, entries)
                assert done[sale]["result_id"] == found.refund_ids[0]  # the journal agrees with the gateway

        def refund_ids(self) -> dict[str, list[str]]:
            return {sale: sdk.transaction.find(sale).refund_ids for sale in expected}

    yield Batch()
    server.terminate()
    server.wait(timeout=10)
    steady.stop()


@pytest.mark.slow  # hundreds of rows through injected faults and retries
def test_faulty_gateway_every_row_refunded_exactly_once_after_a_rerun(
    invoke, flaky_batch, isolated_env, monkeypatch
) -> None:
    monkeypatch.setattr("paycli.gateway.calls.BACKOFF_BASE_S", 0.01)
    invoke("batch-refund", flaky_batch.path, "--concurrency", "8", code=(0, 7))
    after_first = flaky_batch.refund_ids()
    for _ in range(3):  # a row can fail through all its retries on this gateway (~1e-4 a row): rerun it
        rerun = invoke("batch-refund", flaky_batch.path, "--concurrency", "8", code=(0, 7))
        if rerun.code == 0:
            break
    rows = rerun.json()
    assert len(rows) == 300 and {r["outcome"] for r in rows} <= {"done", "already_done"}
    flaky_batch.check_exactly_once(isolated_env)
    # the second run moved no money the first had moved: every refund the first made is still the only one
    now = flaky_batch.refund_ids()
    assert all(now[sale] == ids for sale, ids in after_first.items() if ids)


@pytest.mark.slow  # a paycli process killed and run again
def test_a_run_killed_midway_then_rerun_refunds_every_row_exactly_once(flaky_batch, isolated_env) -> None:
    command = [sys.executable, "-m", "paycli", "batch-refund", str(flaky_batch.path), "--concurrency", "4"]
    killed = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if len(journal(isolated_env)) >= 60:
                break
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)
    assert 0 < len(journal(isolated_env)) < 300 * 2
    for _ in range(3):  # a row can fail through every retry on this gateway; a further rerun finishes it
        rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if rerun.returncode != 7:
            break
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert {r["outcome"] for r in json.loads(rerun.stdout)} <= {"done", "already_done"}
    flaky_batch.check_exactly_once(isolated_env)


def test_unknown_transactions_fail_their_row_only(invoke, sandbox, tmp_path) -> None:
    settled = sandbox.sale("6.00", settle=True)
    rows = invoke(
        "batch-refund", write_csv(tmp_path / "u.csv", [["ghost1", "", "", ""], [settled, "", "", ""]]), code=7
    ).json()
    assert [(r["outcome"], r["message"]) for r in rows] == [
        ("failed", "transaction ghost1 not found"),
        ("done", "refunded 6.00"),
    ]


@pytest.mark.slow  # 120 sales made and settled first
def test_a_large_batch_is_looked_up_in_bulk(invoke, sandbox, tmp_path, monkeypatch) -> None:
    from paycli.gateway import Gateway

    finds: list[str] = []
    real_find = Gateway.find
    monkeypatch.setattr(Gateway, "find", lambda self, txn_id: finds.append(txn_id) or real_find(self, txn_id))
    ids = [sandbox.sale("2.00", settle=True) for _ in range(120)]
    rows = invoke("batch-refund", write_csv(tmp_path / "big.csv", [[i, "1.00", "", ""] for i in ids])).json()
    assert [r["outcome"] for r in rows] == ["done"] * 120
    assert finds == []  # three pages of search, not 120 finds


# a dry run's exit code, and Ctrl-C ----------------------------------------------------------------------------


def test_dry_run_with_failing_rows_exits_7_like_a_real_run(invoke, sandbox, tmp_path) -> None:
    settled = sandbox.sale("6.00", settle=True)
    path = write_csv(tmp_path / "d.csv", [["ghost1", "", "", ""], [settled, "", "", ""]])
    run = invoke("batch-refund", path, "--dry-run", code=7)
    assert [r["outcome"] for r in run.json()] == ["failed", "skipped"]
    assert "dry run: 1 of 2 rows would fail (first: line 2: transaction ghost1 not found)" in run.stderr
    assert sandbox.sdk.transaction.find(settled).refund_ids == []


@pytest.mark.slow  # a paycli process interrupted, against a slow sandbox
def test_ctrl_c_reports_what_was_done_and_writes_the_finished_rows(
    tmp_path, write_config, sdk_for, isolated_env
) -> None:
    db = tmp_path / "slow.db"
    steady = offline.start(db, [MERCHANT])
    sdk = sdk_for(steady.url, "batch", "batch_pub", "batch_priv")
    sales = harness.settled_sales(sdk, 40)
    steady.stop()
    server, url = _serve(db, "--latency", "100")
    write_config(f"""
        default_profile: b
        profiles:
          b: {{environment: local, url: "{url}", merchant_id: batch, public_key: batch_pub, private_key_env: BATCH_KEY}}
    """)
    path, results = write_csv(tmp_path / "slow.csv", [[sale, "", "", ""] for sale in sales]), tmp_path / "res.csv"
    try:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "paycli",
                "batch-refund",
                str(path),
                "--concurrency",
                "2",
                "--results",
                str(results),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**__import__("os").environ, "BATCH_KEY": "batch_priv"},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if sum(e["state"] == "done" for e in journal(isolated_env)) >= 4:
                    break
            except sqlite3.Error:
                pass
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert child.returncode == 130, err
    assert "error: interrupted after " in err and "of 40 rows: refunded " in err and "rows left" in err
    assert "rerun the same file" in err and "Traceback" not in err
    finished = [r for r in csv.DictReader(results.open()) if r["outcome"] == "done"]
    assert 1 <= len(finished) < 40  # rows journaled done but not yet reported when the signal came are left
    assert [str(r["row"]) for r in json.loads(out)] == [r["row"] for r in csv.DictReader(results.open())]


# pace: fast by default, slower while the gateway pushes back ------------------------------------------------


def test_pace_halves_once_per_burst_and_grows_back_slowly() -> None:
    from paycli.batch_refunds import GROW_AFTER_ROWS, Pace

    pushbacks, changes = [0], []
    pace = Pace(8, lambda: pushbacks[0], lambda now, before: changes.append((now, before)))
    pushbacks[0] += 3  # a burst of 429s seen by three rows
    pace.finished()
    pace.finished()
    pace.finished()
    assert pace.limit == 4 and changes == [(4, 8)]  # one burst, one cut
    for _ in range(2):  # a round of the new limit (4 rows) after the cut, it still pushes back: cut again
        pushbacks[0] += 1
        pace.finished()
    assert pace.limit == 2 and changes == [(4, 8), (2, 4)]
    for _ in range(GROW_AFTER_ROWS * 6):
        pace.finished()
    assert pace.limit == 8 and changes[-1] == (8, 7)  # back to the ceiling, one row at a time, never above


def test_the_default_concurrency_is_the_domains() -> None:
    import inspect

    from paycli.batch_refunds import DEFAULT_CONCURRENCY
    from paycli.cli.refund import batch_refund

    assert DEFAULT_CONCURRENCY == 8
    assert inspect.signature(batch_refund).parameters["concurrency"].default == DEFAULT_CONCURRENCY


def test_a_gateway_answering_429_slows_the_batch_down_and_says_so(
    invoke, tmp_path, write_config, sdk_for, isolated_env, monkeypatch
) -> None:
    monkeypatch.setattr("paycli.gateway.calls.BACKOFF_BASE_S", 0.01)
    db = tmp_path / "busy.db"
    steady = offline.start(db, [MERCHANT])
    sdk = sdk_for(steady.url, "batch", "batch_pub", "batch_priv")
    sales = harness.settled_sales(sdk, 40)
    busy = offline.start(db, [MERCHANT], faults="refund=429@0.3", fault_seed=5)
    monkeypatch.setenv("BATCH_KEY", "batch_priv")
    write_config(f"""
        default_profile: b
        profiles:
          b: {{environment: local, url: "{busy.url}", merchant_id: batch, public_key: batch_pub, private_key_env: BATCH_KEY}}
    """)
    try:
        run = invoke("batch-refund", write_csv(tmp_path / "busy.csv", [[s, "", "", ""] for s in sales]), code=(0, 7))
    finally:
        busy.stop()
    assert "the gateway is pushing back (429/503): slowing down to 4 refunds in flight (from 8)" in run.stderr
    assert {r["outcome"] for r in run.json()} <= {"done", "failed"}
    assert all(len(sdk.transaction.find(sale).refund_ids) <= 1 for sale in sales)
    steady.stop()


def test_results_and_output_are_written_by_the_same_csv_writer(invoke, sandbox, tmp_path) -> None:
    done = sandbox.sale("10.00", settle=True)
    credit = sandbox.sdk.transaction.refund(sandbox.sale("5.00", settle=True)).transaction.id
    path = write_csv(tmp_path / "r.csv", [[done, "2.50", "ord-1", ""], [credit, "", "", ""]])
    results, output = tmp_path / "results.csv", tmp_path / "output.csv"

    invoke("batch-refund", path, "--results", results, "-o", output, code=7)

    assert results.read_bytes() == output.read_bytes()  # one writer: same header, quoting and cells
    assert results.read_text().splitlines()[0] == ",".join(RESULT_COLUMNS)
    assert len(list(csv.DictReader(results.open()))) == 2


def test_results_that_cannot_be_written_name_the_results_option(invoke, sandbox, tmp_path) -> None:
    path = write_csv(tmp_path / "r.csv", [[sandbox.sale("3.00", settle=True), "", "", ""]])
    run = invoke("batch-refund", path, "--results", tmp_path / "missing" / "results.csv", code=2)
    assert "cannot write --results " in run.stderr and "--output" not in run.stderr
