"""Plain helpers over the real SDK, shared by the sandbox tests (fixtures live in conftest.py)."""

from __future__ import annotations

from typing import Any

import braintree
from harness import new_merchant, sdk_gateway

from paycli.sandbox import Merchant, RunningSandbox

__all__ = ["gateway_for", "new_merchant", "sale"]  # new_merchant: tests/harness.py's, re-exported here


def gateway_for(
    server: RunningSandbox | int, merchant: Merchant, *, private_key: str | None = None, timeout: int = 60
) -> braintree.BraintreeGateway:
    """A real SDK gateway for `merchant` on a sandbox (or on a port served by another process)."""
    port = server if isinstance(server, int) else server.port
    return sdk_gateway(
        f"http://127.0.0.1:{port}",
        merchant.id,
        merchant.public_key,
        private_key or merchant.private_key,
        timeout=timeout,
    )


def sale(
    gateway: braintree.BraintreeGateway,
    amount: str = "10.00",
    *,
    submit: bool = False,
    nonce: str = "fake-valid-nonce",
    **params: Any,
) -> Any:
    request: dict[str, Any] = {"amount": amount, "payment_method_nonce": nonce, **params}
    if submit:
        request.setdefault("options", {})["submit_for_settlement"] = True
    return gateway.transaction.sale(request)


def error_codes(result: Any) -> list[str]:
    return [error.code for error in result.errors.deep_errors]


def only_error(result: Any) -> Any:
    """The single validation error of a failed result (and that it is the only one)."""
    assert not result.is_success
    errors = result.errors.deep_errors
    assert len(errors) == 1, [(e.code, e.message) for e in errors]
    return errors[0]
