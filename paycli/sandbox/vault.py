"""The vault: customers, their addresses and their stored credit cards.

Customer ids are numeric unless given (Braintree's generated ids are digits); card tokens and address ids are
short alphanumerics. A transaction reaches the vault through `payment_method_token`, `customer_id`
(the customer's default card), `billing_address_id` / `shipping_address_id`, and the options
`store_in_vault`, `store_in_vault_on_success`, `add_billing_address_to_payment_method` and
`store_shipping_address_in_vault`.
"""

from __future__ import annotations

import base64
import re
import sqlite3
from typing import Any

from paycli.sandbox import limits, schema
from paycli.sandbox.cards import raw_card
from paycli.sandbox.records import new_id, new_numeric_id, now, stamp, text
from paycli.sandbox.replies import NOT_FOUND, Invalid, Reply, render
from paycli.sandbox.store import Merchant, Store
from paycli.sandbox.writes import IdempotentWrites

ADDRESS_FIELDS = schema.ADDRESS_FIELDS
CUSTOMER_FIELDS = ("first_name", "last_name", "company", "email", "website", "phone", "fax")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CUSTOMER_ID = re.compile(r"[\w-]{1,36}")
_TOKEN = re.compile(r"[\w-]{1,36}")


def global_id(kind: str, ident: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}_{ident}".encode()).decode().rstrip("=")


