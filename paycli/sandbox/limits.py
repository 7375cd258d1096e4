"""Braintree's maximum field lengths and custom-field rules, with the validation code each one answers.

Lengths are Braintree's documented maxima (255 characters for customer and address text, 175 for a
cardholder name, 255 for a custom field's value). Custom field names are API names: letters, digits and
underscores, at most 255 characters; a name outside that — or custom fields that are not a set of
name/value pairs — is "Custom field is invalid". The codes are the SDK's `ErrorCodes`. Any other text value
longer than LONGEST_TEXT is refused by the mutation frame with a 422 that names the field.
"""

from __future__ import annotations

import re
from typing import Any

Problem = tuple[str, str, str]  # (object path, code, attribute)

TEXT_MAX = 255
# No Braintree text field comes near this; a longer value in a field without its own limit is refused
# with a 422 naming it rather than stored.
LONGEST_TEXT = 4096
CUSTOM_FIELD_MAX = 255
CARDHOLDER_NAME_MAX = 175
_CUSTOM_FIELD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{0,254}", re.ASCII)

CUSTOMER_TOO_LONG = {
    "first_name": "81608",
    "last_name": "81613",
    "company": "81601",
    "email": "81605",
    "website": "81615",
    "phone": "81614",
    "fax": "81607",
}
ADDRESS_TOO_LONG = {
    "first_name": "81805",
    "last_name": "81806",
    "company": "81802",
    "street_address": "81812",
    "extended_address": "81804",
    "locality": "81807",
    "region": "81810",
    "postal_code": "81809",
}
CARDHOLDER_NAME_TOO_LONG = "81723"
TRANSACTION_TOO_LONG = {"channel": "91550"}
# custom field codes: (invalid, too long) for a transaction's and for a customer's
TRANSACTION_CUSTOM_FIELDS = ("91526", "81527")
CUSTOMER_CUSTOM_FIELDS = ("91602", "81603")


def too_long(path: str, params: Any, codes: dict[str, str], limit: int = TEXT_MAX) -> list[Problem]:
    """A problem for each field of `params` (a dict, else nothing) longer than `limit`."""
    if not isinstance(params, dict):
        return []
    return [
        (path, code, name)
        for name, code in codes.items()
        if params.get(name) is not None and len(str(params[name])) > limit
    ]


def custom_fields(path: str, raw: Any, codes: tuple[str, str]) -> tuple[list[Problem], list[str]]:
    """Problems with a request's custom fields, and the names to show in the message."""
    invalid, long_value = codes
    if raw is None or raw == "":
        return [], []
    if not isinstance(raw, dict):
        return [(path, invalid, "custom_fields")], ["custom_fields"]
    bad = [
        name for name, value in raw.items() if not _CUSTOM_FIELD_NAME.fullmatch(name) or isinstance(value, (dict, list))
    ]
    if bad:
        return [(path, invalid, "custom_fields")], [name[:40] for name in bad]
    long = [name for name, value in raw.items() if value is not None and len(str(value)) > CUSTOM_FIELD_MAX]
    if long:
        return [(path, long_value, "custom_fields")], long
    return [], []


def overlong(params: Any, path: str = "") -> str | None:
    """The dotted path of the first text value longer than LONGEST_TEXT, if any (fields with a limit and
    a code of their own are left to their validation, which answers with that code)."""
    if isinstance(params, str):
        return path if len(params) > LONGEST_TEXT else None
    items = params.items() if isinstance(params, dict) else enumerate(params) if isinstance(params, list) else ()
    for key, value in items:
        if key in _OWN_LIMITS:
            continue
        found = overlong(value, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


_OWN_LIMITS = frozenset(
    {
        *CUSTOMER_TOO_LONG,
        *ADDRESS_TOO_LONG,
        *TRANSACTION_TOO_LONG,
        "cardholder_name",
        "custom_fields",
        "api_request_key",
    }
)
