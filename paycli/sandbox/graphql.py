"""The subset of Braintree's GraphQL API that braintree-web uses: `ClientConfiguration` and `TokenizeCreditCard`.

Requests are dispatched on `operationName` (braintree-web always names its operations), not parsed as
GraphQL. Anything else answers an `UNSUPPORTED` error: braintree-web silently retries over REST only on
`UNKNOWN`/`INTERNAL`, so a clear class that it does not retry surfaces the gap instead of hiding it.
Like Braintree's, answers are HTTP 200 with `errors` for validation problems; a bad fingerprint is 401.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from paycli.sandbox import client_nonces, clientapi, fingerprint, rules

if TYPE_CHECKING:
    from paycli.sandbox.operations import Sandbox

# the SDK's brand names → GraphQL brand codes (braintree-web maps them back)
BRAND_CODES = {
    "Visa": "VISA",
    "MasterCard": "MASTERCARD",
    "American Express": "AMERICAN_EXPRESS",
    "Discover": "DISCOVER",
    "Diners Club": "DINERS",
    "JCB": "JCB",
    "Maestro": "INTERNATIONAL_MAESTRO",
    "China UnionPay": "UNION_PAY",
    "UnionPay": "UNION_PAY",
    "Elo": "ELO",
    "Hiper": "HIPER",
    "Hipercard": "HIPERCARD",
}
_INPUT_PATHS = {
    "number": "number",
    "expiration_date": "expirationMonth",
    "expiration_month": "expirationMonth",
    "expiration_year": "expirationYear",
    "cvv": "cvv",
}


def _answer(status: int, value: dict[str, Any]) -> clientapi.Answer:
    value["extensions"] = {"requestId": str(uuid.uuid4())}
    return clientapi.json_answer(status, value)


def error(message: str, error_class: str, status: int = 200, **extensions: Any) -> clientapi.Answer:
    return _answer(
        status,
        {"data": None, "errors": [{"message": message, "extensions": {"errorClass": error_class, **extensions}}]},
    )


def serve(
    sandbox: Sandbox, method: str, headers: Mapping[str, str], payload: dict[str, Any], base_url: str
) -> clientapi.Answer:
    if method != "POST":
        return error("GraphQL requests are POSTs", "UNSUPPORTED", 405)
    bearer = headers.get("authorization", "")
    claims = fingerprint.verify(sandbox.store, bearer[7:] if bearer.lower().startswith("bearer ") else None)
    if claims is None:
        return error("Authorization fingerprint is invalid or expired", "AUTHENTICATION", 401)
    operation = payload.get("operationName")
    if operation == "ClientConfiguration":
        return _answer(200, {"data": {"clientConfiguration": client_configuration(sandbox, claims, base_url)}})
    if operation == "TokenizeCreditCard":
        return tokenize(sandbox, claims, payload.get("variables"))
    return error(
        f"paycli's sandbox does not implement the GraphQL operation {operation or '(unnamed)'}; "
        "it answers ClientConfiguration and TokenizeCreditCard",
        "UNSUPPORTED",
    )


def client_configuration(sandbox: Sandbox, claims: fingerprint.Claims, base_url: str) -> dict[str, Any]:
    rest = clientapi.configuration(sandbox.client_hosts, claims.merchant.id, base_url)
    brands = [BRAND_CODES[name] for name in clientapi.SUPPORTED_CARD_TYPES]
    config: dict[str, Any] = {
        "analyticsUrl": rest["analytics"]["url"],
        "environment": "SANDBOX",
        "merchantId": claims.merchant.id,
        "creditCard": {
            "supportedCardBrands": brands,
            "challenges": [],
            "threeDSecureEnabled": False,
            "threeDSecure": None,
        },
        "supportedFeatures": ["TOKENIZE_CREDIT_CARDS"],
    }
    # absent rather than null: braintree-web checks the domain of every URL that is present
    for name in ("clientApiUrl", "assetsUrl"):
        if name in rest:
            config[name] = rest[name]
    return config


def tokenize(sandbox: Sandbox, claims: fingerprint.Claims, variables: Any) -> clientapi.Answer:
    inputs = variables.get("input") if isinstance(variables, dict) else None
    if not isinstance(inputs, dict):
        inputs = {}
    card = inputs.get("creditCard")
    if not isinstance(card, dict):
        return error(
            "Variable 'input' has an invalid value: creditCard is required",
            "VALIDATION",
            inputPath=["input", "creditCard"],
        )
    options: dict[str, Any] = inputs["options"] if isinstance(inputs.get("options"), dict) else {}
    result = client_nonces.tokenize(sandbox, claims, card, graphql=True, validate=options.get("validate") is True)
    if isinstance(result, list):
        return _answer(
            200,
            {
                "data": {"tokenizeCreditCard": None},
                "errors": [
                    {
                        "message": rules.message(code)
                        if code != client_nonces.VERIFICATION_FAILED
                        else "Credit card verification failed",
                        "path": ["tokenizeCreditCard"],
                        "extensions": {
                            "errorClass": "VALIDATION",
                            "legacyCode": code,
                            "inputPath": ["input", "creditCard", _INPUT_PATHS.get(attribute, attribute)],
                        },
                    }
                    for _, code, attribute in result
                ],
            },
        )
    details = result.card
    return _answer(
        200,
        {
            "data": {
                "tokenizeCreditCard": {
                    "token": result.nonce,
                    "creditCard": {
                        "bin": details["bin"],
                        "brandCode": BRAND_CODES.get(details["card_type"], "UNKNOWN"),
                        "last4": details["last_4"],
                        "cardholderName": details.get("cardholder_name"),
                        "expirationMonth": details["expiration_month"],
                        "expirationYear": details["expiration_year"],
                        # GraphQL's enum spelling, and four more fields than the REST shape
                        "binData": dict.fromkeys(
                            (*clientapi.BIN_DATA_FIELDS, "business", "consumer", "purchase", "corporate"), "UNKNOWN"
                        ),
                    },
                }
            }
        },
    )
