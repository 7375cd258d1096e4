"""Every nonce of the sandbox's table makes the sale its row says, in a reply the SDK can build and read in full.

The SDK sets each reply field as an attribute of its class, so a field that the class computes itself
(a property without a setter, such as AndroidPayCard.card_type) makes `sale` and `find` raise; and a
computed property can depend on a field the reply left out. Reading every public attribute catches both.
"""

from __future__ import annotations

from typing import Any

import pytest
from gateway_calls import sale

from paycli.sandbox import instruments, nonces

# payment_instrument_type → the transaction attribute the SDK builds from that instrument's element
_DETAILS = {
    instruments.CREDIT_CARD: "credit_card_details",
    instruments.PAYPAL: "paypal_details",
    instruments.APPLE_PAY: "apple_pay_details",
    instruments.ANDROID_PAY: "android_pay_card_details",
    instruments.VENMO: "venmo_account_details",
    instruments.US_BANK: "us_bank_account_details",
}


def read_every_attribute(value: Any) -> dict[str, Any]:
    return {
        name: getattr(value, name)
        for name in dir(value)
        if not name.startswith("_") and not callable(getattr(value, name))
    }


@pytest.mark.parametrize("row", nonces.TEST_NONCES, ids=lambda row: row.nonce)
def test_every_nonce_gives_a_reply_the_sdk_reads_in_full(gateway, row: nonces.TestNonce) -> None:
    nonce = row.nonce
    result = sale(gateway, nonce=nonce)
    transaction = result.transaction
    if transaction is None:  # a validation error (luhn-invalid, consumed, an instrument the account lacks)
        assert row.in_sale.startswith("validation error")
        assert [error.code for error in result.errors.deep_errors] == [row.in_sale.split()[2]]
        return
    # the catalogue's "sale" column is what the sale did, with the instrument the row names
    assert row.instrument is not None and transaction.payment_instrument_type == row.instrument.kind
    if row.in_sale.startswith("gateway_rejected"):
        assert transaction.status == "gateway_rejected" == row.in_sale.split(":")[0]
        assert transaction.gateway_rejection_reason == row.in_sale.split(": ")[1]
    else:
        assert row.in_sale.startswith("authorized") and transaction.status == "authorized"

    found = gateway.transaction.find(transaction.id)

    kind = transaction.payment_instrument_type
    for txn in (transaction, found):
        instrument = getattr(txn, _DETAILS[kind])
        assert read_every_attribute(instrument), nonce  # raises if the SDK cannot compute one of them
    if kind == instruments.ANDROID_PAY:
        card = found.android_pay_card_details
        assert (card.card_type, card.last_4) == (card.virtual_card_type, card.virtual_card_last_4)
        assert card.expiration_date == f"{card.expiration_month}/{card.expiration_year}"
