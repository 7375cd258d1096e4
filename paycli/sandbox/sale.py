"""transaction.sale / transaction.credit: validation, authorization by the amount table, the vault.

The order is Braintree's: validate everything and answer 422 with every error at once; then gateway
rejections (a fraud nonce, 5001.00); then the amount decides the processor's answer; then the vault options
(docs/sandbox.md, "What decides an outcome").
"""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from typing import Any

from paycli.sandbox import client_nonces, instruments, level3, limits, nonces, rules, schema, xmlcodec
from paycli.sandbox.cards import auth_code, card_doc, raw_card
from paycli.sandbox.records import new_id, now, stamp, text
from paycli.sandbox.replies import Invalid, Reply, echo, render
from paycli.sandbox.settlement import append_status, submit
from paycli.sandbox.store import Merchant, Store
from paycli.sandbox.vault import ADDRESS_FIELDS, CUSTOMER_FIELDS, Vault, global_id
from paycli.sandbox.writes import IdempotentWrites

Problems = list[tuple[str, str, str]]
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Visa's default authorization window; the sandbox records it but never expires an authorization by itself
# (docs/sandbox.md, "Lifecycle").
AUTHORIZATION_WINDOW = timedelta(days=7)
_PAYPAL_DETAILS = (
    "debug_id",
    "payee_id",
    "payee_email",
    "seller_protection_status",
    "capture_id",
    "refund_id",
    "transaction_fee_amount",
    "transaction_fee_currency_iso_code",
    "description",
    "custom_field",
    "shipping_option_id",
    "cobranded_card_label",
    "implicitly_vaulted_payment_method_token",
    "implicitly_vaulted_payment_method_global_id",
    "refund_from_transaction_fee_amount",
    "refund_from_transaction_fee_currency_iso_code",
    "image_url",
    "token",
)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _flag(value: Any) -> bool:
    return value is True or value == "true"


def _address(fields: dict[str, Any]) -> dict[str, Any]:
    address: dict[str, Any] = {name: text(fields.get(name)) for name in ADDRESS_FIELDS if fields.get(name) is not None}
    if isinstance(fields.get("international_phone"), dict):
        address["international_phone"] = {k: text(v) for k, v in fields["international_phone"].items()}
    return address


