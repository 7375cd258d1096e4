"""How much faster is `paycli settlement export` than the naive SDK loop, and does its memory stay flat?

Targets:
- speed: on 5,000 settled transactions behind 250 ms of latency per request, the export is at least 6x
  faster than `for t in gateway.transaction.search(...)` (one search, then one page after another, the SDK's
  own XML parser), and within 1.5x of the latency floor for its own concurrency: its sequential round trips
  (summaries, id searches) plus its pages divided by the pages it keeps in flight, times the latency, plus
  the time a process takes to start and import what the export needs;
- memory: the export's peak RSS at 100,000 transactions is within 30 MB of its peak at 10,000.

Both measure `python -m paycli settlement export --date D -o out.csv` end to end in a child process, as cron
runs it (interpreter start, reconciliation with the summary included; its --verbose request log gives the
round trips); the naive loop runs in this process over the same sandbox, in the same run. The sandbox is
served by `paycli sandbox serve` in a process of its own, so its CPU and memory are not the export's. Peak
memory is the child's ru_maxrss, from os.wait4. The run also times paycli's reply decoder against the SDK's
parser on the pages the naive loop received (CPU ms per transaction, same pages, same run).

Transactions are cloned from one real settled sale straight into the sandbox's SQLite store (through HTTP,
100,000 sales would take minutes), spread evenly over one settlement day.

    python bench/export.py [--count 5000] [--latency 250] [--memory-counts 10000 100000]

Takes several minutes on two cores, most of it seeding and exporting the 100,000 transactions.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from paycli import settlement

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # tests/harness.py
import harness

SPEED_TARGET = 6.0
FLOOR_TARGET = 1.5
DECODER_SAMPLE_PAGES = 10  # pages timed with both parsers: the SDK's takes ~0.1 s each
MEMORY_TARGET_MB = 30.0
DAY = date(2026, 1, 15)  # a past settlement day: the template sale itself settles today and stays out


def _merchant(name: str):  # -> paycli.sandbox.store.Merchant
    from paycli.sandbox.store import Merchant

    return Merchant(name, f"{name}_public", f"{name}_private", {f"{name}_usd": "USD"})


def seed(db: Path, merchant_id: str, count: int) -> None:
    """`count` settled sales on DAY for `merchant_id`, cloned from one real sale made through the SDK."""
    from paycli import sandbox

    merchant = _merchant(merchant_id)
    running = sandbox.start(db, [merchant])
    try:
        sdk = harness.merchant_gateway(running.url, merchant)
        sale = sdk.transaction.sale(
            {"amount": "1.00", "payment_method_nonce": "fake-valid-nonce", "options": {"submit_for_settlement": True}}
        ).transaction
        sdk.testing.settle_transaction(sale.id)
        store = running.store
        template = store.transaction(store.read(), merchant.id, sale.id)
    finally:
        running.stop()

    from paycli.sandbox.store import Store

    store = Store(db)
    start = datetime.combine(DAY, clock_time.min, timezone.utc)
    step = 86_400 / count
    batch = f"{DAY.isoformat()}_{template['merchant_account_id']}"
    with store.write() as conn:
        for index in range(count):
            doc = copy.deepcopy(template)
            settled = start + timedelta(seconds=int(index * step))
            created = settled - timedelta(hours=6)
            doc.update(
                id=f"{merchant_id[:2]}{index:07d}",
                amount=f"{index % 500 + 1}.00",
                order_id=f"order-{index}",
                created_at=_stamp(created),
                updated_at=_stamp(settled),
                settled_at=_stamp(settled),
                submitted_for_settlement_at=_stamp(created),
                settlement_batch_id=batch,
                global_id=None,
            )
            for event, moment in zip(doc["status_history"], (created, created, settled), strict=True):
                event.update(timestamp=_stamp(moment), amount=doc["amount"])
            store.insert_transaction(conn, merchant.id, doc)
    store.close()


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(db: Path, merchant_ids: list[str], latency_ms: int, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "paycli",
        "sandbox",
        "serve",
        "--db",
        str(db),
        "--port",
        str(port),
        "--latency",
        str(latency_ms),
    ]
    for merchant_id in merchant_ids:
        merchant = _merchant(merchant_id)
        cmd += ["--merchant", f"{merchant.id}:{merchant.public_key}:{merchant.private_key}:{merchant_id}_usd=USD"]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"paycli sandbox serve exited with {server.returncode}") from None
            time.sleep(0.05)
    server.kill()
    raise SystemExit("paycli sandbox serve did not start within 30 s")


def write_config(path: Path, url: str, merchant_ids: list[str]) -> None:
    lines = ["profiles:"]
    for merchant_id in merchant_ids:
        merchant = _merchant(merchant_id)
        lines += [
            f"  {merchant_id}:",
            "    environment: local",
            f"    url: {url}",
            f"    merchant_id: {merchant.id}",
            f"    public_key: {merchant.public_key}",
            f"    private_key: {merchant.private_key}",
        ]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process so far (Linux: /proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_export(profile: str, out: Path, env: dict[str, str]) -> tuple[float, float, int, list[str], float]:
    """(seconds, peak RSS in MB, rows, request log lines, CPU seconds) of one `paycli settlement export` child."""
    cmd = [
        sys.executable,
        "-m",
        "paycli",
        "-v",
        "-p",
        profile,
        "settlement",
        "export",
        "--date",
        DAY.isoformat(),
        "-o",
        str(out),
    ]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: the child never blocks on a full pipe
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        errors.seek(0)
        stderr = errors.read().decode()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"export for {profile} exited {child.returncode}: {stderr}")
    rows = sum(1 for _ in out.open()) - 1
    requests = [line for line in stderr.splitlines() if "/merchants/" in line]
    cpu_s = usage.ru_utime + usage.ru_stime
    return elapsed, usage.ru_maxrss / 1024, rows, requests, cpu_s  # ru_maxrss is in kB on Linux


def process_start(env: dict[str, str]) -> float:
    """Seconds for an interpreter to start and import what the export needs (the best of three)."""
    cmd = [sys.executable, "-c", "import paycli.cli.app, paycli.cli.settlement, paycli.gateway, paycli.settlement"]
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(cmd, env=env, check=True)
        best = min(best, time.perf_counter() - started)
    return best


def latency_floor(requests: list[str], in_flight: int, latency_s: float, start_s: float) -> tuple[float, str]:
    """The export's wall time if only latency and process start cost anything: its search pages overlap
    `in_flight` at a time, everything else (summaries, id searches) waits for the answer before it."""
    pages = sum(1 for line in requests if "/transactions/advanced_search " in line)
    sequential = len(requests) - pages
    rounds = sequential + math.ceil(pages / in_flight)
    return rounds * latency_s + start_s, f"{sequential} sequential + {pages} pages / {in_flight} in flight"


def decoder_vs_sdk(pages: list[str]) -> tuple[float, float, int]:
    """CPU ms per transaction of the SDK's parser and of paycli's decoder on the same pages."""
    from braintree.util.xml_util import XmlUtil

    from paycli.gateway.transport import decode_reply

    transactions = sum(page.count("<transaction>") for page in pages)
    timings = []
    for parse in (XmlUtil.dict_from_xml, decode_reply):
        started = time.process_time()
        for page in pages:
            parse(page)
        timings.append((time.process_time() - started) * 1000 / transactions)
    return timings[0], timings[1], transactions


def naive_loop(url: str, merchant_id: str) -> tuple[float, float, set[str], list[str]]:
    """The loop a user would write: the SDK's own search iterator, one page after another, its own parser.

    Returns its wall time, the CPU time this process spent in it (the SDK's requests and decoding: the
    sandbox runs elsewhere), the ids, and the first pages' bodies as received (kept aside by the SDK's own
    transport hook, which changes nothing else).
    """
    import braintree
    from braintree.util.http import Http

    pages: list[str] = []

    class KeepingPages(Http):
        def http_do(self, http_verb: str, path: str, headers: Any, request_body: Any) -> Any:
            status, body = super().http_do(http_verb, path, headers, request_body)
            if path.endswith("/advanced_search") and len(pages) < DECODER_SAMPLE_PAGES:
                pages.append(body)
            return status, body

    gateway = harness.merchant_gateway(url, _merchant(merchant_id), http_strategy=KeepingPages)
    start = datetime.combine(DAY, clock_time.min)  # the SDK sends naive datetimes as UTC
    started, cpu = time.perf_counter(), time.process_time()
    ids = set()
    for t in gateway.transaction.search(
        braintree.TransactionSearch.settled_at.between(start, start + timedelta(days=1, seconds=-1))
    ):
        ids.add(t.id)
    return time.perf_counter() - started, time.process_time() - cpu, ids, pages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="transactions for the speed comparison")
    parser.add_argument("--latency", type=int, default=250, help="ms added to every request")
    parser.add_argument("--memory-counts", type=int, nargs=2, default=(10_000, 100_000), metavar=("SMALL", "LARGE"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="paycli-bench-export-") as tmp:
        root = Path(tmp)
        env = {
            **os.environ,
            "XDG_STATE_HOME": str(root / "state"),
            "PAYCLI_CONFIG": str(root / "config.yaml"),
            "NO_PROXY": "127.0.0.1,localhost",
            "NO_COLOR": "1",
        }
        env.pop("PAYCLI_PROFILE", None)

        print(f"seeding {args.count} settled transactions ...", flush=True)
        seed(root / "speed.db", "speed", args.count)
        server, url = serve(root / "speed.db", ["speed"], args.latency, env)
        try:
            write_config(root / "config.yaml", url, ["speed"])
            start_s = process_start(env)
            server_cpu_s = cpu_seconds(server.pid)
            export_s, _, rows, requests, export_cpu_s = run_export("speed", root / "speed.csv", env)
            server_cpu_s = cpu_seconds(server.pid) - server_cpu_s
            naive_s, sdk_cpu_s, naive_ids, pages = naive_loop(url, "speed")
        finally:
            server.terminate()
            server.wait()
        exported = {line.split(",")[1] for line in (root / "speed.csv").read_text().splitlines()[1:]}
        if rows != args.count or exported != naive_ids:
            raise SystemExit(f"exports disagree: paycli {rows} rows, naive loop {len(naive_ids)} transactions")
        ratio = naive_s / export_s
        in_flight = settlement.DEFAULT_WORKERS
        floor_s, rounds = latency_floor(requests, in_flight, args.latency / 1000, start_s)
        print(f"{args.count} transactions, {args.latency} ms latency per request:")
        print(f"  naive SDK loop           {naive_s:8.2f} s")
        print(
            f"  paycli settlement export {export_s:8.2f} s   (process start and reconciliation included; "
            f"{export_cpu_s:.2f} s of CPU)"
        )
        verdict = "ok" if ratio >= SPEED_TARGET else "UNDER TARGET"
        print(f"  ratio {ratio:.1f}x (target >= {SPEED_TARGET:.0f}x): {verdict}")
        verdict = "ok" if export_s <= FLOOR_TARGET * floor_s else "OVER TARGET"
        print(
            f"  latency floor {floor_s:.2f} s ({rounds}, x {args.latency} ms, + {start_s:.2f} s process start): "
            f"export at {export_s / floor_s:.2f}x of it (target <= {FLOOR_TARGET}x): {verdict}"
        )
        sdk_ms, decoder_ms, sampled = decoder_vs_sdk(pages)
        print(
            f"  reply decoding, CPU per transaction on {sampled} of the same transactions: SDK parser "
            f"{sdk_ms:.2f} ms, paycli decoder {decoder_ms:.2f} ms ({sdk_ms / decoder_ms:.1f}x less)"
        )
        print(
            f"  the naive loop's CPU time: {sdk_cpu_s:.2f} s ({sdk_cpu_s / args.count * 1000:.2f} ms per "
            f"transaction); the sandbox's serving the export: {server_cpu_s:.2f} s; "
            f"{len(os.sched_getaffinity(0))} cores, shared with whatever else runs"
        )

        small, large = args.memory_counts
        print(f"seeding {small} and {large} settled transactions ...", flush=True)
        seed(root / "memory.db", "small", small)
        seed(root / "memory.db", "large", large)
        server, url = serve(root / "memory.db", ["small", "large"], 0, env)
        try:
            write_config(root / "config.yaml", url, ["small", "large"])
            peaks = {}
            for profile, count in (("small", small), ("large", large)):
                seconds, peak_mb, rows, _, _ = run_export(profile, root / f"{profile}.csv", env)
                if rows != count:
                    raise SystemExit(f"export of {profile} has {rows} rows, expected {count}")
                peaks[profile] = peak_mb
                print(f"  export of {count:>7} transactions: {seconds:6.1f} s, peak RSS {peak_mb:6.1f} MB")
        finally:
            server.terminate()
            server.wait()
        apart = peaks["large"] - peaks["small"]
        verdict = "ok" if apart < MEMORY_TARGET_MB else "OVER TARGET"
        print(f"  peak memory {apart:+.1f} MB apart (target < {MEMORY_TARGET_MB:.0f} MB): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
