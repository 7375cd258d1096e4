"""The routes only a sandbox has, which `paycli sandbox settle|reset|status` uses.

Settling by hand goes through Braintree's testing endpoints (its sandbox has them too; production refuses
them); `reset` and `status` are paycli's own sandbox routes under `/paycli_sandbox/`, spoken through the
SDK's HTTP client so they get the same auth, decoding and error mapping as any other call.
"""

from __future__ import annotations

from typing import Any

from paycli.config import Profile
from paycli.errors import UsageError
from paycli.gateway.calls import Calls
from paycli.gateway.results import outcome
from paycli.models import Transaction


def settle(calls: Calls, profile: Profile, txn_id: str, result: str = "settled") -> Transaction:
    """Move a sale to `result` (one of braintree_facts.SETTLEMENT_OUTCOMES) now, as settlement would."""
    if profile.production:
        raise UsageError("settling by hand is a sandbox feature; this is a production profile")
    testing = calls.sdk.testing
    method = {
        "settled": testing.settle_transaction,
        "settlement_confirmed": testing.settlement_confirm_transaction,
        "settlement_declined": testing.settlement_decline_transaction,
        "settlement_pending": testing.settlement_pending_transaction,
    }[result]
    answer = calls.run(f"settle {txn_id}", lambda: method(txn_id), retry=False)
    return outcome(answer, "settle")


def control(calls: Calls, profile: Profile, action: str) -> dict[str, Any]:
    """`reset` (POST) or `status` (GET) of a local sandbox; the sandbox's status document."""
    if profile.environment != "local":
        raise UsageError(f"sandbox {action} works on local profiles; {profile.name} is {profile.environment}")
    config = calls.sdk.config
    http = config.http()
    path = f"{config.base_merchant_path()}/paycli_sandbox/{action}"
    response = calls.run(
        f"sandbox {action}", lambda: http.post(path) if action == "reset" else http.get(path), retry=False
    )
    return response.get("sandbox_status", {})