class Sales:
    """The sale and credit route; it reaches the vault through `vault` only."""

    def __init__(self, store: Store, writes: IdempotentWrites, vault: Vault) -> None:
        self._store = store
        self._writes = writes
        self._vault = vault

    def create(self, merchant: Merchant, params: dict[str, Any]) -> Reply:
        return self._writes.run(
            merchant, "transaction.create", params, "transaction", lambda db: self._create(db, merchant, params)
        )

    def _create(self, db: sqlite3.Connection, merchant: Merchant, params: dict[str, Any]) -> Reply:
        try:
            doc, authorization = self._build_transaction(db, merchant, params)
        except Invalid as invalid:
            return invalid.reply(params)
        self._store.insert_transaction(db, merchant.id, doc)
        body = schema.transaction(doc)
        if authorization.ok:
            return render(201, "transaction", body)
        if authorization.status == "gateway_rejected":
            message = f"Gateway Rejected: {authorization.rejection}"
        else:
            message = authorization.text or "Declined"
        return render(
            422,
            "api_error_response",
            {
                "errors": {"errors": xmlcodec.Items("error", [])},
                "params": {"transaction": echo(params)},
                "message": message,
                "transaction": body,
            },
        )

    def _validate(
        self, db: sqlite3.Connection, merchant: Merchant, params: dict[str, Any], problems: Problems
    ) -> tuple[str, list[str]]:
        kind = params.get("type")
        if not kind:
            problems.append(("", "91524", "type"))
        elif kind not in ("sale", "credit"):
            problems.append(("", "91523", "type"))
        amount_code = rules.amount_error(params.get("amount"))
        if amount_code:
            problems.append(("", amount_code, "amount"))
        account = text(params.get("merchant_account_id")) or merchant.default_account
        if account not in merchant.accounts:
            problems.append(("", "91513", "merchant_account_id"))
        order_id = text(params.get("order_id"))
        if order_id and len(order_id) > 255:
            problems.append(("", "91501", "order_id"))
        custom_problems, names = limits.custom_fields("", params.get("custom_fields"), limits.TRANSACTION_CUSTOM_FIELDS)
        problems += custom_problems
        customer_params = _dict(params.get("customer"))
        problems += limits.too_long("", params, limits.TRANSACTION_TOO_LONG)
        problems += limits.too_long("customer", customer_params, limits.CUSTOMER_TOO_LONG)
        problems += limits.custom_fields(
            "customer", customer_params.get("custom_fields"), limits.CUSTOMER_CUSTOM_FIELDS
        )[0]
        for side in ("billing", "shipping"):
            problems += limits.too_long(side, params.get(side), limits.ADDRESS_TOO_LONG)
        problems += limits.too_long(
            "credit_card",
            params.get("credit_card"),
            {"cardholder_name": limits.CARDHOLDER_NAME_TOO_LONG},
            limits.CARDHOLDER_NAME_MAX,
        )
        email = text(customer_params.get("email"))
        if email and not _EMAIL.fullmatch(email):
            problems.append(("customer", "81604", "email"))
        new_customer_id = text(customer_params.get("id"))
        if (
            new_customer_id
            and _flag(_dict(params.get("options")).get("store_in_vault"))
            and self._store.customer(db, merchant.id, new_customer_id) is not None
        ):
            problems.append(("customer", "91609", "id"))
        problems += level3.transaction_fields(params)
        return account, names

    def _build_transaction(
        self,
        db: sqlite3.Connection,
        merchant: Merchant,
        params: dict[str, Any],
    ) -> tuple[dict[str, Any], rules.Authorization]:
        problems: Problems = []
        account, names = self._validate(db, merchant, params, problems)
        customer_id = text(params.get("customer_id"))
        vault_customer = self._store.customer(db, merchant.id, customer_id) if customer_id else None
        if customer_id and vault_customer is None:
            problems.append(("", "91510", "customer_id"))
        instrument, card, vaulted = self._payment_method(db, merchant, params, account, vault_customer, problems)
        if problems:
            raise Invalid("transaction", *problems, names=", ".join(names))
        nonce = text(params.get("payment_method_nonce"))
        if nonce:  # in the sale's own write: two sales racing for one nonce cannot both spend it
            self._store.consume_client_nonce(db, merchant.id, nonce, stamp(now()))

        kind = params["type"]
        amount = rules.to_amount(params["amount"])
        options = _dict(params.get("options"))
        card_params = _dict(params.get("credit_card"))
        partial_ok = _flag(params.get("accept_partial_authorization")) or _flag(
            options.get("accept_partial_authorization")
        )
        if kind == "credit":
            authorization = rules.Authorization("authorized", *rules.APPROVED)
        else:
            authorization = rules.authorize(
                amount, rejection=instrument.rejection, partial_ok=partial_ok, instrument_kind=instrument.kind
            )
        if vaulted and vault_customer is None:
            vault_customer = self._store.customer(db, merchant.id, vaulted["customer_id"])
        billing = _address(_dict(params.get("billing")))
        shipping = _address(_dict(params.get("shipping")))
        owner = vault_customer["id"] if vault_customer else None
        for side, key in ((billing, "billing_address_id"), (shipping, "shipping_address_id")):
            found = self._vault.address(db, merchant, owner, text(params.get(key)))
            if found:
                side.update({name: found.get(name) for name in ("id", *ADDRESS_FIELDS)})
        if options.get("skip_avs") in (True, "true"):
            avs_error, avs_postal, avs_street = None, "B", "B"
        else:
            avs_error, avs_postal, avs_street = rules.avs_responses(
                billing.get("postal_code"), billing.get("street_address")
            )
        cvv = "B" if _flag(options.get("skip_cvv")) else rules.cvv_response(text(card_params.get("cvv")))
        moment = now()
        txn_id = new_id()
        while self._store.transaction_exists(db, txn_id):
            txn_id = new_id()
        customer_params = _dict(params.get("customer"))
        customer: dict[str, Any] = {name: text(customer_params.get(name)) for name in CUSTOMER_FIELDS}
        if isinstance(customer_params.get("international_phone"), dict):
            customer["international_phone"] = dict(customer_params["international_phone"])
        if vault_customer:
            customer = {name: vault_customer.get(name) for name in CUSTOMER_FIELDS}
            customer["id"] = vault_customer["id"]
        if options.get("credit_card") and _dict(options["credit_card"]).get("account_type") and card:
            card["account_type"] = text(options["credit_card"]["account_type"])
        source = text(params.get("transaction_source"))
        doc: dict[str, Any] = {
            "id": txn_id,
            "type": kind,
            "status": authorization.status,
            "amount": str(amount),
            "currency_iso_code": merchant.accounts.get(account, "USD"),
            "merchant_account_id": account,
            "order_id": text(params.get("order_id")),
            "created_at": stamp(moment),
            "updated_at": stamp(moment),
            "customer": customer,
            "customer_id": customer.get("id"),
            "billing": billing,
            "shipping": shipping,
            "custom_fields": {
                k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in _dict(params.get("custom_fields")).items()
            },
            "payment_instrument_type": instrument.kind,
            "credit_card": card,
            "processor_response_code": authorization.code,
            "processor_response_text": authorization.text,
            "processor_response_type": authorization.response_type,
            "additional_processor_response": authorization.additional,
            "gateway_rejection_reason": authorization.rejection,
            "processor_authorization_code": auth_code() if authorization.ok else None,
            "network_response_code": "XX" if authorization.ok else None,
            "network_response_text": "sample network response text" if authorization.ok else None,
            "network_transaction_id": moment.strftime("0%Y%m%d%H%M%S") if authorization.ok else None,
            "avs_error_response_code": avs_error,
            "avs_postal_code_response_code": avs_postal,
            "avs_street_address_response_code": avs_street,
            "cvv_response_code": cvv,
            "refund_ids": [],
            "status_history": [],
            "authorized_amount": str(amount),
            "authorization_expires_at": stamp(moment + AUTHORIZATION_WINDOW)
            if authorization.ok and kind == "sale"
            else None,
            "tax_exempt": _flag(params.get("tax_exempt")),
            "channel": text(params.get("channel")),
            "recurring": _flag(params.get("recurring")) or source in level3.RECURRING_SOURCES,
            "transaction_source": source,
            "foreign_retailer": _flag(params.get("foreign_retailer")) or None,
            "descriptor": _dict(params.get("descriptor")),
            "line_items": level3.line_item_docs(params.get("line_items")),
            "global_id": global_id("transaction", txn_id),
        }
        for name in (
            "purchase_order_number",
            "tax_amount",
            "discount_amount",
            "shipping_amount",
            "shipping_tax_amount",
            "ships_from_postal_code",
            "surcharge_amount",
        ):
            doc[name] = text(params.get(name))
        self._wallet_details(doc, instrument, params)
        if _flag(options.get("store_in_vault")) or (
            _flag(options.get("store_in_vault_on_success")) and authorization.ok
        ):
            self._store_in_vault(db, merchant, doc, params, options, vault_customer, vaulted)
        append_status(doc, authorization.status, amount, moment)
        if kind == "credit" or (authorization.ok and _flag(options.get("submit_for_settlement"))):
            submit(doc, amount, moment)
        return doc, authorization

    @staticmethod
    def _wallet_details(doc: dict[str, Any], instrument: instruments.Instrument, params: dict[str, Any]) -> None:
        txn_id = doc["id"].upper()
        if instrument.kind == instruments.PAYPAL:
            paypal_options = _dict(_dict(params.get("options")).get("paypal"))
            doc["paypal"] = {name: None for name in _PAYPAL_DETAILS}
            doc["paypal"].update(
                payer_email="payer@example.com",
                payment_id=f"PAY-{txn_id}",
                authorization_id=f"AUTH-{txn_id}",
                payer_id="PAYER",
                payer_first_name="Some",
                payer_last_name="Buyer",
                payer_status="VERIFIED",
                payee_email=text(paypal_options.get("payee_email")),
                custom_field=text(paypal_options.get("custom_field")),
                description=text(paypal_options.get("description")),
            )
        elif instrument.kind == instruments.VENMO:
            doc["venmo_account"] = {
                "username": "venmojoe",
                "venmo_user_id": "1234567891234567891",
                "token": None,
                "image_url": None,
                "source_description": "Venmo Account: venmojoe",
            }

    def _payment_method(
        self,
        db: sqlite3.Connection,
        merchant: Merchant,
        params: dict[str, Any],
        account: str,
        vault_customer: dict[str, Any] | None,
        problems: Problems,
    ) -> tuple[instruments.Instrument, dict[str, Any], dict[str, Any] | None]:
        """(instrument, the transaction's card details, the vaulted card used, if any)."""
        nonce = text(params.get("payment_method_nonce"))
        card = params.get("credit_card") if isinstance(params.get("credit_card"), dict) else None
        token = text(params.get("payment_method_token"))
        given = [
            name for name, value in (("nonce", nonce), ("card", card and card.get("number")), ("token", token)) if value
        ]
        if len(given) > 1:
            problems.append(("", "91549", "base"))
            return instruments.Instrument(), {}, None
        issued = self._store.client_nonce(db, merchant.id, nonce) if nonce else None
        if issued is not None:  # a card tokenized by the client API: single use, then it pays like the card
            spent, consumed_at = issued
            if consumed_at:
                problems.append(("", "91564", "payment_method_nonce"))
                return instruments.Instrument(), {}, None
            token = token or text(spent.get("payment_method_token"))
            if not token:
                instrument, details = client_nonces.card_for_sale(spent, problems)
                return instrument, details, None
        elif nonce:
            try:
                instrument = nonces.instrument_for_nonce(nonce)
            except nonces.NonceError as err:
                problems.append(("", err.code, "payment_method_nonce"))
                return instruments.Instrument(), {}, None
            if instrument.validation:
                problems.append(("credit_card", instrument.validation, "number"))
            if instrument.needs_account and instrument.needs_account not in account:
                problems.append(("", "91577", "base"))
            details = card_doc(instrument.card, card or {}) if instrument.card else {}
            return instrument, details, None
        vaulted = None
        if token:
            vaulted = self._store.payment_method(db, merchant.id, token)
            if vaulted is None:
                problems.append(("", "91518", "payment_method_token"))
            elif vault_customer and vaulted["customer_id"] != vault_customer["id"]:
                problems.append(("", "91516", "base"))
        elif vault_customer and not (card and card.get("number")):
            vaulted = self._vault.default_card(db, merchant, vault_customer["id"])
            if vaulted is None:
                problems.append(("", "91511", "customer_id"))
        if token or vaulted:
            if vaulted is None:
                return instruments.Instrument(), {}, None
            details = {
                key: value
                for key, value in vaulted.items()
                if key not in ("billing_address", "default", "created_at", "updated_at", "global_id")
            }
            brand = instruments.Card(vaulted["bin"], vaulted["last_4"], vaulted["card_type"])
            return instruments.Instrument(card=brand), details, vaulted
        if card is None:
            problems.append(("", "91508", "base"))
            return instruments.Instrument(), {}, None
        instrument, details = raw_card(card, problems)
        number = re.sub(r"\D", "", str(card.get("number") or ""))
        if details and len(number) >= 16:
            details["bin_extended"] = number[:8]
        return instrument, details, None

    def _store_in_vault(
        self,
        db: sqlite3.Connection,
        merchant: Merchant,
        doc: dict[str, Any],
        params: dict[str, Any],
        options: dict[str, Any],
        vault_customer: dict[str, Any] | None,
        vaulted: dict[str, Any] | None,
    ) -> None:
        """store_in_vault(_on_success): the customer (new unless customer_id named one) and the card."""
        customer = vault_customer or self._vault.new_customer(db, merchant, _dict(params.get("customer")))
        doc["customer"] = {name: customer.get(name) for name in CUSTOMER_FIELDS}
        doc["customer"]["id"] = doc["customer_id"] = customer["id"]
        billing_address = None
        if _flag(options.get("add_billing_address_to_payment_method")) and doc["billing"]:
            billing_address = self._vault.add_address(db, merchant, customer, doc["billing"])
            doc["billing"]["id"] = billing_address["id"]
        if _flag(options.get("store_shipping_address_in_vault")) and doc["shipping"]:
            doc["shipping"]["id"] = self._vault.add_address(db, merchant, customer, doc["shipping"])["id"]
        card = doc.get("credit_card")
        if vaulted is None and card and doc["payment_instrument_type"] == instruments.CREDIT_CARD:
            token = text(_dict(params.get("credit_card")).get("token"))
            stored = self._vault.vault_card(db, merchant, customer["id"], card, token, billing_address)
            card["token"] = stored["token"]
