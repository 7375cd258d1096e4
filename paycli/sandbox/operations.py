"""Braintree's operations over the store: decoded request params in, a rendered reply out.

Each public method is one API route. Rules (which amount declines, which status may be voided)
come from `rules`; persistence from `store`; shapes from `schema`. Mutations run inside one
IMMEDIATE transaction together with their `api_request_key` record, so a replay — even one racing
the original from another process — returns the first answer and changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import sqlite3
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable
from zoneinfo import ZoneInfo

from paycli.braintree_facts import IN_BATCH_STATUSES, NOT_REFUNDED_STATUSES, SEARCH_CAP, SEARCH_PAGE_SIZE
from paycli.sandbox import rules, schema, xmlcodec
from paycli.sandbox.search import matches, narrowing
from paycli.sandbox.store import Merchant, Store
from paycli.sandbox.sale import Sales
from paycli.sandbox.vault import global_id
from paycli.sandbox.cards import auth_code as _auth_code
from paycli.sandbox.records import new_id as _new_id, now, stamp, text as _text
from paycli.sandbox.replies import NOT_FOUND, Invalid, Reply, echo as _echo, render as _render

MAX_API_REQUEST_KEY = 255
_RENDER_CACHE_SIZE = 512
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.IGNORECASE)


class Sandbox(Sales):
    """The gateway's behaviour for every merchant in one store."""

    webhooks: Any = None  # a sandbox.webhooks.WebhookSender (`serve --webhook-url`), told of every settlement

    def __init__(self, store: Store, *, search_cap: int = SEARCH_CAP) -> None:
        self.store = store
        self.search_cap = search_cap
        self._rendered: dict[str, Reply] = {}  # stored transaction JSON → rendered find reply

    # authentication ----------------------------------------------------------------------

    def authenticate(self, merchant_id: str, public_key: str, private_key: str) -> Merchant | None:
        merchant = self.store.merchant(merchant_id)
        if merchant is None or not secrets.compare_digest(merchant.public_key, public_key) \
                or not secrets.compare_digest(merchant.private_key, private_key):
            return None
        return merchant

    # idempotent mutation frame -------------------------------------------------------------

    def _mutate(self, merchant: Merchant, route: str, params: dict[str, Any], root: str,
                action: Callable[[sqlite3.Connection], Reply]) -> Reply:
        key = _text(params.get("api_request_key"))
        if key and len(key) > MAX_API_REQUEST_KEY:
            return Invalid(root, ("", "915230", "api_request_key")).reply(params)
        fingerprint = hashlib.sha256(
            json.dumps([route, {k: v for k, v in params.items() if k != "api_request_key"}],
                       sort_keys=True, default=str).encode()
        ).hexdigest()
        self.settle_due(merchant)
        with self.store.write() as db:
            if key:
                prior = self.store.idempotent_reply(db, merchant.id, key)
                if prior is not None:
                    if prior[0] != fingerprint:
                        return Invalid(root, ("", "915232", "api_request_key")).reply(params)
                    return Reply(prior[1], prior[2])
            reply = action(db)
            if key:
                self.store.remember_reply(db, merchant.id, key, fingerprint, reply.status, reply.body)
            return reply

    # client tokens -------------------------------------------------------------------------

    def client_token(self, merchant: Merchant, params: dict[str, Any], base_url: str) -> Reply:
        version = params.get("version") or 2
        customer_id = _text(params.get("customer_id"))
        account = _text(params.get("merchant_account_id"))
        domains = params.get("domains") or []
        error = None
        if version not in (1, 2, 3):
            error = "92806"
        elif customer_id and self.store.customer(self.store.read(), merchant.id, customer_id) is None:
            error = "92804"
        elif account and account not in merchant.accounts:
            error = "92807"
        elif len(domains) > 5:
            error = "92810"
        elif any(not _DOMAIN.match(str(d or "")) for d in domains):
            error = "92011"
        if error:
            return _render(422, "api_error_response", {
                "errors": schema.errors("client_token", {"": [(error, "base", rules.message(error))]}),
                "params": {"client_token": params}, "message": rules.message(error),
            })
        issued = now()
        claims = f"created_at={stamp(issued)}&merchant_id={merchant.id}&public_key={merchant.public_key}"
        if customer_id:
            claims += f"&customer_id={customer_id}"
        signature = hashlib.sha256((merchant.private_key + claims).encode()).hexdigest()
        api = f"{base_url}/merchants/{merchant.id}/client_api"
        token: dict[str, Any] = {
            "version": version,
            "authorizationFingerprint": f"{signature}|{claims}",
            "configUrl": f"{api}/v1/configuration", "clientApiUrl": api,
            "environment": "sandbox", "merchantId": merchant.id,
            "assetsUrl": base_url, "authUrl": base_url,
            "graphQL": {"url": f"{base_url}/graphql", "date": "2018-05-08"},
            "challenges": [], "threeDSecureEnabled": False, "paypalEnabled": True,
            "analytics": {"url": f"{base_url}/analytics"},
        }
        if account:
            token["merchantAccountId"] = account
        text = json.dumps(token)
        value = text if version == 1 else base64.b64encode(text.encode()).decode()
        return _render(201, "client_token", {"value": value})

    # transactions: read ------------------------------------------------------------------

    def find_transaction(self, merchant: Merchant, txn_id: str) -> Reply:
        self.settle_due(merchant)
        stored = self.store.transaction_text(self.store.read(), merchant.id, txn_id)
        if stored is None:
            return NOT_FOUND
        # Rendering is most of a find's cost; the stored document text is an exact cache key, so a
        # change made by any process (or a reset) can never be served stale.
        reply = self._rendered.get(stored)
        if reply is None:
            reply = _render(200, "transaction", schema.transaction(json.loads(stored)))
            if len(self._rendered) >= _RENDER_CACHE_SIZE:
                self._rendered.pop(next(iter(self._rendered)))
            self._rendered[stored] = reply
        return reply

    # transactions: lifecycle ---------------------------------------------------------------

    def _lifecycle(self, merchant: Merchant, txn_id: str, route: str, params: dict[str, Any],
                   change: Callable[[sqlite3.Connection, dict[str, Any]], Reply]) -> Reply:
        def action(db: sqlite3.Connection) -> Reply:
            doc = self.store.transaction(db, merchant.id, txn_id)
            if doc is None:
                return NOT_FOUND
            return change(db, doc)
        return self._mutate(merchant, f"{route}:{txn_id}", params, "transaction", action)

    def submit_for_settlement(self, merchant: Merchant, txn_id: str, params: dict[str, Any]) -> Reply:
        def change(db: sqlite3.Connection, doc: dict[str, Any]) -> Reply:
            if doc["status"] != "authorized":
                return Invalid("transaction", ("", "91507", "base")).reply(params)
            amount = _requested_amount(params, default=Decimal(doc["amount"]),
                                       limit=Decimal(doc.get("authorized_amount", doc["amount"])), too_large="91522")
            if isinstance(amount, Invalid):
                return amount.reply(params)
            for name in ("order_id", "purchase_order_number", "tax_amount"):
                if _text(params.get(name)):
                    doc[name] = _text(params.get(name))
            if isinstance(params.get("descriptor"), dict):
                doc["descriptor"] = params["descriptor"]
            doc["amount"] = str(amount)
            self._submit(doc, amount, now())
            self.store.update_transaction(db, merchant.id, doc)
            return _render(200, "transaction", schema.transaction(doc))
        return self._lifecycle(merchant, txn_id, "submit", params, change)

    def submit_for_partial_settlement(self, merchant: Merchant, txn_id: str, params: dict[str, Any]) -> Reply:
        """A child sale captures part of an authorization; the parent waits in settlement_pending
        until a capture marked final_capture (or one reaching the authorized amount) closes it."""
        def change(db: sqlite3.Connection, parent: dict[str, Any]) -> Reply:
            if parent["type"] != "sale" or parent.get("authorized_transaction_id") or parent.get("final_captured") \
                    or parent["status"] not in ("authorized", "settlement_pending"):
                return Invalid("transaction", ("", "915103", "base")).reply(params)
            code = rules.amount_error(params.get("amount"))
            if code:
                return Invalid("transaction", ("", code, "amount")).reply(params)
            amount = rules.to_amount(params["amount"])
            captured = sum((Decimal(child["amount"]) for child in self.store.transactions_by_ids(
                merchant.id, parent.get("partial_settlement_transaction_ids", []))), Decimal("0"))
            if captured + amount > Decimal(parent.get("authorized_amount", parent["amount"])):
                return Invalid("transaction", ("", "91522", "amount")).reply(params)
            moment = now()
            child_id = _new_id()
            while self.store.transaction_exists(db, child_id):
                child_id = _new_id()
            child = {key: value for key, value in parent.items() if key not in (
                "partial_settlement_transaction_ids", "refund_ids", "status_history", "final_captured")}
            child.update(id=child_id, amount=str(amount), authorized_transaction_id=parent["id"], refund_ids=[],
                         status_history=[], created_at=stamp(moment), global_id=global_id("transaction", child_id))
            for name in ("order_id", "purchase_order_number", "tax_amount", "shipping_amount", "discount_amount"):
                if _text(params.get(name)):
                    child[name] = _text(params.get(name))
            if isinstance(params.get("descriptor"), dict):
                child["descriptor"] = params["descriptor"]
            self._submit(child, amount, moment)
            self.store.insert_transaction(db, merchant.id, child)
            parent["partial_settlement_transaction_ids"] = [*parent.get("partial_settlement_transaction_ids", []),
                                                           child_id]
            if params.get("final_capture") in (True, "true") or captured + amount == Decimal(parent["amount"]):
                parent["final_captured"] = True
            if parent["status"] != "settlement_pending":
                self._append_status(parent, "settlement_pending", Decimal(parent["amount"]), moment)
            parent["updated_at"] = stamp(moment)
            self.store.update_transaction(db, merchant.id, parent)
            return _render(201, "transaction", schema.transaction(child))
        return self._lifecycle(merchant, txn_id, "partial", params, change)

    def line_items(self, merchant: Merchant, txn_id: str) -> Reply:
        doc = self.store.transaction(self.store.read(), merchant.id, txn_id)
        if doc is None:
            return NOT_FOUND
        return _render(200, "line_items", xmlcodec.Items("line-item", doc.get("line_items", [])))

    def void(self, merchant: Merchant, txn_id: str, params: dict[str, Any]) -> Reply:
        def change(db: sqlite3.Connection, doc: dict[str, Any]) -> Reply:
            if not rules.can_void(doc["status"], doc.get("payment_instrument_type", "")):
                return Invalid("transaction", ("", "91504", "base")).reply(params)
            moment = now()
            self._append_status(doc, "voided", Decimal(doc["amount"]), moment)
            self.store.update_transaction(db, merchant.id, doc)
            return _render(200, "transaction", schema.transaction(doc))
        return self._lifecycle(merchant, txn_id, "void", params, change)

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
            while self.store.transaction_exists(db, refund_id):
                refund_id = _new_id()
            credit = {key: original.get(key) for key in (
                "currency_iso_code", "merchant_account_id", "customer", "customer_id", "billing", "shipping",
                "payment_instrument_type", "credit_card", "paypal", "venmo_account", "custom_fields", "descriptor")}
            credit.update({
                "id": refund_id, "type": "credit", "status": authorization.status, "amount": str(amount),
                "order_id": _text(params.get("order_id")) or original.get("order_id"),
                "created_at": stamp(moment), "updated_at": stamp(moment),
                "refunded_transaction_id": original["id"], "refund_ids": [], "status_history": [],
                "merchant_account_id": account,
                "processor_response_code": authorization.code, "processor_response_text": authorization.text,
                "processor_response_type": authorization.response_type,
                "additional_processor_response": "2046 : Declined" if authorization.code == "1005"
                else authorization.additional,
                "processor_authorization_code": _auth_code() if authorization.ok else None,
                "authorized_amount": str(amount),
                "global_id": base64.urlsafe_b64encode(f"transaction_{refund_id}".encode()).decode().rstrip("="),
            })
            self._append_status(credit, authorization.status, amount, moment)
            if authorization.ok:
                self._submit(credit, amount, moment)
            self.store.insert_transaction(db, merchant.id, credit)
            original["refund_ids"] = [*original.get("refund_ids", []), refund_id]
            original["updated_at"] = stamp(moment)
            self.store.update_transaction(db, merchant.id, original)
            body = schema.transaction(credit)
            if authorization.ok:
                return _render(201, "transaction", body)
            return _render(422, "api_error_response", {
                "errors": {"errors": xmlcodec.Items("error", [])},
                "params": {"transaction": _echo(params)}, "message": authorization.text, "transaction": body,
            })
        return self._lifecycle(merchant, txn_id, "refund", params, change)

    def _refundable(self, db: sqlite3.Connection, merchant: Merchant, original: dict[str, Any]) -> Decimal:
        refunded = Decimal("0")
        for refund_id in original.get("refund_ids", []):
            refund = self.store.transaction(db, merchant.id, refund_id)
            if refund and refund["status"] not in NOT_REFUNDED_STATUSES:
                refunded += Decimal(refund["amount"])
        return Decimal(original["amount"]) - refunded

    # testing endpoints ----------------------------------------------------------------

    def simulate(self, merchant: Merchant, txn_id: str, target: str) -> Reply:
        """testing.settle / settlement_confirm / settlement_decline / settlement_pending (§5.2)."""
        with self.store.write() as db:
            doc = self.store.transaction(db, merchant.id, txn_id)
            if doc is None:
                return NOT_FOUND
            if doc["status"] not in rules.SETTLEABLE or (doc["status"] == target):
                return Invalid("transaction", ("", "91575", "base")).reply({})
            if target == "settled":
                target = rules.settles_as(Decimal(doc["amount"]), doc.get("payment_instrument_type", ""))
            self._settle(merchant, doc, target, now())
            self.store.update_transaction(db, merchant.id, doc)
            return _render(200, "transaction", schema.transaction(doc))

    def settle_due(self, merchant: Merchant) -> None:
        """Apply the nightly cutoff lazily: whatever was submitted before a past cutoff settles at it."""
        if not merchant.nightly_settlement:
            return
        zone = ZoneInfo(merchant.timezone)
        hour, minute = (int(part) for part in merchant.nightly_settlement.split(":"))
        current = now()
        local = current.astimezone(zone)
        latest = datetime.combine(local.date(), time(hour, minute), zone)
        if latest > local:
            latest -= timedelta(days=1)
        latest_stamp = stamp(latest)
        if (self.store.settled_through(self.store.read(), merchant.id) or "") >= latest_stamp:
            return
        with self.store.write() as db:
            if (self.store.settled_through(db, merchant.id) or "") >= latest_stamp:
                return
            for doc in self.store.pending_settlement(db, merchant.id, latest_stamp):
                submitted = schema.instant(doc.get("submitted_for_settlement_at", doc["created_at"]))
                local_submit = submitted.astimezone(zone)
                cutoff = datetime.combine(local_submit.date(), time(hour, minute), zone)
                if cutoff <= local_submit:
                    cutoff += timedelta(days=1)
                target = rules.settles_as(Decimal(doc["amount"]), doc.get("payment_instrument_type", ""))
                self._settle(merchant, doc, target, cutoff.astimezone(timezone.utc))
                self.store.update_transaction(db, merchant.id, doc)
            self.store.mark_settled_through(db, merchant.id, latest_stamp)

    def settle_all(self, merchant: Merchant) -> list[str]:
        """Settle everything waiting for settlement now (`paycli sandbox settle --all`)."""
        with self.store.write() as db:
            settled = []
            for doc in self.store.pending_settlement(db, merchant.id, "9999"):
                target = rules.settles_as(Decimal(doc["amount"]), doc.get("payment_instrument_type", ""))
                self._settle(merchant, doc, target, now())
                self.store.update_transaction(db, merchant.id, doc)
                settled.append(doc["id"])
            return settled

    # search ----------------------------------------------------------------------------

    def _search(self, merchant: Merchant, criteria: dict[str, Any]) -> Iterable[dict[str, Any]]:
        self.settle_due(merchant)
        narrow = narrowing(criteria)
        for doc in self.store.scan_transactions(merchant.id, **narrow):
            if matches(doc, criteria):
                yield doc

    def search_ids(self, merchant: Merchant, criteria: dict[str, Any]) -> Reply:
        ids: list[str] = []
        for doc in self._search(merchant, criteria):
            ids.append(doc["id"])
            if len(ids) >= self.search_cap:  # Braintree's silent cap: clients must narrow the window
                break
        return _render(200, "search_results", {"page_size": SEARCH_PAGE_SIZE, "ids": ids})

    def search_page(self, merchant: Merchant, criteria: dict[str, Any]) -> Reply:
        ids = [str(i) for i in (criteria.get("ids") or []) if i][:SEARCH_PAGE_SIZE * 4]
        rest = {key: value for key, value in criteria.items() if key != "ids"}
        docs = [doc for doc in self.store.transactions_by_ids(merchant.id, ids) if matches(doc, rest)]
        return _render(200, "credit_card_transactions", {
            "current_page_number": 1, "page_size": SEARCH_PAGE_SIZE, "total_items": len(docs),
            "transaction": xmlcodec.Repeated([schema.transaction(doc) for doc in docs]),
        })

    # settlement batch summary -----------------------------------------------------------

    def settlement_summary(self, merchant: Merchant, params: dict[str, Any]) -> Reply:
        self.settle_due(merchant)
        raw = params.get("settlement_date")
        field = _text(params.get("group_by_custom_field"))
        settlement_date: date | None = None
        if isinstance(raw, datetime):
            settlement_date = raw.date()
        elif _text(raw):
            try:
                settlement_date = date.fromisoformat(_text(raw) or "")
            except ValueError:
                settlement_date = None
        problems = []
        if raw in (None, ""):
            problems.append(("", "82301", "settlement_date"))
        elif settlement_date is None:
            problems.append(("", "82302", "settlement_date"))
        if problems:
            return Invalid("settlement_batch_summary", *problems).reply(params)
        prefix = settlement_date.isoformat()
        groups: dict[tuple[str, ...], list[Any]] = {}
        zone = ZoneInfo(merchant.timezone)
        start = datetime.combine(settlement_date, time(0), zone) - timedelta(days=1)
        end = datetime.combine(settlement_date, time(0), zone) + timedelta(days=2)
        for doc in self.store.scan_transactions(merchant.id, settled=(stamp(start), stamp(end))):
            if not (doc.get("settlement_batch_id") or "").startswith(prefix + "_"):
                continue
            if doc["status"] not in IN_BATCH_STATUSES:
                continue
            key = (doc.get("merchant_account_id") or "", _summary_card_type(doc), doc["type"])
            if field:
                key += ((doc.get("custom_fields") or {}).get(field, ""),)
            entry = groups.setdefault(key, [0, Decimal("0")])
            entry[0] += 1
            entry[1] += Decimal(doc["amount"])
        records = []
        for key, (count, total) in sorted(groups.items()):
            record = {"card_type": key[1], "merchant_account_id": key[0], "kind": key[2],
                      "count": str(count), "amount_settled": str(total.quantize(Decimal("0.01")))}
            if field:
                record[field] = key[3]
            records.append(record)
        return _render(200, "settlement_batch_summary", {"records": xmlcodec.Items("record", records)})

    # paycli's own sandbox controls (not Braintree API: `paycli sandbox reset|status`) ---------

    def reset(self, merchant: Merchant) -> Reply:
        self.store.reset(merchant.id)
        return _render(200, "sandbox_status", self._status_body(merchant))

    def status(self, merchant: Merchant) -> Reply:
        self.settle_due(merchant)
        return _render(200, "sandbox_status", self._status_body(merchant))

    def _status_body(self, merchant: Merchant) -> dict[str, Any]:
        counts = self.store.counts(merchant.id)
        return {"merchant_id": merchant.id, "merchant_accounts": xmlcodec.Items("merchant-account", [
                    {"id": account, "currency": currency} for account, currency in merchant.accounts.items()]),
                "timezone": merchant.timezone, "nightly_settlement": merchant.nightly_settlement,
                "search_cap": self.search_cap, "transactions": sum(counts.values()),
                "statuses": xmlcodec.Items("status", [{"status": k, "count": v} for k, v in sorted(counts.items())])}

    # status bookkeeping ------------------------------------------------------------------

    @staticmethod
    def _append_status(doc: dict[str, Any], status: str, amount: Decimal, moment: datetime) -> None:
        doc["status"] = status
        doc["updated_at"] = stamp(moment)
        doc["status_history"].append({"timestamp": stamp(moment), "status": status, "amount": str(amount),
                                      "user": None, "transaction_source": "api"})

    def _submit(self, doc: dict[str, Any], amount: Decimal, moment: datetime) -> None:
        # PayPal skips the queue: a submitted PayPal sale is already settling (§4.2).
        status = "settling" if doc.get("payment_instrument_type") == rules.PAYPAL else "submitted_for_settlement"
        doc["submitted_for_settlement_at"] = stamp(moment)
        self._append_status(doc, status, amount, moment)

    def _settle(self, merchant: Merchant, doc: dict[str, Any], target: str, moment: datetime) -> None:
        code, text = rules.SETTLEMENT_RESPONSES[target]
        doc["processor_settlement_response_code"] = code
        doc["processor_settlement_response_text"] = text
        if target in IN_BATCH_STATUSES:
            local_day = moment.astimezone(ZoneInfo(merchant.timezone)).date()
            doc["settlement_batch_id"] = f"{local_day.isoformat()}_{doc.get('merchant_account_id')}"
            doc["settled_at"] = stamp(moment)
            doc["disbursement_date"] = local_day.isoformat()  # disbursed as it settles: see sandbox/webhooks.py
        self._append_status(doc, target, Decimal(doc["amount"]), moment)
        if self.webhooks is not None:
            self.webhooks.transaction_settled(merchant, doc, target, moment)


def _summary_card_type(doc: dict[str, Any]) -> str:
    if doc.get("payment_instrument_type") == rules.PAYPAL:
        return "PayPal"
    return (doc.get("credit_card") or {}).get("card_type") or "Unknown"


def _requested_amount(params: dict[str, Any], *, default: Decimal, limit: Decimal, too_large: str,
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
