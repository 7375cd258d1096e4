"""Everyday frictions: options anywhere, file formats, profiles, messages, what happened and why."""

from __future__ import annotations

import inspect
import re
import subprocess
from typing import Annotated

import pytest
import typer

from paycli.cli.runtime import command

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


# global options after the command ----------------------------------------------------------------------------


def test_quiet_after_the_command_works_like_before_it(invoke, sandbox) -> None:
    assert "no transactions matched" in invoke("txn", "search", "--order-id", "none").stderr
    assert invoke("txn", "search", "--order-id", "none", "-q").stderr == ""
    assert invoke("txn", "search", "--order-id", "none", "--quiet").stderr == ""


def test_profile_after_the_command_selects_it(invoke, sandbox) -> None:
    run = invoke("txn", "search", "-p", "nosuch", code=4)
    assert "nosuch" in run.stderr
    sale = sandbox.sale("4.00")
    assert invoke("txn", "show", sale, "--profile", "test").json()["id"] == sale


def test_verbose_after_the_command_logs_requests(invoke, sandbox) -> None:
    sale = sandbox.sale("4.00")
    run = invoke("txn", "show", sale, "-v")
    assert re.search(r"\bGET\b.*transactions/" + sale, run.stderr)


def test_no_color_after_the_command_is_plain(invoke, sandbox, tty) -> None:
    sandbox.sale("4.00")
    assert "\x1b" in invoke("txn", "search").stdout
    run = invoke("txn", "search", "--no-color")
    assert "\x1b" not in run.stdout + run.stderr


def test_a_commands_own_option_wins_over_a_trailing_global_one() -> None:
    app = typer.Typer()

    @command(app, "audit-like")
    def audit_like(profile: Annotated[str | None, typer.Option("--profile", help="A filter.")] = None) -> None:
        """A command with its own --profile filter."""

    params = [p.name for p in inspect.signature(app.registered_commands[0].callback).parameters.values()]
    assert "profile" in params and "global_profile" not in params and "global_quiet" in params


# -o with a suffix that names no format --------------------------------------------------------------------------


def test_output_suffix_that_names_no_format_is_exit_2_naming_the_choices(invoke, sandbox, tmp_path) -> None:
    sandbox.sale("4.00")
    target = tmp_path / "x.txt"
    run = invoke("txn", "search", "-o", target, code=2)
    assert "--output" in run.stderr and "'.txt' names no format" in run.stderr
    assert ".csv" in run.stderr and "--format table|json|ndjson|csv" in run.stderr
    assert not target.exists()
    before = invoke("-o", target, "txn", "search", code=2)  # before the command too
    assert "--output" in before.stderr and "'.txt' names no format" in before.stderr


def test_output_with_an_explicit_format_or_a_known_suffix_is_written(invoke, sandbox, tmp_path) -> None:
    sale = sandbox.sale("4.00")
    invoke("txn", "search", "-o", tmp_path / "x.txt", "-f", "csv")
    assert (tmp_path / "x.txt").read_text().startswith("id,")
    invoke("txn", "search", "-o", tmp_path / "x.JSONL")
    assert sale in (tmp_path / "x.JSONL").read_text()
    invoke("txn", "search", "-o", tmp_path / "noext")  # no suffix at all: JSON, as for a pipe
    assert (tmp_path / "noext").read_text().startswith("[")


# a private key whose variable is unset is shown as missing ------------------------------------------------------

ACME = """
    profiles:
      acme:
        environment: sandbox
        merchant_id: acme
        public_key: acme_pub
        private_key_env: ACME_KEY
"""


def test_profiles_list_shows_a_key_whose_variable_is_unset_as_missing(invoke, write_config, monkeypatch) -> None:
    write_config(ACME)
    row = next(p for p in invoke("profiles", "list").json() if p["name"] == "acme")
    assert row["private_key"] == "MISSING" and row["private_key_missing"] is True
    assert "acme,false,sandbox,acme,acme_pub,MISSING,env: ACME_KEY" in invoke("profiles", "list", "-f", "csv").stdout
    shown = invoke("profiles", "show", "acme", "-f", "table").stdout
    assert "MISSING: $ACME_KEY is not set" in shown and "****" not in shown
    monkeypatch.setenv("ACME_KEY", "secret-value")
    row = next(p for p in invoke("profiles", "list").json() if p["name"] == "acme")
    assert row["private_key"] == "****" and row["private_key_missing"] is False
    assert "secret-value" not in invoke("profiles", "show", "acme", "-f", "table").stdout


# audit: -p filters, the table and CSV carry order_id and reason ------------------------------------------------


