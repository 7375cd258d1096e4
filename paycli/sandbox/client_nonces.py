"""Cards a browser tokenizes through the client API: validation, the single-use nonce, and its use in a sale.

A nonce record keeps what a sale needs to behave like the card itself (brand, bin, last 4, expiry, name,
postal code) and never an arbitrary full number: the sandbox only accepts its published test cards (81717
otherwise), and a test card's number is kept as `test_card` so that number-keyed rules (fraud, risk,
indicators) still apply when the nonce is spent. CVVs are never kept.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paycli.sandbox import instruments, rules
from paycli.sandbox.cards import raw_card
from paycli.sandbox.fingerprint import Claims
from paycli.sandbox.records import now, stamp, text

if TYPE_CHECKING:
    from paycli.sandbox.operations import Sandbox

# camelCase (braintree-web, GraphQL) → the snake_case the card rules read; snake_case passes through.
_CARD_KEYS = {
    "expirationDate": "expiration_date",
    "expirationMonth": "expiration_month",
    "expirationYear": "expiration_year",
    "cardholderName": "cardholder_name",
    "billingAddress": "billing_address",
}
_ADDRESS_KEYS = {
    "postalCode": "postal_code",
    "streetAddress": "street_address",
    "countryName": "country_name",
    "countryCodeAlpha2": "country_code_alpha2",
    "firstName": "first_name",
    "lastName": "last_name",
}
# error attribute (snake_case) → the client API's field name
FIELD_NAMES = {
    "number": "number",
    "expiration_date": "expirationDate",
    "cvv": "cvv",
    "expiration_month": "expirationMonth",
    "expiration_year": "expirationYear",
}
VERIFICATION_DECLINED_CARDS = frozenset(
    {
        "4000111111111115",
        "5105105105105100",
        "378734493671000",
        "6011000990139424",
        "38520000009814",
        "3566002020360505",
    }
)
Problem = tuple[str, str, str]  # (object path, code, attribute)
# A failed verification is no field's fault: the client API answers 422 with a message and no field errors.
VERIFICATION_FAILED = "verification"


def snake_card(card: dict[str, Any]) -> dict[str, Any]:
    out = {_CARD_KEYS.get(key, key): value for key, value in card.items()}
    address = out.get("billing_address")
    if isinstance(address, dict):
        out["billing_address"] = {_ADDRESS_KEYS.get(key, key): value for key, value in address.items()}
    return out


@dataclass(frozen=True)
class Tokenized:
    nonce: str
    card: dict[str, Any]  # bin, last_4, card_type, expiration_month/year, cardholder_name
    vaulted_token: str | None = None


def new_nonce(graphql: bool) -> str:
    """GraphQL nonces look like `tokencc_xx_xxxxxx_…`; the REST client API's are UUIDs."""
    if not graphql:
        return str(uuid.uuid4())
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    parts = [2, 6, 6, 6, 6, 3]
    return "tokencc_" + "_".join("".join(secrets.choice(alphabet) for _ in range(n)) for n in parts)


def tokenize(
    sandbox: Sandbox, claims: Claims, card: dict[str, Any], *, validate: bool | None, graphql: bool
) -> Tokenized | list[Problem]:
    """Validate a card and issue a single-use nonce for it; vault it when the token is bound to a customer.

    `validate` is the request's `options.validate`: braintree-web sends false unless the page asked to
    vault; a body without it (the server SDKs' own harness) vaults for a customer-bound token.
    """
    card = snake_card(card)
    problems: list[Problem] = []
    instrument, details = raw_card(card, problems)
    if problems or instrument.card is None:
        return problems
    number = re.sub(r"[\s-]", "", str(card.get("number") or ""))
    address: dict[str, Any] = card["billing_address"] if isinstance(card.get("billing_address"), dict) else {}
    summary = {
        key: details.get(key)
        for key in ("bin", "last_4", "card_type", "expiration_month", "expiration_year", "cardholder_name")
    }
    doc: dict[str, Any] = dict(
        summary,
        kind=instruments.CREDIT_CARD,
        customer_id=claims.customer_id,
        postal_code=text(address.get("postal_code")),
        test_card=number if rules.is_test_number(number) else None,
    )
    nonce = new_nonce(graphql)
    with sandbox.store.write() as db:
        vaulted = None
        if claims.customer_id and validate is not False:
            outcome = _vault(sandbox, db, claims, details, number)
            if isinstance(outcome, list):
                return outcome
            vaulted = doc["payment_method_token"] = outcome
        sandbox.store.put_client_nonce(db, claims.merchant.id, nonce, stamp(now()), doc)
    return Tokenized(nonce, summary, vaulted)


def _vault(
    sandbox: Sandbox, db: sqlite3.Connection, claims: Claims, details: dict[str, Any], number: str
) -> str | list[Problem]:
    """The card into the customer's vault, honouring the client token's options; its token, or problems."""
    merchant, options = claims.merchant, claims.options
    if sandbox.store.customer(db, merchant.id, claims.customer_id or "") is None:
        return [("credit_card", "91510", "customer_id")]
    existing = sandbox.store.customer_payment_methods(db, merchant.id, claims.customer_id or "")
    duplicate_check = options.get("fail_on_duplicate_payment_method") or options.get(
        "fail_on_duplicate_payment_method_for_customer"
    )
    if duplicate_check and any(
        card.get("unique_number_identifier") == details.get("unique_number_identifier") for card in existing
    ):
        return [("credit_card", "81724", "number")]
    if options.get("verify_card") and number in VERIFICATION_DECLINED_CARDS:
        return [("credit_card", VERIFICATION_FAILED, "number")]
    stored = sandbox.vault.vault_card(db, merchant, claims.customer_id or "", details, None, None)
    if options.get("make_default") and not stored["default"]:
        for card in existing:
            if card.get("default"):
                sandbox.store.put_payment_method(db, merchant.id, dict(card, default=False))
        stored["default"] = True
        sandbox.store.put_payment_method(db, merchant.id, stored)
    return str(stored["token"])


def card_for_sale(doc: dict[str, Any], problems: list[Problem]) -> tuple[instruments.Instrument, dict[str, Any]]:
    """A sale with a tokenized card behaves like a sale with the card: the same rules, from what was kept."""
    fields = {
        "number": doc.get("test_card"),
        "expiration_month": doc.get("expiration_month"),
        "expiration_year": doc.get("expiration_year"),
        "cardholder_name": doc.get("cardholder_name"),
    }
    return raw_card(fields, problems)
