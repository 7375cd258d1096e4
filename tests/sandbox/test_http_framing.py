"""Request framing and resource bounds, through raw sockets: a request is acted on only once it is read whole,
anything with doubtful framing is refused, idle connections are closed and connections are capped."""

from __future__ import annotations

import socket
import threading
import time
from decimal import Decimal

import pytest
from gateway_calls import gateway_for, new_merchant, sale
from test_server import auth_headers

from paycli.sandbox import server as sandbox_server
from paycli.sandbox.replies import Reply

REFUND = b"<transaction><amount>1.00</amount><api-request-key>k1</api-request-key></transaction>"


def head(merchant, method: str, path: str, *extra: str) -> bytes:
    lines = [
        f"{method} /merchants/{merchant.id}/{path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{name}: {value}" for name, value in auth_headers(merchant).items()),
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def exchange(running, data: bytes, *, timeout: float = 5) -> bytes:
    """Send raw bytes, half-close, and read the whole answer (b"" when the server just closes)."""
    with socket.create_connection(("127.0.0.1", running.port), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def chunked(body: bytes, size: int = 7) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def test_a_chunked_refund_refunds_the_amount_it_names_and_keeps_its_key(
    shared_sandbox, merchant, gateway, settled_sale
) -> None:
    txn_id = settled_sale("100.00").id
    request = head(merchant, "POST", f"transactions/{txn_id}/refund", "Transfer-Encoding: chunked")

    first = exchange(shared_sandbox, request + chunked(REFUND))
    replay = exchange(shared_sandbox, request + chunked(REFUND, size=3))

    assert status_of(first) == 201
    assert b"<amount>1.00</amount>" in first
    assert status_of(replay) == 201
    refunds = gateway.transaction.find(txn_id).refund_ids
    assert len(refunds) == 1  # the replay answered from the idempotency record
    assert gateway.transaction.find(refunds[0]).amount == Decimal("1.00")


def test_chunked_with_extensions_and_trailers_is_read_whole(shared_sandbox, merchant, settled_sale) -> None:
    txn_id = settled_sale("100.00").id
    body = b"%x;name=value\r\n%s\r\n0\r\nX-Trailer: yes\r\n\r\n" % (len(REFUND), REFUND)

    answer = exchange(
        shared_sandbox, head(merchant, "POST", f"transactions/{txn_id}/refund", "Transfer-Encoding: chunked") + body
    )

    assert status_of(answer) == 201
    assert b"<amount>1.00</amount>" in answer


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        (("Content-Length: -1",), REFUND, 400),
        (("Content-Length: abc",), REFUND, 400),
        (("Content-Length: ²",), REFUND, 400),
        (("Content-Length: 10", "Content-Length: 11"), REFUND, 400),
        ((f"Content-Length: {len(REFUND)}", "Transfer-Encoding: chunked"), chunked(REFUND), 400),
        (("Transfer-Encoding: gzip, chunked",), chunked(REFUND), 501),
        (("Transfer-Encoding: chunked",), b"zz\r\n" + REFUND + b"\r\n0\r\n\r\n", 400),
        (("Transfer-Encoding: chunked",), b"5\r\n" + REFUND + b"\r\n0\r\n\r\n", 400),  # data longer than its size
        (("Transfer-Encoding: chunked",), b"100001\r\n", 413),
    ],
    ids=[
        "length-negative",
        "length-text",
        "length-superscript",
        "two-lengths",
        "length-and-chunked",
        "unknown-coding",
        "bad-chunk-size",
        "chunk-overrun",
        "chunk-over-limit",
    ],
)
def test_doubtful_framing_is_refused_and_changes_nothing(
    shared_sandbox, merchant, gateway, settled_sale, headers, body, status
) -> None:
    txn_id = settled_sale("100.00").id

    answer = exchange(shared_sandbox, head(merchant, "POST", f"transactions/{txn_id}/refund", *headers) + body)

    assert status_of(answer) == status
    assert b"Connection: close" in answer
    assert gateway.transaction.find(txn_id).refund_ids == []
    assert sale(gateway).is_success


@pytest.mark.parametrize(
    "body",
    [b"%x\r\n<transaction><amount>1.00" % len(REFUND), b"%x\r\n%s\r\n" % (len(REFUND), REFUND), b""],
    ids=["mid-chunk", "before-last-chunk", "no-body"],
)
def test_a_chunked_body_cut_off_is_never_acted_on(shared_sandbox, merchant, gateway, settled_sale, body) -> None:
    txn_id = settled_sale("100.00").id

    answer = exchange(
        shared_sandbox, head(merchant, "POST", f"transactions/{txn_id}/refund", "Transfer-Encoding: chunked") + body
    )

    assert answer == b""
    assert gateway.transaction.find(txn_id).refund_ids == []


def test_an_idle_connection_is_closed_after_the_idle_timeout(start_sandbox) -> None:
    merchant = new_merchant()
    running = start_sandbox([merchant], idle_timeout=0.3)
    with socket.create_connection(("127.0.0.1", running.port), timeout=5) as sock:
        started = time.monotonic()
        assert sock.recv(1024) == b""  # closed by the server, long before the client's 5 s

        assert time.monotonic() - started < 3
    assert sale(gateway_for(running, merchant)).is_success


def test_connections_past_the_cap_get_503_and_threads_stay_bounded(start_sandbox) -> None:
    merchant = new_merchant()
    running = start_sandbox([merchant], max_connections=3, idle_timeout=60)
    before = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", running.port), timeout=5) for _ in range(3)]
    try:
        time.sleep(0.2)
        extra = [socket.create_connection(("127.0.0.1", running.port), timeout=5) for _ in range(20)]
        answers = []
        for sock in extra:
            answers.append(sock.recv(1024))
            sock.close()

        assert all(answer.startswith(b"HTTP/1.1 503 ") and b"Connection: close" in answer for answer in answers)
        assert threading.active_count() - before <= 3
    finally:
        for sock in idle:
            sock.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the idle connections' threads notice the close and free their slots
        try:
            if sale(gateway_for(running, merchant)).is_success:
                break
        except Exception:
            time.sleep(0.05)
    else:
        pytest.fail("the sandbox did not serve again after the idle connections closed")


def test_a_slow_client_does_not_block_others(shared_sandbox, merchant, gateway) -> None:
    with socket.create_connection(("127.0.0.1", shared_sandbox.port), timeout=5) as slow:
        slow.sendall(head(merchant, "POST", "transactions", "Content-Length: 200")[:40])  # and then nothing

        started = time.monotonic()
        assert sale(gateway).is_success
        assert time.monotonic() - started < 2


def test_an_unexpected_error_is_a_500_logged_with_its_route_and_traceback(start_sandbox, capfd) -> None:
    def explode(sandbox, merchant, params, args, base_url) -> Reply:
        raise RuntimeError("boom in the handler")

    merchant = new_merchant()
    running = start_sandbox([merchant])
    sandbox_server.add_routes(sandbox_server.merchant_route("GET", "paycli_test/explode", "testing", explode))
    try:
        answer = exchange(running, head(merchant, "GET", "paycli_test/explode"))
    finally:
        del sandbox_server.ROUTES[-1]

    assert status_of(answer) == 500
    err = capfd.readouterr().err
    assert f"500 on GET /merchants/{merchant.id}/paycli_test/explode (route testing)" in err
    assert "Traceback (most recent call last)" in err
    assert "RuntimeError: boom in the handler" in err
    assert merchant.private_key not in err
