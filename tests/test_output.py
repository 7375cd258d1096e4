from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from paycli.errors import Declined, NotFound, UsageError
from paycli.output import Format, Output, Terminal, View, atomic_write, jsonable

PIPE = Terminal(stdin=False, stdout=False, stderr=False)
TTY = Terminal(stdin=True, stdout=True, stderr=True)


class Status(Enum):
    SETTLED = "settled"


@dataclass(frozen=True)
class Txn:
    id: str
    amount: Decimal
    created_at: datetime
    status: Status = Status.SETTLED
    refund_ids: tuple[str, ...] = ()
    secret: str = field(default="hidden", repr=False)


TXN = View("txn", columns=("id", "amount", "status", "created_at", "refund_ids"))
CREATED = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)


def txn(n: int = 1, **changes: object) -> Txn:
    return Txn(**{"id": f"t{n}", "amount": Decimal("10.5"), "created_at": CREATED, **changes})  # type: ignore[arg-type]


class Streams:
    def __init__(self, stdin: str = "") -> None:
        self.stdin = io.StringIO(stdin)
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()

    def output(self, terminal: Terminal = PIPE, **options: object) -> Output:
        return Output(terminal, stdin=self.stdin, stdout=self.stdout, stderr=self.stderr, **options)  # type: ignore[arg-type]


