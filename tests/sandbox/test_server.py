"""The HTTP layer: Basic auth, merchant isolation, hostile bodies, keep-alive and the loopback default."""

from __future__ import annotations

import base64
import http.client
from dataclasses import replace

import braintree
import pytest
from gateway_calls import gateway_for, new_merchant, sale


def raw_connection(running) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)


def auth_headers(merchant) -> dict[str, str]:
    credentials = base64.b64encode(f"{merchant.public_key}:{merchant.private_key}".encode()).decode()
    return {
        "Authorization": f"Basic {credentials}",
        "Content-Type": "application/xml",
        "Accept": "application/xml",
        "X-ApiVersion": "6",
    }


def post(running, merchant, path: str, body: bytes) -> tuple[int, bytes]:
    conn = raw_connection(running)
    try:
        conn.request("POST", f"/merchants/{merchant.id}/{path}", body=body, headers=auth_headers(merchant))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_wrong_private_key_is_an_authentication_error(shared_sandbox, merchant) -> None:
    gateway = gateway_for(shared_sandbox, merchant, private_key="wrong")

    with pytest.raises(braintree.exceptions.AuthenticationError):
        sale(gateway)


def test_keys_of_one_merchant_do_not_open_another(shared_sandbox, merchant) -> None:
    other = new_merchant()
    shared_sandbox.store.put_merchant(other)
    gateway = gateway_for(shared_sandbox, replace(merchant, id=other.id))

    with pytest.raises(braintree.exceptions.AuthenticationError):
        gateway.transaction.find("anything")


def test_unknown_merchant_is_an_authentication_error(shared_sandbox) -> None:
    with pytest.raises(braintree.exceptions.AuthenticationError):
        sale(gateway_for(shared_sandbox, new_merchant()))


def test_missing_authorization_is_401(shared_sandbox, merchant) -> None:
    conn = raw_connection(shared_sandbox)
    conn.request("GET", f"/merchants/{merchant.id}/transactions/abc123")

    assert conn.getresponse().status == 401
    conn.close()


def test_another_merchants_transaction_is_not_found(gateway, shared_sandbox) -> None:
    mine = sale(gateway, submit=True).transaction.id
    other = new_merchant()
    shared_sandbox.store.put_merchant(other)
    theirs = gateway_for(shared_sandbox, other)

    with pytest.raises(braintree.exceptions.NotFoundError):
        theirs.transaction.find(mine)
    with pytest.raises(braintree.exceptions.NotFoundError):
        theirs.transaction.void(mine)
    assert gateway.transaction.find(mine).status == "submitted_for_settlement"


@pytest.mark.parametrize(
    "body",
    [
        b"<transaction><amount>10.00</amount>",
        b"not xml at all",
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        b"<transaction><amount>&b;</amount></transaction>",
        b'<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><transaction><order_id>&x;</order_id></transaction>',
    ],
)
def test_malformed_or_dtd_bodies_are_400_and_the_server_keeps_serving(gateway, shared_sandbox, merchant, body) -> None:
    status, _ = post(shared_sandbox, merchant, "transactions", body)

    assert status == 400
    assert sale(gateway).is_success


def test_body_over_one_mebibyte_is_413_without_reading_it(gateway, shared_sandbox, merchant) -> None:
    conn = raw_connection(shared_sandbox)
    conn.putrequest("POST", f"/merchants/{merchant.id}/transactions")
    for name, value in auth_headers(merchant).items():
        conn.putheader(name, value)
    conn.putheader("Content-Length", str((1 << 20) + 1))
    conn.endheaders()

    assert conn.getresponse().status == 413
    conn.close()
    assert sale(gateway).is_success


def test_body_of_exactly_one_mebibyte_is_accepted(shared_sandbox, merchant) -> None:
    head = b"<transaction><amount>10.00</amount><type>sale</type>"
    tail = b"<payment_method_nonce>fake-valid-nonce</payment_method_nonce></transaction>"
    body = head + b" " * ((1 << 20) - len(head) - len(tail)) + tail

    status, _ = post(shared_sandbox, merchant, "transactions", body)

    assert len(body) == 1 << 20
    assert status == 201


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/merchants/{id}/nothing_here"),
        ("GET", "/"),
        ("POST", "/merchants/{id}/transactions/abc/explode"),
        ("DELETE", "/merchants/{id}/transactions/abc"),
    ],
)
def test_unknown_paths_are_404(shared_sandbox, merchant, method, path) -> None:
    conn = raw_connection(shared_sandbox)
    conn.request(method, path.format(id=merchant.id), headers=auth_headers(merchant))

    assert conn.getresponse().status == 404
    conn.close()


def test_several_requests_share_one_keep_alive_connection(gateway, shared_sandbox, merchant) -> None:
    txn_id = sale(gateway).transaction.id
    conn = raw_connection(shared_sandbox)
    local_ports = []
    for _ in range(3):
        conn.request("GET", f"/merchants/{merchant.id}/transactions/{txn_id}", headers=auth_headers(merchant))
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type", "").startswith("application/xml")
        assert int(response.getheader("Content-Length")) == len(response.read())
        assert not response.will_close
        local_ports.append(conn.sock.getsockname()[1])
    conn.close()

    assert len(set(local_ports)) == 1


def test_server_binds_loopback_by_default(shared_sandbox) -> None:
    assert shared_sandbox.server.server_address[0] == "127.0.0.1"
    assert shared_sandbox.url == f"http://127.0.0.1:{shared_sandbox.port}"


def test_a_request_cut_off_before_its_body_ends_changes_nothing(
    shared_sandbox, merchant, gateway, settled_sale
) -> None:
    """A client killed mid-send leaves a short body; read as empty it would be a keyless full refund."""
    import socket

    txn_id = settled_sale("10.00").id
    head = "".join(f"{name}: {value}\r\n" for name, value in auth_headers(merchant).items())
    with socket.create_connection(("127.0.0.1", shared_sandbox.port), timeout=10) as sock:
        sock.sendall(
            f"POST /merchants/{merchant.id}/transactions/{txn_id}/refund HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\n{head}Content-Length: 120\r\n\r\n".encode()
        )
        sock.shutdown(socket.SHUT_WR)  # the body never comes
        assert sock.recv(1024) == b""  # no answer: the connection is closed

    assert gateway.transaction.find(txn_id).refund_ids == []
