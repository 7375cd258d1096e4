"""Driving a local sandbox through its gateway: settle now, reset, report state.

Everything goes over HTTP (Braintree's testing endpoints, or paycli's own sandbox routes), so a served
sandbox sees the change itself — and fires the webhooks it is configured to send.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from paycli.lookup import check_id
from paycli.models import Transaction, TransactionQuery

if TYPE_CHECKING:
    from paycli.gateway import Gateway

WAITING = ("submitted_for_settlement", "settling")


def waiting_ids(gateway: Gateway) -> list[str]:
    return gateway.search_ids(TransactionQuery(statuses=WAITING))


def settle(gateway: Gateway, ids: Iterable[str], outcome: str = "settled") -> Iterator[Transaction]:
    for txn_id in ids:
        yield gateway.testing_settle(check_id(txn_id), outcome)


def reset(gateway: Gateway) -> dict[str, Any]:
    return gateway.sandbox_control("reset")


def status(gateway: Gateway) -> dict[str, Any]:
    return gateway.sandbox_control("status")
