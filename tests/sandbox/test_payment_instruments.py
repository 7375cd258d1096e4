"""Every nonce of the sandbox's table makes a reply the SDK can build and read in full.

The SDK sets each reply field as an attribute of its class, so a field that the class computes itself
(a property without a setter, such as AndroidPayCard.card_type) makes `sale` and `find` raise; and a
computed property can depend on a field the reply left out. Reading every public attribute catches both.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway_calls import sale
from paycli.sandbox import rules

# payment_instrument_type → the transaction attribute the SDK builds from that instrument's element
_DETAILS = {rules.CREDIT_CARD: "credit_card_details", rules.PAYPAL: "paypal_details",
            rules.APPLE_PAY: "apple_pay_details", rules.ANDROID_PAY: "android_pay_card_details",
            rules.VENMO: "venmo_account_details", rules.US_BANK: "us_bank_account_details"}


def read_every_attribute(value: Any) -> dict[str, Any]:
    return {name: getattr(value, name) for name in dir(value)
            if not name.startswith("_") and not callable(getattr(value, name))}


@pytest.mark.parametrize("nonce", [info.nonce for info in rules.TEST_NONCES])
def test_every_nonce_gives_a_reply_the_sdk_reads_in_full(gateway, nonce) -> None:
    result = sale(gateway, nonce=nonce)
    transaction = result.transaction
    if transaction is None:  # a validation error (luhn-invalid, consumed, an instrument the account lacks)
        assert result.errors.deep_errors
        return

    found = gateway.transaction.find(transaction.id)

    kind = transaction.payment_instrument_type
    for txn in (transaction, found):
        instrument = getattr(txn, _DETAILS[kind])
        assert read_every_attribute(instrument), nonce  # raises if the SDK cannot compute one of them
    if kind == rules.ANDROID_PAY:
        card = found.android_pay_card_details
        assert (card.card_type, card.last_4) == (card.virtual_card_type, card.virtual_card_last_4)
        assert card.expiration_date == f"{card.expiration_month}/{card.expiration_year}"
