"""The only module that imports braintree: SDK objects and exceptions in, paycli models and errors out.

`connect(profile)` builds one `BraintreeGateway` per profile (the SDK keeps a pooled connection per
thread, so one gateway serves a whole run and its worker threads). A `local` profile without `url`
starts the offline sandbox inside this process first.

Retries: reads, and mutations that carry an `api_request_key`, are retried on connection errors, timeouts,
429, 503 and 504 — bounded, with jittered backoff, each retry noted. A mutation without a key is never
retried: a lost response could otherwise move money twice.

Replies: the SDK builds every request (headers, auth) and maps every HTTP status to its exceptions; the XML
reply it would decode with minidom is decoded by paycli's `xmlreplies` instead (the same dict, for far less
CPU), through this gateway's own Configuration and Http objects only: a `braintree.BraintreeGateway` built
elsewhere in the same process still uses the SDK's parser.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit

import braintree
from braintree.exceptions import (
    AuthenticationError,
    AuthorizationError,
    GatewayTimeoutError,
    NotFoundError,
    RequestTimeoutError,
    ServerError,
    ServiceUnavailableError,
    TooManyRequestsError,
    UnexpectedError,
    UpgradeRequiredError,
)
from braintree.exceptions.http import ConnectionError as SdkConnectionError
from braintree.exceptions.http import TimeoutError as SdkTimeoutError
from braintree.util.datetime_parser import parse_datetime
from braintree.util.http import Http
from braintree.util.xml_util import XmlUtil

from paycli.config import Profile, state_dir
from paycli.errors import ConfigError, Declined, GatewayRefused, NotFound, PaycliError, Unavailable, UsageError
from paycli.models import SettlementRecord, StatusEvent, Transaction, TransactionQuery
from paycli.xmlreplies import Refused, ReplyDecoder, Unhandled

T = TypeVar("T")
Log = Callable[[str], None]

MAX_ATTEMPTS = 4
BACKOFF_BASE_S = 0.25
TIMEOUT_S = 60  # Braintree's own gateway timeout
_RETRYABLE = (SdkConnectionError, SdkTimeoutError, TooManyRequestsError, ServiceUnavailableError,
              GatewayTimeoutError, RequestTimeoutError)
_TRANSIENT = (*_RETRYABLE, ServerError, UpgradeRequiredError)


def _aware(moment: datetime | None) -> datetime | None:
    """The SDK hands out naive UTC datetimes; paycli's are always aware."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def connect(profile: Profile, *, log: Log | None = None, notify: Log | None = None,
            offline: bool = False) -> "Gateway":
    """A gateway for `profile`; `log` gets one line per HTTP request, `notify` each retry.

    `offline`: only for what the SDK computes with the keys alone (webhook signatures), so an embedded
    profile starts no sandbox, and a request would find nothing listening.
    """
    embedded = None
    if profile.embedded:
        from paycli import sandbox

        if offline:
            environment = _local_environment("http://127.0.0.1:9")  # the discard port: never contacted
        else:
            embedded = sandbox.start(state_dir(os.environ) / "sandbox.db", search_cap=profile.search_cap)
            environment = _local_environment(embedded.url)
        merchant_id, public_key, private_key = (sandbox.LOCAL_MERCHANT_ID, sandbox.LOCAL_PUBLIC_KEY,
                                                sandbox.LOCAL_PRIVATE_KEY)
    else:
        if profile.environment == "local":
            environment = _local_environment(profile.url or "")
        else:
            environment = braintree.Environment.All[profile.environment]
        merchant_id, public_key = profile.merchant_id, profile.public_key
        private_key = profile.private_key.resolve() if profile.private_key else None
    gate = _DecodeGate()
    config = _Configuration(
        environment=environment, merchant_id=merchant_id, public_key=public_key, private_key=private_key,
        timeout=TIMEOUT_S, wrap_http_exceptions=True, http_strategy=_transport(gate, log),
    )
    return Gateway(profile, braintree.BraintreeGateway(config), embedded=embedded, notify=notify, gate=gate)


def _local_environment(url: str) -> braintree.Environment:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or not parts.port:
        raise ConfigError(f"sandbox url {url!r} must look like http://127.0.0.1:4567")
    port = str(parts.port)  # the SDK concatenates the port: it must be a str
    return braintree.Environment("local", parts.hostname, port, url, False, None, parts.hostname, port)


