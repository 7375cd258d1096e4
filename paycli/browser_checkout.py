"""A sale through braintree-web in a real headless Chromium: the storefront's page, a typed card, the nonce.

Python Playwright drives the system's Chromium (never a browser Playwright downloads). The browser opens
`paycli serve`'s page, types the card into the Hosted Fields frames, submits, and the page's own
`POST /checkout` makes the sale; the transaction is then read back through the gateway, so it is reported
exactly as `paycli checkout` reports one.

When the profile's sandbox hands out tokens with Braintree's real host names (the faithful layout, see
`sandbox/clientapi.py`), those hosts are routed to the sandbox inside the browser, so braintree-web uses
GraphQL and gets `tokencc_` nonces; anything else off loopback is refused (the check runs offline).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from paycli import client_tokens, storefront
from paycli.errors import ConfigError, Declined, GatewayRefused, Unavailable, UsageError
from paycli.models import Transaction
from paycli.sandbox import clientapi

if TYPE_CHECKING:
    from paycli.storefront import Storefront

DEFAULT_CARD = "4111111111111111"
DEFAULT_EXPIRY = "12/30"
DEFAULT_CVV = "123"
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
# a closed network, and root in containers needs --no-sandbox
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
TIMEOUT_MS = 30_000
INSTALL_HINT = "pip install 'paycli[browser]'"
_BRAINTREE_HOSTS = {urlsplit(url).hostname: "" for url in (clientapi.BRAINTREE_API, clientapi.BRAINTREE_GRAPHQL)}
_BRAINTREE_HOSTS[urlsplit(clientapi.BRAINTREE_ANALYTICS).hostname] = "/analytics"
_ASSETS_HOST = urlsplit(clientapi.BRAINTREE_ASSETS).hostname
_PAYPAL_LOGGER = "https://www.paypal.com/xoplatform/logger/**"


@dataclass(frozen=True)
class Card:
    number: str = DEFAULT_CARD
    expiry: str = DEFAULT_EXPIRY
    cvv: str = DEFAULT_CVV


def chromium_path(env: Mapping[str, str], given: Path | None = None) -> Path:
    """--chromium, else $PAYCLI_CHROMIUM, else the system's chromium; ConfigError (exit 4) if there is none."""
    path = given or (Path(env["PAYCLI_CHROMIUM"]) if env.get("PAYCLI_CHROMIUM") else None)
    if path is None:
        found = shutil.which("chromium") or (str(DEFAULT_CHROMIUM) if DEFAULT_CHROMIUM.exists() else None)
        path = Path(found) if found else None
    if path is None or not path.is_file() or not os.access(path, os.X_OK):
        where = (
            f"--chromium {path}"
            if given
            else (f"$PAYCLI_CHROMIUM ({path})" if env.get("PAYCLI_CHROMIUM") else "PATH and /usr/bin/chromium")
        )
        raise ConfigError(f"no Chromium at {where}; install it (apt-get install chromium) or pass --chromium PATH")
    return path


def launch(playwright: Any, chromium: Path) -> Any:
    return playwright.chromium.launch(executable_path=str(chromium), args=list(CHROMIUM_FLAGS), headless=True)


def sync_playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright as start
    except ImportError:
        raise ConfigError(f"--browser needs Playwright for Python; {INSTALL_HINT}") from None
    return start()


def route_braintree_hosts(context: Any, sandbox_url: str, assets: Path | None) -> None:
    """Inside this browser only: Braintree's hosts answer from the sandbox; nothing else leaves loopback."""
    from paycli.sandbox import hostedframe

    def divert(route: Any) -> None:
        request = route.request
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
            return
        if host == _ASSETS_HOST and parts.path.startswith("/paycli/js/") and assets is not None:
            status, headers, body = hostedframe.script(assets, parts.path.rsplit("/", 1)[-1])
            route.fulfill(status=status, headers=headers, body=body)
            return
        if host in _BRAINTREE_HOSTS or host == _ASSETS_HOST:
            prefix = _BRAINTREE_HOSTS.get(host, "")
            target = f"{sandbox_url}{prefix}{parts.path}" + (f"?{parts.query}" if parts.query else "")
            answer = route.fetch(url=target)
            route.fulfill(response=answer)
            return
        route.abort()

    context.route("**/*", divert)


