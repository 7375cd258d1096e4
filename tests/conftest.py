"""Shared fixtures. The CLI-core part comes first; the sandbox part follows below its marker."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import harness
import pytest
import typer
from typer.testing import CliRunner

from paycli import sandbox as sandbox_module
from paycli.output import Terminal
from paycli.sandbox import Merchant, RunningSandbox

# ---- CLI core ------------------------------------------------------------------------------------------

_CLEARED_PREFIXES = ("PAYCLI_", "BRAINTREE_", "TTY_", "XDG_")
_CLEARED = ("NO_COLOR", "FORCE_COLOR", "CI", "COLUMNS", "LINES")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test sees the developer's home, config, profile or colour settings."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name in _CLEARED:
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("COLUMNS", "200")
    return home


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def ndjson(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


@pytest.fixture
def invoke() -> Callable[..., Run]:
    """`invoke(*args, code=0, input=None)`: run paycli in-process, assert the exit code (or one of a tuple of
    codes), return its streams.

    `app=` runs another Typer root instead (tests of the command machinery build their own).
    """
    from paycli.cli.app import app as paycli

    def run(
        *args: object, code: int | tuple[int, ...] = 0, input: str | None = None, app: typer.Typer | None = None
    ) -> Run:
        result = CliRunner().invoke(app or paycli, [str(arg) for arg in args], input=input, prog_name="paycli")
        outcome = Run(result.exit_code, result.stdout, result.stderr)
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        expected = code if isinstance(code, tuple) else (code,)
        assert result.exit_code in expected and not crashed, (
            f"paycli {' '.join(map(str, args))}: exit {result.exit_code}, expected {code}\n"
            f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}--- exception\n{result.exception!r}"
        )
        return outcome

    return run


@pytest.fixture
def tty(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend stdin, stdout and stderr are a terminal (colour choices still follow NO_COLOR/--no-color)."""
    detect = Terminal.detect.__func__  # type: ignore[attr-defined]

    def on_a_terminal(cls: type[Terminal], **kwargs: Any) -> Terminal:
        return replace(detect(cls, **kwargs), stdin=True, stdout=True, stderr=True)

    monkeypatch.setattr(Terminal, "detect", classmethod(on_a_terminal))


@pytest.fixture
def write_config(isolated_env: Path) -> Iterator[Callable[..., Path]]:
    """`write_config(text, mode=0o600)`: write the default config file ($XDG_CONFIG_HOME/paycli/config.yaml)."""

    def write(text: str, mode: int = 0o600, path: Path | None = None) -> Path:
        target = path or isolated_env / ".config" / "paycli" / "config.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        target.chmod(mode)
        return target

    yield write


# ---- sandbox ---------------------------------------------------------------------------------------------
# One offline sandbox serves the whole run, for both test trees (tests/ and tests/sandbox/), on an ephemeral
# loopback port; each test gets its own merchant (so nothing leaks between tests). Tests that need faults,
# latency, a small search cap or a nightly cutoff start a server of their own. The real braintree SDK does
# all the talking (tests/harness.py builds it): nothing here is mocked.


@pytest.fixture(scope="session", autouse=True)
def loopback_without_proxy() -> Iterator[None]:
    """A developer's HTTP(S)_PROXY must not capture the requests the tests send to sandboxes on loopback."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("NO_PROXY", "no_proxy"):
            patch.setenv(name, "127.0.0.1,localhost")
        yield


@pytest.fixture(scope="session")
def shared_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """The session's sandbox; it starts with no merchants: tests add their own (`harness.new_merchant`)."""
    running = sandbox_module.start(tmp_path_factory.mktemp("sandbox") / "sandbox.db", merchants=[])
    yield running
    running.stop()


@dataclass
class SandboxAccount:
    """A fresh merchant on the shared sandbox, the SDK gateway for arranging and checking its state."""

    running: RunningSandbox
    merchant: Merchant
    sdk: Any
    profile_name: str = "test"

    @property
    def url(self) -> str:
        return self.running.url

    def sale(self, amount: str = "10.00", *, submit: bool = True, settle: bool = False, **params: Any) -> str:
        """A sale made directly through the SDK, optionally submitted and settled; returns its id."""
        request = {
            "amount": amount,
            "payment_method_nonce": "fake-valid-nonce",
            "options": {"submit_for_settlement": submit},
            **params,
        }
        result = self.sdk.transaction.sale(request)
        txn = result.transaction
        assert txn is not None, result.message
        if settle:
            assert self.sdk.testing.settle_transaction(txn.id).is_success
        return txn.id


@pytest.fixture
def sdk_for() -> Callable[..., Any]:
    """`sdk_for(url, merchant_id, public_key, private_key, **configuration)`: `harness.sdk_gateway`, for a
    sandbox of a test's own."""
    return harness.sdk_gateway


@pytest.fixture
def sandbox(
    shared_sandbox: RunningSandbox, write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> SandboxAccount:
    """A merchant of its own on the shared sandbox, selected as the default profile `test`."""
    merchant = harness.new_merchant()
    shared_sandbox.store.put_merchant(merchant)
    monkeypatch.setenv("PAYCLI_TEST_PRIVATE_KEY", merchant.private_key)
    usd, eur = merchant.accounts
    write_config(f"""
        default_profile: test
        profiles:
          test:
            environment: local
            url: {shared_sandbox.url}
            merchant_id: {merchant.id}
            public_key: {merchant.public_key}
            private_key_env: PAYCLI_TEST_PRIVATE_KEY
            merchant_accounts: {{USD: {usd}, EUR: {eur}}}
            default_merchant_account: {usd}
    """)
    return SandboxAccount(shared_sandbox, merchant, harness.merchant_gateway(shared_sandbox.url, merchant))


# ---- PostgreSQL (the shared journal) -------------------------------------------------------------------
# One real PostgreSQL server per run (tests/pgcluster.py), a fresh database per test. Without the server
# binaries or psycopg these tests skip locally; under CI=true they fail instead, so CI never goes green
# by skipping them. Read here, at import, because `isolated_env` removes CI from every test's environment.

_IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs the PostgreSQL server is slow: starting the server alone takes seconds."""
    for item in items:
        if "postgres_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Any]:
    import pgcluster

    try:
        import psycopg  # noqa: F401

        cluster = pgcluster.Cluster.start()
    except (ImportError, pgcluster.NoServer) as err:
        reason = (
            f"no PostgreSQL for the shared-journal tests: {err} (pip install '.[postgres]'; apt-get install postgresql)"
        )
        if _IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, empty database's postgresql:// URL (no password in it: libpq reads $PGPASSWORD, as a team's would)."""
    import secrets

    monkeypatch.setenv("PGPASSWORD", postgres_cluster.password)
    return postgres_cluster.create_database(f"t_{secrets.token_hex(6)}")
