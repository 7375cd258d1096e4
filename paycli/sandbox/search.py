"""Transaction search, as `braintree.TransactionSearch` sends it: criteria, and the two search routes.

The SDK searches in two steps: `advanced_search_ids` returns the ids of every match (at most the search
cap, silently, as Braintree does), then `advanced_search` fetches them a page at a time by id
(docs/sandbox.md, "Searches").

Text fields take `{is, is_not, starts_with, ends_with, contains}` (case-insensitive, like
Braintree's), multiple-value fields a list, range fields `{min, max, is}`, and `refund` a boolean.
Fields the sandbox does not model match nothing rather than everything, so a client never mistakes
an unsupported filter for an empty one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from paycli.braintree_facts import SEARCH_CAP, SEARCH_PAGE_SIZE
from paycli.sandbox import schema, xmlcodec
from paycli.sandbox.replies import BAD_REQUEST, Reply, render
from paycli.sandbox.store import Merchant, Store
from paycli.sandbox.xmlcodec import parse_datetime

Doc = dict[str, Any]


def _path(*keys: str) -> Callable[[Doc], Any]:
    def get(doc: Doc) -> Any:
        value: Any = doc
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    return get


def _event_time(*statuses: str) -> Callable[[Doc], Any]:
    def get(doc: Doc) -> Any:
        for event in doc.get("status_history", []):
            if event["status"] in statuses:
                return event["timestamp"]
        return None

    return get


def _expiration(doc: Doc) -> str | None:
    card = doc.get("credit_card") or {}
    if card.get("expiration_month") and card.get("expiration_year"):
        return f"{card['expiration_month']}/{card['expiration_year']}"
    return None


TEXT: dict[str, Callable[[Doc], Any]] = {
    "id": _path("id"),
    "order_id": _path("order_id"),
    "settlement_batch_id": _path("settlement_batch_id"),
    "currency": _path("currency_iso_code"),
    "payment_method_token": _path("credit_card", "token"),
    "processor_authorization_code": _path("processor_authorization_code"),
    "customer_id": lambda doc: doc.get("customer_id") or (doc.get("customer") or {}).get("id"),
    "credit_card_cardholder_name": _path("credit_card", "cardholder_name"),
    "credit_card_unique_identifier": _path("credit_card", "unique_number_identifier"),
    "paypal_payer_email": _path("paypal", "payer_email"),
    "paypal_payment_id": _path("paypal", "payment_id"),
    "paypal_authorization_id": _path("paypal", "authorization_id"),
    "credit_card_expiration_date": _expiration,
    "acquirer_reference_number": _path("acquirer_reference_number"),
}
for _name in ("email", "first_name", "last_name", "company", "phone", "fax", "website"):
    TEXT[f"customer_{_name}"] = _path("customer", _name)
for _side in ("billing", "shipping"):
    for _name in (
        "first_name",
        "last_name",
        "company",
        "country_name",
        "extended_address",
        "locality",
        "postal_code",
        "region",
        "street_address",
    ):
        TEXT[f"{_side}_{_name}"] = _path(_side, _name)

# Search takes the instrument's detail class name (CreditCardDetail…) as well as the response value.
_DETAIL_NAMES = {
    "credit_card": "CreditCardDetail",
    "paypal_account": "PayPalDetail",
    "apple_pay_card": "ApplePayDetail",
    "android_pay_card": "AndroidPayCardDetail",
    "venmo_account": "VenmoAccountDetail",
    "us_bank_account": "UsBankAccountDetail",
    "local_payment": "LocalPaymentDetail",
    "sepa_debit_account": "SEPADebitAccountDetail",
}

MULTIPLE: dict[str, Callable[[Doc], Any]] = {
    "status": _path("status"),
    "type": _path("type"),
    "ids": _path("id"),
    "merchant_account_id": _path("merchant_account_id"),
    "payment_instrument_type": lambda doc: [
        doc.get("payment_instrument_type"),
        _DETAIL_NAMES.get(doc.get("payment_instrument_type") or ""),
    ],
    "credit_card_card_type": _path("credit_card", "card_type"),
    "credit_card_customer_location": _path("credit_card", "customer_location"),
    "source": lambda doc: "api",
    "created_using": lambda doc: "token" if (doc.get("credit_card") or {}).get("token") else "full_information",
}

RANGE: dict[str, Callable[[Doc], Any]] = {
    "amount": _path("amount"),
    "created_at": _path("created_at"),
    "settled_at": _path("settled_at"),
    "authorized_at": _event_time("authorized"),
    "submitted_for_settlement_at": _event_time("submitted_for_settlement", "settling"),
    "voided_at": _event_time("voided"),
    "failed_at": _event_time("failed"),
    "gateway_rejected_at": _event_time("gateway_rejected"),
    "processor_declined_at": _event_time("processor_declined"),
    "authorization_expired_at": _event_time("authorization_expired"),
    "disbursement_date": _path("disbursement_date"),
}


def _stamp(value: Any) -> str | None:
    moment: datetime | None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    else:
        moment = parse_datetime(str(value)) if value is not None else None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?")  # ASCII and finite: no "NaN", "sNaN", "Infinity" or "١٠"


def _decimal(value: Any) -> Decimal | None:
    text = str(value).strip()
    return Decimal(text) if _NUMBER.fullmatch(text) else None


def valid_criteria(criteria: dict[str, Any]) -> bool:
    """Whether every range bound is a number or instant and `ids` is a list; otherwise the search is a 400."""
    if criteria.get("ids") is not None and not isinstance(criteria["ids"], list):
        return False
    for field in RANGE:
        rule = criteria.get(field)
        if rule is None:
            continue
        bounds = rule.values() if isinstance(rule, dict) else [rule]
        for bound in bounds:
            if isinstance(bound, (dict, list)):
                return False
            if bound is not None and field == "amount" and _decimal(bound) is None:
                return False
            if bound is not None and field != "amount" and field != "disbursement_date" and _stamp(bound) is None:
                return False
    return True


def _text_matches(actual: Any, rule: Any) -> bool:
    actual_text = "" if actual is None else str(actual).lower()
    if not isinstance(rule, dict):
        rule = {"is": rule}
    for operator, expected in rule.items():
        wanted = "" if expected is None else str(expected).lower()
        if operator == "is" and actual_text != wanted:
            return False
        if operator == "is_not" and actual_text == wanted:
            return False
        if operator == "starts_with" and not (actual is not None and actual_text.startswith(wanted)):
            return False
        if operator == "ends_with" and not (actual is not None and actual_text.endswith(wanted)):
            return False
        if operator == "contains" and not (actual is not None and wanted in actual_text):
            return False
    return True


def _card_number_matches(doc: Doc, rule: Any) -> bool:
    card = doc.get("credit_card") or {}
    bin_, last_4 = card.get("bin") or "", card.get("last_4") or ""
    if not isinstance(rule, dict):
        rule = {"is": rule}
    for operator, expected in rule.items():
        wanted = str(expected or "")
        same = bool(bin_) and wanted.startswith(bin_) and wanted.endswith(last_4)
        if operator == "is" and not same:
            return False
        if operator == "is_not" and same:
            return False
        if operator == "starts_with" and not (bin_ and (bin_.startswith(wanted) or wanted.startswith(bin_))):
            return False
        if operator == "ends_with" and not (last_4 and (last_4.endswith(wanted) or wanted.endswith(last_4))):
            return False
    return True


def _range_matches(field: str, actual: Any, rule: Any) -> bool:
    if actual is None:
        return False
    if not isinstance(rule, dict):
        rule = {"is": rule}
    convert: Callable[[Any], Any] = _decimal if field == "amount" else _stamp
    if field == "disbursement_date":
        convert = lambda value: str(value)[:10]  # noqa: E731 - a date compares as its ISO text
    value = convert(actual)
    for operator, bound in rule.items():
        limit = convert(bound)
        if limit is None or value is None:
            return False
        if operator == "min" and value < limit:
            return False
        if operator == "max" and value > limit:
            return False
        if operator == "is" and value != limit:
            return False
    return True


def matches(doc: Doc, criteria: dict[str, Any]) -> bool:
    for field, rule in criteria.items():
        if rule is None:
            continue
        if field == "credit_card_number":
            ok = _card_number_matches(doc, rule)
        elif field in TEXT:
            ok = _text_matches(TEXT[field](doc), rule)
        elif field in MULTIPLE:
            wanted = {str(item).lower() for item in (rule if isinstance(rule, list) else [rule])}
            actual = MULTIPLE[field](doc)
            ok = any(
                str(value).lower() in wanted
                for value in (actual if isinstance(actual, list) else [actual])
                if value is not None
            )
        elif field in RANGE:
            ok = _range_matches(field, RANGE[field](doc), rule)
        elif field == "refund":
            ok = bool(doc.get("refunded_transaction_id")) == (rule is True or rule == "true")
        else:
            ok = False
        if not ok:
            return False
    return True


def narrowing(criteria: dict[str, Any]) -> dict[str, Any]:
    """Bounds the store can apply with its indexes before `matches` checks the rest."""
    narrow: dict[str, Any] = {}
    for field in ("created_at", "settled_at"):
        rule = criteria.get(field)
        if isinstance(rule, dict):
            low = _stamp(rule.get("min", rule.get("is")))
            high = _stamp(rule.get("max", rule.get("is")))
            narrow[field.split("_")[0]] = (low, high)
    if isinstance(criteria.get("status"), list):
        narrow["statuses"] = [str(s) for s in criteria["status"]]
    if isinstance(criteria.get("ids"), list):
        narrow["ids"] = [str(i) for i in criteria["ids"]]
    return narrow


class Searches:
    """The two search routes over one store; `settle_due` runs first so a search sees settled statuses."""

    def __init__(self, store: Store, settle_due: Callable[[Merchant], None], cap: int = SEARCH_CAP) -> None:
        self._store = store
        self._settle_due = settle_due
        self.cap = cap

    def _matching(self, merchant: Merchant, criteria: dict[str, Any]) -> Iterable[Doc]:
        self._settle_due(merchant)
        for doc in self._store.scan_transactions(merchant.id, **narrowing(criteria)):
            if matches(doc, criteria):
                yield doc

    def ids(self, merchant: Merchant, criteria: dict[str, Any]) -> Reply:
        if not valid_criteria(criteria):
            return BAD_REQUEST
        ids: list[str] = []
        for doc in self._matching(merchant, criteria):
            ids.append(doc["id"])
            if len(ids) >= self.cap:  # Braintree's silent cap: clients must narrow the window
                break
        return render(200, "search_results", {"page_size": SEARCH_PAGE_SIZE, "ids": ids})

    def page(self, merchant: Merchant, criteria: dict[str, Any]) -> Reply:
        if not valid_criteria(criteria):
            return BAD_REQUEST
        ids = [str(i) for i in (criteria.get("ids") or []) if i][: SEARCH_PAGE_SIZE * 4]
        rest = {key: value for key, value in criteria.items() if key != "ids"}
        docs = [doc for doc in self._store.transactions_by_ids(merchant.id, ids) if matches(doc, rest)]
        return render(
            200,
            "credit_card_transactions",
            {
                "current_page_number": 1,
                "page_size": SEARCH_PAGE_SIZE,
                "total_items": len(docs),
                "transaction": xmlcodec.Repeated([schema.transaction(doc) for doc in docs]),
            },
        )
