"""Braintree webhook notifications: make signed samples, verify and decode, deliver, and receive them.

Signing and verification are the braintree SDK's own code, reached through `paycli.gateway`, with the
selected profile's keys: a sample made here verifies in any integration configured with those keys, and a
notification that verifies here would verify there. Delivery is a form-encoded POST (`bt_signature`,
`bt_payload`), as Braintree sends it (https://developer.paypal.com/braintree/docs/guides/webhooks/parse).

`send` and the listener's `--forward-to` only talk to loopback addresses: they are for a developer's own
machine, and a signed sample posted to someone's production endpoint could be taken for a real event.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import queue
import re
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from paycli.errors import GatewayRefused, PaycliError, Unavailable, UsageError

if TYPE_CHECKING:
    from paycli.gateway import Gateway

DEFAULT_SAMPLE_ID = "sample_id"
DEFAULT_LISTEN_PORT = 4568  # next to `paycli sandbox serve`'s 4567
SEND_TIMEOUT_S = 10.0
MAX_BODY_BYTES = 1 << 20  # a notification is a few kB; anything near this is not one
RESPONSE_EXCERPT_CHARS = 200
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# The SDK pastes the id into its sample XML unescaped; keep it to what Braintree ids look like.
_SUBJECT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Kinds the paycli sandbox sends itself (`paycli sandbox serve --webhook-url`).
SANDBOX_KINDS = frozenset({"transaction_settled", "transaction_settlement_declined", "transaction_disbursed"})

# One line each, from Braintree's webhook reference; a kind a newer SDK adds shows without one.
_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "check": ("test", "Sent by the Control Panel's 'Check URL' to test an endpoint"),
    "transaction_settled": ("transaction", "An ACH or SEPA transaction settled (paycli's sandbox: any)"),
    "transaction_settlement_declined": ("transaction", "An ACH or SEPA transaction was declined at settlement"),
    "transaction_disbursed": ("transaction", "A transaction's funds were disbursed (deprecated by Braintree)"),
    "transaction_reviewed": ("transaction", "A fraud-review decision was made on a transaction"),
    "transaction_retried": ("transaction", "A declined transaction was retried"),
    "refund_failed": ("transaction", "A refund failed after it was submitted"),
    "disbursement": ("disbursement", "Funds were disbursed to a merchant account (one per account per day)"),
    "disbursement_exception": ("disbursement", "A disbursement could not be made (e.g. bank details wrong)"),
    "dispute_opened": ("dispute", "A customer's bank opened a dispute (chargeback) on a transaction"),
    "dispute_lost": ("dispute", "A dispute was decided against the merchant"),
    "dispute_won": ("dispute", "A dispute was decided for the merchant"),
    "dispute_accepted": ("dispute", "The merchant accepted a dispute"),
    "dispute_auto_accepted": ("dispute", "A dispute was accepted automatically (no reply in time)"),
    "dispute_disputed": ("dispute", "The merchant challenged a dispute with evidence"),
    "dispute_expired": ("dispute", "A dispute expired without a reply"),
    "dispute_under_review": ("dispute", "A dispute is being reviewed by the card network"),
    "subscription_canceled": ("subscription", "A subscription was canceled"),
    "subscription_charged_successfully": ("subscription", "A subscription's billing cycle was charged"),
    "subscription_charged_unsuccessfully": ("subscription", "A subscription's charge was declined"),
    "subscription_expired": ("subscription", "A subscription reached its last billing cycle"),
    "subscription_trial_ended": ("subscription", "A subscription's trial period ended"),
    "subscription_went_active": ("subscription", "A subscription became active (first charge succeeded)"),
    "subscription_went_past_due": ("subscription", "A subscription's charge failed and it is past due"),
    "subscription_billing_skipped": ("subscription", "A subscription's billing cycle was skipped"),
    "partner_merchant_connected": ("partner", "A merchant connected to a partner's integration"),
    "partner_merchant_disconnected": ("partner", "A merchant disconnected from a partner's integration"),
    "partner_merchant_declined": ("partner", "A merchant declined a partner's connection request"),
    "oauth_access_revoked": ("partner", "A merchant revoked an OAuth application's access"),
    "connected_merchant_status_transitioned": ("partner", "A connected merchant's account status changed"),
    "connected_merchant_paypal_status_changed": ("partner", "A connected merchant's PayPal linking changed"),
    "account_updater_daily_report": ("payment method", "The Account Updater's daily report is ready"),
    "payment_method_revoked_by_customer": ("payment method", "A customer revoked a vaulted PayPal/Venmo method"),
    "payment_method_customer_data_updated": ("payment method", "A vaulted method's customer data changed"),
    "granted_payment_method_revoked": ("payment method", "A shared (granted) payment method was revoked"),
    "grantor_updated_granted_payment_method": ("payment method", "The owner updated a shared payment method"),
    "recipient_updated_granted_payment_method": ("payment method", "A recipient updated a shared payment method"),
    "local_payment_completed": ("local payment", "A local payment method (iDEAL, SOFORT…) payment completed"),
    "local_payment_expired": ("local payment", "A local payment expired before it completed"),
    "local_payment_funded": ("local payment", "A local payment's funds arrived"),
    "local_payment_reversed": ("local payment", "A local payment was reversed"),
}


@dataclass(frozen=True)
class WebhookKind:
    kind: str
    group: str
    description: str
    sandbox_sends: bool  # `paycli sandbox serve --webhook-url` sends this kind by itself


@dataclass(frozen=True)
class SignedNotification:
    """A notification as Braintree posts it; `bt_payload` is base64 with its newlines."""

    bt_signature: str
    bt_payload: str

    def form_body(self) -> str:
        return urlencode({"bt_signature": self.bt_signature, "bt_payload": self.bt_payload})


@dataclass(frozen=True)
class Notification:
    """A verified, decoded notification; `details` are its subject's fields (amount, status, dates…)."""

    kind: str
    timestamp: datetime | None
    subject: str | None  # transaction, dispute, disbursement, subscription, check…
    subject_id: str | None
    source_merchant_id: str | None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """The receiver's answer to one `send`."""

    url: str
    kind: str
    subject_id: str
    status: int
    reason: str
    ms: int
    response: str  # the start of the receiver's body, for a person debugging their endpoint

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class Received:
    """One POST the listener got: the notification if it verified, else why not; and the forward's outcome."""

    received_at: datetime
    verified: bool
    reply_status: int
    notification: Notification | None = None
    error: str | None = None
    forward_url: str | None = None
    forward_status: int | None = None
    forward_error: str | None = None


