"""Settlement reports: Braintree's batch summary for a date, and a transaction-level export reconciled with it.

A transaction belongs to settlement date D when its `settlement_batch_id` starts with `D_`: the batch date
in the merchant's timezone, which is also what the batch summary groups by.
The export searches `settled_at` over the profile's local day widened by `SEARCH_MARGIN`, narrowed on the
gateway to D's batch, so a cutoff or a profile timezone that differs from the gateway's loses nothing.

The export is built for cron on large days:
- complete: Braintree silently returns at most `search_cap` ids; a window that returns that many is halved
  and searched again until no window is capped;
- sized: the day's batch summary says how many transactions to expect, so a big day starts in windows of
  about `window_ids` ids: a search's ids arrive and are decoded in one piece (~110 bytes each while decoding,
  ~70 held), and a window known to exceed the cap is not searched only to be halved;
- fast: search pages are fetched concurrently (`workers` threads sharing the one gateway, whose SDK keeps a
  connection per thread), with the gateway's own backoff on 429/503;
- flat memory: only one window's ids, a bounded number of pages in flight and one sort run of rows are held;
  full runs are sorted and spilled to temporary files, then merged, so rows come out in (settled_at, id) order
  however they arrived and a rerun writes the same bytes;
- reconciled: per (date, merchant account, kind), the rows' counts and sums are compared with the summary.
"""

from __future__ import annotations

import heapq
import itertools
import math
import pickle
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from paycli import dates
from paycli.braintree_facts import IN_BATCH_STATUSES, SEARCH_PAGE_SIZE
from paycli.errors import PartialFailure
from paycli.export_targets import Target, is_file
from paycli.models import (
    ZERO,
    Mismatch,
    SettlementRecord,
    SettlementRow,
    SettlementSummary,
    SettlementTotal,
    Transaction,
    TransactionQuery,
)
from paycli.tuning import EXPORT_PAGES_IN_FLIGHT

if TYPE_CHECKING:
    from paycli.config import Profile
    from paycli.gateway import Gateway
    from paycli.profile_runs import ProfileRuns

DEFAULT_WORKERS = EXPORT_PAGES_IN_FLIGHT
PAGES_IN_FLIGHT_PER_WORKER = 2  # enough to keep every worker busy, few enough to bound memory
SORT_RUN_ROWS = 5_000  # rows sorted in memory before a run is spilled to disk (~1 kB each)
WINDOW_IDS = 25_000  # ids a first window is sized for, from the day's summary: half the usual cap, few searches
SEARCH_MARGIN = timedelta(days=1)  # covers any gap between a profile's timezone and the gateway's batch cutoff
FIRST_AMOUNT_SPLIT = 100_000  # thousandths: 100.00, where a same-second window first splits by amount
KINDS = ("sale", "credit")


class Progress(Protocol):
    """What the export moves forward (paycli.output.ProgressHandle fits); the domain never draws it."""

    def advance(self, steps: float = 1) -> None: ...

    def update(self, *, total: float | None = None, description: str | None = None) -> None: ...


# the summary ----------------------------------------------------------------------------------------------


def summary(gateway: Gateway, day: date, group_by_custom_field: str | None = None) -> SettlementSummary:
    """Braintree's settlement batch summary for `day`, with totals per merchant account, each in its currency."""
    currencies = {account: currency for currency, account in gateway.profile.merchant_accounts.items()}
    records = tuple(
        sorted(
            (
                replace(record, currency=currencies.get(record.merchant_account_id))
                for record in gateway.settlement_summary(day, group_by_custom_field)
            ),
            key=_record_order,
        )
    )
    return SettlementSummary(day, gateway.profile.name, records, group_by_custom_field, totals(records))


def _record_order(record: SettlementRecord) -> tuple[str, ...]:
    return (record.merchant_account_id, record.kind, record.card_type, record.custom_field or "")


