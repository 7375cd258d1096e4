"""SDK objects -> paycli's models: a transaction, and a mutation's result (success, decline or refusal)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, overload

from paycli.errors import Declined, GatewayRefused, Unavailable
from paycli.models import StatusEvent, Transaction


@overload
def aware(moment: datetime) -> datetime: ...


@overload
def aware(moment: None) -> None: ...


def aware(moment: datetime | None) -> datetime | None:
    """The SDK hands out naive UTC datetimes; paycli's are always aware."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def outcome(result: Any, what: str) -> Transaction:
    """The transaction of a successful result; a decline raises Declined with the transaction, a validation
    error GatewayRefused with Braintree's error codes."""
    if result is None:
        raise Unavailable(f"{what}: the gateway's answer had neither a transaction nor an error")
    if result.is_success:
        return transaction(result.transaction)
    if getattr(result, "transaction", None) is not None:
        declined = transaction(result.transaction)
        raise Declined(f"{what} {declined.status}: {result.message}", declined)
    errors = [{"code": e.code, "attribute": e.attribute, "message": e.message} for e in result.errors.deep_errors]
    codes = ", ".join(sorted({e["code"] for e in errors}))
    raise GatewayRefused(f"{what} refused: {' '.join(result.message.splitlines())} ({codes})", errors=errors)


def transaction(t: Any) -> Transaction:
    """paycli's Transaction from the SDK's; tolerant of fields a gateway leaves out."""
    card = getattr(t, "credit_card_details", None)
    customer = getattr(t, "customer_details", None)
    history = tuple(
        StatusEvent(e.status, aware(e.timestamp), Decimal(e.amount) if e.amount is not None else t.amount)
        for e in getattr(t, "status_history", []) or []
    )
    custom = getattr(t, "custom_fields", None)
    return Transaction(
        id=t.id,
        type=t.type,
        status=t.status,
        amount=Decimal(t.amount),
        currency=getattr(t, "currency_iso_code", None),
        merchant_account_id=getattr(t, "merchant_account_id", None),
        order_id=getattr(t, "order_id", None) or None,
        created_at=aware(t.created_at),
        updated_at=aware(t.updated_at),
        payment_instrument_type=getattr(t, "payment_instrument_type", None),
        card_type=getattr(card, "card_type", None) if card else None,
        last_4=getattr(card, "last_4", None) if card else None,
        customer_email=getattr(customer, "email", None) if customer else None,
        customer_id=getattr(customer, "id", None) if customer else None,
        processor_response_code=getattr(t, "processor_response_code", None),
        processor_response_text=getattr(t, "processor_response_text", None),
        gateway_rejection_reason=getattr(t, "gateway_rejection_reason", None),
        settlement_batch_id=getattr(t, "settlement_batch_id", None),
        refund_ids=tuple(getattr(t, "refund_ids", None) or ()),
        refunded_transaction_id=getattr(t, "refunded_transaction_id", None),
        status_history=history,
        custom_fields=dict(custom) if isinstance(custom, dict) else {},
    )
