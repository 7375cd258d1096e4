"""One table of test nonces: what a sale accepts is exactly what `paycli nonces` lists, and each does what it says.

The sales themselves, one per row through the real SDK, are in test_payment_instruments.py.
"""

from __future__ import annotations

import pytest
from braintree.test.nonces import Nonces

from paycli.sandbox import nonces

SDK_NONCES = sorted({value for name, value in vars(Nonces).items() if not name.startswith("_")})
CATALOGUE = [row.nonce for row in nonces.TEST_NONCES]


def accepted(nonce: str) -> bool:
    """Whether a sale takes the nonce as a test nonce (a refusal other than 91565 still knows the nonce)."""
    try:
        nonces.instrument_for_nonce(nonce)
    except nonces.NonceError as err:
        return err.code != nonces.UNKNOWN_NONCE
    return True


def test_the_catalogue_lists_each_nonce_once() -> None:
    assert len(CATALOGUE) == len(set(CATALOGUE))


@pytest.mark.parametrize("nonce", SDK_NONCES)
def test_every_nonce_the_sdk_knows_is_accepted_and_listed(nonce: str) -> None:
    assert accepted(nonce)
    assert nonce in CATALOGUE


@pytest.mark.parametrize("row", nonces.TEST_NONCES, ids=lambda row: row.nonce)
def test_every_listed_nonce_pays_with_its_rows_instrument(row: nonces.TestNonce) -> None:
    if row.instrument is None:
        with pytest.raises(nonces.NonceError) as refused:
            nonces.instrument_for_nonce(row.nonce)
        assert refused.value.code == row.refusal != nonces.UNKNOWN_NONCE
    else:
        assert nonces.instrument_for_nonce(row.nonce) is row.instrument


@pytest.mark.parametrize(
    "nonce",
    [
        # a family's prefix with a member Braintree does not publish: a sale refuses it like any unknown nonce
        "fake-paypal-anything-nonce",
        "fake-three-d-secure-anything-nonce",
        "tokensam_fake_anything",
        "fake-apple-pay-anything-nonce",
        "fake-android-pay-anything-nonce",
        "fake-visa-checkout-anything-nonce",
        "fake-masterpass-anything-nonce",
        "fake-meta-checkout-anything-nonce",
        "fake-processor-declined-jcb-nonce",
        "fake-valid-anything-nonce",
        "not-a-nonce",
        "",
    ],
)
def test_a_nonce_outside_the_catalogue_is_unknown(nonce: str) -> None:
    assert nonce not in CATALOGUE
    with pytest.raises(nonces.NonceError) as refused:
        nonces.instrument_for_nonce(nonce)
    assert refused.value.code == "91565"


def test_the_sale_column_is_said_from_the_instrument() -> None:
    by_nonce = {row.nonce: row for row in nonces.TEST_NONCES}

    assert by_nonce["fake-valid-nonce"].in_sale == "authorized; the amount decides"
    assert by_nonce["fake-luhn-invalid-nonce"].in_sale == "validation error 81715"
    assert by_nonce["fake-consumed-nonce"].in_sale == "validation error 91564"
    assert by_nonce["fake-gateway-rejected-fraud-nonce"].in_sale == "gateway_rejected: fraud"
    assert "straight to settling" in by_nonce["fake-paypal-one-time-nonce"].in_sale
    assert by_nonce["fake-sepa-direct-debit-nonce"].in_sale.startswith("validation error 91577")


def test_paycli_nonces_lists_every_row_as_the_table_says(invoke) -> None:
    listed = {row["nonce"]: row for row in invoke("-f", "json", "nonces").json()}

    assert list(listed) == CATALOGUE
    for row in nonces.TEST_NONCES:
        assert (listed[row.nonce]["sale"], listed[row.nonce]["verification"], listed[row.nonce]["description"]) == (
            row.in_sale,
            row.in_verification,
            row.description,
        )
