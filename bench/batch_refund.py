"""Batch refunds: `paycli batch-refund` vs a sequential SDK loop, against a sandbox with 100 ms latency.

    python bench/batch_refund.py [--rows 1000] [--latency 100] [--concurrency 4 16] [--faults "*=429@0.1"]
                                 [--no-baseline] [--journal sqlite postgresql] [--postgres URL]

Both sides refund the same number of settled sales on one served sandbox (a separate process, every
request delayed by --latency). The baseline is the loop a support engineer would write:
`for id in ids: gateway.transaction.refund(id)`. paycli does more per row (it looks each sale up first,
journals before and after the call) and still has to beat the loop by running rows concurrently.
Prints both times and the ratio for the default concurrency (target: >= 5x) and for each --concurrency
given, then a default run against the same server with --faults (429s): it must finish, with fewer rows
in flight (paycli's "slowing down" notes are counted). Takes about (rows x latency) for the baseline.

`--journal postgresql` adds a row per concurrency with the journal on PostgreSQL (a team's shared journal:
every row also takes its transaction's advisory lock and rechecks the team's entries), timed against the
SQLite journal in the same run (target: <= 1.2x). Without `--postgres URL` it starts a throwaway server
the way the test suite does (tests/pgcluster.py: Debian's postgresql package), with durable settings.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import braintree

from paycli import sandbox
from paycli.sandbox.store import Merchant

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # tests/harness.py, tests/pgcluster.py
import harness

MERCHANT = Merchant("bench", "bench_pub", "bench_priv", {"bench_usd": "USD"})


def sdk(url: str) -> braintree.BraintreeGateway:
    return harness.merchant_gateway(url, MERCHANT)


def settled_sales(gateway: braintree.BraintreeGateway, count: int) -> list[str]:
    def one(_: int) -> str:
        txn = gateway.transaction.sale(
            {"amount": "10.00", "payment_method_nonce": "fake-valid-nonce", "options": {"submit_for_settlement": True}}
        ).transaction
        gateway.testing.settle_transaction(txn.id)
        return txn.id

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--latency", type=int, default=100)
    parser.add_argument("--concurrency", type=int, nargs="*", default=[16])
    parser.add_argument("--faults", default="*=429@0.1", help="faults of the last run (empty: no such run)")
    parser.add_argument("--no-baseline", action="store_true", help="Skip the sequential SDK loop.")
    parser.add_argument("--journal", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite"])
    parser.add_argument("--postgres", metavar="URL", help="An empty database for the PostgreSQL journal.")
    args = parser.parse_args()
    # None: paycli's default concurrency
    runs = [(concurrency, journal) for concurrency in [None, *args.concurrency] for journal in args.journal]
    work = Path(tempfile.mkdtemp(prefix="paycli-bench-"))
    db = work / "sandbox.db"
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"

    # arrange without latency (same database), measure against the slow server
    setup = sandbox.start(db, [MERCHANT])
    batches = [settled_sales(sdk(setup.url), args.rows) for _ in range(1 + len(runs) + bool(args.faults))]
    setup.stop()
    cluster, postgres_url = None, args.postgres
    if "postgresql" in args.journal and postgres_url is None:
        from pgcluster import Cluster

        cluster = Cluster.start(fast=False)
        postgres_url = cluster.create_database("bench")
        os.environ["PGPASSWORD"] = cluster.password

    baseline: float | None = None
    try:
        server, url = serve(db, args.latency)
        try:
            if not args.no_baseline:
                loop = sdk(url)
                started = time.perf_counter()
                for txn_id in batches[0]:
                    assert loop.transaction.refund(txn_id).is_success
                baseline = time.perf_counter() - started
                print(f"sequential SDK loop: {args.rows} refunds in {baseline:.1f} s ({args.latency} ms latency)")
            sqlite_s: dict[int | None, float] = {}
            for (concurrency, journal), ids in zip(
                runs, batches[1:], strict=False
            ):  # the last batch is for the faults run
                journal_url = postgres_url if journal == "postgresql" else None
                elapsed = batch_refund(
                    work, url, ids, concurrency, journal_url, baseline, args.rows, sqlite_s.get(concurrency)
                )
                if journal == "sqlite":
                    sqlite_s[concurrency] = elapsed
        finally:
            server.terminate()
            server.wait(timeout=10)
        if args.faults:
            server, url = serve(db, args.latency, "--faults", args.faults, "--fault-seed", "7")
            try:
                print(f"with --faults {args.faults}:")
                batch_refund(work, url, batches[-1], None, None, baseline, args.rows)
            finally:
                server.terminate()
                server.wait(timeout=10)
    finally:
        if cluster is not None:
            cluster.stop()


def serve(db: Path, latency: int, *extra: str) -> tuple[subprocess.Popen, str]:
    return harness.serve_sandbox(
        db, "--latency", str(latency), "--merchant", "bench:bench_pub:bench_priv:bench_usd=USD", *extra
    )


def batch_refund(
    work: Path,
    url: str,
    ids: list[str],
    concurrency: int | None,
    journal_url: str | None,
    baseline: float | None,
    rows: int,
    sqlite_s: float | None = None,
) -> float:
    """One `paycli batch-refund` run; prints its line and returns its time."""
    config = work / "config.yaml"
    config.write_text(
        f"profiles:\n  bench:\n    environment: local\n    url: {url}\n    merchant_id: bench\n"
        "    public_key: bench_pub\n    private_key_env: BENCH_KEY\n"
    )
    env = {**os.environ, "BENCH_KEY": MERCHANT.private_key, "XDG_STATE_HOME": str(work / "state")}
    if journal_url is not None:
        env["PAYCLI_JOURNAL"] = journal_url
    journal = "postgresql" if journal_url else "sqlite"
    label = f"--concurrency {concurrency}" if concurrency else "default concurrency"
    path = work / f"rows-{ids[0]}.csv"
    path.write_text("transaction_id\n" + "\n".join(ids) + "\n")
    option = ["--concurrency", str(concurrency)] if concurrency else []
    started = time.perf_counter()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "paycli",
            "--config",
            str(config),
            "-p",
            "bench",
            "batch-refund",
            str(path),
            *option,
            "-f",
            "csv",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    elapsed = time.perf_counter() - started
    done = run.stdout.count(",done,")
    slowed = run.stderr.count("slowing down")
    line = (
        f"paycli batch-refund, {label}, {journal} journal: {done}/{rows} done in {elapsed:.1f} s "
        f"(exit {run.returncode})"
    )
    if baseline is not None:
        line += f"; {baseline / elapsed:.1f}x the sequential loop"
    if journal_url is not None and sqlite_s:
        line += f"; {elapsed / sqlite_s:.2f}x the SQLite journal's time (target <= 1.2x)"
    if slowed:
        line += f"; slowed down {slowed} times"
    print(line, flush=True)
    return elapsed


if __name__ == "__main__":
    main()
