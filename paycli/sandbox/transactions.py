"""Transactions after the sale: find (with its render cache), submit, partial settlement, void, refund.

Which status may be voided or refunded, and which refund amounts the processor declines, come from
`rules` (docs/sandbox.md, "Lifecycle"); every change runs in the idempotent write frame.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from paycli.braintree_facts import NOT_REFUNDED_STATUSES
from paycli.sandbox import rules, schema, xmlcodec
from paycli.sandbox.cards import auth_code as _auth_code
from paycli.sandbox.records import new_id as _new_id
from paycli.sandbox.records import now, stamp
from paycli.sandbox.records import text as _text
from paycli.sandbox.replies import NOT_FOUND, Invalid, Reply
from paycli.sandbox.replies import echo as _echo
from paycli.sandbox.replies import render as _render
from paycli.sandbox.settlement import append_status, submit
from paycli.sandbox.store import Merchant, Store
from paycli.sandbox.vault import global_id
from paycli.sandbox.writes import IdempotentWrites

RENDER_CACHE_SIZE = 512
Change = Callable[[sqlite3.Connection, dict[str, Any]], Reply]


class RenderCache:
    """Rendered find replies keyed by the stored transaction's JSON text.

    Rendering is most of a find's cost; the stored document text is an exact cache key, so a change made by
    any process (or a reset) can never be served stale. Server threads share it: evicting is a
    read-then-delete, hence the lock.
    """

    def __init__(self, size: int = RENDER_CACHE_SIZE) -> None:
        self.size = size
        self.entries: dict[str, Reply] = {}
        self._lock = threading.Lock()

    def reply(self, stored: str) -> Reply:
        reply = self.entries.get(stored)
        if reply is None:
            reply = _render(200, "transaction", schema.transaction(json.loads(stored)))
            with self._lock:
                if len(self.entries) >= self.size:
                    self.entries.pop(next(iter(self.entries)))
                self.entries[stored] = reply
        return reply


class Transactions:
    """The routes on one existing transaction."""

    def __init__(self, store: Store, writes: IdempotentWrites, settle_due: Callable[[Merchant], None]) -> None:
        self._store = store
        self._writes = writes
        self._settle_due = settle_due  # a find sees what the nightly cutoff has settled
        self.rendered = RenderCache()

    # read ------------------------------------------------------------------

    def find(self, merchant: Merchant, txn_id: str) -> Reply:
        self._settle_due(merchant)
        stored = self._store.transaction_text(self._store.read(), merchant.id, txn_id)
        if stored is None:
            return NOT_FOUND
        return self.rendered.reply(stored)

    # lifecycle ---------------------------------------------------------------

    def _change(self, merchant: Merchant, txn_id: str, route: str, params: dict[str, Any], change: Change) -> Reply:
        def action(db: sqlite3.Connection) -> Reply:
            doc = self._store.transaction(db, merchant.id, txn_id)
            if doc is None:
                return NOT_FOUND
            return change(db, doc)

        return self._writes.run(merchant, f"{route}:{txn_id}", params, "transaction", action)

    def submit_for_settlement(self, merchant: Merchant, txn_id: str, params: dict[str, Any]) -> Reply:
        def change(db: sqlite3.Connection, doc: dict[str, Any]) -> Reply:
            if doc["status"] != "authorized":
                return Invalid("transaction", ("", "91507", "base")).reply(params)
            amount = _requested_amount(
                params,
                default=Decimal(doc["amount"]),
                limit=Decimal(doc.get("authorized_amount", doc["amount"])),
                too_large="91522",
            )
            if isinstance(amount, Invalid):
                return amount.reply(params)
            for name in ("order_id", "purchase_order_number", "tax_amount"):
                if _text(params.get(name)):
                    doc[name] = _text(params.get(name))
            if isinstance(params.get("descriptor"), dict):
                doc["descriptor"] = params["descriptor"]
            doc["amount"] = str(amount)
            submit(doc, amount, now())
            self._store.update_transaction(db, merchant.id, doc)
            return _render(200, "transaction", schema.transaction(doc))

        return self._change(merchant, txn_id, "submit", params, change)

    def submit_for_partial_settlement(self, merchant: Merchant, txn_id: str, params: dict[str, Any]) -> Reply:
        """A child sale captures part of an authorization; the parent waits in settlement_pending
        until a capture marked final_capture (or one reaching the authorized amount) closes it."""

        def change(db: sqlite3.Connection, parent: dict[str, Any]) -> Reply:
            if (
                parent["type"] != "sale"
                or parent.get("authorized_transaction_id")
                or parent.get("final_captured")
                or parent["status"] not in ("authorized", "settlement_pending")
            ):
                return Invalid("transaction", ("", "915103", "base")).reply(params)
            code = rules.amount_error(params.get("amount"))
            if code:
                return Invalid("transaction", ("", code, "amount")).reply(params)
            amount = rules.to_amount(params["amount"])
            captured = sum(
                (
                    Decimal(child["amount"])
                    for child in self._store.transactions_by_ids(
                        merchant.id, parent.get("partial_settlement_transaction_ids", [])
                    )
                ),
                Decimal("0"),
            )
            if captured + amount > Decimal(parent.get("authorized_amount", parent["amount"])):
                return Invalid("transaction", ("", "91522", "amount")).reply(params)
            moment = now()
            child_id = _new_id()
            while self._store.transaction_exists(db, child_id):
                child_id = _new_id()
            child = {
                key: value
                for key, value in parent.items()
                if key not in ("partial_settlement_transaction_ids", "refund_ids", "status_history", "final_captured")
            }
            child.update(
                id=child_id,
                amount=str(amount),
                authorized_transaction_id=parent["id"],
                refund_ids=[],
                status_history=[],
                created_at=stamp(moment),
                global_id=global_id("transaction", child_id),
            )
            for name in ("order_id", "purchase_order_number", "tax_amount", "shipping_amount", "discount_amount"):
                if _text(params.get(name)):
                    child[name] = _text(params.get(name))
            if isinstance(params.get("descriptor"), dict):
                child["descriptor"] = params["descriptor"]
            submit(child, amount, moment)
            self._store.insert_transaction(db, merchant.id, child)
            parent["partial_settlement_transaction_ids"] = [
                *parent.get("partial_settlement_transaction_ids", []),
                child_id,
            ]
            if params.get("final_capture") in (True, "true") or captured + amount == Decimal(parent["amount"]):
                parent["final_captured"] = True
            if parent["status"] != "settlement_pending":
                append_status(parent, "settlement_pending", Decimal(parent["amount"]), moment)
            parent["updated_at"] = stamp(moment)
            self._store.update_transaction(db, merchant.id, parent)
            return _render(201, "transaction", schema.transaction(child))

        return self._change(merchant, txn_id, "partial", params, change)

    def line_items(self, merchant: Merchant, txn_id: str) -> Reply:
        doc = self._store.transaction(self._store.read(), merchant.id, txn_id)
        if doc is None:
            return NOT_FOUND
        return _render(200, "line_items", xmlcodec.Items("line-item", doc.get("line_items", [])))

    def void(self, merchant: Merchant, txn_id: str, params: dict[str, Any]) -> Reply:
        def change(db: sqlite3.Connection, doc: dict[str, Any]) -> Reply:
            if not rules.can_void(doc["status"], doc.get("payment_instrument_type", "")):
                return Invalid("transaction", ("", "91504", "base")).reply(params)
            moment = now()
            append_status(doc, "voided", Decimal(doc["amount"]), moment)
            self._store.update_transaction(db, merchant.id, doc)
            return _render(200, "transaction", schema.transaction(doc))

        return self._change(merchant, txn_id, "void", params, change)

    def refund(self, merchant: Merchant, txn_id: str, params: dict[str, Any]) -> Reply:
        def change(db: sqlite3.Connection, original: dict[str, Any]) -> Reply:
            kind = original.get("payment_instrument_type", "")
            if original["type"] == "credit":
                return Invalid("transaction", ("", "91505", "base")).reply(params)
            if not rules.can_refund(original["status"], kind):
                return Invalid("transaction", ("", "91506", "base")).reply(params)
            remaining = self._refundable(db, merchant, original)
            if remaining <= 0:
                return Invalid("transaction", ("", "91512", "base")).reply(params)
            amount = _requested_amount(params, default=remaining, limit=remaining, too_large="91521")
            if isinstance(amount, Invalid):
                return amount.reply(params)
            account = _text(params.get("merchant_account_id")) or original.get("merchant_account_id")
            if account not in merchant.accounts:
                return Invalid("transaction", ("", "91513", "merchant_account_id")).reply(params)
            authorization = rules.refund_authorization(amount)
            moment = now()
            refund_id = _new_id()
            while self._store.transaction_exists(db, refund_id):
                refund_id = _new_id()
            credit = {
                key: original.get(key)
                for key in (
                    "currency_iso_code",
                    "merchant_account_id",
                    "customer",
                    "customer_id",
                    "billing",
                    "shipping",
                    "payment_instrument_type",
                    "credit_card",
                    "paypal",
                    "venmo_account",
                    "custom_fields",
                    "descriptor",
                )
            }
            credit.update(
                {
                    "id": refund_id,
                    "type": "credit",
                    "status": authorization.status,
                    "amount": str(amount),
                    "order_id": _text(params.get("order_id")) or original.get("order_id"),
                    "created_at": stamp(moment),
                    "updated_at": stamp(moment),
                    "refunded_transaction_id": original["id"],
                    "refund_ids": [],
                    "status_history": [],
                    "merchant_account_id": account,
                    "processor_response_code": authorization.code,
                    "processor_response_text": authorization.text,
                    "processor_response_type": authorization.response_type,
                    "additional_processor_response": "2046 : Declined"
                    if authorization.code == "1005"
                    else authorization.additional,
                    "processor_authorization_code": _auth_code() if authorization.ok else None,
                    "authorized_amount": str(amount),
                    "global_id": global_id("transaction", refund_id),
                }
            )
            append_status(credit, authorization.status, amount, moment)
            if authorization.ok:
                submit(credit, amount, moment)
            self._store.insert_transaction(db, merchant.id, credit)
            original["refund_ids"] = [*original.get("refund_ids", []), refund_id]
            original["updated_at"] = stamp(moment)
            self._store.update_transaction(db, merchant.id, original)
            body = schema.transaction(credit)
            if authorization.ok:
                return _render(201, "transaction", body)
            return _render(
                422,
                "api_error_response",
                {
                    "errors": {"errors": xmlcodec.Items("error", [])},
                    "params": {"transaction": _echo(params)},
                    "message": authorization.text,
                    "transaction": body,
                },
            )

        return self._change(merchant, txn_id, "refund", params, change)

    def _refundable(self, db: sqlite3.Connection, merchant: Merchant, original: dict[str, Any]) -> Decimal:
        refunded = Decimal("0")
        for refund_id in original.get("refund_ids", []):
            refund = self._store.transaction(db, merchant.id, refund_id)
            if refund and refund["status"] not in NOT_REFUNDED_STATUSES:
                refunded += Decimal(refund["amount"])
        return Decimal(original["amount"]) - refunded


def _requested_amount(
    params: dict[str, Any],
    *,
    default: Decimal,
    limit: Decimal,
    too_large: str,
) -> Decimal | Invalid:
    """The request's amount (an empty one means `default`), or its validation error: 815xx, or
    `too_large` (91521 refund, 91522 settlement) above `limit`."""
    raw = params.get("amount")
    if raw in (None, ""):
        return default
    code = rules.amount_error(raw)
    if code:
        return Invalid("transaction", ("", code, "amount"))
    amount = rules.to_amount(raw)
    return Invalid("transaction", ("", too_large, "amount")) if amount > limit else amount
