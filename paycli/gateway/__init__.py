"""The gateway: the only package that imports braintree. SDK objects and exceptions go in, paycli's models
and errors come out (see docs/architecture.md).

    client.py          `connect()` and `Gateway`, the one object the domain talks to
    calls.py           the call wrapper: every SDK request runs inside it (errors -> PaycliErrors, retries)
    transport.py       the SDK's Configuration and Http with paycli's reply decoder, and the decode gate
    results.py         SDK transactions and results -> paycli's Transaction (or Declined / GatewayRefused)
    search.py          Braintree's two-phase transaction search: ids first, then pages of 50
    sandbox_routes.py  the sandbox-only routes `paycli sandbox …` uses: settle now, reset, status
    webhooks.py        webhook notifications signed and verified with the profile's keys (no HTTP)

Importing this package is cheap: `Gateway` and `connect` load braintree on first access, so a module can
name them for type checking (or `paycli --help` can import a module that does) without paying for the SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paycli.gateway.client import Gateway, connect

__all__ = ["Gateway", "connect"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from paycli.gateway import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
