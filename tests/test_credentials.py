"""credentials.py: proving a profile's keys work, through the real gateway and SDK against the sandbox.

Each private-key source (an environment variable, a command, a key in the config file) is resolved for real
when the gateway connects; a bad key, a missing one or a failing command is a row with its error, never the
end of the list, and no row, message or error detail ever holds the key.
"""

from __future__ import annotations

import shlex
import socket
import sys
from collections.abc import Callable, Iterator
from typing import Any

import harness
import pytest

from paycli import credentials, gateway
from paycli.config import PrivateKey, Profile
from paycli.errors import ConfigError, Unavailable
from paycli.profile_runs import ProfileRuns
from paycli.sandbox import LOCAL_MERCHANT_ID, Merchant, RunningSandbox


@pytest.fixture
def merchant(shared_sandbox: RunningSandbox) -> Merchant:
    fresh = harness.new_merchant()
    shared_sandbox.store.put_merchant(fresh)
    return fresh


@pytest.fixture
def connect() -> Iterator[Callable[[Profile], Any]]:
    """`gateway.connect`, closing every gateway it opened (an embedded sandbox among them) at teardown."""
    opened: list[Any] = []

    def open_one(profile: Profile) -> Any:
        opened.append(gateway.connect(profile))
        return opened[-1]

    yield open_one
    for each in opened:
        each.close()


def profile(name: str, merchant: Merchant, url: str, key: PrivateKey) -> Profile:
    return Profile(
        name=name,
        environment="local",
        url=url,
        merchant_id=merchant.id,
        public_key=merchant.public_key,
        private_key=key,
    )


def command(code: str) -> str:
    return shlex.join([sys.executable, "-c", code])


def assert_keyless(check: credentials.ProfileCheck, *keys: str) -> None:
    texts = [repr(check), str(check.error)]
    if check.failure is not None:
        texts += [check.failure.message, repr(check.failure.details), repr(check.failure.to_json())]
    for key in keys:
        assert all(key not in text for text in texts), check


def test_a_client_token_proves_the_keys_and_is_timed(shared_sandbox, merchant, connect) -> None:
    key = PrivateKey("inline", "config.yaml", inline=merchant.private_key, profile="shop")
    result = credentials.check(connect(profile("shop", merchant, shared_sandbox.url, key)))
    assert result.token_chars > 100 and result.ms >= 0


def test_every_key_source_is_resolved_and_a_failing_profile_is_a_row_not_the_end(
    shared_sandbox, merchant, connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret, url = merchant.private_key, shared_sandbox.url
    monkeypatch.setenv("SHOP_KEY", secret)
    monkeypatch.setenv("LEAKED", secret)  # read by the failing helper below, which prints it on stderr
    profiles = [
        profile("from-env", merchant, url, PrivateKey("env", "SHOP_KEY", profile="from-env")),
        profile("env-unset", merchant, url, PrivateKey("env", "NOT_EXPORTED", profile="env-unset")),
        profile("from-cmd", merchant, url, PrivateKey("cmd", command(f"print({secret!r})"), profile="from-cmd")),
        profile(
            "cmd-fails",
            merchant,
            url,
            PrivateKey(
                "cmd",
                command("import os, sys; print('no entry for', os.environ['LEAKED'], file=sys.stderr); sys.exit(2)"),
                profile="cmd-fails",
            ),
        ),
        profile("inline", merchant, url, PrivateKey("inline", "config.yaml", inline=secret, profile="inline")),
        profile(
            "wrong-key", merchant, url, PrivateKey("inline", "config.yaml", inline=secret[::-1], profile="wrong-key")
        ),
    ]
    rows = list(credentials.check_profiles(profiles, connect, ProfileRuns(keep_going=True)))

    assert [(row.profile, row.ok) for row in rows] == [
        ("from-env", True),
        ("env-unset", False),
        ("from-cmd", True),
        ("cmd-fails", False),
        ("inline", True),
        ("wrong-key", False),
    ]
    good = [row for row in rows if row.ok]
    assert all(row.merchant_id == merchant.id and row.ms is not None and row.error is None for row in good)
    by_name = {row.profile: row for row in rows}
    assert by_name["env-unset"].error == (
        "profile 'env-unset', key 'private_key_env': $NOT_EXPORTED is not set; export it or change the profile"
    )
    assert by_name["cmd-fails"].error is not None
    assert by_name["cmd-fails"].error.startswith("profile 'cmd-fails', key 'private_key_cmd': `python")
    assert "exited with status 2" in by_name["cmd-fails"].error
    assert "authentication" in str(by_name["wrong-key"].error).lower()
    for row in rows:
        assert row.ok or isinstance(row.failure, ConfigError)  # exit 4: the credentials, not the network
        assert_keyless(row, secret, secret[::-1])


@pytest.mark.slow  # the gateway retries a refused connection with backoff before it gives up
def test_an_unreachable_gateway_is_unavailable_not_a_credentials_problem(merchant, connect) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe is closed
    key = PrivateKey("inline", "config.yaml", inline=merchant.private_key, profile="gone")
    [row] = credentials.check_profiles(
        [profile("gone", merchant, f"http://127.0.0.1:{port}", key)], connect, ProfileRuns(keep_going=True)
    )
    assert not row.ok and isinstance(row.failure, Unavailable)
    assert_keyless(row, merchant.private_key)


def test_the_built_in_local_profile_reports_the_embedded_sandboxs_merchant(connect) -> None:
    [row] = credentials.check_profiles(
        [Profile(name="local", environment="local")], connect, ProfileRuns(keep_going=True)
    )
    assert row.ok and row.merchant_id == LOCAL_MERCHANT_ID and row.environment == "local"
