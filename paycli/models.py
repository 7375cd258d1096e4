"""paycli's own records of Braintree objects, shared by every layer (SDK objects stop at paycli.gateway).

Amounts are Decimal, times timezone-aware UTC. Field names are the output keys scripts rely on (see the README).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from paycli.braintree_facts import IN_BATCH_STATUSES, NOT_REFUNDED_STATUSES, SETTLED_STATUSES, VOIDABLE_STATUSES

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class StatusEvent:
    status: str
    timestamp: datetime
    amount: Decimal


@dataclass(frozen=True)
class Transaction:
    id: str
    type: str  # sale | credit
    status: str
    amount: Decimal
    currency: str | None
    merchant_account_id: str | None
    order_id: str | None
    created_at: datetime
    updated_at: datetime
    payment_instrument_type: str | None
    card_type: str | None
    last_4: str | None
    customer_email: str | None
    processor_response_code: str | None
    processor_response_text: str | None
    gateway_rejection_reason: str | None
    settlement_batch_id: str | None
    refund_ids: tuple[str, ...]
    refunded_transaction_id: str | None
    status_history: tuple[StatusEvent, ...]
    customer_id: str | None = None
    custom_fields: Mapping[str, str] = field(default_factory=dict)
    # Σ of the refunds that moved money; None until the refunds were looked up (see lookup.py)
    refunded_amount: Decimal | None = None

    @property
    def settled_at(self) -> datetime | None:
        for event in self.status_history:
            if event.status in IN_BATCH_STATUSES:
                return event.timestamp
        return None

    @property
    def refundable_amount(self) -> Decimal | None:
        """What can still be given back: by refund once settled, by void (in full) before."""
        if self.type != "sale" or self.status not in SETTLED_STATUSES | VOIDABLE_STATUSES:
            return ZERO
        if self.refunded_amount is None:
            return None if self.refund_ids else self.amount
        return max(self.amount - self.refunded_amount, ZERO)

    def with_refunds(self, refunds: list[Transaction]) -> Transaction:
        moved = sum((r.amount for r in refunds if r.status not in NOT_REFUNDED_STATUSES), ZERO)
        return replace(self, refunded_amount=moved)


@dataclass(frozen=True)
class SettlementRecord:
    """One row of Braintree's settlement batch summary."""

    merchant_account_id: str
    card_type: str
    kind: str  # sale | credit
    count: int
    amount_settled: Decimal
    custom_field: str | None = None  # the value of the group-by custom field, when grouping
    # the merchant account's currency, from the profile's merchant_accounts (the summary does not say it);
    # None for an account the profile does not list
    currency: str | None = None


@dataclass(frozen=True)
class SettlementSummary:
    date: date
    profile: str
    records: tuple[SettlementRecord, ...]
    group_by_custom_field: str | None = None
    totals: tuple[SettlementTotal, ...] = ()  # per merchant account, from the records


@dataclass(frozen=True)
class TransactionQuery:
    """A transaction search in paycli's terms; paycli.gateway.search turns it into Braintree search nodes.

    Time bounds are aware datetimes, inclusive; `created_*` and `settled_*` narrow on those instants.
    """

    ids: tuple[str, ...] = ()
    order_id: str | None = None
    customer_email: str | None = None
    customer_id: str | None = None
    last_4: str | None = None
    statuses: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    merchant_account_ids: tuple[str, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    settled_from: datetime | None = None
    settled_to: datetime | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    # batch ids start with the settlement date (`2026-03-01_…`): this keeps a day's search to its own batch
    settlement_batch_id_prefix: str | None = None


@dataclass(frozen=True)
class SettlementTotal:
    """What one merchant account settled on a date: sales in, credits (refunds) out, and the net."""

    merchant_account_id: str
    sales_count: int
    sales_amount: Decimal
    credits_count: int
    credits_amount: Decimal
    currency: str | None = None  # the account's, as on its records: totals never mix currencies

    @property
    def net_amount(self) -> Decimal:
        return self.sales_amount - self.credits_amount


@dataclass(frozen=True, slots=True)
class SettlementRow:
    """One settled transaction of an export; fields in the export's CSV column order (slots: exports hold many)."""

    profile: str
    id: str
    type: str
    status: str
    amount: Decimal
    currency: str | None
    merchant_account_id: str | None
    order_id: str | None
    card_type: str | None
    last_4: str | None
    customer_email: str | None
    created_at: datetime
    settled_at: datetime
    settlement_batch_id: (
        str  # starts with the settlement date: `YYYY-MM-DD_`, as Braintree names its settlement batches
    )
    refunded_transaction_id: str | None


@dataclass(frozen=True)
class Mismatch:
    """An export total that disagrees with the settlement batch summary for one date, account and kind."""

    date: date
    merchant_account_id: str
    kind: str  # sale | credit
    summary_count: int
    summary_amount: Decimal
    export_count: int
    export_amount: Decimal
