"""`client_token.generate`: base64 JSON for v2, raw JSON for v1; the SDK raises ValueError on a 422."""

from __future__ import annotations

import base64
import json

import pytest


def decoded(token: str) -> dict:
    return json.loads(base64.b64decode(token))


def test_v2_token_is_base64_json_pointing_at_the_sandbox(gateway, merchant, shared_sandbox) -> None:
    token = decoded(gateway.client_token.generate())

    assert token["version"] == 2
    assert token["merchantId"] == merchant.id
    assert token["configUrl"] == f"{shared_sandbox.url}/merchants/{merchant.id}/client_api/v1/configuration"
    assert token["clientApiUrl"] == f"{shared_sandbox.url}/merchants/{merchant.id}/client_api"
    assert token["authorizationFingerprint"]
    assert "merchantAccountId" not in token


def test_v1_token_is_raw_json(gateway, merchant) -> None:
    token = json.loads(gateway.client_token.generate({"version": 1}))

    assert token["version"] == 1
    assert token["merchantId"] == merchant.id


def test_fingerprint_does_not_contain_the_private_key(gateway, merchant) -> None:
    token = gateway.client_token.generate()

    assert merchant.private_key not in decoded(token)["authorizationFingerprint"]
    assert merchant.private_key not in token


def test_token_for_an_existing_customer_is_bound_to_it(gateway) -> None:
    assert gateway.customer.create({"id": "cust-42"}).is_success

    token = decoded(gateway.client_token.generate({"customer_id": "cust-42"}))

    assert "customer_id=cust-42" in token["authorizationFingerprint"]


def test_token_for_an_unknown_customer_raises_value_error(gateway) -> None:
    with pytest.raises(ValueError, match=r"^Customer specified by customer_id does not exist$"):
        gateway.client_token.generate({"customer_id": "nobody"})


def test_token_for_a_merchant_account_names_it(gateway, merchant) -> None:
    token = decoded(gateway.client_token.generate({"merchant_account_id": f"{merchant.id}_eur"}))

    assert token["merchantAccountId"] == f"{merchant.id}_eur"


def test_token_for_an_unknown_merchant_account_raises_value_error(gateway) -> None:
    with pytest.raises(ValueError, match=r"^Merchant Account specified by merchant_account_id does not exist$"):
        gateway.client_token.generate({"merchant_account_id": "nope"})


def test_token_with_valid_domains(gateway) -> None:
    assert decoded(gateway.client_token.generate({"domains": ["example.com", "shop.example.org"]}))["version"] == 2


def test_more_than_five_domains_raise_value_error(gateway) -> None:
    domains = [f"d{i}.example.com" for i in range(6)]

    with pytest.raises(ValueError, match=r"^Cannot specify more than 5 client token domains$"):
        gateway.client_token.generate({"domains": domains})


@pytest.mark.parametrize("domain", ["example", "under_score.com", "-lead.example.com"])
def test_invalid_domain_raises_value_error(gateway, domain) -> None:
    with pytest.raises(ValueError, match=r"^Client token domains must be valid domain names \(RFC 1035\)"):
        gateway.client_token.generate({"domains": [domain]})


def test_unsupported_version_raises_value_error(gateway) -> None:
    with pytest.raises(ValueError, match=r"^Unsupported client token version$"):
        gateway.client_token.generate({"version": 9})
