"""`paycli checkout` and `paycli token` against the sandbox, through the real SDK."""

from __future__ import annotations

import base64
import json

import pytest


def test_checkout_creates_a_submitted_sale_in_the_default_merchant_account(invoke, sandbox) -> None:
    run = invoke(
        "checkout",
        "--amount",
        "10.00",
        "--order-id",
        "ord-1",
        "--customer-email",
        "ann@example.com",
        "--custom-field",
        "store=42",
    )
    txn = run.json()
    assert txn["status"] == "submitted_for_settlement"
    assert txn["amount"] == "10.00" and txn["currency"] == "USD"
    assert txn["merchant_account_id"] == f"{sandbox.merchant.id}_usd"
    assert (txn["order_id"], txn["customer_email"], txn["custom_fields"]) == (
        "ord-1",
        "ann@example.com",
        {"store": "42"},
    )
    assert (txn["card_type"], txn["last_4"]) == ("Visa", "1881")
    assert [e["status"] for e in txn["status_history"]] == ["authorized", "submitted_for_settlement"]
    assert txn["refundable_amount"] == "10.00"
    stored = sandbox.sdk.transaction.find(txn["id"])
    assert stored.order_id == "ord-1" and str(stored.amount) == "10.00"


def test_checkout_no_submit_only_authorizes(invoke, sandbox) -> None:
    txn = invoke("checkout", "--amount", "5", "--no-submit").json()
    assert txn["status"] == "authorized" and txn["amount"] == "5.00"


def test_checkout_in_another_merchant_account_uses_its_currency(invoke, sandbox) -> None:
    txn = invoke("checkout", "--amount", "7.50", "--merchant-account", f"{sandbox.merchant.id}_eur").json()
    assert txn["currency"] == "EUR"


def test_declined_checkout_prints_the_transaction_and_exits_3(invoke, sandbox) -> None:
    run = invoke("checkout", "--amount", "2000.00", code=3)
    txn = run.json()
    assert txn["status"] == "processor_declined"
    assert (txn["processor_response_code"], txn["processor_response_text"]) == ("2000", "Do Not Honor")
    assert run.stderr.strip().splitlines() == ["error: sale processor_declined: Do Not Honor"]


def test_gateway_rejected_nonce_exits_3_with_the_reason(invoke, sandbox) -> None:
    txn = invoke("checkout", "--amount", "10", "--nonce", "fake-gateway-rejected-fraud-nonce", code=3).json()
    assert (txn["status"], txn["gateway_rejection_reason"]) == ("gateway_rejected", "fraud")


@pytest.mark.parametrize(
    ("nonce", "code"),
    [("fake-consumed-nonce", "91564"), ("not-a-nonce", "91565"), ("fake-luhn-invalid-nonce", "81715")],
)
def test_validation_errors_exit_3_with_an_error_document(invoke, sandbox, nonce: str, code: str) -> None:
    run = invoke("checkout", "--amount", "10", "--nonce", nonce, code=3)
    error = run.json()["error"]
    assert error["type"] == "refused"
    assert [e["code"] for e in error["errors"]] == [code]
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_unknown_merchant_account_is_refused_by_the_gateway(invoke, sandbox) -> None:
    run = invoke("checkout", "--amount", "10", "--merchant-account", "nope", code=3)
    assert "91513" in run.stderr


@pytest.mark.parametrize("amount", ["10.001", "-5", "1e3", "abc", "0", ""])
def test_malformed_amounts_exit_2_before_any_call(invoke, sandbox, amount: str) -> None:
    run = invoke("checkout", "--amount", amount, code=2)
    assert run.stderr.startswith("error: --amount") and len(run.stderr.strip().splitlines()) == 1
    assert sandbox.sdk.transaction.search(__import__("braintree").TransactionSearch.amount >= "0.01").maximum_size == 0


def test_bad_custom_field_exits_2(invoke, sandbox) -> None:
    assert "KEY=VALUE" in invoke("checkout", "--amount", "1", "--custom-field", "novalue", code=2).stderr


def test_checkout_is_refused_on_production_profiles(invoke, write_config, monkeypatch) -> None:
    monkeypatch.setenv("PROD_KEY", "secret-value")
    write_config("""
        profiles:
          prod:
            environment: production
            merchant_id: m
            public_key: p
            private_key_env: PROD_KEY
    """)
    run = invoke("-p", "prod", "checkout", "--amount", "10", code=2)
    assert "refused on production" in run.stderr
    assert "secret-value" not in run.stdout + run.stderr


def test_token_is_base64_json_pointing_at_the_gateway(invoke, sandbox) -> None:
    token = invoke("token").json()
    fields = json.loads(base64.b64decode(token["token"]))
    assert token["version"] == 2 and fields["version"] == 2
    assert fields["merchantId"] == sandbox.merchant.id
    assert fields["configUrl"].startswith(sandbox.url)


def test_token_version_1_is_raw_json_with_merchant_account(invoke, sandbox) -> None:
    token = invoke("token", "--version", "1", "--merchant-account", f"{sandbox.merchant.id}_eur").json()
    assert json.loads(token["token"])["merchantAccountId"] == f"{sandbox.merchant.id}_eur"


def test_token_decode_redacts_the_fingerprint(invoke, sandbox) -> None:
    fields = invoke("token", "--decode").json()
    assert fields["environment"] == "sandbox" and fields["merchantId"] == sandbox.merchant.id
    assert fields["authorizationFingerprint"].endswith("…") and len(fields["authorizationFingerprint"]) == 13


def test_token_for_unknown_customer_exits_3(invoke, sandbox) -> None:
    run = invoke("token", "--customer-id", "ghost", code=3)
    assert "Customer specified by customer_id does not exist" in run.stderr


def test_token_for_a_vault_customer(invoke, sandbox) -> None:
    customer = sandbox.sdk.customer.create({"id": "cust-1", "email": "c@example.com"}).customer
    fields = invoke("token", "--customer-id", customer.id, "--decode").json()
    assert fields["version"] == 2


def test_token_bad_version_exits_2(invoke, sandbox) -> None:
    run = invoke("token", "--version", "3", code=2)
    assert run.stderr.startswith("error: --version 3 is not a client token version"), run.stderr
