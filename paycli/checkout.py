"""The seed's second server operation: a sale from a payment method nonce (test nonces only)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from paycli.errors import UsageError
from paycli.models import Transaction

if TYPE_CHECKING:
    from paycli.gateway import Gateway

DEFAULT_NONCE = "fake-valid-nonce"


@dataclass(frozen=True)
class CheckoutRequest:
    amount: Decimal
    nonce: str = DEFAULT_NONCE
    submit_for_settlement: bool = True
    order_id: str | None = None
    merchant_account_id: str | None = None
    customer_email: str | None = None
    custom_fields: Mapping[str, str] = field(default_factory=dict)


def refuse_production(profile: Any) -> None:
    """Checkouts charge test nonces and test cards: never on a production profile."""
    if profile.production:
        raise UsageError(
            "checkout charges test nonces and is refused on production profiles; "
            "choose a sandbox or local profile with --profile"
        )


def checkout(gateway: Gateway, request: CheckoutRequest) -> Transaction:
    """Create the sale; a decline raises `Declined` carrying the transaction."""
    refuse_production(gateway.profile)
    params: dict[str, Any] = {
        "amount": request.amount,
        "payment_method_nonce": request.nonce,
        "options": {"submit_for_settlement": request.submit_for_settlement},
        # one key per checkout: a retry after a lost answer returns the first sale instead of a second one
        "api_request_key": f"paycli-checkout-{uuid.uuid4()}",
    }
    account = request.merchant_account_id or gateway.profile.default_merchant_account
    if account:
        params["merchant_account_id"] = account
    if request.order_id:
        params["order_id"] = request.order_id
    if request.customer_email:
        params["customer"] = {"email": request.customer_email}
    if request.custom_fields:
        params["custom_fields"] = dict(request.custom_fields)
    return gateway.sale(params)
