"""Refunds from a spreadsheet: validate every row, plan, then execute with bounded concurrency.

Safe to rerun (after a crash, Ctrl-C or partial failure): each row's `api_request_key` is derived from
the merchant and the row's identity — its transaction, its amount, and which occurrence of that pair in
the file it is — never from free text (order id, reason) or its position, so fixing another row, or a
typo in this row's order id or reason, does not change it. A row whose key the journal shows done is
reported `already_done` without a call; any other row is sent with its key, and the gateway replays the
original answer for one it already executed. The price: the same transaction and amount in a later file
is taken for the same refund — a deliberate second partial refund goes through `paycli refund --again`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from paycli import journal as journal_
from paycli import refunds
from paycli.errors import PaycliError, UsageError
from paycli.lookup import check_id, find_many, find_transaction
from paycli.models import Transaction
from paycli.money import by_currency, parse_amount
from paycli.tuning import BATCH_ROWS_IN_FLIGHT, MAX_IN_FLIGHT

if TYPE_CHECKING:
    from paycli.gateway import Gateway
    from paycli.journal import Context, Journal

COLUMNS = ("transaction_id", "amount", "order_id", "reason")
DEFAULT_CONCURRENCY = BATCH_ROWS_IN_FLIGHT
MAX_CONCURRENCY = MAX_IN_FLIGHT
# Pace: rows in flight halve when the gateway pushes back (429/503), at most once per round of that many rows
# (one burst is one signal), and grow by one after this many rows in a row finish without a push back.
GROW_AFTER_ROWS = 20
MAX_ERRORS_LISTED = 20
DONE, ALREADY_DONE, FAILED, SKIPPED = "done", "already_done", "failed", "skipped"


@dataclass(frozen=True)
class Row:
    line: int  # line number in the file, as a spreadsheet shows it (header = 1)
    transaction_id: str
    amount: Decimal | None  # None: everything left
    order_id: str | None
    reason: str | None


@dataclass(frozen=True)
class Result:
    """One row of the batch-refund results (stdout and --results)."""

    row: int
    transaction_id: str
    amount: Decimal | None
    action: str  # refund | void | none
    outcome: str  # done | already_done | failed | skipped
    refund_id: str | None
    message: str
    currency: str | None = None  # of the sale, when it was looked up (not for rows already done)


@dataclass(frozen=True)
class Item:
    row: Row
    key: str
    plan: refunds.Plan | None = None
    result: Result | None = None  # decided without a money call (already done, or not refundable)


@dataclass(frozen=True)
class BatchPlan:
    file: str
    items: tuple[Item, ...]
    # the journal as it was before the lookups: on a team's journal, a row whose transaction saw activity
    # after this is planned again from fresh data under its lock
    mark: tuple[int, frozenset[int]] = (0, frozenset())

    def counts(self) -> dict[str, int]:
        tally = {"refund": 0, "void": 0, ALREADY_DONE: 0, "refused": 0}
        for item in self.items:
            if item.plan is not None:
                tally[item.plan.action] += 1
            elif item.result is not None and item.result.outcome == ALREADY_DONE:
                tally[ALREADY_DONE] += 1
            else:
                tally["refused"] += 1
        return tally

    def totals(self) -> dict[str, Decimal]:
        """What the plan gives back, per currency."""
        return by_currency(
            (item.plan.transaction.currency, item.plan.amount) for item in self.items if item.plan is not None
        )

    @property
    def to_execute(self) -> list[Item]:
        return [item for item in self.items if item.plan is not None]


def read_rows(path: Path) -> list[Row]:
    """Every row, validated before anything else happens; all problems reported at once (exit 2)."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel writes a byte-order mark
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text; save it as CSV UTF-8") from None
    reader = csv.reader(io.StringIO(text))
    header = [name.strip().lower() for name in next(reader, [])]
    if "transaction_id" not in header:
        raise UsageError(
            f"{path}: the first line must be a header with transaction_id"
            f"[,amount][,order_id][,reason]; found {','.join(header) or 'nothing'}"
        )
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise UsageError(f"{path}: unknown column {unknown[0]!r}; columns are {', '.join(COLUMNS)}")
    rows: list[Row] = []
    problems: list[str] = []
    seen: dict[str, int] = {}  # transaction → its line
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            problems.append(f"line {line}: {len(cells)} cells for {len(header)} columns")
            continue
        values = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}
        try:
            txn_id = check_id(values["transaction_id"])
            amount = parse_amount(values["amount"], field="amount") if values.get("amount") else None
            from paycli.wire_text import plain_text

            for column in ("order_id", "reason"):  # order_id goes to the gateway; reason to the journal
                plain_text(values.get(column, ""), column)
        except UsageError as err:
            problems.append(f"line {line}: {err.message}")
            continue
        if txn_id in seen:
            problems.append(
                f"line {line}: transaction {txn_id} is already on line {seen[txn_id]}; one row per transaction"
            )
            continue
        seen[txn_id] = line
        rows.append(Row(line, txn_id, amount, values.get("order_id") or None, values.get("reason") or None))
    if problems:
        shown = problems[:MAX_ERRORS_LISTED]
        more = f" (and {len(problems) - len(shown)} more)" if len(problems) > len(shown) else ""
        raise UsageError(
            f"{path}: {len(problems)} bad row(s), nothing was refunded: {'; '.join(shown)}{more}", problems=problems
        )
    if not rows:
        raise UsageError(f"{path} has a header but no rows")
    return rows