# kinds, samples, parsing -----------------------------------------------------------------------------------


def list_kinds(only: str | None = None) -> list[WebhookKind]:
    """Every kind the installed SDK knows, with one line each; `only` keeps those whose name contains it."""
    from paycli.gateway import Gateway

    rows = []
    for kind in Gateway.webhook_kinds():
        group, description = _DESCRIPTIONS.get(kind, (kind.split("_", 1)[0], ""))
        if only is None or only.lower() in kind:
            rows.append(WebhookKind(kind, group, description, kind in SANDBOX_KINDS))
    return rows


def check_kind(kind: str) -> str:
    from paycli.gateway import Gateway

    known = Gateway.webhook_kinds()
    if kind not in known:
        near = [k for k in known if kind.lower() in k]
        hint = f"; did you mean {', '.join(near[:4])}?" if near else "; `paycli webhook kinds` lists them"
        raise UsageError(f"'{kind}' is not a webhook kind the braintree SDK knows{hint}")
    return kind


def check_subject_id(subject_id: str) -> str:
    if not _SUBJECT_ID.fullmatch(subject_id):
        raise UsageError(f"--id '{subject_id}' must be 1-64 letters, digits, '_' or '-' (like a Braintree id)")
    return subject_id


def sample(gateway: Gateway, kind: str, subject_id: str = DEFAULT_SAMPLE_ID) -> SignedNotification:
    """A signed sample of `kind` about `subject_id`, made by the SDK with the gateway's profile keys."""
    signature, payload = gateway.webhook_sample(check_kind(kind), check_subject_id(subject_id))
    return SignedNotification(signature, payload)


