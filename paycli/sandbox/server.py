"""HTTP for the sandbox: routing, Basic auth, request framing, latency and faults. It holds no Braintree rules.

HTTP/1.1 keep-alive with TCP_NODELAY: without it Nagle's algorithm and delayed ACKs stall every
call on a reused connection by ~40 ms. A request is acted on only once its whole body has been read
(Content-Length or chunked); anything whose framing is in doubt is refused and the connection closed.
Resources are bounded: one thread per connection, at most `max_connections` of them, each closed after
`idle_timeout` seconds without a byte from the client.
"""

from __future__ import annotations

import base64
import binascii
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from paycli.request_bodies import BodyCut, BodyRefused, read_body
from paycli.sandbox import clientapi, xmlcodec
from paycli.sandbox.faults import FaultPlan
from paycli.sandbox.operations import Sandbox
from paycli.sandbox.replies import NOT_FOUND, Reply
from paycli.sandbox.store import Merchant
from paycli.tuning import SANDBOX_IDLE_TIMEOUT_S, SANDBOX_MAX_CONNECTIONS

MAX_BODY_BYTES = 1 << 20
IDLE_TIMEOUT_SECONDS = SANDBOX_IDLE_TIMEOUT_S
MAX_CONNECTIONS = SANDBOX_MAX_CONNECTIONS
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
_TXN = r"(?P<id>[A-Za-z0-9_-]+)"
_TESTING = {
    "settle": "settled",
    "settlement_confirm": "settlement_confirmed",
    "settlement_decline": "settlement_declined",
    "settlement_pending": "settlement_pending",
}

Handler = Callable[[Sandbox, Merchant, dict[str, Any], dict[str, str], str], Reply]


def xml_params(body: bytes) -> dict[str, Any]:
    """A Braintree XML request body as params (raises xmlcodec.XmlError → 400)."""
    _, params = xmlcodec.parse_request(body)
    return params if isinstance(params, dict) else {}


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    name: str  # the fault-injection route name (`--faults ROUTE=…`)
    handle: Handler
    decode: Callable[[bytes], dict[str, Any]] = xml_params  # the body's format; a decode error must be XmlError


def merchant_route(
    method: str, path: str, name: str, handle: Handler, decode: Callable[[bytes], dict[str, Any]] = xml_params
) -> Route:
    """A route under `/merchants/<merchant>/`; `path` is a regex that may name groups for the handler."""
    return Route(method, re.compile(rf"^/merchants/(?P<merchant>[^/]+)/{path}$"), name, handle, decode)


