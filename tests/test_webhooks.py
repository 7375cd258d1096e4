"""Webhooks: samples and verification through the braintree SDK, send ↔ listen on loopback, sandbox delivery.

Nothing is mocked: samples are made and parsed by the SDK's own webhook code with each profile's keys, `listen`
runs as a real HTTP server (in a thread, or as a `python -m paycli` subprocess), and the sandbox posts to it.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from paycli import webhooks
from paycli.errors import GatewayRefused

ALPHA_KEY = "alpha_private_key_0123"
BETA_KEY = "beta_private_key_4567"
ROTATED_KEY = "alpha_private_key_rotated"
# No HTTP happens for sample/parse/listen: the url only has to be well-formed.
UNUSED_URL = "http://127.0.0.1:9"


def _sdk_kinds() -> list[str]:
    from paycli.gateway import Gateway

    return Gateway.webhook_kinds()


@pytest.fixture
def keys(write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """Profiles `alpha` (default), `beta` (other keys) and `alpha-rotated` (alpha's public key, another private)."""
    monkeypatch.setenv("ALPHA_KEY", ALPHA_KEY)
    monkeypatch.setenv("BETA_KEY", BETA_KEY)
    monkeypatch.setenv("ROTATED_KEY", ROTATED_KEY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return write_config(f"""
        default_profile: alpha
        profiles:
          alpha: {{environment: local, url: "{UNUSED_URL}", merchant_id: alpha, public_key: alpha_pub, private_key_env: ALPHA_KEY}}
          beta: {{environment: local, url: "{UNUSED_URL}", merchant_id: beta, public_key: beta_pub, private_key_env: BETA_KEY}}
          alpha-rotated: {{environment: local, url: "{UNUSED_URL}", merchant_id: alpha, public_key: alpha_pub, private_key_env: ROTATED_KEY}}
    """)


@pytest.fixture
def gateway(keys: Path) -> Iterator[Callable[[str], Any]]:
    """`gateway(profile_name)`: a connected paycli Gateway for one of the `keys` profiles."""
    from paycli.config import load_profiles
    from paycli.gateway import connect

    profiles = load_profiles(keys, os.environ)
    made: list[Any] = []

    def get(name: str = "alpha") -> Any:
        made.append(connect(profiles.get(name)))
        return made[-1]

    yield get
    for item in made:
        item.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise AssertionError(f"nothing started listening on port {port}")


class InThread:
    """Run `invoke(...)` on a thread (only one CliRunner may own sys.stdout: the main thread uses none)."""

    def __init__(self, invoke: Callable[..., Any], *args: object, code: int = 0) -> None:
        self.run: Any = None
        self.error: BaseException | None = None

        def target() -> None:
            try:
                self.run = invoke(*args, code=code)
            except BaseException as err:  # reported by result()
                self.error = err

        self._thread = threading.Thread(target=target, daemon=True)
        self._thread.start()

    def result(self, timeout_s: float = 10.0) -> Any:
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "the command did not finish in time"
        if self.error is not None:
            raise self.error
        return self.run


@contextmanager
def listen_process(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`paycli webhook listen --port 0 …` as a separate process; yields its URL (read from its first note)."""
    command = [sys.executable, "-m", "paycli", "webhook", "listen", "--port", "0", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        seen = ""
        while process.stderr and not (match := re.search(r"listening on (\S+),", seen)):
            line = process.stderr.readline()  # a warning may come first; EOF means it died
            assert line, f"listen did not start:\n{seen}"
            seen += line
        yield match.group(1), process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def finish(process: subprocess.Popen[str], timeout_s: float = 15.0) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"listen did not exit in time\n--- stdout\n{out}--- stderr\n{err}") from None
    return process.returncode, out, err


# kinds ---------------------------------------------------------------------------------------------------


def test_kinds_lists_every_kind_the_sdk_knows_each_with_a_description(invoke: Callable[..., Any]) -> None:
    import braintree

    sdk = {v for k, v in vars(braintree.WebhookNotification.Kind).items() if not k.startswith("_")}
    rows = invoke("webhook", "kinds", "-f", "json").json()
    assert {row["kind"] for row in rows} == sdk
    assert all(row["description"] and row["group"] for row in rows)
    sent = {row["kind"] for row in rows if row["sandbox_sends"]}
    assert sent == {"transaction_settled", "transaction_settlement_declined", "transaction_disbursed"}


def test_kinds_filter_and_csv_columns(invoke: Callable[..., Any]) -> None:
    lines = invoke("webhook", "kinds", "dispute", "-f", "csv").stdout.splitlines()
    assert lines[0] == "kind,group,sandbox_sends,description"
    assert len(lines) == 1 + 8 and all(line.startswith("dispute_") for line in lines[1:])


def test_kinds_does_not_need_a_config_or_a_gateway(
    invoke: Callable[..., Any], write_config: Callable[..., Path]
) -> None:
    write_config("profiles: [not, a, mapping]\n")  # broken config: kinds must not read it
    assert "check" in invoke("webhook", "kinds", "check", "-f", "table").stdout


# sample → parse ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", _sdk_kinds())
def test_every_kind_round_trips_sample_to_parse_through_the_sdk(gateway: Callable[[str], Any], kind: str) -> None:
    alpha = gateway("alpha")
    signed = webhooks.sample(alpha, kind, "subj_42")
    assert signed.bt_signature.startswith("alpha_pub|") and ALPHA_KEY not in signed.bt_signature
    notification = webhooks.parse(alpha, signed.bt_signature, signed.bt_payload)
    assert notification.kind == kind
    assert notification.timestamp is not None and notification.timestamp.tzinfo is not None
    assert notification.subject
    if notification.subject in ("transaction", "dispute", "disbursement", "subscription"):
        assert notification.subject_id == "subj_42"


def test_sample_json_is_the_pair_and_parses_back_from_a_file(
    invoke: Callable[..., Any], keys: Path, tmp_path: Path
) -> None:
    sample = invoke("webhook", "sample", "transaction_settled", "--id", "txn_1", "-f", "json").json()
    assert set(sample) == {"bt_signature", "bt_payload"}
    assert sample["bt_payload"].endswith("\n") and ALPHA_KEY not in json.dumps(sample)
    captured = tmp_path / "captured.json"
    captured.write_text(json.dumps(sample))
    parsed = invoke("webhook", "parse", "--from", captured, "-f", "json").json()
    assert parsed["kind"] == "transaction_settled"
    assert parsed["subject"] == "transaction" and parsed["subject_id"] == "txn_1"
    assert parsed["details"]["status"] == "settled" and parsed["details"]["amount"] == "100.00"
    assert parsed["timestamp"].endswith("Z")


def test_the_built_in_local_profile_signs_and_verifies_without_starting_a_sandbox(
    invoke: Callable[..., Any], isolated_env: Path
) -> None:
    sample = invoke("webhook", "sample", "transaction_settled", "--id", "txn_2", "-f", "json").json()
    parsed = invoke(
        "webhook", "parse", "--signature", sample["bt_signature"], "--payload", sample["bt_payload"], "-f", "json"
    ).json()

    assert sample["bt_signature"].startswith("local_public_key|") and parsed["subject_id"] == "txn_2"
    assert not (isolated_env / ".local" / "state" / "paycli" / "sandbox.db").exists()  # nothing was started


def test_sample_form_body_parses_back_from_stdin(invoke: Callable[..., Any], keys: Path) -> None:
    body = invoke("webhook", "sample", "dispute_opened", "--id", "dp_9", "--form").stdout
    assert body.startswith("bt_signature=alpha_pub%7C") and "&bt_payload=" in body
    parsed = invoke("webhook", "parse", "--from", "-", "-f", "json", input=body + "\n").json()
    assert (parsed["kind"], parsed["subject"], parsed["subject_id"]) == ("dispute_opened", "dispute", "dp_9")


def test_parse_accepts_signature_and_payload_options_and_shows_a_table(
    invoke: Callable[..., Any], keys: Path, tty: None
) -> None:
    sample = invoke("webhook", "sample", "disbursement", "--id", "dsb_1", "-f", "json").json()
    run = invoke("webhook", "parse", "--signature", sample["bt_signature"], "--payload", sample["bt_payload"])
    assert "disbursement.amount" in run.stdout and "dsb_1" in run.stdout


def test_parse_masks_the_private_key_a_partner_notification_carries(gateway: Callable[[str], Any]) -> None:
    alpha = gateway("alpha")
    signed = webhooks.sample(alpha, "partner_merchant_connected")
    assert webhooks.parse(alpha, signed.bt_signature, signed.bt_payload).details["private_key"] == "****"


# rejections ------------------------------------------------------------------------------------------------


def _tamper(payload: str) -> str:
    index = payload.index("A", 10)  # still base64, so only the signature check can catch it
    return payload[:index] + "B" + payload[index + 1 :]


def test_a_tampered_payload_is_rejected_with_exit_3(invoke: Callable[..., Any], keys: Path) -> None:
    sample = invoke("webhook", "sample", "transaction_settled", "-f", "json").json()
    run = invoke(
        "webhook",
        "parse",
        "--signature",
        sample["bt_signature"],
        "--payload",
        _tamper(sample["bt_payload"]),
        "-f",
        "json",
        code=3,
    )
    assert run.json()["error"]["type"] == "refused"
    assert "does not match the payload" in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_a_tampered_signature_is_rejected_with_exit_3(invoke: Callable[..., Any], keys: Path) -> None:
    sample = invoke("webhook", "sample", "check", "-f", "json").json()
    public, digest = sample["bt_signature"].split("|")
    forged = f"{public}|{'0' * len(digest)}"
    run = invoke("webhook", "parse", "--signature", forged, "--payload", sample["bt_payload"], code=3)
    assert "error: webhook rejected" in run.stderr


def test_a_payload_with_windows_line_endings_is_rejected(gateway: Callable[[str], Any]) -> None:
    alpha = gateway("alpha")
    signed = webhooks.sample(alpha, "check")
    with pytest.raises(GatewayRefused, match="characters base64 never has"):
        webhooks.parse(alpha, signed.bt_signature, signed.bt_payload.replace("\n", "\r\n"))


def test_a_notification_for_another_profiles_keys_is_rejected(invoke: Callable[..., Any], keys: Path) -> None:
    sample = invoke("-p", "beta", "webhook", "sample", "transaction_settled", "-f", "json").json()
    run = invoke("webhook", "parse", "--signature", sample["bt_signature"], "--payload", sample["bt_payload"], code=3)
    assert "not signed for this profile's public key (alpha_pub)" in run.stderr


def test_a_notification_signed_with_another_private_key_is_rejected(invoke: Callable[..., Any], keys: Path) -> None:
    sample = invoke("-p", "alpha-rotated", "webhook", "sample", "check", "-f", "json").json()
    assert sample["bt_signature"].startswith("alpha_pub|")
    run = invoke("webhook", "parse", "--signature", sample["bt_signature"], "--payload", sample["bt_payload"], code=3)
    assert "signed with another private key" in run.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give --signature and --payload"),
        (("--signature", "x|y"), "give --signature and --payload"),
        (("--from", "missing.txt"), "cannot read --from missing.txt"),
        (("--from", "body.txt", "--signature", "x|y"), "not both"),
    ],
)
def test_parse_usage_errors_exit_2(
    invoke: Callable[..., Any],
    keys: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "body.txt").write_text("bt_signature=a%7Cb&bt_payload=Zm9v")
    assert message in invoke("webhook", "parse", *args, code=2).stderr


def test_a_captured_body_without_the_pair_is_a_usage_error(invoke: Callable[..., Any], keys: Path) -> None:
    run = invoke("webhook", "parse", "--from", "-", "-f", "json", input="bt_signature=a%7Cb\n", code=2)
    assert "has no bt_payload" in run.json()["error"]["message"]


def test_sample_rejects_an_unknown_kind_and_an_unsafe_id(invoke: Callable[..., Any], keys: Path) -> None:
    assert "did you mean transaction_settled" in invoke("webhook", "sample", "transaction_sett", code=2).stderr
    assert "must be 1-64 letters" in invoke("webhook", "sample", "check", "--id", "<x>", code=2).stderr


# send ↔ listen ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://example.com/hook", "--to example.com is not a loopback address"),
        ("http://10.0.0.1:80/", "--to 10.0.0.1 is not a loopback address"),
        ("ftp://127.0.0.1/x", "--to 'ftp://127.0.0.1/x'"),
    ],
)
def test_send_only_posts_to_loopback_http_urls(invoke: Callable[..., Any], keys: Path, url: str, says: str) -> None:
    run = invoke("webhook", "send", "check", "--to", url, "-f", "json", code=2)
    error = run.json()["error"]
    assert error["type"] == "usage" and error["message"].startswith(says), error


def test_send_to_a_port_nobody_listens_on_is_unavailable(invoke: Callable[..., Any], keys: Path) -> None:
    run = invoke("webhook", "send", "check", "--to", f"http://127.0.0.1:{free_port()}/", code=6)
    assert "connection refused" in run.stderr


def test_send_and_listen_processes_talk_over_loopback(invoke: Callable[..., Any], keys: Path) -> None:
    with listen_process("--count", "2", "-f", "ndjson") as (url, process):
        first = invoke("webhook", "send", "transaction_settled", "--to", url + "hooks", "--id", "t_1", "-f", "json")
        second = invoke("webhook", "send", "dispute_won", "--to", url, "--id", "d_2", "-f", "json")
        code, out, _ = finish(process)
    for delivery in (first.json(), second.json()):
        assert delivery["status"] == 200 and delivery["ok"] is True and isinstance(delivery["ms"], int)
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [(r["kind"], r["subject_id"], r["verified"]) for r in records] == [
        ("transaction_settled", "t_1", True),
        ("dispute_won", "d_2", True),
    ]
    assert records[0]["status"] == "settled" and records[0]["reply_status"] == 200


def test_listen_prints_one_line_per_notification_on_a_terminal(
    invoke: Callable[..., Any], gateway: Callable[[str], Any], tty: None
) -> None:
    port = free_port()
    listening = InThread(invoke, "webhook", "listen", "--port", port, "--count", "2")
    wait_for_port(port)
    alpha = gateway("alpha")
    webhooks.send(alpha, "transaction_settlement_declined", f"http://127.0.0.1:{port}/", "t_7")
    webhooks.send(alpha, "check", f"http://localhost:{port}/")
    lines = listening.result().stdout.splitlines()
    assert len(lines) == 2
    assert "transaction_settlement_declined  transaction t_7  settlement_declined  100.00" in lines[0]
    assert lines[1].endswith("  check")


@pytest.mark.parametrize("fmt", [("-f", "ndjson"), ("-f", "json"), ()], ids=["ndjson", "json", "default"])
def test_listen_rejects_other_keys_with_403_and_exits_3(
    invoke: Callable[..., Any], gateway: Callable[[str], Any], fmt: tuple[str, ...]
) -> None:
    """A stream has no end, so json is ndjson here too: one line per notification, then the error's line."""
    port = free_port()
    listening = InThread(invoke, "webhook", "listen", "--port", port, "--count", "1", *fmt, code=3)
    wait_for_port(port)
    with pytest.raises(GatewayRefused, match="answered 403") as refused:
        webhooks.send(gateway("beta"), "check", f"http://127.0.0.1:{port}/")
    assert refused.value.details["status"] == 403
    run = listening.result()
    record, error = run.ndjson()
    assert record["verified"] is False and "not signed for this profile's public key" in record["error"]
    assert error["error"]["rejected"] == 1


def test_send_reports_a_non_2xx_answer_with_exit_3(invoke: Callable[..., Any], gateway: Callable[[str], Any]) -> None:
    with webhooks.Listener(gateway("beta"), port=0) as other_keys:
        run = invoke("webhook", "send", "check", "--to", other_keys.url, "-f", "json", code=3)
    error = run.json()["error"]
    assert error["status"] == 403 and isinstance(error["ms"], int)
    assert "answered 403 Forbidden" in run.stderr


def test_listen_forwards_the_original_body(invoke: Callable[..., Any], gateway: Callable[[str], Any]) -> None:
    alpha = gateway("alpha")
    with webhooks.Listener(alpha, port=0) as app_endpoint:
        port = free_port()
        listening = InThread(
            invoke,
            "webhook",
            "listen",
            "--port",
            port,
            "--count",
            "1",
            "--forward-to",
            app_endpoint.url + "webhooks",
            "-f",
            "json",
        )
        wait_for_port(port)
        webhooks.send(alpha, "subscription_went_past_due", f"http://127.0.0.1:{port}/", "sub_3")
        forwarded = list(app_endpoint.records(count=1, timeout_s=5))
    (record,) = listening.result().ndjson()  # -f json streams as ndjson: a listener's output has no end
    assert record["forward_status"] == 200 and record["subject_id"] == "sub_3"
    assert forwarded[0].verified and forwarded[0].notification.subject_id == "sub_3"


def test_listen_refuses_a_non_loopback_forward_target(invoke: Callable[..., Any], keys: Path) -> None:
    assert "not a loopback address" in invoke("webhook", "listen", "--forward-to", "http://192.0.2.1/", code=2).stderr


def test_listener_answers_400_to_a_body_without_the_pair(gateway: Callable[[str], Any]) -> None:
    with webhooks.Listener(gateway("alpha"), port=0) as listener:
        status = webhooks.post_form(listener.url, b"hello=world")[0]
        (record,) = listener.records(count=1, timeout_s=5)
    assert status == 400 and not record.verified and "has no bt_signature or bt_payload" in (record.error or "")


# sandbox delivery ------------------------------------------------------------------------------------------


@pytest.fixture
def merchant() -> Any:
    from paycli.sandbox.store import Merchant

    return Merchant("shop", "shop_pub", "shop_private_key_xyz", {"shop_usd": "USD"})


@pytest.fixture
def shop_profile(write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, merchant: Any) -> int:
    """A profile `shop` for a sandbox that will serve on the returned (now free) port."""
    port = free_port()
    monkeypatch.setenv("SHOP_KEY", merchant.private_key)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    write_config(f"""
        default_profile: shop
        profiles:
          shop: {{environment: local, url: "http://127.0.0.1:{port}", merchant_id: shop, public_key: shop_pub,
                 private_key_env: SHOP_KEY}}
    """)
    return port


def _sale(invoke: Callable[..., Any], amount: str) -> str:
    return invoke("checkout", "--amount", amount, "-f", "json").json()["id"]


def test_sandbox_posts_settled_disbursed_and_declined_notifications_to_listen(
    invoke: Callable[..., Any], shop_profile: int, merchant: Any, tmp_path: Path
) -> None:
    from paycli import sandbox

    with listen_process("--count", "3", "-f", "ndjson") as (url, process):
        with sandbox.start(tmp_path / "shop.db", [merchant], port=shop_profile, webhook_url=url) as running:
            settles, declines = _sale(invoke, "10.00"), _sale(invoke, "4001.00")
            invoke("sandbox", "settle", settles, declines, "-f", "json")  # through the profile's gateway
            code, out, err = finish(process)
        assert running.webhooks is not None and running.webhooks.delivered == 3
    assert code == 0, err
    records = {(r["kind"], r["subject_id"]): r for r in map(json.loads, out.splitlines())}
    assert set(records) == {
        ("transaction_settled", settles),
        ("transaction_disbursed", settles),
        ("transaction_settlement_declined", declines),
    }
    assert all(r["verified"] and r["subject"] == "transaction" for r in records.values())
    settled = records["transaction_settled", settles]
    assert settled["status"] == "settled" and settled["amount"] == "10.00"
    assert settled["details"]["merchant_account_id"] == "shop_usd"
    assert records["transaction_disbursed", settles]["details"]["disbursement_date"] == settled["timestamp"][:10]
    assert records["transaction_settlement_declined", declines]["status"] == "settlement_declined"


def test_a_settled_sandbox_transaction_is_disbursed_on_its_settlement_date(
    invoke: Callable[..., Any], shop_profile: int, merchant: Any, tmp_path: Path
) -> None:
    from paycli import sandbox
    from paycli.sandbox import schema

    with sandbox.start(tmp_path / "shop.db", [merchant], port=shop_profile) as running:
        txn_id = _sale(invoke, "12.00")
        invoke("sandbox", "settle", txn_id, "-f", "json")
        doc = running.store.transaction(running.store.read(), "shop", txn_id)
    assert running.webhooks is None  # no --webhook-url, nothing to post
    assert doc["disbursement_date"] == doc["settled_at"][:10]
    assert schema.transaction(doc)["disbursement_details"]["disbursement_date"].isoformat() == doc["disbursement_date"]


def test_sandbox_retries_until_the_receiver_is_up(
    invoke: Callable[..., Any],
    shop_profile: int,
    merchant: Any,
    tmp_path: Path,
    gateway_for_shop: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from paycli import sandbox
    from paycli.sandbox import webhooks as sandbox_webhooks

    monkeypatch.setattr(sandbox_webhooks, "RETRY_BACKOFF_S", 0.1)  # 0.1, 0.2, 0.4… instead of 0.5, 1, 2…
    port = free_port()
    log: list[str] = []
    with sandbox.start(
        tmp_path / "shop.db",
        [merchant],
        port=shop_profile,
        webhook_url=f"http://127.0.0.1:{port}/",
        webhook_log=log.append,
    ):
        invoke("sandbox", "settle", _sale(invoke, "10.00"), "-f", "json")
        deadline = time.monotonic() + 5
        while not any("retrying" in line for line in log) and time.monotonic() < deadline:
            time.sleep(0.01)
        with webhooks.Listener(gateway_for_shop(), port=port) as listener:  # the receiver comes up late
            received = list(listener.records(count=2, timeout_s=8))
    assert sorted(r.notification.kind for r in received if r.notification) == [
        "transaction_disbursed",
        "transaction_settled",
    ]
    assert any("failed: ConnectionRefusedError; retrying in 0.1 s (attempt 2 of 6)" in line for line in log)


def test_sandbox_gives_up_after_a_bounded_number_of_attempts(
    invoke: Callable[..., Any], shop_profile: int, merchant: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paycli import sandbox
    from paycli.sandbox import webhooks as sandbox_webhooks

    monkeypatch.setattr(sandbox_webhooks, "RETRY_BACKOFF_S", 0.01)
    monkeypatch.setattr(sandbox_webhooks, "MAX_ATTEMPTS", 2)
    log: list[str] = []
    with sandbox.start(
        tmp_path / "shop.db",
        [merchant],
        port=shop_profile,
        webhook_url=f"http://127.0.0.1:{free_port()}/",
        webhook_log=log.append,
    ) as running:
        started = time.monotonic()
        invoke("sandbox", "settle", _sale(invoke, "10.00"), "-f", "json")
        assert time.monotonic() - started < 2  # the API answer never waits for the receiver
        deadline = time.monotonic() + 5
        while running.webhooks.failed < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert running.webhooks.failed == 2 and running.webhooks.delivered == 0
    assert sum("gave up after 2 attempts" in line for line in log) == 2
    assert merchant.private_key not in "\n".join(log)


def test_sandbox_serve_refuses_a_webhook_url_that_is_not_http(invoke: Callable[..., Any]) -> None:
    run = invoke("sandbox", "serve", "--port", "0", "--webhook-url", "ftp://127.0.0.1/x", code=2)
    assert "--webhook-url 'ftp://127.0.0.1/x' is not an http(s) URL" in run.stderr


@pytest.fixture
def gateway_for_shop(shop_profile: int) -> Iterator[Callable[[], Any]]:
    from paycli.config import load_profiles
    from paycli.gateway import connect

    made: list[Any] = []

    def get() -> Any:
        made.append(connect(load_profiles(None, os.environ).get("shop")))
        return made[-1]

    yield get
    for item in made:
        item.close()
