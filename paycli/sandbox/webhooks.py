"""Webhook notifications from the sandbox (`paycli sandbox serve --webhook-url URL`).

When one of its transactions settles, the sandbox POSTs what Braintree posts
(https://developer.paypal.com/braintree/docs/guides/webhooks/parse/python): a
form-encoded `bt_signature`/`bt_payload`, where the payload is base64 (a newline every 76 characters) of
`<notification><timestamp/><kind/><subject><transaction>…</transaction></subject></notification>` and the
signature is `public_key|hex(HMAC-SHA1(key=SHA1(private_key), payload))`, with the merchant's own keys.

| the transaction becomes           | notifications                                  |
| --------------------------------- | ---------------------------------------------- |
| settled / settlement_confirmed    | transaction_settled, then transaction_disbursed |
| settlement_declined               | transaction_settlement_declined                |

- Braintree's real sandbox sends transaction_settled only for ACH and SEPA Direct Debit; this one sends it
  for every payment method, because seeing a settlement arrive is the point of `--webhook-url`.
- Disbursement: Braintree funds a merchant a day or two after settlement. The sandbox has no funding
  calendar, so a transaction is disbursed the moment it settles: `settlement.Settlement` stores its
  `disbursement_details.disbursement_date` (the local settlement date) and transaction_disbursed follows
  transaction_settled.
- Delivery happens on a background thread, so an API answer never waits for a receiver. A failed delivery
  (connection refused, timeout, non-2xx) is retried with doubling backoff, MAX_ATTEMPTS in all, then dropped
  and logged; Braintree itself retries hourly for a day, which a local tool has no use for.
- A notification is queued while the settlement's write is still open; the sender waits until that write
  is visible in the store before posting, so a change that was rolled back is never announced.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import heapq
import hmac
import http.client
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from paycli.sandbox import schema, xmlcodec
from paycli.sandbox.records import stamp
from paycli.sandbox.store import Merchant, Store

KINDS_BY_STATUS: dict[str, tuple[str, ...]] = {
    "settled": ("transaction_settled", "transaction_disbursed"),
    "settlement_confirmed": ("transaction_settled", "transaction_disbursed"),
    "settlement_declined": ("transaction_settlement_declined",),
}
MAX_ATTEMPTS = 6
RETRY_BACKOFF_S = 0.5  # 0.5, 1, 2, 4, 8: about 15 s before a notification is given up
DELIVERY_TIMEOUT_S = 10.0
COMMIT_WAIT_S = 5.0  # longer than any settlement write takes; past it, the write was rolled back
COMMIT_POLL_S = 0.02
STOP_GRACE_S = 1.0  # on stop, time left for notifications already due (a Ctrl-C right after a settle)

Log = Callable[[str], None]


def sign(public_key: str, private_key: str, payload: bytes) -> str:
    """Braintree's webhook signature: the HMAC key is SHA1(private key), the message the base64 payload."""
    digest = hmac.new(hashlib.sha1(private_key.encode()).digest(), payload, hashlib.sha1).hexdigest()
    return f"{public_key}|{digest}"


def payload(kind: str, moment: datetime, doc: dict[str, Any]) -> bytes:
    """`bt_payload`: base64 with a newline every 76 characters, as the SDKs' `encodebytes` makes it."""
    document = xmlcodec.render(
        "notification", {"timestamp": moment, "kind": kind, "subject": {"transaction": schema.transaction(doc)}}
    )
    return base64.encodebytes(document)


@dataclass(order=True)
class _Pending:
    due: float
    seq: int
    merchant: Merchant = field(compare=False)
    kind: str = field(compare=False)
    status: str = field(compare=False)
    moment: datetime = field(compare=False)
    doc: dict[str, Any] = field(compare=False)  # the transaction as it was when the event happened
    queued: float = field(compare=False)
    attempts: int = field(default=0, compare=False)
    committed: bool = field(default=False, compare=False)

    @property
    def label(self) -> str:
        return f"webhook {self.kind} {self.doc['id']} (merchant {self.merchant.id})"