@pytest.fixture
def streams() -> Streams:
    return Streams()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty directory of its own, so "nothing left behind" can be checked with listdir."""
    path = tmp_path / "exports"
    path.mkdir()
    return path


def test_jsonable_gives_amounts_as_strings_times_with_offsets_and_drops_hidden_fields() -> None:
    assert jsonable(txn(refund_ids=("r1",))) == {
        "id": "t1",
        "amount": "10.50",
        "created_at": "2026-03-01T09:30:00Z",
        "status": "settled",
        "refund_ids": ["r1"],
    }
    assert jsonable(datetime(2026, 3, 1, tzinfo=ZoneInfo("America/New_York"))) == "2026-03-01T00:00:00-05:00"
    assert jsonable({"d": date(2026, 3, 1), "p": Path("/x")}) == {"d": "2026-03-01", "p": "/x"}
    with pytest.raises(TypeError):
        jsonable(object())


def test_the_default_format_is_table_on_a_terminal_and_json_otherwise(streams: Streams) -> None:
    assert streams.output(TTY).fmt is Format.table
    assert streams.output(PIPE).fmt is Format.json
    assert streams.output(TTY, fmt=Format.csv).fmt is Format.csv


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.csv", Format.csv),
        ("a.ndjson", Format.ndjson),
        ("a.jsonl", Format.ndjson),
        ("a.json", Format.json),
        ("a.txt", Format.json),
    ],
)
def test_an_output_file_without_format_takes_it_from_the_suffix(streams: Streams, name: str, fmt: Format) -> None:
    assert streams.output(TTY, path=Path(name)).fmt is fmt


def test_json_one_object_is_one_document(streams: Streams) -> None:
    streams.output(fmt=Format.json).emit(txn(), TXN)
    assert json.loads(streams.stdout.getvalue())["amount"] == "10.50"
    assert streams.stderr.getvalue() == ""


def test_json_list_is_one_array(streams: Streams) -> None:
    streams.output(fmt=Format.json).emit([txn(1), txn(2)], TXN)
    assert [row["id"] for row in json.loads(streams.stdout.getvalue())] == ["t1", "t2"]


def test_ndjson_is_one_object_per_line(streams: Streams) -> None:
    streams.output(fmt=Format.ndjson).emit([txn(1), txn(2)], TXN)
    lines = streams.stdout.getvalue().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["t1", "t2"]


def test_csv_has_a_header_and_the_views_columns_in_order(streams: Streams) -> None:
    streams.output(fmt=Format.csv).emit([txn(1, refund_ids=("r1", "r2")), txn(2)], TXN)
    rows = list(csv.reader(io.StringIO(streams.stdout.getvalue())))
    assert rows == [
        ["id", "amount", "status", "created_at", "refund_ids"],
        ["t1", "10.50", "settled", "2026-03-01T09:30:00Z", "r1;r2"],
        ["t2", "10.50", "settled", "2026-03-01T09:30:00Z", ""],
    ]


def test_csv_of_nothing_is_still_the_header(streams: Streams) -> None:
    streams.output(fmt=Format.csv).stream(iter(()), TXN)
    assert streams.stdout.getvalue() == "id,amount,status,created_at,refund_ids\n"


def test_a_table_shows_the_values(streams: Streams) -> None:
    streams.output(fmt=Format.table).emit([txn(1), txn(2)], TXN)
    table = streams.stdout.getvalue()
    assert "t1" in table and "t2" in table and "10.50" in table and "amount" in table


def test_a_table_of_one_object_shows_fields_and_nested_rows(streams: Streams) -> None:
    history = [{"status": "authorized", "amount": Decimal("1")}, {"status": "settled", "amount": Decimal("1")}]
    streams.output(fmt=Format.table).emit({"id": "t1", "status_history": history, "note": "[red]not markup[/red]"})
    table = streams.stdout.getvalue()
    assert "status_history" in table and "authorized" in table and "1.00" in table
    assert "[red]not markup[/red]" in table


def test_json_stream_is_written_incrementally_as_one_array(streams: Streams) -> None:
    out = streams.output(fmt=Format.json)

    def rows() -> Iterator[Txn]:
        yield txn(1)
        assert '"t1"' in streams.stdout.getvalue()  # already written before the next row exists
        yield txn(2)

    assert out.stream(rows(), TXN) == 2
    assert [row["id"] for row in json.loads(streams.stdout.getvalue())] == ["t1", "t2"]


def test_an_empty_json_stream_is_an_empty_array(streams: Streams) -> None:
    streams.output(fmt=Format.json).stream(iter(()), TXN)
    assert json.loads(streams.stdout.getvalue()) == []


def test_a_stream_that_fails_halfway_leaves_valid_json_and_no_second_document(streams: Streams) -> None:
    out = streams.output(fmt=Format.json)

    def rows() -> Iterator[Txn]:
        yield txn(1)
        raise NotFound("transaction t2 vanished")

    with pytest.raises(NotFound) as caught:
        out.stream(rows(), TXN)
    assert out.fail(caught.value) == 5
    assert [row["id"] for row in json.loads(streams.stdout.getvalue())] == ["t1"]
    assert streams.stderr.getvalue() == "error: transaction t2 vanished\n"


def test_ndjson_flushes_every_object() -> None:
    class Recording(io.StringIO):
        flushed: list[str] = []

        def flush(self) -> None:
            self.flushed.append(self.getvalue())

    stdout = Recording()
    out = Output(PIPE, fmt=Format.ndjson, stdout=stdout, stderr=io.StringIO())
    out.stream([txn(1), txn(2)], TXN)
    assert any(snapshot.count("\n") == 1 for snapshot in Recording.flushed)


def test_atomic_write_replaces_the_file_whole(folder: Path) -> None:
    target = folder / "out.csv"
    target.write_text("old")
    target.chmod(0o640)
    with atomic_write(target) as handle:
        handle.write("new")
        assert target.read_text() == "old"  # readers still see the old file
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(folder) == ["out.csv"]


def test_atomic_write_leaves_nothing_behind_on_failure(folder: Path) -> None:
    target = folder / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write("half a fi")
        raise RuntimeError("disk on fire")
    assert target.read_text() == "old"
    assert os.listdir(folder) == ["out.csv"]


def test_a_new_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    target = tmp_path / "new.json"
    with atomic_write(target) as handle:
        handle.write("{}")
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_output_file_gets_the_data_and_stdout_stays_empty(streams: Streams, tmp_path: Path) -> None:
    target = tmp_path / "rows.csv"
    streams.output(TTY, path=target).stream([txn(1)], TXN)
    assert target.read_text().splitlines()[0] == "id,amount,status,created_at,refund_ids"
    assert streams.stdout.getvalue() == ""


def test_a_failed_stream_to_a_file_writes_no_file(streams: Streams, folder: Path) -> None:
    target = folder / "rows.json"

    def rows() -> Iterator[Txn]:
        yield txn(1)
        raise NotFound("gone")

    out = streams.output(path=target)
    with pytest.raises(NotFound) as caught:
        out.stream(rows(), TXN)
    out.fail(caught.value)
    assert os.listdir(folder) == []
    assert json.loads(streams.stdout.getvalue()) == {"error": {"type": "not_found", "message": "gone"}}


def test_an_unwritable_output_path_is_a_usage_error(streams: Streams, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"cannot write --output .*missing/out.json: No such file or directory"):
        streams.output(path=tmp_path / "missing" / "out.json").emit(txn(), TXN)


@pytest.mark.parametrize("fmt", [Format.json, Format.ndjson])
def test_failures_print_an_error_document_for_scripts(streams: Streams, fmt: Format) -> None:
    code = streams.output(fmt=fmt).fail(NotFound("transaction t9 not found", id="t9"))
    assert code == 5
    assert json.loads(streams.stdout.getvalue()) == {
        "error": {"type": "not_found", "message": "transaction t9 not found", "id": "t9"}
    }
    assert streams.stderr.getvalue() == "error: transaction t9 not found\n"


@pytest.mark.parametrize("fmt", [Format.table, Format.csv])
def test_failures_in_table_and_csv_leave_stdout_empty(streams: Streams, fmt: Format) -> None:
    streams.output(fmt=fmt).fail(NotFound("nope"))
    assert streams.stdout.getvalue() == ""


def test_ndjson_failure_after_data_is_one_more_line(streams: Streams) -> None:
    out = streams.output(fmt=Format.ndjson)
    out.emit([txn(1)], TXN)
    out.fail(NotFound("nope"))
    lines = [json.loads(line) for line in streams.stdout.getvalue().splitlines()]
    assert lines[0]["id"] == "t1" and lines[1]["error"]["type"] == "not_found"


def test_a_decline_prints_the_transaction_not_an_error_object(streams: Streams) -> None:
    declined = txn(7, status=Status.SETTLED)
    code = streams.output(fmt=Format.json).fail(Declined("processor declined: 2000 Do Not Honor", declined), TXN)
    assert code == 3
    assert json.loads(streams.stdout.getvalue())["id"] == "t7"
    assert streams.stderr.getvalue() == "error: processor declined: 2000 Do Not Honor\n"


def test_tracebacks_of_ordinary_errors_only_when_debugging(streams: Streams) -> None:
    try:
        raise NotFound("nope")
    except NotFound as err:
        streams.output().fail(err)
        streams.output(verbose=True).fail(err)  # -v is the request log, not a traceback of a handled error
        assert "Traceback" not in streams.stderr.getvalue()
        streams.output(debug=True).fail(err)
        assert "Traceback" in streams.stderr.getvalue()


def test_a_bugs_traceback_with_verbose(streams: Streams) -> None:
    from paycli.errors import InternalError

    try:
        raise KeyError("missing")
    except KeyError as bug:
        streams.output(verbose=True).fail(InternalError.from_bug(bug))
    assert "Traceback" in streams.stderr.getvalue() and "KeyError" in streams.stderr.getvalue()


def test_notes_go_to_stderr_and_quiet_drops_them_but_not_warnings(streams: Streams) -> None:
    streams.output().note("wrote 3 rows")
    streams.output(quiet=True).note("not shown")
    streams.output(quiet=True).warn("inline key in a readable file")
    assert streams.stderr.getvalue() == "wrote 3 rows\nwarning: inline key in a readable file\n"
    assert streams.stdout.getvalue() == ""


def test_no_color_removes_colour_codes_on_a_terminal(streams: Streams) -> None:
    streams.output(TTY).fail(NotFound("coloured"))
    assert "\x1b[31m" in streams.stderr.getvalue() or "\x1b[1;31m" in streams.stderr.getvalue()
    plain = Streams()
    plain.output(Terminal(True, True, True, no_color=True)).fail(NotFound("plain"))
    assert "31m" not in plain.stderr.getvalue()


def test_terminal_detect_reads_no_color_and_force_color() -> None:
    assert Terminal.detect(env={"NO_COLOR": "1"}).no_color
    assert not Terminal.detect(env={"NO_COLOR": ""}).no_color
    assert Terminal.detect(env={}, no_color=True).no_color
    assert Terminal.detect(env={"FORCE_COLOR": "1"}).force_color
    assert not Terminal.detect(env={"FORCE_COLOR": "0"}).force_color


def test_progress_only_for_a_table_on_a_terminal(streams: Streams) -> None:
    assert streams.output(TTY).shows_progress
    assert not streams.output(PIPE, fmt=Format.table).shows_progress
    assert not streams.output(TTY, fmt=Format.json).shows_progress
    assert not streams.output(TTY, quiet=True).shows_progress
    assert not streams.output(replace(TTY, no_color=True)).shows_progress  # plain text: no live bar
    out = streams.output(TTY)
    with out.progress("Exporting", total=2) as bar:
        bar.advance()
        out.emit([txn(1)], TXN)
        bar.advance()
    assert "Exporting" not in streams.stdout.getvalue()  # the bar stays on stderr


def test_confirm_takes_yes_asks_on_a_terminal_and_refuses_without_one() -> None:
    assert Streams().output(assume_yes=True).confirm("Refund 10.00?")
    assert Streams("y\n").output(TTY).confirm("Refund 10.00?")
    assert not Streams("n\n").output(TTY).confirm("Refund 10.00?")
    assert not Streams("").output(TTY).confirm("Refund 10.00?")
    with pytest.raises(UsageError, match=r"no terminal to confirm on \(Refund 10.00\?\); pass --yes"):
        Streams("y\n").output(PIPE).confirm("Refund 10.00?")


def test_a_stream_that_fails_before_any_row_leaves_only_the_error_document(streams: Streams) -> None:
    out = streams.output(fmt=Format.json)

    def rows() -> Iterator[Txn]:
        raise NotFound("customer c1 not found")
        yield txn()  # pragma: no cover

    with pytest.raises(NotFound) as caught:
        out.stream(rows(), TXN)
    out.fail(caught.value)
    assert json.loads(streams.stdout.getvalue()) == {"error": {"type": "not_found", "message": "customer c1 not found"}}


def test_an_error_whose_details_cannot_be_rendered_still_gets_its_line(streams: Streams) -> None:
    code = streams.output(fmt=Format.json).fail(NotFound("odd", thing=object()))
    assert code == 5 and streams.stderr.getvalue() == "error: odd\n"


# SIGTERM mid-write -------------------------------------------------------------------------------------------


@pytest.fixture
def slow_sandbox(tmp_path: Path, write_config):
    """A served sandbox that takes a second over every request, and the default profile pointing at it."""
    from paycli import sandbox
    from paycli.sandbox.store import Merchant

    merchant = Merchant("slowm", "slowm_public", "slowm_private", {"slowm_usd": "USD"})
    running = sandbox.start(tmp_path / "slow.db", [merchant], latency_ms=1000)
    write_config(f"""
        default_profile: slow
        profiles:
          slow:
            environment: local
            url: {running.url}
            merchant_id: slowm
            public_key: slowm_public
            private_key_env: SLOW_KEY
    """)
    yield running
    running.stop()


@pytest.mark.parametrize("previous", [None, "last night's file\n"])
def test_sigterm_during_an_export_cleans_up_and_exits_143(slow_sandbox, tmp_path: Path, previous: str | None) -> None:
    import signal
    import subprocess
    import sys
    import time

    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "settled.csv"
    if previous is not None:
        target.write_text(previous)
    child = subprocess.Popen(
        [sys.executable, "-m", "paycli", "settlement", "export", "--date", "2026-03-01", "-o", str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SLOW_KEY": "slowm_private", "NO_PROXY": "127.0.0.1"},
    )
    deadline = time.monotonic() + 30
    while not list(folder.glob(".settled.csv.*.tmp")):  # the temporary file exists: the export is writing
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()
        time.sleep(0.02)
    child.send_signal(signal.SIGTERM)
    stdout, stderr = child.communicate(timeout=30)
    assert child.returncode == 143, stderr
    assert os.listdir(folder) == ([] if previous is None else ["settled.csv"])  # no .tmp left beside it
    if previous is not None:
        assert target.read_text() == previous
    assert stderr.splitlines() == ["error: terminated (SIGTERM); nothing was left half-written"]
    assert stdout == ""  # the data was bound for the file (CSV): no error document on stdout either


# where -o writes: symlinks, devices, FIFOs ---------------------------------------------------------------------


def _written_through(path: Path) -> None:
    """Refuse to go on unless atomic_write would write into `path` rather than replace it.

    Tests that write to the machine's own /dev/null or /dev/stdout call this first: as root, a regression
    would otherwise replace those device entries for every process on the machine.
    """
    from paycli.output import _destination

    assert _destination(path)[1] is True, f"atomic_write would replace {path}: not writing it"


def test_a_symlink_is_followed_and_its_target_replaced(folder: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "real"
    elsewhere.mkdir()
    target = elsewhere / "report.json"
    target.write_text("old")
    target.chmod(0o640)
    link = folder / "report.json"
    link.symlink_to(target)
    with atomic_write(link) as handle:
        handle.write("new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new" and target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(folder) == ["report.json"] and os.listdir(elsewhere) == ["report.json"]  # no temp left


def test_a_chain_of_relative_symlinks_is_followed_to_the_end(folder: Path) -> None:
    (folder / "sub").mkdir()
    target = folder / "sub" / "final.csv"
    target.write_text("old")
    (folder / "sub" / "middle.csv").symlink_to("final.csv")
    (folder / "first.csv").symlink_to("sub/middle.csv")
    with atomic_write(folder / "first.csv") as handle:
        handle.write("new")
    assert (folder / "first.csv").is_symlink() and (folder / "sub" / "middle.csv").is_symlink()
    assert target.read_text() == "new" and sorted(os.listdir(folder / "sub")) == ["final.csv", "middle.csv"]


def test_a_dangling_symlink_gets_its_target_created_like_a_shell_redirect(folder: Path) -> None:
    link = folder / "latest.csv"
    link.symlink_to("2026-03-01.csv")
    with atomic_write(link) as handle:
        handle.write("rows")
    assert link.is_symlink() and (folder / "2026-03-01.csv").read_text() == "rows"
    assert sorted(os.listdir(folder)) == ["2026-03-01.csv", "latest.csv"]


def test_a_symlink_loop_is_an_error_and_leaves_nothing(folder: Path) -> None:
    (folder / "a").symlink_to("b")
    (folder / "b").symlink_to("a")
    with pytest.raises(OSError), atomic_write(folder / "a") as handle:
        handle.write("x")
    assert sorted(os.listdir(folder)) == ["a", "b"]


def test_a_fifo_is_written_into_not_replaced(folder: Path) -> None:
    import stat
    import threading

    fifo = folder / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    with atomic_write(fifo) as handle:
        handle.write("through the pipe\n")
    reader.join(timeout=10)
    assert received == [b"through the pipe\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.listdir(folder) == ["pipe"]


@pytest.fixture
def private_null(folder: Path) -> Path:
    """A device node like /dev/null (1, 3) in a test's own directory: safe to get wrong."""
    import stat

    node = folder / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        node.write_text("probe")  # a nodev mount refuses to open it
    except (PermissionError, OSError):
        pytest.skip("cannot make a device node here (not root, or a nodev mount)")
    return node