def _second_profile(sandbox, write_config) -> None:
    """The fixture's merchant under two names, so the journal holds entries of two profiles."""
    profile = f"""
            environment: local
            url: {sandbox.url}
            merchant_id: {sandbox.merchant.id}
            public_key: {sandbox.merchant.public_key}
            private_key_env: PAYCLI_TEST_PRIVATE_KEY
    """
    write_config(f"default_profile: test\nprofiles:\n  test:{profile}\n  other:{profile}")


def test_audit_with_p_shows_that_profiles_entries_and_its_columns(invoke, sandbox, write_config) -> None:
    import csv
    import io

    _second_profile(sandbox, write_config)
    first, second = sandbox.sale("10.00", settle=True), sandbox.sale("20.00", settle=True)
    invoke("refund", first, "--amount", "1.00", "--order-id", "ord-1", "--reason", "damaged item")
    invoke("-p", "other", "refund", second, "--amount", "2.00")
    assert [e["profile"] for e in invoke("audit").json()] == ["test", "other"]
    assert [e["transaction_id"] for e in invoke("-p", "other", "audit").json()] == [second]
    assert [e["transaction_id"] for e in invoke("audit", "-p", "test").json()] == [first]
    rows = list(csv.DictReader(io.StringIO(invoke("audit", "-f", "csv", "-p", "test").stdout)))
    assert rows[0]["order_id"] == "ord-1" and rows[0]["reason"] == "damaged item"
    table = invoke("audit", "-f", "table", "-p", "test").stdout
    assert "ord-1" in table and "damaged item" in table


# a search that stops at the cap says so ---------------------------------------------------------------------------


@pytest.fixture
def capped(tmp_path, write_config, monkeypatch, sdk_for):
    """A sandbox of its own whose searches return at most 5 ids, and a profile that knows it."""
    import secrets

    from paycli import sandbox as sandbox_pkg
    from paycli.sandbox.store import Merchant

    running = sandbox_pkg.start(tmp_path / "capped.db", merchants=[], search_cap=5)
    merchant = Merchant("capped", "capped_pub", f"capped_{secrets.token_hex(8)}", {"capped_usd": "USD"})
    running.store.put_merchant(merchant)
    monkeypatch.setenv("CAPPED_KEY", merchant.private_key)

    def profile(cap: int) -> None:
        write_config(f"""
            default_profile: capped
            profiles:
              capped:
                environment: local
                url: {running.url}
                merchant_id: capped
                public_key: capped_pub
                private_key_env: CAPPED_KEY
                merchant_accounts: {{USD: capped_usd}}
                search_cap: {cap}
        """)

    profile(5)
    yield running, sdk_for(running.url, "capped", "capped_pub", merchant.private_key), profile
    running.stop()


def _sales(sdk, count: int, amount: str = "10.00", *, settle: bool = False) -> None:
    for _ in range(count):
        result = sdk.transaction.sale(
            {"amount": amount, "payment_method_nonce": "fake-valid-nonce", "options": {"submit_for_settlement": True}}
        )
        assert result.is_success
        if settle:
            assert sdk.testing.settle_transaction(result.transaction.id).is_success


def test_search_at_the_profiles_search_cap_warns_and_keeps_json_clean(invoke, capped) -> None:
    _, sdk, _ = capped
    _sales(sdk, 7)
    run = invoke("txn", "search", "-f", "json")
    assert len(run.json()) == 5  # stdout: one JSON document, nothing else
    assert "warning: the search stopped at 5 transactions, profile capped's search_cap: there may be more" in run.stderr
    assert "warning" not in invoke("txn", "search", "--amount-min", "11").stderr


def test_export_mismatch_from_a_cap_names_search_cap(invoke, capped) -> None:
    running, sdk, profile = capped
    profile(50000)  # the gateway stops at 5, silently
    _sales(sdk, 7, settle=True)
    run = invoke("settlement", "export", "--date", "today", code=7)
    assert "does not reconcile" in run.stderr and "search_cap (50000)" in run.stderr


# what a failure says -------------------------------------------------------------------------------------------


def test_connection_failed_names_the_url_it_tried(invoke, write_config, monkeypatch) -> None:
    import socket

    monkeypatch.setattr("paycli.gateway.calls.BACKOFF_BASE_S", 0.001)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("GONE_KEY", "k")
    write_config(
        f"profiles:\n  gone:\n    environment: local\n    url: http://127.0.0.1:{port}\n"
        "    merchant_id: m\n    public_key: p\n    private_key_env: GONE_KEY\n"
    )
    run = invoke("-p", "gone", "txn", "show", "abc123", code=6)
    assert f"find abc123: connection failed (http://127.0.0.1:{port})" in run.stderr
    assert run.json()["error"]["url"] == f"http://127.0.0.1:{port}"


