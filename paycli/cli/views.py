"""How each kind of object looks on the outside: its JSON keys and its CSV/table columns (the shapes scripts rely on: keys are added, never renamed).

A `View`'s `row()` is the JSON shape scripts rely on (keys may be added, never renamed); `columns` is the
fixed CSV/table order. Declined transactions are shown through `view_for()`, so a view that should be
used for errors is listed in `BY_TYPE` under its class name (no import of the models needed here).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paycli.formats import GENERIC, View

if TYPE_CHECKING:
    from paycli.config import JournalLocation, Profile

REDACTED = "****"


@dataclass(frozen=True)
class ProfileEntry:
    """A profile as listed: `selected` marks the one this run would use."""

    profile: Profile
    selected: bool = False
    key_missing: bool = False  # its variable is unset (or an inline key is empty): it would fail
    journal: JournalLocation | None = None  # shown by `profiles show`: every profile of a run shares it


MISSING = "MISSING"


def profile_row(entry: ProfileEntry | Profile) -> dict[str, Any]:
    profile, selected = (entry.profile, entry.selected) if isinstance(entry, ProfileEntry) else (entry, False)
    missing = isinstance(entry, ProfileEntry) and entry.key_missing
    journal = entry.journal if isinstance(entry, ProfileEntry) else None
    key = profile.private_key
    extra = {"journal": journal.describe()} if journal else {}  # describe(): never the password
    origin = {**profile.origin, **({"journal": journal.origin} if journal else {})}
    return {
        "name": profile.name,
        "selected": selected,
        "environment": profile.environment,
        "merchant_id": profile.merchant_id,
        "public_key": profile.public_key,
        # the key itself never leaves config.PrivateKey; `****` only when there is one to hide
        "private_key": (MISSING if missing else REDACTED) if key else None,
        "private_key_missing": missing,
        "private_key_source": key.describe() if key else None,
        "url": profile.url,
        "merchant_accounts": dict(profile.merchant_accounts),
        "default_merchant_account": profile.default_merchant_account,
        "timezone": profile.timezone,
        "search_cap": profile.search_cap,
        "confirm": profile.confirms,  # asks before money moves: production, or `confirm: true`
        **extra,
        "origin": origin,
    }


def profile_detail(entry: ProfileEntry | Profile) -> Iterator[Mapping[str, Any]]:
    row = profile_row(entry)
    profile = entry.profile if isinstance(entry, ProfileEntry) else entry
    for field, value in row.items():
        if field in ("selected", "origin", "private_key_source", "private_key_missing"):
            continue
        if field == "private_key" and profile.private_key is not None:
            key = profile.private_key
            # an inline key's "where" is the config file, which the origin column already names
            if row["private_key_missing"] and key.source == "env":
                value = f"{MISSING}: ${key.where} is not set"
            else:
                value = f"{value} ({key.source})" if key.source == "inline" else f"{value} ({key.describe()})"
        where = row["origin"].get(field, "")
        if value in (None, {}) and not where:
            continue
        yield {"field": field, "value": value, "origin": where}


PROFILE = View(
    "profile",
    columns=(
        "name",
        "selected",
        "environment",
        "merchant_id",
        "public_key",
        "private_key",
        "private_key_source",
        "url",
        "timezone",
    ),
    row=profile_row,
    detail=profile_detail,
    detail_columns=("field", "value", "origin"),
)

PROFILE_CHECK = View(
    "profile_check",
    columns=("profile", "environment", "merchant_id", "ok", "ms", "error"),
)

NONCE = View("nonce", columns=("nonce", "sale", "verification", "description"))

# class name → view, for objects shown outside their command (a Declined error's transaction)
BY_TYPE: dict[str, View] = {}


def view_for(obj: Any) -> View:
    return BY_TYPE.get(type(obj).__name__, GENERIC)


def transaction_row(txn: Any) -> dict[str, Any]:
    """The transaction shape scripts rely on; `status_history` stays nested in JSON and is left out of CSV columns."""
    return {
        "id": txn.id,
        "type": txn.type,
        "status": txn.status,
        "amount": txn.amount,
        "currency": txn.currency,
        "merchant_account_id": txn.merchant_account_id,
        "order_id": txn.order_id,
        "created_at": txn.created_at,
        "updated_at": txn.updated_at,
        "settled_at": txn.settled_at,
        "payment_instrument_type": txn.payment_instrument_type,
        "card_type": txn.card_type,
        "last_4": txn.last_4,
        "customer_email": txn.customer_email,
        "customer_id": txn.customer_id,
        "processor_response_code": txn.processor_response_code,
        "processor_response_text": txn.processor_response_text,
        "gateway_rejection_reason": txn.gateway_rejection_reason,
        "settlement_batch_id": txn.settlement_batch_id,
        "refund_ids": list(txn.refund_ids),
        "refunded_transaction_id": txn.refunded_transaction_id,
        "refunded_amount": txn.refunded_amount,
        "refundable_amount": txn.refundable_amount,
        "custom_fields": dict(txn.custom_fields),
        "status_history": [
            {"status": event.status, "timestamp": event.timestamp, "amount": event.amount}
            for event in txn.status_history
        ],
    }


TRANSACTION = View(
    "transaction",
    columns=(
        "id",
        "type",
        "status",
        "amount",
        "currency",
        "merchant_account_id",
        "order_id",
        "created_at",
        "updated_at",
        "payment_instrument_type",
        "card_type",
        "last_4",
        "customer_email",
        "processor_response_code",
        "processor_response_text",
        "gateway_rejection_reason",
        "settlement_batch_id",
        "refund_ids",
        "refunded_transaction_id",
        "refunded_amount",
        "refundable_amount",
    ),
    row=transaction_row,
    table_columns=(
        "id",
        "type",
        "status",
        "amount",
        "currency",
        "created_at",
        "order_id",
        "last_4",
        "customer_email",
        "refundable_amount",
    ),
    drop_first=("customer_email", "last_4", "order_id", "refundable_amount", "type"),
)
BY_TYPE["Transaction"] = TRANSACTION

SMOKE = View(
    "smoke",
    columns=("name", "ok", "ms", "detail"),
    row=lambda report: {
        "profile": report.profile,
        "ok": report.ok,
        "steps": [
            {"name": s.name, "ok": s.ok, "skipped": s.skipped, "ms": s.ms, "detail": s.detail} for s in report.steps
        ],
    },
)
SMOKE_STEP = View(
    "smoke_step",
    columns=("step", "result", "ms", "detail"),
    row=lambda s: {
        "step": s.name,
        "result": "PASS" if s.ok else "SKIP" if s.skipped else "FAIL",
        "ms": s.ms,
        "detail": s.detail,
    },
)


def refund_plan_row(plan: Any) -> dict[str, Any]:
    txn = plan.transaction
    return {
        "dry_run": True,
        "action": plan.action,
        "transaction_id": txn.id,
        "status": txn.status,
        "amount": plan.amount,
        "currency": txn.currency,
        "sale_amount": txn.amount,
        "refundable_before": txn.refundable_amount,
        "remaining_after": plan.remaining_after,
        "order_id": plan.order_id,
        "reason": plan.reason,
    }


REFUND_PLAN = View(
    "refund_plan",
    columns=("action", "transaction_id", "status", "amount", "currency", "refundable_before", "remaining_after"),
    row=refund_plan_row,
)


def refund_outcome_row(outcome: Any) -> dict[str, Any]:
    """The new credit (refund) or the voided sale (a transaction's keys), plus what the sale has left.

    The sale's figures come from looking it up after the call (None if that lookup failed), never from
    the plan: a resumed refund's credit is already counted in what the plan saw.
    """
    plan, sale = outcome.plan, outcome.sale
    row = transaction_row(outcome.result)
    row.update(
        action=plan.action,
        sale_id=plan.transaction.id,
        sale_refunded_amount=sale.refunded_amount if sale is not None else None,
        sale_refundable_amount=sale.refundable_amount if sale is not None else None,
        resumed=outcome.resumed,
        journal_id=outcome.journal_id,
    )
    return row


REFUND_OUTCOME = View(
    "refund",
    columns=(
        "action",
        "id",
        "type",
        "status",
        "amount",
        "currency",
        "sale_id",
        "sale_refunded_amount",
        "sale_refundable_amount",
        "refunded_transaction_id",
    ),
    row=refund_outcome_row,
)

BATCH_RESULT = View(
    "batch_refund_result",
    columns=("row", "transaction_id", "amount", "currency", "action", "outcome", "refund_id", "message"),
)


def audit_row(entry: Any) -> dict[str, Any]:
    from paycli.output import jsonable

    return {**jsonable(entry), "who": entry.who}  # user@host: a team's journal holds many machines


AUDIT = View(
    "audit",
    row=audit_row,
    columns=(
        "id",
        "created_at",
        "operator",
        "profile",
        "environment",
        "merchant_id",
        "kind",
        "transaction_id",
        "amount",
        "currency",
        "state",
        "result_id",
        "error",
        "api_request_key",
        "batch",
        "batch_row",
        "host",
        "order_id",
        "reason",
    ),
    table_columns=(
        "id",
        "created_at",
        "who",
        "profile",
        "kind",
        "transaction_id",
        "amount",
        "currency",
        "state",
        "result_id",
        "order_id",
        "reason",
        "error",
    ),
    drop_first=("who", "operator", "reason", "order_id", "profile", "result_id"),
)


# webhooks (paycli/cli/webhook.py) ---------------------------------------------------------------------------

WEBHOOK_KIND = View("webhook_kind", columns=("kind", "group", "sandbox_sends", "description"))

WEBHOOK_SAMPLE = View(
    "webhook_sample",
    columns=("bt_signature", "bt_payload"),
    row=lambda signed: {"bt_signature": signed.bt_signature, "bt_payload": signed.bt_payload},
)


def webhook_notification_row(notification: Any) -> dict[str, Any]:
    return {
        "kind": notification.kind,
        "timestamp": notification.timestamp,
        "subject": notification.subject,
        "subject_id": notification.subject_id,
        "source_merchant_id": notification.source_merchant_id,
        "details": dict(notification.details),
    }


def webhook_notification_detail(notification: Any) -> Iterator[Mapping[str, Any]]:
    row = webhook_notification_row(notification)
    details = row.pop("details")
    for name, value in row.items():
        yield {"field": name, "value": value}
    for name, value in details.items():
        yield {"field": f"{row['subject'] or 'subject'}.{name}", "value": value}


WEBHOOK_NOTIFICATION = View(
    "webhook_notification",
    columns=("kind", "timestamp", "subject", "subject_id", "source_merchant_id"),
    row=webhook_notification_row,
    detail=webhook_notification_detail,
    detail_columns=("field", "value"),
)

WEBHOOK_DELIVERY = View(
    "webhook_delivery",
    columns=("url", "kind", "id", "status", "reason", "ok", "ms", "response"),
    row=lambda d: {
        "url": d.url,
        "kind": d.kind,
        "id": d.subject_id,
        "status": d.status,
        "reason": d.reason,
        "ok": d.ok,
        "ms": d.ms,
        "response": d.response,
    },
)


def webhook_received_row(record: Any) -> dict[str, Any]:
    notification = record.notification
    details = dict(notification.details) if notification else {}
    return {
        "received_at": record.received_at,
        "verified": record.verified,
        "reply_status": record.reply_status,
        "kind": notification.kind if notification else None,
        "timestamp": notification.timestamp if notification else None,
        "subject": notification.subject if notification else None,
        "subject_id": notification.subject_id if notification else None,
        "status": details.get("status"),
        "amount": details.get("amount"),
        "source_merchant_id": notification.source_merchant_id if notification else None,
        "details": details,
        "error": record.error,
        "forward_url": record.forward_url,
        "forward_status": record.forward_status,
        "forward_error": record.forward_error,
    }


WEBHOOK_RECEIVED = View(
    "webhook_received",
    columns=(
        "received_at",
        "verified",
        "kind",
        "subject",
        "subject_id",
        "status",
        "amount",
        "reply_status",
        "forward_status",
        "error",
    ),
    row=webhook_received_row,
)


def webhook_received_line(record: Any) -> str:
    """`listen`'s one line per notification on a terminal: time, kind, subject, status, and what went wrong."""
    from paycli.output import flat

    row = webhook_received_row(record)
    if not record.verified:
        parts = [row["received_at"], "REJECTED", f"({row['reply_status']})", row["error"]]
    else:
        named = row["subject"] if row["subject"] != row["kind"] else None  # `check`'s subject is `check`
        subject = " ".join(str(part) for part in (named, row["subject_id"]) if part)
        parts = [row["received_at"], row["kind"], subject, row["status"], row["amount"]]
    if record.forward_url:
        parts.append(f"→ {record.forward_status if record.forward_status is not None else record.forward_error}")
    return "  ".join(flat(part) for part in parts if part not in (None, ""))


# settlement -----------------------------------------------------------------------------------------------

SETTLEMENT_RECORD_KEYS = ("merchant_account_id", "card_type", "kind", "count", "amount_settled", "currency")


def settlement_record_row(record: Any, summary: Any, *, tagged: bool = False) -> dict[str, Any]:
    """A summary record plus its custom field's value; `tagged` (--all-profiles, CSV) adds date and profile."""
    row: dict[str, Any] = {"date": summary.date, "profile": summary.profile} if tagged else {}
    row.update(
        merchant_account_id=record.merchant_account_id,
        card_type=record.card_type,
        kind=record.kind,
        count=record.count,
        amount_settled=record.amount_settled,
        currency=record.currency,
    )
    if summary.group_by_custom_field:
        row[summary.group_by_custom_field] = record.custom_field
    return row


def settlement_total_row(total: Any, summary: Any, *, tagged: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {"date": summary.date, "profile": summary.profile} if tagged else {}
    row.update(
        merchant_account_id=total.merchant_account_id,
        sales_count=total.sales_count,
        sales_amount=total.sales_amount,
        credits_count=total.credits_count,
        credits_amount=total.credits_amount,
        net_amount=total.net_amount,
        currency=total.currency,
    )
    return row


def settlement_summary_row(summary: Any, *, tagged: bool = False) -> dict[str, Any]:
    """`{"date", "profile", "records", "totals"}`; `tagged` (--all-profiles) puts date and profile on every row."""
    return {
        "date": summary.date,
        "profile": summary.profile,
        "group_by_custom_field": summary.group_by_custom_field,
        "records": [settlement_record_row(record, summary, tagged=tagged) for record in summary.records],
        "totals": [settlement_total_row(total, summary, tagged=tagged) for total in summary.totals],
    }


@dataclass(frozen=True)
class SettlementReport:
    """The summaries of an --all-profiles run, and the profiles that failed, as one document."""

    summaries: tuple[Any, ...]
    failures: tuple[tuple[str, Any], ...] = ()  # (profile name, PaycliError)


def settlement_report_row(report: SettlementReport) -> dict[str, Any]:
    days = {summary.date for summary in report.summaries}
    return {
        "date": next(iter(days)) if len(days) == 1 else None,  # each profile's "yesterday" can differ
        "profile": None,
        "profiles": [summary.profile for summary in report.summaries],
        "records": [
            settlement_record_row(record, summary, tagged=True)
            for summary in report.summaries
            for record in summary.records
        ],
        "totals": [
            settlement_total_row(total, summary, tagged=True)
            for summary in report.summaries
            for total in summary.totals
        ],
        "errors": [{"profile": name, **err.to_json()} for name, err in report.failures],
    }


SETTLEMENT_SUMMARY = View("settlement_summary", row=settlement_summary_row)
SETTLEMENT_SUMMARY_TAGGED = View("settlement_summary", row=lambda s: settlement_summary_row(s, tagged=True))
SETTLEMENT_REPORT = View("settlement_report", row=settlement_report_row)


def settlement_records_view(custom_field: str | None) -> View:
    """CSV rows of a summary: one per record, with its date and profile; items are (summary, record) pairs."""
    columns = ("date", "profile", *SETTLEMENT_RECORD_KEYS, *((custom_field,) if custom_field else ()))
    return View(
        "settlement_record", columns=columns, row=lambda pair: settlement_record_row(pair[1], pair[0], tagged=True)
    )


SETTLEMENT_EXPORT_COLUMNS = (
    "profile",
    "id",
    "type",
    "status",
    "amount",
    "currency",
    "merchant_account_id",
    "order_id",
    "card_type",
    "last_4",
    "customer_email",
    "created_at",
    "settled_at",
    "settlement_batch_id",
    "refunded_transaction_id",
)
SETTLEMENT_EXPORT = View(
    "settlement_export",
    columns=SETTLEMENT_EXPORT_COLUMNS,
    row=lambda r: {column: getattr(r, column) for column in SETTLEMENT_EXPORT_COLUMNS},
    drop_first=(
        "customer_email",
        "card_type",
        "last_4",
        "created_at",
        "order_id",
        "settlement_batch_id",
        "profile",
        "merchant_account_id",
        "type",
    ),
)
