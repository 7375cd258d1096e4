"""`paycli settlement summary|export` through the real SDK and the sandbox: dates, shapes, completeness,
reconciliation and the cron guarantees (atomic file, lock, byte-identical reruns).

Transactions are settled under freezegun at chosen instants; every server here runs in this process, so the
frozen clock decides their settled_at and batch date too.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import harness
import pytest
from freezegun import freeze_time

from paycli import sandbox as sandbox_pkg
from paycli.cli.views import SETTLEMENT_EXPORT_COLUMNS
from paycli.formats import Format
from paycli.sandbox.store import Merchant

# 14:00Z on 1 March 2026 is 09:00 in New York (EST): batch date 2026-03-01 there and in UTC
MARCH_1 = datetime(2026, 3, 1, 14, 0, tzinfo=timezone.utc)


@dataclass
class Account:
    """A merchant on an in-process sandbox, its profile in the config file, and an SDK gateway to arrange state."""

    name: str
    merchant: Merchant
    sdk: Any
    server: Any

    @property
    def usd(self) -> str:
        return f"{self.merchant.id}_usd"

    @property
    def eur(self) -> str:
        return f"{self.merchant.id}_eur"

    def sale(self, amount: str = "10.00", *, settle: bool = True, **params: Any) -> str:
        result = self.sdk.transaction.sale(
            {
                "amount": amount,
                "payment_method_nonce": "fake-valid-nonce",
                "options": {"submit_for_settlement": True},
                **params,
            }
        )
        assert result.is_success, result.message
        if settle:
            assert self.sdk.testing.settle_transaction(result.transaction.id).is_success
        return result.transaction.id

    def refund(self, sale_id: str, amount: str | None = None) -> str:
        credit = self.sdk.transaction.refund(sale_id, amount).transaction
        assert self.sdk.testing.settle_transaction(credit.id).is_success
        return credit.id


@dataclass
class Accounts:
    """`accounts.add(name, timezone=…, server=…, search_cap=…)`: one more profile in the config file."""

    shared_sandbox: Any
    write_config: Callable[..., Path]
    monkeypatch: pytest.MonkeyPatch
    sdk_for: Callable[..., Any]
    blocks: list[str] = field(default_factory=list)

    def add(
        self,
        name: str = "test",
        *,
        timezone: str = "UTC",
        server: Any = None,
        search_cap: int | None = None,
        key: str | None = None,
    ) -> Account:
        server = server or self.shared_sandbox
        merchant = harness.new_merchant(timezone=timezone)
        usd, eur = merchant.accounts
        server.store.put_merchant(merchant)
        variable = f"PAYCLI_KEY_{name.upper().replace('-', '_')}"
        self.monkeypatch.setenv(variable, key or merchant.private_key)
        block = (
            f"  {name}:\n    environment: local\n    url: {server.url}\n    merchant_id: {merchant.id}\n"
            f"    public_key: {merchant.public_key}\n    private_key_env: {variable}\n    timezone: {timezone}\n"
            f"    merchant_accounts: {{USD: {usd}, EUR: {eur}}}\n"
        )
        if search_cap is not None:
            block += f"    search_cap: {search_cap}\n"
        self.blocks.append(block)
        first = self.blocks[0].split(":")[0].strip()
        self.write_config(f"default_profile: {first}\nprofiles:\n" + "".join(self.blocks))
        sdk = self.sdk_for(server.url, merchant.id, merchant.public_key, merchant.private_key)
        return Account(name, merchant, sdk, server)


@pytest.fixture
def accounts(shared_sandbox, write_config, monkeypatch, sdk_for) -> Accounts:
    return Accounts(shared_sandbox, write_config, monkeypatch, sdk_for)


@pytest.fixture
def small_cap(tmp_path: Path) -> Iterator[Any]:
    """A server of its own whose searches return at most 5 ids, as Braintree's return at most 50,000."""
    running = sandbox_pkg.start(tmp_path / "capped.db", merchants=[], search_cap=5)
    yield running
    running.stop()


def settle_at(account: Account, moments: list[datetime], amount: str = "10.00") -> list[str]:
    ids = []
    with freeze_time(moments[0]) as clock:
        for moment in moments:
            clock.move_to(moment)
            ids.append(account.sale(amount))
    return ids


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def gateway(profile: str = "test") -> Any:
    """paycli's own gateway for a profile of the config file, for tests of the domain functions."""
    from paycli.config import load_profiles
    from paycli.gateway import connect

    return connect(load_profiles(None, os.environ)[profile])