ROUTES: list[Route] = [
    merchant_route("POST", "client_token", "token", lambda s, m, p, a, base: s.client_tokens.generate(m, p, base)),
    merchant_route("POST", "transactions/advanced_search_ids", "search", lambda s, m, p, a, b: s.searches.ids(m, p)),
    merchant_route("POST", "transactions/advanced_search", "search", lambda s, m, p, a, b: s.searches.page(m, p)),
    merchant_route("POST", "transactions", "sale", lambda s, m, p, a, b: s.sales.create(m, p)),
    merchant_route("GET", f"transactions/{_TXN}", "find", lambda s, m, p, a, b: s.transactions.find(m, a["id"])),
    merchant_route(
        "PUT",
        f"transactions/{_TXN}/submit_for_settlement",
        "submit",
        lambda s, m, p, a, b: s.transactions.submit_for_settlement(m, a["id"], p),
    ),
    merchant_route(
        "PUT", f"transactions/{_TXN}/void", "void", lambda s, m, p, a, b: s.transactions.void(m, a["id"], p)
    ),
    merchant_route(
        "POST", f"transactions/{_TXN}/refund", "refund", lambda s, m, p, a, b: s.transactions.refund(m, a["id"], p)
    ),
    merchant_route(
        "POST",
        f"transactions/{_TXN}/submit_for_partial_settlement",
        "submit",
        lambda s, m, p, a, b: s.transactions.submit_for_partial_settlement(m, a["id"], p),
    ),
    merchant_route(
        "GET", f"transactions/{_TXN}/line_items", "find", lambda s, m, p, a, b: s.transactions.line_items(m, a["id"])
    ),
    merchant_route(
        "PUT",
        f"transactions/{_TXN}/(?P<action>{'|'.join(_TESTING)})",
        "testing",
        lambda s, m, p, a, b: s.settlement.simulate(m, a["id"], _TESTING[a["action"]]),
    ),
    merchant_route("POST", "settlement_batch_summary", "summary", lambda s, m, p, a, b: s.settlement.summary(m, p)),
    merchant_route("POST", "customers", "customer", lambda s, m, p, a, b: s.vault.create_customer(m, p)),
    merchant_route(
        "GET", r"customers/(?P<id>[^/]+)", "customer", lambda s, m, p, a, b: s.vault.find_customer(m, a["id"])
    ),
    merchant_route(
        "DELETE", r"customers/(?P<id>[^/]+)", "customer", lambda s, m, p, a, b: s.vault.delete_customer(m, a["id"])
    ),
    merchant_route(
        "POST",
        r"customers/(?P<id>[^/]+)/addresses",
        "customer",
        lambda s, m, p, a, b: s.vault.create_address(m, a["id"], p),
    ),
    merchant_route(
        "GET",
        r"customers/(?P<id>[^/]+)/addresses/(?P<address>[^/]+)",
        "customer",
        lambda s, m, p, a, b: s.vault.find_address(m, a["id"], a["address"]),
    ),
    merchant_route(
        "GET",
        r"payment_methods/(?:credit_card|any)/(?P<token>[^/]+)",
        "customer",
        lambda s, m, p, a, b: s.vault.find_credit_card(m, a["token"]),
    ),
    # paycli's own controls, for `paycli sandbox reset|status` against a served sandbox
    merchant_route("POST", "paycli_sandbox/reset", "testing", lambda s, m, p, a, b: s.reset(m)),
    merchant_route("GET", "paycli_sandbox/status", "testing", lambda s, m, p, a, b: s.status(m)),
]


def add_routes(*routes: Route) -> None:
    """Serve more routes (another API family); they are tried after the built-in ones, in the order added."""
    ROUTES.extend(routes)


@dataclass
class ServerOptions:
    latency_ms: int = 0
    faults: FaultPlan = field(default_factory=lambda: FaultPlan([]))
    log: Callable[[str], None] | None = None
    # A connection that sends nothing for this long is closed (keep-alive clients reconnect transparently).
    idle_timeout: float = IDLE_TIMEOUT_SECONDS
    # One thread serves one connection; past this many open connections a new one is answered 503 and closed.
    max_connections: int = MAX_CONNECTIONS
    # Where an unexpected error (a 500) is reported with its traceback; the server's stderr by default.
    errors: Callable[[str], None] = field(default_factory=lambda: _to_stderr)


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class _Dropped(Exception):
    """Close the connection without an answer (an injected fault, or a client gone mid-request)."""


