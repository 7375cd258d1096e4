"""The authorization fingerprint in sandbox client tokens: signed, self-contained, checked without a lookup table.

A browser's client API calls carry only this fingerprint, so it names the merchant and the customer the
token was issued for and is signed with the merchant's private key (HMAC-SHA256, so nothing can be
appended to a signed claim). Like Braintree's, it ends in `?customer_id=<id or empty>`: Drop-in reads that
suffix to choose between guest and vault mode.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from paycli.sandbox.records import now, stamp
from paycli.sandbox.store import Merchant, Store

# Braintree's client tokens are good for 24 hours.
LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class Claims:
    merchant: Merchant
    customer_id: str | None
    created_at: datetime
    options: dict[str, Any] = field(default_factory=dict)


def _sign(private_key: str, payload: str) -> str:
    return hmac.new(private_key.encode(), payload.encode(), hashlib.sha256).hexdigest()


def mint(merchant: Merchant, customer_id: str | None, options: dict[str, Any] | None = None) -> str:
    claims = {
        "merchant_id": merchant.id,
        "customer_id": customer_id,
        "created_at": stamp(now()),
        "options": options or {},
    }
    payload = base64.urlsafe_b64encode(json.dumps(claims, sort_keys=True).encode()).decode().rstrip("=")
    return f"{payload}.{_sign(merchant.private_key, payload)}?customer_id={customer_id or ''}"


def verify(store: Store, fingerprint: str | None) -> Claims | None:
    """The claims of a fingerprint this sandbox signed and that has not expired; None for anything else."""
    if not fingerprint:
        return None
    payload, _, rest = fingerprint.partition(".")
    signature = rest.partition("?")[0]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        merchant = store.merchant(str(claims["merchant_id"]))
        created = datetime.fromisoformat(str(claims["created_at"]).replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        return None
    if merchant is None or not hmac.compare_digest(_sign(merchant.private_key, payload), signature):
        return None
    if not created <= now() < created + LIFETIME:
        return None
    return Claims(merchant, claims.get("customer_id") or None, created, dict(claims.get("options") or {}))