def _already_done(row: Row, entry: journal_.Entry) -> Result:
    """A row whose refund the journal holds as done (an earlier run, or another agent): never sent again."""
    when = entry.finished_at or entry.created_at
    return Result(
        row.line,
        row.transaction_id,
        entry.amount,
        entry.kind,
        ALREADY_DONE,
        entry.result_id,
        f"done by {entry.who} at {when:%Y-%m-%d %H:%M}Z (journal #{entry.id})",
    )


def row_keys(merchant_id: str, rows: list[Row]) -> dict[int, str]:
    """Each row's api_request_key by line: merchant, transaction, amount, and the pair's occurrence so far.

    `read_rows` allows one row per transaction today; the occurrence keeps two rows that ask for the same
    amount of the same sale apart should that ever change, without making the key depend on free text.
    """
    seen: dict[tuple[str, Decimal | None], int] = {}
    keys = {}
    for row in rows:
        pair = (row.transaction_id, row.amount)
        seen[pair] = occurrence = seen.get(pair, 0) + 1
        content = "|".join((merchant_id, row.transaction_id, str(row.amount or "full"), str(occurrence)))
        keys[row.line] = "paycli-batch-" + hashlib.sha256(content.encode()).hexdigest()[:40]
    return keys


def _key_with_order_id(merchant_id: str, row: Row) -> str:
    # how keys were made before a row's identity left out its order id: a row done, or left unfinished,
    # under such a key keeps it, so upgrading paycli between two runs of a file never refunds it twice
    content = "|".join((merchant_id, row.transaction_id, str(row.amount or "full"), row.order_id or ""))
    return "paycli-batch-" + hashlib.sha256(content.encode()).hexdigest()[:40]


def _earlier(
    known: dict[str, journal_.Entry], merchant_id: str, row: Row, key: str
) -> tuple[str, journal_.Entry | None]:
    """The row's key and its latest entry; a row done or left unfinished under its older key keeps that key."""
    entry = known.get(key)
    if entry is None:
        older_key = _key_with_order_id(merchant_id, row)
        older = known.get(older_key)
        if older is not None and older.state != journal_.FAILED:
            return older_key, older
    return key, entry


def plan(
    gateway: Gateway,
    journal: Journal,
    context: Context,
    path: Path,
    rows: list[Row],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_progress: Callable[[int], None] | None = None,
) -> BatchPlan:
    """Decide every row: already done (journal), refund, void, or refused — after one bulk lookup."""
    mark = journal.high_water(context.merchant_id) if journal.shared else (0, frozenset())
    keys = row_keys(context.merchant_id, rows)
    # one query for every row's keys, new and older: on a team's database, not a round trip per row
    known = journal.latest_many(
        context.merchant_id, [*keys.values(), *(_key_with_order_id(context.merchant_id, row) for row in rows)]
    )
    keyed = {row.line: _earlier(known, context.merchant_id, row, keys[row.line]) for row in rows}
    earlier = {line: entry for line, (_, entry) in keyed.items()}
    done = {line for line, entry in earlier.items() if entry is not None and entry.state == journal_.DONE}
    found = find_many(
        gateway,
        [row.transaction_id for row in rows if row.line not in done],
        concurrency=concurrency,
        on_found=on_progress,
    )

    def decide(row: Row) -> Item:
        key, entry = keyed[row.line]
        if row.line in done and entry is not None:
            return Item(
                row,
                key,
                result=_already_done(row, entry),
            )
        txn = found.get(row.transaction_id)
        if txn is None:
            return Item(
                row,
                key,
                result=Result(
                    row.line,
                    row.transaction_id,
                    row.amount,
                    refunds.NONE,
                    FAILED,
                    None,
                    f"transaction {row.transaction_id} not found",
                ),
            )
        if entry is not None and entry.state in journal_.UNFINISHED:
            # an earlier run sent this row and never learned the answer: execute() sends the same request
            # again under the same key, whatever the transaction looks like now (it may be our own refund)
            return Item(
                row, key, plan=refunds.Plan(entry.kind, txn, entry.amount or txn.amount, entry.order_id, entry.reason)
            )
        return _decide(row, key, txn)

    return BatchPlan(str(path), tuple(decide(row) for row in rows), mark)


