"""The browser's client API: JSON beside the XML API, on the same server and store.

braintree-web (and the server SDKs' own test harness) call these with nothing but the authorization
fingerprint of a client token: the client configuration, card tokenization, the customer's payment
methods, GraphQL (see `graphql`), an analytics sink, and the hosted-fields frame stand-in. Every answer
carries `Access-Control-Allow-Origin: *` and `OPTIONS` preflights are answered, because a page on another
origin calls them (no cookies or credentials are involved).

Two host layouts (`Sandbox.client_hosts`):
- `local`: tokens point at this server and the configuration names no URLs. braintree-web rejects any
  configuration URL that is not https on a Braintree domain, and with the URLs left out it builds
  relative `undefined/v1/…` paths that resolve against the page, which `paycli serve` forwards here.
- `braintree`: tokens and configuration carry Braintree's real sandbox host names (GraphQL included) and a
  browser that paycli drives routes those hosts here. This is the faithful layout: GraphQL configuration
  and tokenization, `tokencc_` nonces.

Handlers are plain functions of (method, path, headers, body) → (status, headers, body) so the HTTP layer
only has to hand requests over.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from paycli.sandbox import client_nonces, fingerprint, instruments, rules
from paycli.sandbox.records import now, stamp

if TYPE_CHECKING:
    from paycli.sandbox.operations import Sandbox

Answer = tuple[int, dict[str, str], bytes]
# what a card's BIN says (prepaid, debit, …); the sandbox knows none of it for tokenized cards
BIN_DATA_FIELDS = (
    "prepaid",
    "healthcare",
    "debit",
    "durbinRegulated",
    "commercial",
    "payroll",
    "issuingBank",
    "countryOfIssuance",
    "productId",
)

LOCAL, BRAINTREE = "local", "braintree"
BRAINTREE_API = "https://api.sandbox.braintreegateway.com:443"
BRAINTREE_ASSETS = "https://assets.braintreegateway.com"
BRAINTREE_GRAPHQL = "https://payments.sandbox.braintree-api.com/graphql"
BRAINTREE_ANALYTICS = "https://origin-analytics-sand.sandbox.braintree-api.com"
# Braintree's sandbox tokens carry this GraphQL date; braintree-web then fetches its configuration and
# tokenizes cards over GraphQL.
GRAPHQL_DATE = "2018-05-08"
SUPPORTED_CARD_TYPES = ("American Express", "Discover", "JCB", "MasterCard", "Visa", "UnionPay", "Maestro")

CORS = {"Access-Control-Allow-Origin": "*"}
PREFLIGHT = {
    **CORS,
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization, Braintree-Version",
    "Access-Control-Max-Age": "600",
}
_CLIENT_API = re.compile(r"^/merchants/(?P<merchant>[^/]+)/client_api/(?P<rest>.*)$")
_OWNED = re.compile(r"^/(merchants/[^/]+/client_api/|graphql$|analytics(/|$)|web/|paycli/js/)")


def owns(path: str) -> bool:
    """Whether a request path belongs to the client API (everything else is the XML API's)."""
    return bool(_OWNED.match(urlsplit(path).path))


def json_answer(status: int, value: Any, headers: Mapping[str, str] | None = None) -> Answer:
    return (
        status,
        {**CORS, "Content-Type": "application/json; charset=utf-8", **(headers or {})},
        json.dumps(value).encode(),
    )


def api_base(hosts: str, base_url: str, merchant_id: str) -> str:
    return f"{BRAINTREE_API if hosts == BRAINTREE else base_url}/merchants/{merchant_id}/client_api"


def token_document(hosts: str, merchant_id: str, base_url: str, authorization: str) -> dict[str, Any]:
    """The JSON inside a client token (braintree-web reads the fingerprint, configUrl, environment, graphQL)."""
    api = api_base(hosts, base_url, merchant_id)
    document: dict[str, Any] = {
        "authorizationFingerprint": authorization,
        "configUrl": f"{api}/v1/configuration",
        "clientApiUrl": api,
        "environment": "sandbox",
        "merchantId": merchant_id,
        "challenges": [],
        "threeDSecureEnabled": False,
        "paypalEnabled": False,
    }
    if hosts == BRAINTREE:
        document.update(assetsUrl=BRAINTREE_ASSETS, graphQL={"url": BRAINTREE_GRAPHQL, "date": GRAPHQL_DATE})
    return document


def configuration(hosts: str, merchant_id: str, base_url: str) -> dict[str, Any]:
    """The client configuration (REST shape). In the local layout it names no URL (see the module doc)."""
    config: dict[str, Any] = {
        "environment": "sandbox",
        "merchantId": merchant_id,
        "challenges": [],
        "creditCards": {"supportedCardTypes": list(SUPPORTED_CARD_TYPES)},
        "threeDSecureEnabled": False,
        "threeDSecure": None,
        "paypalEnabled": False,
        "venmo": "off",
        "kount": {"kountMerchantId": None},
        "analytics": {"url": f"{base_url}/analytics/{merchant_id}"},
    }
    if hosts == BRAINTREE:
        config.update(
            clientApiUrl=api_base(BRAINTREE, base_url, merchant_id),
            assetsUrl=BRAINTREE_ASSETS,
            analytics={"url": f"{BRAINTREE_ANALYTICS}/{merchant_id}"},
            graphQL={"url": BRAINTREE_GRAPHQL, "features": ["tokenize_credit_cards"]},
        )
    return config


def card_json(nonce: str, card: dict[str, Any]) -> dict[str, Any]:
    last_4 = card.get("last_4") or ""
    return {
        "type": "CreditCard",
        "nonce": nonce,
        "description": f"ending in {last_4[-2:]}",
        "consumed": False,
        "threeDSecureInfo": None,
        "details": {
            "cardType": card.get("card_type"),
            "lastTwo": last_4[-2:],
            "lastFour": last_4,
            "bin": card.get("bin"),
            "expirationMonth": card.get("expiration_month"),
            "expirationYear": card.get("expiration_year"),
            "cardholderName": card.get("cardholder_name"),
        },
        "binData": dict.fromkeys(BIN_DATA_FIELDS, "Unknown"),
    }


def field_errors(problems: list[client_nonces.Problem]) -> Answer:
    """422 in the client API's shape: `fieldErrors` grouped under `creditCard`, Braintree's codes."""
    if any(code == client_nonces.VERIFICATION_FAILED for _, code, _ in problems):
        return json_answer(422, {"error": {"message": "Credit card verification failed"}, "fieldErrors": []})
    fields = [
        {
            "field": client_nonces.FIELD_NAMES.get(attribute, attribute),
            "code": code,
            "message": rules.message(code).rstrip("."),
        }
        for _, code, attribute in problems
    ]
    return json_answer(
        422,
        {
            "error": {"message": "Credit card is invalid"},
            "fieldErrors": [{"field": "creditCard", "fieldErrors": fields}],
        },
    )


def unauthorized() -> Answer:
    return json_answer(
        401, {"error": {"message": "Authorization fingerprint is invalid or expired"}, "fieldErrors": []}
    )


def serve(sandbox: Sandbox, method: str, path: str, headers: Mapping[str, str], body: bytes, base_url: str) -> Answer:
    """One client-API request (`owns(path)` is true)."""
    from paycli.sandbox import graphql, hostedframe  # graphql and the frame build on this module

    if method == "OPTIONS":
        return 204, dict(PREFLIGHT), b""
    parts = urlsplit(path)
    route = parts.path
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    lowered = {key.lower(): value for key, value in headers.items()}
    if route.startswith("/analytics"):  # braintree-web's and Drop-in's event beacons: accepted, not kept
        return json_answer(200, {})
    if route.startswith(("/web/", "/paycli/js/")):
        return hostedframe.serve_asset(method, route)
    try:
        payload = json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError):
        return json_answer(400, {"error": {"message": "The request body is not JSON"}, "fieldErrors": []})
    if not isinstance(payload, dict):
        payload = {}
    if route == "/graphql":
        return graphql.serve(sandbox, method, lowered, payload, base_url)
    match = _CLIENT_API.match(route)
    if match is None:
        return json_answer(404, {"error": {"message": "Not found"}})
    bearer = lowered.get("authorization", "")
    presented = (
        query.get("authorizationFingerprint")
        or payload.get("authorizationFingerprint")
        or payload.get("authorization_fingerprint")
        or (bearer[7:] if bearer.lower().startswith("bearer ") else None)
    )
    claims = fingerprint.verify(sandbox.store, presented)
    if claims is None or claims.merchant.id != match["merchant"]:
        return unauthorized()
    rest = re.sub(r"\.json$", "", match["rest"])
    if method == "GET" and rest == "v1/configuration":
        return json_answer(200, configuration(sandbox.client_hosts, claims.merchant.id, base_url))
    if method == "POST" and rest == "v1/payment_methods/credit_cards":
        card = payload.get("creditCard", payload.get("credit_card"))
        if not isinstance(card, dict):
            return field_errors([("credit_card", "81714", "number")])
        options: dict[str, Any] = card["options"] if isinstance(card.get("options"), dict) else {}
        validate = options.get("validate")
        result = client_nonces.tokenize(
            sandbox, claims, card, graphql=False, validate=None if validate is None else validate in (True, "true")
        )
        if isinstance(result, list):
            return field_errors(result)
        return json_answer(201, {"creditCards": [card_json(result.nonce, result.card)]})
    if method == "GET" and rest == "v1/payment_methods":
        return json_answer(200, {"paymentMethods": payment_methods(sandbox, claims)})
    if method == "POST" and rest == "v1/analytics":
        return json_answer(200, {})
    return json_answer(404, {"error": {"message": f"paycli's sandbox has no client API route {method} {rest}"}})


def payment_methods(sandbox: Sandbox, claims: fingerprint.Claims) -> list[dict[str, Any]]:
    """The customer's vaulted cards, each with a fresh single-use nonce (none for a guest token)."""
    if not claims.customer_id:
        return []
    listed = []
    with sandbox.store.write() as db:
        for card in sandbox.store.customer_payment_methods(db, claims.merchant.id, claims.customer_id):
            nonce = client_nonces.new_nonce(graphql=False)
            doc = {
                key: card.get(key)
                for key in ("bin", "last_4", "card_type", "expiration_month", "expiration_year", "cardholder_name")
            }
            doc.update(kind=instruments.CREDIT_CARD, customer_id=claims.customer_id, payment_method_token=card["token"])
            sandbox.store.put_client_nonce(db, claims.merchant.id, nonce, stamp(now()), doc)
            listed.append(dict(card_json(nonce, card), default=bool(card.get("default"))))
    return listed