def parse(gateway: Gateway, signature: str, payload: str) -> Notification:
    """Verify against the profile's keys and decode; a signature or payload that does not verify: GatewayRefused."""
    fields = gateway.webhook_parse(signature, payload)
    return Notification(
        fields["kind"],
        fields["timestamp"],
        fields["subject"],
        fields["subject_id"],
        fields["source_merchant_id"],
        fields["details"],
    )


def read_captured(text: str, *, source: str = "the input") -> SignedNotification:
    """The pair from a captured request: a form body (`bt_signature=…&bt_payload=…`) or a JSON object."""
    text = text.strip()  # an editor's final newline is not part of a form body, and would break the payload
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as err:
            raise UsageError(f"{source} looks like JSON but does not parse: {err.msg} (line {err.lineno})") from None
        pair: dict[str, object] = {name: document.get(name) for name in ("bt_signature", "bt_payload")}
    else:
        form = parse_qs(text, keep_blank_values=True)
        pair = {name: next(iter(form.get(name, [])), None) for name in ("bt_signature", "bt_payload")}
    signature, payload = pair["bt_signature"], pair["bt_payload"]
    if not isinstance(signature, str) or not isinstance(payload, str):
        missing = [name for name, value in pair.items() if not isinstance(value, str)]
        raise UsageError(
            f"{source} has no {' or '.join(missing)}: give a form body "
            f"(bt_signature=…&bt_payload=…) or a JSON object with both"
        )
    return SignedNotification(signature, payload)


# delivery ---------------------------------------------------------------------------------------------------


def check_loopback_url(url: str, *, option: str) -> str:
    """An http(s) URL whose host is this machine; anything else is a usage error."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{option} '{url}' must be an http:// URL such as http://127.0.0.1:3000/webhooks")
    if not _is_loopback(parts.hostname):
        raise UsageError(
            f"{option} {parts.hostname} is not a loopback address: webhooks are only sent to this "
            f"machine (127.0.0.1, ::1 or localhost); tunnel a remote endpoint to a local port"
        )
    try:
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        raise UsageError(f"{option} '{url}' has an invalid port") from None
    return url


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def send(gateway: Gateway, kind: str, url: str, subject_id: str = DEFAULT_SAMPLE_ID) -> Delivery:
    """POST a signed sample to a loopback `url`; a non-2xx answer is GatewayRefused (with status and ms)."""
    check_loopback_url(url, option="--to")
    signed = sample(gateway, kind, subject_id)
    status, reason, body, ms = post_form(url, signed.form_body().encode("ascii"))
    delivery = Delivery(url, kind, subject_id, status, reason, ms, body[:RESPONSE_EXCERPT_CHARS])
    if not delivery.ok:
        raise GatewayRefused(
            f"{url} answered {status} {reason} ({ms} ms)", url=url, status=status, ms=ms, response=delivery.response
        )
    return delivery


def post_form(
    url: str, body: bytes, *, content_type: str = FORM_CONTENT_TYPE, timeout_s: float = SEND_TIMEOUT_S
) -> tuple[int, str, str, int]:
    """POST `body`; returns (status, reason, start of the response text, ms). No proxies, no redirects."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout_s)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.perf_counter()
    try:
        connection.request(
            "POST",
            target,
            body=body,
            headers={"Content-Type": content_type, "User-Agent": "paycli-webhooks", "Accept": "*/*"},
        )
        response = connection.getresponse()
        text = response.read(RESPONSE_EXCERPT_CHARS * 4).decode("utf-8", "replace")
    except ConnectionRefusedError:
        raise Unavailable(f"nothing is listening on {url} (connection refused)", url=url) from None
    except TimeoutError:
        raise Unavailable(f"{url} did not answer within {timeout_s:.0f} s", url=url) from None
    except (OSError, http.client.HTTPException) as err:
        raise Unavailable(f"posting to {url} failed: {err or type(err).__name__}", url=url) from None
    finally:
        connection.close()
    ms = round((time.perf_counter() - started) * 1000)
    return response.status, response.reason, text.strip(), ms


# the listener -----------------------------------------------------------------------------------------------