# defaults: yesterday in the profile's timezone -------------------------------------------------------------


def test_default_date_is_yesterday_in_the_profile_timezone_not_in_utc(invoke, accounts) -> None:
    ny = accounts.add(timezone="America/New_York")
    on_march_1 = settle_at(ny, [MARCH_1])
    settle_at(ny, [datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)])  # 2 March in New York

    # 04:30Z on 3 March: UTC's yesterday is 2 March, New York's (still 2 March, 23:30) is 1 March
    with freeze_time("2026-03-03T04:30:00Z"):
        summary = invoke("settlement", "summary").json()
        rows = invoke("settlement", "export").json()

    assert summary["date"] == "2026-03-01"
    assert [(r["kind"], r["count"], r["amount_settled"]) for r in summary["records"]] == [("sale", 1, "10.00")]
    assert [r["id"] for r in rows] == on_march_1


def test_default_date_follows_a_daylight_saving_change(invoke, accounts) -> None:
    ny = accounts.add(timezone="America/New_York")
    # 8 March 2026 starts EDT in New York: the day runs 05:00Z to 04:00Z next day, 23 hours
    before, first, last, after = settle_at(
        ny,
        [
            datetime(2026, 3, 8, 4, 59, 59, tzinfo=timezone.utc),  # 7 March, 23:59:59 EST
            datetime(2026, 3, 8, 5, 0, 0, tzinfo=timezone.utc),  # 8 March, 00:00 EST
            datetime(2026, 3, 9, 3, 59, 59, tzinfo=timezone.utc),  # 8 March, 23:59:59 EDT
            datetime(2026, 3, 9, 4, 0, 0, tzinfo=timezone.utc),  # 9 March, 00:00 EDT
        ],
    )

    # 04:30Z on 9 March is 00:30 EDT, so yesterday is 8 March (a fixed -05:00 would make it 7 March)
    with freeze_time("2026-03-09T04:30:00Z"):
        rows = invoke("settlement", "export").json()
        summary = invoke("settlement", "summary").json()

    assert [r["id"] for r in rows] == [first, last]
    assert {r["settlement_batch_id"][:10] for r in rows} == {"2026-03-08"}
    assert summary["date"] == "2026-03-08" and summary["totals"][0]["sales_count"] == 2
    assert before not in {r["id"] for r in rows} and after not in {r["id"] for r in rows}


# the summary -----------------------------------------------------------------------------------------------


def test_summary_totals_sales_credits_and_net_per_merchant_account(invoke, accounts) -> None:
    acct = accounts.add()
    with freeze_time(MARCH_1):
        sale = acct.sale("30.00")
        acct.sale("12.50")
        acct.sale("7.00", merchant_account_id=acct.eur)
        acct.refund(sale, "5.00")
        acct.sale("99.00", settle=False)  # submitted, not settled: not in the batch

    summary = invoke("settlement", "summary", "--date", "2026-03-01").json()

    assert (summary["date"], summary["profile"]) == ("2026-03-01", "test")
    assert summary["records"] == [
        {
            "merchant_account_id": acct.eur,
            "card_type": "Visa",
            "kind": "sale",
            "count": 1,
            "amount_settled": "7.00",
            "currency": "EUR",
        },
        {
            "merchant_account_id": acct.usd,
            "card_type": "Visa",
            "kind": "credit",
            "count": 1,
            "amount_settled": "5.00",
            "currency": "USD",
        },
        {
            "merchant_account_id": acct.usd,
            "card_type": "Visa",
            "kind": "sale",
            "count": 2,
            "amount_settled": "42.50",
            "currency": "USD",
        },
    ]
    assert summary["totals"] == [  # per account, each in its own currency: EUR and USD are never added up
        {
            "merchant_account_id": acct.eur,
            "sales_count": 1,
            "sales_amount": "7.00",
            "credits_count": 0,
            "credits_amount": "0.00",
            "net_amount": "7.00",
            "currency": "EUR",
        },
        {
            "merchant_account_id": acct.usd,
            "sales_count": 2,
            "sales_amount": "42.50",
            "credits_count": 1,
            "credits_amount": "5.00",
            "net_amount": "37.50",
            "currency": "USD",
        },
    ]


