"""Team-safe money: several paycli processes ("agents") on one PostgreSQL journal and one gateway.

Each agent is a separate `python -m paycli` process, as on separate machines; the gateway is one sandbox
with latency, so their calls really overlap. Every test checks the money through the SDK: the gateway's
credits must equal the journal's `done` entries.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import harness
import pytest

from paycli import sandbox as offline
from paycli.journal import Journal
from paycli.sandbox.store import Merchant

MERCHANT = Merchant("team", "team_pub", "team_priv", {"team_usd": "USD"})


class Team:
    """A served sandbox (with latency) and a config every agent shares; `agent()` starts one paycli process."""

    def __init__(
        self, tmp_path: Path, journal_url: str, sdk_for: Any, latency_ms: int, faults: str | None = None
    ) -> None:
        self.tmp = tmp_path
        self.journal_url = journal_url
        # two servers over one store: a quick one to arrange and check, a slow one the agents talk to
        self.steady = offline.start(tmp_path / "gateway.db", [MERCHANT])
        self.gateway = offline.start(tmp_path / "gateway.db", [MERCHANT], latency_ms=latency_ms, faults=faults)
        self.sdk = sdk_for(self.steady.url, MERCHANT.id, MERCHANT.public_key, MERCHANT.private_key)
        self.config = tmp_path / "team.yaml"
        self.config.write_text(
            f"journal: {journal_url}\ndefault_profile: team\nprofiles:\n  team:\n"
            f"    environment: local\n    url: {self.gateway.url}\n    merchant_id: team\n"
            "    public_key: team_pub\n    private_key_env: TEAM_KEY\n"
        )

    def settled_sales(self, count: int, amount: str = "30.00") -> list[str]:
        return harness.settled_sales(self.sdk, count, amount)

    def agent(self, *args: str, name: str = "agent") -> subprocess.Popen[str]:
        home = self.tmp / name
        home.mkdir(exist_ok=True)
        env = {
            **os.environ,
            "TEAM_KEY": MERCHANT.private_key,
            "HOME": str(home),
            "XDG_STATE_HOME": str(home),
            "NO_PROXY": "127.0.0.1,localhost",
            "USER": name,
            "LOGNAME": name,
        }
        return subprocess.Popen(
            [sys.executable, "-m", "paycli", "--config", str(self.config), *args, "-f", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    def entries(self) -> list[Any]:
        journal = Journal(self.journal_url)
        try:
            return list(journal.entries())
        finally:
            journal.close()

    def credits(self, sale: str) -> list[Any]:
        return [self.sdk.transaction.find(credit) for credit in self.sdk.transaction.find(sale).refund_ids]

    def check_journal_equals_gateway(self, sales: list[str]) -> None:
        done = {
            (e.transaction_id, e.result_id, e.amount)
            for e in self.entries()
            if e.kind == "refund" and e.state == "done"
        }
        credits = {(sale, credit.id, credit.amount) for sale in sales for credit in self.credits(sale)}
        assert done == credits

    def stop(self) -> None:
        self.gateway.stop()
        self.steady.stop()


@pytest.fixture
def team(tmp_path: Path, postgres_url: str, sdk_for: Any) -> Iterator[Team]:
    both = Team(tmp_path, postgres_url, sdk_for, latency_ms=150)
    yield both
    both.stop()


def finish(agent: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    out, err = agent.communicate(timeout=timeout)
    return agent.returncode, out, err


def test_two_agents_refunding_the_same_sale_at_once_the_second_plans_from_fresh_data(team: Team) -> None:
    [sale] = team.settled_sales(1, "30.00")
    agents = [team.agent("refund", sale, "--amount", "20", name=name) for name in ("alice", "bob")]
    (code1, _, err1), (code2, _, err2) = (finish(agent) for agent in agents)
    assert sorted((code1, code2)) == [0, 3], (err1, err2)
    loser = err1 if code1 else err2
    # refused before any money call: the plan saw the 10.00 the winner left, not the stale 30.00
    assert "more than the 10.00 left" in loser
    [entry] = team.entries()  # the loser wrote no entry: it never called the gateway
    assert entry.state == "done"
    team.check_journal_equals_gateway([sale])


def test_the_repeat_guard_sees_a_colleagues_refund_and_names_who_and_when(team: Team) -> None:
    [sale] = team.settled_sales(1, "30.00")
    agents = [team.agent("refund", sale, "--amount", "10", name=name) for name in ("alice", "bob")]
    results = [finish(agent) for agent in agents]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results  # without the lock both would have refunded 10.00
    [(winner_code, _, _)] = [r for r in results if r[0] == 0]
    [(_, _, said)] = [r for r in results if r[0] == 2]
    [entry] = team.entries()
    assert f"by {entry.who}" in said and "--again" in said and entry.who.split("@")[0] in ("alice", "bob")
    assert len(team.credits(sale)) == 1
    team.check_journal_equals_gateway([sale])


def write_batch(path: Path, sales: list[str]) -> Path:
    path.write_text(
        "transaction_id,amount\n" + "".join(f"{sale},{'5.00' if i % 2 else ''}\n" for i, sale in enumerate(sales))
    )
    return path


def test_two_agents_running_the_same_batch_file_move_each_rows_money_once(team: Team) -> None:
    sales = team.settled_sales(16, "10.00")
    batch = write_batch(team.tmp / "rows.csv", sales)
    agents = [team.agent("batch-refund", str(batch), "--concurrency", "4", name=name) for name in ("alice", "bob")]
    outcomes = [finish(agent) for agent in agents]
    assert [code for code, _, _ in outcomes] == [0, 0], outcomes
    rows = [row for _, out, _ in outcomes for row in json.loads(out)]
    done = [row for row in rows if row["outcome"] == "done"]
    assert len(done) == len(sales) and {row["transaction_id"] for row in done} == set(sales)
    assert {row["outcome"] for row in rows} <= {"done", "already_done"}
    for sale in sales:
        assert len(team.credits(sale)) == 1, sale
    assert len([e for e in team.entries() if e.state == "done"]) == len(sales)
    team.check_journal_equals_gateway(sales)


def test_an_agent_killed_mid_batch_is_finished_by_another_nothing_twice_nothing_lost(team: Team) -> None:
    sales = team.settled_sales(24, "10.00")
    batch = write_batch(team.tmp / "rows.csv", sales)
    first = team.agent("batch-refund", str(batch), "--concurrency", "4", name="alice")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len([e for e in team.entries() if e.state == "done"]) < 6:
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=30)
    left_behind = [e for e in team.entries() if e.state != "done"]
    code, out, err = finish(team.agent("batch-refund", str(batch), "--concurrency", "4", name="bob"))
    assert code == 0, err
    rows = json.loads(out)
    assert {row["outcome"] for row in rows} <= {"done", "already_done"} and len(rows) == len(sales)
    for sale in sales:
        assert len(team.credits(sale)) == 1, sale
    entries = team.entries()
    assert len(entries) == len(sales) and {e.state for e in entries} == {"done"}  # resumed in place, closed
    assert {e.id for e in left_behind} <= {e.id for e in entries}
    team.check_journal_equals_gateway(sales)


def test_a_journal_lost_mid_batch_stops_taking_rows_and_a_rerun_finishes(team: Team, postgres_cluster: Any) -> None:
    import psycopg

    sales = team.settled_sales(24, "10.00")
    batch = write_batch(team.tmp / "rows.csv", sales)
    database = team.journal_url.rsplit("/", 1)[1]
    admin = psycopg.connect(postgres_cluster.url(), password=postgres_cluster.password, autocommit=True)
    agent = team.agent("batch-refund", str(batch), "--concurrency", "2", name="alice")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len([e for e in team.entries() if e.state == "done"]) < 4:
            time.sleep(0.05)
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))
        code, out, err = finish(agent)
    finally:
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        admin.close()
    assert code == 6, err
    assert "stopped taking rows" in err and "rerun the same file" in err
    assert "may have moved money without a record" in err or "no row moved money without a record" in err
    rows = json.loads(out)
    assert "skipped" in {row["outcome"] for row in rows}  # rows after the loss were not started
    assert len([row for row in rows if row["outcome"] == "done"]) < len(sales)

    code, out, err = finish(team.agent("batch-refund", str(batch), "--concurrency", "4", name="alice"))
    assert code == 0, err
    for sale in sales:
        assert len(team.credits(sale)) == 1, sale
    assert {e.state for e in team.entries()} == {"done"}
    team.check_journal_equals_gateway(sales)


def test_a_journal_lost_during_a_call_names_the_row_whose_money_moved(
    tmp_path: Path, postgres_url: str, postgres_cluster: Any, sdk_for: Any
) -> None:
    import psycopg

    team = Team(tmp_path, postgres_url, sdk_for, latency_ms=0, faults="refund=slow:1500@1")
    try:
        sales = team.settled_sales(3, "10.00")
        batch = write_batch(team.tmp / "rows.csv", sales)
        database = postgres_url.rsplit("/", 1)[1]
        admin = psycopg.connect(postgres_cluster.url(), password=postgres_cluster.password, autocommit=True)
        agent = team.agent("batch-refund", str(batch), "--concurrency", "1", name="alice")
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not [e for e in team.entries() if e.state == "pending"]:
                time.sleep(0.02)
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')  # the first refund is in flight
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))
            code, out, err = finish(agent)
        finally:
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            admin.close()
        assert code == 6, err
        assert "line 2 may have moved money without a record" in err and "went through" in err
        assert [row["outcome"] for row in json.loads(out)] == ["failed", "skipped", "skipped"]
        assert len(team.credits(sales[0])) == 1 and team.credits(sales[1]) == []  # it did move; the rest did not
        [pending] = team.entries()
        assert pending.state == "pending"

        code, out, err = finish(team.agent("batch-refund", str(batch), name="alice"))  # the journal is back
        assert code == 0, err
        assert [len(team.credits(sale)) for sale in sales] == [1, 1, 1]
        assert {e.state for e in team.entries()} == {"done"} and len(team.entries()) == 3
        team.check_journal_equals_gateway(sales)
    finally:
        team.stop()


def test_an_unreachable_journal_stops_a_batch_before_any_money_call(team: Team, tmp_path: Path) -> None:
    import socket

    sales = team.settled_sales(3, "10.00")
    batch = write_batch(team.tmp / "rows.csv", sales)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    team.config.write_text(
        team.config.read_text().replace(team.journal_url, f"postgresql://paycli@127.0.0.1:{closed}/payments")
    )
    code, _, err = finish(team.agent("batch-refund", str(batch), "--yes"))
    assert code == 6 and "unreachable" in err
    assert all(team.credits(sale) == [] for sale in sales)


def test_a_batch_row_whose_sale_a_colleague_touched_after_planning_is_planned_again(
    sandbox, postgres_url, tmp_path
) -> None:
    from paycli import batch_refunds
    from paycli.config import load_profiles
    from paycli.gateway import connect
    from paycli.journal import Context

    gateway = connect(load_profiles(None, os.environ)["test"])
    sale = sandbox.sale("30.00", settle=True)
    rows_file = tmp_path / "rows.csv"
    rows_file.write_text(f"transaction_id\n{sale}\n")  # everything left
    me, colleague = Journal(postgres_url), Journal(postgres_url)
    mine = Context("test", "local", sandbox.merchant.id, "alice", "desk-1")
    rows = batch_refunds.read_rows(rows_file)
    planned = batch_refunds.plan(gateway, me, mine, rows_file, rows)
    assert planned.items[0].plan.amount == 30  # from the lookup, before the colleague acted

    from paycli import refunds

    theirs = Context("test", "local", sandbox.merchant.id, "bob", "desk-2")
    refunds.execute(gateway, colleague, theirs, refunds.plan_refund(gateway, sale, amount=Decimal("10")))
    [result] = batch_refunds.execute(gateway, me, mine, planned)
    # planned again under the lock from the gateway's fresh answer: 20.00 left, not the stale 30.00
    assert (result.outcome, result.amount) == ("done", 20)
    assert sorted(
        c.amount for c in (sandbox.sdk.transaction.find(i) for i in sandbox.sdk.transaction.find(sale).refund_ids)
    ) == [10, 20]
    me.close(), colleague.close()
