"""The HTTP seam: the SDK's Configuration and Http, with paycli's reply decoder and the decode gate.

The SDK builds every request (headers, auth) and maps every HTTP status to its exceptions; the XML reply it
would decode with minidom is decoded by paycli's `xmlreplies` instead (the same dict, for less CPU), through
the Configuration and Http objects made here only: a `braintree.BraintreeGateway` built elsewhere in the same
process still uses the SDK's parser.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import braintree
from braintree.exceptions import UnexpectedError
from braintree.util.datetime_parser import parse_datetime
from braintree.util.http import Http
from braintree.util.xml_util import XmlUtil

from paycli.errors import ConfigError
from paycli.xmlreplies import Refused, ReplyDecoder, Unhandled

Log = Callable[[str], None]

TIMEOUT_S = 60  # Braintree's own gateway timeout


def sdk_gateway(
    environment: braintree.Environment,
    merchant_id: str | None,
    public_key: str | None,
    private_key: str | None,
    *,
    log: Log | None = None,
) -> tuple[braintree.BraintreeGateway, DecodeGate]:
    """The SDK's gateway wired to paycli's decoder, and the gate its calls decode under (see `DecodeGate`)."""
    gate = DecodeGate()
    config = Configuration(
        environment=environment,
        merchant_id=merchant_id,
        public_key=public_key,
        private_key=private_key,
        timeout=TIMEOUT_S,
        wrap_http_exceptions=True,
        http_strategy=_transport(gate, log),
    )
    return braintree.BraintreeGateway(config), gate


def local_environment(url: str) -> braintree.Environment:
    """The SDK environment for a sandbox at `url` (http://host:port)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or not parts.port:
        raise ConfigError(f"sandbox url {url!r} must look like http://127.0.0.1:4567")
    port = str(parts.port)  # the SDK concatenates the port: it must be a str
    return braintree.Environment("local", parts.hostname, port, url, False, None, parts.hostname, port)


class DecodeGate:
    """Lets one thread at a time decode a reply, while the others keep waiting on the network together.

    Decoding a reply and building the SDK's objects from it is Python work that holds the GIL, so threads that
    decode at once gain nothing: they take turns every switch interval, and the switching costs CPU. With
    paycli's own decoder the work is a fraction of minidom's, and gated threads spend less CPU than ungated
    ones (`bench/export.py` measures it). A thread takes the gate when its reply has arrived (`arrived`, from
    the transport) and gives it back when the SDK call has returned or raised (`calling`, entered by the call
    wrapper), so never while it sleeps before a retry.
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


class Configuration(braintree.Configuration):
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

    def _make_request(
        self,
        http_verb: str,
        path: str,
        content_type: str,
        params: Any = None,
        files: Any = None,
        header_overrides: Any = None,
    ) -> Any:
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


def _transport(gate: DecodeGate, log: Log | None) -> type:
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
                    log(
                        f"{http_verb} {shown} failed: {type(err).__name__} "
                        f"({(time.perf_counter() - started) * 1000:.0f} ms)"
                    )
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
