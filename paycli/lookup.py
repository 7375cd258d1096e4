"""Finding transactions: one by id with its refunds resolved, or many by a query, streamed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from paycli.errors import UsageError
from paycli.models import Transaction, TransactionQuery

if TYPE_CHECKING:
    from paycli.gateway import Gateway

# Braintree ids are [A-Za-z0-9_-]; the SDK answers anything else with a NotFoundError without asking
# (wire reference §4.4), which would hide a typo such as a pasted trailing dot behind "not found".
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def check_id(txn_id: str) -> str:
    if not _ID.match(txn_id):
        raise UsageError(f"transaction id {txn_id!r} is malformed: ids are 1-64 letters, digits, '_' or '-'")
    return txn_id


def with_refunds(gateway: Gateway, txn: Transaction) -> Transaction:
    """The transaction with `refunded_amount` known: each refund is looked up once."""
    if not txn.refund_ids:
        return txn.with_refunds([])
    return txn.with_refunds([gateway.find(refund_id) for refund_id in txn.refund_ids])


def find_transaction(gateway: Gateway, txn_id: str) -> Transaction:
    return with_refunds(gateway, gateway.find(check_id(txn_id)))


def search_transactions(gateway: Gateway, query: TransactionQuery, *, limit: int | None = None,
                        ) -> Iterator[Transaction]:
    """Matching transactions page by page, so the first rows print before the last page is fetched."""
    for count, txn in enumerate(gateway.search(query), start=1):
        yield with_refunds(gateway, txn)
        if limit is not None and count >= limit:
            return