def totals(records: Iterable[SettlementRecord]) -> tuple[SettlementTotal, ...]:
    """Sales, credits (refunds) and their net per merchant account and currency (an account settles in one
    currency, so this never adds currencies together); credits are positive amounts in the summary."""
    sums: dict[tuple[str, str], list] = {}
    for record in records:
        entry = sums.setdefault((record.merchant_account_id, record.currency or ""), [0, ZERO, 0, ZERO])
        offset = 0 if record.kind == "sale" else 2
        entry[offset] += record.count
        entry[offset + 1] += record.amount_settled
    return tuple(
        SettlementTotal(account, entry[0], entry[1], entry[2], entry[3], currency=currency or None)
        for (account, currency), entry in sorted(sums.items())
    )


# the export -----------------------------------------------------------------------------------------------


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def export(
    gateway: Gateway,
    days: Sequence[date],
    *,
    workers: int = DEFAULT_WORKERS,
    progress: Progress | None = None,
    sort_run_rows: int = SORT_RUN_ROWS,
    window_ids: int = WINDOW_IDS,
) -> SettlementExport:
    """Every sale and credit settled on `days`, as an iterable of rows; `.reconcile()` once it is consumed."""
    return SettlementExport(
        gateway, days, workers=workers, progress=progress, sort_run_rows=sort_run_rows, window_ids=window_ids
    )


class SettlementExport:
    """One profile's export: iterate it for the rows, then `reconcile()` them against the batch summaries.

    Rows come out only after every page is fetched (the order needs every settled_at), so a failure while
    fetching happens before the first row: a caller writing a file never writes part of a profile.
    """

    def __init__(
        self,
        gateway: Gateway,
        days: Sequence[date],
        *,
        workers: int = DEFAULT_WORKERS,
        progress: Progress | None = None,
        sort_run_rows: int = SORT_RUN_ROWS,
        window_ids: int = WINDOW_IDS,
    ) -> None:
        if min(workers, sort_run_rows, window_ids) < 1:
            raise ValueError("workers, sort_run_rows and window_ids must be at least 1")
        self.gateway = gateway
        self.profile = gateway.profile.name
        self.days = tuple(sorted(set(days)))
        self.workers = workers
        self.progress = progress
        self.sort_run_rows = sort_run_rows
        self.window_ids = window_ids
        # (date, merchant account, kind) → [count, amount] of the rows, for reconcile()
        self.tally: dict[tuple[date, str, str], list] = {}
        self.warnings: list[str] = []  # for the caller to show; e.g. a window that could not be split
        self.searches = 0
        self._found = 0
        self._complete = False

    def __iter__(self) -> Iterator[SettlementRow]:
        return self.rows()

    def rows(self) -> Iterator[SettlementRow]:
        self.tally.clear()
        self.warnings.clear()
        self.searches = self._found = 0
        self._complete = False
        with _RunSorter(self.sort_run_rows) as sorter:
            self._collect(sorter)
            self._complete = True
            yield from sorter.merged()

    def reconcile(self) -> list[Mismatch]:
        """Where the rows disagree with Braintree's summary; fetched now, after the rows, for each date."""
        if not self._complete:
            raise RuntimeError("reconcile() needs the export's rows to have been read first")
        summaries = {day: self.gateway.settlement_summary(day) for day in self.days}
        return reconcile(self.tally, summaries)

    # fetching -----------------------------------------------------------------------------------------

    def _collect(self, sorter: _RunSorter) -> None:
        with ThreadPoolExecutor(self.workers, thread_name_prefix="paycli-export") as pool:
            for day, asked, page in self._fetched(pool):
                batch = f"{day.isoformat()}_"
                for txn in page:
                    row = _row(self.profile, txn)
                    # the gateway filtered by batch already; a row of another date would break reconciliation
                    if row is None or not row.settlement_batch_id.startswith(batch):
                        continue
                    entry = self.tally.setdefault((day, row.merchant_account_id or "", row.type), [0, ZERO])
                    entry[0] += 1
                    entry[1] += row.amount
                    sorter.add(row)
                if self.progress is not None:
                    self.progress.advance(asked)

    def _fetched(self, pool: ThreadPoolExecutor) -> Iterator[tuple[date, int, list[Transaction]]]:
        """Pages in the order they were asked for, at most `workers × 2` in flight at once."""
        pending: deque[tuple[date, int, Future[list[Transaction]]]] = deque()
        try:
            for day, query, ids in self._pages():
                pending.append((day, len(ids), pool.submit(self.gateway.fetch_page, query, ids)))
                if len(pending) >= self.workers * PAGES_IN_FLIGHT_PER_WORKER:
                    day_, asked, future = pending.popleft()
                    yield day_, asked, future.result()
            while pending:
                day_, asked, future = pending.popleft()
                yield day_, asked, future.result()
        finally:
            for _, _, future in pending:  # a failed page or an interrupt: do not fetch the rest
                future.cancel()

    def _pages(self) -> Iterator[tuple[date, TransactionQuery, list[str]]]:
        # A generator, so the next window is searched while the previous window's last pages are in flight.
        for day in self.days:
            for query, ids in self._windows(day):
                self._found += len(ids)
                if self.progress is not None:
                    self.progress.update(total=self._found)
                for start in range(0, len(ids), SEARCH_PAGE_SIZE):
                    yield day, query, ids[start : start + SEARCH_PAGE_SIZE]

    def _windows(self, day: date) -> Iterator[tuple[TransactionQuery, list[str]]]:
        """Uncapped windows that together cover `day`'s batch, with their ids; a capped one is halved."""
        tz = self.gateway.profile.tz
        cap = self.gateway.search_cap
        expected = sum(record.count for record in self.gateway.settlement_summary(day))
        stack = _first_windows(
            _epoch(dates.day_start(day, tz)), _epoch(dates.day_end(day, tz)), expected, self.window_ids
        )
        stack.reverse()
        while stack:
            window = stack.pop()
            # narrowed on the gateway to the day's batch, so neighbouring days are never fetched to be dropped
            query = replace(window.query(), settlement_batch_id_prefix=f"{day.isoformat()}_")
            ids = self.gateway.search_ids(query)
            self.searches += 1
            if len(ids) >= cap:  # Braintree's silent cap: there may be more
                halves = window.halves()
                if halves is not None:
                    stack += reversed(halves)
                    continue
                self.warnings.append(
                    f"{day}: {len(ids)} transactions of {window} reach the search cap ({cap}) "
                    f"and cannot be told apart by time or amount; some may be missing"
                )
            yield query, ids