def test_a_character_device_is_written_into_not_replaced(private_null: Path) -> None:
    import stat

    before = os.lstat(private_null)
    with atomic_write(private_null) as handle:
        handle.write("gone")
    after = os.lstat(private_null)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert os.listdir(private_null.parent) == ["null"]


def test_dev_null_stays_the_machines_dev_null(invoke) -> None:
    import stat

    null = Path("/dev/null")
    _written_through(null)
    before = os.lstat(null)
    run = invoke("-o", null, "nonces")
    after = os.lstat(null)
    assert run.stdout == "" and stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev, after.st_mode) == (before.st_ino, before.st_rdev, before.st_mode)


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"])
def test_dev_stdout_and_descriptor_paths_go_to_the_descriptor(name: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    _written_through(Path(name))
    before = os.lstat("/dev/stdout")
    listing = tmp_path / "out.txt"
    listing.write_text("kept\n")
    with open(listing, "a", encoding="utf-8") as appended:  # like `>> out.txt`: nothing before is lost
        run = subprocess.run(
            [sys.executable, "-m", "paycli", "-f", "json", "-o", name, "nonces"],
            stdout=appended,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert run.returncode == 0, run.stderr
    kept, _, data = listing.read_text().partition("\n")
    assert kept == "kept" and json.loads(data)[0]["nonce"]
    after = os.lstat("/dev/stdout")
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)  # still the same symlink


def test_dev_stdout_into_a_pipe(tmp_path: Path) -> None:
    import subprocess
    import sys

    _written_through(Path("/dev/stdout"))
    run = subprocess.run(
        [sys.executable, "-m", "paycli", "-o", "/dev/stdout", "-f", "ndjson", "nonces"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0 and json.loads(run.stdout.splitlines()[0])["nonce"], run.stderr


def test_output_through_a_symlink_from_the_cli(invoke, folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "nonces.json"
    target.write_text("[]")
    (folder / "nonces.json").symlink_to(target)
    invoke("-o", folder / "nonces.json", "nonces")
    assert (folder / "nonces.json").is_symlink() and json.loads(target.read_text())[0]["nonce"]


def test_output_naming_a_directory_is_a_usage_error(streams: Streams, folder: Path) -> None:
    (folder / "sub").mkdir()
    (folder / "link").symlink_to("sub")
    with pytest.raises(UsageError, match="cannot write --output .*link: Is a directory"):
        streams.output(path=folder / "link").emit(txn(), TXN)


# --results and -o never overwrite batch-refund's input -----------------------------------------------------------


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "relative"])
@pytest.mark.parametrize("option", ["--results", "--output"])
def test_batch_refund_refuses_to_write_over_its_input(
    invoke, sandbox, tmp_path: Path, monkeypatch, how, option
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(f"transaction_id,amount\n{sandbox.sale('5.00', settle=True)},1.00\n", encoding="utf-8")
    other = {
        "same": rows,
        "symlink": tmp_path / "link.csv",
        "hardlink": tmp_path / "hard.csv",
        "relative": Path("./rows.csv"),
    }[how]
    if how == "symlink":
        other.symlink_to(rows)
    elif how == "hardlink":
        os.link(rows, other)
    monkeypatch.chdir(tmp_path)
    run = invoke("batch-refund", rows, option, other, "--yes", code=2)
    assert run.stderr.splitlines() == [
        f"error: {option} {other} is the input file {rows}: writing it would destroy the rows; name another file"
    ]
    assert rows.read_text().startswith("transaction_id,amount\n")
    assert sandbox.running.store.counts(sandbox.merchant.id) == {"settled": 1}  # nothing was refunded


# one Output per destination ------------------------------------------------------------------------------------------


def test_to_gives_an_output_for_another_file_and_leaves_the_original_as_it_was(streams: Streams, folder: Path) -> None:
    out = streams.output(path=Path("{profile}.csv"))

    acme = out.to(folder / "acme.csv")
    acme.emit([txn(1)], TXN)
    out.to(folder / "globex.ndjson").emit([txn(2)], TXN)

    assert (out.path, out.explicit_format, out.fmt) == (Path("{profile}.csv"), None, Format.csv)
    assert (folder / "acme.csv").read_text().splitlines()[0] == "id,amount,status,created_at,refund_ids"
    assert json.loads((folder / "globex.ndjson").read_text())["id"] == "t2"  # its own suffix, its own format
    assert streams.stdout.getvalue() == ""
    acme.note("wrote acme.csv")  # notes of every Output go to the run's one stderr
    assert "wrote acme.csv" in streams.stderr.getvalue()


def test_to_keeps_an_explicit_format_unless_given_another(streams: Streams, folder: Path) -> None:
    out = streams.output(fmt=Format.ndjson)

    assert out.to(folder / "a.csv").fmt is Format.ndjson  # -f beats the suffix, as for -o itself
    assert out.to(folder / "a.json", Format.csv).fmt is Format.csv
    assert out.in_format(Format.table).fmt is Format.table
    assert out.fmt is Format.ndjson


def test_an_error_after_ndjson_lines_of_another_output_is_one_more_line(streams: Streams) -> None:
    out = streams.output()  # json by default off a terminal
    out.in_format(Format.ndjson).stream([txn(1)], TXN)  # what `webhook listen -f json` writes: a stream

    out.fail(NotFound("gone"))

    lines = streams.stdout.getvalue().splitlines()
    assert json.loads(lines[0])["id"] == "t1" and json.loads(lines[1]) == {
        "error": {"type": "not_found", "message": "gone"}
    }


def test_after_a_json_document_of_another_output_no_second_document(streams: Streams) -> None:
    out = streams.output(fmt=Format.json)
    out.to(None).stream([txn(1)], TXN)

    out.fail(NotFound("gone"))

    assert json.loads(streams.stdout.getvalue())[0]["id"] == "t1"  # still one document


def test_a_stream_dropped_when_empty_leaves_the_file_and_stdout_as_they_were(streams: Streams, folder: Path) -> None:
    target = folder / "out.csv"
    target.write_text("previous night\n")

    assert streams.output(path=target).stream([], TXN, drop_if_empty=lambda: True) is None
    assert streams.output(fmt=Format.json).stream([], TXN, drop_if_empty=lambda: True) is None

    assert target.read_text() == "previous night\n" and os.listdir(folder) == ["out.csv"]
    assert streams.stdout.getvalue() == ""
    assert streams.output(path=target).stream([], TXN, drop_if_empty=lambda: False) == 0  # empty, but kept
    assert target.read_text() == "id,amount,status,created_at,refund_ids\n"


def test_nobody_changes_where_an_output_writes_or_how() -> None:
    """Another destination, format or setting is another Output (`to()`, `in_format()`, `with_settings()`)."""
    import ast

    import paycli

    changed = []
    for source in Path(paycli.__file__).parent.rglob("*.py"):
        if source.name == "output.py":
            continue
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, (ast.AugAssign, ast.AnnAssign))
                else []
            )
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr
                    in ("path", "explicit_format", "fmt", "option", "quiet", "verbose", "assume_yes", "terminal")
                    and "out" in ast.unparse(target.value).split(".")[-1]
                ):
                    changed.append(f"{source.name}:{node.lineno}: {ast.unparse(target)}")
    assert changed == []


