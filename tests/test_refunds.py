"""`paycli refund`, `void`, `audit`: the rules, confirmation, dry runs and the journal, against the sandbox."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import braintree
import harness
import pytest


def journal_rows(home: Path) -> list[sqlite3.Row]:
    path = home / ".local" / "state" / "paycli" / "journal.db"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM entries ORDER BY id").fetchall()


def test_full_refund_of_a_settled_sale(invoke, sandbox, isolated_env) -> None:
    sale = sandbox.sale("25.00", settle=True)
    result = invoke("refund", sale, "--reason", "damaged").json()
    assert (result["action"], result["type"], result["amount"]) == ("refund", "credit", "25.00")
    assert (result["refunded_transaction_id"], result["sale_id"]) == (sale, sale)
    assert (result["sale_refunded_amount"], result["sale_refundable_amount"]) == ("25.00", "0.00")
    assert sandbox.sdk.transaction.find(sale).refund_ids == [result["id"]]
    [entry] = journal_rows(isolated_env)
    assert (entry["kind"], entry["transaction_id"], entry["amount"], entry["state"]) == (
        "refund",
        sale,
        "25.00",
        "done",
    )
    assert (entry["result_id"], entry["reason"], entry["profile"]) == (result["id"], "damaged", "test")
    assert entry["merchant_id"] == sandbox.merchant.id and entry["operator"]
    assert entry["api_request_key"].startswith("paycli-refund-")


def test_partial_refunds_until_nothing_is_left(invoke, sandbox) -> None:
    sale = sandbox.sale("30.00", settle=True)
    first = invoke("refund", sale, "--amount", "10")
    assert first.json()["sale_refundable_amount"] == "20.00"
    assert f"refunded 10.00 USD of {sale} as {first.json()['id']}; 20.00 USD left to refund" in first.stderr
    assert invoke("refund", sale, "--amount", "20.00").json()["sale_refundable_amount"] == "0.00"
    run = invoke("refund", sale, "--amount", "1", code=3)
    assert "already been fully refunded" in run.stderr
    assert len(sandbox.sdk.transaction.find(sale).refund_ids) == 2


def test_refund_over_the_remainder_is_refused_before_any_call(invoke, sandbox, isolated_env) -> None:
    sale = sandbox.sale("30.00", settle=True)
    invoke("refund", sale, "--amount", "25")
    run = invoke("refund", sale, "--amount", "5.01", code=3)
    assert "more than the 5.00 left" in run.stderr and run.json()["error"]["type"] == "not_refundable"
    assert len(journal_rows(isolated_env)) == 1


def test_unsettled_sale_refunded_in_full_is_voided(invoke, sandbox) -> None:
    sale = sandbox.sale("15.00")
    run = invoke("refund", sale)
    result = run.json()
    assert (result["action"], result["id"], result["status"]) == ("void", sale, "voided")
    assert "voided instead of refunded" in run.stderr


def test_no_void_refuses_an_unsettled_sale(invoke, sandbox) -> None:
    sale = sandbox.sale("15.00")
    assert "--no-void forbids" in invoke("refund", sale, "--no-void", code=3).stderr
    assert sandbox.sdk.transaction.find(sale).status == "submitted_for_settlement"


def test_partial_refund_of_an_unsettled_sale_is_refused(invoke, sandbox) -> None:
    sale = sandbox.sale("15.00")
    assert "91506" in invoke("refund", sale, "--amount", "5", code=3).stderr


def test_credits_and_declined_sales_cannot_be_refunded(invoke, sandbox) -> None:
    sale = sandbox.sale("15.00", settle=True)
    credit = sandbox.sdk.transaction.refund(sale).transaction.id
    assert "credits cannot be refunded" in invoke("refund", credit, code=3).stderr
    declined = sandbox.sdk.transaction.sale({"amount": "2000.00", "payment_method_nonce": "fake-valid-nonce"})
    assert "processor_declined" in invoke("refund", declined.transaction.id, code=3).stderr


def test_declined_refund_is_journaled_as_failed_and_prints_the_credit(invoke, sandbox, isolated_env) -> None:
    sale = sandbox.sale("3500.00", settle=True)  # 3001–4000.99 authorize; a refund of 2004.00 is declined
    run = invoke("refund", sale, "--amount", "2004.00", code=3)
    credit = run.json()
    assert (credit["type"], credit["status"], credit["processor_response_code"]) == (
        "credit",
        "processor_declined",
        "2004",
    )
    [entry] = journal_rows(isolated_env)
    assert (entry["state"], entry["result_id"]) == ("failed", credit["id"]) and "Expired Card" in entry["error"]


def test_a_credit_declined_at_settlement_gave_nothing_back_on_either_side(invoke, sandbox) -> None:
    sale = sandbox.sale("4500.00", settle=True)
    declined = sandbox.sdk.transaction.refund(sale, {"amount": "4001.00"}).transaction.id
    assert sandbox.sdk.testing.settle_transaction(declined).transaction.status == "settlement_declined"
    shown = invoke("txn", "show", sale).json()
    assert (shown["refunded_amount"], shown["refundable_amount"]) == ("0.00", "4500.00")
    run = invoke("refund", sale)
    credit = run.json()
    assert (credit["amount"], credit["sale_refunded_amount"], credit["sale_refundable_amount"]) == (
        "4500.00",
        "4500.00",
        "0.00",
    )
    assert f"refunded 4500.00 USD of {sale} as {credit['id']}; 0.00 USD left to refund" in run.stderr
    assert str(sandbox.sdk.transaction.find(credit["id"]).amount) == "4500.00"  # what the gateway made


def test_client_and_sandbox_share_one_definition_of_each_status_set() -> None:
    from paycli import braintree_facts as facts
    from paycli import models, refunds, settlement
    from paycli.sandbox import rules, search, transactions
    from paycli.sandbox import settlement as sandbox_settlement

    assert models.NOT_REFUNDED_STATUSES is transactions.NOT_REFUNDED_STATUSES is facts.NOT_REFUNDED_STATUSES
    assert refunds.REFUNDABLE_STATUSES is rules.REFUNDABLE_STATUSES is facts.REFUNDABLE_STATUSES
    assert refunds.VOIDABLE_STATUSES is rules.VOIDABLE_STATUSES is models.VOIDABLE_STATUSES
    assert settlement.IN_BATCH_STATUSES is sandbox_settlement.IN_BATCH_STATUSES is facts.IN_BATCH_STATUSES
    assert search.SEARCH_PAGE_SIZE is facts.SEARCH_PAGE_SIZE and settlement.SEARCH_PAGE_SIZE is facts.SEARCH_PAGE_SIZE
    assert "settlement_declined" in facts.NOT_REFUNDED_STATUSES


def test_void_of_an_authorized_sale(invoke, sandbox, isolated_env) -> None:
    sale = sandbox.sale("9.00", submit=False)
    assert invoke("void", sale).json()["status"] == "voided"
    assert [r["kind"] for r in journal_rows(isolated_env)] == ["void"]


def test_void_of_a_settled_sale_is_refused(invoke, sandbox) -> None:
    assert "91504" in invoke("void", sandbox.sale("9.00", settle=True), code=3).stderr


def test_unknown_transaction_exits_5(invoke, sandbox) -> None:
    for command in ("refund", "void"):
        run = invoke(command, "nosuchtxn", code=5)
        assert "nosuchtxn" in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr


@pytest.mark.parametrize("amount", ["0", "-1", "1.001", "ten"])
def test_malformed_refund_amounts_exit_2(invoke, sandbox, amount: str) -> None:
    run = invoke("refund", sandbox.sale("9.00", settle=True), "--amount", amount, code=2)
    assert run.stderr.startswith(f"error: --amount '{amount}'"), run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_dry_run_touches_nothing(invoke, sandbox, isolated_env) -> None:
    sale = sandbox.sale("40.00", settle=True)
    plan = invoke("refund", sale, "--amount", "15", "--dry-run").json()
    assert (plan["dry_run"], plan["action"], plan["amount"], plan["remaining_after"]) == (
        True,
        "refund",
        "15.00",
        "25.00",
    )
    unsettled = sandbox.sale("5.00")
    assert invoke("void", unsettled, "--dry-run").json()["action"] == "void"
    assert sandbox.sdk.transaction.find(sale).refund_ids == []
    assert sandbox.sdk.transaction.find(unsettled).status == "submitted_for_settlement"
    assert journal_rows(isolated_env) == []


# --- production: confirmation ------------------------------------------------------------------------


@pytest.fixture
def production(sandbox, write_config, monkeypatch):
    """A production profile whose 'production' host is the sandbox (the SDK itself is untouched)."""
    monkeypatch.setitem(braintree.Environment.All, "production", harness.local_environment(sandbox.url))
    write_config(f"""
        default_profile: prod
        profiles:
          prod:
            environment: production
            merchant_id: {sandbox.merchant.id}
            public_key: {sandbox.merchant.public_key}
            private_key_env: PAYCLI_TEST_PRIVATE_KEY
    """)
    return sandbox


def test_production_refund_without_terminal_or_yes_is_refused(invoke, production, isolated_env) -> None:
    sale = production.sale("20.00", settle=True)
    run = invoke("refund", sale, code=2)
    assert "pass --yes" in run.stderr
    assert production.sdk.transaction.find(sale).refund_ids == [] and journal_rows(isolated_env) == []


def test_production_refund_with_yes_goes_ahead(invoke, production) -> None:
    sale = production.sale("20.00", settle=True)
    assert invoke("refund", sale, "--yes").json()["action"] == "refund"


def test_production_refund_asks_on_a_terminal(invoke, production, tty) -> None:
    sale = production.sale("20.00", settle=True)
    # "n" is the user's choice: exit 2 (the confirmation was not given), not Ctrl-C's 130, and no "error:"
    refused = invoke("refund", sale, "--amount", "5", input="n\n", code=2)
    assert "cancelled at the confirmation: no money moved" in refused.stderr and "error" not in refused.stderr
    # the plan as a small block, then a short question
    lines = re.sub(r"\x1b\[[0-9;]*m", "", refused.stderr).splitlines()
    assert lines[0].split() == ["profile", "prod", "(production)"]
    assert lines[1].split() == ["merchant", production.merchant.id]
    assert lines[2].split()[:2] == ["transaction", sale] and "sale of 20.00 USD" in lines[2]
    assert lines[3].split() == ["refund", "5.00", "USD"] and lines[4].split() == ["left", "after", "15.00", "USD"]
    assert lines[5].startswith(f"Refund 5.00 USD of {sale}? [y/N]")
    assert production.sdk.transaction.find(sale).refund_ids == []
    invoke("refund", sale, "--amount", "5", input="y\n")
    assert len(production.sdk.transaction.find(sale).refund_ids) == 1


def test_sandbox_profiles_do_not_ask(invoke, sandbox, tty) -> None:
    invoke("refund", sandbox.sale("20.00", settle=True), input="")


# --- audit ------------------------------------------------------------------------------------------------


def test_audit_lists_and_filters_the_journal(invoke, sandbox) -> None:
    settled = sandbox.sale("20.00", settle=True)
    invoke("refund", settled, "--amount", "5")
    voided = sandbox.sale("7.00", submit=False)
    invoke("void", voided)
    entries = invoke("audit").json()
    assert [(e["kind"], e["transaction_id"], e["state"]) for e in entries] == [
        ("refund", settled, "done"),
        ("void", voided, "done"),
    ]
    assert [e["kind"] for e in invoke("audit", "--kind", "void").json()] == ["void"]
    assert [e["transaction_id"] for e in invoke("audit", "--txn", settled).json()] == [settled]
    assert invoke("audit", "--since", "2000-01-01", "--until", "2000-12-31").json() == []
    assert len(invoke("audit", "-f", "ndjson").ndjson()) == 2
    header = invoke("audit", "-f", "csv").stdout.splitlines()[0]
    assert header.startswith(
        "id,created_at,operator,profile,environment,merchant_id,kind,transaction_id,amount,currency,state"
    )


def test_audit_rejects_unknown_kind(invoke) -> None:
    assert "--kind 'sale'" in invoke("audit", "--kind", "sale", code=2).stderr


def test_audit_of_an_empty_journal(invoke) -> None:
    assert invoke("audit").json() == []


# --- money in more than one currency ---------------------------------------------------------------------


def test_a_batch_in_two_currencies_is_totalled_per_currency(invoke, production, tmp_path, tty) -> None:
    eur = production.sale("12.00", settle=True, merchant_account_id=f"{production.merchant.id}_eur")
    usd = production.sale("10.00", settle=True)
    path = tmp_path / "two.csv"
    path.write_text(f"transaction_id\n{eur}\n{usd}\n")
    plan = invoke("batch-refund", path, "--dry-run", "-f", "json")
    assert "total 12.00 EUR, 10.00 USD" in plan.stderr and "22.00" not in plan.stderr
    assert [(r["amount"], r["currency"]) for r in plan.json()] == [("12.00", "EUR"), ("10.00", "USD")]
    asked = invoke("batch-refund", path, "-f", "json", input="y\n")
    [total] = [line for line in asked.stderr.splitlines() if line.split()[:1] == ["total"]]  # the prompt's block
    assert total.split(None, 1)[1] == "12.00 EUR, 10.00 USD"
    assert "refunded 12.00 EUR, 10.00 USD; voided 0.00; 0 of 2 rows failed" in asked.stderr
    assert "22.00" not in asked.stderr
    assert [(r["outcome"], r["currency"]) for r in asked.json()] == [("done", "EUR"), ("done", "USD")]


def test_the_search_table_shows_each_amounts_currency(invoke, sandbox) -> None:
    sale = sandbox.sale("12.00", merchant_account_id=f"{sandbox.merchant.id}_eur")
    shown = invoke("txn", "search", "--status", "submitted_for_settlement", "-f", "table").stdout
    assert "currency" in shown
    [line] = [line for line in shown.splitlines() if sale in line]
    assert "12.00" in line and "EUR" in line