def test_summary_groups_by_a_custom_field(invoke, accounts) -> None:
    acct = accounts.add()
    with freeze_time(MARCH_1):
        acct.sale("1.00", custom_fields={"store_me": "north"})
        acct.sale("2.00", custom_fields={"store_me": "north"})
        acct.sale("4.00", custom_fields={"store_me": "south"})

    grouped = invoke("settlement", "summary", "--date", "2026-03-01", "--group-by-custom-field", "store_me").json()
    text = invoke(
        "settlement", "summary", "--date", "2026-03-01", "--group-by-custom-field", "store_me", "-f", "csv"
    ).stdout

    assert grouped["group_by_custom_field"] == "store_me"
    assert [(r["store_me"], r["count"], r["amount_settled"]) for r in grouped["records"]] == [
        ("north", 2, "3.00"),
        ("south", 1, "4.00"),
    ]
    assert grouped["totals"][0]["sales_amount"] == "7.00"  # totals sum across the field's values
    assert (
        text.splitlines()[0] == "date,profile,merchant_account_id,card_type,kind,count,amount_settled,currency,store_me"
    )
    assert [r["store_me"] for r in csv_rows(text)] == ["north", "south"]


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv", "table"])
def test_summary_in_every_format(invoke, accounts, fmt: str) -> None:
    acct = accounts.add()
    with freeze_time(MARCH_1):
        acct.sale("10.00")

    out = invoke("settlement", "summary", "--date", "2026-03-01", "-f", fmt).stdout

    if fmt == "json":
        assert set(json.loads(out)) >= {"date", "profile", "records", "totals"}
    elif fmt == "ndjson":
        [line] = out.splitlines()
        assert json.loads(line)["records"][0]["amount_settled"] == "10.00"
    elif fmt == "csv":
        assert csv_rows(out) == [
            {
                "date": "2026-03-01",
                "profile": "test",
                "merchant_account_id": acct.usd,
                "card_type": "Visa",
                "kind": "sale",
                "count": "1",
                "amount_settled": "10.00",
                "currency": "USD",
            }
        ]
    else:
        assert "2026-03-01" in out and "net_amount" in out and acct.usd in out and "{" not in out


def test_summary_of_a_day_without_settlements_is_empty(invoke, accounts) -> None:
    accounts.add()
    summary = invoke("settlement", "summary", "--date", "2001-01-01").json()
    assert (summary["records"], summary["totals"]) == ([], [])


# the export: shape, order, formats ---------------------------------------------------------------------------


def test_export_rows_have_the_design_columns_sorted_by_settled_at_then_id(invoke, accounts) -> None:
    acct = accounts.add()
    with freeze_time(MARCH_1) as clock:
        same_second = [acct.sale("1.00") for _ in range(3)]
        clock.tick(60)
        later = acct.sale("2.00", order_id="o-7", customer={"email": "ann@example.com"})
        clock.move_to(MARCH_1 - timedelta(hours=1))
        earliest = acct.sale("3.00", merchant_account_id=acct.eur)
        clock.move_to(MARCH_1 + timedelta(hours=2))
        credit = acct.refund(later, "0.50")

    text = invoke("settlement", "export", "--date", "2026-03-01", "-f", "csv").stdout
    rows = csv_rows(text)

    assert tuple(text.splitlines()[0].split(",")) == SETTLEMENT_EXPORT_COLUMNS
    assert [r["id"] for r in rows] == [earliest, *sorted(same_second), later, credit]
    assert rows[-2] == {
        "profile": "test",
        "id": later,
        "type": "sale",
        "status": "settled",
        "amount": "2.00",
        "currency": "USD",
        "merchant_account_id": acct.usd,
        "order_id": "o-7",
        "card_type": "Visa",
        "last_4": "1881",
        "customer_email": "ann@example.com",
        "created_at": "2026-03-01T14:01:00Z",
        "settled_at": "2026-03-01T14:01:00Z",
        "settlement_batch_id": f"2026-03-01_{acct.usd}",
        "refunded_transaction_id": "",
    }
    assert (rows[-1]["type"], rows[-1]["amount"], rows[-1]["refunded_transaction_id"]) == ("credit", "0.50", later)
    assert rows[0]["currency"] == "EUR"


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv", "table"])
def test_export_in_every_format(invoke, accounts, fmt: str) -> None:
    acct = accounts.add()
    with freeze_time(MARCH_1):
        ids = sorted(acct.sale(amount) for amount in ("1.00", "2.00"))

    out = invoke("settlement", "export", "--date", "2026-03-01", "-f", fmt).stdout

    if fmt == "json":
        assert [r["id"] for r in json.loads(out)] == ids
        assert list(json.loads(out)[0]) == list(SETTLEMENT_EXPORT_COLUMNS)
    elif fmt == "ndjson":
        assert [json.loads(line)["id"] for line in out.splitlines()] == ids
    elif fmt == "csv":
        assert [r["id"] for r in csv_rows(out)] == ids
    else:
        assert all(txn_id in out for txn_id in ids) and "settlement_batch_id" in out


