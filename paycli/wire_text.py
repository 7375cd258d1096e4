"""Free text a user types that paycli sends to the gateway: order ids, e-mails, custom fields, reasons.

Braintree carries these in XML, which cannot hold most control characters at all; the others (tab, newline,
DEL, the C1 range) are never meant in an order id and break the terminals and spreadsheets that show it
later. Refusing them here makes the answer a deterministic usage error (exit 2) naming the option, instead
of whatever a gateway or a proxy does with a malformed request.
"""

from __future__ import annotations

import unicodedata

from paycli.errors import UsageError


def plain_text(value: str, field: str) -> str:
    """`value` unchanged, or a UsageError naming `field` and the first character it cannot carry."""
    for position, char in enumerate(value, start=1):
        kind = unicodedata.category(char)
        if kind == "Cc":
            raise UsageError(
                f"{field} contains a control character ({_codepoint(char)} at position {position}); use printable text",
                field=field,
            )
        if kind == "Cs":  # bytes that were not UTF-8 in argv arrive as lone surrogates
            raise UsageError(f"{field} is not valid UTF-8 text (at position {position})", field=field)
    return value


def optional_text(value: str | None, field: str) -> str | None:
    return None if value is None else plain_text(value, field)


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"
