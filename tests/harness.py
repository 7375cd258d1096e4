"""The test harness's plain helpers: merchants for the offline sandbox and the real braintree SDK pointed at it.

Both test trees (tests/ and tests/sandbox/) use these through their fixtures, and the benchmarks in bench/
import them too, so there is one recipe for "an SDK gateway talking to a sandbox on loopback". Nothing here
is mocked: the gateway sends real HTTP requests to the sandbox's port.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import braintree

from paycli.sandbox import Merchant


def new_merchant(**settings: Any) -> Merchant:
    """A merchant with fresh random ids and keys, a USD and an EUR merchant account (not stored anywhere yet)."""
    merchant_id = "m" + secrets.token_hex(6)
    accounts = {f"{merchant_id}_usd": "USD", f"{merchant_id}_eur": "EUR"}
    return Merchant(merchant_id, "pub_" + secrets.token_hex(6), "priv_" + secrets.token_hex(12), accounts, **settings)


def local_environment(url: str, name: str = "local") -> braintree.Environment:
    """The SDK's Environment for a sandbox listening at `url` (http://host:port), without TLS."""
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.hostname and parts.port, f"not a sandbox url: {url!r}"
    port = str(parts.port)  # the SDK concatenates host and port: it must be a str
    return braintree.Environment(name, parts.hostname, port, url, False, None, parts.hostname, port)


def sdk_gateway(
    url: str, merchant_id: str, public_key: str, private_key: str, **configuration: Any
) -> braintree.BraintreeGateway:
    """A real SDK gateway for one merchant of the sandbox at `url`.

    `configuration` goes to `braintree.Configuration` as it is (`timeout`, `http_strategy`, ...); HTTP errors
    arrive as the SDK's own exceptions unless `wrap_http_exceptions=False` is passed.
    """
    configuration.setdefault("wrap_http_exceptions", True)
    return braintree.BraintreeGateway(
        braintree.Configuration(
            environment=local_environment(url),
            merchant_id=merchant_id,
            public_key=public_key,
            private_key=private_key,
            **configuration,
        )
    )


def merchant_gateway(url: str, merchant: Merchant, **configuration: Any) -> braintree.BraintreeGateway:
    """`sdk_gateway` with the ids and keys of a sandbox `Merchant`."""
    return sdk_gateway(url, merchant.id, merchant.public_key, merchant.private_key, **configuration)


def settled_sales(gateway: braintree.BraintreeGateway, count: int, amount: str = "10.00") -> list[str]:
    """`count` sales of `amount` from the test nonce, each settled at once so it can be refunded."""
    sales = []
    for _ in range(count):
        sale = gateway.transaction.sale(
            {"amount": amount, "payment_method_nonce": "fake-valid-nonce", "options": {"submit_for_settlement": True}}
        ).transaction.id
        assert gateway.testing.settle_transaction(sale).is_success
        sales.append(sale)
    return sales


def serve_sandbox(
    db: Path | str, *options: str, env: Mapping[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """`paycli sandbox serve` in its own process on a free port, over `db`; the process and its url.

    The caller stops it (`terminate()`, `wait()`); its stderr stays open for what it says after starting.
    """
    server = subprocess.Popen(
        [sys.executable, "-m", "paycli", "sandbox", "serve", "--port", "0", "--db", str(db), *options],
        stderr=subprocess.PIPE,
        text=True,
        env=None if env is None else dict(env),
    )
    assert server.stderr is not None
    line = server.stderr.readline()
    found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
    if found is None:
        server.kill()
        raise RuntimeError(f"paycli sandbox serve did not start: {line.strip() or server.wait()}")
    return server, found[1]
