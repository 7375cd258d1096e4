"""`client_token.generate`: a client token for the browser, carrying a signed authorization fingerprint.

Version 2 (the default) and 3 are base64 JSON, version 1 raw JSON; the JSON is `clientapi.token_document`.
Errors are Braintree's 928xx/92011 codes: an unknown customer, merchant account or version, or more than five
or malformed `domains`.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from paycli.sandbox import clientapi, fingerprint, rules, schema
from paycli.sandbox.records import text
from paycli.sandbox.replies import Reply, render
from paycli.sandbox.store import Merchant, Store

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.IGNORECASE)
_FINGERPRINT_OPTIONS = (
    "verify_card",
    "make_default",
    "fail_on_duplicate_payment_method",
    "fail_on_duplicate_payment_method_for_customer",
)


class ClientTokens:
    """Mints client tokens whose URLs follow `hosts` (clientapi.LOCAL or clientapi.BRAINTREE)."""

    def __init__(self, store: Store, hosts: str = clientapi.LOCAL) -> None:
        self._store = store
        self.hosts = hosts

    def generate(self, merchant: Merchant, params: dict[str, Any], base_url: str) -> Reply:
        version = params.get("version") or 2
        customer_id = text(params.get("customer_id"))
        account = text(params.get("merchant_account_id"))
        domains = params.get("domains") or []
        error = None
        if version not in (1, 2, 3):
            error = "92806"
        elif customer_id and self._store.customer(self._store.read(), merchant.id, customer_id) is None:
            error = "92804"
        elif account and account not in merchant.accounts:
            error = "92807"
        elif not isinstance(domains, list):
            error = "92011"
        elif len(domains) > 5:
            error = "92810"
        elif any(not _DOMAIN.match(str(d or "")) for d in domains):
            error = "92011"
        if error:
            return render(
                422,
                "api_error_response",
                {
                    "errors": schema.errors("client_token", {"": [(error, "base", rules.message(error))]}),
                    "params": {"client_token": params},
                    "message": rules.message(error),
                },
            )
        options: dict[str, Any] = params["options"] if isinstance(params.get("options"), dict) else {}
        authorization = fingerprint.mint(
            merchant, customer_id, {name: True for name in _FINGERPRINT_OPTIONS if options.get(name) in (True, "true")}
        )
        token: dict[str, Any] = {
            "version": version,
            **clientapi.token_document(self.hosts, merchant.id, base_url, authorization),
        }
        if account:
            token["merchantAccountId"] = account
        document = json.dumps(token)
        value = document if version == 1 else base64.b64encode(document.encode()).decode()
        return render(201, "client_token", {"value": value})