def test_export_excludes_unsettled_declined_and_other_days(invoke, accounts) -> None:
    acct = accounts.add()
    with freeze_time(MARCH_1) as clock:
        kept = acct.sale("10.00")
        acct.sale("11.00", settle=False)
        declined = acct.sdk.transaction.sale(
            {
                "amount": "4001.00",
                "payment_method_nonce": "fake-valid-nonce",
                "options": {"submit_for_settlement": True},
            }
        ).transaction
        assert acct.sdk.testing.settle_transaction(declined.id).transaction.status == "settlement_declined"
        clock.tick(timedelta(days=1))
        acct.sale("12.00")

    assert [r["id"] for r in invoke("settlement", "export", "--date", "2026-03-01").json()] == [kept]


def test_export_of_a_date_range_reconciles_each_date(invoke, accounts, tmp_path: Path) -> None:
    acct = accounts.add()
    ids = settle_at(acct, [MARCH_1, MARCH_1 + timedelta(days=1), MARCH_1 + timedelta(days=2)])

    run = invoke("settlement", "export", "--from", "2026-03-01", "--to", "2026-03-02", "-o", tmp_path / "{date}.csv")

    rows = csv_rows((tmp_path / "2026-03-01_2026-03-02.csv").read_text())
    assert [r["id"] for r in rows] == ids[:2] and run.stdout == ""


# completeness: the search cap -----------------------------------------------------------------------------------


def test_capped_windows_are_split_until_the_export_is_complete(invoke, accounts, small_cap) -> None:
    from paycli import settlement

    acct = accounts.add(server=small_cap, search_cap=5)
    spread = settle_at(acct, [MARCH_1 + timedelta(minutes=7 * i) for i in range(14)])
    with freeze_time(MARCH_1 + timedelta(hours=5)):  # one second, told apart by amount only
        burst = [acct.sale(f"{i}.25") for i in range(1, 9)]

    rows = invoke("settlement", "export", "--date", "2026-03-01").json()

    assert [r["id"] for r in rows] == spread + sorted(burst)
    job = settlement.export(gateway(), [date(2026, 3, 1)])
    assert len(list(job)) == 22 and job.searches > 8 and job.reconcile() == []


def test_a_day_bigger_than_a_window_is_searched_in_parts_sized_by_its_summary(accounts) -> None:
    from paycli import settlement

    acct = accounts.add()
    spread = settle_at(acct, [MARCH_1 + timedelta(minutes=20 * i) for i in range(22)])
    whole = settlement.export(gateway(), [date(2026, 3, 1)])
    parts = settlement.export(gateway(), [date(2026, 3, 1)], window_ids=5)

    assert [row.id for row in parts] == [row.id for row in whole] == spread
    assert whole.searches == 1
    assert parts.searches == 2 + 5  # the two margins, and the day in five parts of about five each
    assert parts.reconcile() == whole.reconcile() == []