class ProfilesExport:
    """Several profiles' exports into one file (all of `--all-profiles` without `{profile}` in `-o`), in turn.

    A profile whose export fails adds no rows (its rows come only once all were fetched) and is recorded in
    `runs`; the file is still written with the others. `jobs` are the exports that finished, checked against
    their summaries by `reconcile()` once the file is in place.
    """

    def __init__(
        self,
        targets: Sequence[Target],
        connect: Callable[[Profile], Gateway],
        runs: ProfileRuns,
        *,
        workers: int = DEFAULT_WORKERS,
        progress: Callable[[str], AbstractContextManager[Progress | None]] | None = None,
    ) -> None:
        self.targets = tuple(targets)
        self.connect = connect
        self.runs = runs
        self.workers = workers
        self.progress = progress or (lambda description: nullcontext(None))
        self.jobs: list[SettlementExport] = []

    def rows(self) -> Iterator[SettlementRow]:
        """The rows, profile after profile; a failing profile's are left out (see `runs`)."""
        for target in self.targets:
            name = target.profile.name
            with self.runs.attempt(name), self.progress(f"Exporting {name}") as bar:
                job = export(self.connect(target.profile), target.days, workers=self.workers, progress=bar)
                yield from job
                self.jobs.append(job)

    def all_failed(self) -> bool:
        """Once the rows are read: whether no profile's export finished (nothing to write, not even a header)."""
        return not self.jobs

    def warnings(self) -> list[str]:
        return [f"{job.profile}: {warning}" for job in self.jobs for warning in job.warnings]

    def reconcile(self, output: Path | None) -> bool:
        """Check each finished export against the summary; a mismatch is recorded in `runs` (the file stays
        written, exit 7 says it cannot be trusted). True when every profile in the file reconciled."""
        caps = {target.profile.name: target.profile.search_cap for target in self.targets}
        for job in self.jobs:
            with self.runs.attempt(job.profile):
                mismatches = job.reconcile()
                if mismatches:
                    self.runs.record(job.profile, mismatch_error(job.profile, mismatches, output, caps[job.profile]))
        return bool(self.jobs) and not self.runs.failed_names() & {job.profile for job in self.jobs}


