"""Braintree's response shapes, as plain Python values that `xmlcodec.render` encodes.

The SDK builds objects with `AttributeGetter`, so an element we leave out becomes an AttributeError
in the caller's code: every field is emitted, `None` where Braintree sends `nil="true"`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from paycli.sandbox.xmlcodec import Items

# an address's fields as requests name them; replies add its "id"
ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "street_address",
    "extended_address",
    "locality",
    "region",
    "postal_code",
    "country_name",
    "country_code_alpha2",
    "country_code_alpha3",
    "country_code_numeric",
    "phone_number",
)
_ADDRESS_FIELDS = ("id", *ADDRESS_FIELDS)
_CUSTOMER_FIELDS = ("id", "first_name", "last_name", "company", "email", "website", "phone", "fax")
_INDICATORS = (
    "prepaid",
    "prepaid_reloadable",
    "debit",
    "commercial",
    "healthcare",
    "durbin_regulated",
    "payroll",
    "issuing_bank",
    "country_of_issuance",
    "product_id",
    "business",
    "consumer",
    "corporate",
    "purchase",
)


def instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _money(text: str | None) -> Decimal | None:
    return Decimal(text) if text not in (None, "") else None


def _pick(source: dict[str, Any] | None, names: tuple[str, ...]) -> dict[str, Any]:
    source = source or {}
    return {name: source.get(name) for name in names}


def _credit_card(card: dict[str, Any] | None) -> dict[str, Any]:
    card = card or {}
    month, year = card.get("expiration_month"), card.get("expiration_year")
    body = {
        "token": card.get("token"),
        "bin": card.get("bin"),
        "last_4": card.get("last_4"),
        "card_type": card.get("card_type"),
        "expiration_month": month,
        "expiration_year": year,
        "customer_location": card.get("customer_location"),
        "cardholder_name": card.get("cardholder_name"),
        "unique_number_identifier": card.get("unique_number_identifier"),
        "image_url": "https://assets.braintreegateway.com/payment_method_logo/unknown.png?environment=sandbox",
        "venmo_sdk": False,
        "account_type": card.get("account_type", "credit") if card else None,
        "expired": False,
    }
    for name in _INDICATORS:
        body[name] = card.get(name, "Unknown") if card else None
    if card.get("bin_extended"):  # the SDK masks with it when present, so never send it empty
        body["bin_extended"] = card["bin_extended"]
    if card.get("bin"):
        body["global_id"] = None
    return body


def _status_event(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "timestamp": instant(event["timestamp"]),
        "status": event["status"],
        "amount": Decimal(event["amount"]),
        "user": event.get("user"),
        "transaction_source": event.get("transaction_source", "api"),
    }


def transaction(doc: dict[str, Any]) -> dict[str, Any]:
    """The full `<transaction>` element for a stored transaction document."""
    kind = doc.get("payment_instrument_type", "credit_card")
    body: dict[str, Any] = {
        "id": doc["id"],
        "status": doc["status"],
        "type": doc["type"],
        "currency_iso_code": doc.get("currency_iso_code", "USD"),
        "amount": Decimal(doc["amount"]),
        "merchant_account_id": doc.get("merchant_account_id"),
        "sub_merchant_account_id": None,
        "master_merchant_account_id": None,
        "order_id": doc.get("order_id"),
        "created_at": instant(doc["created_at"]),
        "updated_at": instant(doc["updated_at"]),
        "customer": _pick(doc.get("customer"), (*_CUSTOMER_FIELDS, "international_phone")),
        "billing": _pick(doc.get("billing"), (*_ADDRESS_FIELDS, "international_phone")),
        "shipping": _pick(doc.get("shipping"), (*_ADDRESS_FIELDS, "international_phone")),
        "refund_id": (doc.get("refund_ids") or [None])[-1],
        "refund_ids": list(doc.get("refund_ids", [])),
        "refunded_transaction_id": doc.get("refunded_transaction_id"),
        "partial_settlement_transaction_ids": list(doc.get("partial_settlement_transaction_ids", [])),
        "authorized_transaction_id": doc.get("authorized_transaction_id"),
        "settlement_batch_id": doc.get("settlement_batch_id"),
        "custom_fields": dict(doc["custom_fields"]) if doc.get("custom_fields") else "",
        "avs_error_response_code": doc.get("avs_error_response_code"),
        "avs_postal_code_response_code": doc.get("avs_postal_code_response_code"),
        "avs_street_address_response_code": doc.get("avs_street_address_response_code"),
        "cvv_response_code": doc.get("cvv_response_code"),
        "gateway_rejection_reason": doc.get("gateway_rejection_reason"),
        "processor_authorization_code": doc.get("processor_authorization_code"),
        "processor_response_code": doc.get("processor_response_code"),
        "processor_response_text": doc.get("processor_response_text"),
        "processor_response_type": doc.get("processor_response_type"),
        "additional_processor_response": doc.get("additional_processor_response"),
        "network_response_code": doc.get("network_response_code"),
        "network_response_text": doc.get("network_response_text"),
        "network_transaction_id": doc.get("network_transaction_id"),
        "voice_referral_number": None,
        "acquirer_reference_number": None,
        "purchase_order_number": doc.get("purchase_order_number"),
        "tax_amount": _money(doc.get("tax_amount")),
        "tax_exempt": bool(doc.get("tax_exempt", False)),
        "discount_amount": _money(doc.get("discount_amount")),
        "shipping_amount": _money(doc.get("shipping_amount")),
        "shipping_tax_amount": _money(doc.get("shipping_tax_amount")),
        "ships_from_postal_code": doc.get("ships_from_postal_code"),
        "surcharge_amount": _money(doc.get("surcharge_amount")),
        "recurring": bool(doc.get("recurring", False)),
        "channel": doc.get("channel"),
        "retried": False,
        "retry_ids": [],
        "retried_transaction_id": None,
        "processed_with_network_token": False,
        "credit_card": _credit_card(doc.get("credit_card") if kind == "credit_card" else None),
        "status_history": Items("status-event", [_status_event(e) for e in doc.get("status_history", [])]),
        "plan_id": None,
        "subscription_id": None,
        "subscription": {"billing_period_end_date": None, "billing_period_start_date": None},
        "add_ons": [],
        "discounts": [],
        "disputes": [],
        "authorization_adjustments": [],
        "descriptor": _pick(doc.get("descriptor"), ("name", "phone", "url")),
        "disbursement_details": {
            "disbursement_date": date.fromisoformat(doc["disbursement_date"]) if doc.get("disbursement_date") else None,
            "settlement_amount": None,
            "settlement_currency_iso_code": None,
            "settlement_currency_exchange_rate": None,
            "settlement_base_currency_exchange_rate": None,
            "funds_held": None,
            "success": None,
        },
        "payment_instrument_type": kind,
        "processor_settlement_response_code": doc.get("processor_settlement_response_code", ""),
        "processor_settlement_response_text": doc.get("processor_settlement_response_text", ""),
        "three_d_secure_info": None,
        "global_id": doc.get("global_id"),
        "installments": [],
        "refunded_installments": [],
        "payment_receipt": None,
        "sca_exemption_requested": None,
        "merchant_advice_code": None,
        "merchant_advice_code_text": None,
        "debit_network": None,
        "upcoming_retry_date": None,
        "foreign_retailer": doc.get("foreign_retailer"),
        "ach_return_code": None,
        "authorization_expires_at": instant(doc.get("authorization_expires_at")),
        "installment_count": None,
        "retrieval_reference_number": None,
    }
    if kind == "paypal_account":
        body["paypal"] = dict(doc.get("paypal") or {})
    elif kind == "apple_pay_card":
        body["apple_pay"] = _wallet_card(doc.get("credit_card"))
    elif kind == "android_pay_card":
        body["android_pay_card"] = _wallet_card(doc.get("credit_card"), android=True)
    elif kind == "venmo_account":
        body["venmo_account"] = dict(doc.get("venmo_account") or {})
    elif kind == "us_bank_account":
        body["us_bank_account"] = dict(doc.get("us_bank_account") or {})
    return body


def _wallet_card(card: dict[str, Any] | None, android: bool = False) -> dict[str, Any]:
    card = card or {}
    if android:
        # No card_type or last_4: the SDK's AndroidPayCard computes them from the virtual card (read-only
        # properties), and setting them from the reply raises AttributeError in `sale` and `find`.
        return {
            "source_card_type": card.get("card_type"),
            "source_card_last_4": "1111",
            "virtual_card_type": card.get("card_type"),
            "virtual_card_last_4": card.get("last_4"),
            "bin": card.get("bin"),
            "expiration_month": card.get("expiration_month"),
            "expiration_year": card.get("expiration_year"),
            "google_transaction_id": "google_transaction_id",
            "source_description": "Visa 1111",
            "token": None,
            "is_network_tokenized": False,
            "image_url": None,
        }
    return {
        "card_type": card.get("card_type"),
        "last_4": card.get("last_4"),
        "bin": card.get("bin"),
        "expiration_month": card.get("expiration_month"),
        "expiration_year": card.get("expiration_year"),
        "cardholder_name": card.get("cardholder_name"),
        "payment_instrument_name": "AmEx 41002",
        "source_description": "AmEx 41002",
        "token": None,
        "image_url": None,
    }


def customer(doc: dict[str, Any], cards: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body = _pick(doc, _CUSTOMER_FIELDS)
    body.update(
        merchant_id=doc.get("merchant_id"),
        created_at=instant(doc["created_at"]),
        updated_at=instant(doc["updated_at"]),
        custom_fields=dict(doc["custom_fields"]) if doc.get("custom_fields") else "",
        credit_cards=Items("credit-card", [vaulted_card(card) for card in cards or []]),
        addresses=Items("address", [address(item) for item in doc.get("addresses", [])]),
        paypal_accounts=[],
        apple_pay_cards=[],
        android_pay_cards=[],
        venmo_accounts=[],
        us_bank_accounts=[],
        visa_checkout_cards=[],
        samsung_pay_cards=[],
        sepa_debit_accounts=[],
        payment_methods=[],
        global_id=doc.get("global_id"),
    )
    return body


def address(doc: dict[str, Any]) -> dict[str, Any]:
    body = _pick(doc, _ADDRESS_FIELDS)
    body.update(
        customer_id=doc.get("customer_id"),
        created_at=instant(doc.get("created_at")),
        updated_at=instant(doc.get("updated_at")),
    )
    return body


def vaulted_card(card: dict[str, Any]) -> dict[str, Any]:
    """A `<credit-card>` from the vault: the transaction's card shape plus ownership and dates."""
    body = _credit_card(card)
    body.pop("bin_extended", None)
    body.update(
        customer_id=card.get("customer_id"),
        default=bool(card.get("default")),
        created_at=instant(card.get("created_at")),
        updated_at=instant(card.get("updated_at")),
        subscriptions=[],
        verifications=[],
        global_id=card.get("global_id"),
        is_network_tokenized=False,
    )
    if card.get("billing_address"):
        body["billing_address"] = address(card["billing_address"])
    return body


def errors(root: str, by_object: dict[str, list[tuple[str, str, str]]]) -> dict[str, Any]:
    """`<errors>` with the nested shape the SDK walks: {object: {errors: [...], child_object: {...}}}."""
    tree: dict[str, Any] = {"errors": Items("error", [])}
    for path, items in by_object.items():
        node = tree
        for part in (root, *[p for p in path.split(".") if p]):
            node = node.setdefault(part, {"errors": Items("error", [])})
        node["errors"] = Items(
            "error",
            [
                *node["errors"].values,
                *({"code": code, "attribute": attribute, "message": text} for code, attribute, text in items),
            ],
        )
    return tree
