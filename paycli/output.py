"""Everything paycli writes: data on stdout (or `--output FILE`), the rest on stderr.

One `Output` per destination (the run's, and one from `to()` for each other file), built from a `Terminal`
record of TTY flags and colour, so a cron job piping JSON and a person at a terminal get the same code path
with different defaults: `table` on a terminal and `json` otherwise, progress bars only for a person,
prompts only where someone can answer. Rich is imported on
first use so `paycli --version` does not pay for it; nobody else writes ANSI codes.
"""

from __future__ import annotations

import copy
import dataclasses
import errno
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from pathlib import Path, PurePath
from typing import IO, TYPE_CHECKING, Any, TextIO, overload

from paycli.dates import isoformat_z
from paycli.errors import Cancelled, Declined, PaycliError, UsageError
from paycli.formats import GENERIC, SUFFIX_FORMATS, Format, View
from paycli.money import format_amount

if TYPE_CHECKING:
    from rich.console import Console

# A table is rendered once its rows are known (column widths depend on all of them); past this many rows a
# long search shows chunks instead of holding everything back.
TABLE_CHUNK_ROWS = 1000
_UNBOUNDED_COLUMNS = 10_000  # "as wide as the content" for tables written to a pipe or a file


@dataclass(frozen=True)
class Terminal:
    """Which standard streams are terminals, and the colour choice; tests replace `detect`."""

    stdin: bool
    stdout: bool
    stderr: bool
    no_color: bool = False  # --no-color or NO_COLOR
    force_color: bool = False  # FORCE_COLOR

    @classmethod
    def detect(cls, *, env: Mapping[str, str] | None = None, no_color: bool = False) -> Terminal:
        env = os.environ if env is None else env
        return cls(
            stdin=_isatty(sys.stdin),
            stdout=_isatty(sys.stdout),
            stderr=_isatty(sys.stderr),
            # no-color.org: present and not empty; FORCE_COLOR=0 is commonly read as "off"
            no_color=no_color or bool(env.get("NO_COLOR")),
            force_color=env.get("FORCE_COLOR", "") not in ("", "0"),
        )

    @property
    def interactive(self) -> bool:
        """Someone can answer a prompt: we read stdin and ask on stderr."""
        return self.stdin and self.stderr


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def jsonable(value: Any) -> Any:
    """Plain JSON values: Decimal as "10.00", datetimes ISO-8601 with offset, dataclasses as dicts.

    Dataclass fields declared with `repr=False` are left out, so a secret kept out of repr (the inline
    private key) stays out of every output format too.
    """
    if isinstance(value, Enum):  # before str/int: a str-mixin Enum would print as "Format.csv"
        return jsonable(value.value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, datetime):
        return isoformat_z(value)
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value) if f.repr}
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    if isinstance(value, PurePath):
        return str(value)
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def flat(value: Any, *, separator: str = ";") -> str:
    """One CSV/table cell: lists of plain values joined, anything nested as compact JSON."""
    value = jsonable(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return separator.join(str(item) for item in value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@contextmanager
def atomic_write(path: Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """Write `path` so readers see the old file or the whole new one, never a part; on error, nothing is left.

    A symlink is followed: the file it points to is replaced (in that file's directory) and the link stays;
    a dangling link gets its target created, as a shell's `>` would. What is not a regular file (a device
    such as /dev/null, a FIFO, /dev/stdout or /dev/fd/N) is written into directly, never replaced: it has
    no "old version" to keep, and replacing a device entry with a file would break it for everyone.
    """
    destination, direct = _destination(Path(path))
    text_options: dict[str, Any] = {} if binary else {"encoding": "utf-8", "newline": ""}  # csv writes its own newlines
    if direct:
        # O_APPEND: `paycli -o /dev/stdout >> log` adds to the log; no O_CREAT/O_TRUNC for what already exists
        fd = os.open(destination, os.O_WRONLY | os.O_APPEND)
        with os.fdopen(fd, "wb" if binary else "w", **text_options) as handle:
            yield handle
        return
    # SIGTERM and Ctrl-C are exceptions here, raised between any two bytecodes (and a signal held back in this
    # thread would go to another): the temporary file's name is known before the file exists, so whenever
    # one arrives, the `except` below knows what to remove
    temp: str | None = None
    try:
        while True:
            temp = _temporary_name(destination)
            try:
                fd = _create_exclusive(temp)
                break
            except FileExistsError:  # another file's name (as rare as mkstemp's): not ours to remove
                temp = None
        with os.fdopen(fd, "wb" if binary else "w", **text_options) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _keep_mode_and_owner(temp, destination)
        os.replace(temp, destination)
    except BaseException:
        if temp is not None:
            with suppress(FileNotFoundError):
                os.unlink(temp)
        raise
    _fsync_directory(destination.parent)


def _temporary_name(destination: Path) -> str:
    """A random name beside `destination` for its temporary file (as mkstemp picks one)."""
    import secrets

    return str(destination.parent / f".{destination.name}.{secrets.token_hex(4)}.tmp")


def _create_exclusive(name: str) -> int:
    """The new file, owner-only; O_EXCL: never one that already exists."""
    return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)


# Names that stand for a descriptor of this process, whatever it points at: written through, never replaced.
_DESCRIPTOR_PATH = re.compile(r"/dev/(?:stdin|stdout|stderr|fd/[0-9]+)|/proc/(?:self|thread-self|[0-9]+)/fd/[0-9]+")
_MAX_LINKS = 40  # what Linux allows in one lookup before ELOOP


def _destination(path: Path) -> tuple[Path, bool]:
    """Where the data goes, following symlinks one by one, and whether to write into it directly."""
    current = path
    for _ in range(_MAX_LINKS):
        if _DESCRIPTOR_PATH.fullmatch(os.path.abspath(current)):
            return current, True
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return current, False  # a new file (or a dangling link's target): created by the rename
        if stat.S_ISLNK(info.st_mode):
            link = Path(os.readlink(current))
            current = link if link.is_absolute() else current.parent / link  # ".." stays for the kernel
            continue
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        return current, not stat.S_ISREG(info.st_mode)
    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))


