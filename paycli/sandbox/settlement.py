"""Settlement in the sandbox: the status history, submitting, settling, the nightly cutoff, batch summaries.

Nothing settles on a timer. A transaction settles when asked (`paycli sandbox settle`, the SDK's
`gateway.testing.settle_transaction`), or, with a nightly cutoff configured, lazily: before any read or write
of a merchant, whatever was submitted before a past cutoff settles at that cutoff, so tests can freeze the
clock (docs/sandbox.md, "Lifecycle").
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from paycli.braintree_facts import IN_BATCH_STATUSES
from paycli.sandbox import instruments, rules, schema, xmlcodec
from paycli.sandbox.records import now, stamp, text
from paycli.sandbox.replies import NOT_FOUND, Invalid, Reply, render
from paycli.sandbox.store import Merchant, Store

if TYPE_CHECKING:
    from paycli.sandbox.webhooks import WebhookSender


def append_status(doc: dict[str, Any], status: str, amount: Decimal, moment: datetime) -> None:
    """Move a transaction to `status`, recording the step in its status history."""
    doc["status"] = status
    doc["updated_at"] = stamp(moment)
    doc["status_history"].append(
        {"timestamp": stamp(moment), "status": status, "amount": str(amount), "user": None, "transaction_source": "api"}
    )


def submit(doc: dict[str, Any], amount: Decimal, moment: datetime) -> None:
    """Queue a transaction for settlement."""
    # PayPal has no settlement queue: Braintree shows a submitted PayPal sale as already settling.
    status = "settling" if doc.get("payment_instrument_type") == instruments.PAYPAL else "submitted_for_settlement"
    doc["submitted_for_settlement_at"] = stamp(moment)
    append_status(doc, status, amount, moment)


class Settlement:
    """Settles a merchant's transactions and tells the webhook sender (if any) as each one settles."""

    def __init__(self, store: Store, webhooks: WebhookSender | None = None) -> None:
        self._store = store
        self.webhooks = webhooks

    def simulate(self, merchant: Merchant, txn_id: str, target: str) -> Reply:
        """The testing endpoints: settle, settlement_confirm, settlement_decline, settlement_pending.

        Braintree allows them only on a transaction waiting for settlement (else 91575); `settle` reaches the
        status the amount decides (4001.xx: settlement_declined)."""
        with self._store.write() as db:
            doc = self._store.transaction(db, merchant.id, txn_id)
            if doc is None:
                return NOT_FOUND
            if doc["status"] not in rules.SETTLEABLE or (doc["status"] == target):
                return Invalid("transaction", ("", "91575", "base")).reply({})
            if target == "settled":
                target = rules.settles_as(Decimal(doc["amount"]), doc.get("payment_instrument_type", ""))
            self._settle(merchant, doc, target, now())
            self._store.update_transaction(db, merchant.id, doc)
            return render(200, "transaction", schema.transaction(doc))

    def settle_due(self, merchant: Merchant) -> None:
        """Apply the nightly cutoff lazily: whatever was submitted before a past cutoff settles at it."""
        if not merchant.nightly_settlement:
            return
        zone = ZoneInfo(merchant.timezone)
        hour, minute = (int(part) for part in merchant.nightly_settlement.split(":"))
        local = now().astimezone(zone)
        latest = datetime.combine(local.date(), time(hour, minute), zone)
        if latest > local:
            latest -= timedelta(days=1)
        latest_stamp = stamp(latest)
        if (self._store.settled_through(self._store.read(), merchant.id) or "") >= latest_stamp:
            return
        with self._store.write() as db:
            if (self._store.settled_through(db, merchant.id) or "") >= latest_stamp:
                return
            for doc in self._store.pending_settlement(db, merchant.id, latest_stamp):
                submitted = schema.instant(doc.get("submitted_for_settlement_at") or doc["created_at"])
                assert submitted is not None  # every stored transaction has its created_at
                local_submit = submitted.astimezone(zone)
                cutoff = datetime.combine(local_submit.date(), time(hour, minute), zone)
                if cutoff <= local_submit:
                    cutoff += timedelta(days=1)
                target = rules.settles_as(Decimal(doc["amount"]), doc.get("payment_instrument_type", ""))
                self._settle(merchant, doc, target, cutoff.astimezone(timezone.utc))
                self._store.update_transaction(db, merchant.id, doc)
            self._store.mark_settled_through(db, merchant.id, latest_stamp)

    def _settle(self, merchant: Merchant, doc: dict[str, Any], target: str, moment: datetime) -> None:
        code, response = rules.SETTLEMENT_RESPONSES[target]
        doc["processor_settlement_response_code"] = code
        doc["processor_settlement_response_text"] = response
        if target in IN_BATCH_STATUSES:
            local_day = moment.astimezone(ZoneInfo(merchant.timezone)).date()
            doc["settlement_batch_id"] = f"{local_day.isoformat()}_{doc.get('merchant_account_id')}"
            doc["settled_at"] = stamp(moment)
            doc["disbursement_date"] = local_day.isoformat()  # disbursed as it settles: see sandbox/webhooks.py
        append_status(doc, target, Decimal(doc["amount"]), moment)
        if self.webhooks is not None:
            self.webhooks.transaction_settled(merchant, doc, target, moment)

    # settlement batch summary -----------------------------------------------------------------------

    def summary(self, merchant: Merchant, params: dict[str, Any]) -> Reply:
        """`settlement_batch_summary`: settled sales and credits of one batch date, grouped by merchant
        account, card type and kind (and a custom field if asked)."""
        self.settle_due(merchant)
        raw = params.get("settlement_date")
        field = text(params.get("group_by_custom_field"))
        settlement_date: date | None = None
        if isinstance(raw, datetime):
            settlement_date = raw.date()
        elif text(raw):
            try:
                settlement_date = date.fromisoformat(text(raw) or "")
            except ValueError:
                settlement_date = None
        problems = []
        if raw in (None, ""):
            problems.append(("", "82301", "settlement_date"))
        elif settlement_date is None:
            problems.append(("", "82302", "settlement_date"))
        if problems or settlement_date is None:
            return Invalid("settlement_batch_summary", *problems).reply(params)
        prefix = settlement_date.isoformat()
        groups: dict[tuple[str, ...], list[Any]] = {}
        zone = ZoneInfo(merchant.timezone)
        start = datetime.combine(settlement_date, time(0), zone) - timedelta(days=1)
        end = datetime.combine(settlement_date, time(0), zone) + timedelta(days=2)
        for doc in self._store.scan_transactions(merchant.id, settled=(stamp(start), stamp(end))):
            if not (doc.get("settlement_batch_id") or "").startswith(prefix + "_"):
                continue
            if doc["status"] not in IN_BATCH_STATUSES:
                continue
            key: tuple[str, ...] = (doc.get("merchant_account_id") or "", _summary_card_type(doc), doc["type"])
            if field:
                key += ((doc.get("custom_fields") or {}).get(field, ""),)
            entry = groups.setdefault(key, [0, Decimal("0")])
            entry[0] += 1
            entry[1] += Decimal(doc["amount"])
        records = []
        for key, (count, total) in sorted(groups.items()):
            record = {
                "card_type": key[1],
                "merchant_account_id": key[0],
                "kind": key[2],
                "count": str(count),
                "amount_settled": str(total.quantize(Decimal("0.01"))),
            }
            if field:
                record[field] = key[3]
            records.append(record)
        return render(200, "settlement_batch_summary", {"records": xmlcodec.Items("record", records)})


def _summary_card_type(doc: dict[str, Any]) -> str:
    if doc.get("payment_instrument_type") == instruments.PAYPAL:
        return "PayPal"
    return (doc.get("credit_card") or {}).get("card_type") or "Unknown"
