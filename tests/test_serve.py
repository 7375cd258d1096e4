"""`paycli serve`'s two controllers, its page and local-mode forwarding, and the pinned browser assets.

The storefront runs on loopback against the test profile's sandbox through the real SDK; requests are plain
HTTP (the browser tests drive the same app from Chromium).
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paycli import browser_assets, storefront
from paycli.cli.runtime import Invocation
from paycli.errors import ConfigError


def call(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.fixture
def shop(sandbox) -> Iterator[storefront.RunningStorefront]:
    """The storefront for the test profile (its sandbox), on a free loopback port, CORS for one dev origin."""
    run = Invocation().activate()
    running = storefront.start(storefront.Storefront(run.gateway(), cors_origin="http://localhost:3000"))
    yield running
    running.stop()
    run.close()


def client_token(shop: storefront.RunningStorefront) -> dict[str, Any]:
    status, _, body = call("POST", f"{shop.url}/client_token", {})
    assert status == 200, body
    return json.loads(base64.b64decode(json.loads(body)["clientToken"]))


def tokenize(shop: storefront.RunningStorefront, number: str = "4111111111111111") -> str:
    """What the offline page's braintree-web does: the relative client-API path, forwarded to the sandbox."""
    token = client_token(shop)
    status, _, body = call(
        "POST",
        f"{shop.url}/undefined/v1/payment_methods/credit_cards",
        {
            "creditCard": {"number": number, "expirationDate": "12/30", "cvv": "123", "options": {"validate": False}},
            "authorizationFingerprint": token["authorizationFingerprint"],
        },
    )
    assert status == 201, body
    return json.loads(body)["creditCards"][0]["nonce"]


def checkout(shop: storefront.RunningStorefront, body: Any) -> tuple[int, Any]:
    status, _, raw = call("POST", f"{shop.url}/checkout", body)
    return status, json.loads(raw)


def test_client_token_controller_answers_a_token_for_the_profiles_merchant(shop, sandbox) -> None:
    token = client_token(shop)

    assert token["merchantId"] == sandbox.merchant.id
    assert token["configUrl"].startswith(sandbox.url)


def test_checkout_controller_makes_the_sale_visible_through_the_sdk(shop, sandbox) -> None:
    status, body = checkout(shop, {"nonce": tokenize(shop, "5555555555554444"), "amount": "12.34"})

    assert status == 200 and body["success"] is True
    txn = body["transaction"]
    assert (txn["status"], txn["amount"], txn["last_4"]) == ("submitted_for_settlement", "12.34", "4444")
    found = sandbox.sdk.transaction.find(txn["id"])
    assert found.credit_card_details.card_type == "MasterCard"
    assert found.merchant_account_id == f"{sandbox.merchant.id}_usd"


def test_a_declined_amount_answers_422_with_the_declined_transaction(shop) -> None:
    status, body = checkout(shop, {"nonce": tokenize(shop), "amount": "2000.00"})

    assert status == 422 and body["success"] is False
    assert body["transaction"]["status"] == "processor_declined"
    assert body["transaction"]["processor_response_code"] == "2000"


def test_a_reused_nonce_answers_422_with_91564(shop) -> None:
    nonce = tokenize(shop)
    assert checkout(shop, {"nonce": nonce, "amount": "1.00"})[0] == 200

    status, body = checkout(shop, {"nonce": nonce, "amount": "1.00"})

    assert status == 422 and [e["code"] for e in body["errors"]] == ["91564"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"amount": "1.00"}, "nonce"),
        ({"nonce": "fake-valid-nonce"}, "amount"),
        ({"nonce": "fake-valid-nonce", "amount": "1,00"}, "amount"),
    ],
)
def test_a_bad_checkout_body_is_400_naming_the_field(shop, body, field) -> None:
    status, answer = checkout(shop, body)

    assert status == 400 and answer["error"]["type"] == "usage"
    assert field in answer["error"]["message"]


def test_a_numeric_amount_is_taken_as_its_decimal_text(shop) -> None:
    status, body = checkout(shop, {"nonce": "fake-valid-nonce", "amount": 3.5})

    assert status == 200 and body["transaction"]["amount"] == "3.50"


def test_the_page_loads_braintree_web_from_this_app_on_a_local_profile(shop) -> None:
    status, headers, page = call("GET", f"{shop.url}/")

    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert f"/paycli/js/braintree-web/{browser_assets.VERSION}/hosted-fields.js".encode() in page
    assert b"braintree.hostedFields.create" in page and b"__PROFILE__" not in page


def test_the_frame_stand_in_is_served_on_the_relative_path_braintree_web_builds(shop) -> None:
    status, _, frame = call(
        "GET", f"{shop.url}/undefined/web/{browser_assets.VERSION}/html/hosted-fields-frame.min.html"
    )

    assert status == 200 and b"/*framebus*/" in frame
    assert f"/paycli/js/braintree-web/{browser_assets.VERSION}/client.js".encode() in frame


