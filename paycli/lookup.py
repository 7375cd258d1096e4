"""Finding transactions: one by id with its refunds resolved, or many by a query, streamed.

A sale names its refunds by id; their amounts take one more request per page of up to 50, fetched by id
directly (a page of a search by ids), never one `find` per refund.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from paycli.braintree_facts import SEARCH_PAGE_SIZE
from paycli.errors import UsageError
from paycli.models import Transaction, TransactionQuery

if TYPE_CHECKING:
    from paycli.gateway import Gateway

IDS_PER_SEARCH = 1000  # keeps each request body small, well under any gateway's limits
SEARCH_PAGES_IN_FLIGHT = 4  # `txn search`: enough to hide the latency, few enough that --limit wastes little

# Braintree ids are [A-Za-z0-9_-]; the SDK answers anything else with a NotFoundError
# without asking, which would hide a typo such as a pasted trailing dot behind "not found".
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def check_id(txn_id: str) -> str:
    if not _ID.match(txn_id):
        raise UsageError(f"transaction id {txn_id!r} is malformed: ids are 1-64 letters, digits, '_' or '-'")
    return txn_id


def with_refunds(gateway: Gateway, txn: Transaction) -> Transaction:
    """The transaction with `refunded_amount` known."""
    if not txn.refund_ids:
        return txn.with_refunds([])
    refunds = _by_known_ids(gateway, list(txn.refund_ids))
    return txn.with_refunds([refunds[refund_id] for refund_id in txn.refund_ids])


def find_transaction(gateway: Gateway, txn_id: str) -> Transaction:
    return with_refunds(gateway, gateway.find(check_id(txn_id)))


def search_transactions(
    gateway: Gateway,
    query: TransactionQuery,
    *,
    limit: int | None = None,
    on_total: Callable[[int], None] | None = None,
    on_capped: Callable[[int], None] | None = None,
    pages_in_flight: int = SEARCH_PAGES_IN_FLIGHT,
) -> Iterator[Transaction]:
    """Matching transactions with their refunds resolved, in the search's order, page by page as they arrive.

    Pages (and each page's refunds) are fetched `pages_in_flight` at a time; only the pages `limit` needs are
    fetched. `on_total(n)` is told how many will come, once the ids are known. `on_capped(n)`: the gateway
    returned as many ids as a search can (the profile's `search_cap`), so there may be more matches than these.
    """
    ids = gateway.search_ids(query)
    if on_capped is not None and len(ids) >= gateway.search_cap:
        on_capped(len(ids))
    if limit is not None:
        ids = ids[:limit]
    if on_total is not None:
        on_total(len(ids))

    def page_with_refunds(page: list[str]) -> list[Transaction]:
        txns = gateway.fetch_page(query, page)
        refunds = _by_known_ids(gateway, [rid for txn in txns for rid in txn.refund_ids])
        return [txn.with_refunds([refunds[rid] for rid in txn.refund_ids]) for txn in txns]

    pages = (ids[start : start + SEARCH_PAGE_SIZE] for start in range(0, len(ids), SEARCH_PAGE_SIZE))
    pending: deque[Future[list[Transaction]]] = deque()
    with ThreadPoolExecutor(max(1, pages_in_flight), thread_name_prefix="paycli-search") as pool:
        try:
            for page in pages:
                pending.append(pool.submit(page_with_refunds, page))
                if len(pending) >= pages_in_flight:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        finally:
            for future in pending:  # the reader stopped or a page failed: fetch nothing more
                future.cancel()


def _by_known_ids(gateway: Gateway, ids: list[str]) -> dict[str, Transaction]:
    """Transactions whose ids are known to exist (a sale's refunds), a page of up to 50 per request.

    No id search first: the ids are the search's result already. One that a page leaves out (Braintree's
    search index can lag a moment behind a refund just made) is found on its own.
    """
    found: dict[str, Transaction] = {}
    for start in range(0, len(ids), SEARCH_PAGE_SIZE):
        page = ids[start : start + SEARCH_PAGE_SIZE]
        found.update((txn.id, txn) for txn in gateway.fetch_page(TransactionQuery(ids=tuple(page)), page))
    for missing in [txn_id for txn_id in ids if txn_id not in found]:
        found[missing] = gateway.find(missing)
    return found


def find_many(
    gateway: Gateway, ids: Iterable[str], *, concurrency: int = 4, on_found: Callable[[int], None] | None = None
) -> dict[str, Transaction]:
    """Many transactions by id, their refunds resolved, in a few searches instead of one find each.

    Search by ids returns pages of 50, fetched `concurrency` at a time; an id missing from the result
    does not exist for this merchant. `on_found(n)` is told as each page arrives.
    """
    wanted = list(dict.fromkeys(ids))
    found = _fetch_by_ids(gateway, wanted, concurrency, on_found)
    refund_ids = [rid for txn in found.values() for rid in txn.refund_ids]
    pages = [refund_ids[start : start + SEARCH_PAGE_SIZE] for start in range(0, len(refund_ids), SEARCH_PAGE_SIZE)]
    refunds: dict[str, Transaction] = {}
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for page in pool.map(lambda page: _by_known_ids(gateway, page), pages):
            refunds.update(page)
    return {txn_id: txn.with_refunds([refunds[r] for r in txn.refund_ids]) for txn_id, txn in found.items()}


def _fetch_by_ids(
    gateway: Gateway, ids: list[str], concurrency: int, on_found: Callable[[int], None] | None
) -> dict[str, Transaction]:
    pages: list[tuple[TransactionQuery, list[str]]] = []
    for start in range(0, len(ids), IDS_PER_SEARCH):
        query = TransactionQuery(ids=tuple(ids[start : start + IDS_PER_SEARCH]))
        matched = gateway.search_ids(query)
        pages += [(query, matched[i : i + SEARCH_PAGE_SIZE]) for i in range(0, len(matched), SEARCH_PAGE_SIZE)]

    def fetch(page: tuple[TransactionQuery, list[str]]) -> list[Transaction]:
        txns = gateway.fetch_page(*page)
        if on_found:
            on_found(len(txns))
        return txns

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return {txn.id: txn for page in pool.map(fetch, pages) for txn in page}
