"""The sandbox's browser client API over real HTTP: shapes, codes, CORS, fingerprint auth, single-use nonces.

Client tokens come from the real braintree SDK; the calls are the ones braintree-web (camelCase, GraphQL) and
the SDK's own integration harness (snake_case, `.json` paths) make. No browser here.
"""

from __future__ import annotations

import base64
import json
import secrets
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from paycli import sandbox as sandbox_pkg
from paycli.sandbox import clientapi
from paycli.sandbox.store import Merchant

VISA = "4111111111111111"


def call(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, head, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        status, head, raw = err.code, dict(err.headers), err.read()
    return status, head, json.loads(raw) if raw else None


def token(sdk: Any, **params: Any) -> dict[str, Any]:
    return json.loads(base64.b64decode(sdk.client_token.generate(params or None)))


class Client:
    """A browser's view: a client token and the calls braintree-web makes with it."""

    def __init__(self, sdk: Any, *, api: str | None = None, **params: Any) -> None:
        self.token = token(sdk, **params)
        self.fingerprint = self.token["authorizationFingerprint"]
        self.api = api or self.token["clientApiUrl"]  # `api`: where a browser's routes send Braintree's host

    def configuration(self, fingerprint: str | None = None) -> tuple[int, dict[str, str], Any]:
        query = urllib.parse.urlencode(
            {"authorizationFingerprint": fingerprint or self.fingerprint, "configVersion": "3"}
        )
        return call("GET", f"{self.token['configUrl']}?{query}")

    def tokenize(self, card: dict[str, Any], *, snake: bool = False) -> tuple[int, dict[str, str], Any]:
        if snake:
            return call(
                "POST",
                f"{self.api}/v1/payment_methods/credit_cards.json",
                {"credit_card": card, "share": True, "authorizationFingerprint": self.fingerprint},
            )
        return call(
            "POST",
            f"{self.api}/v1/payment_methods/credit_cards",
            {
                "creditCard": {**card, "options": {"validate": False}},
                "_meta": {"source": "client", "integration": "custom"},
                "braintreeLibraryVersion": "braintree/web/3.144.0",
                "authorizationFingerprint": self.fingerprint,
            },
        )

    def nonce(self, number: str = VISA) -> str:
        status, _, body = self.tokenize({"number": number, "expirationDate": "12/30", "cvv": "123"})
        assert status == 201, body
        return body["creditCards"][0]["nonce"]

    def graphql(
        self, operation: str, variables: Any = None, *, fingerprint: str | None = None, base: str
    ) -> tuple[int, dict[str, str], Any]:
        return call(
            "POST",
            f"{base}/graphql",
            {"operationName": operation, "query": "…", "variables": variables or {}},
            {"Authorization": f"Bearer {fingerprint or self.fingerprint}", "Braintree-Version": "2018-05-10"},
        )


@pytest.fixture
def braintree_hosts(tmp_path: Path, sdk_for: Any) -> Any:
    """A sandbox of the test's own in the `braintree` host layout, with its merchant and SDK gateway."""
    merchant = Merchant("mbh", "mbh_public", f"mbh_{secrets.token_hex(8)}", {"mbh_usd": "USD"})
    running = sandbox_pkg.start(tmp_path / "bh.db", merchants=[merchant], client_hosts=clientapi.BRAINTREE)
    yield running, sdk_for(running.url, merchant.id, merchant.public_key, merchant.private_key)
    running.stop()


# --- tokens and the configuration ---------------------------------------------------------------


def test_local_token_points_at_the_sandbox_without_graphql(sandbox) -> None:
    client = Client(sandbox.sdk)

    assert client.token["configUrl"] == f"{sandbox.url}/merchants/{sandbox.merchant.id}/client_api/v1/configuration"
    assert "graphQL" not in client.token and "assetsUrl" not in client.token
    assert client.fingerprint.endswith("?customer_id=")


def test_local_configuration_names_no_url_but_has_what_braintree_web_reads(sandbox) -> None:
    status, headers, config = Client(sandbox.sdk).configuration()

    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    assert config["merchantId"] == sandbox.merchant.id and config["environment"] == "sandbox"
    assert "Visa" in config["creditCards"]["supportedCardTypes"]
    assert config["analytics"]["url"].startswith(sandbox.url)
    for name in ("clientApiUrl", "assetsUrl", "configUrl", "graphQL"):
        assert name not in config, name


def test_braintree_layout_token_and_configuration_carry_braintree_hosts(braintree_hosts) -> None:
    running, sdk = braintree_hosts
    client = Client(sdk)

    assert client.token["configUrl"] == f"{clientapi.BRAINTREE_API}/merchants/mbh/client_api/v1/configuration"
    assert client.token["graphQL"] == {"url": clientapi.BRAINTREE_GRAPHQL, "date": "2018-05-08"}
    status, _, config = call(
        "GET",
        f"{running.url}/merchants/mbh/client_api/v1/configuration?"
        + urllib.parse.urlencode({"authorizationFingerprint": client.fingerprint}),
    )
    assert status == 200
    assert config["graphQL"]["features"] == ["tokenize_credit_cards"]
    assert config["assetsUrl"] == clientapi.BRAINTREE_ASSETS


@pytest.mark.parametrize(
    "spoil",
    [
        lambda fp: fp.replace(fp.split(".")[1][:8], "00000000"),  # the signature
        lambda fp: (
            base64.urlsafe_b64encode(b'{"merchant_id":"x","created_at":"2030-01-01T00:00:00Z"}').decode()
            + "."
            + fp.split(".", 1)[1]
        ),  # the claims
        lambda fp: "",
        lambda fp: "not-a-fingerprint",
    ],
)
def test_a_spoiled_fingerprint_is_401(sandbox, spoil) -> None:
    client = Client(sandbox.sdk)

    status, headers, body = client.configuration(spoil(client.fingerprint) or "x")

    assert status == 401 and body["error"]["message"]
    assert headers["Access-Control-Allow-Origin"] == "*"


def test_another_merchants_fingerprint_is_401(sandbox, braintree_hosts) -> None:
    _, other_sdk = braintree_hosts
    foreign = Client(other_sdk).fingerprint
    client = Client(sandbox.sdk)

    assert client.configuration(foreign)[0] == 401


def test_fingerprint_expires_after_24_hours(sandbox) -> None:
    with freeze_time(datetime.now(timezone.utc)) as frozen:
        client = Client(sandbox.sdk)
        assert client.configuration()[0] == 200
        frozen.tick(timedelta(hours=24, seconds=1))
        assert client.configuration()[0] == 401


def test_customer_bound_token_names_the_customer_in_the_fingerprint(sandbox) -> None:
    assert sandbox.sdk.customer.create({"id": "cust-7"}).is_success

    assert Client(sandbox.sdk, customer_id="cust-7").fingerprint.endswith("?customer_id=cust-7")


# --- tokenization -------------------------------------------------------------------------------


def test_camel_case_tokenization_is_201_with_a_uuid_nonce(sandbox) -> None:
    status, headers, body = Client(sandbox.sdk).tokenize(
        {"number": VISA, "expirationDate": "12/30", "cvv": "123", "cardholderName": "Ada"}
    )

    assert status == 201 and headers["Access-Control-Allow-Origin"] == "*"
    card = body["creditCards"][0]
    assert card["type"] == "CreditCard" and card["consumed"] is False
    assert len(card["nonce"]) == 36 and card["nonce"].count("-") == 4
    assert card["description"] == "ending in 11"
    assert card["details"]["cardType"] == "Visa" and card["details"]["lastTwo"] == "11"
    assert card["details"]["lastFour"] == "1111" and card["details"]["bin"] == "411111"


def test_snake_case_tokenization_on_the_json_path_is_201(sandbox) -> None:
    status, _, body = Client(sandbox.sdk).tokenize(
        {"number": "5555555555554444", "expiration_month": "11", "expiration_year": "2099"}, snake=True
    )

    assert status == 201
    assert body["creditCards"][0]["details"]["cardType"] == "MasterCard"


@pytest.mark.parametrize(
    "card, field, code",
    [
        ({"expirationDate": "12/30"}, "number", "81714"),
        ({"number": "4111abc", "expirationDate": "12/30"}, "number", "81715"),
        ({"number": "41111", "expirationDate": "12/30"}, "number", "81716"),
        ({"number": "4111111111111112", "expirationDate": "12/30"}, "number", "81715"),
        ({"number": "4242424242424242", "expirationDate": "12/30"}, "number", "81717"),
        ({"number": VISA}, "expirationDate", "81709"),
        ({"number": VISA, "expirationDate": "13/30"}, "expirationDate", "81710"),
        ({"number": VISA, "expirationDate": "12/30", "cvv": "12"}, "cvv", "81707"),
    ],
)
def test_invalid_cards_are_422_with_braintree_field_codes(sandbox, card, field, code) -> None:
    status, _, body = Client(sandbox.sdk).tokenize(card)

    assert status == 422
    assert body["error"]["message"] == "Credit card is invalid"
    [group] = body["fieldErrors"]
    assert group["field"] == "creditCard"
    assert {"field": field, "code": code} == {k: group["fieldErrors"][0][k] for k in ("field", "code")}
    assert group["fieldErrors"][0]["message"]


def test_a_body_that_is_not_json_is_400(sandbox) -> None:
    client = Client(sandbox.sdk)
    request = urllib.request.Request(
        f"{client.api}/v1/payment_methods/credit_cards",
        data=b"{oops",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 400


def test_unknown_client_api_route_is_a_json_404(sandbox) -> None:
    client = Client(sandbox.sdk)

    status, _, body = call(
        "POST", f"{client.api}/v1/payment_methods/paypal_accounts", {"authorizationFingerprint": client.fingerprint}
    )

    assert status == 404 and "paypal_accounts" in body["error"]["message"]


# --- nonces in sales ----------------------------------------------------------------------------


def test_a_tokenized_card_pays_like_the_card_and_only_once(sandbox) -> None:
    nonce = Client(sandbox.sdk).nonce("5555555555554444")

    first = sandbox.sdk.transaction.sale({"amount": "12.00", "payment_method_nonce": nonce})
    second = sandbox.sdk.transaction.sale({"amount": "12.00", "payment_method_nonce": nonce})

    assert first.is_success, first.message
    card = first.transaction.credit_card_details
    assert (card.bin, card.last_4, card.card_type) == ("555555", "4444", "MasterCard")
    assert (card.expiration_month, card.expiration_year) == ("12", "2030")
    assert not second.is_success
    assert [e.code for e in second.errors.deep_errors] == ["91564"]


def test_test_amounts_decide_a_tokenized_cards_sale(sandbox) -> None:
    result = sandbox.sdk.transaction.sale({"amount": "2000.00", "payment_method_nonce": Client(sandbox.sdk).nonce()})

    assert not result.is_success
    assert result.transaction.status == "processor_declined"
    assert result.transaction.processor_response_code == "2000"


def test_test_card_numbers_still_decide_in_a_sale_with_their_nonce(sandbox) -> None:
    result = sandbox.sdk.transaction.sale(
        {"amount": "10.00", "payment_method_nonce": Client(sandbox.sdk).nonce("4000111111111511")}
    )

    assert result.transaction.status == "gateway_rejected"
    assert result.transaction.gateway_rejection_reason == "fraud"


def test_a_sale_with_validation_errors_does_not_spend_the_nonce(sandbox) -> None:
    nonce = Client(sandbox.sdk).nonce()

    assert not sandbox.sdk.transaction.sale({"amount": "-1", "payment_method_nonce": nonce}).is_success
    assert sandbox.sdk.transaction.sale({"amount": "5.00", "payment_method_nonce": nonce}).is_success


def test_another_merchants_nonce_is_unknown(sandbox, braintree_hosts) -> None:
    running, other_sdk = braintree_hosts
    nonce = Client(other_sdk, api=f"{running.url}/merchants/mbh/client_api").nonce()

    result = sandbox.sdk.transaction.sale({"amount": "5.00", "payment_method_nonce": nonce})

    assert [e.code for e in result.errors.deep_errors] == ["91565"]


# --- payment methods (vault) --------------------------------------------------------------------


def test_a_guest_has_no_payment_methods(sandbox) -> None:
    client = Client(sandbox.sdk)

    status, _, body = call(
        "GET",
        f"{client.api}/v1/payment_methods.json?"
        + urllib.parse.urlencode({"authorizationFingerprint": client.fingerprint}),
    )

    assert (status, body) == (200, {"paymentMethods": []})


def test_a_customer_bound_token_vaults_and_lists_cards_with_spendable_nonces(sandbox) -> None:
    assert sandbox.sdk.customer.create({"id": "c-vault"}).is_success
    client = Client(sandbox.sdk, customer_id="c-vault", options={"make_default": True})
    for number in (VISA, "4005519200000004"):
        assert (
            client.tokenize({"number": number, "expiration_month": "11", "expiration_year": "2099"}, snake=True)[0]
            == 201
        )

    status, _, body = call(
        "GET",
        f"{client.api}/v1/payment_methods?" + urllib.parse.urlencode({"authorizationFingerprint": client.fingerprint}),
    )

    assert status == 200
    listed = body["paymentMethods"]
    assert [(m["details"]["bin"], m["default"]) for m in listed] == [("411111", False), ("400551", True)]
    cards = sandbox.sdk.customer.find("c-vault").credit_cards
    assert len(cards) == 2
    sale = sandbox.sdk.transaction.sale({"amount": "3.00", "payment_method_nonce": listed[0]["nonce"]})
    assert sale.is_success and sale.transaction.credit_card_details.bin == "411111"


def test_fail_on_duplicate_and_verify_card_options_are_422(sandbox) -> None:
    assert sandbox.sdk.customer.create({"id": "c-dup"}).is_success
    card = {"number": VISA, "expiration_month": "11", "expiration_year": "2099"}
    assert Client(sandbox.sdk, customer_id="c-dup").tokenize(card, snake=True)[0] == 201

    status, _, body = Client(
        sandbox.sdk, customer_id="c-dup", options={"fail_on_duplicate_payment_method": True}
    ).tokenize(card, snake=True)
    declined = Client(sandbox.sdk, customer_id="c-dup", options={"verify_card": True}).tokenize(
        {**card, "number": "4000111111111115"}, snake=True
    )

    assert status == 422 and body["fieldErrors"][0]["fieldErrors"][0]["code"] == "81724"
    assert declined[0] == 422
    assert len(sandbox.sdk.customer.find("c-dup").credit_cards) == 1


# --- GraphQL --------------------------------------------------------------------------------------


def test_graphql_client_configuration_has_the_adapters_shape(braintree_hosts) -> None:
    running, sdk = braintree_hosts

    status, _, body = Client(sdk).graphql("ClientConfiguration", base=running.url)

    assert status == 200
    config = body["data"]["clientConfiguration"]
    assert config["environment"] == "SANDBOX" and config["merchantId"] == "mbh"
    assert config["supportedFeatures"] == ["TOKENIZE_CREDIT_CARDS"]
    assert "VISA" in config["creditCard"]["supportedCardBrands"]
    assert config["clientApiUrl"].startswith(clientapi.BRAINTREE_API)


def test_graphql_tokenization_gives_a_tokencc_nonce_that_pays_once(braintree_hosts) -> None:
    running, sdk = braintree_hosts
    variables = {
        "input": {
            "creditCard": {"number": VISA, "expirationMonth": "12", "expirationYear": "2030", "cvv": "123"},
            "options": {"validate": False},
        }
    }

    status, _, body = Client(sdk).graphql("TokenizeCreditCard", variables, base=running.url)

    assert status == 200 and "errors" not in body
    tokenized = body["data"]["tokenizeCreditCard"]
    assert tokenized["token"].startswith("tokencc_")
    assert tokenized["creditCard"]["brandCode"] == "VISA" and tokenized["creditCard"]["last4"] == "1111"
    assert sdk.transaction.sale({"amount": "4.00", "payment_method_nonce": tokenized["token"]}).is_success
    again = sdk.transaction.sale({"amount": "4.00", "payment_method_nonce": tokenized["token"]})
    assert [e.code for e in again.errors.deep_errors] == ["91564"]


def test_graphql_validation_errors_carry_legacy_codes_and_input_paths(braintree_hosts) -> None:
    running, sdk = braintree_hosts
    variables = {"input": {"creditCard": {"number": "41111", "expirationMonth": "12", "expirationYear": "2030"}}}

    status, _, body = Client(sdk).graphql("TokenizeCreditCard", variables, base=running.url)

    assert status == 200 and body["data"]["tokenizeCreditCard"] is None
    [error] = body["errors"]
    assert error["extensions"]["errorClass"] == "VALIDATION"
    assert error["extensions"]["legacyCode"] == "81716"
    assert error["extensions"]["inputPath"] == ["input", "creditCard", "number"]


def test_other_graphql_operations_are_a_clear_error_braintree_web_does_not_retry(braintree_hosts) -> None:
    running, sdk = braintree_hosts

    status, _, body = Client(sdk).graphql("DeletePaymentMethodFromSingleUseToken", base=running.url)

    [error] = body["errors"]
    assert error["extensions"]["errorClass"] not in ("UNKNOWN", "INTERNAL")
    assert "DeletePaymentMethodFromSingleUseToken" in error["message"]


def test_graphql_with_a_bad_bearer_is_401(braintree_hosts) -> None:
    running, sdk = braintree_hosts

    status, _, body = Client(sdk).graphql("ClientConfiguration", fingerprint="forged.00?customer_id=", base=running.url)

    assert status == 401 and body["errors"][0]["extensions"]["errorClass"] == "AUTHENTICATION"


# --- CORS and analytics ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/merchants/m/client_api/v1/configuration", "/graphql", "/merchants/m/client_api/v1/payment_methods/credit_cards"],
)
def test_preflights_allow_any_origin_and_braintree_webs_headers(sandbox, path) -> None:
    request = urllib.request.Request(
        f"{sandbox.url}{path}",
        method="OPTIONS",
        headers={
            "Origin": "https://assets.braintreegateway.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,braintree-version,content-type",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        allowed = response.headers["Access-Control-Allow-Headers"].lower()
        assert {"authorization", "braintree-version", "content-type"} <= {h.strip() for h in allowed.split(",")}
        assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_analytics_beacons_are_accepted(sandbox) -> None:
    status, headers, body = call(
        "POST",
        f"{sandbox.url}/analytics/{sandbox.merchant.id}",
        {"analytics": [{"kind": "web.dropin.started.client-token"}]},
    )

    assert (status, body) == (200, {}) and headers["Access-Control-Allow-Origin"] == "*"


def test_the_xml_api_is_unchanged_beside_it(sandbox) -> None:
    assert sandbox.sdk.transaction.sale({"amount": "1.00", "payment_method_nonce": "fake-valid-nonce"}).is_success


# --- card numbers at rest and in logs -------------------------------------------------------------


def test_no_full_card_number_reaches_the_store_or_the_log_except_test_cards(tmp_path: Path, sdk_for: Any) -> None:
    merchant = Merchant("mpan", "mpan_public", f"mpan_{secrets.token_hex(8)}", {"mpan_usd": "USD"})
    lines: list[str] = []
    running = sandbox_pkg.start(tmp_path / "pan.db", merchants=[merchant], log=lines.append)
    try:
        client = Client(sdk_for(running.url, merchant.id, merchant.public_key, merchant.private_key))
        assert client.tokenize({"number": "4242424242424242", "expirationDate": "12/30"})[0] == 422
        nonce = client.nonce(VISA)
        assert client.tokenize({"number": "4111111111111112", "expirationDate": "12/30"})[0] == 422
    finally:
        running.stop()
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("pan.db*"))
    assert nonce.encode() in stored  # the store was really read
    assert b"4242424242424242" not in stored and b"4111111111111112" not in stored
    assert lines and not any(
        number in line for line in lines for number in ("4242424242424242", "4111111111111112", VISA)
    )


@pytest.mark.parametrize(
    ("layout", "config_host"), [("local", "127.0.0.1"), ("braintree", "api.sandbox.braintreegateway.com")]
)
def test_sandbox_serve_picks_the_client_hosts_its_tokens_name(tmp_path: Path, layout: str, config_host: str) -> None:
    """`paycli sandbox serve --client-hosts braintree` makes tokens for the faithful layout; the default stays local."""
    import harness

    server, url = harness.serve_sandbox(tmp_path / "s.db", *(["--client-hosts", layout] if layout != "local" else []))
    try:
        gateway = harness.sdk_gateway(
            url, sandbox_pkg.LOCAL_MERCHANT_ID, sandbox_pkg.LOCAL_PUBLIC_KEY, sandbox_pkg.LOCAL_PRIVATE_KEY
        )
        token = json.loads(base64.b64decode(gateway.client_token.generate()))
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert config_host in token["configUrl"]
    assert ("graphQL" in token) == (layout == "braintree")