class _Refused(Exception):
    """The request's framing cannot be trusted: answer `status` and close, since the next request's start is unknown."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxServer

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.options.idle_timeout)  # a silent client is dropped after this
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.options.log:
            self.server.options.log(format % args)

    def _serve(self) -> None:
        if clientapi.owns(self.path):
            return self._serve_client_api()
        started = time.monotonic()
        self._route: Route | None = None
        try:
            reply = self._dispatch()
        except _Dropped:
            self.close_connection = True
            return
        except _Refused as refused:
            self.close_connection = True
            reply = Reply(refused.status)
        except Exception:  # the server never dies on a request; the client sees a 500 and the operator why
            route = self._route.name if self._route else "-"
            self.server.options.errors(
                f"paycli sandbox: 500 on {self.command} {self.path} (route {route})\n{traceback.format_exc().rstrip()}"
            )
            reply = Reply(500)
        self._send(reply)
        if self.server.options.log:
            self.server.options.log(
                f"{self.command} {self.path} {reply.status} {(time.monotonic() - started) * 1000:.1f}ms"
            )

    def _dispatch(self) -> Reply:
        # The whole body is read before anything else happens: a request is acted on only once it is complete.
        try:
            body = self._read_body()
        except OSError:  # idle timeout or reset mid-body
            raise _Dropped from None
        path = self.path.split("?", 1)[0]
        for route in ROUTES:
            match = route.pattern.match(path)
            if match and route.method == self.command:
                break
        else:
            return NOT_FOUND
        self._route = route
        options = self.server.options
        if options.latency_ms:
            time.sleep(options.latency_ms / 1000)
        fault = options.faults.pick(route.name) if options.faults else None
        if fault and fault.kind == "slow":
            time.sleep(fault.delay_ms / 1000)
        elif fault and fault.kind == "status":
            return Reply(fault.status)
        elif fault and fault.kind == "drop-before":
            raise _Dropped
        merchant = self._authenticate(match["merchant"])
        if merchant is None:
            return Reply(401)
        try:
            params = route.decode(body)
        except xmlcodec.XmlError:
            return Reply(400)
        reply = route.handle(self.server.sandbox, merchant, params, match.groupdict(), self.server.base_url)
        if fault and fault.kind == "drop-after":
            raise _Dropped
        return reply

    def _read_body(self) -> bytes:
        try:
            return read_body(self.headers, self.rfile, MAX_BODY_BYTES)
        except BodyCut:
            raise _Dropped from None
        except BodyRefused as refused:
            raise _Refused(refused.status) from None

    def _serve_client_api(self) -> None:
        """The browser's JSON client API: its own routes, fingerprint auth and CORS (see sandbox/clientapi.py).

        Its body is read by the same strict reader as the XML API's, so it too acts only on a whole body."""
        try:
            body = self._read_body()
            status, headers, reply = clientapi.serve(
                self.server.sandbox, self.command, self.path, dict(self.headers.items()), body, self.server.base_url
            )
        except (_Dropped, OSError):
            self.close_connection = True
            return
        except _Refused as refused:
            self.close_connection = True
            status, headers, reply = refused.status, {}, b""
        except Exception:  # the server never dies on a request; the client sees a 500 and the operator why
            self.server.options.errors(
                f"paycli sandbox: 500 on {self.command} {self.path.split('?')[0]} "
                f"(client API)\n{traceback.format_exc().rstrip()}"
            )
            status, headers, reply = 500, {}, b""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply)

    def _authenticate(self, merchant_id: str) -> Merchant | None:
        header = self.headers.get("Authorization") or ""
        if not header.startswith("Basic "):
            return None
        try:
            public_key, _, private_key = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return self.server.sandbox.authenticate(merchant_id, public_key, private_key)

    def _send(self, reply: Reply) -> None:
        # One write for head and body: two sendall calls per answer cost a find ~40% of its time.
        phrase = self.responses.get(reply.status, ("",))[0]
        head = (
            f"{self.protocol_version} {reply.status} {phrase}\r\n"
            f"Server: {self.version_string()}\r\nDate: {self.date_time_string()}\r\n"
            f"Content-Type: application/xml; charset=utf-8\r\nContent-Length: {len(reply.body)}\r\n"
            + ("Connection: close\r\n" if self.close_connection else "")
            + "\r\n"
        )
        self.wfile.write(head.encode("latin-1") + reply.body)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0, options: ServerOptions | None = None
    ) -> None:
        super().__init__((host, port), _RequestHandler)
        self.sandbox = sandbox
        self.options = options or ServerOptions()
        self._slots = threading.BoundedSemaphore(self.options.max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Each connection holds a thread for its life; past the cap a new one is told to come back later
        # (a short write into a fresh socket's empty buffer: it cannot stall the accepting thread).
        if not self._slots.acquire(blocking=False):
            try:
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Outside a request's own handling: a client that vanished mid-answer is routine, anything else is reported.
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            self.options.errors(
                f"paycli sandbox: error on a connection from {client_address[0]}\n{traceback.format_exc().rstrip()}"
            )

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        assert isinstance(host, str)  # an AF_INET server's address
        return f"http://{host}:{port}"

    def start_background(self) -> threading.Thread:
        # serve_forever polls for shutdown every 0.5 s by default, which every embedded CLI run would pay on exit.
        thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="paycli-sandbox", daemon=True
        )
        thread.start()
        return thread

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