class Listener:
    """A local endpoint that verifies each notification with the gateway's keys and hands out a record of it.

    ```
    with Listener(gateway, port=0) as listener:   # bound and serving on 127.0.0.1
        for record in listener.records(count=2):  # blocks until each notification arrives
            ...
    ```
    A verified notification is answered 200, a bad signature 403, a body without the pair 400. Records are
    handed over in the order requests arrive, before each answer; `close()` waits for answers in flight, so a
    caller that stops after N records never cuts a sender off. With `forward_to`, the original body is
    posted on to that loopback URL first.
    """

    def __init__(
        self,
        gateway: Gateway,
        *,
        port: int = DEFAULT_LISTEN_PORT,
        forward_to: str | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        if forward_to:
            check_loopback_url(forward_to, option="--forward-to")
        self.gateway = gateway
        self.forward_to = forward_to
        self._address = (host, port)
        self._records: queue.Queue[Received] = queue.Queue()
        self._server: _ReceiverServer | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the listener is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"  # an AF_INET address: host is a str

    def start(self) -> Listener:
        try:
            self._server = _ReceiverServer(self._address, self)
        except OSError as err:
            raise UsageError(f"cannot listen on {self._address[0]}:{self._address[1]}: {err.strerror or err}") from None
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="paycli-webhook-listener",
            daemon=True,
        ).start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Listener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def records(self, count: int | None = None, *, timeout_s: float | None = None) -> Iterator[Received]:
        """Each notification as it arrives; stops after `count` of them, or `timeout_s` from now, or never."""
        seen = 0
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while (count is None or seen < count) and (deadline is None or time.monotonic() < deadline):
            try:
                # a timeout, so a KeyboardInterrupt reaches the main thread while it waits
                record = self._records.get(timeout=0.2)
            except queue.Empty:
                continue
            seen += 1
            yield record

    def receive(self, body: bytes, content_type: str) -> Received:
        """Verify one posted body (and forward it); called from the server's request threads."""
        moment = datetime.now(timezone.utc).replace(microsecond=0)
        forward_status = forward_error = None
        if self.forward_to:
            try:
                forward_status = post_form(self.forward_to, body, content_type=content_type or FORM_CONTENT_TYPE)[0]
            except PaycliError as err:
                forward_error = err.message
        try:
            signed = read_captured(body.decode("utf-8", "replace"), source="the request body")
        except UsageError as err:
            return Received(
                moment,
                False,
                400,
                error=err.message,
                forward_url=self.forward_to,
                forward_status=forward_status,
                forward_error=forward_error,
            )
        try:
            notification = parse(self.gateway, signed.bt_signature, signed.bt_payload)
        except GatewayRefused as err:
            return Received(
                moment,
                False,
                403,
                error=err.message,
                forward_url=self.forward_to,
                forward_status=forward_status,
                forward_error=forward_error,
            )
        return Received(
            moment,
            True,
            200,
            notification,
            forward_url=self.forward_to,
            forward_status=forward_status,
            forward_error=forward_error,
        )

    def hand_over(self, record: Received) -> None:
        """Queue a record for `records()`; called from a request thread before it answers."""
        self._records.put(record)


class _ReceiverServer(ThreadingHTTPServer):
    # server_close() joins the request threads, so every sender gets its answer before the listener goes
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], listener: Listener) -> None:
        super().__init__(address, _ReceiverHandler)
        self.listener = listener


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: _ReceiverServer
    timeout = SEND_TIMEOUT_S  # a client that stalls mid-request cannot hold close() up for longer

    def setup(self) -> None:
        super().setup()
        # the answer goes out as two writes; without this, Nagle + delayed ACK add ~40 ms to each
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._answer(413, "too large for a webhook notification")
            return
        body = self.rfile.read(length) if length else b""
        record = self.server.listener.receive(body, self.headers.get("Content-Type") or "")
        self.server.listener.hand_over(record)
        self._answer(record.reply_status, "ok" if record.verified else (record.error or "rejected"))

    def do_GET(self) -> None:  # a friendly answer for someone checking the URL in a browser
        self._answer(200, "paycli webhook listener: POST bt_signature and bt_payload here")

    def _answer(self, status: int, text: str) -> None:
        body = (text + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the records are the log; http.server would write to stderr behind Output's back
