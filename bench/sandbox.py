"""Benchmark: `transaction.find` through the braintree SDK against paycli's sandbox vs a bare server.

Both servers run in their own process: the sandbox through `paycli.sandbox.start`, and a stdlib
HTTP/1.1 server (TCP_NODELAY) that answers every GET with the very bytes the sandbox returned for
one transaction. The same SDK client code calls each, after a warm-up, in alternating rounds; the
median rate per server is reported with the ratio sandbox/bare (target >= 0.70).

    python bench/sandbox.py [--calls N] [--rounds R]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import multiprocessing as mp
import os
import socket
import statistics
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests"))  # tests/harness.py

MERCHANT, PUBLIC_KEY, PRIVATE_KEY = "bench_merchant", "bench_public", "bench_private"


def _serve_sandbox(db_path: str, ports: mp.Queue[int]) -> None:
    from paycli import sandbox
    from paycli.sandbox.store import Merchant

    running = sandbox.start(db_path, [Merchant(MERCHANT, PUBLIC_KEY, PRIVATE_KEY, {"bench_usd": "USD"})])
    ports.put(running.port)
    while True:
        time.sleep(3600)


def _serve_bare(body: bytes, ports: mp.Queue[int]) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ports.put(server.server_address[1])
    server.serve_forever()


def _start(target, *args) -> tuple[mp.Process, int]:
    ports: mp.Queue[int] = mp.Queue()
    process = mp.Process(target=target, args=(*args, ports), daemon=True)
    process.start()
    return process, ports.get(timeout=30)


def _gateway(port: int):
    import harness

    return harness.sdk_gateway(f"http://127.0.0.1:{port}", MERCHANT, PUBLIC_KEY, PRIVATE_KEY)


def _rate(gateway, txn_id: str, calls: int) -> float:
    find = gateway.transaction.find
    started = time.perf_counter()
    for _ in range(calls):
        find(txn_id)
    return calls / (time.perf_counter() - started)


def _raw_rate(port: int, txn_id: str, calls: int) -> float:
    """The server alone: keep-alive GETs with no SDK parsing on the client side."""
    auth = base64.b64encode(f"{PUBLIC_KEY}:{PRIVATE_KEY}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "Accept": "application/xml", "X-ApiVersion": "6"}
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    path = f"/merchants/{MERCHANT}/transactions/{txn_id}"
    started = time.perf_counter()
    for _ in range(calls):
        conn.request("GET", path, headers=headers)
        conn.getresponse().read()
    elapsed = time.perf_counter() - started
    conn.close()
    return calls / elapsed


def _raw_find(port: int, txn_id: str) -> bytes:
    auth = base64.b64encode(f"{PUBLIC_KEY}:{PRIVATE_KEY}".encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request(
        "GET",
        f"/merchants/{MERCHANT}/transactions/{txn_id}",
        headers={"Authorization": f"Basic {auth}", "Accept": "application/xml", "X-ApiVersion": "6"},
    )
    body = conn.getresponse().read()
    conn.close()
    return body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="finds per round and server")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

    with tempfile.TemporaryDirectory() as tmp:
        sandbox_proc, sandbox_port = _start(_serve_sandbox, os.path.join(tmp, "bench.db"))
        try:
            sandbox_gw = _gateway(sandbox_port)
            result = sandbox_gw.transaction.sale(
                {
                    "amount": "10.00",
                    "payment_method_nonce": "fake-valid-nonce",
                    "order_id": "bench-1",
                    "options": {"submit_for_settlement": True},
                }
            )
            txn_id = result.transaction.id
            canned = _raw_find(sandbox_port, txn_id)
            bare_proc, bare_port = _start(_serve_bare, canned)
            try:
                bare_gw = _gateway(bare_port)
                assert bare_gw.transaction.find(txn_id).id == txn_id
                for gateway in (sandbox_gw, bare_gw):  # warm-up: connections, caches, code paths
                    _rate(gateway, txn_id, max(100, args.calls // 5))
                rates: dict[str, list[float]] = {"sandbox": [], "bare": []}
                for _ in range(args.rounds):
                    rates["sandbox"].append(_rate(sandbox_gw, txn_id, args.calls))
                    rates["bare"].append(_rate(bare_gw, txn_id, args.calls))
                raw = {
                    name: statistics.median(_raw_rate(port, txn_id, args.calls) for _ in range(3))
                    for name, port in (("sandbox", sandbox_port), ("bare", bare_port))
                }
            finally:
                bare_proc.terminate()
        finally:
            sandbox_proc.terminate()

    sandbox_rate, bare_rate = statistics.median(rates["sandbox"]), statistics.median(rates["bare"])
    ratio = sandbox_rate / bare_rate
    print(f"transaction.find, {args.rounds} rounds x {args.calls} calls, {len(canned)} byte response")
    print(f"  sandbox  {sandbox_rate:8.0f} finds/s  (rounds: {', '.join(f'{r:.0f}' for r in rates['sandbox'])})")
    print(f"  bare     {bare_rate:8.0f} finds/s  (rounds: {', '.join(f'{r:.0f}' for r in rates['bare'])})")
    print(f"  ratio    {ratio:8.2f}  (target >= 0.70: {'met' if ratio >= 0.70 else 'MISSED'})")
    print(
        f"raw HTTP (no SDK parsing): sandbox {raw['sandbox']:.0f}/s, bare {raw['bare']:.0f}/s, "
        f"ratio {raw['sandbox'] / raw['bare']:.2f}"
    )
    return 0 if ratio >= 0.70 else 1


if __name__ == "__main__":
    sys.exit(main())