class _DecodeGate:
    """Lets one thread at a time decode a reply, while the others keep waiting on the network together.

    Decoding a reply and building the SDK's objects from it is Python work that holds the GIL, so threads that
    decode at once gain nothing: they take turns every switch interval, and the switching costs CPU. With
    paycli's own decoder the work is a fraction of minidom's, and the gate still costs the export less CPU
    than running ungated (measured with `bench/export.py`'s setup). A thread takes the gate when its reply has
    arrived (`arrived`, from the transport) and gives it back when the SDK call has returned or raised
    (`calling`), so never while it sleeps before a retry.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()

    @contextmanager
    def calling(self) -> Iterator[None]:
        self._local.inside = True
        try:
            yield
        finally:
            self._local.inside = False
            if getattr(self._local, "held", False):
                self._local.held = False
                self._lock.release()

    def arrived(self) -> None:
        # outside `calling` nobody would give the gate back; a second reply within one call already holds it
        if getattr(self._local, "inside", False) and not getattr(self._local, "held", False):
            self._lock.acquire()
            self._local.held = True


_DECODER = ReplyDecoder(parse_datetime)


class _Configuration(braintree.Configuration):
    """The SDK's configuration, whose `http()` (what every SDK gateway asks for its requests) decodes replies
    with paycli's decoder; `replies` carries each reply body from the transport to it, per thread."""

    def __init__(self, **kwargs: Any) -> None:
        self.replies = threading.local()
        super().__init__(**kwargs)

    def http(self) -> Http:
        return _DecodingHttp(self)


class _DecodingHttp(Http):
    """The SDK's Http with the last step swapped: the SDK builds the request, sends it through the transport
    and raises for the status; the transport keeps the reply body aside and hands the SDK an empty one (which
    it answers with `{}` without parsing), and the body is decoded here. JSON (GraphQL) is left to the SDK."""

    def _make_request(self, http_verb: str, path: str, content_type: str, params: Any = None, files: Any = None,
                      header_overrides: Any = None) -> Any:
        if content_type == Http.ContentType.Json:
            return super()._make_request(http_verb, path, content_type, params, files, header_overrides)
        replies = self.config.replies
        replies.taking = True
        try:
            empty = super()._make_request(http_verb, path, content_type, params, files, header_overrides)
        finally:
            replies.taking = False
            body = replies.__dict__.pop("body", None)
        if body is None or not body.strip():
            return empty
        return decode_reply(body)


def decode_reply(body: str | bytes) -> dict[str, Any]:
    """The SDK parser's dict for a reply body; what the decoder leaves alone goes to the SDK's parser."""
    try:
        return _DECODER.decode(body)
    except Refused as err:
        raise UnexpectedError(str(err)) from None
    except Unhandled:
        try:
            return XmlUtil.dict_from_xml(body)
        except Exception as err:
            raise UnexpectedError(f"unreadable reply ({type(err).__name__})") from None


def _transport(gate: _DecodeGate, log: Log | None) -> type:
    class GatedHttp(Http):
        """The SDK's transport, gated for decoding and, with `log`, timing each request; headers (and so the
        credentials) are never logged."""

        def http_do(self, http_verb: str, path: str, headers: Any, request_body: Any) -> Any:
            started = time.perf_counter()
            shown = urlsplit(path).path
            try:
                status, body = super().http_do(http_verb, path, headers, request_body)
            except Exception as err:
                if log:
                    log(f"{http_verb} {shown} failed: {type(err).__name__} "
                        f"({(time.perf_counter() - started) * 1000:.0f} ms)")
                raise
            if log:
                log(f"{http_verb} {shown} {status} ({(time.perf_counter() - started) * 1000:.0f} ms)")
            gate.arrived()
            replies = self.config.replies
            if getattr(replies, "taking", False):
                replies.body = body  # for _DecodingHttp, once the SDK has checked the status
                return status, ""
            return status, body  # a request _DecodingHttp did not make (GraphQL): the SDK reads it

    return GatedHttp


