"""The idempotent write frame every mutating route runs in.

A mutation runs inside one IMMEDIATE transaction together with its `api_request_key` record, so a replay —
even one racing the original from another process — returns the first answer and changes nothing. The same
key with a different request is refused (915232), a key over 255 characters too (915230); see
docs/sandbox.md, "Idempotency".
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from typing import Any

from paycli.sandbox import limits, xmlcodec
from paycli.sandbox.records import text
from paycli.sandbox.replies import Invalid, Reply, render
from paycli.sandbox.store import Merchant, Store

MAX_API_REQUEST_KEY = 255
Action = Callable[[sqlite3.Connection], Reply]


class IdempotentWrites:
    """Runs a route's change in one write; `before` (the nightly settlement) runs first, outside it."""

    def __init__(self, store: Store, before: Callable[[Merchant], None]) -> None:
        self._store = store
        self._before = before

    def run(self, merchant: Merchant, route: str, params: dict[str, Any], root: str, action: Action) -> Reply:
        """`action(db)` once per distinct request; `route` names the change (with its subject's id)."""
        too_long = limits.overlong(params)
        if too_long:
            message = f"{too_long} is too long (at most {limits.LONGEST_TEXT} characters)."
            return render(
                422,
                "api_error_response",
                {"errors": {"errors": xmlcodec.Items("error", [])}, "params": {}, "message": message},
            )
        key = text(params.get("api_request_key"))
        if key and len(key) > MAX_API_REQUEST_KEY:
            return Invalid(root, ("", "915230", "api_request_key")).reply(params)
        fingerprint = hashlib.sha256(
            json.dumps(
                [route, {k: v for k, v in params.items() if k != "api_request_key"}], sort_keys=True, default=str
            ).encode()
        ).hexdigest()
        self._before(merchant)
        with self._store.write() as db:
            if key:
                prior = self._store.idempotent_reply(db, merchant.id, key)
                if prior is not None:
                    if prior[0] != fingerprint:
                        return Invalid(root, ("", "915232", "api_request_key")).reply(params)
                    return Reply(prior[1], prior[2])
            reply = action(db)
            if key:
                self._store.remember_reply(db, merchant.id, key, fingerprint, reply.status, reply.body)
            return reply