def loopback_only(context: Any) -> None:
    def keep_local(route: Any) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", keep_local)


def pay(
    front: Storefront,
    amount: Decimal,
    card: Card,
    *,
    chromium: Path,
    sandbox_url: str | None = None,
    screenshot: Path | None = None,
) -> Transaction:
    """Make one sale through the page; Declined / GatewayRefused as `paycli checkout` raises them."""
    token = client_tokens.decode(front.gateway.generate_client_token())
    faithful = "graphQL" in token
    if faithful and not sandbox_url:
        raise ConfigError(
            "the gateway hands out tokens for Braintree's hosts but no sandbox URL is known to route "
            "them to; use a profile with `url:` set"
        )
    running = storefront.start(front)
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright, chromium)
            try:
                context = browser.new_context()
                if faithful:
                    route_braintree_hosts(context, str(sandbox_url).rstrip("/"), front.assets)
                else:
                    loopback_only(context)
                page = context.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                outcome = _submit(page, f"{running.url}/", amount, card)
                if screenshot is not None:
                    page.screenshot(path=str(screenshot), full_page=True)
            finally:
                browser.close()
    finally:
        running.stop()
    return _result(front, outcome)


def _submit(page: Any, url: str, amount: Decimal, card: Card) -> dict[str, Any]:
    page.goto(url)
    page.wait_for_function("['ready', 'error'].includes(document.body.dataset.outcome)")
    if page.get_attribute("body", "data-outcome") == "error":
        raise Unavailable(f"the checkout page could not start braintree-web: {page.inner_text('#status')}")
    page.fill("#amount", str(amount))
    for field, value in (("number", card.number), ("expirationDate", card.expiry), ("cvv", card.cvv)):
        page.frame_locator(f'iframe[name="braintree-hosted-field-{field}"]').locator("input").fill(value)
    page.click("#submit")
    page.wait_for_function("['success', 'declined', 'error'].includes(document.body.dataset.outcome)")
    return {
        "outcome": page.get_attribute("body", "data-outcome"),
        "status": page.inner_text("#status"),
        "result": json.loads(page.inner_text("#result") or "null"),
        "nonce": page.evaluate("window.paycliNonce || null"),
    }


_FIELD_OPTIONS = {"number": "--card", "expirationDate": "--expiry", "cvv": "--cvv"}


def _result(front: Storefront, outcome: dict[str, Any]) -> Transaction:
    result = outcome["result"] or {}
    if outcome["outcome"] in ("success", "declined"):
        found = front.gateway.find(result["transaction"]["id"])
        if outcome["outcome"] == "declined":
            raise Declined(result.get("message") or f"sale {found.status}", found)
        return found
    code = result.get("code")
    if code and str(code).startswith("HOSTED_FIELDS_"):
        keys = ((result.get("details") or {}).get("invalidFieldKeys")) or []
        options = ", ".join(_FIELD_OPTIONS.get(key, key) for key in keys) or "--card, --expiry, --cvv"
        if code in ("HOSTED_FIELDS_FIELDS_INVALID", "HOSTED_FIELDS_FIELDS_EMPTY"):
            raise UsageError(
                f"{options}: braintree-web's Hosted Fields refused the card ({code}: {result.get('message')})",
                code=code,
            )
        raise GatewayRefused(f"tokenization refused ({code}: {result.get('message')})", code=code)
    if result.get("errors"):
        raise GatewayRefused(result.get("message") or "the sale was refused", errors=result["errors"])
    raise Unavailable(f"the browser checkout failed: {outcome['status']}")