def _decide(row: Row, key: str, txn: Transaction) -> Item:
    """The refund rules for one row on a looked-up sale."""
    try:
        return Item(
            row, key, plan=refunds.decide_refund(txn, amount=row.amount, order_id=row.order_id, reason=row.reason)
        )
    except refunds.NotRefundable as err:
        # a whole-refund row on a sale with nothing left is done (by an earlier run, a colleague, or by hand)
        if row.amount is None and "fully refunded" in err.message:
            return Item(
                row,
                key,
                result=Result(
                    row.line, row.transaction_id, None, refunds.NONE, ALREADY_DONE, None, err.message, txn.currency
                ),
            )
        return Item(
            row,
            key,
            result=Result(
                row.line, row.transaction_id, row.amount, refunds.NONE, FAILED, None, err.message, txn.currency
            ),
        )


def execute(
    gateway: Gateway,
    journal: Journal,
    context: Context,
    batch: BatchPlan,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_result: Callable[[Result], None] | None = None,
    on_pace: Callable[[int, int], None] | None = None,
) -> list[Result]:
    """Run the planned rows; results come back in file order, refused rows included.

    At most `concurrency` rows are in flight, fewer while the gateway pushes back: `on_pace(now, before)`
    is told each time the number changes. Each row holds its transaction's lock (on a team's journal) from
    its last look at the journal through its `done` write. If the journal becomes unreachable, no further
    row is started and JournalLost carries every result, naming the rows whose money may have moved
    without a record.
    """
    stop = threading.Event()
    lost: dict[int, bool] = {}  # line -> the call may have moved money (its entry stays pending)
    first_loss: list[str] = []  # what the first row that met the journal's failure was told

    def run(item: Item) -> Item:
        if item.plan is None:
            return item
        if stop.is_set():
            return replace(
                item,
                result=Result(
                    item.row.line,
                    item.row.transaction_id,
                    item.plan.amount,
                    item.plan.action,
                    SKIPPED,
                    None,
                    "not sent: the batch stopped when the journal could not be written; rerun the same file",
                ),
            )
        try:
            with journal.hold(context.merchant_id, item.row.transaction_id) as waited:
                item = _recheck(gateway, journal, context, batch, item, waited)
                if item.plan is None:
                    return item
                plan_ = item.plan
                outcome = refunds.execute(
                    gateway,
                    journal,
                    context,
                    plan_,
                    api_request_key=item.key,
                    batch=batch.file,
                    batch_row=item.row.line,
                )
        except PaycliError as err:
            if isinstance(err, journal_.JournalUnavailable):
                # locked (every other row would wait on the same lock) or unreachable: stop taking rows
                if not stop.is_set():
                    first_loss.append(f"line {item.row.line}: {err.message}")
                stop.set()
                lost[item.row.line] = "entry" in err.details  # refunds.execute names the entry once it called
            planned = item.plan
            return replace(
                item,
                result=Result(
                    item.row.line,
                    item.row.transaction_id,
                    planned.amount if planned else item.row.amount,
                    planned.action if planned else refunds.NONE,
                    FAILED,
                    None,
                    err.message,
                    planned.transaction.currency if planned else None,
                ),
            )
        moved = outcome.result  # the gateway's answer: the credit, or the voided sale
        refund_id = moved.id if plan_.action == refunds.REFUND else None
        what = f"refunded {moved.amount}" if plan_.action == refunds.REFUND else f"voided {moved.amount}"
        return replace(
            item,
            result=Result(
                item.row.line,
                item.row.transaction_id,
                moved.amount,
                plan_.action,
                DONE,
                refund_id,
                what,
                moved.currency,
            ),
        )

    finished: dict[int, Item] = {}
    pace = Pace(concurrency, lambda: gateway.pushbacks, on_pace)
    for item in _parallel(run, list(batch.items), pace):
        finished[item.row.line] = item
        if on_result and item.result is not None:
            on_result(item.result)
    results = [result for item in batch.items if (result := finished[item.row.line].result) is not None]
    if lost:
        raise JournalLost(results, sorted(line for line, moved in lost.items() if moved), first_loss[0])
    return results


