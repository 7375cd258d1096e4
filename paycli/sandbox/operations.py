"""The sandbox: Braintree's operations over one store, as a facade over small collaborators.

Each collaborator gets only what it needs and none calls back into another's internals:

- `writes` (writes.IdempotentWrites): the idempotent write frame every mutation runs in;
- `settlement` (settlement.Settlement): status history, settling, the nightly cutoff, batch summaries,
  webhooks as transactions settle;
- `vault` (vault.Vault): customers, addresses, stored cards;
- `sales` (sale.Sales): transaction.sale and credit, which reach the vault through `vault`;
- `transactions` (transactions.Transactions): find, submit, partial settlement, void, refund;
- `searches` (search.Searches): the two search routes, capped at `search_cap`;
- `client_tokens` (client_tokens.ClientTokens): client tokens for the host layout `client_hosts`.

The server's routes call the collaborators; the client API (clientapi, graphql, client_nonces) uses `store`,
`vault` and `client_hosts`. Rules (which amount declines, which status may be voided) come from `rules`,
shapes from `schema`.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from paycli.braintree_facts import SEARCH_CAP
from paycli.sandbox import clientapi, xmlcodec
from paycli.sandbox.client_tokens import ClientTokens
from paycli.sandbox.replies import Reply, render
from paycli.sandbox.sale import Sales
from paycli.sandbox.search import Searches
from paycli.sandbox.settlement import Settlement
from paycli.sandbox.store import Merchant, Store
from paycli.sandbox.transactions import Transactions
from paycli.sandbox.vault import Vault
from paycli.sandbox.writes import IdempotentWrites

if TYPE_CHECKING:
    from paycli.sandbox.webhooks import WebhookSender


class Sandbox:
    """The gateway's behaviour for every merchant in one store."""

    def __init__(
        self,
        store: Store,
        *,
        search_cap: int = SEARCH_CAP,
        webhooks: WebhookSender | None = None,
        client_hosts: str = clientapi.LOCAL,
    ) -> None:
        """`webhooks` (`serve --webhook-url`) is told of every settlement; `client_hosts` is where client
        tokens send a browser: clientapi.LOCAL or clientapi.BRAINTREE."""
        self.store = store
        self.settlement = Settlement(store, webhooks)
        self.writes = IdempotentWrites(store, before=self.settlement.settle_due)
        self.vault = Vault(store, self.writes)
        self.sales = Sales(store, self.writes, self.vault)
        self.transactions = Transactions(store, self.writes, self.settlement.settle_due)
        self.searches = Searches(store, self.settlement.settle_due, search_cap)
        self.client_tokens = ClientTokens(store, client_hosts)

    @property
    def client_hosts(self) -> str:
        return self.client_tokens.hosts

    @property
    def search_cap(self) -> int:
        return self.searches.cap

    def authenticate(self, merchant_id: str, public_key: str, private_key: str) -> Merchant | None:
        merchant = self.store.merchant(merchant_id)
        if (
            merchant is None
            or not secrets.compare_digest(merchant.public_key, public_key)
            or not secrets.compare_digest(merchant.private_key, private_key)
        ):
            return None
        return merchant

    # paycli's own sandbox controls (not Braintree API: `paycli sandbox reset|status`) ---------

    def reset(self, merchant: Merchant) -> Reply:
        self.store.reset(merchant.id)
        return render(200, "sandbox_status", self._status_body(merchant))

    def status(self, merchant: Merchant) -> Reply:
        self.settlement.settle_due(merchant)
        return render(200, "sandbox_status", self._status_body(merchant))

    def _status_body(self, merchant: Merchant) -> dict[str, Any]:
        counts = self.store.counts(merchant.id)
        return {
            "merchant_id": merchant.id,
            "merchant_accounts": xmlcodec.Items(
                "merchant-account",
                [{"id": account, "currency": currency} for account, currency in merchant.accounts.items()],
            ),
            "timezone": merchant.timezone,
            "nightly_settlement": merchant.nightly_settlement,
            "search_cap": self.search_cap,
            "transactions": sum(counts.values()),
            "statuses": xmlcodec.Items("status", [{"status": k, "count": v} for k, v in sorted(counts.items())]),
        }