class Gateway:
    """Braintree operations for one profile, in paycli's terms."""

    def __init__(self, profile: Profile, sdk: braintree.BraintreeGateway, *, gate: _DecodeGate,
                 embedded: Any = None, notify: Log | None = None) -> None:
        self.profile = profile
        self._sdk = sdk
        self._gate = gate
        self._embedded = embedded
        self._notify = notify
        self._pushbacks = 0
        self._pushbacks_lock = threading.Lock()

    @property
    def pushbacks(self) -> int:
        """How many 429 or 503 answers this gateway has had: a batch slows down when this grows."""
        return self._pushbacks

    @property
    def merchant_id(self) -> str:
        return self._sdk.config.merchant_id

    @property
    def search_cap(self) -> int:
        return self.profile.search_cap

    def close(self) -> None:
        self._sdk.config.close()
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None

    # the error boundary ------------------------------------------------------------------

    def _call(self, what: str, action: Callable[[], T], *, retry: bool) -> T:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self._gate.calling():
                    return action()
            except _RETRYABLE as err:
                if isinstance(err, (TooManyRequestsError, ServiceUnavailableError)):
                    with self._pushbacks_lock:
                        self._pushbacks += 1
                if not retry or attempt == MAX_ATTEMPTS:
                    raise _translate(err, what, self._sdk.config.environment.base_url) from None
                pause = BACKOFF_BASE_S * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
                if self._notify:
                    self._notify(f"{what}: {_describe(err)}; retrying in {pause:.1f} s "
                                 f"(attempt {attempt + 1} of {MAX_ATTEMPTS})")
                time.sleep(pause)
            except braintree.exceptions.braintree_error.BraintreeError as err:
                raise _translate(err, what) from None
        raise AssertionError("unreachable")

    # client tokens ------------------------------------------------------------------------

    def generate_client_token(self, *, customer_id: str | None = None, merchant_account_id: str | None = None,
                              version: int = 2) -> str:
        params: dict[str, Any] = {"version": version}
        if customer_id:
            params["customer_id"] = customer_id
        if merchant_account_id:
            params["merchant_account_id"] = merchant_account_id

        def generate() -> str:
            try:
                return self._sdk.client_token.generate(params)
            except ValueError as err:  # the SDK's way of reporting a 422 on client tokens
                raise GatewayRefused(f"client token refused: {err}") from None

        return self._call("client token", generate, retry=True)

    # transactions -------------------------------------------------------------------------

    def sale(self, params: dict[str, Any]) -> Transaction:
        """Create a sale; a decline raises Declined with the transaction, a validation error GatewayRefused."""
        request = {**params, "amount": str(params["amount"])}
        result = self._call("sale", lambda: self._sdk.transaction.sale(request),
                            retry=bool(request.get("api_request_key")))
        return self._outcome(result, "sale")

    def find(self, txn_id: str) -> Transaction:
        return transaction(self._call(f"find {txn_id}", lambda: self._sdk.transaction.find(txn_id), retry=True))

    def submit_for_settlement(self, txn_id: str, amount: Decimal | None = None) -> Transaction:
        result = self._call(f"submit {txn_id}", lambda: self._sdk.transaction.submit_for_settlement(
            txn_id, str(amount) if amount is not None else None), retry=False)
        return self._outcome(result, "submit for settlement")

    def void(self, txn_id: str, *, api_request_key: str | None = None) -> Transaction:
        params = {"api_request_key": api_request_key} if api_request_key else None
        result = self._call(f"void {txn_id}", lambda: self._sdk.transaction.void(txn_id, params),
                            retry=bool(api_request_key))
        return self._outcome(result, "void")

    def refund(self, txn_id: str, *, amount: Decimal | None = None, order_id: str | None = None,
               api_request_key: str | None = None) -> Transaction:
        options: dict[str, Any] = {"amount": str(amount) if amount is not None else None}
        if order_id:
            options["order_id"] = order_id
        if api_request_key:
            options["api_request_key"] = api_request_key
        result = self._call(f"refund {txn_id}", lambda: self._sdk.transaction.refund(txn_id, options),
                            retry=bool(api_request_key))
        return self._outcome(result, "refund")

    def _outcome(self, result: Any, what: str) -> Transaction:
        if result is None:
            raise Unavailable(f"{what}: the gateway's answer had neither a transaction nor an error")
        if result.is_success:
            return transaction(result.transaction)
        if getattr(result, "transaction", None) is not None:
            declined = transaction(result.transaction)
            raise Declined(f"{what} {declined.status}: {result.message}", declined)
        errors = [{"code": e.code, "attribute": e.attribute, "message": e.message}
                  for e in result.errors.deep_errors]
        codes = ", ".join(sorted({e["code"] for e in errors}))
        raise GatewayRefused(f"{what} refused: {' '.join(result.message.splitlines())} ({codes})", errors=errors)

    # search -------------------------------------------------------------------------------

    def search_ids(self, query: TransactionQuery) -> list[str]:
        """Phase one of Braintree's search: every matching id (at most the gateway's cap, silently)."""
        nodes = _criteria(query)
        collection = self._call("search", lambda: self._sdk.transaction.search(nodes), retry=True)
        return list(collection.ids)

    def fetch_page(self, query: TransactionQuery, ids: Sequence[str]) -> list[Transaction]:
        """Phase two: the transactions for up to one page of ids, in the order given."""
        from braintree.resource_collection import ResourceCollection

        params: dict[str, Any] = {}
        for node in _criteria(query):  # nodes on one field merge, later ones winning, as in the SDK's search
            value = node.to_param()
            params[node.name] = {**params.get(node.name, {}), **value} if isinstance(value, dict) else value
        params["ids"] = list(ids)
        path = self._sdk.config.base_merchant_path() + "/transactions/advanced_search"

        def fetch() -> list[Transaction]:
            response = self._sdk.config.http().post(path, {"search": params})
            page = response.get("credit_card_transactions")
            if page is None:
                raise RequestTimeoutError("search timeout")
            items = ResourceCollection._extract_as_array(page, "transaction")
            return [transaction(braintree.Transaction(self._sdk, item)) for item in items]

        found = {t.id: t for t in self._call("search page", fetch, retry=True)}
        return [found[i] for i in ids if i in found]

    # settlement ---------------------------------------------------------------------------

    def settlement_summary(self, day: date, group_by_custom_field: str | None = None) -> list[SettlementRecord]:
        result = self._call(f"settlement summary {day}", lambda: self._sdk.settlement_batch_summary.generate(
            day.isoformat(), group_by_custom_field), retry=True)
        if not result.is_success:
            raise GatewayRefused(f"settlement summary refused: {' '.join(result.message.splitlines())}")
        records = []
        for row in result.settlement_batch_summary.records:
            records.append(SettlementRecord(
                merchant_account_id=row.get("merchant_account_id", ""), card_type=row.get("card_type", ""),
                kind=row.get("kind", ""), count=int(row.get("count", 0)),
                amount_settled=Decimal(str(row.get("amount_settled", "0"))),
                custom_field=row.get(group_by_custom_field) if group_by_custom_field else None,
            ))
        return records

    # the sandbox's testing endpoints (Braintree's sandbox has them too) ------------------------

    def testing_settle(self, txn_id: str, outcome: str = "settled") -> Transaction:
        if self.profile.production:
            raise UsageError("settling by hand is a sandbox feature; this is a production profile")
        method = {"settled": self._sdk.testing.settle_transaction,
                  "settlement_confirmed": self._sdk.testing.settlement_confirm_transaction,
                  "settlement_declined": self._sdk.testing.settlement_decline_transaction,
                  "settlement_pending": self._sdk.testing.settlement_pending_transaction}[outcome]
        result = self._call(f"settle {txn_id}", lambda: method(txn_id), retry=False)
        return self._outcome(result, "settle")


    def sandbox_control(self, action: str) -> dict[str, Any]:
        """paycli's own sandbox routes (`reset`, `status`), spoken through the SDK's HTTP client."""
        if self.profile.environment != "local":
            raise UsageError(f"sandbox {action} works on local profiles; {self.profile.name} is "
                             f"{self.profile.environment}")
        http = self._sdk.config.http()
        path = f"{self._sdk.config.base_merchant_path()}/paycli_sandbox/{action}"
        response = self._call(f"sandbox {action}",
                              lambda: http.post(path) if action == "reset" else http.get(path), retry=False)
        return response.get("sandbox_status", {})

    # webhooks: signed and verified locally with this profile's keys, no HTTP ---------------------------------

    # The attribute the SDK's WebhookNotification sets for each kind of subject.
    _WEBHOOK_SUBJECTS = (
        "transaction", "dispute", "disbursement", "subscription", "merchant_account", "transaction_review",
        "connected_merchant_status_transitioned", "connected_merchant_paypal_status_changed", "partner_merchant",
        "oauth_access_revocation", "account_updater_daily_report", "granted_payment_instrument_update",
        "revoked_payment_method_metadata", "local_payment_completed", "local_payment_expired",
        "local_payment_funded", "local_payment_reversed", "payment_method_customer_data_updated_metadata",
    )
    _WEBHOOK_ID_FIELDS = ("id", "transaction_id", "payment_id", "token", "merchant_public_id",
                          "partner_merchant_id", "merchant_id")

    @staticmethod
    def webhook_kinds() -> list[str]:
        """Every notification kind this SDK version knows (`WebhookNotification.Kind`)."""
        kinds = vars(braintree.WebhookNotification.Kind)
        return sorted(value for name, value in kinds.items() if not name.startswith("_") and isinstance(value, str))

    def webhook_sample(self, kind: str, subject_id: str) -> tuple[str, str]:
        """(bt_signature, bt_payload) as Braintree posts them, made by the SDK with this profile's keys."""
        signed = self._sdk.webhook_testing.sample_notification(kind, subject_id)
        payload = signed["bt_payload"]
        return signed["bt_signature"], payload.decode("ascii") if isinstance(payload, bytes) else payload

    def webhook_parse(self, signature: str, payload: str) -> dict[str, Any]:
        """Verify a notification against this profile's keys and decode it into plain values.

        Returns `kind`, `timestamp`, `source_merchant_id`, `subject` (the subject's name), `subject_id` and
        `details` (the subject's scalar fields). A signature or payload that does not verify is GatewayRefused.
        """
        from braintree.exceptions import InvalidSignatureError

        try:
            notification = self._sdk.webhook_notification.parse(signature, payload)
        except InvalidSignatureError as err:
            raise GatewayRefused(self._webhook_rejection(str(err)), reason=str(err)) from None
        except UnicodeEncodeError:  # the SDK ascii-encodes a str payload before its own character check
            raise GatewayRefused("webhook rejected: the payload has non-ASCII characters, so it is not "
                                 "Braintree's base64", reason="payload contains illegal characters") from None
        except Exception as err:  # verified, then unreadable: base64 or XML the SDK cannot decode
            raise GatewayRefused(f"webhook rejected: the signature verifies but the payload is not a Braintree "
                                 f"notification ({type(err).__name__})", reason="undecodable payload") from None
        subject_name, subject = next(((name, getattr(notification, name)) for name in self._WEBHOOK_SUBJECTS
                                      if hasattr(notification, name)), (None, None))
        if subject is None:  # `check` and unknown subjects: the raw subject element, e.g. {"check": True}
            raw = getattr(notification, "subject", None) or {}
            subject_name = next(iter(raw), None) if isinstance(raw, dict) else None
            subject = raw
        details = self._webhook_fields(subject)
        return {
            "kind": notification.kind,
            "timestamp": _aware(notification.timestamp),
            "source_merchant_id": getattr(notification, "source_merchant_id", None),
            "subject": subject_name,
            "subject_id": next((str(details[f]) for f in self._WEBHOOK_ID_FIELDS if details.get(f)), None),
            "details": details,
        }

    def _webhook_rejection(self, reason: str) -> str:
        hints = {
            "no matching public key": f"it is not signed for this profile's public key "
                                      f"({self._sdk.config.public_key}); select the profile it was sent to",
            "signature does not match payload - one has been modified":
                "the signature does not match the payload: one of them was modified, or it was signed with "
                "another private key",
            "payload contains illegal characters": "the payload has characters base64 never has (a CR from a "
                                                   "Windows line ending, or a form body that was not URL-decoded?)",
        }
        return f"webhook rejected: {hints.get(reason, reason)}"

    @staticmethod
    def _webhook_fields(subject: Any) -> dict[str, Any]:
        """The subject's scalar fields (nested objects left out), datetimes aware, any private key masked."""
        source = subject if isinstance(subject, dict) else vars(subject)
        fields: dict[str, Any] = {}
        for name, value in source.items():
            if name.startswith("_") or name == "gateway":
                continue
            if name == "disbursement_details":  # what `transaction.is_disbursed` reads
                name, value = "disbursement_date", getattr(value, "disbursement_date", None)
            if isinstance(value, datetime):
                value = _aware(value)
            elif value is None or not isinstance(value, (str, bool, int, Decimal, date)):
                continue
            if "private_key" in name:  # partner_merchant_connected carries the partner's keys
                value = "****"
            fields[name] = value
        return fields


