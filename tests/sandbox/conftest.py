"""Fixtures for the sandbox's own suite: a real server on loopback, a fresh merchant per test, the real SDK.

The session's server is `shared_sandbox` (tests/conftest.py, shared with the CLI tests); every test gets its
own merchant on it, so tests never see each other's transactions. Tests that need faults, latency, a small
search cap or a nightly cutoff start their own server with `start_sandbox(...)`. The SDK is never mocked:
requests go over HTTP to 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import braintree
import pytest
from gateway_calls import gateway_for, new_merchant, sale

from paycli import sandbox
from paycli.sandbox import Merchant, RunningSandbox


@pytest.fixture
def merchant(shared_sandbox: RunningSandbox) -> Merchant:
    fresh = new_merchant()
    shared_sandbox.store.put_merchant(fresh)
    return fresh


@pytest.fixture
def gateway(shared_sandbox: RunningSandbox, merchant: Merchant) -> Iterator[braintree.BraintreeGateway]:
    client = gateway_for(shared_sandbox, merchant)
    yield client
    client.close()


@pytest.fixture
def start_sandbox(tmp_path: Path) -> Iterator[Callable[..., RunningSandbox]]:
    """`start_sandbox(merchants, **options)`: a server of the test's own, stopped at teardown."""
    started: list[RunningSandbox] = []

    def start(merchants: list[Merchant], db: Path | None = None, **options: Any) -> RunningSandbox:
        running = sandbox.start(db or tmp_path / f"own-{len(started)}.db", merchants=merchants, **options)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def own_gateway(start_sandbox: Callable[..., RunningSandbox]) -> Callable[..., braintree.BraintreeGateway]:
    """`own_gateway(merchant=None, **options)`: start a server with options, return a gateway for it."""

    def make(merchant: Merchant | None = None, **options: Any) -> braintree.BraintreeGateway:
        merchant = merchant or new_merchant()
        return gateway_for(start_sandbox([merchant], **options), merchant)

    return make


@pytest.fixture
def settled_sale(gateway: braintree.BraintreeGateway) -> Callable[..., Any]:
    """`settled_sale(amount="10.00", **params)`: a sale submitted and settled through testing.settle."""

    def make(amount: str = "10.00", **params: Any) -> Any:
        result = sale(gateway, amount, submit=True, **params)
        assert result.is_success, result.message
        settled = gateway.testing.settle_transaction(result.transaction.id)
        assert settled.is_success, settled.message
        return settled.transaction

    return make
