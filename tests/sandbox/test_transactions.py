"""Transactions through the real SDK: nonces, cards, the test-amount table, validation and the lifecycle matrix.

Expected values are Braintree's documented sandbox behaviour
(https://developer.paypal.com/braintree/docs/reference/general/testing, and docs/sandbox.md for what paycli's
sandbox does with it); message texts are asserted only where Braintree documents the exact text.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import braintree
import pytest
from gateway_calls import only_error, sale

VOID_REFUSED = (
    "Transaction can only be voided if status is authorized, submitted_for_settlement, "
    "or - for PayPal - settlement_pending."
)


def card(number: str = "4111111111111111", expiration_date: str | None = "05/2030", **extra: str) -> dict:
    details = {"number": number, **extra}
    if expiration_date is not None:
        details["expiration_date"] = expiration_date
    return details


# ---- nonces ---------------------------------------------------------------------------------------------


def test_sale_with_fake_valid_nonce_is_an_authorized_visa_ending_1881(gateway, merchant) -> None:
    result = sale(gateway, "10.00")

    assert result.is_success
    txn = result.transaction
    assert re.fullmatch(r"\w{6,}", txn.id)
    assert (txn.type, txn.status, txn.amount) == ("sale", "authorized", Decimal("10.00"))
    assert (txn.credit_card_details.card_type, txn.credit_card_details.bin, txn.credit_card_details.last_4) == (
        "Visa",
        "401288",
        "1881",
    )
    assert (txn.processor_response_code, txn.processor_response_text, txn.processor_response_type) == (
        "1000",
        "Approved",
        "approved",
    )
    assert txn.currency_iso_code == "USD"
    assert txn.merchant_account_id == f"{merchant.id}_usd"
    assert txn.payment_instrument_type == "credit_card"


def test_sale_with_submit_for_settlement_is_submitted(gateway) -> None:
    result = sale(gateway, "10.00", submit=True)

    assert result.is_success
    assert result.transaction.status == "submitted_for_settlement"


@pytest.mark.parametrize(
    ("nonce", "card_type", "bin_", "last_4"),
    [
        ("fake-valid-visa-nonce", "Visa", "401288", "1881"),
        ("fake-valid-amex-nonce", "American Express", None, "0005"),
        ("fake-valid-mastercard-nonce", "MasterCard", None, None),
        ("fake-valid-discover-nonce", "Discover", None, None),
    ],
)
def test_sale_with_a_brand_nonce_carries_that_brands_card(gateway, nonce, card_type, bin_, last_4) -> None:
    result = sale(gateway, nonce=nonce)

    assert result.is_success
    details = result.transaction.credit_card_details
    assert details.card_type == card_type
    if bin_:
        assert details.bin == bin_
    if last_4:
        assert details.last_4 == last_4


@pytest.mark.parametrize(
    "nonce",
    [
        "fake-processor-declined-visa-nonce",
        "fake-processor-declined-mastercard-nonce",
        "fake-processor-declined-amex-nonce",
        "fake-processor-declined-discover-nonce",
    ],
)
def test_processor_declined_nonce_still_authorizes_a_sale(gateway, nonce) -> None:
    result = sale(gateway, "10.00", nonce=nonce)

    assert result.is_success  # Braintree: the amount decides sales, the nonce decides verifications
    assert result.transaction.status == "authorized"
    assert result.transaction.processor_response_code == "1000"


def test_processor_declined_nonce_with_a_decline_amount_is_declined_by_the_amount(gateway) -> None:
    result = sale(gateway, "2001.00", nonce="fake-processor-declined-visa-nonce")

    assert not result.is_success
    assert result.transaction.processor_response_code == "2001"
    assert result.message == "Insufficient Funds"


@pytest.mark.parametrize("amount", ["10.00", "2010.00"])
def test_fraud_nonce_is_gateway_rejected_before_the_amount_is_looked_at(gateway, amount) -> None:
    result = sale(gateway, amount, nonce="fake-gateway-rejected-fraud-nonce")

    assert not result.is_success
    assert result.message == "Gateway Rejected: fraud"
    assert result.transaction.status == "gateway_rejected"
    assert result.transaction.gateway_rejection_reason == "fraud"
    assert result.transaction.processor_response_code is None


def test_consumed_nonce_is_a_validation_error_91564(gateway) -> None:
    result = sale(gateway, nonce="fake-consumed-nonce")

    error = only_error(result)
    assert (error.code, error.message) == ("91564", "Cannot use a payment_method_nonce more than once.")
    assert result.transaction is None


def test_unknown_nonce_is_91565_on_payment_method_nonce(gateway) -> None:
    result = sale(gateway, nonce="not-a-real-nonce")

    error = only_error(result)
    assert (error.code, error.message) == ("91565", "Unknown or expired payment_method_nonce.")
    assert result.errors.for_object("transaction").on("payment_method_nonce")[0].code == "91565"


def test_test_nonces_are_reusable(gateway) -> None:
    first, second = sale(gateway), sale(gateway)

    assert first.is_success and second.is_success
    assert first.transaction.id != second.transaction.id


def test_luhn_invalid_nonce_is_81715(gateway) -> None:
    error = only_error(sale(gateway, nonce="fake-luhn-invalid-nonce"))

    assert error.code == "81715"


def test_paypal_nonce_submitted_for_settlement_goes_straight_to_settling(gateway) -> None:
    result = sale(gateway, "10.00", submit=True, nonce="fake-paypal-one-time-nonce")

    assert result.is_success
    assert result.transaction.status == "settling"
    assert result.transaction.payment_instrument_type == "paypal_account"
    assert result.transaction.paypal_details.payer_email == "payer@example.com"


def test_paypal_nonce_without_submit_is_authorized(gateway) -> None:
    result = sale(gateway, "10.00", nonce="fake-paypal-one-time-nonce")

    assert result.transaction.status == "authorized"


# ---- raw cards ------------------------------------------------------------------------------------------


def test_sale_with_raw_card_reports_the_cards_details(gateway) -> None:
    result = gateway.transaction.sale({"amount": "10.00", "credit_card": card(cvv="123")})

    assert result.is_success
    details = result.transaction.credit_card_details
    assert (details.card_type, details.bin, details.last_4) == ("Visa", "411111", "1111")
    assert (details.expiration_month, details.expiration_year) == ("05", "2030")
    assert result.transaction.cvv_response_code == "M"


def test_sale_with_raw_card_and_expiration_month_and_year(gateway) -> None:
    result = gateway.transaction.sale(
        {
            "amount": "10.00",
            "credit_card": {"number": "5555555555554444", "expiration_month": "12", "expiration_year": "2031"},
        }
    )

    assert result.is_success
    details = result.transaction.credit_card_details
    assert (details.card_type, details.last_4, details.expiration_date) == ("MasterCard", "4444", "12/2031")


@pytest.mark.parametrize(("cvv", "response"), [("200", "N"), ("201", "U"), ("301", "S"), (None, "I")])
def test_cvv_test_values_set_the_cvv_response_code(gateway, cvv, response) -> None:
    details = card() if cvv is None else card(cvv=cvv)

    result = gateway.transaction.sale({"amount": "10.00", "credit_card": details})

    assert result.is_success  # no CVV rules on a fresh merchant: the code is reported, nothing rejected
    assert result.transaction.cvv_response_code == response


def test_luhn_invalid_card_number_is_81715_on_credit_card_number(gateway) -> None:
    result = gateway.transaction.sale({"amount": "10.00", "credit_card": card("4111111111111112")})

    error = only_error(result)
    assert (error.code, error.message) == ("81715", "Credit card number is invalid.")
    number_errors = result.errors.for_object("transaction").for_object("credit_card").on("number")
    assert [e.code for e in number_errors] == ["81715"]


def test_non_digit_card_number_is_invalid(gateway) -> None:
    result = gateway.transaction.sale({"amount": "10.00", "credit_card": card("4111abcd11111111")})

    assert only_error(result).code == "81715"


def test_missing_expiration_date_is_81709(gateway) -> None:
    result = gateway.transaction.sale({"amount": "10.00", "credit_card": card(expiration_date=None)})

    error = only_error(result)
    assert (error.code, error.message) == ("81709", "Expiration date is required.")


@pytest.mark.parametrize("expiration", ["13/2030", "ab/cdef"])
def test_malformed_expiration_date_is_81710(gateway, expiration) -> None:
    result = gateway.transaction.sale({"amount": "10.00", "credit_card": card(expiration_date=expiration)})

    error = only_error(result)
    assert (error.code, error.message) == ("81710", "Expiration date is invalid.")


def test_luhn_valid_number_that_is_not_a_test_number_is_81717(gateway) -> None:
    result = gateway.transaction.sale({"amount": "10.00", "credit_card": card("4242424242424242")})

    assert only_error(result).code == "81717"


def test_validation_errors_echo_params_without_the_card_number(gateway) -> None:
    result = gateway.transaction.sale({"amount": None, "credit_card": card(expiration_date=None, cvv="123")})

    assert not result.is_success
    assert sorted(e.code for e in result.errors.deep_errors) == ["81502", "81709"]
    assert result.message == "Amount is required.\nExpiration date is required."
    echoed = result.params["transaction"]
    assert echoed["amount"] is None
    assert "number" not in echoed.get("credit_card", {}) and "cvv" not in echoed.get("credit_card", {})


def test_sale_without_any_payment_method_is_91508(gateway) -> None:
    error = only_error(gateway.transaction.sale({"amount": "10.00"}))

    assert (error.code, error.message) == ("91508", "Cannot determine payment method.")


# ---- the amount table -----------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0.01", "1000.00", "1999.99", "3001.00", "4001.00", "5001.01", "5002.00"])
def test_ordinary_test_amounts_are_approved(gateway, amount) -> None:
    result = sale(gateway, amount)

    assert result.is_success
    assert (
        result.transaction.status,
        result.transaction.processor_response_code,
        result.transaction.processor_response_text,
    ) == ("authorized", "1000", "Approved")


@pytest.mark.parametrize(
    ("amount", "code", "text", "kind"),
    [
        ("2000.00", "2000", "Do Not Honor", "soft_declined"),
        ("2000.99", "2000", "Do Not Honor", "soft_declined"),
        ("2001.00", "2001", "Insufficient Funds", "soft_declined"),
        ("2004.00", "2004", "Expired Card", "hard_declined"),
        ("2010.00", "2010", "Card Issuer Declined CVV", "hard_declined"),
        ("2015.00", "2015", "Transaction Not Allowed", "hard_declined"),
        ("2046.00", "2046", "Declined", "soft_declined"),
        ("2999.00", "2999", "Processor Declined", "soft_declined"),
    ],
)
def test_amounts_2000_to_2999_are_processor_declined_with_the_amount_as_code(gateway, amount, code, text, kind) -> None:
    result = sale(gateway, amount)

    assert not result.is_success
    assert result.message == text
    txn = result.transaction
    assert txn.status == "processor_declined"
    assert (txn.processor_response_code, txn.processor_response_text, txn.processor_response_type) == (code, text, kind)
    assert txn.additional_processor_response == f"{code} : {text}"
    assert txn.amount == Decimal(amount)


def test_declined_sale_is_stored_and_findable(gateway) -> None:
    declined = sale(gateway, "2000.00").transaction

    assert gateway.transaction.find(declined.id).status == "processor_declined"


@pytest.mark.parametrize("amount", ["3000.00", "3000.99"])
def test_amounts_3000_are_failed_with_code_3000(gateway, amount) -> None:
    result = sale(gateway, amount)

    assert not result.is_success
    assert result.transaction.status == "failed"
    assert result.transaction.processor_response_code == "3000"
    assert result.transaction.processor_response_text == "Processor Network Unavailable - Try Again"


def test_amount_5001_is_gateway_rejected_application_incomplete(gateway) -> None:
    result = sale(gateway, "5001.00")

    assert not result.is_success
    assert result.transaction.status == "gateway_rejected"
    assert result.transaction.gateway_rejection_reason == "application_incomplete"


def test_declined_sale_with_submit_is_not_submitted(gateway) -> None:
    result = sale(gateway, "2000.00", submit=True)

    assert result.transaction.status == "processor_declined"


def test_amount_4001_is_authorized_but_settles_as_settlement_declined(gateway) -> None:
    submitted = sale(gateway, "4001.00", submit=True)
    assert submitted.transaction.status == "submitted_for_settlement"

    settled = gateway.testing.settle_transaction(submitted.transaction.id)

    assert settled.transaction.status == "settlement_declined"
    assert settled.transaction.processor_settlement_response_code == "4001"
    assert settled.transaction.processor_settlement_response_text == "Settlement Declined"


# ---- amount validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "code", "message"),
    [
        (None, "81502", "Amount is required."),
        ("abc", "81503", "Amount is an invalid format."),
        ("10.001", "81503", "Amount is an invalid format."),
        ("-1", "81501", "Amount cannot be negative."),
        ("0", "81531", "Amount must be greater than zero."),
        ("0.00", "81531", "Amount must be greater than zero."),
        ("100000000000.00", "81528", "Amount is too large."),
    ],
)
def test_bad_amounts_are_validation_errors_on_amount(gateway, amount, code, message) -> None:
    params = {"payment_method_nonce": "fake-valid-nonce"}
    if amount is not None:
        params["amount"] = amount

    result = gateway.transaction.sale(params)

    error = only_error(result)
    assert (error.code, error.message, error.attribute) == (code, message, "amount")
    assert result.errors.for_object("transaction").on("amount")[0].code == code
    assert result.message == message
    assert result.transaction is None


def test_decimal_amount_is_normalised_to_cents(gateway) -> None:
    result = sale(gateway, Decimal("10.5"))

    assert result.transaction.amount == Decimal("10.50")
    assert gateway.transaction.find(result.transaction.id).amount == Decimal("10.50")


# ---- submit for settlement -------------------------------------------------------------------------------


def test_submit_for_settlement_of_the_full_amount(gateway) -> None:
    authorized = sale(gateway, "10.00").transaction

    result = gateway.transaction.submit_for_settlement(authorized.id)

    assert result.is_success
    assert (result.transaction.id, result.transaction.status) == (authorized.id, "submitted_for_settlement")
    assert result.transaction.amount == Decimal("10.00")


def test_submit_for_settlement_of_a_lower_amount_settles_that_amount(gateway) -> None:
    authorized = sale(gateway, "10.00").transaction

    result = gateway.transaction.submit_for_settlement(authorized.id, "6.50")

    assert result.is_success
    assert result.transaction.amount == Decimal("6.50")
    assert gateway.transaction.find(authorized.id).amount == Decimal("6.50")


def test_submit_for_settlement_above_the_authorized_amount_is_91522(gateway) -> None:
    authorized = sale(gateway, "10.00").transaction

    result = gateway.transaction.submit_for_settlement(authorized.id, "10.01")

    error = only_error(result)
    assert (error.code, error.message, error.attribute) == ("91522", "Settlement amount is too large.", "amount")
    assert gateway.transaction.find(authorized.id).status == "authorized"


@pytest.mark.parametrize("amount", ["10.00", "2000.00"])
def test_submit_for_settlement_unless_authorized_is_91507(gateway, amount) -> None:
    txn = sale(gateway, amount, submit=True).transaction  # submitted, or declined

    result = gateway.transaction.submit_for_settlement(txn.id)

    error = only_error(result)
    assert (error.code, error.message, error.attribute) == (
        "91507",
        "Cannot submit for settlement unless status is authorized.",
        "base",
    )


def test_submit_for_settlement_can_set_the_order_id(gateway) -> None:
    authorized = sale(gateway, "10.00").transaction

    result = gateway.transaction.submit_for_settlement(authorized.id, None, {"order_id": "ord-77"})

    assert result.transaction.order_id == "ord-77"


# ---- void --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("submit", [False, True])
def test_void_of_authorized_or_submitted_sale(gateway, submit) -> None:
    txn = sale(gateway, "10.00", submit=submit).transaction

    result = gateway.transaction.void(txn.id)

    assert result.is_success
    assert (result.transaction.id, result.transaction.status) == (txn.id, "voided")
    assert gateway.transaction.find(txn.id).status == "voided"


def test_void_of_a_settled_sale_is_91504(gateway, settled_sale) -> None:
    txn = settled_sale()

    result = gateway.transaction.void(txn.id)

    error = only_error(result)
    assert (error.code, error.message, error.attribute) == ("91504", VOID_REFUSED, "base")
    assert gateway.transaction.find(txn.id).status == "settled"


@pytest.mark.parametrize("amount", ["10.00", "2000.00"])
def test_void_of_a_voided_or_declined_sale_is_91504(gateway, amount) -> None:
    txn = sale(gateway, amount).transaction
    if amount == "10.00":
        assert gateway.transaction.void(txn.id).is_success

    assert only_error(gateway.transaction.void(txn.id)).code == "91504"


# ---- refunds -----------------------------------------------------------------------------------------------


def test_full_refund_is_a_credit_linked_to_the_original(gateway, settled_sale) -> None:
    original = settled_sale("10.00")

    result = gateway.transaction.refund(original.id)

    assert result.is_success
    refund = result.transaction
    assert refund.id != original.id
    assert (refund.type, refund.status, refund.amount) == ("credit", "submitted_for_settlement", Decimal("10.00"))
    assert refund.refunded_transaction_id == original.id
    found = gateway.transaction.find(original.id)
    assert found.refund_ids == [refund.id]
    assert found.refund_id == refund.id
    assert found.status == "settled"


def test_partial_refund_refunds_the_given_amount(gateway, settled_sale) -> None:
    original = settled_sale("10.00")

    refund = gateway.transaction.refund(original.id, "4.00").transaction

    assert refund.amount == Decimal("4.00")


def test_partial_refunds_until_exhausted_then_91512(gateway, settled_sale) -> None:
    original = settled_sale("10.00")

    refunds = [gateway.transaction.refund(original.id, amount) for amount in ("3.00", "3.00", "4.00")]

    assert all(r.is_success for r in refunds)
    assert gateway.transaction.find(original.id).refund_ids == [r.transaction.id for r in refunds]
    error = only_error(gateway.transaction.refund(original.id, "0.01"))
    assert (error.code, error.message) == ("91512", "Transaction has already been fully refunded.")


def test_refund_without_amount_refunds_the_remainder(gateway, settled_sale) -> None:
    original = settled_sale("10.00")
    gateway.transaction.refund(original.id, "2.50")

    rest = gateway.transaction.refund(original.id)

    assert rest.transaction.amount == Decimal("7.50")


def test_refund_above_the_remainder_is_91521(gateway, settled_sale) -> None:
    original = settled_sale("100.00")
    assert gateway.transaction.refund(original.id, "50.00").is_success

    result = gateway.transaction.refund(original.id, "50.01")

    error = only_error(result)
    assert (error.code, error.message) == ("91521", "Refund amount is too large.")
    assert len(gateway.transaction.find(original.id).refund_ids) == 1


def test_second_full_refund_is_91512(gateway, settled_sale) -> None:
    original = settled_sale()
    gateway.transaction.refund(original.id)

    error = only_error(gateway.transaction.refund(original.id))

    assert (error.code, error.message, error.attribute) == (
        "91512",
        "Transaction has already been fully refunded.",
        "base",
    )


@pytest.mark.parametrize("submit", [False, True])
def test_refund_of_an_unsettled_sale_is_91506(gateway, submit) -> None:
    txn = sale(gateway, "10.00", submit=submit).transaction

    error = only_error(gateway.transaction.refund(txn.id))

    assert (error.code, error.message, error.attribute) == (
        "91506",
        "Cannot refund transaction unless it is settled.",
        "base",
    )


def test_refund_of_a_refund_is_91505(gateway, settled_sale) -> None:
    refund = gateway.transaction.refund(settled_sale().id).transaction
    gateway.testing.settle_transaction(refund.id)

    error = only_error(gateway.transaction.refund(refund.id))

    assert (error.code, error.message) == ("91505", "Credit transactions cannot be refunded.")


def test_refund_of_a_settling_paypal_sale_succeeds(gateway) -> None:
    settling = sale(gateway, "10.00", submit=True, nonce="fake-paypal-one-time-nonce").transaction

    result = gateway.transaction.refund(settling.id)

    assert result.is_success
    assert result.transaction.refunded_transaction_id == settling.id


def test_refund_of_2004_is_declined_and_does_not_use_up_the_remainder(gateway, settled_sale) -> None:
    original = settled_sale("9000.00")

    declined = gateway.transaction.refund(original.id, "2004.00")

    assert not declined.is_success
    txn = declined.transaction
    assert (txn.type, txn.status) == ("credit", "processor_declined")
    assert (txn.processor_response_code, txn.processor_response_type, txn.additional_processor_response) == (
        "2004",
        "hard_declined",
        "2004 : Expired Card",
    )
    assert gateway.transaction.refund(original.id).transaction.amount == Decimal("9000.00")


def test_refund_of_2046_succeeds_with_code_1005(gateway, settled_sale) -> None:
    original = settled_sale("9000.00")

    result = gateway.transaction.refund(original.id, "2046.00")

    assert result.is_success
    assert (
        result.transaction.status,
        result.transaction.processor_response_code,
        result.transaction.additional_processor_response,
    ) == ("submitted_for_settlement", "1005", "2046 : Declined")


def test_refund_can_be_settled(gateway, settled_sale) -> None:
    refund = gateway.transaction.refund(settled_sale().id).transaction

    assert gateway.testing.settle_transaction(refund.id).transaction.status == "settled"


def test_refund_with_order_id(gateway, settled_sale) -> None:
    original = settled_sale(order_id="sale-1")

    refund = gateway.transaction.refund(original.id, {"amount": "1.00", "order_id": "refund-1"}).transaction

    assert refund.order_id == "refund-1"


# ---- testing endpoints, status history, batch ids --------------------------------------------------------


def test_status_history_records_each_step_with_its_amount(gateway) -> None:
    txn = sale(gateway, "10.00", submit=True).transaction
    settled = gateway.testing.settle_transaction(txn.id).transaction

    assert [event.status for event in txn.status_history] == ["authorized", "submitted_for_settlement"]
    assert [event.status for event in settled.status_history] == ["authorized", "submitted_for_settlement", "settled"]
    assert all(event.amount == Decimal("10.00") for event in settled.status_history)
    assert all(isinstance(event.timestamp, datetime) for event in settled.status_history)


def test_settled_transaction_has_a_batch_id_starting_with_the_settlement_date(gateway, settled_sale) -> None:
    txn = settled_sale()

    assert txn.status == "settled"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}_.+", txn.settlement_batch_id)
    assert txn.settlement_batch_id[:10] == datetime.now(timezone.utc).date().isoformat()
    assert (txn.processor_settlement_response_code, txn.processor_settlement_response_text) == ("4000", "Settled")


def test_settle_of_an_authorized_sale_is_91575(gateway) -> None:
    txn = sale(gateway, "10.00").transaction

    error = only_error(gateway.testing.settle_transaction(txn.id))

    assert (error.code, error.message) == (
        "91575",
        "Cannot transition transaction to settled, settlement_confirmed, or settlement_declined",
    )


def test_settle_of_a_settled_sale_is_an_error(gateway, settled_sale) -> None:
    txn = settled_sale()

    assert only_error(gateway.testing.settle_transaction(txn.id)).code == "91575"


@pytest.mark.parametrize(
    ("simulate", "status", "code", "text"),
    [
        ("settlement_confirm_transaction", "settlement_confirmed", None, None),
        ("settlement_decline_transaction", "settlement_declined", "4001", "Settlement Declined"),
        ("settlement_pending_transaction", "settlement_pending", "4002", "Settlement Pending"),
    ],
)
def test_testing_endpoints_move_a_submitted_sale(gateway, simulate, status, code, text) -> None:
    txn = sale(gateway, "10.00", submit=True).transaction

    result = getattr(gateway.testing, simulate)(txn.id)

    assert result.transaction.status == status
    if code:
        assert (
            result.transaction.processor_settlement_response_code,
            result.transaction.processor_settlement_response_text,
        ) == (code, text)


# ---- request fields --------------------------------------------------------------------------------------------


def test_custom_fields_order_id_and_customer_details_are_stored(gateway) -> None:
    result = sale(
        gateway,
        order_id="ord-1",
        custom_fields={"store_me": "blue", "count": 3},
        customer={"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"},
    )

    found = gateway.transaction.find(result.transaction.id)
    assert found.order_id == "ord-1"
    assert found.custom_fields == {"store_me": "blue", "count": "3"}
    assert (found.customer_details.first_name, found.customer_details.last_name, found.customer_details.email) == (
        "Ann",
        "Lee",
        "ann@example.com",
    )


def test_too_long_order_id_is_91501(gateway) -> None:
    error = only_error(sale(gateway, order_id="x" * 256))

    assert (error.code, error.message) == ("91501", "Order ID is too long.")


def test_bad_customer_email_is_81604_on_customer(gateway) -> None:
    result = sale(gateway, customer={"email": "not-an-email"})

    assert only_error(result).code == "81604"
    assert result.errors.for_object("transaction").for_object("customer").on("email")[0].code == "81604"


def test_sale_for_a_vaulted_customer_carries_the_customer(gateway) -> None:
    gateway.customer.create({"id": "cust-7", "first_name": "Vera"})

    result = sale(gateway, customer_id="cust-7")

    assert result.transaction.customer_details.id == "cust-7"
    assert result.transaction.customer_details.first_name == "Vera"


def test_sale_for_an_unknown_customer_is_91510(gateway) -> None:
    error = only_error(sale(gateway, customer_id="nobody"))

    assert (error.code, error.message) == ("91510", "Customer ID is invalid.")


def test_sale_on_the_eur_merchant_account_is_in_eur(gateway, merchant) -> None:
    result = sale(gateway, merchant_account_id=f"{merchant.id}_eur")

    assert result.transaction.merchant_account_id == f"{merchant.id}_eur"
    assert result.transaction.currency_iso_code == "EUR"


def test_sale_on_an_unknown_merchant_account_is_91513(gateway) -> None:
    error = only_error(sale(gateway, merchant_account_id="nope_usd"))

    assert (error.code, error.message) == ("91513", "Merchant account ID is invalid.")


def test_find_returns_what_the_sale_returned(gateway) -> None:
    txn = sale(gateway, "12.34", submit=True).transaction

    found = gateway.transaction.find(txn.id)

    assert (found.id, found.status, found.amount, found.created_at) == (
        txn.id,
        "submitted_for_settlement",
        Decimal("12.34"),
        txn.created_at,
    )
    assert abs(found.created_at - datetime.now(timezone.utc).replace(tzinfo=None)) < timedelta(minutes=1)  # UTC


def test_find_of_an_unknown_id_raises_not_found(gateway) -> None:
    with pytest.raises(braintree.exceptions.NotFoundError, match="transaction with id 'nosuchid' not found"):
        gateway.transaction.find("nosuchid")


@pytest.mark.parametrize("operation", ["void", "submit_for_settlement", "refund"])
def test_lifecycle_operations_on_an_unknown_id_raise_not_found(gateway, operation) -> None:
    with pytest.raises(braintree.exceptions.NotFoundError):
        getattr(gateway.transaction, operation)("nosuchid")


def test_transaction_credit_creates_a_credit(gateway) -> None:
    result = gateway.transaction.credit({"amount": "15.00", "payment_method_nonce": "fake-valid-nonce"})

    assert result.is_success
    assert (result.transaction.type, result.transaction.amount) == ("credit", Decimal("15.00"))
    assert result.transaction.refunded_transaction_id is None


def test_transaction_credit_cannot_be_refunded(gateway) -> None:
    credit = gateway.transaction.credit({"amount": "15.00", "payment_method_nonce": "fake-valid-nonce"}).transaction
    gateway.testing.settle_transaction(credit.id)

    assert only_error(gateway.transaction.refund(credit.id)).code == "91505"


# ---- PayPal and settled-amount rules ---------------------------------------------------------------------


def test_paypal_5001_01_is_processor_declined_2038(gateway) -> None:
    result = sale(gateway, "5001.01", nonce="fake-paypal-one-time-nonce")

    assert not result.is_success
    assert (
        result.transaction.status,
        result.transaction.processor_response_code,
        result.transaction.processor_response_text,
    ) == ("processor_declined", "2038", "Processor Declined")


def test_paypal_4002_settles_as_settlement_pending(gateway) -> None:
    settling = sale(gateway, "4002.00", submit=True, nonce="fake-paypal-one-time-nonce").transaction

    settled = gateway.testing.settle_transaction(settling.id).transaction

    assert (settled.status, settled.processor_settlement_response_code) == ("settlement_pending", "4002")


def test_card_4002_settles(gateway) -> None:
    submitted = sale(gateway, "4002.00", submit=True).transaction

    assert gateway.testing.settle_transaction(submitted.id).transaction.status == "settled"


def test_settling_paypal_sale_cannot_be_voided_but_settles(gateway) -> None:
    settling = sale(gateway, submit=True, nonce="fake-paypal-one-time-nonce").transaction

    assert only_error(gateway.transaction.void(settling.id)).code == "91504"
    assert gateway.testing.settle_transaction(settling.id).transaction.status == "settled"


def test_settlement_pending_paypal_sale_can_be_voided(gateway) -> None:
    settling = sale(gateway, submit=True, nonce="fake-paypal-one-time-nonce").transaction
    gateway.testing.settlement_pending_transaction(settling.id)

    result = gateway.transaction.void(settling.id)

    assert result.is_success and result.transaction.status == "voided"


def test_refunds_are_limited_by_the_settled_amount_not_the_authorized_one(gateway) -> None:
    txn = sale(gateway, "10.00").transaction
    gateway.transaction.submit_for_settlement(txn.id, "6.50")
    gateway.testing.settle_transaction(txn.id)

    assert only_error(gateway.transaction.refund(txn.id, "7.00")).code == "91521"
    assert gateway.transaction.refund(txn.id).transaction.amount == Decimal("6.50")


@pytest.mark.parametrize("simulate", ["settlement_decline_transaction", None])
def test_settlement_declined_or_voided_sales_cannot_be_refunded(gateway, simulate) -> None:
    txn = sale(gateway, submit=True).transaction
    if simulate:
        getattr(gateway.testing, simulate)(txn.id)
    else:
        gateway.transaction.void(txn.id)

    assert only_error(gateway.transaction.refund(txn.id)).code == "91506"


def test_declined_sale_history_has_only_the_decline(gateway) -> None:
    txn = sale(gateway, "2000.00").transaction

    assert [event.status for event in txn.status_history] == ["processor_declined"]