@pytest.mark.parametrize("expected", [0, 1, 10_000, 10_001, 99_999, 10**9])
def test_first_windows_cover_the_widened_day_once(expected: int) -> None:
    from paycli.settlement import SEARCH_MARGIN, _first_windows

    first, last = 1_772_323_200, 1_772_323_200 + 23 * 3600 - 1  # a 23-hour day (spring forward)
    windows = _first_windows(first, last, expected, 10_000)

    margin = int(SEARCH_MARGIN.total_seconds())
    assert windows[0].low == first - margin and windows[-1].high == last + margin
    assert all(w.low <= w.high for w in windows)
    assert all(a.high + 1 == b.low for a, b in zip(windows, windows[1:]))  # no gap, no overlap
    assert len(windows) == (1 if expected <= 10_000 else 2 + min(-(-expected // 10_000), last - first + 1))


def test_a_profile_cap_above_the_gateway_cap_is_caught_by_reconciliation(invoke, accounts, small_cap, tmp_path) -> None:
    acct = accounts.add(server=small_cap, search_cap=50000)  # the gateway silently stops at 5
    settle_at(acct, [MARCH_1 + timedelta(minutes=i) for i in range(8)])
    out = tmp_path / "out.csv"

    run = invoke("settlement", "export", "--date", "2026-03-01", "-o", out, "-f", "csv", code=7)

    assert len(csv_rows(out.read_text())) == 5  # written, and marked untrustworthy by the exit code
    assert "does not reconcile" in run.stderr and "export 5 for 50.00, summary 8 for 80.00" in run.stderr
    assert run.stderr.count("\n") == 1


def test_same_second_same_amount_beyond_the_cap_is_reported_not_hidden(invoke, accounts, small_cap) -> None:
    acct = accounts.add(server=small_cap, search_cap=5)
    with freeze_time(MARCH_1):
        for _ in range(6):
            acct.sale("10.00")

    run = invoke("settlement", "export", "--date", "2026-03-01", code=7)

    assert "cannot be told apart by time or amount" in run.stderr and "does not reconcile" in run.stderr
    assert len(run.json()) == 5


# reconciliation -----------------------------------------------------------------------------------------------


def test_a_transaction_settling_during_the_export_is_a_mismatch(accounts) -> None:
    from paycli import settlement
    from paycli.models import Mismatch

    acct = accounts.add()
    with freeze_time(MARCH_1):
        acct.sale("10.00")
        job = settlement.export(gateway(), [date(2026, 3, 1)])
        rows = list(job)
        acct.sale("2.50")  # settles after the rows were read, before the summary is asked for
        mismatches = job.reconcile()

    assert len(rows) == 1
    assert mismatches == [Mismatch(date(2026, 3, 1), acct.usd, "sale", 2, Decimal("12.50"), 1, Decimal("10.00"))]


def test_reconcile_before_reading_the_rows_is_refused(accounts) -> None:
    from paycli import settlement

    accounts.add()
    job = settlement.export(gateway(), [date(2026, 3, 1)])
    with pytest.raises(RuntimeError):
        job.reconcile()


def test_a_mismatch_prints_an_error_document_for_scripts(invoke, accounts, small_cap, tmp_path) -> None:
    acct = accounts.add(server=small_cap, search_cap=50000)
    settle_at(acct, [MARCH_1 + timedelta(minutes=i) for i in range(6)])

    run = invoke("settlement", "export", "--date", "2026-03-01", "-o", tmp_path / "x.json", code=7)

    error = run.json()["error"]
    assert error["type"] == "partial" and error["profile"] == "test"
    assert error["mismatches"] == [
        {
            "date": "2026-03-01",
            "merchant_account_id": acct.usd,
            "kind": "sale",
            "summary_count": 6,
            "summary_amount": "60.00",
            "export_count": 5,
            "export_amount": "50.00",
        }
    ]


# --all-profiles ---------------------------------------------------------------------------------------------------


def test_all_profiles_write_each_file_and_exit_7_when_one_fails(invoke, accounts, tmp_path) -> None:
    alpha, beta = accounts.add("alpha"), accounts.add("beta", timezone="America/New_York")
    accounts.add("broken", key="not-the-key")
    with freeze_time(MARCH_1):
        a, b = alpha.sale("1.00"), beta.sale("2.00")

    with freeze_time("2026-03-02T12:00:00Z"):
        run = invoke("settlement", "export", "--all-profiles", "-o", tmp_path / "{profile}-{date}.csv", code=7)

    assert [r["id"] for r in csv_rows((tmp_path / "alpha-2026-03-01.csv").read_text())] == [a]
    assert [(r["profile"], r["id"]) for r in csv_rows((tmp_path / "beta-2026-03-01.csv").read_text())] == [("beta", b)]
    assert not list(tmp_path.glob("broken*"))
    assert "failed for 1 of 3 profiles (broken)" in run.stderr and "authentication failed" in run.stderr


def test_all_profiles_into_one_stream_tag_each_row_and_record(invoke, accounts) -> None:
    alpha, beta = accounts.add("alpha"), accounts.add("beta")
    with freeze_time(MARCH_1):
        alpha.sale("1.00")
        beta.sale("2.00")
        beta.sale("3.00")

    rows = invoke("settlement", "export", "--all-profiles", "--date", "2026-03-01").json()
    report = invoke("settlement", "summary", "--all-profiles", "--date", "2026-03-01").json()
    lines = invoke("settlement", "summary", "--all-profiles", "--date", "2026-03-01", "-f", "ndjson").ndjson()

    assert [r["profile"] for r in rows] == ["alpha", "beta", "beta"]
    assert (report["date"], report["profiles"], report["errors"]) == ("2026-03-01", ["alpha", "beta"], [])
    assert [(r["profile"], r["count"]) for r in report["records"]] == [("alpha", 1), ("beta", 2)]
    assert [line["profile"] for line in lines] == ["alpha", "beta"]
    assert lines[1]["records"][0]["profile"] == "beta"


def test_all_profiles_summary_reports_the_failed_profile_in_the_document(invoke, accounts) -> None:
    accounts.add("alpha")
    accounts.add("broken", key="not-the-key")

    run = invoke("settlement", "summary", "--all-profiles", "--date", "2026-03-01", code=7)

    assert run.json()["profiles"] == ["alpha"]
    assert [(e["profile"], e["type"]) for e in run.json()["errors"]] == [("broken", "config")]


def _profiles_export(names: list[str], keep_going: bool = True) -> tuple[Any, Any]:
    """Several profiles' exports into one file, called as the domain is: no CLI."""
    from paycli import settlement
    from paycli.config import load_profiles
    from paycli.export_targets import Target
    from paycli.gateway import connect
    from paycli.profile_runs import ProfileRuns

    profiles = load_profiles(None, os.environ)
    runs = ProfileRuns(keep_going=keep_going)
    targets = [Target(profiles[name], (date(2026, 3, 1),), None) for name in names]
    return settlement.ProfilesExport(targets, connect, runs), runs


def test_several_profiles_rows_come_profile_after_profile_and_a_failure_adds_none(accounts) -> None:
    alpha, beta = accounts.add("alpha"), accounts.add("beta")
    accounts.add("broken", key="not-the-key")
    with freeze_time(MARCH_1):
        a, b = alpha.sale("1.00"), beta.sale("2.00")
        export, runs = _profiles_export(["alpha", "broken", "beta"])
        rows = [(row.profile, row.id) for row in export.rows()]
        reconciled = export.reconcile(Path("out.csv"))

    assert rows == [("alpha", a), ("beta", b)]
    assert [name for name, _ in runs.failures] == ["broken"] and not export.all_failed()
    assert [job.profile for job in export.jobs] == ["alpha", "beta"]
    assert reconciled is True  # what is in the file adds up; "broken" is told as a failure of its own


def test_when_every_profile_of_a_file_fails_there_is_nothing_to_write(accounts) -> None:
    accounts.add("broken", key="not-the-key")
    accounts.add("worse", key="not-the-key-either")

    export, runs = _profiles_export(["broken", "worse"])

    assert list(export.rows()) == [] and export.all_failed()
    assert [name for name, _ in runs.failures] == ["broken", "worse"]


def test_with_one_profile_its_export_error_is_raised(accounts) -> None:
    from paycli.errors import ConfigError

    accounts.add("broken", key="not-the-key")
    export, runs = _profiles_export(["broken"], keep_going=False)

    with pytest.raises(ConfigError, match="authentication failed"):
        list(export.rows())


def test_an_export_to_files_leaves_the_runs_output_as_it_was(accounts, tmp_path) -> None:
    from paycli.cli import settlement as settlement_cli
    from paycli.cli.runtime import Invocation
    from paycli.output import Terminal

    alpha, beta = accounts.add("alpha"), accounts.add("beta")
    with freeze_time(MARCH_1):
        alpha.sale("1.00")
        beta.sale("2.00")
    template = tmp_path / "{profile}-{date}.csv"
    run = Invocation(output=template, terminal=Terminal(stdin=False, stdout=False, stderr=False)).activate()
    output, seen = run.output, []
    connect = run.gateway_for

    def connecting(profile: Any, **options: Any) -> Any:  # while each profile's file is being written
        seen.append((run.output.path, run.output.fmt))
        return connect(profile, **options)

    run.gateway_for = connecting  # type: ignore[method-assign]
    try:
        settlement_cli.export(day="2026-03-01", all_profiles=True)
    finally:
        run.close()

    assert run.output is output and (output.path, output.explicit_format) == (template, None)
    assert seen == [(template, Format.csv), (template, Format.csv)]
    assert [r["profile"] for r in csv_rows((tmp_path / "beta-2026-03-01.csv").read_text())] == ["beta"]


# cron guarantees ----------------------------------------------------------------------------------------------------


def test_reruns_write_byte_identical_files_whatever_the_concurrency(invoke, accounts, tmp_path) -> None:
    acct = accounts.add()
    with freeze_time(MARCH_1) as clock:
        for i in range(60):
            acct.sale(f"{i % 7 + 1}.00")
            if i % 9 == 0:
                clock.tick(1)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"

    invoke("settlement", "export", "--date", "2026-03-01", "-o", first)
    invoke("settlement", "export", "--date", "2026-03-01", "-o", second, "--concurrency", "1")

    assert first.read_bytes() == second.read_bytes() and len(csv_rows(first.read_text())) == 60


def test_rows_spilled_to_disk_come_back_in_the_same_order(accounts) -> None:
    from paycli import settlement

    acct = accounts.add()
    with freeze_time(MARCH_1) as clock:
        for i in range(25):
            acct.sale("1.00")
            clock.tick(i % 3)
    in_memory = list(settlement.export(gateway(), [date(2026, 3, 1)]))
    spilled = list(settlement.export(gateway(), [date(2026, 3, 1)], sort_run_rows=4, workers=3))

    assert spilled == in_memory and len(in_memory) == 25
    assert [(r.settled_at, r.id) for r in in_memory] == sorted((r.settled_at, r.id) for r in in_memory)


def test_a_second_run_on_the_same_file_exits_6_and_leaves_it_alone(invoke, accounts, tmp_path, isolated_env) -> None:
    from paycli import locks
    from paycli.config import state_dir

    accounts.add()
    out = tmp_path / "out.csv"
    out.write_text("previous night\n")

    with locks.exclusive(out, state_dir(os.environ)):
        run = invoke("settlement", "export", "--date", "2026-03-01", "-o", out, code=6)
    invoke("settlement", "export", "--date", "2026-03-01", "-o", out)

    assert f"another paycli run (pid {os.getpid()}) is writing {out}" in run.stderr
    assert run.stderr.count("\n") == 1
    assert out.read_text().startswith("profile,id,")
    assert not list(out.parent.glob("*.lock"))  # locks live in the state directory, not beside the file


@pytest.mark.slow  # a paycli process killed mid-export
def test_a_run_killed_midway_leaves_the_previous_file_whole(accounts, tmp_path) -> None:
    running = sandbox_pkg.start(tmp_path / "slow.db", merchants=[], latency_ms=400)
    try:
        acct = accounts.add(server=running)
        fast = sandbox_pkg.start(tmp_path / "slow.db", merchants=[])  # the same state, without the latency
        try:
            settle = accounts.sdk_for(fast.url, acct.merchant.id, acct.merchant.public_key, acct.merchant.private_key)
            with freeze_time(MARCH_1):
                for _ in range(60):
                    txn = settle.transaction.sale(
                        {
                            "amount": "5.00",
                            "payment_method_nonce": "fake-valid-nonce",
                            "options": {"submit_for_settlement": True},
                        }
                    ).transaction
                    settle.testing.settle_transaction(txn.id)
        finally:
            fast.stop()
        out = tmp_path / "out.csv"
        out.write_text("previous night\n")
        cmd = [
            sys.executable,
            "-m",
            "paycli",
            "settlement",
            "export",
            "--date",
            "2026-03-01",
            "-o",
            str(out),
            "--concurrency",
            "1",
        ]
        child = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "NO_PROXY": "127.0.0.1"}
        )
        deadline = time.monotonic() + 20
        while not list(tmp_path.glob(".out.csv.*.tmp")) and time.monotonic() < deadline:
            assert child.poll() is None, child.communicate()
            time.sleep(0.02)
        time.sleep(0.5)  # well inside the search and the 2 page fetches, 400 ms each, one at a time
        assert child.poll() is None, "the export finished before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        running.stop()

    assert out.read_text() == "previous night\n"


# bad input ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "--date", "2026-02-30"], "--date '2026-02-30' is not a calendar date"),
        (["export", "--date", "2026-03-01", "--from", "2026-03-01", "--to", "2026-03-02"], "not both"),
        (["export", "--from", "2026-03-01"], "--from and --to go together"),
        (["export", "--from", "2026-03-02", "--to", "2026-03-01"], "--from 2026-03-02 is after --to 2026-03-01"),
        (["export", "-o", "{day}.csv"], "unknown placeholder {day}"),
        (["export", "-o", "{date.csv"], "unbalanced braces"),
        (["summary", "--group-by-custom-field", "a b"], "is not a custom field name"),
        (["summary", "--group-by-custom-field", "kind"], "would hide the record's own 'kind'"),
        (["summary", "--date", "last week"], "--date 'last week' is not a date"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(invoke, accounts, args: list[str], message: str) -> None:
    accounts.add()
    run = invoke("settlement", *args, code=2)
    assert message in run.stderr and run.stderr.count("\n") == 1


def test_profile_and_all_profiles_together_exit_2(invoke, accounts) -> None:
    accounts.add()
    assert "not both" in invoke("-p", "test", "settlement", "summary", "--all-profiles", code=2).stderr


def test_progress_bar_shows_on_a_terminal(invoke, accounts, tty) -> None:
    acct = accounts.add()
    with freeze_time(MARCH_1):
        acct.sale()

    on_terminal = invoke("settlement", "export", "--date", "2026-03-01")

    assert "Exporting test" in on_terminal.stderr and acct.usd in on_terminal.stdout


def test_no_progress_or_colour_when_piped(invoke, accounts) -> None:
    acct = accounts.add()
    with freeze_time(MARCH_1):
        acct.sale()
    run = invoke("settlement", "export", "--date", "2026-03-01", "-f", "csv")
    assert run.stderr == "" and "\x1b" not in run.stdout


# the export's searches --------------------------------------------------------------------------------------------


def test_a_days_search_is_narrowed_to_its_settlement_batch(accounts) -> None:
    import braintree

    from paycli.models import TransactionQuery

    acct = accounts.add()
    with freeze_time(MARCH_1):
        sale = acct.sale("30.00")
        credit = acct.refund(sale, "5.00")
        acct.sdk.transaction.sale(
            {
                "amount": "8.00",
                "payment_method_nonce": "fake-paypal-one-time-nonce",
                "options": {"submit_for_settlement": True},
            }
        )
    by_sdk = acct.sdk.transaction.search(braintree.TransactionSearch.settlement_batch_id.starts_with("2026-03-01_"))
    settled = gateway().search_ids(TransactionQuery(settlement_batch_id_prefix="2026-03-01_"))
    assert settled == by_sdk.ids == [sale, credit]  # the PayPal sale is settling: no batch yet


def test_page_fetch_errors_are_paycli_errors(accounts) -> None:
    from paycli.errors import ConfigError
    from paycli.models import TransactionQuery

    accounts.add(key="not-the-key")
    with pytest.raises(ConfigError, match="authentication failed"):
        gateway().fetch_page(TransactionQuery(), ["abc"])


def test_the_built_in_profile_knows_its_sandbox_accounts_currencies(invoke) -> None:
    """The built-in `local` profile's summary says each record's currency (the summary itself does not)."""
    from paycli import sandbox
    from paycli.config import BUILTIN_MERCHANT_ACCOUNTS

    assert {account: currency for currency, account in BUILTIN_MERCHANT_ACCOUNTS.items()} == dict(
        sandbox.local_merchant().accounts
    )
    sale = invoke("-f", "json", "checkout", "--amount", "10.00")
    invoke("sandbox", "settle", json.loads(sale.stdout)["id"])
    summary = json.loads(invoke("-f", "json", "settlement", "summary", "--date", "today").stdout)
    assert [(r["merchant_account_id"], r["currency"]) for r in summary["records"]] == [("local_usd", "USD")]
