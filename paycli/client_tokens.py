"""Client tokens: what the front end needs to start Braintree's client SDK."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paycli.errors import GatewayRefused

if TYPE_CHECKING:
    from paycli.gateway import Gateway

FINGERPRINT_PREFIX_CHARS = 12  # enough to tell two tokens apart, too little to use one


@dataclass(frozen=True)
class ClientToken:
    token: str
    version: int


def generate(
    gateway: Gateway, *, customer_id: str | None = None, merchant_account_id: str | None = None, version: int = 2
) -> ClientToken:
    token = gateway.generate_client_token(
        customer_id=customer_id, merchant_account_id=merchant_account_id, version=version
    )
    return ClientToken(token, version)


def decode(token: str) -> dict[str, Any]:
    """The token's JSON fields, with the authorization fingerprint cut to a prefix (it is a credential)."""
    try:
        text = token if token.lstrip().startswith("{") else base64.b64decode(token, validate=True).decode()
        fields = json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise GatewayRefused("the gateway's client token is neither JSON nor base64 JSON") from None
    fingerprint = fields.get("authorizationFingerprint")
    if isinstance(fingerprint, str):
        fields["authorizationFingerprint"] = fingerprint[:FINGERPRINT_PREFIX_CHARS] + "…"
    return fields
