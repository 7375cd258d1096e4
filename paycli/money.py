"""Amounts as `Decimal`, from the command line to the wire and back to text.

Braintree amounts are decimal strings with at most two places; a float never touches them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from paycli.errors import UsageError

CENT = Decimal("0.01")

# ASCII digits only: `\d` would let Arabic-Indic and other Unicode digits through, and Decimal() accepts
# exponents, signs, "nan" and "inf", none of which an operator means when typing an amount.
_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)
_EXAMPLE = "like 10.00"
# Far above any real payment (Braintree's documented limit has been 9999999.99, and each processor sets
# its own below that) yet small enough that every amount stays exact in Decimal's default 28-digit context:
# the gateway judges anything under it ("Amount is too large", exit 3), paycli refuses anything over it.
MAX_INTEGER_DIGITS = 15
_SHOWN_CHARS = 24  # of a malformed value echoed in a message: a 10,000-digit paste is not repeated whole


def parse_amount(text: str, *, field: str = "--amount") -> Decimal:
    """A positive amount with at most two decimal places, or a UsageError that says how to fix it."""
    raw = text.strip()
    shown = raw if len(raw) <= _SHOWN_CHARS else f"{raw[:_SHOWN_CHARS]}… ({len(raw)} characters)"
    if not raw:
        raise UsageError(f"{field} is empty; give an amount {_EXAMPLE}", field=field)
    if raw.startswith("-"):
        raise UsageError(f"{field} '{shown}' is negative; give a positive amount {_EXAMPLE}", field=field, value=shown)
    if not _PLAIN.fullmatch(raw):
        raise UsageError(
            f"{field} '{shown}' is not a plain amount; use digits and an optional decimal point {_EXAMPLE} "
            "(no signs, thousands separators, exponents or currency symbols)",
            field=field,
            value=shown,
        )
    whole, _, cents = raw.partition(".")
    if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise UsageError(
            f"{field} '{shown}' is too large: at most {MAX_INTEGER_DIGITS} digits before the decimal point",
            field=field,
            value=shown,
        )
    if len(cents) > 2:  # before Decimal(): a 10,000-digit fraction is refused just as cheaply
        raise UsageError(
            f"{field} '{shown}' has more than 2 decimal places; give whole cents {_EXAMPLE}", field=field, value=shown
        )
    try:
        amount = Decimal(raw)
        cents_only = amount.quantize(CENT)
    except InvalidOperation:  # unreachable after the checks above, kept so none can leak a traceback
        raise UsageError(f"{field} '{shown}' is not an amount; give one {_EXAMPLE}", field=field, value=shown) from None
    if amount == 0:
        raise UsageError(
            f"{field} '{shown}' is zero; give an amount greater than 0 {_EXAMPLE}", field=field, value=shown
        )
    return cents_only


UNKNOWN_CURRENCY = "?"  # an amount whose currency the gateway did not say: kept apart from every other


def by_currency(amounts: Iterable[tuple[str | None, Decimal]]) -> dict[str, Decimal]:
    """Totals of (currency, amount) pairs, one per currency, in currency order: never one sum across them."""
    totals: dict[str, Decimal] = {}
    for currency, amount in amounts:
        key = currency or UNKNOWN_CURRENCY
        totals[key] = totals.get(key, Decimal("0.00")) + amount
    return dict(sorted(totals.items()))


def describe_totals(totals: Mapping[str, Decimal]) -> str:
    """`{"EUR": 12, "USD": 10}` → `"12.00 EUR, 10.00 USD"`; nothing → `"0.00"`."""
    if not totals:
        return "0.00"
    return ", ".join(f"{format_amount(amount)} {currency}" for currency, amount in totals.items())


def format_amount(amount: Decimal) -> str:
    """`Decimal("10")` → `"10.00"`; sub-cent values keep their digits rather than being rounded away."""
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {amount}")
    cents = amount.quantize(CENT)
    if cents == amount:
        return f"{cents:f}"
    return f"{amount:f}"
