"""State lives in SQLite (WAL): it survives restarts and is shared safely by several processes."""

from __future__ import annotations

import multiprocessing
import queue
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import braintree
import pytest
from gateway_calls import gateway_for, new_merchant, sale

from paycli import sandbox

PROCESSES = 4
SALES_EACH = 25
TS = braintree.TransactionSearch


def test_state_survives_a_restart(tmp_path: Path) -> None:
    merchant = new_merchant()
    db = tmp_path / "state.db"
    with sandbox.start(db, merchants=[merchant]) as first:
        gateway = gateway_for(first, merchant)
        txn = sale(gateway, "10.00", submit=True, order_id="kept", api_request_key="before-restart").transaction
        gateway.testing.settle_transaction(txn.id)
        refund = gateway.transaction.refund(txn.id, "4.00").transaction
        gateway.customer.create({"id": "cust-kept"})

    with sandbox.start(db, merchants=[]) as second:  # the merchant itself was stored too
        gateway = gateway_for(second, merchant)
        found = gateway.transaction.find(txn.id)
        replay = sale(gateway, "10.00", submit=True, order_id="kept", api_request_key="before-restart")
        customer = gateway.customer.find("cust-kept")
        rest = gateway.transaction.refund(txn.id)

    assert (found.status, found.order_id, found.refund_ids) == ("settled", "kept", [refund.id])
    assert replay.transaction.id == txn.id
    assert customer.id == "cust-kept"
    assert rest.transaction.amount == 6


def sell_over_http(port: int, merchant, worker: int, barrier, results) -> None:
    """Child process: SALES_EACH sales through the SDK against a server in another process."""
    gateway = gateway_for(port, merchant)
    barrier.wait(timeout=30)
    ids = [sale(gateway, "1.00", order_id=f"w{worker}").transaction.id for _ in range(SALES_EACH)]
    results.put(ids)


def sell_on_own_server(db: str, merchant, worker: int, barrier, results) -> None:
    """Child process: its own sandbox server over the shared database file, and SALES_EACH sales on it."""
    with sandbox.start(db, merchants=[merchant]) as running:
        gateway = gateway_for(running, merchant)
        barrier.wait(timeout=30)
        ids = [sale(gateway, "1.00", order_id=f"w{worker}").transaction.id for _ in range(SALES_EACH)]
    results.put(ids)


def run_workers(target, shared: str | int, merchant) -> list[list[str]]:
    """Start PROCESSES spawned children that sell at once (a barrier lines them up); their transaction ids."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=target, args=(shared, merchant, n, barrier, results)) for n in range(PROCESSES)]
    for worker in workers:
        worker.start()
    batches: list[list[str]] = []
    deadline = time.monotonic() + 60
    try:
        while len(batches) < PROCESSES:
            try:
                batches.append(results.get(timeout=0.5))
            except queue.Empty:
                crashed = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
                assert not crashed and time.monotonic() < deadline, f"workers failed: exit codes {crashed}"
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES
    return batches


def all_ids(gateway) -> list[str]:
    return [txn.id for txn in gateway.transaction.search(TS.amount >= "0.01").items]


def assert_nothing_lost(gateway, batches: list[list[str]]) -> None:
    made = [txn_id for batch in batches for txn_id in batch]
    stored = all_ids(gateway)
    assert len(made) == PROCESSES * SALES_EACH
    assert len(set(made)) == len(made)
    assert sorted(stored) == sorted(made)
    for worker in range(PROCESSES):
        assert gateway.transaction.search(TS.order_id == f"w{worker}").maximum_size == SALES_EACH


@pytest.mark.slow  # several processes selling
def test_processes_selling_at_once_against_one_server_lose_nothing(start_sandbox) -> None:
    merchant = new_merchant()
    running = start_sandbox([merchant])

    batches = run_workers(sell_over_http, running.port, merchant)

    assert_nothing_lost(gateway_for(running, merchant), batches)


@pytest.mark.slow  # several processes, several servers
def test_processes_with_their_own_servers_on_one_database_lose_nothing(start_sandbox, tmp_path: Path) -> None:
    merchant = new_merchant()
    db = tmp_path / "shared.db"
    sandbox.start(db, merchants=[merchant]).stop()  # create the schema before the race

    batches = run_workers(sell_on_own_server, str(db), merchant)

    assert_nothing_lost(gateway_for(start_sandbox([], db=db), merchant), batches)


def test_threads_replaying_one_key_at_once_store_one_sale(start_sandbox) -> None:
    threads = 8
    merchant = new_merchant()
    running = start_sandbox([merchant])
    gateway = gateway_for(running, merchant)

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(lambda _: sale(gateway, "5.00", api_request_key="raced"), range(threads)))

    assert len({r.transaction.id for r in results}) == 1
    assert len(all_ids(gateway)) == 1
