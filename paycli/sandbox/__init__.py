"""paycli's offline Braintree-compatible gateway.

The unmodified braintree SDK talks to it over loopback HTTP. `start()` runs it in a background
thread (the embedded mode of `environment: local` profiles, and every test); `paycli sandbox serve`
runs it in the foreground for other programs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from paycli.braintree_facts import SEARCH_CAP
from paycli.sandbox.faults import FaultPlan
from paycli.sandbox.operations import Sandbox
from paycli.sandbox.server import IDLE_TIMEOUT_SECONDS, MAX_CONNECTIONS, SandboxServer, ServerOptions
from paycli.sandbox.store import Merchant, Store, default_accounts
from paycli.sandbox.webhooks import WebhookSender

# The built-in `local` profile's merchant: no secret worth hiding, it only opens a loopback sandbox.
LOCAL_MERCHANT_ID = "local"
LOCAL_PUBLIC_KEY = "local_public_key"
LOCAL_PRIVATE_KEY = "local_private_key"


def local_merchant() -> Merchant:
    return Merchant(LOCAL_MERCHANT_ID, LOCAL_PUBLIC_KEY, LOCAL_PRIVATE_KEY, default_accounts(LOCAL_MERCHANT_ID))


@dataclass
class RunningSandbox:
    server: SandboxServer
    store: Store
    webhooks: WebhookSender | None = None  # with `webhook_url`: posts notifications as transactions settle

    @property
    def url(self) -> str:
        return self.server.base_url

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def sandbox(self) -> Sandbox:
        return self.server.sandbox

    def stop(self) -> None:
        self.server.stop()
        if self.webhooks is not None:
            self.webhooks.stop()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    db_path: Path | str,
    merchants: list[Merchant] | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    search_cap: int = SEARCH_CAP,
    latency_ms: int = 0,
    faults: str | None = None,
    fault_seed: int | None = None,
    log=None,
    webhook_url: str | None = None,
    webhook_log=None,
    idle_timeout: float = IDLE_TIMEOUT_SECONDS,
    max_connections: int = MAX_CONNECTIONS,
    client_hosts: str = "local",
) -> RunningSandbox:
    """Open the store, register merchants, and serve in a background thread.

    With `webhook_url`, settlements are announced there as Braintree webhooks (see `sandbox/webhooks.py`);
    `webhook_log` gets a line per delivery attempt. A connection idle for `idle_timeout` seconds is closed;
    past `max_connections` open connections a new one is answered 503. `client_hosts` picks where client
    tokens send a browser (`local` or `braintree`, see `sandbox/clientapi.py`).
    """
    store = Store(db_path)
    for merchant in merchants if merchants is not None else [local_merchant()]:
        store.put_merchant(merchant)
    options = ServerOptions(
        latency_ms=latency_ms,
        faults=FaultPlan.parse(faults, fault_seed),
        log=log,
        idle_timeout=idle_timeout,
        max_connections=max_connections,
    )
    webhooks = WebhookSender(webhook_url, store, log=webhook_log) if webhook_url else None  # a bad url: before binding
    server = SandboxServer(
        Sandbox(store, search_cap=search_cap, webhooks=webhooks, client_hosts=client_hosts), host, port, options
    )
    server.start_background()
    return RunningSandbox(server, store, webhooks)
