"""paycli.gateway: the call wrapper (errors and retries), the reply seam and the environment it is given,
against real sandboxes (faults injected server-side)."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import harness
import pytest

from paycli import sandbox as offline
from paycli.config import PrivateKey, Profile
from paycli.errors import ConfigError, Declined, ExitCode, GatewayRefused, NotFound, Unavailable
from paycli.gateway import Gateway, connect
from paycli.gateway.calls import MAX_ATTEMPTS
from paycli.gateway.transport import DecodeGate
from paycli.models import TransactionQuery
from paycli.sandbox.store import Merchant

MERCHANT = Merchant("gw", "gw_public", "gw_private", {"gw_usd": "USD"})


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("paycli.gateway.calls.BACKOFF_BASE_S", 0.01)


def profile_for(url: str, key: str = "gw_private") -> Profile:
    return Profile(
        name="t",
        environment="local",
        merchant_id="gw",
        public_key="gw_public",
        url=url,
        private_key=PrivateKey("inline", "test", inline=key, profile="t"),
    )


@pytest.fixture
def faulty(tmp_path) -> Iterator[Any]:
    def start(faults: str, seed: int = 1) -> Any:
        running = offline.start(tmp_path / "f.db", [MERCHANT], faults=faults, fault_seed=seed)
        started.append(running)
        return running

    started: list[Any] = []
    yield start
    for running in started:
        running.stop()


def gateway_for(running: Any, notes: list[str] | None = None, key: str = "gw_private") -> Gateway:
    return connect(profile_for(running.url, key), notify=notes.append if notes is not None else None)


def test_wrong_private_key_is_a_config_error(faulty) -> None:
    gateway = gateway_for(faulty(""), key="wrong")
    with pytest.raises(ConfigError, match="authentication failed"):
        gateway.generate_client_token()


def test_unreachable_gateway_is_unavailable_after_retries(tmp_path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    notes: list[str] = []
    gateway = connect(profile_for(f"http://127.0.0.1:{port}"), notify=notes.append)
    with pytest.raises(Unavailable, match="connection failed"):
        gateway.find("abcdef")
    assert len(notes) == 3 and all("retrying" in note for note in notes)


def test_reads_are_retried_through_503s(faulty) -> None:
    running = faulty("find=503@0.5", seed=3)
    notes: list[str] = []
    gateway = gateway_for(running, notes)
    sale = gateway.sale({"amount": Decimal("5.00"), "payment_method_nonce": "fake-valid-nonce"})
    for _ in range(6):
        assert gateway.find(sale.id).id == sale.id
    assert any("503 service unavailable" in note for note in notes)


def test_sale_without_idempotency_key_is_not_retried(faulty) -> None:
    gateway = gateway_for(faulty("sale=503@1"), [])
    with pytest.raises(Unavailable, match="503"):
        gateway.sale({"amount": Decimal("5.00"), "payment_method_nonce": "fake-valid-nonce"})


def test_refund_with_key_survives_a_lost_answer_and_refunds_once(faulty) -> None:
    running = faulty("refund=drop-after@0.5", seed=11)
    gateway = gateway_for(running, [])
    sale = gateway.sale(
        {
            "amount": Decimal("40.00"),
            "payment_method_nonce": "fake-valid-nonce",
            "options": {"submit_for_settlement": True},
        }
    )
    gateway.testing_settle(sale.id)
    credits = [gateway.refund(sale.id, amount=Decimal("10.00"), api_request_key=f"k-{sale.id}-{i}") for i in range(4)]
    assert len({c.id for c in credits}) == 4
    assert len(gateway.find(sale.id).refund_ids) == 4


def test_not_found_and_refusals(faulty) -> None:
    gateway = gateway_for(faulty(""))
    with pytest.raises(NotFound):
        gateway.find("missing1")
    with pytest.raises(Declined) as declined:
        gateway.sale({"amount": Decimal("2001.00"), "payment_method_nonce": "fake-valid-nonce"})
    assert declined.value.transaction.processor_response_text == "Insufficient Funds"
    with pytest.raises(GatewayRefused, match="91565") as refused:
        gateway.sale({"amount": Decimal("1.00"), "payment_method_nonce": "nope"})
    assert refused.value.details["errors"][0]["code"] == "91565"


def test_embedded_local_profile_starts_and_stops_its_own_sandbox(isolated_env) -> None:
    gateway = connect(Profile(name="local", environment="local"))
    try:
        assert gateway.merchant_id == offline.LOCAL_MERCHANT_ID
        sale = gateway.sale({"amount": Decimal("3.00"), "payment_method_nonce": "fake-valid-nonce"})
        assert gateway.find(sale.id).status == "authorized"
    finally:
        gateway.close()
    assert (isolated_env / ".local" / "state" / "paycli" / "sandbox.db").exists()


def test_verbose_log_names_requests_without_credentials(faulty) -> None:
    running = faulty("")
    lines: list[str] = []
    gateway = connect(profile_for(running.url), log=lines.append)
    gateway.generate_client_token()
    assert lines and lines[0].startswith("POST /merchants/gw/client_token 201")
    assert not any("gw_private" in line or "Basic" in line for line in lines)


def test_decode_gate_admits_one_reply_at_a_time() -> None:
    gate = DecodeGate()
    first_decoding, first_may_finish = threading.Event(), threading.Event()
    events: list[str] = []

    def first() -> None:
        with gate.calling():
            gate.arrived()
            first_decoding.set()
            first_may_finish.wait(5)
            events.append("first done")

    def second() -> None:
        first_decoding.wait(5)
        with gate.calling():
            gate.arrived()
            events.append("second decoding")

    threads = [threading.Thread(target=first, daemon=True), threading.Thread(target=second, daemon=True)]
    for thread in threads:
        thread.start()
    first_decoding.wait(5)
    threads[1].join(0.2)
    assert events == [] and threads[1].is_alive()  # the second reply waits for the first to be decoded
    first_may_finish.set()
    for thread in threads:
        thread.join(5)
    assert events == ["first done", "second decoding"]


def test_decode_gate_is_given_back_on_errors_and_never_held_outside_a_call() -> None:
    gate = DecodeGate()

    def failed_call() -> None:
        with pytest.raises(ValueError), gate.calling():
            gate.arrived()
            gate.arrived()  # a second reply within the same call must not wait for itself
            raise ValueError("the SDK failed to decode")
        gate.arrived()  # outside a call nobody would give the gate back, so it is not taken

    def later_call() -> None:
        with gate.calling():
            gate.arrived()

    for step in (failed_call, later_call):  # in threads, so a gate left shut fails the test instead of hanging it
        thread = threading.Thread(target=step, daemon=True)
        thread.start()
        thread.join(5)
        assert not thread.is_alive(), f"{step.__name__} is stuck at the gate"


def test_concurrent_pages_under_faults_all_arrive(faulty) -> None:
    """Eight threads share one gateway through 503s and 429s; every retry gives the decode gate back."""
    running = faulty("*=503@0.2,*=429@0.1", seed=5)
    seller = gateway_for(running, [])
    sales = []
    for _ in range(40):
        try:
            sales.append(
                seller.sale(
                    {
                        "amount": Decimal("1.00"),
                        "payment_method_nonce": "fake-valid-nonce",
                        "api_request_key": f"sale-{len(sales)}",
                    }
                ).id
            )
        except Unavailable:
            continue
    gateway = gateway_for(running, [])
    query = TransactionQuery()
    ids = sorted(sales)
    pages = [ids[start : start + 5] for start in range(0, len(ids), 5)]
    with ThreadPoolExecutor(8) as pool:
        fetched = list(pool.map(lambda page: gateway.fetch_page(query, page), pages, timeout=60))
    assert [[t.id for t in page] for page in fetched] == pages


# --- every request runs inside the call wrapper ------------------------------------------------------------

# Each public Gateway method that makes a request, called so that it would succeed on a healthy sandbox
# (`retried`: whether the wrapper may repeat it). A new public method fails the test below until it is here.
_REQUESTS: dict[str, tuple[bool, Callable[[Gateway], Any]]] = {
    "generate_client_token": (True, lambda gw: gw.generate_client_token()),
    "find": (True, lambda gw: gw.find("abc123")),
    "search_ids": (True, lambda gw: gw.search_ids(TransactionQuery(order_id="o-1"))),
    "fetch_page": (True, lambda gw: gw.fetch_page(TransactionQuery(), ["abc123"])),
    "settlement_summary": (True, lambda gw: gw.settlement_summary(date(2026, 1, 5))),
    "sale": (False, lambda gw: gw.sale({"amount": Decimal("1.00"), "payment_method_nonce": "fake-valid-nonce"})),
    "submit_for_settlement": (False, lambda gw: gw.submit_for_settlement("abc123")),
    "void": (True, lambda gw: gw.void("abc123", api_request_key="void-key")),
    "refund": (True, lambda gw: gw.refund("abc123", api_request_key="refund-key")),
    "testing_settle": (False, lambda gw: gw.testing_settle("abc123")),
    "sandbox_control": (False, lambda gw: gw.sandbox_control("status")),
}
# Methods that make no request at all: the SDK computes them from the profile's keys.
_NO_REQUEST = {"webhook_kinds", "webhook_sample", "webhook_parse", "close"}


def test_every_public_gateway_method_is_listed_here() -> None:
    public = {
        name for name, member in vars(Gateway).items() if not name.startswith("_") and callable(getattr(Gateway, name))
    }
    assert public == set(_REQUESTS) | _NO_REQUEST


@pytest.mark.parametrize("name", sorted(_REQUESTS))
def test_every_request_goes_through_the_call_wrapper(faulty, name: str) -> None:
    """Against a sandbox answering 503 to everything, each method ends in Unavailable (exit 6), never in the
    SDK's own exception (a traceback, exit 1), and retries exactly when it is safe to repeat."""
    retried, call = _REQUESTS[name]
    notes: list[str] = []
    gateway = gateway_for(faulty("*=503@1.0"), notes)
    with pytest.raises(Unavailable, match="503 service unavailable") as failed:
        call(gateway)
    assert failed.value.exit_code == ExitCode.UNAVAILABLE == 6
    assert len(notes) == (MAX_ATTEMPTS - 1 if retried else 0), notes
    assert gateway.pushbacks == (MAX_ATTEMPTS if retried else 1)


