"""Giving money back: plan first (look the transaction up, decide refund or void), then execute once.

Rules (design §4, sandbox reference §4.2):
- a settled or settling sale is refunded, fully or partially, up to what is left;
- a sale not yet settled can only be given back whole, by voiding it (unless the caller forbids voids);
- a partial refund of an unsettled sale, an amount over the remainder, a credit, or a sale with nothing
  left are refused before any money call (exit 3).

Execution journals the intent before the call and carries an `api_request_key`: a rerun after a lost
answer reuses the unfinished entry's key, so the gateway replays its first answer instead of refunding
twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from paycli import journal as journal_
from paycli.errors import GatewayRefused, PaycliError, Unavailable
from paycli.lookup import find_transaction
from paycli.models import SETTLED_STATUSES, VOIDABLE_STATUSES, ZERO, Transaction

if TYPE_CHECKING:
    from paycli.gateway import Gateway
    from paycli.journal import Context, Journal

REFUND, VOID, NONE = "refund", "void", "none"
# Braintree refunds settled and settling sales (91506 otherwise); settlement_pending is PayPal's limbo.
REFUNDABLE = frozenset(SETTLED_STATUSES - {"settlement_pending"})


class NotRefundable(GatewayRefused):
    """The transaction's state rules the request out; nothing was sent to the gateway."""

    type = "not_refundable"


@dataclass(frozen=True)
class Plan:
    action: str  # refund | void
    transaction: Transaction
    amount: Decimal  # what goes back to the customer
    order_id: str | None = None
    reason: str | None = None
    # what the request says: None asks for "everything left", so a replay of the same request under the
    # same api_request_key stays identical even after the first attempt changed what is left
    send_amount: Decimal | None = None

    @property
    def remaining_after(self) -> Decimal:
        left = self.transaction.refundable_amount or ZERO
        return max(left - self.amount, ZERO)


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    result: Transaction  # the new credit (refund) or the voided sale
    journal_id: int
    resumed: bool  # an unfinished earlier attempt's key was reused


def plan_refund(gateway: Gateway, txn_id: str, *, amount: Decimal | None = None, order_id: str | None = None,
                reason: str | None = None, allow_void: bool = True) -> Plan:
    return decide_refund(find_transaction(gateway, txn_id), amount=amount, order_id=order_id, reason=reason,
                         allow_void=allow_void)


def decide_refund(txn: Transaction, *, amount: Decimal | None = None, order_id: str | None = None,
                  reason: str | None = None, allow_void: bool = True) -> Plan:
    """The refund rules on an already-looked-up transaction (its refunds resolved)."""
    if txn.type != "sale":
        raise NotRefundable(f"{txn.id} is a {txn.type}: credits cannot be refunded (91505)", transaction_id=txn.id)
    left = txn.refundable_amount if txn.refundable_amount is not None else txn.amount
    if txn.status in VOIDABLE_STATUSES:
        if amount is not None and amount != txn.amount:
            raise NotRefundable(
                f"{txn.id} is {txn.status}, not settled: it can only be given back whole, by a void of "
                f"{txn.amount}; a partial refund waits for settlement (91506)", transaction_id=txn.id)
        if not allow_void:
            raise NotRefundable(f"{txn.id} is {txn.status}, not settled: refunding it means voiding it, "
                                "and --no-void forbids that", transaction_id=txn.id)
        return Plan(VOID, txn, txn.amount, order_id, reason)
    if txn.status not in REFUNDABLE:
        raise NotRefundable(f"{txn.id} is {txn.status}: only settled or settling sales can be refunded",
                            transaction_id=txn.id)
    if left <= ZERO:
        raise NotRefundable(f"{txn.id} has already been fully refunded ({txn.refunded_amount} of {txn.amount}; "
                            "91512)", transaction_id=txn.id)
    wanted = left if amount is None else amount
    if wanted > left:
        raise NotRefundable(f"{txn.id}: refund of {wanted} is more than the {left} left to refund (91521)",
                            transaction_id=txn.id)
    return Plan(REFUND, txn, wanted, order_id, reason, send_amount=amount)


def plan_void(gateway: Gateway, txn_id: str) -> Plan:
    txn = find_transaction(gateway, txn_id)
    if txn.status not in VOIDABLE_STATUSES:
        raise NotRefundable(f"{txn.id} is {txn.status}: only authorized or submitted_for_settlement "
                            "transactions can be voided (91504)", transaction_id=txn.id)
    return Plan(VOID, txn, txn.amount)


def execute(gateway: Gateway, journal: Journal, context: Context, plan: Plan, *,
            api_request_key: str | None = None, batch: str | None = None, batch_row: int | None = None) -> Outcome:
    """Move the money once: journal first, call with the key, record the answer."""
    txn = plan.transaction
    key, resumed = api_request_key, False
    if key is None:
        earlier = [e for e in journal.unfinished(context.merchant_id, plan.action, txn.id) if e.amount == plan.amount]
        key, resumed = (earlier[0].api_request_key, True) if earlier else (f"paycli-{plan.action}-{uuid.uuid4()}", False)
    entry = journal.begin(context, kind=plan.action, transaction_id=txn.id, amount=plan.amount,
                          api_request_key=key, order_id=plan.order_id, reason=plan.reason, batch=batch,
                          batch_row=batch_row)
    try:
        if plan.action == REFUND:
            result = gateway.refund(txn.id, amount=plan.send_amount, order_id=plan.order_id, api_request_key=key)
        else:
            result = gateway.void(txn.id, api_request_key=key)
    except Unavailable as err:  # the answer was lost: the money may or may not have moved
        journal.finish(entry, journal_.UNKNOWN, error=err.message)
        raise
    except PaycliError as err:
        declined = getattr(err, "transaction", None)
        journal.finish(entry, journal_.FAILED, result_id=declined.id if declined else None, error=err.message)
        raise
    except BaseException as err:  # Ctrl-C or a bug mid-call: leave it resumable, say why
        journal.finish(entry, journal_.UNKNOWN, error=f"interrupted: {type(err).__name__}")
        raise
    journal.finish(entry, journal_.DONE, result_id=result.id)
    return Outcome(plan, result, entry, resumed)
