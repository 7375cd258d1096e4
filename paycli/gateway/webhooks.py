"""Webhook notifications, signed and verified locally with a profile's keys by the SDK: no HTTP request.

A parsed notification comes back as plain values, so nothing outside the gateway touches the SDK's objects.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import braintree

from paycli.errors import GatewayRefused
from paycli.gateway.results import aware

# The attribute the SDK's WebhookNotification sets for each kind of subject.
_SUBJECTS = (
    "transaction",
    "dispute",
    "disbursement",
    "subscription",
    "merchant_account",
    "transaction_review",
    "connected_merchant_status_transitioned",
    "connected_merchant_paypal_status_changed",
    "partner_merchant",
    "oauth_access_revocation",
    "account_updater_daily_report",
    "granted_payment_instrument_update",
    "revoked_payment_method_metadata",
    "local_payment_completed",
    "local_payment_expired",
    "local_payment_funded",
    "local_payment_reversed",
    "payment_method_customer_data_updated_metadata",
)
_ID_FIELDS = ("id", "transaction_id", "payment_id", "token", "merchant_public_id", "partner_merchant_id", "merchant_id")


def kinds() -> list[str]:
    """Every notification kind this SDK version knows (`WebhookNotification.Kind`)."""
    names = vars(braintree.WebhookNotification.Kind)
    return sorted(value for name, value in names.items() if not name.startswith("_") and isinstance(value, str))


def sample(sdk: braintree.BraintreeGateway, kind: str, subject_id: str) -> tuple[str, str]:
    """(bt_signature, bt_payload) as Braintree posts them, made by the SDK with the gateway's keys."""
    signed = sdk.webhook_testing.sample_notification(kind, subject_id)
    payload = signed["bt_payload"]
    return signed["bt_signature"], payload.decode("ascii") if isinstance(payload, bytes) else payload


def parse(sdk: braintree.BraintreeGateway, signature: str, payload: str) -> dict[str, Any]:
    """Verify a notification against the gateway's keys and decode it into plain values.

    Returns `kind`, `timestamp`, `source_merchant_id`, `subject` (the subject's name), `subject_id` and
    `details` (the subject's scalar fields). A signature or payload that does not verify is GatewayRefused.
    """
    from braintree.exceptions import InvalidSignatureError

    try:
        notification = sdk.webhook_notification.parse(signature, payload)
    except InvalidSignatureError as err:
        raise GatewayRefused(_rejection(sdk, str(err)), reason=str(err)) from None
    except UnicodeEncodeError:  # the SDK ascii-encodes a str payload before its own character check
        raise GatewayRefused(
            "webhook rejected: the payload has non-ASCII characters, so it is not Braintree's base64",
            reason="payload contains illegal characters",
        ) from None
    except Exception as err:  # verified, then unreadable: base64 or XML the SDK cannot decode
        raise GatewayRefused(
            f"webhook rejected: the signature verifies but the payload is not a Braintree "
            f"notification ({type(err).__name__})",
            reason="undecodable payload",
        ) from None
    subject_name, subject = next(
        ((name, getattr(notification, name)) for name in _SUBJECTS if hasattr(notification, name)), (None, None)
    )
    if subject is None:  # `check` and unknown subjects: the raw subject element, e.g. {"check": True}
        raw = getattr(notification, "subject", None) or {}
        subject_name = next(iter(raw), None) if isinstance(raw, dict) else None
        subject = raw
    details = _fields(subject)
    return {
        "kind": notification.kind,
        "timestamp": aware(notification.timestamp),
        "source_merchant_id": getattr(notification, "source_merchant_id", None),
        "subject": subject_name,
        "subject_id": next((str(details[f]) for f in _ID_FIELDS if details.get(f)), None),
        "details": details,
    }


def _rejection(sdk: braintree.BraintreeGateway, reason: str) -> str:
    public_key = sdk.config.public_key
    hints = {
        "no matching public key": (
            f"it is not signed for this profile's public key ({public_key}); select the profile it was sent to"
        ),
        "signature does not match payload - one has been modified": (
            "the signature does not match the payload: one of them was modified, or it was signed with "
            "another private key"
        ),
        "payload contains illegal characters": (
            "the payload has characters base64 never has (a CR from a Windows line ending, or a form body "
            "that was not URL-decoded?)"
        ),
    }
    return f"webhook rejected: {hints.get(reason, reason)}"


def _fields(subject: Any) -> dict[str, Any]:
    """The subject's scalar fields (nested objects left out), datetimes aware, any private key masked."""
    source = subject if isinstance(subject, dict) else vars(subject)
    fields: dict[str, Any] = {}
    for name, value in source.items():
        if name.startswith("_") or name == "gateway":
            continue
        if name == "disbursement_details":  # what `transaction.is_disbursed` reads
            name, value = "disbursement_date", getattr(value, "disbursement_date", None)
        if isinstance(value, datetime):
            value = aware(value)
        elif value is None or not isinstance(value, (str, bool, int, Decimal, date)):
            continue
        if "private_key" in name:  # partner_merchant_connected carries the partner's keys
            value = "****"
        fields[name] = value
    return fields
