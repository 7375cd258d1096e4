"""`settlement_batch_summary.generate`: settled totals per batch date, grouped by merchant
account, card type and kind."""

from __future__ import annotations

from datetime import date

import pytest
from freezegun import freeze_time
from gateway_calls import gateway_for, new_merchant, only_error, sale


def records(gateway, settlement_date, group_by=None) -> list[dict]:
    result = gateway.settlement_batch_summary.generate(settlement_date, group_by)
    assert result.is_success, result.message
    return sorted(
        result.settlement_batch_summary.records,
        key=lambda r: (r["merchant_account_id"], r["card_type"], r["kind"], r.get(group_by or "", "")),
    )


def test_records_group_settled_transactions_by_account_card_type_and_kind(gateway, merchant, settled_sale) -> None:
    usd, eur = f"{merchant.id}_usd", f"{merchant.id}_eur"
    first = settled_sale("10.00")
    settled_sale("5.50")
    settled_sale("7.00", nonce="fake-valid-amex-nonce")
    settled_sale("3.00", merchant_account_id=eur)
    refund = gateway.transaction.refund(first.id, "2.00").transaction
    gateway.testing.settle_transaction(refund.id)
    sale(gateway, "99.00", submit=True)  # submitted, not settled
    sale(gateway, "2000.00", submit=True)  # declined

    summary = records(gateway, first.settlement_batch_id[:10])

    assert summary == [
        {"merchant_account_id": eur, "card_type": "Visa", "kind": "sale", "count": "1", "amount_settled": "3.00"},
        {
            "merchant_account_id": usd,
            "card_type": "American Express",
            "kind": "sale",
            "count": "1",
            "amount_settled": "7.00",
        },
        {"merchant_account_id": usd, "card_type": "Visa", "kind": "credit", "count": "1", "amount_settled": "2.00"},
        {"merchant_account_id": usd, "card_type": "Visa", "kind": "sale", "count": "2", "amount_settled": "15.50"},
    ]


def test_settlement_declined_transactions_are_not_counted(gateway, settled_sale) -> None:
    kept = settled_sale("10.00")
    declined = sale(gateway, "4001.00", submit=True).transaction
    assert gateway.testing.settle_transaction(declined.id).transaction.status == "settlement_declined"

    summary = records(gateway, kept.settlement_batch_id[:10])

    assert [(r["count"], r["amount_settled"]) for r in summary] == [("1", "10.00")]


def test_group_by_custom_field_splits_records_by_its_value(gateway, settled_sale) -> None:
    first = settled_sale("1.00", custom_fields={"store_me": "north"})
    settled_sale("2.00", custom_fields={"store_me": "north"})
    settled_sale("4.00", custom_fields={"store_me": "south"})

    summary = records(gateway, first.settlement_batch_id[:10], "store_me")

    assert [(r["store_me"], r["count"], r["amount_settled"]) for r in summary] == [
        ("north", "2", "3.00"),
        ("south", "1", "4.00"),
    ]


def test_date_object_is_accepted(gateway, settled_sale) -> None:
    settled = settled_sale("10.00")

    summary = records(gateway, date.fromisoformat(settled.settlement_batch_id[:10]))

    assert [r["amount_settled"] for r in summary] == ["10.00"]


@pytest.mark.parametrize("day", ["2011-01-01", "1979-01-01"])
def test_date_without_settlements_has_no_records(gateway, settled_sale, day) -> None:
    settled_sale()

    assert records(gateway, day) == []


@pytest.mark.parametrize("day", ["NOT A DATE :(", "2026-13-45"])
def test_invalid_date_is_82302(gateway, day) -> None:
    result = gateway.settlement_batch_summary.generate(day)

    error = only_error(result)
    assert (error.code, error.message, error.attribute) == ("82302", "Settlement Date is invalid", "settlement_date")
    assert result.errors.for_object("settlement_batch_summary").on("settlement_date")[0].code == "82302"


@pytest.mark.parametrize("day", [None, ""])
def test_missing_date_is_82301(gateway, day) -> None:
    error = only_error(gateway.settlement_batch_summary.generate(day))

    assert (error.code, error.message) == ("82301", "Settlement Date is required")


def test_batch_date_is_the_merchants_local_date(shared_sandbox) -> None:
    merchant = new_merchant(timezone="America/New_York")
    shared_sandbox.store.put_merchant(merchant)
    gateway = gateway_for(shared_sandbox, merchant)

    with freeze_time("2026-03-02T04:30:00Z"):  # still 1 March, 23:30, in New York
        txn = sale(gateway, "10.00", submit=True).transaction
        settled = gateway.testing.settle_transaction(txn.id).transaction
        on_the_first = records(gateway, "2026-03-01")
        on_the_second = records(gateway, "2026-03-02")

    assert settled.settlement_batch_id.startswith("2026-03-01_")
    assert [(r["count"], r["amount_settled"]) for r in on_the_first] == [("1", "10.00")]
    assert on_the_second == []


def test_utc_merchant_settling_at_the_same_instant_is_in_the_next_days_batch(gateway) -> None:
    with freeze_time("2026-03-02T04:30:00Z"):
        txn = sale(gateway, "10.00", submit=True).transaction
        settled = gateway.testing.settle_transaction(txn.id).transaction
        summary = records(gateway, "2026-03-02")

    assert settled.settlement_batch_id.startswith("2026-03-02_")
    assert len(summary) == 1