def transaction(t: Any) -> Transaction:
    """paycli's Transaction from the SDK's; tolerant of fields a gateway leaves out."""
    card = getattr(t, "credit_card_details", None)
    customer = getattr(t, "customer_details", None)
    history = tuple(
        StatusEvent(e.status, _aware(e.timestamp), Decimal(e.amount) if e.amount is not None else t.amount)
        for e in getattr(t, "status_history", []) or []
    )
    custom = getattr(t, "custom_fields", None)
    return Transaction(
        id=t.id, type=t.type, status=t.status, amount=Decimal(t.amount),
        currency=getattr(t, "currency_iso_code", None),
        merchant_account_id=getattr(t, "merchant_account_id", None),
        order_id=getattr(t, "order_id", None) or None,
        created_at=_aware(t.created_at), updated_at=_aware(t.updated_at),
        payment_instrument_type=getattr(t, "payment_instrument_type", None),
        card_type=getattr(card, "card_type", None) if card else None,
        last_4=getattr(card, "last_4", None) if card else None,
        customer_email=getattr(customer, "email", None) if customer else None,
        customer_id=getattr(customer, "id", None) if customer else None,
        processor_response_code=getattr(t, "processor_response_code", None),
        processor_response_text=getattr(t, "processor_response_text", None),
        gateway_rejection_reason=getattr(t, "gateway_rejection_reason", None),
        settlement_batch_id=getattr(t, "settlement_batch_id", None),
        refund_ids=tuple(getattr(t, "refund_ids", None) or ()),
        refunded_transaction_id=getattr(t, "refunded_transaction_id", None),
        status_history=history,
        custom_fields=dict(custom) if isinstance(custom, dict) else {},
    )


