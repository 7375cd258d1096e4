"""Merchants' private keys stay out of argv (`--merchant ID:PUB:env:VAR`) and the database is owner-only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import braintree
import pytest
from gateway_calls import gateway_for, sale
from harness import serve_sandbox

from paycli import sandbox
from paycli.sandbox import Merchant


def test_a_private_key_from_the_environment_never_appears_in_the_process_arguments(tmp_path) -> None:
    key = "team_private_key_from_env"
    server, url = serve_sandbox(
        tmp_path / "s.db",
        "--merchant",
        "team:team_pub:env:TEAM_SANDBOX_KEY:team_usd=USD",
        env={**os.environ, "TEAM_SANDBOX_KEY": key},
    )
    try:
        port = int(url.rsplit(":", 1)[1])
        argv = Path(f"/proc/{server.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        team = Merchant("team", "team_pub", key, {"team_usd": "USD"})

        result = sale(gateway_for(port, team))

        assert key not in argv and "TEAM_SANDBOX_KEY" in argv
        assert result.is_success and result.transaction.merchant_account_id == "team_usd"
        with pytest.raises(braintree.exceptions.AuthenticationError):
            sale(gateway_for(port, team, private_key="env"))
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_missing_key_variable_is_a_config_error_naming_it(invoke, monkeypatch) -> None:
    monkeypatch.delenv("NO_SUCH_SANDBOX_KEY", raising=False)

    run = invoke("sandbox", "serve", "--port", "0", "--merchant", "team:team_pub:env:NO_SUCH_SANDBOX_KEY", code=4)

    assert "--merchant team" in run.stderr and "NO_SUCH_SANDBOX_KEY" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_help_shows_the_environment_form(invoke) -> None:
    assert "ID:PUB:env:VAR" in invoke("sandbox", "serve", "--help").stdout


def test_the_database_and_its_wal_and_shm_files_are_owner_only(tmp_path) -> None:
    previous = os.umask(0o022)  # the usual umask, which made them 0644
    try:
        merchant = Merchant("perm", "perm_pub", "perm_priv", {"perm_usd": "USD"})
        with sandbox.start(tmp_path / "state" / "sandbox.db", [merchant]) as running:
            assert sale(gateway_for(running, merchant)).is_success
            files = sorted(p.name for p in (tmp_path / "state").iterdir())
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "state").iterdir()}
    finally:
        os.umask(previous)

    assert files == ["sandbox.db", "sandbox.db-shm", "sandbox.db-wal"]
    assert modes == {name: 0o600 for name in files}
