"""`transaction.search` through the SDK's two-phase protocol: ids first, then pages of them by id
(docs/sandbox.md, "Searches")."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import braintree
import pytest
from gateway_calls import gateway_for, new_merchant, sale

TS = braintree.TransactionSearch


def ids(collection) -> set[str]:
    return {txn.id for txn in collection.items}


@pytest.fixture
def orders(gateway) -> dict[str, str]:
    """Three sales told apart by order id and customer email: order id → transaction id."""
    made = {}
    for order_id, email in (
        ("ord-alpha-1", "ann@example.com"),
        ("ord-beta-2", "bob@example.org"),
        ("inv-gamma-3", "cy@example.com"),
    ):
        made[order_id] = sale(gateway, "10.00", order_id=order_id, customer={"email": email}).transaction.id
    return made


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (TS.order_id == "ord-beta-2", {"ord-beta-2"}),
        (TS.order_id == "ORD-BETA-2", {"ord-beta-2"}),
        (TS.order_id.starts_with("ord-"), {"ord-alpha-1", "ord-beta-2"}),
        (TS.order_id.ends_with("-3"), {"inv-gamma-3"}),
        (TS.order_id.contains("beta"), {"ord-beta-2"}),
        (TS.order_id != "ord-alpha-1", {"ord-beta-2", "inv-gamma-3"}),
        (TS.customer_email.ends_with("example.com"), {"ord-alpha-1", "inv-gamma-3"}),
        (TS.order_id == "missing", set()),
    ],
)
def test_text_fields_match_by_operator(gateway, orders, node, expected) -> None:
    collection = gateway.transaction.search(node)

    assert ids(collection) == {orders[order] for order in expected}
    assert collection.maximum_size == len(expected)


def test_search_by_id(gateway, orders) -> None:
    wanted = orders["ord-alpha-1"]

    assert ids(gateway.transaction.search(TS.id == wanted)) == {wanted}


def test_search_by_ids_list(gateway, orders) -> None:
    wanted = {orders["ord-alpha-1"], orders["inv-gamma-3"]}

    assert ids(gateway.transaction.search(TS.ids.in_list(*wanted))) == wanted


def test_search_by_status(gateway) -> None:
    authorized = sale(gateway).transaction.id
    submitted = sale(gateway, submit=True).transaction.id
    declined = sale(gateway, "2000.00").transaction.id

    found = gateway.transaction.search(
        TS.status.in_list(braintree.Transaction.Status.Authorized, braintree.Transaction.Status.ProcessorDeclined)
    )

    assert ids(found) == {authorized, declined}
    assert ids(gateway.transaction.search(TS.status == "submitted_for_settlement")) == {submitted}


def test_search_by_type(gateway, settled_sale) -> None:
    original = settled_sale()
    refund = gateway.transaction.refund(original.id).transaction.id

    assert ids(gateway.transaction.search(TS.type == braintree.Transaction.Type.Credit)) == {refund}
    assert ids(gateway.transaction.search(TS.type == braintree.Transaction.Type.Sale)) == {original.id}


def test_search_by_merchant_account(gateway, merchant) -> None:
    usd = sale(gateway).transaction.id
    eur = sale(gateway, merchant_account_id=f"{merchant.id}_eur").transaction.id

    assert ids(gateway.transaction.search(TS.merchant_account_id == f"{merchant.id}_eur")) == {eur}
    both = TS.merchant_account_id.in_list(f"{merchant.id}_usd", f"{merchant.id}_eur")
    assert ids(gateway.transaction.search(both)) == {usd, eur}


def test_search_by_card_type(gateway) -> None:
    sale(gateway, nonce="fake-valid-visa-nonce")
    amex = sale(gateway, nonce="fake-valid-amex-nonce").transaction.id

    found = gateway.transaction.search(TS.credit_card_card_type == braintree.CreditCard.CardType.AmEx)

    assert ids(found) == {amex}


def test_search_by_card_number_last_4(gateway) -> None:
    visa = gateway.transaction.sale(
        {"amount": "10.00", "credit_card": {"number": "4111111111111111", "expiration_date": "05/2030"}}
    ).transaction.id
    sale(gateway, nonce="fake-valid-nonce")

    assert ids(gateway.transaction.search(TS.credit_card_number.ends_with("1111"))) == {visa}


def test_search_by_amount_range(gateway) -> None:
    small = sale(gateway, "5.00").transaction.id
    middle = sale(gateway, "50.00").transaction.id
    sale(gateway, "500.00")

    assert ids(gateway.transaction.search(TS.amount.between("1.00", "60.00"))) == {small, middle}
    assert ids(gateway.transaction.search(TS.amount >= Decimal("50.00"), TS.amount <= "50.00")) == {middle}
    assert ids(gateway.transaction.search(TS.amount <= "4.99")) == set()


def test_search_by_created_at_range(gateway) -> None:
    txn = sale(gateway).transaction
    around = TS.created_at.between(txn.created_at - timedelta(minutes=10), txn.created_at + timedelta(minutes=10))

    assert ids(gateway.transaction.search(around)) == {txn.id}
    later = TS.created_at >= txn.created_at + timedelta(hours=1)
    assert ids(gateway.transaction.search(later)) == set()


def test_search_by_settled_at_finds_only_settled_transactions(gateway, settled_sale) -> None:
    settled = settled_sale().id
    sale(gateway, submit=True)
    now = datetime.now(timezone.utc).replace(tzinfo=None)  # the SDK sends naive datetimes as UTC

    found = gateway.transaction.search(TS.settled_at.between(now - timedelta(hours=1), now + timedelta(hours=1)))

    assert ids(found) == {settled}
    assert ids(gateway.transaction.search(TS.settled_at <= now - timedelta(days=1))) == set()


def test_refund_flag_tells_refunds_from_standalone_credits(gateway, settled_sale) -> None:
    refund = gateway.transaction.refund(settled_sale().id).transaction.id
    credit = gateway.transaction.credit({"amount": "3.00", "payment_method_nonce": "fake-valid-nonce"}).transaction.id

    credits = TS.type == braintree.Transaction.Type.Credit
    assert ids(gateway.transaction.search(credits, TS.refund == True)) == {refund}  # noqa: E712 - SDK operator
    assert ids(gateway.transaction.search(credits, TS.refund == False)) == {credit}  # noqa: E712


def test_criteria_are_combined_with_and(gateway) -> None:
    wanted = sale(gateway, "20.00", order_id="both").transaction.id
    sale(gateway, "20.00", order_id="other")
    sale(gateway, "30.00", order_id="both")

    assert ids(gateway.transaction.search(TS.order_id == "both", TS.amount <= "25.00")) == {wanted}


def test_another_merchants_transactions_are_not_found(gateway, shared_sandbox) -> None:
    other = new_merchant()
    shared_sandbox.store.put_merchant(other)
    sale(gateway_for(shared_sandbox, other), order_id="theirs")

    assert gateway.transaction.search(TS.order_id == "theirs").maximum_size == 0


def test_empty_result_has_maximum_size_zero_and_no_items(gateway) -> None:
    collection = gateway.transaction.search(TS.order_id == "nothing-here")

    assert collection.maximum_size == 0
    assert list(collection.items) == []


def test_more_than_one_page_iterates_every_result_once(gateway) -> None:
    made = [sale(gateway, "1.00", order_id="bulk").transaction.id for _ in range(120)]

    collection = gateway.transaction.search(TS.order_id == "bulk")
    seen = [txn.id for txn in collection.items]

    assert collection.maximum_size == 120
    assert len(seen) == 120
    assert set(seen) == set(made)


def test_search_returns_at_most_the_cap_silently(own_gateway) -> None:
    capped = own_gateway(search_cap=5)
    made = {sale(capped, "1.00").transaction.id for _ in range(8)}

    collection = capped.transaction.search(TS.amount >= "0.01")
    seen = [txn.id for txn in collection.items]

    assert collection.maximum_size == 5
    assert len(seen) == 5 and set(seen) <= made
