"""The call wrapper: the one place an SDK request runs, its exceptions become PaycliErrors, and retries happen.

The rule: every SDK call that makes an HTTP request runs inside `Calls.run`. Nothing else in the gateway
maps the SDK's HTTP exceptions or sleeps before trying again, so a request made outside it would escape as
a traceback (exit 1) instead of exit 4, 5 or 6, would never be retried, and would decode outside the gate
(tests/test_gateway.py runs every public `Gateway` method against a sandbox answering 503 to everything).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

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

from paycli.errors import ConfigError, NotFound, PaycliError, Unavailable
from paycli.gateway.transport import DecodeGate, Log

T = TypeVar("T")

MAX_ATTEMPTS = 4
BACKOFF_BASE_S = 0.25
RETRYABLE = (
    SdkConnectionError,
    SdkTimeoutError,
    TooManyRequestsError,
    ServiceUnavailableError,
    GatewayTimeoutError,
    RequestTimeoutError,
)
_TRANSIENT = (*RETRYABLE, ServerError, UpgradeRequiredError)
_PUSHBACKS = (TooManyRequestsError, ServiceUnavailableError)


class Calls:
    """Runs one profile's SDK requests: maps the SDK's exceptions, retries what is safe to repeat.

    `retry=True` for reads and for mutations that carry an `api_request_key` (the gateway answers a repeat
    with the first answer): those are retried on connection errors, timeouts, 429, 503 and 504, at most
    MAX_ATTEMPTS times with jittered exponential backoff, each retry told to `notify`. A mutation without
    a key is never retried: a lost answer could otherwise move money twice.
    """

    def __init__(self, sdk: braintree.BraintreeGateway, gate: DecodeGate, *, notify: Log | None = None) -> None:
        self.sdk = sdk
        self._gate = gate
        self._notify = notify
        self._pushbacks = 0
        self._pushbacks_lock = threading.Lock()

    @property
    def pushbacks(self) -> int:
        """How many 429 or 503 answers these calls have had: a batch slows down when this grows."""
        return self._pushbacks

    def run(self, what: str, action: Callable[[], T], *, retry: bool) -> T:
        """`action()` (one or more SDK requests); `what` names it in messages ("refund abc123")."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self._gate.calling():
                    return action()
            except RETRYABLE as err:
                if isinstance(err, _PUSHBACKS):
                    with self._pushbacks_lock:
                        self._pushbacks += 1
                if not retry or attempt == MAX_ATTEMPTS:
                    raise translate(err, what, self.sdk.config.environment.base_url) from None
                pause = BACKOFF_BASE_S * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
                if self._notify:
                    self._notify(
                        f"{what}: {describe(err)}; retrying in {pause:.1f} s (attempt {attempt + 1} of {MAX_ATTEMPTS})"
                    )
                time.sleep(pause)
            except braintree.exceptions.braintree_error.BraintreeError as err:
                raise translate(err, what) from None
        raise AssertionError("unreachable")


def describe(err: Exception) -> str:
    name = {
        TooManyRequestsError: "429 too many requests",
        ServiceUnavailableError: "503 service unavailable",
        GatewayTimeoutError: "504 gateway timeout",
        SdkConnectionError: "connection failed",
        RequestTimeoutError: "request timed out",
    }
    for cls, text in name.items():
        if isinstance(err, cls):
            return text
    return "timed out" if isinstance(err, SdkTimeoutError) else type(err).__name__


def translate(err: Exception, what: str, url: str | None = None) -> PaycliError:
    """The PaycliError (and so the exit code) for an SDK exception."""
    if isinstance(err, AuthenticationError):
        return ConfigError(
            f"{what}: authentication failed: check the profile's merchant_id, public_key and private key"
        )
    if isinstance(err, AuthorizationError):
        return ConfigError(f"{what}: not authorized: these API keys lack the permission for this operation")
    if isinstance(err, NotFoundError):
        return NotFound(f"{what}: not found (check the id and the profile's merchant)")
    if isinstance(err, (SdkConnectionError, SdkTimeoutError)) and url:  # which address: a wrong url, port or proxy
        return Unavailable(
            f"{what}: {describe(err)} ({url}); the gateway may be unreachable or busy, try again later", url=url
        )
    if isinstance(err, _TRANSIENT):
        return Unavailable(f"{what}: {describe(err)}; the gateway may be unreachable or busy, try again later")
    if isinstance(err, UnexpectedError):
        return Unavailable(f"{what}: unexpected answer from the gateway ({err})")
    return Unavailable(f"{what}: {type(err).__name__}")
