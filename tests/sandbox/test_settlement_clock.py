"""Nightly settlement (docs/sandbox.md, "Lifecycle"): nothing settles on a timer unless a cutoff is configured,
and then it is applied lazily from the clock, so freezegun drives it (in-process server, same clock)."""

from __future__ import annotations

from datetime import datetime

import braintree
import pytest
from freezegun import freeze_time
from gateway_calls import gateway_for, new_merchant, sale

# New York is on EST (UTC-5) in early March 2026 (DST starts 8 March): 02:00 local is 07:00Z.
MIDNIGHT_NY = "2026-03-02T05:00:00Z"


@pytest.fixture
def nightly(start_sandbox):
    """A gateway for a New York merchant whose batches close at 02:00 local, on its own server."""
    merchant = new_merchant(timezone="America/New_York", nightly_settlement="02:00")
    return gateway_for(start_sandbox([merchant]), merchant)


def status_of(gateway, txn_id: str) -> str:
    return gateway.transaction.find(txn_id).status


def test_nothing_settles_without_a_nightly_cutoff(gateway) -> None:
    with freeze_time(MIDNIGHT_NY) as clock:
        txn = sale(gateway, submit=True).transaction
        clock.move_to("2026-03-09T12:00:00Z")

        assert status_of(gateway, txn.id) == "submitted_for_settlement"


def test_submitted_sale_settles_when_the_clock_passes_the_cutoff(nightly) -> None:
    with freeze_time(MIDNIGHT_NY) as clock:
        txn = sale(nightly, "10.00", submit=True).transaction
        clock.move_to("2026-03-02T06:59:59Z")
        before = nightly.transaction.find(txn.id)
        clock.move_to("2026-03-02T07:00:01Z")
        after = nightly.transaction.find(txn.id)

    assert before.status == "submitted_for_settlement"
    assert after.status == "settled"
    assert after.settlement_batch_id.startswith("2026-03-02_")
    assert after.status_history[-1].timestamp.replace(tzinfo=None) == datetime(2026, 3, 2, 7, 0, 0)


def test_sale_submitted_after_the_cutoff_waits_for_the_next_one(nightly) -> None:
    with freeze_time("2026-03-02T07:30:00Z") as clock:  # 02:30 in New York
        txn = sale(nightly, submit=True).transaction
        clock.move_to("2026-03-03T06:59:00Z")
        waiting = status_of(nightly, txn.id)
        clock.move_to("2026-03-03T07:00:30Z")
        settled = nightly.transaction.find(txn.id)

    assert waiting == "submitted_for_settlement"
    assert settled.status == "settled"
    assert settled.settlement_batch_id.startswith("2026-03-03_")


def test_authorized_sales_do_not_settle_at_the_cutoff(nightly) -> None:
    with freeze_time(MIDNIGHT_NY) as clock:
        txn = sale(nightly).transaction
        clock.move_to("2026-03-04T12:00:00Z")

        assert status_of(nightly, txn.id) == "authorized"


def test_settled_by_the_clock_is_refundable(nightly) -> None:
    with freeze_time(MIDNIGHT_NY) as clock:
        txn = sale(nightly, "10.00", submit=True).transaction
        assert nightly.transaction.refund(txn.id).errors.deep_errors[0].code == "91506"
        clock.move_to("2026-03-02T08:00:00Z")

        refund = nightly.transaction.refund(txn.id)

    assert refund.is_success
    assert refund.transaction.refunded_transaction_id == txn.id


def test_summary_and_search_see_the_nightly_batch_without_a_find_first(nightly) -> None:
    with freeze_time(MIDNIGHT_NY) as clock:
        first = sale(nightly, "10.00", submit=True).transaction.id
        second = sale(nightly, "2.50", submit=True).transaction.id
        clock.move_to("2026-03-02T09:00:00Z")

        summary = nightly.settlement_batch_summary.generate("2026-03-02").settlement_batch_summary.records
        settled = nightly.transaction.search(braintree.TransactionSearch.status == "settled")

    assert [(r["count"], r["amount_settled"]) for r in summary] == [("2", "12.50")]
    assert {t.id for t in settled.items} == {first, second}


def test_4001_sale_is_settlement_declined_at_the_cutoff(nightly) -> None:
    with freeze_time(MIDNIGHT_NY) as clock:
        txn = sale(nightly, "4001.00", submit=True).transaction
        clock.move_to("2026-03-02T08:00:00Z")

        assert status_of(nightly, txn.id) == "settlement_declined"