def test_with_settings_gives_a_new_output_and_leaves_the_original_as_it_was(streams: Streams) -> None:
    out = streams.output(TTY)

    quiet = out.with_settings(quiet=True, no_color=True)
    quiet.note("hidden")
    out.note("shown")

    assert (out.quiet, out.terminal.no_color, quiet.quiet, quiet.terminal.no_color) == (False, False, True, True)
    assert "hidden" not in streams.stderr.getvalue() and "shown" in streams.stderr.getvalue()
    assert out.with_settings().quiet is False and quiet.with_settings().quiet is True  # a switch stays on


def test_a_signal_the_moment_the_temporary_file_is_made_leaves_nothing_behind(tmp_path: Path, monkeypatch) -> None:
    """SIGTERM raises between any two bytecodes: right after the temporary file exists, it must still be removed."""
    import signal

    from paycli import output

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    create = output._create_exclusive

    def create_then_sigterm(name: str) -> int:
        made = create(name)
        os.kill(os.getpid(), signal.SIGTERM)  # its handler runs at once, here, in this thread
        return made

    folder = tmp_path / "exports"
    folder.mkdir()
    previous = signal.signal(signal.SIGTERM, interrupted)
    monkeypatch.setattr(output, "_create_exclusive", create_then_sigterm)
    try:
        with pytest.raises(KeyboardInterrupt), atomic_write(folder / "out.json") as handle:
            handle.write("{}")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert list(folder.iterdir()) == []
