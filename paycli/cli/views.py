"""How each kind of object looks on the outside: its JSON keys and its CSV/table columns (design §5).

A `View`'s `row()` is the JSON shape scripts rely on (keys may be added, never renamed); `columns` is the
fixed CSV/table order. Declined transactions are shown through `view_for()`, so a view that should be
used for errors is listed in `BY_TYPE` under its class name (no import of the models needed here).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paycli.output import GENERIC, View

if TYPE_CHECKING:
    from paycli.config import Profile

REDACTED = "****"


@dataclass(frozen=True)
class ProfileEntry:
    """A profile as listed: `selected` marks the one this run would use."""

    profile: Profile
    selected: bool = False


def profile_row(entry: ProfileEntry | Profile) -> dict[str, Any]:
    profile, selected = (entry.profile, entry.selected) if isinstance(entry, ProfileEntry) else (entry, False)
    key = profile.private_key
    return {
        "name": profile.name,
        "selected": selected,
        "environment": profile.environment,
        "merchant_id": profile.merchant_id,
        "public_key": profile.public_key,
        "private_key": REDACTED if key else None,  # the key itself never leaves config.PrivateKey
        "private_key_source": key.describe() if key else None,
        "url": profile.url,
        "merchant_accounts": dict(profile.merchant_accounts),
        "default_merchant_account": profile.default_merchant_account,
        "timezone": profile.timezone,
        "search_cap": profile.search_cap,
        "origin": dict(profile.origin),
    }


def profile_detail(entry: ProfileEntry | Profile) -> Iterator[Mapping[str, Any]]:
    row = profile_row(entry)
    profile = entry.profile if isinstance(entry, ProfileEntry) else entry
    for field, value in row.items():
        if field in ("selected", "origin", "private_key_source"):
            continue
        if field == "private_key" and profile.private_key is not None:
            key = profile.private_key
            # an inline key's "where" is the config file, which the origin column already names
            value = f"{REDACTED} ({key.source})" if key.source == "inline" else f"{REDACTED} ({key.describe()})"
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
    """Design §5's transaction shape; `status_history` stays nested in JSON and is left out of CSV columns."""
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
        "id", "type", "status", "amount", "currency", "merchant_account_id", "order_id", "created_at",
        "updated_at", "payment_instrument_type", "card_type", "last_4", "customer_email",
        "processor_response_code", "processor_response_text", "gateway_rejection_reason", "settlement_batch_id",
        "refund_ids", "refunded_transaction_id", "refunded_amount", "refundable_amount",
    ),
    row=transaction_row,
)
BY_TYPE["Transaction"] = TRANSACTION

SMOKE = View(
    "smoke",
    columns=("name", "ok", "ms", "detail"),
    row=lambda report: {
        "profile": report.profile,
        "ok": report.ok,
        "steps": [{"name": s.name, "ok": s.ok, "ms": s.ms, "detail": s.detail} for s in report.steps],
    },
)
SMOKE_STEP = View(
    "smoke_step",
    columns=("step", "result", "ms", "detail"),
    row=lambda s: {"step": s.name, "result": "PASS" if s.ok else "FAIL", "ms": s.ms, "detail": s.detail},
)