def _criteria(query: TransactionQuery) -> list[Any]:
    search = braintree.TransactionSearch
    nodes: list[Any] = []
    if query.ids:
        nodes.append(search.ids.in_list(*query.ids))
    for field, value in (("order_id", query.order_id), ("customer_email", query.customer_email),
                         ("customer_id", query.customer_id)):
        if value:
            nodes.append(getattr(search, field) == value)
    if query.last_4:
        nodes.append(search.credit_card_number.ends_with(query.last_4))
    if query.settlement_batch_id_prefix:
        nodes.append(search.settlement_batch_id.starts_with(query.settlement_batch_id_prefix))
    for field, values in (("status", query.statuses), ("type", query.types),
                          ("merchant_account_id", query.merchant_account_ids)):
        if values:
            nodes.append(getattr(search, field).in_list(*values))
    for field, low, high in (("created_at", query.created_from, query.created_to),
                             ("settled_at", query.settled_from, query.settled_to),
                             ("amount", query.amount_min, query.amount_max)):
        node = getattr(search, field)
        # the SDK sends datetimes as naive UTC, so convert before handing over
        low, high = (_utc_naive(v) for v in (low, high))
        if low is not None and high is not None:
            nodes.append(node.between(low, high))
        elif low is not None:
            nodes.append(node >= low)
        elif high is not None:
            nodes.append(node <= high)
    return nodes


