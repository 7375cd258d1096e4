"""Level 2/3 data, descriptors and transaction sources: pure validation rules and their messages.

Limits come from Braintree's public reference pages (transaction create parameters and the
Transaction Line Item response object): line-item name 35 characters, description 127, product,
commodity and unit-of-measure codes 12, quantity and unit amount up to 4 decimal places, other
amounts 2; purchase order number 17 characters of ASCII; ships-from postal code 10 characters of
letters, digits, spaces and hyphens; at most 249 line items. The largest accepted line-item number
is UNCONFIRMED; the 32-bit signed maximum is assumed.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

Problem = tuple[str, str, str]  # (object path, code, attribute), as replies.Invalid takes them

MAX_LINE_ITEMS = 249
_LINE_ITEM_MAX = Decimal("2147483647")
_TRANSACTION_MAX = Decimal("99999999.99")
UPC_TYPES = ("UPC-A", "UPC-B", "UPC-C", "UPC-D", "UPC-E", "UPC-2", "UPC-5")
TRANSACTION_SOURCES = (
    "recurring",
    "recurring_first",
    "unscheduled",
    "merchant",
    "moto",
    "installment",
    "installment_first",
)
RECURRING_SOURCES = ("recurring", "recurring_first")

# (invalid format, too large, negative or not positive) per amount field
_TRANSACTION_AMOUNTS = {
    "tax_amount": ("81535", "81536", "81534"),
    "discount_amount": ("915159", "915161", "915160"),
    "shipping_amount": ("915162", "915164", "915163"),
}

MESSAGES: dict[str, str] = {
    "81534": "Tax amount cannot be negative.",
    "81535": "Tax amount is an invalid format.",
    "81536": "Tax amount is too large.",
    "915159": "Discount amount is invalid.",
    "915160": "Discount amount cannot be negative.",
    "915161": "Discount amount is too large.",
    "915162": "Shipping amount is invalid.",
    "915163": "Shipping amount cannot be negative.",
    "915164": "Shipping amount is too large.",
    "915165": "Ships from postal code is too long.",
    "915166": "Ships from postal code is invalid.",
    "915167": "Ships from postal code contains invalid characters.",
    "91537": "Purchase order number is too long.",
    "91548": "Purchase order number is invalid.",
    "915133": "Transaction source is invalid.",
    "915157": "Too many line items.",
    "92201": "Descriptor name format is invalid.",
    "92202": "Descriptor phone format is invalid.",
    "92206": "Descriptor url format is invalid.",
    "95801": "Commodity code is too long.",
    "95803": "Description is too long.",
    "95804": "Discount amount is invalid.",
    "95805": "Discount amount is too large.",
    "95806": "Discount amount cannot be negative.",
    "95807": "Kind is invalid.",
    "95808": "Kind is required.",
    "95809": "Product code is too long.",
    "95810": "Quantity is invalid.",
    "95811": "Quantity is required.",
    "95812": "Quantity is too large.",
    "95813": "Total amount is invalid.",
    "95814": "Total amount is required.",
    "95815": "Total amount is too large.",
    "95816": "Total amount must be greater than zero.",
    "95817": "Unit amount is invalid.",
    "95818": "Unit amount is required.",
    "95819": "Unit amount is too large.",
    "95820": "Unit amount must be greater than zero.",
    "95821": "Unit of measure is too long.",
    "95822": "Name is required.",
    "95823": "Name is too long.",
    "95824": "Unit tax amount is invalid.",
    "95825": "Unit tax amount is too large.",
    "95826": "Unit tax amount cannot be negative.",
    "95827": "Tax amount is invalid.",
    "95828": "Tax amount is too large.",
    "95829": "Tax amount cannot be negative.",
    "95830": "UPC code is missing.",
    "95831": "UPC code is too long.",
    "95832": "UPC type is missing.",
    "95833": "UPC type is invalid.",
}


def _text(value: Any) -> str | None:
    return None if value is None else (str(value).strip() or None)


def _number(raw: str, places: int) -> Decimal | None:
    if not re.fullmatch(rf"-?[0-9]+(\.[0-9]{{1,{places}}})?", raw):
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def _amount_problem(
    raw: str, places: int, limit: Decimal, codes: tuple[str, str, str], positive: bool = False
) -> str | None:
    """codes = (format, too large, negative/not positive); None when the amount is acceptable."""
    value = _number(raw, places)
    if value is None:
        return codes[0]
    if value < 0 or (positive and value == 0):
        return codes[2]
    if value > limit:
        return codes[1]
    return None


def transaction_fields(params: dict[str, Any]) -> list[Problem]:
    """Level 2/3 fields on the transaction itself, the descriptor and the transaction source."""
    problems: list[Problem] = []
    for name, codes in _TRANSACTION_AMOUNTS.items():
        raw = _text(params.get(name))
        code = raw and _amount_problem(raw, 2, _TRANSACTION_MAX, codes)
        if code:
            problems.append(("", code, name))
    po_number = _text(params.get("purchase_order_number"))
    if po_number and len(po_number) > 17:
        problems.append(("", "91537", "purchase_order_number"))
    elif po_number and not po_number.isascii():
        problems.append(("", "91548", "purchase_order_number"))
    postal = _text(params.get("ships_from_postal_code"))
    if postal and len(postal) > 10:
        problems.append(("", "915165", "ships_from_postal_code"))
    elif postal and not re.fullmatch(r"[A-Za-z0-9 -]+", postal):
        problems.append(("", "915167", "ships_from_postal_code"))
    source = _text(params.get("transaction_source"))
    if source and source not in TRANSACTION_SOURCES:
        problems.append(("", "915133", "transaction_source"))
    descriptor = params.get("descriptor")
    if isinstance(descriptor, dict):
        problems += descriptor_problems(descriptor)
    problems += line_item_problems(params.get("line_items"))
    return problems


def descriptor_problems(descriptor: dict[str, Any]) -> list[Problem]:
    """Dynamic descriptors: name is `company*product` with a 3, 7 or 12 character company part
    and 22 characters in all; phone 10 digits (14 characters with separators); url 13 characters."""
    problems: list[Problem] = []
    name = _text(descriptor.get("name"))
    if name:
        company, star, product = name.partition("*")
        if not star or len(company) not in (3, 7, 12) or len(name) != 22 or not product:
            problems.append(("descriptor", "92201", "name"))
    phone = _text(descriptor.get("phone"))
    if phone and not (re.fullmatch(r"[\d().\- ]{10,14}", phone) and len(re.sub(r"\D", "", phone)) == 10):
        problems.append(("descriptor", "92202", "phone"))
    url = _text(descriptor.get("url"))
    if url and len(url) > 13:
        problems.append(("descriptor", "92206", "url"))
    return problems


def line_item_problems(items: Any) -> list[Problem]:
    if not isinstance(items, list):
        return []
    if len(items) > MAX_LINE_ITEMS:
        return [("", "915157", "line_items")]
    problems: list[Problem] = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            problems += [(f"line_items.index_{index}", code, attribute) for code, attribute in _line_item(item)]
    return problems


def _line_item(item: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    lengths = (
        ("name", 35, "95823"),
        ("description", 127, "95803"),
        ("product_code", 12, "95809"),
        ("commodity_code", 12, "95801"),
        ("unit_of_measure", 12, "95821"),
        ("upc_code", 17, "95831"),
    )
    for name, limit, code in lengths:
        value = _text(item.get(name))
        if value and len(value) > limit:
            found.append((code, name))
    if not _text(item.get("name")):
        found.append(("95822", "name"))
    kind = _text(item.get("kind"))
    if not kind:
        found.append(("95808", "kind"))
    elif kind not in ("debit", "credit"):
        found.append(("95807", "kind"))
    required = (
        ("quantity", 4, ("95810", "95812", "95811"), True),
        ("unit_amount", 4, ("95817", "95819", "95820"), True),
        ("total_amount", 2, ("95813", "95815", "95816"), True),
        ("unit_tax_amount", 2, ("95824", "95825", "95826"), False),
        ("tax_amount", 2, ("95827", "95828", "95829"), False),
        ("discount_amount", 2, ("95804", "95805", "95806"), False),
    )
    missing = {"quantity": "95811", "unit_amount": "95818", "total_amount": "95814"}
    for name, places, codes, positive in required:
        raw = _text(item.get(name))
        if raw is None:
            if name in missing:
                found.append((missing[name], name))
            continue
        problem = _amount_problem(raw, places, _LINE_ITEM_MAX, codes, positive=positive)
        if problem == codes[2] and name == "quantity":
            problem = "95810"  # a quantity must be positive; there is no separate "negative" code
        if problem:
            found.append((problem, name))
    upc_code, upc_type = _text(item.get("upc_code")), _text(item.get("upc_type"))
    if upc_type and not upc_code:
        found.append(("95830", "upc_code"))
    if upc_code and not upc_type:
        found.append(("95832", "upc_type"))
    elif upc_type and upc_type not in UPC_TYPES:
        found.append(("95833", "upc_type"))
    return found


def line_item_docs(items: Any) -> list[dict[str, Any]]:
    """Stored line items: 2-decimal amounts normalised, 4-decimal ones kept as sent."""
    docs = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        doc = {
            name: _text(item.get(name))
            for name in (
                "quantity",
                "name",
                "description",
                "kind",
                "unit_amount",
                "unit_of_measure",
                "product_code",
                "commodity_code",
                "url",
                "image_url",
                "upc_code",
                "upc_type",
                "item_type",
            )
        }
        for name in ("unit_tax_amount", "discount_amount", "tax_amount", "total_amount"):
            raw = _text(item.get(name))
            doc[name] = str(Decimal(raw).quantize(Decimal("0.01"))) if raw is not None else None
        docs.append(doc)
    return docs
