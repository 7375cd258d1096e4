"""Braintree's test nonces: one table says what each does in a sale, and `paycli nonces` prints that table.

The nonces are Braintree's published ones (https://developer.paypal.com/braintree/docs/reference/general/testing,
and the SDK's `braintree.test.nonces.Nonces`). In a sale the *amount* decides the processor's answer
(docs/sandbox.md); a nonce decides only the payment instrument, a few gateway rejections and validation
errors, and what a verification would answer. A nonce not in the table is refused with 91565.

The "sale" column that `paycli nonces` prints is derived from the row's `Instrument`, the same value a
sale pays with, so the list cannot promise what the sale does not do.
"""

from __future__ import annotations

from dataclasses import dataclass

from paycli.sandbox.instruments import (
    ANDROID_PAY,
    APPLE_PAY,
    PAYPAL,
    SEPA_DEBIT,
    US_BANK,
    VENMO,
    VISA_1881,
    Card,
    Instrument,
    indicator_card,
)

UNKNOWN_NONCE = "91565"
VERIFIED = "verified"
NOT_APPLICABLE = "n/a"  # the instrument has no card verification
DECLINED_VERIFICATION = "processor_declined 2000 Do Not Honor"

_BRANDS = {
    "visa": VISA_1881,
    "amex": Card("378282", "0005", "American Express"),
    "mastercard": Card("555555", "4444", "MasterCard"),
    "discover": Card("601111", "1117", "Discover"),
    "jcb": Card("353011", "0000", "JCB"),
    "maestro": Card("630400", "0000", "Maestro"),
    "dinersclub": Card("362596", "0004", "Discover"),  # Braintree processes Diners Club cards as Discover
}
_BRAND_NAMES = {
    "visa": "a Visa",
    "amex": "an American Express",
    "mastercard": "a MasterCard",
    "discover": "a Discover",
    "jcb": "a JCB",
    "maestro": "a Maestro",
    "dinersclub": "a Diners Club",
}
_INDICATORS = (
    "prepaid",
    "prepaid-reloadable",
    "commercial",
    "durbin-regulated",
    "healthcare",
    "debit",
    "payroll",
    "no-indicators",
    "unknown-indicators",
    "country-of-issuance-usa",
    "country-of-issuance-cad",
    "issuing-bank-network-only",
    "business",
    "consumer",
    "corporate",
    "purchase",
)
_THREE_D_SECURE = (  # the 3-D Secure result each names; the sandbox does not simulate 3-D Secure itself
    "visa-full-authentication",
    "visa-lookup-timeout",
    "visa-failed-signature",
    "visa-failed-authentication",
    "visa-attempts-non-participating",
    "visa-not-enrolled",
    "visa-unavailable",
    "visa-mpi-lookup-error",
    "visa-mpi-authenticate-error",
    "visa-authentication-unavailable",
    "visa-bypassed-authentication",
    "two-visa-successful-frictionless-authentication",
    "two-visa-successful-step-up-authentication",
    "two-visa-error-on-lookup",
    "two-visa-timeout-on-lookup",
)


@dataclass(frozen=True)
class TestNonce:
    """One row: a nonce, what it stands for, and what it pays with in a sale."""

    __test__ = False  # a table row, not a pytest class

    nonce: str
    description: str
    in_verification: str
    instrument: Instrument | None  # None: a sale refuses the nonce with `refusal`
    refusal: str | None = None  # the validation code of a nonce that pays with nothing

    @property
    def in_sale(self) -> str:
        """What a sale does with this nonce, said from the instrument the sale uses."""
        instrument = self.instrument
        if instrument is None:
            return f"validation error {self.refusal}"
        if instrument.validation:
            return f"validation error {instrument.validation}"
        if instrument.rejection:
            return f"gateway_rejected: {instrument.rejection}"
        if instrument.needs_account:
            return f"validation error 91577 unless the merchant account's id contains {instrument.needs_account}"
        if instrument.kind == PAYPAL:
            return "authorized; the amount decides; submitting goes straight to settling"
        return "authorized; the amount decides"


