"""Giving money back: plan first (look the transaction up, decide refund or void), then execute once.

Braintree's rules:
- a settled or settling sale is refunded, fully or partially, up to what is left;
- a sale not yet settled can only be given back whole, by voiding it (unless the caller forbids voids);
- a partial refund of an unsettled sale, an amount over the remainder, a credit, or a sale with nothing
  left are refused before any money call (exit 3).

Execution journals the intent before the call and carries an `api_request_key`: a rerun after a lost
answer resumes the unfinished entry with its key, so the gateway replays its first answer instead of
refunding twice, and the entry is closed with that answer. A deliberate repeat (a `done` refund of the
same transaction and amount within REPEAT_WINDOW) is for the caller to confirm: see `recent_repeat`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

from paycli import journal as journal_
from paycli.braintree_facts import REFUNDABLE_STATUSES, VOIDABLE_STATUSES
from paycli.errors import GatewayRefused, PaycliError, Unavailable
from paycli.lookup import find_transaction
from paycli.models import ZERO, Transaction

if TYPE_CHECKING:
    from paycli.gateway import Gateway
    from paycli.journal import Context, Entry, Journal

REFUND, VOID, NONE = "refund", "void", "none"
KEY_REUSED_FOR_ANOTHER_REQUEST = "915232"  # Braintree: "API request key can be reused only with the same request."
# A `done` refund of the same transaction and amount this recent makes a new one look like a double submit.
REPEAT_WINDOW = timedelta(minutes=10)


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

    @property
    def remaining_after(self) -> Decimal:
        left = self.transaction.refundable_amount or ZERO
        return max(left - self.amount, ZERO)


@dataclass(frozen=True)
class Outcome:
    plan: Plan
    result: Transaction  # the new credit (refund) or the voided sale, as the gateway answered
    journal_id: int
    resumed: bool  # an unfinished earlier entry was sent again under its key, and closed
    sale: Transaction | None = None  # the sale re-read after the call (`with_sale`): what is left now


def plan_refund(
    gateway: Gateway,
    txn_id: str,
    *,
    amount: Decimal | None = None,
    order_id: str | None = None,
    reason: str | None = None,
    allow_void: bool = True,
) -> Plan:
    return decide_refund(
        find_transaction(gateway, txn_id), amount=amount, order_id=order_id, reason=reason, allow_void=allow_void
    )


def decide_refund(
    txn: Transaction,
    *,
    amount: Decimal | None = None,
    order_id: str | None = None,
    reason: str | None = None,
    allow_void: bool = True,
) -> Plan:
    """The refund rules on an already-looked-up transaction (its refunds resolved)."""
    if txn.type != "sale":
        raise NotRefundable(f"{txn.id} is a {txn.type}: credits cannot be refunded (91505)", transaction_id=txn.id)
    left = txn.refundable_amount if txn.refundable_amount is not None else txn.amount
    if txn.status in VOIDABLE_STATUSES:
        if amount is not None and amount != txn.amount:
            raise NotRefundable(
                f"{txn.id} is {txn.status}, not settled: it can only be given back whole, by a void of "
                f"{txn.amount}; a partial refund waits for settlement (91506)",
                transaction_id=txn.id,
            )
        if not allow_void:
            raise NotRefundable(
                f"{txn.id} is {txn.status}, not settled: refunding it means voiding it, and --no-void forbids that",
                transaction_id=txn.id,
            )
        return Plan(VOID, txn, txn.amount, order_id, reason)
    if txn.status not in REFUNDABLE_STATUSES:
        raise NotRefundable(
            f"{txn.id} is {txn.status}: only settled or settling sales can be refunded", transaction_id=txn.id
        )
    if left <= ZERO:
        raise NotRefundable(
            f"{txn.id} has already been fully refunded ({txn.refunded_amount} of {txn.amount}; 91512)",
            transaction_id=txn.id,
        )
    wanted = left if amount is None else amount
    if wanted > left:
        raise NotRefundable(
            f"{txn.id}: refund of {wanted} is more than the {left} left to refund (91521)", transaction_id=txn.id
        )
    return Plan(REFUND, txn, wanted, order_id, reason)


def plan_void(gateway: Gateway, txn_id: str) -> Plan:
    txn = find_transaction(gateway, txn_id)
    if txn.status not in VOIDABLE_STATUSES:
        raise NotRefundable(
            f"{txn.id} is {txn.status}: only authorized or submitted_for_settlement transactions can be voided (91504)",
            transaction_id=txn.id,
        )
    return Plan(VOID, txn, txn.amount)


@contextmanager
def before_any_call() -> Iterator[None]:
    """Journal work before the money call: if the journal stays locked here, say that no money moved."""
    try:
        yield
    except journal_.JournalUnavailable as err:  # locked (SQLite) or unreachable (PostgreSQL)
        raise type(err)(
            f"{err.message}; nothing was sent to the gateway, so no money moved: try again", **err.details
        ) from None


def resumable(journal: Journal, context: Context, plan: Plan, *, api_request_key: str | None = None) -> Entry | None:
    """The unfinished entry (`pending`/`unknown`) this plan carries on, if any.

    With a key (a batch row's), the entry under that key; without one, the newest unfinished call of the
    same kind, transaction and amount: the same intent, whose answer paycli never learned.
    """
    if api_request_key is not None:
        entry = journal.latest(context.merchant_id, api_request_key)
        return entry if entry is not None and entry.state in journal_.UNFINISHED else None
    earlier = [
        e for e in journal.unfinished(context.merchant_id, plan.action, plan.transaction.id) if e.amount == plan.amount
    ]
    return earlier[0] if earlier else None


def recent_repeat(journal: Journal, context: Context, plan: Plan, *, now: datetime | None = None) -> Entry | None:
    """A `done` refund of the same transaction and amount within REPEAT_WINDOW: this may be a double submit."""
    if plan.action != REFUND or resumable(journal, context, plan) is not None:
        return None  # a resume moves no money a second time
    since = (now or datetime.now(timezone.utc)) - REPEAT_WINDOW
    return journal.last_done(context.merchant_id, REFUND, plan.transaction.id, plan.amount, since=since)


def execute(
    gateway: Gateway,
    journal: Journal,
    context: Context,
    plan: Plan,
    *,
    api_request_key: str | None = None,
    batch: str | None = None,
    batch_row: int | None = None,
) -> Outcome:
    """Move the money once: journal first, call with the key, record the answer.

    An unfinished entry of the same intent is resumed in place: the identical request (its amount, order id
    and key) is sent again, so the gateway answers with its original result, and that entry is closed
    with it. Otherwise a new entry with a new key (or the batch row's key) is written first.
    """
    txn = plan.transaction
    with before_any_call():
        earlier = resumable(journal, context, plan, api_request_key=api_request_key)
        if earlier is not None:
            entry, key, amount, order_id = earlier.id, earlier.api_request_key, earlier.amount, earlier.order_id
            journal.reopen(entry, currency=txn.currency)
        else:
            key = api_request_key or f"paycli-{plan.action}-{uuid.uuid4()}"
            amount, order_id = plan.amount, plan.order_id
            entry = journal.begin(
                context,
                kind=plan.action,
                transaction_id=txn.id,
                amount=amount,
                currency=txn.currency,
                api_request_key=key,
                order_id=order_id,
                reason=plan.reason,
                batch=batch,
                batch_row=batch_row,
            )
    what = f"{plan.action} of {txn.id}"
    try:
        result = _send(gateway, plan.action, txn.id, amount, order_id, key, resumed=earlier is not None)
    except Unavailable as err:  # the answer was lost: the money may or may not have moved
        _record(
            journal,
            entry,
            journal_.UNKNOWN,
            f"the answer to the {what} was lost, so it may have happened",
            error=err.message,
        )
        raise Unavailable(
            f"{err.message}; the {what} may or may not have happened, so the money may have moved: "
            f"rerun the same command to resume (journal entry #{entry}): it sends the same "
            "api_request_key and moves no money twice",
            **{**err.details, "entry": entry},
        ) from err
    except PaycliError as err:
        declined = getattr(err, "transaction", None)
        _record(
            journal,
            entry,
            journal_.FAILED,
            f"the gateway refused the {what} (no money moved)",
            result_id=declined.id if declined else None,
            error=err.message,
        )
        raise
    except BaseException as err:  # Ctrl-C or a bug mid-call: leave it resumable, say why
        journal.finish(entry, journal_.UNKNOWN, error=f"interrupted: {type(err).__name__}")
        raise
    _record(
        journal, entry, journal_.DONE, f"the {what} went through ({result.id}, {result.amount})", result_id=result.id
    )
    return Outcome(plan, result, entry, earlier is not None)


def _send(
    gateway: Gateway, action: str, txn_id: str, amount: Decimal | None, order_id: str | None, key: str, *, resumed: bool
) -> Transaction:
    if action != REFUND:
        return gateway.void(txn_id, api_request_key=key)
    try:
        # always an explicit amount: the request stays the same when it is resumed after the first attempt
        # changed what is left, and it never refunds more than the plan showed
        return gateway.refund(txn_id, amount=amount, order_id=order_id, api_request_key=key)
    except GatewayRefused as err:
        codes = {error.get("code") for error in err.details.get("errors", [])}
        if not resumed or KEY_REUSED_FOR_ANOTHER_REQUEST not in codes:
            raise
        # an entry journaled before refunds always named their amount may have asked for "everything left"
        return gateway.refund(txn_id, amount=None, order_id=order_id, api_request_key=key)


def _record(
    journal: Journal, entry: int, state: str, happened: str, *, result_id: str | None = None, error: str | None = None
) -> None:
    """Close the entry after the call; if the journal stays locked, say what happened to the money."""
    try:
        journal.finish(entry, state, result_id=result_id, error=error)
    except journal_.JournalUnavailable as err:
        raise type(err)(
            f"{happened}, but {err.message}, so its entry #{entry} is still pending: rerun the same command to "
            "record the outcome; it resumes with the same api_request_key and moves no money twice",
            **{**err.details, "entry": entry},
        ) from None


def with_sale(gateway: Gateway, outcome: Outcome) -> Outcome:
    """The outcome with the sale as the gateway shows it after the call (its refunds resolved)."""
    return replace(outcome, sale=find_transaction(gateway, outcome.plan.transaction.id))