def test_verbose_shows_requests_but_no_traceback_for_a_handled_error(invoke, sandbox, monkeypatch) -> None:
    monkeypatch.setenv("PAYCLI_TEST_PRIVATE_KEY", "not-the-key")
    run = invoke("-v", "txn", "show", "abc123", code=4)
    assert "authentication failed" in run.stderr and "Traceback" not in run.stderr
    assert "GET" in run.stderr  # the request log is what -v is for
    monkeypatch.setenv("PAYCLI_DEBUG", "1")
    assert "Traceback" in invoke("txn", "show", "abc123", code=4).stderr


# messages that say what happened ---------------------------------------------------------------------------------


def test_an_explicit_void_says_voided_not_instead_of_refunded(invoke, sandbox) -> None:
    sale = sandbox.sale("15.00")
    run = invoke("void", sale)
    assert f"voided {sale}: the 15.00 USD sale (submitted_for_settlement) was cancelled before it settled" in run.stderr
    assert "instead of refunded" not in run.stderr and "back to the customer" not in run.stderr


def test_voiding_an_authorized_sale_says_no_money_moved(invoke, sandbox) -> None:
    sale = sandbox.sale("12.00", submit=False)
    run = invoke("refund", sale)
    assert f"{sale} was not settled yet, so it was voided instead of refunded" in run.stderr
    assert "(authorized) was cancelled before it settled, so no money moved" in run.stderr
    assert "back to the customer" not in run.stderr


def test_sandbox_settle_with_neither_ids_nor_all_says_what_to_give(invoke, sandbox) -> None:
    run = invoke("sandbox", "settle", code=2)
    assert "name the transaction IDs to settle, or --all" in run.stderr and "not both" not in run.stderr
    assert "not both" in invoke("sandbox", "settle", "abc", "--all", code=2).stderr


# sandbox reset asks first ------------------------------------------------------------------------------------------


def test_sandbox_reset_of_a_served_sandbox_needs_yes_without_a_terminal(invoke, sandbox) -> None:
    sandbox.sale("4.00")
    run = invoke("sandbox", "reset", code=2)
    assert "--yes" in run.stderr and sandbox.url in run.stderr
    assert invoke("sandbox", "status").json()["transactions"] == 1  # nothing was wiped
    assert invoke("sandbox", "reset", "--yes").json()["transactions"] == 0


def test_sandbox_reset_asks_on_a_terminal_and_no_is_a_cancellation(invoke, sandbox, tty) -> None:
    sandbox.sale("4.00")
    run = invoke("sandbox", "reset", input="n\n", code=2)
    assert f"merchant {sandbox.merchant.id} on the sandbox at {sandbox.url}" in run.stderr
    assert "cancelled: nothing was reset" in run.stderr and "error" not in run.stderr
    assert invoke("sandbox", "status", "-f", "json").json()["transactions"] == 1
    invoke("sandbox", "reset", input="y\n")
    assert invoke("sandbox", "status", "-f", "json").json()["transactions"] == 0


# token --decode ------------------------------------------------------------------------------------------------------


def test_token_decode_includes_the_token_itself(invoke, sandbox) -> None:
    import base64
    import json

    fields = invoke("token", "--decode").json()
    decoded = json.loads(base64.b64decode(fields["token"]))
    assert decoded["merchantId"] == fields["merchantId"] == sandbox.merchant.id
    assert fields["authorizationFingerprint"].endswith("…")


def test_a_token_from_the_built_in_local_profile_says_its_port_dies(invoke) -> None:
    run = invoke("token")
    assert run.json()["token"]
    assert "stopped when it ended" in run.stderr and "paycli sandbox serve" in run.stderr


def test_a_token_from_a_served_sandbox_has_no_such_note(invoke, sandbox) -> None:
    assert invoke("token").stderr == ""


# rehearsing production: confirm: true, and one broken profile breaks only itself --------------------------------


def _rehearsal(sandbox, write_config, extra: str = "") -> None:
    write_config(
        f"""
        default_profile: rehearse
        profiles:
          rehearse:
            environment: local
            url: {sandbox.url}
            merchant_id: {sandbox.merchant.id}
            public_key: {sandbox.merchant.public_key}
            private_key_env: PAYCLI_TEST_PRIVATE_KEY
            confirm: true
    """
        + extra
    )