def test_cors_is_granted_to_the_dev_origin_only(shop) -> None:
    preflight = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
    allowed = call("OPTIONS", f"{shop.url}/checkout", headers=preflight)
    refused = call("OPTIONS", f"{shop.url}/checkout", headers={**preflight, "Origin": "http://evil.example"})
    token = call("POST", f"{shop.url}/client_token", {}, headers={"Origin": "http://localhost:3000"})

    assert allowed[0] == 204 and allowed[1]["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "Access-Control-Allow-Origin" not in refused[1]
    assert token[0] == 200 and token[1]["Access-Control-Allow-Origin"] == "http://localhost:3000"


def test_controllers_take_post_only(shop) -> None:
    assert call("GET", f"{shop.url}/checkout")[0] == 405


def test_a_body_that_is_not_json_is_400(shop) -> None:
    assert call("POST", f"{shop.url}/checkout", raw=b"nonce=x")[0] == 400


def _raw_request(shop: storefront.RunningStorefront, head: str, body: bytes = b"") -> bytes:
    """One request over a raw socket, as a client other than urllib might frame it; the server's whole answer."""
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(shop.url)
    with socket.create_connection((where.hostname, where.port), timeout=5) as conn:
        conn.sendall(head.encode() + b"\r\n" + body)
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_a_chunked_checkout_is_read_whole_and_charges_its_own_amount(shop, sandbox) -> None:
    nonce = tokenize(shop)
    payload = json.dumps({"nonce": nonce, "amount": "12.34"}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (payload[:10], payload[10:])) + b"0\r\n\r\n"
    answer = _raw_request(
        shop,
        "POST /checkout HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n",
        chunks,
    )
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["transaction"]["amount"] == "12.34"


@pytest.mark.parametrize(
    "framing",
    ["Content-Length: -1", "Content-Length: ten", "Content-Length: 5\r\nContent-Length: 6", "Transfer-Encoding: gzip"],
)
def test_checkout_framing_in_doubt_is_refused_never_a_hang_or_a_500(shop, framing) -> None:
    answer = _raw_request(shop, f"POST /checkout HTTP/1.1\r\nHost: x\r\n{framing}\r\nConnection: close\r\n", b"{}")
    assert answer.split(b" ", 2)[1] in (b"400", b"501"), answer[:200]


# --- assets ------------------------------------------------------------------------------------------


def test_missing_assets_exit_4_naming_the_fetch_command_and_the_option(invoke, sandbox) -> None:
    run = invoke("serve", "--port", "0", code=4)

    assert "paycli assets fetch" in run.stderr and "--assets-dir" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_assets_dir_with_other_files_is_refused_by_the_pin(tmp_path: Path) -> None:
    for name in browser_assets.FILES:
        (tmp_path / name).write_text("// not braintree-web\n")

    with pytest.raises(ConfigError, match="sha512 differs"):
        browser_assets.locate({}, tmp_path)


def test_assets_dir_with_the_pinned_files_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    contents = {name: f"// stand-in for {name}\n".encode() for name in browser_assets.FILES}
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
    monkeypatch.setattr(browser_assets, "FILES", {n: hashlib.sha512(d).hexdigest() for n, d in contents.items()})

    assert browser_assets.locate({}, tmp_path) == tmp_path


def test_fetch_without_npm_is_a_config_error_naming_npm() -> None:
    with pytest.raises(ConfigError, match="needs npm"):
        browser_assets.fetch({}, npm="no-such-npm-binary")


def test_cors_origin_must_be_an_origin(invoke, sandbox) -> None:
    run = invoke("serve", "--cors-origin", "localhost:3000/app", code=2)

    assert run.stderr.startswith("error: --cors-origin 'localhost:3000/app' is not an origin"), run.stderr


def test_smoke_browser_without_chromium_fails_that_step_with_exit_4(
    invoke, sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYCLI_CHROMIUM", str(tmp_path / "no-chromium"))

    run = invoke("smoke", "--browser", "--format", "json", code=4)

    step = run.json()["steps"][-1]
    assert step["name"] == "browser" and not step["ok"]
    assert "PAYCLI_CHROMIUM" in step["detail"] and "apt-get install chromium" in step["detail"]


def test_checkout_browser_refuses_options_the_page_cannot_send(invoke, sandbox) -> None:
    run = invoke("checkout", "--browser", "--amount", "1.00", "--order-id", "o-1", code=2)

    assert run.stderr.startswith("error: --order-id cannot be combined with --browser"), run.stderr


def test_checkout_browser_is_refused_on_production_before_any_browser(invoke, write_config, monkeypatch) -> None:
    monkeypatch.setenv("PROD_KEY", "secret-value")
    monkeypatch.setenv("PAYCLI_CHROMIUM", "/nonexistent/chromium")  # reaching the browser would be exit 4
    write_config("""
        profiles:
          prod:
            environment: production
            merchant_id: m
            public_key: p
            private_key_env: PROD_KEY
    """)

    run = invoke("-p", "prod", "checkout", "--browser", "--amount", "10", code=2)

    assert "refused on production" in run.stderr and "--profile" in run.stderr


def test_fetch_refuses_a_tarball_that_is_not_the_pinned_one(tmp_path: Path) -> None:
    """A stand-in for npm that packs something else: the integrity pin refuses it and nothing is kept."""
    npm = tmp_path / "npm"
    npm.write_text(
        "#!/bin/sh\n# npm pack PKG --pack-destination DIR --silent\n"
        'printf "not the package" > "$4/braintree-web-3.144.0.tgz"\n'
    )
    npm.chmod(0o755)
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}

    with pytest.raises(ConfigError, match="does not match paycli's pinned integrity"):
        browser_assets.fetch(env, npm=str(npm))
    assert not any(browser_assets.default_dir(env).glob("*.js"))
