"""Raw card data in a request: validation (817xx codes), brand and indicators, the stored card."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from paycli.sandbox import instruments, rules
from paycli.sandbox.records import text


def expiration(card: dict[str, Any]) -> tuple[str | None, str | None]:
    raw = text(card.get("expiration_date"))
    month, year = text(card.get("expiration_month")), text(card.get("expiration_year"))
    if raw:
        match = re.fullmatch(r"(\d{1,2})/(\d{2}|\d{4})", raw)
        if not match:
            return None, "invalid"
        month, year = match.groups()
    if month and not (month.isdigit() and 1 <= int(month) <= 12):
        return None, year or "invalid"
    if year and not year.isdigit():
        return month or "invalid", None
    if year and len(year) == 2:
        year = "20" + year
    return (month.zfill(2) if month else None), year


def card_doc(card: instruments.Card, given: dict[str, Any]) -> dict[str, Any]:
    doc = {
        "bin": card.bin,
        "last_4": card.last_4,
        "card_type": card.card_type,
        "expiration_month": card.expiration_month,
        "expiration_year": card.expiration_year,
        "cardholder_name": text(given.get("cardholder_name")) or card.cardholder_name,
        "customer_location": card.customer_location,
        "token": None,
        "unique_number_identifier": hashlib.sha256(f"{card.bin}{card.last_4}".encode()).hexdigest()[:32],
    }
    doc.update(card.indicators or {})
    return doc


def auth_code() -> str:
    return "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(6))


def raw_card(
    card: dict[str, Any],
    problems: list[tuple[str, str, str]],
) -> tuple[instruments.Instrument, dict[str, Any]]:
    number = re.sub(r"[\s-]", "", str(card.get("number") or ""))
    if not number:
        problems.append(("credit_card", "81714", "number"))
    elif not number.isdigit():
        problems.append(("credit_card", "81715", "number"))
    elif not 12 <= len(number) <= 19:
        problems.append(("credit_card", "81716", "number"))
    elif not rules.luhn_valid(number):
        problems.append(("credit_card", "81715", "number"))
    elif not rules.is_test_number(number):
        problems.append(("credit_card", "81717", "number"))
    month, year = expiration(card)
    if month is None and year is None:
        problems.append(("credit_card", "81709", "expiration_date"))
    elif month is None or year is None:
        problems.append(("credit_card", "81710", "expiration_date"))
    cvv = text(card.get("cvv"))
    brand = rules.card_type(number) if number else "Unknown"
    if cvv and (not cvv.isdigit() or len(cvv) != (4 if brand == "American Express" else 3)):
        problems.append(("credit_card", "81707", "cvv"))
    if any(path == "credit_card" for path, _, _ in problems):
        return instruments.Instrument(), {}
    rejection = {rules.FRAUD_CARD: "fraud", rules.RISK_THRESHOLD_CARD: "risk_threshold"}.get(number)
    base = instruments.Card(
        number[:6],
        number[-4:],
        brand,
        month or "",
        year or "",
        cardholder_name=text(card.get("cardholder_name")),
        indicators=rules.card_indicators(number),
    )
    doc = card_doc(base, card)
    doc["unique_number_identifier"] = hashlib.sha256(number.encode()).hexdigest()[:32]
    return instruments.Instrument(card=base, rejection=rejection), doc
