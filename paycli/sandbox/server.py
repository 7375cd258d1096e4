"""HTTP for the sandbox: routing, Basic auth, latency and faults. It holds no Braintree rules.

HTTP/1.1 keep-alive with TCP_NODELAY: without it Nagle's algorithm and delayed ACKs stall every
call on a reused connection by ~40 ms (wire reference §11.4).
"""

from __future__ import annotations

import base64
import binascii
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from paycli.sandbox import clientapi, xmlcodec
from paycli.sandbox.faults import FaultPlan
from paycli.sandbox.operations import Sandbox
from paycli.sandbox.replies import NOT_FOUND, Reply
from paycli.sandbox.store import Merchant

MAX_BODY_BYTES = 1 << 20
_TXN = r"(?P<id>[A-Za-z0-9_-]+)"
_TESTING = {"settle": "settled", "settlement_confirm": "settlement_confirmed",
            "settlement_decline": "settlement_declined", "settlement_pending": "settlement_pending"}

Handler = Callable[[Sandbox, Merchant, dict[str, Any], dict[str, str], str], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    name: str  # the fault-injection route name (design §7)
    handle: Handler


def _route(method: str, path: str, name: str, handle: Handler) -> Route:
    return Route(method, re.compile(rf"^/merchants/(?P<merchant>[^/]+)/{path}$"), name, handle)


ROUTES = (
    _route("POST", "client_token", "token", lambda s, m, p, a, base: s.client_token(m, p, base)),
    _route("POST", "transactions/advanced_search_ids", "search", lambda s, m, p, a, b: s.search_ids(m, p)),
    _route("POST", "transactions/advanced_search", "search", lambda s, m, p, a, b: s.search_page(m, p)),
    _route("POST", "transactions", "sale", lambda s, m, p, a, b: s.create_transaction(m, p)),
    _route("GET", f"transactions/{_TXN}", "find", lambda s, m, p, a, b: s.find_transaction(m, a["id"])),
    _route("PUT", f"transactions/{_TXN}/submit_for_settlement", "submit",
           lambda s, m, p, a, b: s.submit_for_settlement(m, a["id"], p)),
    _route("PUT", f"transactions/{_TXN}/void", "void", lambda s, m, p, a, b: s.void(m, a["id"], p)),
    _route("POST", f"transactions/{_TXN}/refund", "refund", lambda s, m, p, a, b: s.refund(m, a["id"], p)),
    _route("POST", f"transactions/{_TXN}/submit_for_partial_settlement", "submit",
           lambda s, m, p, a, b: s.submit_for_partial_settlement(m, a["id"], p)),
    _route("GET", f"transactions/{_TXN}/line_items", "find", lambda s, m, p, a, b: s.line_items(m, a["id"])),
    _route("PUT", f"transactions/{_TXN}/(?P<action>{'|'.join(_TESTING)})", "testing",
           lambda s, m, p, a, b: s.simulate(m, a["id"], _TESTING[a["action"]])),
    _route("POST", "settlement_batch_summary", "summary", lambda s, m, p, a, b: s.settlement_summary(m, p)),
    _route("POST", "customers", "customer", lambda s, m, p, a, b: s.create_customer(m, p)),
    _route("GET", r"customers/(?P<id>[^/]+)", "customer", lambda s, m, p, a, b: s.find_customer(m, a["id"])),
    _route("DELETE", r"customers/(?P<id>[^/]+)", "customer", lambda s, m, p, a, b: s.delete_customer(m, a["id"])),
    _route("POST", r"customers/(?P<id>[^/]+)/addresses", "customer",
           lambda s, m, p, a, b: s.create_address(m, a["id"], p)),
    _route("GET", r"customers/(?P<id>[^/]+)/addresses/(?P<address>[^/]+)", "customer",
           lambda s, m, p, a, b: s.find_address(m, a["id"], a["address"])),
    _route("GET", r"payment_methods/(?:credit_card|any)/(?P<token>[^/]+)", "customer",
           lambda s, m, p, a, b: s.find_credit_card(m, a["token"])),
    # paycli's own controls, for `paycli sandbox reset|status` against a served sandbox
    _route("POST", "paycli_sandbox/reset", "testing", lambda s, m, p, a, b: s.reset(m)),
    _route("GET", "paycli_sandbox/status", "testing", lambda s, m, p, a, b: s.status(m)),
)


@dataclass
class ServerOptions:
    latency_ms: int = 0
    faults: FaultPlan = field(default_factory=lambda: FaultPlan([]))
    log: Callable[[str], None] | None = None


class _Dropped(Exception):
    """Close the connection without an answer (an injected fault)."""


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "SandboxServer"

    def setup(self) -> None:
        super().setup()
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
        try:
            reply = self._dispatch()
        except _Dropped:
            self.close_connection = True
            return
        except Exception as err:  # the server never dies on a request; the client sees a 500
            self.log_message("internal error on %s %s: %r", self.command, self.path, err)
            reply = Reply(500)
        self._send(reply)
        if self.server.options.log:
            self.server.options.log(f"{self.command} {self.path} {reply.status} "
                                     f"{(time.monotonic() - started) * 1000:.1f}ms")

    def _dispatch(self) -> Reply:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            return Reply(413)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            # the client went away mid-request (killed, or the connection dropped): a cut-off body could
            # read as an empty one — a refund with no amount and no api_request_key — so nothing happens
            raise _Dropped
        path = self.path.split("?", 1)[0]
        for route in ROUTES:
            match = route.pattern.match(path)
            if match and route.method == self.command:
                break
        else:
            return NOT_FOUND
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
            _, params = xmlcodec.parse_request(body)
        except xmlcodec.XmlError:
            return Reply(400)
        if not isinstance(params, dict):
            params = {}
        reply = route.handle(self.server.sandbox, merchant, params, match.groupdict(), self.server.base_url)
        if fault and fault.kind == "drop-after":
            raise _Dropped
        return reply

    def _serve_client_api(self) -> None:
        """The browser's JSON client API: its own routes, fingerprint auth and CORS (see sandbox/clientapi.py)."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            status, headers, body = 413, {}, b""
        else:
            try:
                status, headers, body = clientapi.serve(self.server.sandbox, self.command, self.path, self.headers,
                                                        self.rfile.read(length) if length else b"",
                                                        self.server.base_url)
            except Exception as err:  # the server never dies on a request; the client sees a 500
                self.log_message("internal error on %s %s: %s", self.command, self.path.split("?")[0],
                                 type(err).__name__)
                status, headers, body = 500, {}, b""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

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
        head = (f"{self.protocol_version} {reply.status} {phrase}\r\n"
                f"Server: {self.version_string()}\r\nDate: {self.date_time_string()}\r\n"
                f"Content-Type: application/xml; charset=utf-8\r\nContent-Length: {len(reply.body)}\r\n"
                + ("Connection: close\r\n" if self.close_connection else "") + "\r\n")
        self.wfile.write(head.encode("latin-1") + reply.body)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0,
                 options: ServerOptions | None = None) -> None:
        super().__init__((host, port), _RequestHandler)
        self.sandbox = sandbox
        self.options = options or ServerOptions()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start_background(self) -> threading.Thread:
        # serve_forever polls for shutdown every 0.5 s by default, which every embedded CLI run would pay on exit.
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                  name="paycli-sandbox", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
