"""braintree-web in a real headless Chromium against paycli: Hosted Fields and client.request, both host layouts.

Needs the system's Chromium, Playwright for Python (`pip install '.[browser]'`) and the pinned braintree-web
files (`paycli assets fetch`). Locally a missing piece skips these tests with the reason; in CI (CI=true)
they fail instead, so they can never silently stop running there.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from paycli import browser_assets, browser_checkout, storefront
from paycli import sandbox as sandbox_pkg
from paycli.cli.runtime import Invocation
from paycli.errors import PaycliError
from paycli.sandbox import clientapi
from paycli.sandbox.store import Merchant

# read before the autouse fixture clears CI and the XDG variables for each test
IN_CI = os.environ.get("CI", "").lower() == "true"
ASSETS = browser_assets.default_dir(os.environ)
CHROMIUM = os.environ.get("PAYCLI_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# PAYCLI_UPDATE_SCREENSHOT=1 refreshes the README's picture of the page from this run
UPDATE_SCREENSHOT = os.environ.get("PAYCLI_UPDATE_SCREENSHOT") == "1"
DOCS_SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "checkout-page.png"


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"Playwright for Python is not installed ({browser_checkout.INSTALL_HINT})"
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        browser_assets.locate({}, ASSETS)
    except PaycliError as err:
        return err.message
    return None


MISSING = _missing()
if MISSING and IN_CI:
    raise RuntimeError(f"browser tests must run in CI, but: {MISSING}")
pytestmark = [
    pytest.mark.skipif(MISSING is not None, reason=f"browser checkout: {MISSING}"),
    pytest.mark.slow,
]  # a real Chromium per test


@pytest.fixture
def chromium() -> Iterator[Any]:
    """Per test: Playwright's sync API cannot run twice at once in a thread, and `checkout --browser` starts its own."""
    with browser_checkout.sync_playwright() as playwright:
        browser = browser_checkout.launch(playwright, Path(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def shop_for(sandbox) -> Iterator[Callable[..., storefront.RunningStorefront]]:
    """`shop_for()`: the storefront of the selected profile, served on loopback for this test."""
    runs: list[tuple[Invocation, storefront.RunningStorefront]] = []

    def start() -> storefront.RunningStorefront:
        run = Invocation().activate()
        running = storefront.start(storefront.Storefront(run.gateway(), assets=ASSETS))
        runs.append((run, running))
        return running

    yield start
    for run, running in runs:
        running.stop()
        run.close()


@pytest.fixture
def faithful(
    tmp_path: Path, write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, sdk_for: Callable[..., Any]
) -> Iterator[tuple[Any, Any]]:
    """A served sandbox in Braintree's host layout, selected as the `test` profile; (running, sdk)."""
    merchant = Merchant("mfaith", "mfaith_public", f"mfaith_{secrets.token_hex(8)}", {"mfaith_usd": "USD"})
    running = sandbox_pkg.start(tmp_path / "faithful.db", merchants=[merchant], client_hosts=clientapi.BRAINTREE)
    monkeypatch.setenv("PAYCLI_TEST_PRIVATE_KEY", merchant.private_key)
    write_config(f"""
        default_profile: test
        profiles:
          test:
            environment: local
            url: {running.url}
            merchant_id: {merchant.id}
            public_key: {merchant.public_key}
            private_key_env: PAYCLI_TEST_PRIVATE_KEY
    """)
    yield running, sdk_for(running.url, merchant.id, merchant.public_key, merchant.private_key)
    running.stop()


def open_page(chromium: Any, url: str, *, sandbox_url: str | None = None) -> Any:
    context = chromium.new_context()
    if sandbox_url:
        browser_checkout.route_braintree_hosts(context, sandbox_url, ASSETS)
    else:
        browser_checkout.loopback_only(context)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(url)
    page.wait_for_function("['ready', 'error'].includes(document.body.dataset.outcome)")
    assert page.get_attribute("body", "data-outcome") == "ready", page.inner_text("#status")
    return page


def fill_hosted_fields(page: Any, number: str, expiry: str = "12/30", cvv: str = "123") -> None:
    for field, value in (("number", number), ("expirationDate", expiry), ("cvv", cvv)):
        page.frame_locator(f'iframe[name="braintree-hosted-field-{field}"]').locator("input").fill(value)


def submit(page: Any) -> dict[str, Any]:
    page.click("#submit")
    page.wait_for_function("['success', 'declined', 'error'].includes(document.body.dataset.outcome)")
    return {
        "outcome": page.get_attribute("body", "data-outcome"),
        "result": json.loads(page.inner_text("#result")),
        "nonce": page.evaluate("window.paycliNonce || null"),
    }


def post_checkout_again(page: Any, nonce: str) -> dict[str, Any]:
    return page.evaluate(
        """nonce => fetch('checkout', {method: 'POST', headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({nonce: nonce, amount: '1.00'})}).then(r => r.json().then(b => ({status: r.status, body: b})))""",
        nonce,
    )


# --- local layout: any browser, one origin -----------------------------------------------------------


def test_hosted_fields_card_to_nonce_to_settleable_sale(chromium, shop_for, sandbox, tmp_path: Path) -> None:
    shop = shop_for()
    page = open_page(chromium, f"{shop.url}/")
    page.fill("#amount", "21.00")
    fill_hosted_fields(page, "5555555555554444")

    done = submit(page)

    assert done["outcome"] == "success", done
    txn = sandbox.sdk.transaction.find(done["result"]["transaction"]["id"])
    assert (txn.amount, txn.status, txn.credit_card_details.last_4) == (
        Decimal("21.00"),
        "submitted_for_settlement",
        "4444",
    )
    assert sandbox.sdk.testing.settle_transaction(txn.id).transaction.status == "settled"
    assert len(done["nonce"]) == 36  # the REST client API's UUID nonces
    shot = DOCS_SCREENSHOT if UPDATE_SCREENSHOT else tmp_path / "checkout-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_a_reused_nonce_is_refused_with_91564(chromium, shop_for) -> None:
    page = open_page(chromium, f"{shop_for().url}/")
    fill_hosted_fields(page, "4111111111111111")
    done = submit(page)
    assert done["outcome"] == "success"

    again = post_checkout_again(page, done["nonce"])

    assert again["status"] == 422 and [e["code"] for e in again["body"]["errors"]] == ["91564"]


def test_an_invalid_card_is_the_hosted_fields_invalid_error(chromium, shop_for) -> None:
    page = open_page(chromium, f"{shop_for().url}/")
    fill_hosted_fields(page, "4111111111111112")

    done = submit(page)

    assert done["outcome"] == "error"
    assert done["result"]["code"] == "HOSTED_FIELDS_FIELDS_INVALID"
    assert done["result"]["details"]["invalidFieldKeys"] == ["number"]
    state = page.evaluate("window.paycliHostedFields.getState().fields")
    assert state["number"]["isValid"] is False and state["cvv"]["isValid"] is True


def test_braintree_webs_own_client_request_tokenizes_too(chromium, shop_for, sandbox) -> None:
    page = open_page(chromium, f"{shop_for().url}/?ui=client")
    page.fill("#number", "378282246310005")
    page.fill("#expiry", "11/29")
    page.fill("#code", "1234")

    done = submit(page)

    assert done["outcome"] == "success", done
    assert (
        sandbox.sdk.transaction.find(done["result"]["transaction"]["id"]).credit_card_details.card_type
        == "American Express"
    )


def test_checkout_browser_prints_the_sale_like_checkout(invoke, sandbox) -> None:
    txn = invoke(
        "checkout", "--browser", "--amount", "7.00", "--assets-dir", ASSETS, "--chromium", CHROMIUM, "--format", "json"
    ).json()

    plain = invoke("checkout", "--amount", "7.00", "--format", "json").json()
    assert set(txn) == set(plain)
    assert (txn["status"], txn["amount"], txn["last_4"]) == ("submitted_for_settlement", "7.00", "1111")
    assert sandbox.sdk.transaction.find(txn["id"]).amount == Decimal("7.00")


def test_checkout_browser_decline_exits_3_with_the_transaction(invoke, sandbox) -> None:
    run = invoke(
        "checkout",
        "--browser",
        "--amount",
        "2000.00",
        "--assets-dir",
        ASSETS,
        "--chromium",
        CHROMIUM,
        "--format",
        "json",
        code=3,
    )

    assert run.json()["status"] == "processor_declined"
    assert "Do Not Honor" in run.stderr


def test_checkout_browser_invalid_card_exits_2_naming_the_option(invoke, sandbox) -> None:
    run = invoke(
        "checkout",
        "--browser",
        "--amount",
        "5.00",
        "--card",
        "4111111111111112",
        "--assets-dir",
        ASSETS,
        "--chromium",
        CHROMIUM,
        code=2,
    )

    assert "--card" in run.stderr and "HOSTED_FIELDS_FIELDS_INVALID" in run.stderr


# --- Braintree's layout: real host names routed to the sandbox, GraphQL, tokencc_ nonces --------------


def test_faithful_layout_tokenizes_over_graphql_and_pays(chromium, faithful) -> None:
    running, sdk = faithful
    run = Invocation().activate()
    shop = storefront.start(storefront.Storefront(run.gateway(), assets=ASSETS))
    seen: list[str] = []
    try:
        page = open_page(chromium, f"{shop.url}/", sandbox_url=running.url)
        page.on("request", lambda request: seen.append(request.url))
        fill_hosted_fields(page, "4111111111111111")
        done = submit(page)
        again = post_checkout_again(page, done["nonce"])
    finally:
        shop.stop()
        run.close()

    assert done["outcome"] == "success", done
    assert done["nonce"].startswith("tokencc_")
    assert sdk.transaction.find(done["result"]["transaction"]["id"]).status == "submitted_for_settlement"
    assert clientapi.BRAINTREE_GRAPHQL in seen
    assert [e["code"] for e in again["body"]["errors"]] == ["91564"]


def test_checkout_browser_in_the_faithful_layout(invoke, faithful) -> None:
    running, sdk = faithful

    txn = invoke(
        "checkout",
        "--browser",
        "--amount",
        "3.00",
        "--card",
        "5555555555554444",
        "--assets-dir",
        ASSETS,
        "--chromium",
        CHROMIUM,
        "--format",
        "json",
    ).json()

    assert sdk.transaction.find(txn["id"]).credit_card_details.last_4 == "4444"


def test_smoke_browser_adds_a_hosted_fields_sale_step(invoke, sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(ASSETS.parents[3]))  # the cache this run's assets are in
    monkeypatch.setenv("PAYCLI_CHROMIUM", CHROMIUM)

    report = invoke("smoke", "--browser", "--format", "json").json()

    step = report["steps"][-1]
    assert report["ok"] and step["name"] == "browser" and step["ok"], step
    txn_id = step["detail"].split()[0]
    assert sandbox.sdk.transaction.find(txn_id).status == "submitted_for_settlement"


def test_braintree_web_refuses_a_configuration_naming_a_local_url(chromium, shop_for, sandbox) -> None:
    """Why the local layout names no URL: braintree-web accepts only https URLs on Braintree's domains."""
    context = chromium.new_context()

    def with_local_api_url(route: Any) -> None:
        answer = route.fetch()
        config = answer.json()
        config["clientApiUrl"] = f"{sandbox.url}/merchants/{sandbox.merchant.id}/client_api"
        route.fulfill(response=answer, body=json.dumps(config))

    context.route("**/client_api/v1/configuration*", with_local_api_url)
    page = context.new_page()
    page.goto(f"{shop_for().url}/")
    page.wait_for_function("['ready', 'error'].includes(document.body.dataset.outcome)")

    assert page.get_attribute("body", "data-outcome") == "error"
    assert "CLIENT_GATEWAY_CONFIGURATION_INVALID_DOMAIN" in page.inner_text("#status")
