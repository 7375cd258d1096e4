"""What a sale pays with: the instrument kinds, the card details a test nonce or card stands for.

The kinds are the SDK's `payment_instrument_type` values. Card-type indicators (prepaid, debit, …) are
Braintree's test values: https://developer.paypal.com/braintree/docs/reference/general/testing
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

CREDIT_CARD = "credit_card"
PAYPAL = "paypal_account"
APPLE_PAY = "apple_pay_card"
ANDROID_PAY = "android_pay_card"
VENMO = "venmo_account"
US_BANK = "us_bank_account"
SEPA_DEBIT = "sepa_debit_account"


@dataclass(frozen=True)
class Card:
    bin: str
    last_4: str
    card_type: str
    expiration_month: str = "12"
    expiration_year: str = "2030"
    cardholder_name: str | None = None
    indicators: Mapping[str, str] = field(default_factory=dict)  # prepaid, debit, … → Yes/No/Unknown
    customer_location: str = "US"


@dataclass(frozen=True)
class Instrument:
    """What a nonce or card stands for in a sale."""

    kind: str = CREDIT_CARD
    card: Card | None = None
    rejection: str | None = None  # gateway rejection reason decided before the processor
    validation: str | None = None  # validation error code the nonce always produces
    needs_account: str | None = None  # merchant account feature the instrument requires


VISA_1881 = Card("401288", "1881", "Visa")  # the card behind fake-valid-nonce
INDICATOR_NAMES = ("prepaid", "commercial", "debit", "payroll", "healthcare", "durbin_regulated")


def indicator_card(name: str) -> Card:
    """The Visa test card carrying one card-type indicator (`prepaid`, `debit`, `country-of-issuance-cad`, …)."""
    values = {key: "Unknown" for key in INDICATOR_NAMES}
    values.update(issuing_bank="Unknown", country_of_issuance="Unknown")
    if name == "no-indicators":
        values.update({key: "No" for key in INDICATOR_NAMES})
    elif name == "issuing-bank-network-only":
        values["issuing_bank"] = "NETWORK ONLY"
    elif name.startswith("country-of-issuance-"):
        values["country_of_issuance"] = name.rsplit("-", 1)[1].upper()
    elif name == "durbin-regulated":
        values["durbin_regulated"] = "Yes"
    elif name in ("prepaid", "commercial", "debit", "payroll", "healthcare"):
        values[name] = "Yes"
    elif name == "prepaid-reloadable":
        values["prepaid"] = "Yes"
    return Card("401288", "1881", "Visa", indicators=values)