class Vault:
    """The vault's routes, and the vault steps a sale or a tokenized card takes (new customer, address, card)."""

    def __init__(self, store: Store, writes: IdempotentWrites) -> None:
        self._store = store
        self._writes = writes

    # customers --------------------------------------------------------------------------

    def create_customer(self, merchant: Merchant, params: dict[str, Any]) -> Reply:
        def action(db: sqlite3.Connection) -> Reply:
            problems = self._customer_problems(db, merchant, params)
            card_params = params.get("credit_card") if isinstance(params.get("credit_card"), dict) else None
            card = None
            if card_params and card_params.get("number"):
                _, card = raw_card(card_params, problems)
                token = text(card_params.get("token"))
                if token and (not _TOKEN.fullmatch(token) or self._store.payment_method(db, merchant.id, token)):
                    problems.append(("credit_card", "91719" if _TOKEN.fullmatch(token) else "91718", "token"))
            if problems:
                return Invalid("customer", *problems).reply(params)
            customer = self.new_customer(db, merchant, params)
            if card is not None and card_params is not None:
                billing = card_params.get("billing_address")
                address = self.add_address(db, merchant, customer, billing) if isinstance(billing, dict) else None
                self.vault_card(db, merchant, customer["id"], card, text(card_params.get("token")), address)
            return render(201, "customer", self.customer_body(db, merchant, customer))

        return self._writes.run(merchant, "customer.create", params, "customer", action)

    def _customer_problems(
        self,
        db: sqlite3.Connection,
        merchant: Merchant,
        params: dict[str, Any],
    ) -> list[tuple[str, str, str]]:
        problems = []
        customer_id = text(params.get("id"))
        if customer_id and not _CUSTOMER_ID.fullmatch(customer_id):
            problems.append(("", "91610", "id"))
        elif customer_id and self._store.customer(db, merchant.id, customer_id) is not None:
            problems.append(("", "91609", "id"))
        email = text(params.get("email"))
        if email and not _EMAIL.fullmatch(email):
            problems.append(("", "81604", "email"))
        problems += limits.too_long("", params, limits.CUSTOMER_TOO_LONG)
        problems += limits.custom_fields("", params.get("custom_fields"), limits.CUSTOMER_CUSTOM_FIELDS)[0]
        card = params.get("credit_card")
        problems += limits.too_long(
            "credit_card", card, {"cardholder_name": limits.CARDHOLDER_NAME_TOO_LONG}, limits.CARDHOLDER_NAME_MAX
        )
        if isinstance(card, dict):
            problems += limits.too_long(
                "credit_card.billing_address", card.get("billing_address"), limits.ADDRESS_TOO_LONG
            )
        return problems

    def new_customer(self, db: sqlite3.Connection, merchant: Merchant, params: dict[str, Any]) -> dict[str, Any]:
        customer_id = text(params.get("id")) or new_numeric_id()
        while self._store.customer(db, merchant.id, customer_id) is not None:
            customer_id = new_numeric_id()
        moment = stamp(now())
        doc: dict[str, Any] = {name: text(params.get(name)) for name in CUSTOMER_FIELDS}
        custom = params.get("custom_fields")
        doc.update(
            id=customer_id,
            merchant_id=merchant.id,
            created_at=moment,
            updated_at=moment,
            custom_fields={name: text(value) for name, value in custom.items()} if isinstance(custom, dict) else {},
            addresses=[],
            global_id=global_id("customer", customer_id),
        )
        self._store.put_customer(db, merchant.id, doc)
        return doc

    def customer_body(self, db: sqlite3.Connection, merchant: Merchant, doc: dict[str, Any]) -> dict[str, Any]:
        cards = self._store.customer_payment_methods(db, merchant.id, doc["id"])
        return schema.customer(doc, cards)

    def find_customer(self, merchant: Merchant, customer_id: str) -> Reply:
        db = self._store.read()
        doc = self._store.customer(db, merchant.id, customer_id)
        return render(200, "customer", self.customer_body(db, merchant, doc)) if doc else NOT_FOUND

    def delete_customer(self, merchant: Merchant, customer_id: str) -> Reply:
        with self._store.write() as db:
            if not self._store.delete_customer(db, merchant.id, customer_id):
                return NOT_FOUND
            self._store.delete_payment_methods(db, merchant.id, customer_id)
            return Reply(200)

    # addresses --------------------------------------------------------------------------

    def add_address(
        self, db: sqlite3.Connection, merchant: Merchant, customer: dict[str, Any], fields: dict[str, Any]
    ) -> dict[str, Any]:
        taken = {address["id"] for address in customer.get("addresses", [])}
        address_id = new_id()[:2]
        while address_id in taken:
            address_id = new_id()[:2]
        moment = stamp(now())
        address = {"id": address_id, "customer_id": customer["id"], "created_at": moment, "updated_at": moment}
        address.update({name: text(fields.get(name)) for name in ADDRESS_FIELDS})
        customer.setdefault("addresses", []).append(address)
        self._store.put_customer(db, merchant.id, customer)
        return address

    def create_address(self, merchant: Merchant, customer_id: str, params: dict[str, Any]) -> Reply:
        def action(db: sqlite3.Connection) -> Reply:
            customer = self._store.customer(db, merchant.id, customer_id)
            if customer is None:
                return NOT_FOUND
            problems = limits.too_long("", params, limits.ADDRESS_TOO_LONG)
            if problems:
                return Invalid("address", *problems).reply(params)
            return render(201, "address", schema.address(self.add_address(db, merchant, customer, params)))

        return self._writes.run(merchant, f"address.create:{customer_id}", params, "address", action)

    def find_address(self, merchant: Merchant, customer_id: str, address_id: str) -> Reply:
        address = self.address(self._store.read(), merchant, customer_id, address_id)
        return render(200, "address", schema.address(address)) if address else NOT_FOUND

    def address(
        self, db: sqlite3.Connection, merchant: Merchant, customer_id: str | None, address_id: str | None
    ) -> dict[str, Any] | None:
        customer = self._store.customer(db, merchant.id, customer_id) if customer_id else None
        for address in (customer or {}).get("addresses", []):
            if address["id"] == address_id:
                return address
        return None

    # credit cards -----------------------------------------------------------------------

    def vault_card(
        self,
        db: sqlite3.Connection,
        merchant: Merchant,
        customer_id: str,
        card: dict[str, Any],
        token: str | None,
        billing_address: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Store a card for a customer; the first card becomes the default."""
        token = token or new_id()
        while not text(token) or self._store.payment_method(db, merchant.id, token) is not None:
            token = new_id()
        moment = stamp(now())
        existing = self._store.customer_payment_methods(db, merchant.id, customer_id)
        stored = {key: value for key, value in card.items() if key != "bin_extended"}
        stored.update(
            token=token,
            customer_id=customer_id,
            default=not existing,
            created_at=moment,
            updated_at=moment,
            billing_address=billing_address,
            global_id=global_id("paymentmethod", token),
        )
        self._store.put_payment_method(db, merchant.id, stored)
        return stored

    def find_credit_card(self, merchant: Merchant, token: str) -> Reply:
        card = self._store.payment_method(self._store.read(), merchant.id, token)
        return render(200, "credit_card", schema.vaulted_card(card)) if card else NOT_FOUND

    def default_card(self, db: sqlite3.Connection, merchant: Merchant, customer_id: str) -> dict[str, Any] | None:
        cards = self._store.customer_payment_methods(db, merchant.id, customer_id)
        return next((card for card in cards if card.get("default")), cards[0] if cards else None)
