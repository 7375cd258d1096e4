"""The journal as the resume log: one intent is one entry, a resume closes it, amounts come from the gateway;
a locked journal is a transient failure that says whether money moved; a repeat within minutes is asked."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import harness
import pytest
from freezegun import freeze_time

from paycli import sandbox as offline
from paycli.sandbox.store import Merchant

MERCHANT = Merchant("lost", "lost_pub", "lost_priv", {"lost_usd": "USD"})
PROFILE = (
    "profiles:\n  t:\n    environment: local\n    url: {url}\n    merchant_id: lost\n"
    "    public_key: lost_pub\n    private_key_env: LOST_KEY\ndefault_profile: t\n"
)


def journal_path(home: Path) -> Path:
    return home / ".local" / "state" / "paycli" / "journal.db"


def journal_rows(home: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(journal_path(home)) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM entries ORDER BY id").fetchall()


class Gateways:
    """One sandbox database served first with faults, then healthy: the same state behind both."""

    def __init__(self, db: Path, write_config: Any, sdk_for: Any) -> None:
        self.db, self.write_config, self.sdk_for = db, write_config, sdk_for
        self.running: Any = None

    def serve(self, faults: str | None = None) -> Any:
        self.stop()
        self.running = offline.start(self.db, [MERCHANT], faults=faults)
        self.write_config(PROFILE.format(url=self.running.url))
        return self.running

    @property
    def sdk(self) -> Any:
        return self.sdk_for(self.running.url, "lost", "lost_pub", "lost_priv")

    def settled_sale(self, amount: str) -> str:
        [sale] = harness.settled_sales(self.sdk, 1, amount)
        return sale

    def stop(self) -> None:
        if self.running is not None:
            self.running.stop()
            self.running = None


@pytest.fixture
def gateways(tmp_path, write_config, sdk_for, monkeypatch) -> Iterator[Gateways]:
    monkeypatch.setattr("paycli.gateway.calls.BACKOFF_BASE_S", 0.001)
    monkeypatch.setenv("LOST_KEY", "lost_priv")
    both = Gateways(tmp_path / "lost.db", write_config, sdk_for)
    both.serve()
    yield both
    both.stop()


def lose_the_answer(invoke: Any, gateways: Gateways, *args: str) -> None:
    """Run `paycli refund …` against a gateway that makes the refund and drops every answer, then heal it."""
    gateways.serve(faults="refund=drop-after@1.0")
    lost = invoke("refund", *args, code=6).stderr
    assert (
        "retrying" in lost
        and "may or may not have happened, so the money may have moved: rerun the same command to resume" in lost
    )
    gateways.serve()


# --- one intent, one entry -----------------------------------------------------------------------------


def test_a_resume_closes_the_entry_it_resumes_and_a_new_command_is_a_new_refund(invoke, gateways, isolated_env) -> None:
    sale = gateways.settled_sale("50.00")
    lose_the_answer(invoke, gateways, sale, "--amount", "20")
    [lost] = journal_rows(isolated_env)
    assert lost["state"] == "unknown"

    resumed = invoke("refund", sale, "--amount", "20")
    assert "resumed an unfinished refund" in resumed.stderr
    credit = resumed.json()
    assert gateways.sdk.transaction.find(sale).refund_ids == [credit["id"]]
    [entry] = journal_rows(isolated_env)  # the same entry, closed with the gateway's answer
    assert (entry["id"], entry["state"], entry["result_id"]) == (lost["id"], "done", credit["id"])
    assert entry["api_request_key"] == lost["api_request_key"] and entry["finished_at"]
    # what is left comes from the gateway: 50 - 20, not the 20 subtracted a second time
    assert f"refunded 20.00 USD of {sale} as {credit['id']}; 30.00 USD left to refund" in resumed.stderr
    assert (credit["sale_refunded_amount"], credit["sale_refundable_amount"], credit["resumed"]) == (
        "20.00",
        "30.00",
        True,
    )

    second = invoke("refund", sale, "--amount", "20", "--again")  # a deliberate second refund moves money
    assert "resumed" not in second.stderr and second.json()["id"] != credit["id"]
    assert len(gateways.sdk.transaction.find(sale).refund_ids) == 2
    first, new = journal_rows(isolated_env)
    assert (first["state"], new["state"]) == ("done", "done")
    assert new["api_request_key"] != first["api_request_key"]
    assert "10.00 USD left to refund" in second.stderr


def test_everything_left_after_a_lost_answer_resumes_the_same_request(invoke, gateways, isolated_env) -> None:
    sale = gateways.settled_sale("40.00")
    lose_the_answer(invoke, gateways, sale, "--amount", "20")
    # 20 left, and the lost 20.00 entry is that same intent: it is resumed with the very request first sent
    run = invoke("refund", sale)
    assert "resumed an unfinished refund" in run.stderr and "20.00 USD left to refund" in run.stderr
    assert len(gateways.sdk.transaction.find(sale).refund_ids) == 1
    assert [r["state"] for r in journal_rows(isolated_env)] == ["done"]
    everything = invoke("refund", sale, "--again")  # now closed: a new intent, everything left
    assert "resumed" not in everything.stderr and "0.00 USD left to refund" in everything.stderr
    assert len(gateways.sdk.transaction.find(sale).refund_ids) == 2


def test_a_lost_batch_row_is_resumed_in_its_own_entry(invoke, gateways, isolated_env, tmp_path) -> None:
    sale = gateways.settled_sale("10.00")
    path = tmp_path / "one.csv"
    path.write_text(f"transaction_id,amount,order_id\n{sale},4.00,first\n")
    gateways.serve(faults="refund=drop-after@1.0")
    invoke("batch-refund", path, code=7)
    gateways.serve()
    path.write_text(f"transaction_id,amount,order_id\n{sale},4.00,edited\n")  # the order id fixed meanwhile
    [row] = invoke("batch-refund", path).json()
    assert (row["outcome"], row["amount"]) == ("done", "4.00")
    [entry] = journal_rows(isolated_env)
    assert (entry["state"], entry["result_id"], entry["order_id"]) == ("done", row["refund_id"], "first")
    assert gateways.sdk.transaction.find(sale).refund_ids == [row["refund_id"]]


# --- a locked journal ---------------------------------------------------------------------------------------


class Holder:
    """Another process's connection holding the journal exclusively until released.

    BEGIN EXCLUSIVE on a WAL database stops writers only; `readers=True` (exclusive locking mode, and a
    write) stops readers too.
    """

    def __init__(self, path: Path, *, readers: bool = False) -> None:
        self.path = path
        self.readers = readers
        self.db: sqlite3.Connection | None = None

    def take(self) -> None:
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        if self.readers:
            self.db.execute("PRAGMA locking_mode=EXCLUSIVE")
        self.db.execute("BEGIN EXCLUSIVE")
        if self.readers:
            self.db.execute("UPDATE entries SET id = id WHERE 0")

    def release(self) -> None:
        if self.db is not None:
            self.db.execute("ROLLBACK")
            self.db.close()
            self.db = None


@pytest.mark.parametrize("readers", [False, True], ids=["writers-locked", "readers-locked"])
@pytest.mark.parametrize("again", [[], ["--again"]], ids=["checked", "again"])
def test_a_journal_locked_before_the_call_exits_6_and_no_money_moves(
    invoke, gateways, isolated_env, monkeypatch, readers: bool, again: list[str]
) -> None:
    monkeypatch.setattr("paycli.journal.LOCK_WAIT_S", 0.5, raising=False)
    sale = gateways.settled_sale("10.00")
    invoke("refund", sale, "--amount", "1")  # the journal exists
    holder = Holder(journal_path(isolated_env), readers=readers)
    holder.take()
    try:
        started = time.monotonic()
        run = invoke("refund", sale, "--amount", "2", *again, code=6)
        assert time.monotonic() - started < 5
    finally:
        holder.release()
    assert "locked" in run.stderr and "no money moved" in run.stderr and "bug" not in run.stderr
    assert len(gateways.sdk.transaction.find(sale).refund_ids) == 1


@pytest.mark.slow  # a refund held in flight for 1.5 s while another run takes the journal's lock
def test_a_journal_locked_after_the_call_says_the_refund_happened_and_a_rerun_records_it(
    invoke, gateways, isolated_env, monkeypatch
) -> None:
    monkeypatch.setattr("paycli.journal.LOCK_WAIT_S", 0.5, raising=False)
    sale = gateways.settled_sale("10.00")
    invoke("refund", sale, "--amount", "1")
    gateways.serve(faults="refund=slow:1500@1")
    holder = Holder(journal_path(isolated_env))

    def lock_once_the_call_is_in_flight() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if [r["state"] for r in journal_rows(isolated_env)] == ["done", "pending"]:
                holder.take()
                return
            time.sleep(0.02)

    locker = threading.Thread(target=lock_once_the_call_is_in_flight)
    locker.start()
    try:
        run = invoke("refund", sale, "--amount", "2", code=6)
    finally:
        locker.join()
        holder.release()
    assert "went through" in run.stderr and "rerun the same command" in run.stderr and "bug" not in run.stderr
    assert len(gateways.sdk.transaction.find(sale).refund_ids) == 2
    assert [r["state"] for r in journal_rows(isolated_env)] == ["done", "pending"]

    gateways.serve()
    rerun = invoke("refund", sale, "--amount", "2")
    assert "resumed" in rerun.stderr and "7.00 USD left to refund" in rerun.stderr
    assert len(gateways.sdk.transaction.find(sale).refund_ids) == 2
    assert [r["state"] for r in journal_rows(isolated_env)] == ["done", "done"]


@pytest.mark.parametrize("readers", [False, True], ids=["writers-locked", "readers-locked"])
def test_a_locked_journal_stops_a_batch_with_exit_6(
    invoke, gateways, isolated_env, monkeypatch, tmp_path, readers: bool
) -> None:
    monkeypatch.setattr("paycli.journal.LOCK_WAIT_S", 0.5, raising=False)
    sales = [gateways.settled_sale("10.00") for _ in range(6)]
    invoke("refund", sales[0], "--amount", "1")
    path = tmp_path / "six.csv"
    path.write_text("transaction_id\n" + "".join(f"{sale}\n" for sale in sales[1:]))
    holder = Holder(journal_path(isolated_env), readers=readers)
    holder.take()
    try:
        run = invoke("batch-refund", path, "--concurrency", "1", code=6)
    finally:
        holder.release()
    assert "no money moved" in run.stderr and "locked" in run.stderr
    assert all(gateways.sdk.transaction.find(sale).refund_ids == [] for sale in sales[1:])
    assert [r["outcome"] for r in invoke("batch-refund", path).json()] == ["done"] * 5


# --- deliberate repeats ----------------------------------------------------------------------------------


def test_the_same_refund_again_within_minutes_is_refused_without_a_terminal(invoke, sandbox) -> None:
    sale = sandbox.sale("30.00", settle=True)
    with freeze_time("2026-03-02 10:00:00", tick=True):
        invoke("refund", sale, "--amount", "5")
    with freeze_time("2026-03-02 10:09:00", tick=True):
        run = invoke("refund", sale, "--amount", "5", "--yes", code=2)
        assert "--again" in run.stderr and "already refunded 5.00 USD" in run.stderr
        assert len(sandbox.sdk.transaction.find(sale).refund_ids) == 1
        invoke("refund", sale, "--amount", "4")  # another amount is another refund
        invoke("refund", sale, "--amount", "5", "--again")
    assert len(sandbox.sdk.transaction.find(sale).refund_ids) == 3
    with freeze_time("2026-03-02 10:20:00", tick=True):
        invoke("refund", sale, "--amount", "5")  # outside the window: no question
    assert len(sandbox.sdk.transaction.find(sale).refund_ids) == 4


def test_the_same_refund_again_asks_on_a_terminal(invoke, sandbox, tty) -> None:
    sale = sandbox.sale("30.00", settle=True)
    invoke("refund", sale, "--amount", "5")
    refused = invoke("refund", sale, "--amount", "5", input="n\n", code=2)
    assert "refund another 5.00 USD?" in refused.stderr
    assert len(sandbox.sdk.transaction.find(sale).refund_ids) == 1
    invoke("refund", sale, "--amount", "5", input="y\n")
    assert len(sandbox.sdk.transaction.find(sale).refund_ids) == 2


def test_refund_help_names_the_repeat_window(invoke) -> None:
    from paycli.refunds import REPEAT_WINDOW

    minutes = int(REPEAT_WINDOW.total_seconds() // 60)
    text = " ".join(invoke("refund", "--help").stdout.split())
    assert f"last {minutes} minutes" in text and "--again" in text


def test_a_batch_row_left_unfinished_by_an_older_paycli_is_resumed_under_its_own_key(
    invoke, gateways, isolated_env, tmp_path
) -> None:
    """Older batch keys included the order id, and a whole-sale row was sent without an amount."""
    import hashlib

    from paycli.journal import UNKNOWN, Context, Journal

    sale = gateways.settled_sale("30.00")
    key = "paycli-batch-" + hashlib.sha256(f"lost|{sale}|full|ord-7".encode()).hexdigest()[:40]
    lost = gateways.sdk.transaction.refund(
        sale, {"amount": None, "order_id": "ord-7", "api_request_key": key}
    ).transaction
    journal = Journal(journal_path(isolated_env))
    entry = journal.begin(
        Context("t", "local", "lost", "someone"),
        kind="refund",
        transaction_id=sale,
        amount=lost.amount,
        api_request_key=key,
        order_id="ord-7",
        batch="old.csv",
        batch_row=2,
    )
    journal.finish(entry, UNKNOWN, error="the answer was lost")
    journal.close()
    path = tmp_path / "old.csv"
    path.write_text(f"transaction_id,amount,order_id\n{sale},,ord-7\n")

    [row] = invoke("batch-refund", path).json()

    assert (row["outcome"], row["refund_id"], row["amount"]) == ("done", lost.id, "30.00")
    assert gateways.sdk.transaction.find(sale).refund_ids == [lost.id]
    [closed] = journal_rows(isolated_env)
    assert (closed["id"], closed["state"], closed["result_id"]) == (entry, "done", lost.id)
