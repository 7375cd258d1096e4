"""`connect()` and `Gateway`: Braintree operations for one profile, in paycli's terms.

`connect(profile)` builds one SDK gateway per profile (the SDK keeps a pooled connection per thread, so one
gateway serves a whole run and its worker threads). A `local` profile without `url` starts the offline
sandbox inside this process first. Every request a `Gateway` method makes runs inside its `Calls` (see
calls.py): that is where SDK errors become exit codes and where retries happen.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import braintree

from paycli import config as config_
from paycli.config import Profile
from paycli.errors import GatewayRefused
from paycli.gateway import sandbox_routes, search, webhooks
from paycli.gateway.calls import Calls
from paycli.gateway.results import outcome, transaction
from paycli.gateway.transport import local_environment, sdk_gateway
from paycli.models import SettlementRecord, Transaction, TransactionQuery

Log = Callable[[str], None]


def connect(
    profile: Profile,
    *,
    env: Mapping[str, str] | None = None,
    state_dir: Path | None = None,
    log: Log | None = None,
    notify: Log | None = None,
    offline: bool = False,
) -> Gateway:
    """A gateway for `profile`; `log` gets one line per HTTP request, `notify` each retry.

    `env` is where the private key's variable (or command's environment) is read, and `state_dir` where the
    embedded sandbox keeps its database; by default this process's environment and the state directory it
    names. `offline`: only for what the SDK computes with the keys alone (webhook signatures), so an
    embedded profile starts no sandbox, and a request would find nothing listening.
    """
    env = os.environ if env is None else env
    embedded = None
    merchant_id: str | None
    public_key: str | None
    private_key: str | None
    if profile.embedded:
        from paycli import sandbox

        if offline:
            environment = local_environment("http://127.0.0.1:9")  # the discard port: never contacted
        else:
            folder = config_.state_dir(env) if state_dir is None else state_dir
            embedded = sandbox.start(folder / "sandbox.db", search_cap=profile.search_cap)
            environment = local_environment(embedded.url)
        merchant_id, public_key, private_key = (
            sandbox.LOCAL_MERCHANT_ID,
            sandbox.LOCAL_PUBLIC_KEY,
            sandbox.LOCAL_PRIVATE_KEY,
        )
    else:
        if profile.environment == "local":
            environment = local_environment(profile.url or "")
        else:
            environment = braintree.Environment.All[profile.environment]
        merchant_id, public_key = profile.merchant_id, profile.public_key
        private_key = profile.private_key.resolve(env) if profile.private_key else None
    sdk, gate = sdk_gateway(environment, merchant_id, public_key, private_key, log=log)
    return Gateway(profile, Calls(sdk, gate, notify=notify), embedded=embedded)


class Gateway:
    """Braintree operations for one profile, in paycli's terms.

    A method that makes a request hands it to `self._calls.run` (tests/test_gateway.py runs every public
    method against a failing sandbox to hold each one to that).
    """

    def __init__(self, profile: Profile, calls: Calls, *, embedded: Any = None) -> None:
        self.profile = profile
        self._calls = calls
        self._sdk = calls.sdk
        self._embedded = embedded

    @property
    def pushbacks(self) -> int:
        """How many 429 or 503 answers this gateway has had: a batch slows down when this grows."""
        return self._calls.pushbacks

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

    # client tokens ------------------------------------------------------------------------

    def generate_client_token(
        self, *, customer_id: str | None = None, merchant_account_id: str | None = None, version: int = 2
    ) -> str:
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

        return self._calls.run("client token", generate, retry=True)

    # transactions -------------------------------------------------------------------------

    def sale(self, params: dict[str, Any]) -> Transaction:
        """Create a sale; a decline raises Declined with the transaction, a validation error GatewayRefused."""
        request = {**params, "amount": str(params["amount"])}
        result = self._calls.run(
            "sale", lambda: self._sdk.transaction.sale(request), retry=bool(request.get("api_request_key"))
        )
        return outcome(result, "sale")

    def find(self, txn_id: str) -> Transaction:
        return transaction(self._calls.run(f"find {txn_id}", lambda: self._sdk.transaction.find(txn_id), retry=True))

    def submit_for_settlement(self, txn_id: str, amount: Decimal | None = None) -> Transaction:
        result = self._calls.run(
            f"submit {txn_id}",
            lambda: self._sdk.transaction.submit_for_settlement(txn_id, str(amount) if amount is not None else None),
            retry=False,
        )
        return outcome(result, "submit for settlement")

    def void(self, txn_id: str, *, api_request_key: str | None = None) -> Transaction:
        params = {"api_request_key": api_request_key} if api_request_key else None
        result = self._calls.run(
            f"void {txn_id}", lambda: self._sdk.transaction.void(txn_id, params), retry=bool(api_request_key)
        )
        return outcome(result, "void")

    def refund(
        self,
        txn_id: str,
        *,
        amount: Decimal | None = None,
        order_id: str | None = None,
        api_request_key: str | None = None,
    ) -> Transaction:
        options: dict[str, Any] = {"amount": str(amount) if amount is not None else None}
        if order_id:
            options["order_id"] = order_id
        if api_request_key:
            options["api_request_key"] = api_request_key
        result = self._calls.run(
            f"refund {txn_id}", lambda: self._sdk.transaction.refund(txn_id, options), retry=bool(api_request_key)
        )
        return outcome(result, "refund")

    # search (search.py) -------------------------------------------------------------------

    def search_ids(self, query: TransactionQuery) -> list[str]:
        """Phase one of Braintree's search: every matching id (at most the gateway's cap, silently)."""
        return search.search_ids(self._calls, query)

    def fetch_page(self, query: TransactionQuery, ids: Sequence[str]) -> list[Transaction]:
        """Phase two: the transactions for up to one page of ids, in the order given."""
        return search.fetch_page(self._calls, query, ids)

    # settlement ---------------------------------------------------------------------------

    def settlement_summary(self, day: date, group_by_custom_field: str | None = None) -> list[SettlementRecord]:
        result = self._calls.run(
            f"settlement summary {day}",
            lambda: self._sdk.settlement_batch_summary.generate(day.isoformat(), group_by_custom_field),
            retry=True,
        )
        if not result.is_success:
            raise GatewayRefused(f"settlement summary refused: {' '.join(result.message.splitlines())}")
        records = []
        for row in result.settlement_batch_summary.records:
            records.append(
                SettlementRecord(
                    merchant_account_id=row.get("merchant_account_id", ""),
                    card_type=row.get("card_type", ""),
                    kind=row.get("kind", ""),
                    count=int(row.get("count", 0)),
                    amount_settled=Decimal(str(row.get("amount_settled", "0"))),
                    custom_field=row.get(group_by_custom_field) if group_by_custom_field else None,
                )
            )
        return records

    # routes only a sandbox has (sandbox_routes.py) ----------------------------------------

    def testing_settle(self, txn_id: str, outcome: str = "settled") -> Transaction:
        return sandbox_routes.settle(self._calls, self.profile, txn_id, outcome)

    def sandbox_control(self, action: str) -> dict[str, Any]:
        """paycli's own sandbox routes (`reset`, `status`)."""
        return sandbox_routes.control(self._calls, self.profile, action)

    # webhooks (webhooks.py): signed and verified with this profile's keys, no request ---------

    @staticmethod
    def webhook_kinds() -> list[str]:
        return webhooks.kinds()

    def webhook_sample(self, kind: str, subject_id: str) -> tuple[str, str]:
        return webhooks.sample(self._sdk, kind, subject_id)

    def webhook_parse(self, signature: str, payload: str) -> dict[str, Any]:
        return webhooks.parse(self._sdk, signature, payload)