def same_file(one: Path, other: Path) -> bool:
    """Whether two names reach the same file (through symlinks or hard links too); False if either is missing."""
    try:
        return os.path.samestat(os.stat(one), os.stat(other))
    except OSError:
        return False


def _keep_mode_and_owner(temp: str, replaced: Path) -> None:
    """A replaced file keeps its mode and, where allowed (root), its owner; a new one gets the usual mode."""
    try:
        info = os.stat(replaced)
    except FileNotFoundError:
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes 0600
        return
    os.chmod(temp, info.st_mode & 0o7777)
    if (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
        with suppress(OSError):  # only root may give a file away; anyone else writes a file of their own
            os.chown(temp, info.st_uid, info.st_gid)


def _umask() -> int:
    # /proc avoids os.umask()'s set-and-restore, which would briefly change the mask for other threads
    with suppress(OSError, ValueError, StopIteration), open("/proc/self/status", encoding="ascii") as status:
        return int(next(line for line in status if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: Path) -> None:
    # makes the rename itself durable; some filesystems and platforms cannot open a directory
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@cache
def _pipe_aware_console() -> type[Console]:
    """rich's Console, except that a closed pipe raises BrokenPipeError like any other write.

    rich's own answer to a closed pipe is `SystemExit(1)`, which would report a reader that stopped reading
    (`| head`) as a bug; the command boundary gives it the closed-pipe exit status instead.
    """
    from rich.console import Console

    class PipeAwareConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True  # nothing more is rendered into a pipe nobody reads
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    return PipeAwareConsole


class ProgressHandle:
    """What a command moves forward; a no-op when no bar is shown, so callers never check."""

    def __init__(self, bar: Any = None, task: Any = None) -> None:
        self._bar = bar
        self._task = task

    def advance(self, steps: float = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, steps)

    def update(self, *, total: float | None = None, description: str | None = None) -> None:
        if self._bar is not None:
            self._bar.update(self._task, total=total, description=description)


class _StdoutUse:
    """Whether data reached stdout yet, and in which format: one record for every Output of a run, since they
    all share the one stdout and the error reported at the end must not make it two JSON documents."""

    def __init__(self) -> None:
        self.format: Format | None = None


class Output:
    """The one writer of a run: data to stdout or `--output`, notes, warnings, prompts and errors to stderr.

    Where data goes and in which format is fixed when an Output is made; another destination is another
    Output (`to()`), made from this one and sharing its streams, so no caller changes what others write to.
    """

    def __init__(
        self,
        terminal: Terminal,
        *,
        fmt: Format | None = None,
        path: Path | None = None,
        quiet: bool = False,
        verbose: bool = False,
        debug: bool = False,
        assume_yes: bool = False,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.terminal = terminal
        self.explicit_format = fmt
        self.path = path
        self.quiet = quiet
        self.verbose = verbose
        self.debug = debug  # PAYCLI_DEBUG=1: tracebacks without the HTTP log
        self.assume_yes = assume_yes
        # taken now, not at import: CliRunner swaps sys.stdout for every run
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.option = "--output"  # what the user typed to name `path`, for the message when it cannot be written
        self._data_console: Console | None = None
        self._err_console: Console | None = None
        self._stdout_use = _StdoutUse()

    def to(self, path: Path | None, fmt: Format | None = None, *, option: str = "--output") -> Output:
        """A new Output for data going to `path` (None or "-": stdout) in `fmt` (None: this Output's explicit
        format, else what the file's suffix names); notes, prompts and stdout are shared, this one is unchanged.

        `option` names the option that gave `path`, for the message if the file cannot be written.
        """
        other = copy.copy(self)
        other.path = path
        other.explicit_format = fmt if fmt is not None else self.explicit_format
        other.option = option
        return other

    def in_format(self, fmt: Format) -> Output:
        """A new Output for the same destination in another format."""
        return self.to(self.path, fmt, option=self.option)

    @property
    def stdout_used(self) -> bool:
        """Data is on stdout already (from this Output or another of the run's)."""
        return self._stdout_use.format is not None

    @property
    def fmt(self) -> Format:
        if self.explicit_format is not None:
            return self.explicit_format
        if self.to_file:
            return SUFFIX_FORMATS.get(Path(self.path).suffix.lower(), Format.json)  # type: ignore[arg-type]
        return Format.table if self.terminal.stdout else Format.json

    def with_settings(
        self, *, quiet: bool = False, verbose: bool = False, assume_yes: bool = False, no_color: bool = False
    ) -> Output:
        """A new Output with these switched on (options typed after the command); this one is unchanged."""
        other = copy.copy(self)
        other.quiet = self.quiet or quiet
        other.verbose = self.verbose or verbose
        other.assume_yes = self.assume_yes or assume_yes
        if no_color:  # no colour or style from now on: consoles made anew
            other.terminal = dataclasses.replace(self.terminal, no_color=True)
            other._data_console = other._err_console = None
        return other

    def check_destination(self) -> None:
        """`-o notes.txt` with no `-f`: a suffix that names no format is a mistake to stop, not JSON to guess.

        A name without a suffix (`-o /dev/stdout`, `-o out`) gets the default of a pipe, JSON.
        """
        if self.explicit_format is not None or not self.to_file:
            return
        suffix = Path(self.path).suffix.lower()  # type: ignore[arg-type]
        if suffix and suffix not in SUFFIX_FORMATS:
            known = ", ".join(SUFFIX_FORMATS)
            raise UsageError(
                f"--output {self.path}: '{suffix}' names no format; use a {known} file, or give "
                f"--format {'|'.join(f.value for f in Format)}",
                path=str(self.path),
            )

    @property
    def to_file(self) -> bool:
        return self.path is not None and str(self.path) != "-"

    @property
    def err(self) -> Console:
        if self._err_console is None:
            self._err_console = self._console(self.stderr, self.terminal.stderr)
        return self._err_console

    def _console(self, stream: IO[str], tty: bool) -> Console:
        return _pipe_aware_console()(
            file=stream,
            force_terminal=tty or self.terminal.force_color,
            no_color=self.terminal.no_color,
            # rich's no_color drops colours only; no colour system drops bold and underline too: plain text
            color_system=None if self.terminal.no_color else "auto",
            highlight=False,
            markup=False,
            emoji=False,
        )

    # data ---------------------------------------------------------------------------------------------

    def emit(self, data: Any, view: View | None = None) -> None:
        """Write one object, or a list of them, in the run's format."""
        view = view or GENERIC
        with self._sink() as sink:
            writer = _writer(self, sink, view)
            if isinstance(data, list) or type(data) is tuple:  # a NamedTuple is one object
                writer.many(data)
            else:
                writer.one(data)

    @overload
    def stream(self, items: Iterable[Any], view: View | None = None) -> int: ...

    @overload
    def stream(
        self, items: Iterable[Any], view: View | None = None, *, drop_if_empty: Callable[[], bool]
    ) -> int | None: ...

    def stream(
        self, items: Iterable[Any], view: View | None = None, *, drop_if_empty: Callable[[], bool] | None = None
    ) -> int | None:
        """Write items as they arrive (ndjson/csv line by line, json as one array); returns how many.

        If the source fails halfway, what was written stays well-formed (the JSON array is closed) and the
        error follows; with `--output` the file is not written at all. `drop_if_empty`, asked once the items
        turned out to be none: True means there was nothing to write, not even an empty document, and a file
        is left as it was; the answer is then None.
        """
        view = view or GENERIC
        try:
            with self._sink() as sink:
                return _writer(self, sink, view).many(_unless_dropped(items, drop_if_empty))
        except _Dropped:
            return None

    @contextmanager
    def _sink(self) -> Iterator[IO[str]]:
        if not self.to_file:
            yield self.stdout
            return
        target = Path(self.path)  # type: ignore[arg-type]
        try:
            with atomic_write(target) as stream:
                yield stream
        except OSError as err:
            raise UsageError(f"cannot write {self.option} {target}: {err.strerror or err}", path=str(target)) from None

    def line(self, text: str, *, style: str = "") -> None:
        """One line of data on stdout for a person (an event as it happens, where a table would wait for all)."""
        from rich.text import Text

        self.table_console(self.stdout).print(Text(text, style=style), soft_wrap=True)

    def table_console(self, stream: IO[str]) -> Console:
        if stream is self.stdout:
            if self._data_console is None:
                self._data_console = self._console(self.stdout, self.terminal.stdout)
            return self._data_console
        return _pipe_aware_console()(
            file=stream, no_color=True, force_terminal=False, highlight=False, markup=False, emoji=False
        )

    # everything else, on stderr -----------------------------------------------------------------------

    def note(self, message: str) -> None:
        """Information for a person (what was done, where a file went); --quiet drops it."""
        if not self.quiet:
            self._say(message)

    def error(self, message: str) -> None:
        """One `error: …` line for a failure reported without an exception; --quiet never hides it."""
        self._say(message, prefix="error: ", style="red")

    def warn(self, message: str) -> None:
        self._say(message, prefix="warning: ", style="yellow")

    def log(self, message: str) -> None:
        """A --verbose line (the redacted HTTP log)."""
        if self.verbose:
            self._say(message, style="dim")

    def _say(self, message: str, *, prefix: str = "", style: str = "") -> None:
        from rich.text import Text

        line = Text.assemble((prefix, f"bold {style}".strip()), (message.replace("\n", " "), style))
        self.err.print(line, soft_wrap=True)

    @property
    def shows_progress(self) -> bool:
        """Bars are for a person watching a table; never in json/ndjson/csv, never with --quiet, and never
        with --no-color/NO_COLOR: plain text has no cursor-moving escapes either, which a live bar needs."""
        return self.fmt is Format.table and self.terminal.stderr and not self.quiet and not self.terminal.no_color

    @contextmanager
    def progress(self, description: str, total: float | None = None) -> Iterator[ProgressHandle]:
        if not self.shows_progress:
            yield ProgressHandle()
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
            redirect_stdout=False,  # else rich would move data written to stdout onto stderr
            redirect_stderr=False,
        ) as bar:
            yield ProgressHandle(bar, bar.add_task(description, total=total))

    def plan_block(self, text: str) -> None:
        """Lines shown above a question (what is about to happen); never hidden by --quiet."""
        self.err.print(text, soft_wrap=True, highlight=False)

    def confirm(self, prompt: str, *, answer_option: str = "--yes") -> bool:
        """Ask on the terminal; `--yes` answers for the user; with nobody to ask, refuse (exit 2).

        `answer_option` names another option that answers this question instead (the caller checks it);
        `--yes` then does not answer it.
        """
        if self.assume_yes and answer_option == "--yes":
            return True
        if not self.terminal.interactive:
            raise UsageError(
                f"no terminal to confirm on ({prompt}); pass {answer_option} to go ahead",
                prompt=prompt,
                option=answer_option,
            )
        from rich.text import Text

        self.err.print(Text.assemble((prompt, "bold"), " [y/N] "), end="")
        answer = self.stdin.readline()
        if not answer.endswith("\n"):
            self.err.print()
        return answer.strip().lower() in ("y", "yes")

    def fail(self, err: PaycliError, view: View | None = None) -> int:
        """Report `err` once: a traceback if asked for, data or an error document on stdout, one line on stderr.

        A traceback is for a bug (exit 1) under --verbose, or for anything under PAYCLI_DEBUG=1: an ordinary
        failure (not found, declined, bad credentials) is told in its one line; -v is the request log.
        """
        from paycli.errors import InternalError

        if self.debug or (self.verbose and isinstance(err, InternalError)):
            import traceback

            self.stderr.write("".join(traceback.format_exception(err)))
            self.stderr.flush()
        if isinstance(err, Declined) and err.transaction is not None:
            shown = self._try(lambda: self.emit(err.transaction, view))
            if not shown:
                self._error_document(err)
        else:
            self._error_document(err)
        if isinstance(err, Cancelled):  # the user's own choice, not a failure
            self._say(err.message)
        else:
            self.error(err.message)
        return int(err.exit_code)

    def _error_document(self, err: PaycliError) -> None:
        fmt = self._stdout_use.format or self.fmt  # after ndjson lines (`webhook listen -f json`), one more line
        if fmt is Format.ndjson:
            options: dict[str, Any] = {"separators": (",", ":")}
        elif fmt is Format.json and not self.stdout_used:
            options = {"indent": 2}
        else:
            return

        def write() -> None:
            self.stdout.write(json.dumps({"error": jsonable(err.to_json())}, ensure_ascii=False, **options) + "\n")
            self.stdout.flush()

        self._try(write)

    @staticmethod
    def _try(write: Callable[[], Any]) -> bool:
        # reporting must not raise over the error it reports (a closed pipe, a view that cannot render)
        try:
            write()
        except Exception:
            return False
        return True


class _Dropped(Exception):
    """Raised through a writer, so that a file being written is removed like any failed write's."""


def _unless_dropped(items: Iterable[Any], drop_if_empty: Callable[[], bool] | None) -> Iterator[Any]:
    count = 0
    for item in items:
        count += 1
        yield item
    if not count and drop_if_empty is not None and drop_if_empty():
        raise _Dropped()


class _Writer:
    def __init__(self, out: Output, sink: IO[str], view: View) -> None:
        self.out = out
        self.sink = sink
        self.view = view
        self.flush_each = sink is out.stdout  # a pipe reader sees each object as soon as it exists

    def row(self, obj: Any) -> Any:
        """The object's JSON shape; a plain value (a token, a count) stays a plain value."""
        return jsonable(obj) if _scalar(obj) else jsonable(self.view.row(obj))

    def one(self, obj: Any) -> None:
        self.many([obj])

    def many(self, items: Iterable[Any]) -> int:
        raise NotImplementedError

    def write(self, text: str) -> None:
        self.sink.write(text)
        if self.flush_each:
            self.out._stdout_use.format = self.out.fmt
            self.sink.flush()


def _scalar(obj: Any) -> bool:
    return obj is None or isinstance(obj, (str, int, float, bool, Decimal))


class _JsonWriter(_Writer):
    def one(self, obj: Any) -> None:
        self.write(json.dumps(self.row(obj), indent=2, ensure_ascii=False) + "\n")

    def many(self, items: Iterable[Any]) -> int:
        count = 0
        try:
            for obj in items:
                body = json.dumps(self.row(obj), indent=2, ensure_ascii=False).replace("\n", "\n  ")
                self.write(("[\n  " if count == 0 else ",\n  ") + body)
                count += 1
        except BaseException:
            if count:  # close the array: stdout stays one valid document, and the error goes to stderr
                self.write("\n]\n")
            raise  # nothing written yet: the error document will be the only document
        self.write("[]\n" if count == 0 else "\n]\n")
        return count


class _NdjsonWriter(_Writer):
    def many(self, items: Iterable[Any]) -> int:
        count = 0
        for obj in items:
            self.write(json.dumps(self.row(obj), ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
        return count


class _CsvWriter(_Writer):
    def many(self, items: Iterable[Any]) -> int:
        import csv

        writer = csv.writer(self.sink, lineterminator="\n")
        columns: tuple[str, ...] | None = self.view.columns or None
        if columns:
            self.write_row(writer, columns)
        count = 0
        for obj in items:
            if _scalar(obj):
                self.write_row(writer, [flat(obj)])
            else:
                row = self.row(obj)
                if columns is None:
                    columns = tuple(row)
                    self.write_row(writer, columns)
                self.write_row(writer, [flat(row.get(column)) for column in columns])
            count += 1
        return count

    def write_row(self, writer: Any, cells: Iterable[str]) -> None:
        writer.writerow(cells)
        if self.flush_each:
            self.sink.flush()


def _show(console: Console, table: Any) -> None:
    # A pipe or file has no width of its own: give the table all it needs rather than folding every cell
    # at rich's default of 80 columns. A terminal keeps its width and rich folds cells to fit.
    if not console.is_terminal:
        unbounded = console.options.update(max_width=_UNBOUNDED_COLUMNS)
        console.width = max(console.width, console.measure(table, options=unbounded).maximum)
    console.print(table)


class _TableWriter(_Writer):
    def one(self, obj: Any) -> None:
        console = self.out.table_console(self.sink)
        if _scalar(obj):
            console.print(flat(obj), soft_wrap=True)
            return
        if self.view.detail is not None:
            rows = [jsonable(dict(r)) for r in self.view.detail(obj)]
            columns = self.view.detail_columns or (tuple(rows[0]) if rows else ())
            _show(console, _table(columns, rows))
            return
        row = self.row(obj)
        scalars = {k: v for k, v in row.items() if not _nested_rows(v)}
        _show(console, _table(("field", "value"), [{"field": k, "value": v} for k, v in scalars.items()], header=False))
        for key, value in row.items():
            if _nested_rows(value):
                _show(console, _table(tuple(value[0]), value, title=key))

    def many(self, items: Iterable[Any]) -> int:
        console = self.out.table_console(self.sink)
        columns: tuple[str, ...] = self.view.table_columns or self.view.columns
        chunk: list[Mapping[str, Any]] = []
        count = 0
        fitted: tuple[str, ...] | None = None  # the first chunk decides, so every chunk has the same columns

        def show() -> None:
            nonlocal fitted
            if fitted is None:
                fitted = _fit(console, columns, chunk, self.view)
                left_out = [column for column in columns if column not in fitted]
                if left_out:
                    self.out.note(
                        f"not shown at {console.width} columns: {', '.join(left_out)} (-f csv shows every column)"
                    )
            _show(console, _table(fitted, chunk))

        try:
            for obj in items:
                row = self.row(obj) if not _scalar(obj) else {"value": obj}
                columns = columns or tuple(row)
                chunk.append(row)
                count += 1
                if len(chunk) >= TABLE_CHUNK_ROWS:
                    show()
                    chunk = []
        except BaseException:
            if chunk:  # rows seen before a failure are still shown, above the error
                show()
            raise
        # an empty result shows its header, except to a person, who is told on stderr by the command instead
        if chunk or (count == 0 and columns and not console.is_terminal):
            show()
        return count


def _unbroken(column: str) -> bool:
    """Ids, amounts and dates are copied whole: a cell of these never wraps (a column is left out instead)."""
    return column in ("id", "date", "currency") or column.endswith(("_id", "_at", "_date")) or "amount" in column


def _fit(console: Console, columns: tuple[str, ...], rows: list[Mapping[str, Any]], view: View) -> tuple[str, ...]:
    """The columns that fit a terminal's width, leaving out the least needed first; all of them off a terminal.

    The first column (what a row is) and the amount are always kept; if even they do not fit, the wrappable
    cells wrap and the rest is cut, but an id is never broken across lines.
    """
    if not console.is_terminal:
        return columns
    kept = list(columns)
    rest = [column for column in reversed(columns) if column not in view.drop_first]
    order = [column for column in view.drop_first if column in columns]
    order += [column for column in rest if not _unbroken(column)] + [column for column in rest if _unbroken(column)]
    order = [column for column in order if column != columns[0] and column not in ("amount", "currency")]
    unbounded = console.options.update(max_width=_UNBOUNDED_COLUMNS)  # else rich reports at most the width

    def fits(candidate: list[str]) -> bool:
        return console.measure(_table(candidate, rows), options=unbounded).maximum <= console.width

    dropped = []
    for column in order:
        if fits(kept):
            break
        kept.remove(column)
        dropped.append(column)
    for column in reversed(dropped[:-1]):  # a wide column dropped later may have made room for a narrow one
        candidate = [name for name in columns if name in kept or name == column]
        if fits(candidate):
            kept = candidate
    return tuple(kept)


def _nested_rows(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


def _table(
    columns: Iterable[str], rows: Iterable[Mapping[str, Any]], *, header: bool = True, title: str | None = None
) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, show_header=header, title=title, title_justify="left"
    )
    columns = tuple(columns)
    for column in columns:
        table.add_column(
            column,
            style="bold" if not header and column == "field" else None,
            overflow="fold",
            no_wrap=_unbroken(column),
        )
    for row in rows:
        # Text, not str: a value like "[red]" is data, not rich markup
        table.add_row(*(Text(flat(row.get(column), separator=", ")) for column in columns))
    return table


def _writer(out: Output, sink: IO[str], view: View) -> _Writer:
    return {
        Format.json: _JsonWriter,
        Format.ndjson: _NdjsonWriter,
        Format.csv: _CsvWriter,
        Format.table: _TableWriter,
    }[out.fmt](out, sink, view)