def test_confirm_true_asks_like_production_on_a_sandbox(invoke, sandbox, write_config, tty) -> None:
    _rehearsal(sandbox, write_config)
    sale = sandbox.sale("20.00", settle=True)
    refused = invoke("refund", sale, "--amount", "5", input="n\n", code=2)
    text = ANSI.sub("", refused.stderr)
    assert text.splitlines()[0].split() == ["profile", "rehearse", "(local,", "confirm:", "true)"]
    assert "left after   15.00 USD" in text and "cancelled at the confirmation: no money moved" in text
    assert sandbox.sdk.transaction.find(sale).refund_ids == []
    invoke("refund", sale, "--amount", "5", input="y\n")
    assert len(sandbox.sdk.transaction.find(sale).refund_ids) == 1


def test_confirm_true_without_a_terminal_needs_yes(invoke, sandbox, write_config) -> None:
    _rehearsal(sandbox, write_config)
    sale = sandbox.sale("20.00", settle=True)
    assert "pass --yes" in invoke("refund", sale, code=2).stderr
    invoke("refund", sale, "--yes")
    assert len(sandbox.sdk.transaction.find(sale).refund_ids) == 1


def test_confirm_must_be_true_or_false(invoke, sandbox, write_config) -> None:
    _rehearsal(sandbox, write_config)
    write_config("profiles:\n  r:\n    environment: local\n    confirm: 'yes'\n")
    run = invoke("-p", "r", "txn", "search", code=4)
    assert "profile 'r', key 'confirm': expected true or false" in run.stderr


BROKEN = """
          broken:
            environment: production
            url: http://127.0.0.1:1
            merchant_id: x
            public_key: y
            private_key_env: NOPE
"""


def test_a_broken_profile_fails_only_the_commands_that_use_it(invoke, sandbox, write_config) -> None:
    _rehearsal(sandbox, write_config, BROKEN)
    sale = sandbox.sale("4.00")
    assert invoke("txn", "show", sale).json()["id"] == sale  # the default profile still works
    run = invoke("-p", "broken", "txn", "show", sale, code=4)
    assert "profile 'broken', key 'url': only a local profile has a url" in run.stderr
    listed = invoke("profiles", "list")
    assert "broken" not in [p["name"] for p in listed.json()]
    assert "warning: not usable, left out:" in listed.stderr and "profile 'broken'" in listed.stderr


def test_all_profiles_reports_a_broken_profile_and_goes_on(invoke, sandbox, write_config, tmp_path) -> None:
    _rehearsal(sandbox, write_config, BROKEN)
    sandbox.sale("10.00", settle=True)
    run = invoke("settlement", "export", "--all-profiles", "--date", "today", "-o", tmp_path / "{profile}.csv", code=7)
    assert len((tmp_path / "rehearse.csv").read_text().splitlines()) == 2  # the good profile was written
    assert "failed for 1 of 2 profiles (broken)" in run.stderr and "only a local profile has a url" in run.stderr
    checked = invoke("profiles", "check", "--all", code=7).json()
    assert {(c["profile"], c["ok"]) for c in checked} == {("broken", False), ("rehearse", True), ("local", True)}


# shell completion ------------------------------------------------------------------------------------------------


def _paycli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    import os
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "paycli", *args], capture_output=True, text=True, timeout=60, env={**os.environ, **env}
    )


def test_install_completion_for_the_shell_named(tmp_path) -> None:
    home = tmp_path / "shell-home"
    home.mkdir()
    run = _paycli({"HOME": str(home), "SHELL": "/bin/bash"}, "--install-completion", "zsh")
    assert run.returncode == 0, run.stderr
    assert (home / ".zfunc" / "_paycli").exists() and "zsh completion installed" in run.stderr
    assert not (home / ".bashrc").exists() and not (home / ".bash_completions").exists()


@pytest.mark.slow  # shell completion in paycli processes
def test_profile_names_and_statuses_complete(write_config) -> None:
    write_config("profiles:\n  acme-prod:\n    environment: local\n  acme-test:\n    environment: local\n")
    profiles = _paycli({"_PAYCLI_COMPLETE": "complete_bash", "COMP_WORDS": "paycli -p acme", "COMP_CWORD": "2"})
    assert profiles.stdout.split() == ["acme-prod", "acme-test"]
    after = _paycli({"_PAYCLI_COMPLETE": "complete_bash", "COMP_WORDS": "paycli txn search -p l", "COMP_CWORD": "4"})
    assert after.stdout.split() == ["local"]
    statuses = _paycli(
        {"_PAYCLI_COMPLETE": "complete_bash", "COMP_WORDS": "paycli txn search --status settl", "COMP_CWORD": "4"}
    )
    assert statuses.stdout.split() == [
        "settled",
        "settlement_confirmed",
        "settlement_declined",
        "settlement_failed",
        "settlement_pending",
        "settling",
    ]
