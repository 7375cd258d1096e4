"""lookup.py's round trips, counted in the gateway's own request log against a real sandbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from paycli import lookup
from paycli import sandbox as offline
from paycli.config import PrivateKey, Profile
from paycli.gateway import Gateway, connect
from paycli.models import TransactionQuery
from paycli.sandbox.store import Merchant

MERCHANT = Merchant("lk", "lk_public", "lk_private", {"lk_usd": "USD"})


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """120 sales with order id `bulk`, every other one settled and partly refunded (60 refunds, `bulk-refund`)."""
    running = offline.start(tmp_path_factory.mktemp("lookup") / "lk.db", [MERCHANT])
    seller = _gateway(running)
    refunded = {}
    for index in range(120):
        sale = seller.sale(
            {
                "amount": Decimal("10.00"),
                "payment_method_nonce": "fake-valid-nonce",
                "order_id": "bulk",
                "options": {"submit_for_settlement": True},
            }
        )
        if index % 2:
            seller.testing_settle(sale.id)
            seller.refund(sale.id, amount=Decimal("2.50"), order_id="bulk-refund")
            refunded[sale.id] = Decimal("2.50")
    yield running, refunded
    running.stop()


def _gateway(running: Any, log: list[str] | None = None) -> Gateway:
    profile = Profile(
        name="lk",
        environment="local",
        merchant_id=MERCHANT.id,
        public_key=MERCHANT.public_key,
        url=running.url,
        private_key=PrivateKey("inline", "test", inline=MERCHANT.private_key, profile="lk"),
    )
    return connect(profile, log=log.append if log is not None else None)


def test_search_resolves_refunds_in_bulk(populated) -> None:
    running, refunded = populated
    requests: list[str] = []
    found = list(lookup.search_transactions(_gateway(running, requests), TransactionQuery(order_id="bulk")))
    assert len(found) == 120
    assert {t.id: t.refunded_amount for t in found if t.refunded_amount} == refunded
    # one ids search, three pages (50, 50, 20), and each page's refunds in one more page: never a find each
    assert len([line for line in requests if "/transactions/advanced_search_ids " in line]) == 1
    assert len([line for line in requests if "/transactions/advanced_search " in line]) == 3 + 3
    assert len(requests) == 7, requests


def test_search_with_a_limit_fetches_only_the_pages_it_needs(populated) -> None:
    running, _ = populated
    requests: list[str] = []
    totals: list[int] = []
    found = list(
        lookup.search_transactions(
            _gateway(running, requests), TransactionQuery(order_id="bulk"), limit=30, on_total=totals.append
        )
    )
    assert len(found) == 30 and totals == [30]
    assert len([line for line in requests if "/transactions/advanced_search " in line]) <= 2  # a page + refunds


def test_find_many_and_show_resolve_refunds_by_page(populated) -> None:
    running, refunded = populated
    requests: list[str] = []
    gateway = _gateway(running, requests)
    many = lookup.find_many(gateway, list(refunded))
    assert {txn_id: txn.refunded_amount for txn_id, txn in many.items()} == refunded
    assert not [line for line in requests if line.startswith("GET ")]
    assert len(requests) <= 1 + 2 + 2  # ids search, two pages of sales, two pages of their refunds
    sale_id = next(iter(refunded))
    requests.clear()
    shown = lookup.find_transaction(gateway, sale_id)
    assert shown.refunded_amount == Decimal("2.50") and len(requests) == 2


def test_txn_search_cli_streams_the_same_results(invoke, populated, write_config, monkeypatch) -> None:
    running, refunded = populated
    monkeypatch.setenv("LK_KEY", MERCHANT.private_key)
    write_config(
        f"profiles:\n  lk:\n    environment: local\n    url: {running.url}\n"
        f"    merchant_id: {MERCHANT.id}\n    public_key: {MERCHANT.public_key}\n    private_key_env: LK_KEY\n"
    )
    run = invoke("-p", "lk", "-v", "txn", "search", "--order-id", "bulk", "-f", "ndjson")
    rows = run.ndjson()
    assert len(rows) == 120
    assert {r["id"]: Decimal(r["refunded_amount"]) for r in rows if r["refunded_amount"] != "0.00"} == refunded
    assert len([line for line in run.stderr.splitlines() if "/merchants/" in line]) <= 7, run.stderr
