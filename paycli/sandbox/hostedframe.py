"""Static files the browser loads from the sandbox: the hosted-fields frame stand-in and braintree-web's JS."""

from __future__ import annotations

from paycli.sandbox import clientapi


def serve_asset(method: str, route: str) -> clientapi.Answer:
    return clientapi.json_answer(404, {"error": {"message": f"no asset at {route}"}})