class WebhookSender:
    """Posts the sandbox's notifications to one URL, from one background thread, with bounded retries."""

    def __init__(self, url: str, store: Store, *, log: Log | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"webhook url {url!r} must look like http://127.0.0.1:4568/webhooks")
        self.url = url
        self.store = store
        self.log = log
        self.delivered = 0
        self.failed = 0
        self._queue: list[_Pending] = []
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="paycli-sandbox-webhooks", daemon=True)
        self._thread.start()

    # called by settlement.Settlement, inside the settlement's write ---------------------------------------

    def transaction_settled(self, merchant: Merchant, doc: dict[str, Any], status: str, moment: datetime) -> None:
        """Queue the notifications for a transaction that just reached `status`; never blocks on the network."""
        kinds = KINDS_BY_STATUS.get(status, ())
        if not kinds:
            return
        snapshot = copy.deepcopy(doc)  # rendered later, on the sender's thread, as it is now
        with self._wake:
            now = time.monotonic()
            for kind in kinds:
                heapq.heappush(
                    self._queue, _Pending(now, next(self._seq), merchant, kind, status, moment, snapshot, now)
                )
            self._wake.notify()

    # the sender's thread ---------------------------------------------------------------------------------

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        deadline = time.monotonic() + grace_s
        with self._wake:
            while any(item.attempts == 0 for item in self._queue) and time.monotonic() < deadline:
                self._wake.wait(0.05)
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout=DELIVERY_TIMEOUT_S)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and (not self._queue or self._queue[0].due > time.monotonic()):
                    self._wake.wait(self._queue[0].due - time.monotonic() if self._queue else None)
                if self._stopping:
                    return
                item = heapq.heappop(self._queue)
            retry_at = self._attempt(item)
            with self._wake:
                if retry_at is not None:
                    item.due = retry_at
                    heapq.heappush(self._queue, item)
                self._wake.notify_all()  # stop() may be waiting for the queue to empty

    def _attempt(self, item: _Pending) -> float | None:
        """Try one delivery; returns when to try again, or None when done (delivered or given up)."""
        if not item.committed:
            item.committed = self._is_stored(item)
            if not item.committed:
                if time.monotonic() - item.queued > COMMIT_WAIT_S:
                    self._say(f"{item.label} not sent: the settlement was never stored")
                    return None
                return time.monotonic() + COMMIT_POLL_S
        item.attempts += 1
        body = payload(item.kind, item.moment, item.doc)
        form = urlencode(
            {
                "bt_signature": sign(item.merchant.public_key, item.merchant.private_key, body),
                "bt_payload": body.decode("ascii"),
            }
        ).encode("ascii")
        started = time.monotonic()
        try:
            status = self._post(form)
            problem = None if 200 <= status < 300 else f"answered {status}"
        except (OSError, http.client.HTTPException) as err:
            problem = f"failed: {type(err).__name__}"
        ms = (time.monotonic() - started) * 1000
        if problem is None:
            self.delivered += 1
            self._say(f"{item.label} → {self.url} {status} ({ms:.0f} ms)")
            return None
        if item.attempts >= MAX_ATTEMPTS:
            self.failed += 1
            self._say(f"{item.label} → {self.url} {problem}; gave up after {item.attempts} attempts")
            return None
        pause = RETRY_BACKOFF_S * 2 ** (item.attempts - 1)
        self._say(
            f"{item.label} → {self.url} {problem}; retrying in {pause:.1f} s "
            f"(attempt {item.attempts + 1} of {MAX_ATTEMPTS})"
        )
        return time.monotonic() + pause

    def _is_stored(self, item: _Pending) -> bool:
        if self.store.path == ":memory:":  # each thread has its own in-memory database: nothing to compare
            return True
        doc = self.store.transaction(self.store.read(), item.merchant.id, item.doc["id"])
        when = stamp(item.moment)
        return doc is not None and any(
            event["status"] == item.status and event["timestamp"] == when for event in doc.get("status_history", [])
        )

    def _post(self, form: bytes) -> int:
        parts = urlsplit(self.url)
        connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(parts.hostname or "", parts.port, timeout=DELIVERY_TIMEOUT_S)
        try:
            connection.request(
                "POST",
                (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                body=form,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "User-Agent": "Braintree Webhooks (paycli sandbox)",
                },
            )
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    def _say(self, message: str) -> None:
        if self.log:
            self.log(message)