class JournalLost(journal_.JournalUnavailable):
    """The journal went away mid-batch: rows stopped being taken; `results` has every row's outcome."""

    type = "journal_lost"

    def __init__(self, results: list[Result], may_have_moved: list[int], first: str) -> None:
        lines = f"line{'s' if len(may_have_moved) > 1 else ''} {', '.join(map(str, may_have_moved))}"
        said = (
            f"{lines} may have moved money without a record (entries left pending)"
            if may_have_moved
            else "no row moved money without a record"
        )
        super().__init__(
            f"{first}; so paycli stopped taking rows there (rows already done stay done): {said}; "
            "rerun the same file once the journal is back: it resumes them with their keys and moves "
            "no money twice",
            may_have_moved=may_have_moved,
        )
        self.results = results


def _recheck(gateway: Gateway, journal: Journal, context: Context, batch: BatchPlan, item: Item, waited: bool) -> Item:
    """Under the row's lock on a team's journal: what other agents did since the plan was made."""
    if not journal.shared:
        return item
    row = item.row
    about = journal.about(context.merchant_id, row.transaction_id)
    entry = next((e for e in reversed(about) if e.api_request_key == item.key), None)
    if entry is not None and entry.state == journal_.DONE:  # another agent ran the same row
        return replace(
            item,
            plan=None,
            result=_already_done(row, entry),
        )
    if entry is not None and entry.state in journal_.UNFINISHED:
        return item  # refunds.execute resumes that entry under its key: the gateway replays its answer
    if not waited and not journal.changed_since(about, batch.mark):
        return item
    return _decide(row, item.key, find_transaction(gateway, row.transaction_id))


class Pace:
    """How many rows may be in flight: halved when the gateway pushes back, grown back slowly while it does not.

    Braintree answers 429 when a merchant sends too much at once; every row in flight then waits through
    retries. Halving at once and growing by one (additive increase, multiplicative decrease, as TCP does)
    settles near what the gateway accepts, and is back at full speed once it is healthy.
    """

    def __init__(
        self, ceiling: int, pushbacks: Callable[[], int], on_change: Callable[[int, int], None] | None = None
    ) -> None:
        self.ceiling = self.limit = max(1, min(ceiling, MAX_CONCURRENCY))
        self._pushbacks = pushbacks
        self._seen = pushbacks()
        self._on_change = on_change
        self._since_cut = self.limit  # a first push back cuts at once
        self._healthy = 0
        self.lowest = self.limit

    def finished(self) -> None:
        """One row finished: look at the gateway's push backs since the last row and set the limit."""
        now = self._pushbacks()
        pushed, self._seen = now > self._seen, now
        self._since_cut += 1
        if pushed:
            self._healthy = 0
            if self._since_cut >= self.limit and self.limit > 1:  # the same burst is not counted twice
                self._change(max(1, self.limit // 2))
                self._since_cut = 0
            return
        self._healthy += 1
        if self._healthy >= GROW_AFTER_ROWS and self.limit < self.ceiling:
            self._healthy = 0
            self._change(self.limit + 1)

    def _change(self, limit: int) -> None:
        before, self.limit = self.limit, limit
        self.lowest = min(self.lowest, limit)
        if self._on_change is not None:
            self._on_change(limit, before)


def _parallel(work: Callable[[Item], Item], inputs: list[Item], pace: Pace) -> Iterator[Item]:
    """`work` over inputs with at most `pace.limit` in flight; results in completion order.

    Only that many tasks are ever submitted ahead, so Ctrl-C leaves the rest untouched rather than
    queued, and a rerun finds them still to do.
    """
    pending: set[Future[Item]] = set()
    waiting = list(reversed(inputs))
    with ThreadPoolExecutor(max_workers=pace.ceiling) as pool:
        try:
            while True:
                while waiting and len(pending) < pace.limit:
                    pending.add(pool.submit(work, waiting.pop()))
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    pace.finished()
                    yield future.result()
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def moved(results: list[Result]) -> dict[str, dict[str, Decimal]]:
    """What the run gave back, per action (refund, void) and per currency, from the gateway's answers."""
    return {
        action: by_currency(
            (r.currency, r.amount) for r in results if r.outcome == DONE and r.action == action and r.amount is not None
        )
        for action in (refunds.REFUND, refunds.VOID)
    }
