"""`api_request_key`: a replay returns the first answer and changes nothing (docs/sandbox.md, "Idempotency")."""

from __future__ import annotations

import secrets
from decimal import Decimal

import braintree
from gateway_calls import gateway_for, new_merchant, only_error, sale

TS = braintree.TransactionSearch


def transaction_count(gateway: braintree.BraintreeGateway) -> int:
    return gateway.transaction.search(TS.amount >= "0.01").maximum_size


def test_replayed_sale_returns_the_same_transaction_and_stores_nothing_new(gateway) -> None:
    key = secrets.token_hex(8)

    first = sale(gateway, "10.00", api_request_key=key)
    second = sale(gateway, "10.00", api_request_key=key)

    assert first.is_success and second.is_success
    assert second.transaction.id == first.transaction.id
    assert transaction_count(gateway) == 1


def test_replayed_declined_sale_returns_the_same_decline(gateway) -> None:
    key = secrets.token_hex(8)

    first = sale(gateway, "2000.00", api_request_key=key)
    second = sale(gateway, "2000.00", api_request_key=key)

    assert not second.is_success
    assert second.transaction.id == first.transaction.id
    assert second.message == "Do Not Honor"
    assert transaction_count(gateway) == 1


def test_same_key_with_a_different_request_is_915232(gateway) -> None:
    key = secrets.token_hex(8)
    sale(gateway, "10.00", api_request_key=key)

    result = sale(gateway, "11.00", api_request_key=key)

    assert only_error(result).code == "915232"
    assert transaction_count(gateway) == 1


def test_key_longer_than_255_characters_is_915230(gateway) -> None:
    result = sale(gateway, "10.00", api_request_key="k" * 256)

    assert only_error(result).code == "915230"
    assert transaction_count(gateway) == 0


def test_key_of_255_characters_is_accepted(gateway) -> None:
    assert sale(gateway, "10.00", api_request_key="k" * 255).is_success


def test_different_keys_make_different_transactions(gateway) -> None:
    first = sale(gateway, "10.00", api_request_key="a-1")
    second = sale(gateway, "10.00", api_request_key="a-2")

    assert first.transaction.id != second.transaction.id
    assert transaction_count(gateway) == 2


def test_keys_are_per_merchant(gateway, shared_sandbox) -> None:
    other = new_merchant()
    shared_sandbox.store.put_merchant(other)
    other_gateway = gateway_for(shared_sandbox, other)

    mine = sale(gateway, "10.00", api_request_key="shared-key")
    theirs = sale(other_gateway, "10.00", api_request_key="shared-key")

    assert theirs.is_success
    assert theirs.transaction.id != mine.transaction.id


def test_replayed_refund_returns_the_same_refund(gateway, settled_sale) -> None:
    original = settled_sale("10.00")
    request = {"amount": "4.00", "api_request_key": secrets.token_hex(8)}

    first = gateway.transaction.refund(original.id, dict(request))
    second = gateway.transaction.refund(original.id, dict(request))

    assert second.transaction.id == first.transaction.id
    assert gateway.transaction.find(original.id).refund_ids == [first.transaction.id]
    assert gateway.transaction.refund(original.id).transaction.amount == Decimal("6.00")


def test_refund_key_with_another_amount_is_915232(gateway, settled_sale) -> None:
    original = settled_sale("10.00")
    key = secrets.token_hex(8)
    gateway.transaction.refund(original.id, {"amount": "4.00", "api_request_key": key})

    result = gateway.transaction.refund(original.id, {"amount": "5.00", "api_request_key": key})

    assert only_error(result).code == "915232"
    assert len(gateway.transaction.find(original.id).refund_ids) == 1


def test_replayed_void_returns_the_voided_transaction_instead_of_91504(gateway) -> None:
    txn = sale(gateway, "10.00").transaction
    key = secrets.token_hex(8)

    first = gateway.transaction.void(txn.id, {"api_request_key": key})
    second = gateway.transaction.void(txn.id, {"api_request_key": key})

    assert first.is_success and second.is_success
    assert second.transaction.status == "voided"
    assert only_error(gateway.transaction.void(txn.id)).code == "91504"  # without the key it is a new request


def test_replayed_submit_for_settlement_succeeds_once(gateway) -> None:
    txn = sale(gateway, "10.00").transaction
    key = secrets.token_hex(8)

    first = gateway.transaction.submit_for_settlement(txn.id, "8.00", {"api_request_key": key})
    second = gateway.transaction.submit_for_settlement(txn.id, "8.00", {"api_request_key": key})

    assert first.is_success and second.is_success
    assert second.transaction.amount == Decimal("8.00")
    assert len(gateway.transaction.find(txn.id).status_history) == 2


def test_same_key_on_another_transaction_is_915232(gateway) -> None:
    one, two = sale(gateway, "10.00").transaction, sale(gateway, "10.00").transaction
    key = secrets.token_hex(8)
    gateway.transaction.void(one.id, {"api_request_key": key})

    result = gateway.transaction.void(two.id, {"api_request_key": key})

    assert only_error(result).code == "915232"
    assert gateway.transaction.find(two.id).status == "authorized"


def test_transaction_credit_is_idempotent_too(gateway) -> None:
    request = {"amount": "10.00", "payment_method_nonce": "fake-valid-nonce", "api_request_key": "credit-1"}

    first = gateway.transaction.credit(dict(request))
    second = gateway.transaction.credit(dict(request))

    assert second.transaction.id == first.transaction.id
    assert transaction_count(gateway) == 1