def test_webhook_methods_make_no_request(faulty) -> None:
    gateway = gateway_for(faulty("*=503@1.0"), [])
    assert "check" in gateway.webhook_kinds()
    signature, payload = gateway.webhook_sample("check", "x")
    assert gateway.webhook_parse(signature, payload)["kind"] == "check"
    assert gateway.pushbacks == 0


def test_importing_the_gateway_package_loads_no_sdk() -> None:
    """Modules name `Gateway` for type checking; only using it may cost the SDK's import."""
    import subprocess
    import sys

    probe = (
        "import sys, paycli.gateway; assert 'braintree' not in sys.modules, 'imported'; "
        "paycli.gateway.connect; assert 'braintree' in sys.modules, 'not loaded on use'"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


# --- the environment a run is given reaches the gateway ---------------------------------------------------


def test_connect_reads_the_private_key_from_the_environment_it_is_given(faulty, monkeypatch) -> None:
    running = faulty("")
    monkeypatch.delenv("GW_KEY", raising=False)
    profile = Profile(
        name="t",
        environment="local",
        merchant_id="gw",
        public_key="gw_public",
        url=running.url,
        private_key=PrivateKey("env", "GW_KEY", profile="t"),
    )
    assert connect(profile, env={"GW_KEY": "gw_private"}).generate_client_token()
    with pytest.raises(ConfigError, match=r"\$GW_KEY is not set"):
        connect(profile, env={})


def test_an_invocations_environment_reaches_the_gateway(faulty, tmp_path, monkeypatch) -> None:
    """Invocation(env=...) alone decides: the key's variable and the state directory come from the given
    environment, not from the process's (which has neither)."""
    from paycli.cli.runtime import Invocation

    running = faulty("")
    config = tmp_path / "given" / "config.yaml"
    config.parent.mkdir()
    config.write_text(
        f"profiles:\n  t:\n    environment: local\n    url: {running.url}\n    merchant_id: gw\n"
        "    public_key: gw_public\n    private_key_env: GW_KEY\n"
    )
    config.chmod(0o600)
    monkeypatch.delenv("GW_KEY", raising=False)
    given_state = tmp_path / "given-state"
    env = {"HOME": str(tmp_path / "given-home"), "XDG_STATE_HOME": str(given_state), "GW_KEY": "gw_private"}

    run = Invocation(profile="t", config=config, env=env)
    try:
        assert run.gateway().generate_client_token()
    finally:
        run.close()

    process_state = Path(os.environ["XDG_STATE_HOME"])
    run = Invocation(profile="local", config=config, env=env)
    try:
        assert (
            run.gateway()
            .find(run.gateway().sale({"amount": Decimal("2.00"), "payment_method_nonce": "fake-valid-nonce"}).id)
            .status
            == "authorized"
        )
    finally:
        run.close()
    assert (given_state / "paycli" / "sandbox.db").exists()
    assert not (process_state / "paycli" / "sandbox.db").exists()


# --- the same errors through the CLI, against real sandboxes ---------------------------------------------


def test_profiles_check_with_a_wrong_key_exits_4(invoke, sandbox, monkeypatch) -> None:
    monkeypatch.setenv("PAYCLI_TEST_PRIVATE_KEY", "not-the-key")
    run = invoke("profiles", "check", code=4)
    assert "authentication failed" in run.stderr and "not-the-key" not in run.stdout + run.stderr


def test_profiles_check_of_an_unreachable_sandbox_exits_6(invoke, write_config, monkeypatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("GONE_KEY", "k")
    write_config(
        f"profiles:\n  gone:\n    environment: local\n    url: http://127.0.0.1:{port}\n"
        "    merchant_id: m\n    public_key: p\n    private_key_env: GONE_KEY\n"
    )
    run = invoke("-p", "gone", "profiles", "check", code=6)
    assert "connection failed" in run.stderr and run.stderr.count("retrying") == 3


def test_profiles_check_against_a_served_sandbox(invoke, sandbox) -> None:
    [row] = invoke("profiles", "check").json()
    assert (row["profile"], row["ok"], row["merchant_id"]) == ("test", True, sandbox.merchant.id)


# --- replies: paycli's decoder on paycli's gateway objects only -------------------------------------------


class _Peer:
    """A loopback peer that answers every request with one fixed XML reply (what a hostile or odd gateway
    could send); paycli and a plain SDK gateway both talk to it."""

    def __init__(self, body: str) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        reply = body.encode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Type", "application/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_POST = do_PUT = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _find_reply(running: Any, txn_id: str) -> str:
    """The sandbox's raw reply to GET /transactions/ID, as the SDK's own transport receives it."""
    from braintree.util.http import Http

    bodies: list[str] = []

    class Recording(Http):
        def http_do(self, *args: Any) -> Any:
            status, body = super().http_do(*args)
            bodies.append(body)
            return status, body

    sdk = harness.merchant_gateway(running.url, MERCHANT, http_strategy=Recording)
    sdk.transaction.find(txn_id)
    return bodies[-1]


@pytest.fixture
def find_reply(faulty) -> str:
    running = faulty("")
    sale = gateway_for(running).sale(
        {"amount": Decimal("12.50"), "payment_method_nonce": "fake-valid-nonce", "order_id": "ORD-1"}
    )
    return _find_reply(running, sale.id)


def _plain_sdk(sdk_for: Any, url: str) -> Any:
    return sdk_for(url, MERCHANT.id, MERCHANT.public_key, MERCHANT.private_key)


def test_a_reply_declaring_entities_is_refused_by_paycli_and_parsed_by_a_plain_sdk_gateway(find_reply, sdk_for) -> None:
    """paycli decodes with its own decoder, which refuses a document type; a braintree gateway built next to
    paycli's in the same process still uses the SDK's parser (which expands the entity)."""
    xml_declaration, _, rest = find_reply.partition("\n")
    hostile = f'{xml_declaration}\n<!DOCTYPE transaction [<!ENTITY who "from-the-dtd">]>\n' + rest.replace(
        "<order-id>ORD-1</order-id>", "<order-id>&who;</order-id>"
    )
    peer = _Peer(hostile)
    try:
        gateway = connect(profile_for(peer.url))
        plain = _plain_sdk(sdk_for, peer.url)
        for call in (lambda: gateway.find("abc"), lambda: gateway.fetch_page(TransactionQuery(), ["abc"])):
            with pytest.raises(Unavailable, match="document type"):
                call()
        assert plain.transaction.find("abc").order_id == "from-the-dtd"
    finally:
        peer.stop()


def test_a_reply_the_decoder_leaves_alone_goes_through_the_sdk_parser(find_reply) -> None:
    """A comment (minidom keeps it as a node of its own) is handed to the SDK's parser: same transaction."""
    commented = find_reply.replace("<order-id>ORD-1</order-id>", "<!-- note --><order-id>ORD-1</order-id>")
    assert commented != find_reply
    peer = _Peer(commented)
    try:
        found = connect(profile_for(peer.url)).find("abc")
        assert (found.order_id, found.amount) == ("ORD-1", Decimal("12.50"))
    finally:
        peer.stop()


def test_an_unreadable_reply_is_unavailable_not_a_crash() -> None:
    peer = _Peer("<transaction><id>abc</transaction>")
    try:
        with pytest.raises(Unavailable, match="unreadable reply"):
            connect(profile_for(peer.url)).find("abc")
    finally:
        peer.stop()


def test_importing_and_using_paycli_leaves_the_sdk_unchanged(faulty, sdk_for) -> None:
    import braintree
    from braintree.util.http import Http
    from braintree.util.xml_util import XmlUtil

    running = faulty("")
    gateway_for(running).generate_client_token()
    plain = _plain_sdk(sdk_for, running.url)
    assert type(plain.config) is braintree.Configuration and type(plain.config.http()) is Http
    assert Http._make_request.__module__ == "braintree.util.http"
    assert XmlUtil.dict_from_xml.__module__ == "braintree.util.xml_util"


def test_the_sdk_internals_paycli_relies_on_keep_their_shape() -> None:
    """If one of these fails after a braintree upgrade, paycli/gateway/transport.py (the reply seam) needs
    another look."""
    import inspect

    import braintree
    from braintree.resource_collection import ResourceCollection
    from braintree.util.http import Http

    # _DecodingHttp overrides _make_request and calls it with the same arguments
    assert list(inspect.signature(Http._make_request).parameters) == [
        "self",
        "http_verb",
        "path",
        "content_type",
        "params",
        "files",
        "header_overrides",
    ]
    # the transport overrides http_do and returns [status, body]
    assert list(inspect.signature(Http.http_do).parameters) == ["self", "http_verb", "path", "headers", "request_body"]
    # every SDK gateway asks the configuration for its Http: Configuration.http() is the seam
    source = inspect.getsource(braintree.transaction_gateway.TransactionGateway)
    assert "self.config.http()" in source
    # _make_request answers an empty body with {} after raising for the status, without parsing it
    steps = inspect.getsource(Http._make_request)
    assert (
        steps.index("raise_exception_from_status")
        < steps.index("len(response_body.strip()) == 0")
        < steps.index("XmlUtil.dict_from_xml")
    )
    # the Configuration keyword the transport is given through, and the strategy's constructor
    assert "http_strategy(self, self.environment)" in inspect.getsource(braintree.Configuration.__init__)
    # the search: ids from the collection, pages unpacked with the SDK's own helper
    assert isinstance(inspect.getattr_static(ResourceCollection, "ids"), property)
    assert list(inspect.signature(ResourceCollection).parameters) == ["query", "results", "method"]
    assert ResourceCollection._extract_as_array({"transaction": {"id": "a"}}, "transaction") == [{"id": "a"}]
    assert ResourceCollection._extract_as_array({"transaction": [{"id": "a"}, {"id": "b"}]}, "transaction") == [
        {"id": "a"},
        {"id": "b"},
    ]
    assert ResourceCollection._extract_as_array({}, "transaction") == []
