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


def parse_amount(text: str, *, field: str = "--amount") -> Decimal:
    """A positive amount with at most two decimal places, or a UsageError that says how to fix it."""
    raw = text.strip()
    if not raw:
        raise UsageError(f"{field} is empty; give an amount {_EXAMPLE}", field=field)
    if raw.startswith("-"):
        raise UsageError(f"{field} '{raw}' is negative; give a positive amount {_EXAMPLE}", field=field, value=raw)
    if not _PLAIN.fullmatch(raw):
        raise UsageError(
            f"{field} '{raw}' is not a plain amount; use digits and an optional decimal point {_EXAMPLE} "
            "(no signs, thousands separators, exponents or currency symbols)",
            field=field,
            value=raw,
        )
    try:
        amount = Decimal(raw)
    except InvalidOperation:  # unreachable after the pattern, kept so a bad pattern cannot leak a traceback
        raise UsageError(f"{field} '{raw}' is not an amount; give one {_EXAMPLE}", field=field, value=raw) from None
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise UsageError(
            f"{field} '{raw}' has more than 2 decimal places; give whole cents {_EXAMPLE}", field=field, value=raw
        )
    if amount == 0:
        raise UsageError(f"{field} '{raw}' is zero; give an amount greater than 0 {_EXAMPLE}", field=field, value=raw)
    return amount.quantize(CENT)


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