def mismatch_error(profile: str, mismatches: list[Mismatch], output: Path | None, search_cap: int) -> PartialFailure:
    """Exit 7 for an export that does not add up to the summary, with its first difference and a likely cause."""
    first = mismatches[0]
    more = f" (and {len(mismatches) - 1} more)" if len(mismatches) > 1 else ""
    where = f"{output} was written but " if is_file(output) else ""
    # rows missing from the export: a gateway that stops searches below the profile's cap hides them silently
    short = any(m.export_count < m.summary_count for m in mismatches)
    cause = (
        (
            f"; likely cause: the gateway caps a search below search_cap ({search_cap}) — set the profile's "
            "search_cap to the gateway's cap"
        )
        if short
        else ""
    )
    return PartialFailure(
        f"{where}the export of {profile} does not reconcile with the settlement summary: {first.date} "
        f"{first.merchant_account_id} {first.kind}: export {first.export_count} for {first.export_amount}, "
        f"summary {first.summary_count} for {first.summary_amount}{more}{cause}",
        profile=profile,
        mismatches=mismatches,
    )


def _first_windows(first: int, last: int, expected: int, window_ids: int) -> list[_Window]:
    """The day's seconds [first, last] widened by SEARCH_MARGIN, in time order; for a day expected to hold more
    than `window_ids` transactions, the day itself is cut into equal parts and each margin is a window of its
    own (they only hold what a timezone or cutoff difference moves out of the day)."""
    margin = int(SEARCH_MARGIN.total_seconds())
    parts = min(math.ceil(expected / window_ids), last - first + 1)
    if parts <= 1:
        return [_Window(first - margin, last + margin)]
    edges = [first + (last + 1 - first) * part // parts for part in range(parts + 1)]
    day = [_Window(low, next_low - 1) for low, next_low in itertools.pairwise(edges)]
    return [_Window(first - margin, first - 1), *day, _Window(last + 1, last + margin)]


@dataclass(frozen=True)
class _Window:
    """Part of a search: settled_at in whole UTC seconds and amount in thousandths, inclusive at both ends.

    The gateway compares settled_at to the second, so halves [low, middle] and [middle + 1, high] never share
    a transaction. A nightly batch can settle thousands of transactions in the same second, which time cannot
    split; the amount can, and thousandths are finer than any currency Braintree settles in.
    """

    low: int
    high: int
    amount_low: int = 0
    amount_high: int | None = None  # None: no upper bound

    def query(self) -> TransactionQuery:
        bounded = self.amount_low > 0 or self.amount_high is not None
        return TransactionQuery(
            statuses=IN_BATCH_STATUSES,
            types=KINDS,
            settled_from=_utc(self.low),
            settled_to=_utc(self.high),
            amount_min=_units(self.amount_low) if bounded else None,
            amount_max=_units(self.amount_high) if self.amount_high is not None else None,
        )

    def halves(self) -> tuple[_Window, _Window] | None:
        if self.high > self.low:
            middle = (self.low + self.high) // 2
            return replace(self, high=middle), replace(self, low=middle + 1)
        if self.amount_high is None:
            # no upper bound to halve: split off a doubling range, so a few searches find where amounts end
            pivot = max(2 * self.amount_low, FIRST_AMOUNT_SPLIT)
            return replace(self, amount_high=pivot), replace(self, amount_low=pivot + 1)
        if self.amount_high > self.amount_low:
            middle = (self.amount_low + self.amount_high) // 2
            return replace(self, amount_high=middle), replace(self, amount_low=middle + 1)
        return None

    def __str__(self) -> str:
        amounts = (
            ""
            if self.amount_high is None and not self.amount_low
            else f", amount {_units(self.amount_low)}-{_units(self.amount_high) if self.amount_high is not None else ''}"
        )
        return f"{_utc(self.low).isoformat()}-{_utc(self.high).isoformat()}{amounts}"


def _units(thousandths: int) -> Decimal:
    return Decimal(thousandths).scaleb(-3)


def _epoch(moment: datetime) -> int:
    return math.floor(moment.timestamp())


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _row(profile: str, txn: Transaction) -> SettlementRow | None:
    settled_at = txn.settled_at
    if settled_at is None or not txn.settlement_batch_id:
        return None
    return SettlementRow(
        profile=profile,
        id=txn.id,
        type=txn.type,
        status=txn.status,
        amount=txn.amount,
        currency=txn.currency,
        merchant_account_id=txn.merchant_account_id,
        order_id=txn.order_id,
        card_type=txn.card_type,
        last_4=txn.last_4,
        customer_email=txn.customer_email,
        created_at=txn.created_at,
        settled_at=settled_at,
        settlement_batch_id=txn.settlement_batch_id,
        refunded_transaction_id=txn.refunded_transaction_id,
    )


# reconciliation -------------------------------------------------------------------------------------------


def reconcile(
    tally: dict[tuple[date, str, str], list], summaries: dict[date, list[SettlementRecord]]
) -> list[Mismatch]:
    """Each (date, merchant account, kind) whose exported count or sum differs from the summary's.

    The summary splits by card type too; that split is summed away, since a card type can be named
    differently by the summary and by a transaction ("MasterCard"/"Mastercard").
    """
    mismatches = []
    for day, records in sorted(summaries.items()):
        expected: dict[tuple[str, str], list] = {}
        for record in records:
            entry = expected.setdefault((record.merchant_account_id, record.kind), [0, ZERO])
            entry[0] += record.count
            entry[1] += record.amount_settled
        exported = {(account, kind): entry for (when, account, kind), entry in tally.items() if when == day}
        for key in sorted(expected.keys() | exported.keys()):
            summary_count, summary_amount = expected.get(key, (0, ZERO))
            export_count, export_amount = exported.get(key, (0, ZERO))
            if summary_count != export_count or summary_amount != export_amount:
                mismatches.append(
                    Mismatch(
                        day,
                        key[0],
                        key[1],
                        summary_count,
                        Decimal(summary_amount),
                        export_count,
                        Decimal(export_amount),
                    )
                )
    return mismatches


# sorting in bounded memory --------------------------------------------------------------------------------

_Item = tuple[datetime, str, SettlementRow]


def _key(item: _Item) -> tuple[datetime, str]:
    return item[0], item[1]


class _RunSorter:
    """Rows in (settled_at, id) order with at most `run_rows` of them in memory: an external merge sort.

    Search ids come in no useful order and a row's settled_at is known only once its page is fetched, so the
    order cannot be planned ahead; sorted runs go to anonymous temporary files (gone even if the process is
    killed) and are merged at the end.
    """

    def __init__(self, run_rows: int) -> None:
        self.run_rows = run_rows
        self._buffer: list[_Item] = []
        self._runs: list[IO[bytes]] = []

    def __enter__(self) -> _RunSorter:
        return self

    def __exit__(self, *exc: object) -> None:
        for run in self._runs:
            run.close()
        self._runs.clear()
        self._buffer.clear()

    def add(self, row: SettlementRow) -> None:
        self._buffer.append((row.settled_at, row.id, row))
        if len(self._buffer) >= self.run_rows:
            self._spill()

    def _spill(self) -> None:
        self._buffer.sort(key=_key)
        run = tempfile.TemporaryFile(prefix="paycli-export-")  # noqa: SIM115 - read back later, closed by the merge
        for item in self._buffer:  # one pickle per row: reading back needs one row at a time, not the run
            pickle.dump(item, run, protocol=pickle.HIGHEST_PROTOCOL)
        run.seek(0)
        self._runs.append(run)
        self._buffer = []

    def merged(self) -> Iterator[SettlementRow]:
        self._buffer.sort(key=_key)
        streams: list[Iterable[_Item]] = [_replay(run) for run in self._runs]
        streams.append(self._buffer)
        for _, _, row in heapq.merge(*streams, key=_key):
            yield row


def _replay(run: IO[bytes]) -> Iterator[_Item]:
    while True:
        try:
            yield pickle.load(run)  # our own file, written above: never untrusted input
        except EOFError:
            return