_Row = tuple[str, str, "Instrument | None", "str | None"]  # description, verification, instrument, refusal


def _card(description: str, card: Card = VISA_1881, verification: str = VERIFIED) -> _Row:
    return description, verification, Instrument(card=card), None


def _wallet(kind: str, description: str, card: Card | None = None) -> _Row:
    return description, NOT_APPLICABLE, Instrument(kind=kind, card=card), None


def _apple_pay(brand: str) -> Card:
    return Card("401288", "1881", f"Apple Pay - {brand}", cardholder_name=f"{brand} Apple Pay Cardholder")


def _rows() -> tuple[TestNonce, ...]:
    rows: dict[str, _Row] = {
        "fake-valid-nonce": _card("a valid Visa card (bin 401288, last 4 1881)"),
        "fake-valid-no-billing-address-nonce": _card("a valid Visa card with no billing address"),
        "fake-abstract-transactable-nonce": _card("a valid transactable payment method (a Visa card here)"),
    }
    for brand, card in _BRANDS.items():
        rows[f"fake-valid-{brand}-nonce"] = _card(f"a valid card ({_BRAND_NAMES[brand].split(' ', 1)[1]})", card)
    for name in _INDICATORS:
        rows[f"fake-valid-{name}-nonce"] = _card(f"a valid Visa with the {name} indicator", indicator_card(name))
    rows["fake-pinless-debit-visa-nonce"] = _card("a pinless debit Visa", indicator_card("debit"))
    for brand in ("visa", "mastercard", "amex", "discover", "dinersclub"):
        rows[f"fake-processor-declined-{brand}-nonce"] = _card(
            f"{_BRAND_NAMES[brand]} card the processor declines in verifications (not in sales)",
            _BRANDS[brand],
            DECLINED_VERIFICATION,
        )
    rows["fake-processor-failure-jcb-nonce"] = _card(
        "a JCB card whose verification fails", _BRANDS["jcb"], "failed 3000"
    )
    rows.update(
        {
            "fake-luhn-invalid-nonce": (
                "a Luhn-invalid card number",
                "validation error 81715",
                Instrument(validation="81715"),
                None,
            ),
            "fake-consumed-nonce": ("a nonce that was already used", "validation error 93107", None, "91564"),
            "fake-gateway-rejected-fraud-nonce": (
                "a fraudulent card",
                NOT_APPLICABLE,
                Instrument(card=VISA_1881, rejection="fraud"),
                None,
            ),
            "fake-gateway-rejected-risk-thresholds-nonce": (
                "a card over the risk thresholds",
                NOT_APPLICABLE,
                Instrument(card=VISA_1881, rejection="risk_threshold"),
                None,
            ),
        }
    )
    for result in _THREE_D_SECURE:
        rows[f"fake-three-d-secure-{result}-nonce"] = _card(
            f"a Visa whose 3-D Secure result is {result.removeprefix('two-').removeprefix('visa-').replace('-', ' ')}"
            " (3-D Secure is not simulated: it pays as a Visa)"
        )
    rows.update(
        {
            "fake-paypal-one-time-nonce": _wallet(PAYPAL, "a PayPal account for a one-time payment"),
            "fake-paypal-billing-agreement-nonce": _wallet(PAYPAL, "a PayPal billing agreement (vaultable)"),
            "fake-paypal-future-nonce": _wallet(PAYPAL, "a PayPal future payment (deprecated flow)"),
            "fake-paypal-future-refresh-token-nonce": _wallet(PAYPAL, "a PayPal future payment with a refresh token"),
            "fake-venmo-account-nonce": _wallet(VENMO, "a Venmo account"),
            "fake-token-issuance-error-venmo-account-nonce": (
                "a Venmo account whose token cannot be issued",
                NOT_APPLICABLE,
                Instrument(kind=VENMO, rejection="token_issuance"),
                None,
            ),
            "fake-apple-pay-visa-nonce": _wallet(APPLE_PAY, "Apple Pay with a Visa", _apple_pay("Visa")),
            "fake-apple-pay-mastercard-nonce": _wallet(
                APPLE_PAY, "Apple Pay with a MasterCard", _apple_pay("MasterCard")
            ),
            "fake-apple-pay-amex-nonce": _wallet(APPLE_PAY, "Apple Pay with an American Express", _apple_pay("AmEx")),
            "fake-apple-pay-mpan-nonce": _wallet(
                APPLE_PAY, "Apple Pay with a merchant token (MPAN) on a Visa", _apple_pay("Visa")
            ),
        }
    )
    google_pay = Card("401288", "1881", "Visa")
    rows["fake-android-pay-nonce"] = _wallet(ANDROID_PAY, "Google Pay", google_pay)
    for brand in ("visa", "mastercard", "amex", "discover"):
        rows[f"fake-android-pay-{brand}-nonce"] = _wallet(
            ANDROID_PAY, f"Google Pay with {_BRAND_NAMES[brand]} (answered as the Google Pay Visa)", google_pay
        )
    rows["fake-google-pay-paypal-nonce"] = _wallet(
        ANDROID_PAY, "Google Pay funded by PayPal (answered as the Google Pay Visa)", google_pay
    )
    for wallet, name, brands in (
        ("visa-checkout", "Visa Checkout", ("visa", "mastercard", "amex", "discover")),
        ("masterpass", "Masterpass", ("visa", "mastercard", "amex", "discover")),
    ):
        for brand in brands:
            rows[f"fake-{wallet}-{brand}-nonce"] = _card(
                f"{name} with {_BRAND_NAMES[brand]} (paid as a plain card here)", _BRANDS[brand]
            )
    rows.update(
        {
            "fake-meta-checkout-card-nonce": _card("Meta Checkout with a card (paid as a plain Visa here)"),
            "fake-meta-checkout-token-nonce": _card("Meta Checkout with a network token (paid as a plain Visa here)"),
            "fake-amex-express-checkout-nonce": _card("Amex Express Checkout (retired; paid as a plain Visa here)"),
        }
    )
    for brand, name in (
        ("visa", "visa"),
        ("mastercard", "mastercard"),
        ("american_express", "amex"),
        ("discover", "discover"),
    ):
        rows[f"tokensam_fake_{brand}"] = _card(
            f"Samsung Pay with {_BRAND_NAMES[name]} (retired; paid as a plain Visa here)"
        )
    rows["fake-us-bank-account-nonce"] = (
        "a US bank account (ACH)",
        NOT_APPLICABLE,
        Instrument(kind=US_BANK, needs_account="us_bank"),
        None,
    )
    for nonce, description in (
        ("fake-europe-bank-account-nonce", "a European bank account"),
        ("fake-sepa-bank-account-nonce", "a SEPA bank account"),
        ("fake-sepa-direct-debit-nonce", "a SEPA Direct Debit account"),
        ("fake-local-payment-method-nonce", "a local payment method"),
    ):
        rows[nonce] = (description, NOT_APPLICABLE, Instrument(kind=SEPA_DEBIT, needs_account="sepa"), None)
    return tuple(TestNonce(nonce, *row) for nonce, row in rows.items())


TEST_NONCES: tuple[TestNonce, ...] = _rows()
_BY_NONCE = {row.nonce: row for row in TEST_NONCES}


class NonceError(Exception):
    """A sale cannot pay with this nonce; `code` is the validation error on payment_method_nonce."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def lookup(nonce: str) -> TestNonce | None:
    return _BY_NONCE.get(nonce)


def instrument_for_nonce(nonce: str) -> Instrument:
    """What a test nonce pays with; a refused or unknown nonce raises NonceError (91564, 91565)."""
    row = _BY_NONCE.get(nonce)
    if row is None:
        raise NonceError(UNKNOWN_NONCE)
    if row.instrument is None:
        raise NonceError(row.refusal or UNKNOWN_NONCE)
    return row.instrument
