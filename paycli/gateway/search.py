"""Braintree's transaction search, in its two phases: every matching id first (at most the gateway's cap,
silently), then the transactions for a page of up to 50 of those ids at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import braintree
from braintree.exceptions import RequestTimeoutError

from paycli.gateway.calls import Calls
from paycli.gateway.results import transaction
from paycli.models import Transaction, TransactionQuery


def search_ids(calls: Calls, query: TransactionQuery) -> list[str]:
    nodes = _criteria(query)
    collection = calls.run("search", lambda: calls.sdk.transaction.search(nodes), retry=True)
    return list(collection.ids)


def fetch_page(calls: Calls, query: TransactionQuery, ids: Sequence[str]) -> list[Transaction]:
    """The transactions for up to one page of ids, in the order given; the query is sent again with the
    ids, as the SDK's own search does."""
    from braintree.resource_collection import ResourceCollection

    sdk = calls.sdk
    params: dict[str, Any] = {}
    for node in _criteria(query):  # nodes on one field merge, later ones winning, as in the SDK's search
        value = node.to_param()
        params[node.name] = {**params.get(node.name, {}), **value} if isinstance(value, dict) else value
    params["ids"] = list(ids)
    path = sdk.config.base_merchant_path() + "/transactions/advanced_search"

    def fetch() -> list[Transaction]:
        response = sdk.config.http().post(path, {"search": params})
        page = response.get("credit_card_transactions")
        if page is None:  # what the SDK's search raises too when Braintree answers without the page
            raise RequestTimeoutError("search timeout")
        items = ResourceCollection._extract_as_array(page, "transaction")
        return [transaction(braintree.Transaction(sdk, item)) for item in items]

    found = {t.id: t for t in calls.run("search page", fetch, retry=True)}
    return [found[i] for i in ids if i in found]


def _criteria(query: TransactionQuery) -> list[Any]:
    search = braintree.TransactionSearch
    nodes: list[Any] = []
    if query.ids:
        nodes.append(search.ids.in_list(*query.ids))
    for field, value in (
        ("order_id", query.order_id),
        ("customer_email", query.customer_email),
        ("customer_id", query.customer_id),
    ):
        if value:
            nodes.append(getattr(search, field) == value)
    if query.last_4:
        nodes.append(search.credit_card_number.ends_with(query.last_4))
    if query.settlement_batch_id_prefix:
        nodes.append(search.settlement_batch_id.starts_with(query.settlement_batch_id_prefix))
    for field, values in (
        ("status", query.statuses),
        ("type", query.types),
        ("merchant_account_id", query.merchant_account_ids),
    ):
        if values:
            nodes.append(getattr(search, field).in_list(*values))
    for field, low, high in (
        ("created_at", query.created_from, query.created_to),
        ("settled_at", query.settled_from, query.settled_to),
        ("amount", query.amount_min, query.amount_max),
    ):
        node = getattr(search, field)
        # the SDK sends datetimes as naive UTC, so convert before handing over
        low, high = (_utc_naive(v) for v in (low, high))
        if low is not None and high is not None:
            nodes.append(node.between(low, high))
        elif low is not None:
            nodes.append(node >= low)
        elif high is not None:
            nodes.append(node <= high)
    return nodes


def _utc_naive(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(value, Decimal):
        return str(value)
    return value
