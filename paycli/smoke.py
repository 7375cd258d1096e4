"""`paycli smoke`: the whole Braintree flow end to end, one timed PASS/FAIL step at a time.

token → checkout → find → search → settle → refund → void → summary. Each step depends on what the
earlier ones made, so after a failure the rest are reported as skipped (unless asked to keep going,
in which case steps whose inputs exist still run). Production profiles get a read-only subset: no
money moves there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from paycli import checkout, client_tokens, lookup
from paycli.dates import now_utc
from paycli.errors import GatewayRefused, PaycliError
from paycli.models import TransactionQuery

if TYPE_CHECKING:
    from paycli.gateway import Gateway

DEFAULT_AMOUNT = Decimal("10.00")


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    ms: int
    detail: str
    error: PaycliError | None = field(default=None, repr=False, compare=False)
    skipped: bool = False  # not run: an earlier step failed or made nothing for it (neither a pass nor a failure)


@dataclass(frozen=True)
class Report:
    profile: str
    ok: bool
    steps: tuple[Step, ...]

    @property
    def first_failure(self) -> PaycliError | None:
        return next((step.error for step in self.steps if step.error is not None), None)


class _Skipped(Exception):
    pass


def run(
    gateway: Gateway,
    *,
    amount: Decimal = DEFAULT_AMOUNT,
    keep_going: bool = False,
    on_step: Callable[[Step], None] | None = None,
    extra: tuple[tuple[str, Callable[[], str]], ...] = (),
) -> Report:
    """`extra`: more (name, action) steps after the full plan's (the browser checkout); none on production."""
    steps: list[Step] = []
    for step in _steps(gateway, amount, keep_going, extra):
        steps.append(step)
        if on_step:
            on_step(step)
    return Report(gateway.profile.name, all(step.ok for step in steps), tuple(steps))


def _steps(
    gateway: Gateway, amount: Decimal, keep_going: bool, extra: tuple[tuple[str, Callable[[], str]], ...]
) -> Iterator[Step]:
    made: dict[str, Any] = {}
    plan = _read_only_plan(gateway) if gateway.profile.production else [*_full_plan(gateway, amount, made), *extra]
    failed = False
    for name, action in plan:
        if failed and not keep_going:
            yield Step(name, False, 0, "skipped: an earlier step failed", skipped=True)
            continue
        started = time.perf_counter()
        try:
            detail = action()
        except _Skipped as skip:
            yield Step(name, False, 0, f"skipped: {skip}", skipped=True)
            failed = True
            continue
        except PaycliError as err:
            yield Step(name, False, _ms(started), err.message, err)
            failed = True
            continue
        yield Step(name, True, _ms(started), detail)


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _need(made: dict[str, Any], key: str) -> Any:
    if key not in made:
        raise _Skipped(f"needs the {key} step")
    return made[key]


def _full_plan(gateway: Gateway, amount: Decimal, made: dict[str, Any]) -> list[tuple[str, Callable[[], str]]]:
    order_id = f"smoke-{now_utc().strftime('%Y%m%dT%H%M%S')}"

    def token() -> str:
        made["token"] = client_tokens.generate(gateway)
        return f"client token v2, {len(made['token'].token)} chars"

    def sale() -> str:
        txn = checkout.checkout(gateway, checkout.CheckoutRequest(amount=amount, order_id=order_id))
        made["checkout"] = txn
        return f"{txn.id} {txn.status} {txn.amount} {txn.currency or ''}".rstrip()

    def find() -> str:
        txn = lookup.find_transaction(gateway, _need(made, "checkout").id)
        return f"{txn.id} {txn.status}"

    def search() -> str:
        wanted = _need(made, "checkout").id
        found = [t.id for t in lookup.search_transactions(gateway, TransactionQuery(order_id=order_id))]
        if wanted not in found:
            raise GatewayRefused(f"search by order id {order_id} did not return {wanted}")
        return f"order id {order_id}: {len(found)} found"

    def settle() -> str:
        txn = gateway.testing_settle(_need(made, "checkout").id)
        made["settle"] = txn
        return f"{txn.id} {txn.status}, batch {txn.settlement_batch_id}"

    def refund() -> str:
        settled = _need(made, "settle")
        credit = gateway.refund(settled.id, api_request_key=f"paycli-smoke-refund-{settled.id}")
        return f"{credit.id} credit {credit.amount} {credit.status}"

    def void() -> str:
        txn = checkout.checkout(
            gateway, checkout.CheckoutRequest(amount=amount, order_id=f"{order_id}-void", submit_for_settlement=False)
        )
        voided = gateway.void(txn.id, api_request_key=f"paycli-smoke-void-{txn.id}")
        return f"{voided.id} {voided.status}"

    def summary() -> str:
        settled = _need(made, "settle")
        day = date.fromisoformat(settled.settlement_batch_id[:10])
        records = gateway.settlement_summary(day)
        mine = [r for r in records if r.merchant_account_id == settled.merchant_account_id and r.kind == "sale"]
        if not mine:
            raise GatewayRefused(f"settlement summary for {day} has no sale record for {settled.merchant_account_id}")
        return f"{day}: {len(records)} records, {sum(r.count for r in mine)} sales on {settled.merchant_account_id}"

    return [
        ("token", token),
        ("checkout", sale),
        ("find", find),
        ("search", search),
        ("settle", settle),
        ("refund", refund),
        ("void", void),
        ("summary", summary),
    ]


def _read_only_plan(gateway: Gateway) -> list[tuple[str, Callable[[], str]]]:
    def token() -> str:
        return f"client token v2, {len(client_tokens.generate(gateway).token)} chars"

    def search() -> str:
        since = now_utc() - timedelta(days=1)
        found = len(gateway.search_ids(TransactionQuery(created_from=since)))
        return f"{found} transactions in the last 24 h"

    def summary() -> str:
        day = (now_utc() - timedelta(days=1)).date()
        return f"{day}: {len(gateway.settlement_summary(day))} records"

    return [("token", token), ("search", search), ("summary", summary)]