def _utc_naive(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _describe(err: Exception) -> str:
    name = {TooManyRequestsError: "429 too many requests", ServiceUnavailableError: "503 service unavailable",
            GatewayTimeoutError: "504 gateway timeout", SdkConnectionError: "connection failed",
            RequestTimeoutError: "request timed out"}
    for cls, text in name.items():
        if isinstance(err, cls):
            return text
    return "timed out" if isinstance(err, SdkTimeoutError) else type(err).__name__


def _translate(err: Exception, what: str, url: str | None = None) -> PaycliError:
    if isinstance(err, AuthenticationError):
        return ConfigError(f"{what}: authentication failed: check the profile's merchant_id, public_key and private key")
    if isinstance(err, AuthorizationError):
        return ConfigError(f"{what}: not authorized: these API keys lack the permission for this operation")
    if isinstance(err, NotFoundError):
        return NotFound(f"{what}: not found (check the id and the profile's merchant)")
    if isinstance(err, (SdkConnectionError, SdkTimeoutError)) and url:  # which address: a wrong url, port or proxy
        return Unavailable(f"{what}: {_describe(err)} ({url}); the gateway may be unreachable or busy, try again "
                           "later", url=url)
    if isinstance(err, _TRANSIENT):
        return Unavailable(f"{what}: {_describe(err)}; the gateway may be unreachable or busy, try again later")
    if isinstance(err, UnexpectedError):
        return Unavailable(f"{what}: unexpected answer from the gateway ({err})")
    return Unavailable(f"{what}: {type(err).__name__}")
