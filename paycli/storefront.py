"""A merchant's two checkout controllers as a small local web app, with a Hosted Fields checkout page.

Braintree's integration needs exactly two server endpoints: `POST /client_token` → `{clientToken}` for the
page's client SDK, and `POST /checkout {nonce, amount}` → the sale. Both go through the same gateway (retries,
test-amount rules, production refusal) as `paycli token` and `paycli checkout`. `GET /` is a checkout page
using braintree-web Hosted Fields (`?ui=client` tokenizes with braintree-web's `client.request` instead).

On a local profile the page loads braintree-web's pinned npm files from paycli's cache and everything
stays offline: the sandbox's client configuration names no URLs, so braintree-web calls relative
`undefined/v1/…` paths (and loads its frames from `undefined/web/…`), which resolve against this app; it
forwards the former to the sandbox's client API and serves paycli's frame stand-in for the latter. On a
Braintree profile the page loads braintree-web from Braintree's CDN and talks to Braintree.

Handlers are plain functions of (method, path, headers, body) → (status, headers, body); `start` serves
them on a loopback port in a background thread.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from paycli import browser_assets, checkout, client_tokens
from paycli.errors import Declined, GatewayRefused, PaycliError, UsageError
from paycli.money import parse_amount
from paycli.output import jsonable
from paycli.request_bodies import BodyCut, BodyRefused, read_body

if TYPE_CHECKING:
    from paycli.gateway import Gateway

Answer = tuple[int, dict[str, str], bytes]
MAX_BODY_BYTES = 64 * 1024
FORWARD_TIMEOUT_S = 30
CDN = f"https://js.braintreegateway.com/web/{browser_assets.VERSION}/js"
_LOCAL_API = re.compile(r"/undefined/v1/(?P<rest>.*)$")
_LOCAL_FRAME = re.compile(r"/undefined(?P<frame>/web/[^/]+/html/hosted-fields-frame(\.min)?\.html)$")
_JS = re.compile(rf"^/paycli/js/{browser_assets.PACKAGE}/{re.escape(browser_assets.VERSION)}/(?P<name>[\w.-]+)$")
_STATUS = {"usage": 400, "refused": 422, "declined": 422, "config": 502, "not_found": 404, "unavailable": 503}


def _json(status: int, value: Any, headers: Mapping[str, str] | None = None) -> Answer:
    return (
        status,
        {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", **(headers or {})},
        json.dumps(jsonable(value)).encode(),
    )


@dataclass
class Storefront:
    """The two controllers and the page for one profile's gateway."""

    gateway: Gateway
    assets: Path | None = None  # braintree-web's pinned files (local profiles); None: Braintree's CDN
    cors_origin: str | None = None  # a front-end developer's own dev origin, allowed to call the controllers
    submit_for_settlement: bool = True
    _api_base: str | None = field(default=None, init=False)

    @property
    def offline(self) -> bool:
        return self.gateway.profile.environment == "local"

    # the two controllers -----------------------------------------------------------------------

    def client_token(self, body: dict[str, Any]) -> dict[str, Any]:
        customer_id = body.get("customerId") or body.get("customer_id")
        made = client_tokens.generate(
            self.gateway,
            customer_id=str(customer_id) if customer_id else None,
            merchant_account_id=self.gateway.profile.default_merchant_account,
        )
        return {"clientToken": made.token}

    def checkout(self, body: dict[str, Any]) -> dict[str, Any]:
        nonce = body.get("nonce") or body.get("paymentMethodNonce") or body.get("payment_method_nonce")
        if not isinstance(nonce, str) or not nonce.strip():
            raise UsageError('the checkout body has no nonce; send {"nonce": "…", "amount": "10.00"}', field="nonce")
        amount = body.get("amount")
        if isinstance(amount, (int, float)) and not isinstance(amount, bool):
            amount = str(Decimal(str(amount)))
        if not isinstance(amount, str):
            raise UsageError('the checkout body has no amount; send it as a string like "10.00"', field="amount")
        request = checkout.CheckoutRequest(
            amount=parse_amount(amount, field="amount"),
            nonce=nonce.strip(),
            submit_for_settlement=self.submit_for_settlement,
        )
        return {"success": True, "transaction": checkout.checkout(self.gateway, request)}

    # HTTP ---------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        route = urlsplit(path).path
        cors = self._cors(headers)
        if method == "OPTIONS":
            return (
                204,
                {
                    **cors,
                    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                    "Access-Control-Allow-Headers": "Content-Type, Authorization, Braintree-Version",
                    "Access-Control-Max-Age": "600",
                },
                b"",
            )
        if route in ("/client_token", "/checkout"):
            if method != "POST":
                return _json(405, {"error": {"message": f"{route} takes POST"}}, {**cors, "Allow": "POST"})
            return self._controller(route, body, cors)
        if method not in ("GET", "HEAD") and not _LOCAL_API.search(route):
            return _json(405, {"error": {"message": f"{method} {route} is not allowed"}})
        if route == "/":
            return 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}, self.page()
        if self.offline:
            local = self._local(method, path, route, headers, body)
            if local is not None:
                return local
        return _json(404, {"error": {"message": f"nothing at {route}"}})

    def _cors(self, headers: Mapping[str, str]) -> dict[str, str]:
        origin = {k.lower(): v for k, v in headers.items()}.get("origin")
        if self.cors_origin and origin == self.cors_origin:
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return {}

    def _controller(self, route: str, raw: bytes, cors: dict[str, str]) -> Answer:
        try:
            body = json.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError):
            return _json(400, {"success": False, "error": {"type": "usage", "message": "the body is not JSON"}}, cors)
        if not isinstance(body, dict):
            body = {}
        try:
            return _json(200, self.client_token(body) if route == "/client_token" else self.checkout(body), cors)
        except Declined as err:
            return _json(422, {"success": False, "message": err.message, "transaction": err.transaction}, cors)
        except GatewayRefused as err:
            return _json(422, {"success": False, "message": err.message, "errors": err.details.get("errors", [])}, cors)
        except PaycliError as err:
            return _json(_STATUS.get(err.type, 500), {"success": False, "error": err.to_json()}, cors)

    def _local(self, method: str, path: str, route: str, headers: Mapping[str, str], body: bytes) -> Answer | None:
        """The offline page's own requests: braintree-web's files, the frame stand-in, the client API."""
        from paycli.sandbox import hostedframe

        js = _JS.match(route)
        if js and self.assets is not None:
            return hostedframe.script(self.assets, js["name"])
        if _LOCAL_FRAME.search(route):
            return hostedframe.frame()
        api = _LOCAL_API.search(route)
        if api:
            query = urlsplit(path).query
            return self._forward(
                method, f"{self.api_base()}/v1/{api['rest']}" + (f"?{query}" if query else ""), headers, body
            )
        return None

    def api_base(self) -> str:
        """The sandbox's client API for this merchant, as its client tokens name it."""
        if self._api_base is None:
            token = client_tokens.decode(self.gateway.generate_client_token())
            self._api_base = str(token["clientApiUrl"]).rstrip("/")
        return self._api_base

    @staticmethod
    def _forward(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
        lowered = {k.lower(): v for k, v in headers.items()}
        sent = {
            name: lowered[name.lower()]
            for name in ("Content-Type", "Authorization", "Braintree-Version")
            if name.lower() in lowered
        }
        request = urllib.request.Request(url, data=body if method != "GET" else None, method=method, headers=sent)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the sandbox is on loopback
        try:
            with opener.open(request, timeout=FORWARD_TIMEOUT_S) as answer:
                status, got, payload = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as err:
            status, got, payload = err.code, err.headers, err.read()
        except (urllib.error.URLError, OSError) as err:
            return _json(502, {"error": {"message": f"the sandbox did not answer: {getattr(err, 'reason', err)}"}})
        return status, {"Content-Type": got.get("Content-Type", "application/json")}, payload

    def page(self) -> bytes:
        text = resources.files("paycli").joinpath("checkout_page.html").read_text(encoding="utf-8")
        if self.offline:
            base = f"/paycli/js/{browser_assets.PACKAGE}/{browser_assets.VERSION}"
            scripts = {"__CLIENT_JS__": f"{base}/client.js", "__HOSTED_FIELDS_JS__": f"{base}/hosted-fields.js"}
        else:
            scripts = {"__CLIENT_JS__": f"{CDN}/client.min.js", "__HOSTED_FIELDS_JS__": f"{CDN}/hosted-fields.min.js"}
        for marker, url in scripts.items():
            text = text.replace(marker, url)
        return text.replace("__PROFILE__", self.gateway.profile.name).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        # a checkout is acted on only once its whole body is read (see paycli/request_bodies.py)
        try:
            raw = read_body(self.headers, self.rfile, MAX_BODY_BYTES)
        except (BodyCut, OSError):
            self.close_connection = True
            return
        except BodyRefused as refused:
            self.close_connection = True
            status, headers, body = _json(
                refused.status, {"error": {"message": "the request's body framing is refused"}}
            )
        else:
            try:
                status, headers, body = self.server.storefront.handle(self.command, self.path, dict(self.headers), raw)
            except Exception as err:  # one request's bug never stops the app; the page sees a 500
                self.log_message(
                    "internal error on %s %s: %s", self.command, self.path.split("?")[0], type(err).__name__
                )
                status, headers, body = _json(500, {"error": {"message": "internal error (a bug in paycli)"}})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_POST = do_OPTIONS = do_HEAD = do_PUT = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log:
            self.server.log(format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, storefront: Storefront, host: str, port: int, log: Callable[[str], None] | None) -> None:
        super().__init__((host, port), _Handler)
        self.storefront = storefront
        self.log = log


@dataclass
class RunningStorefront:
    server: _Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"  # an AF_INET address: host is a str

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> RunningStorefront:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    storefront: Storefront, *, host: str = "127.0.0.1", port: int = 0, log: Callable[[str], None] | None = None
) -> RunningStorefront:
    server = _Server(storefront, host, port, log)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="paycli-storefront", daemon=True
    )
    thread.start()
    return RunningStorefront(server, thread)
