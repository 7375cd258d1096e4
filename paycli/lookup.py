"""Finding transactions: one by id with its refunds resolved, or many by a query, streamed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from paycli.braintree_facts import SEARCH_PAGE_SIZE
from paycli.errors import UsageError
from paycli.models import Transaction, TransactionQuery

if TYPE_CHECKING:
    from paycli.gateway import Gateway

IDS_PER_SEARCH = 1000  # keeps each request body small, well under any gateway's limits

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


def find_many(gateway: Gateway, ids: Iterable[str], *, concurrency: int = 4,
              on_found: Callable[[int], None] | None = None) -> dict[str, Transaction]:
    """Many transactions by id, their refunds resolved, in a few searches instead of one find each.

    Search by ids returns pages of 50, fetched `concurrency` at a time; an id missing from the result
    does not exist for this merchant. `on_found(n)` is told as each page arrives.
    """
    wanted = list(dict.fromkeys(ids))
    found = _fetch_by_ids(gateway, wanted, concurrency, on_found)
    refund_ids = [rid for txn in found.values() for rid in txn.refund_ids]
    refunds = _fetch_by_ids(gateway, refund_ids, concurrency, None) if refund_ids else {}
    return {txn_id: txn.with_refunds([refunds[r] for r in txn.refund_ids if r in refunds])
            for txn_id, txn in found.items()}


def _fetch_by_ids(gateway: Gateway, ids: list[str], concurrency: int,
                  on_found: Callable[[int], None] | None) -> dict[str, Transaction]:
    pages: list[tuple[TransactionQuery, list[str]]] = []
    for start in range(0, len(ids), IDS_PER_SEARCH):
        query = TransactionQuery(ids=tuple(ids[start:start + IDS_PER_SEARCH]))
        matched = gateway.search_ids(query)
        pages += [(query, matched[i:i + SEARCH_PAGE_SIZE]) for i in range(0, len(matched), SEARCH_PAGE_SIZE)]

    def fetch(page: tuple[TransactionQuery, list[str]]) -> list[Transaction]:
        txns = gateway.fetch_page(*page)
        if on_found:
            on_found(len(txns))
        return txns

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return {txn.id: txn for page in pool.map(fetch, pages) for txn in page}
