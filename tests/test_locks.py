"""locks.py: one writer per output file across processes, and a killed writer never leaves a stale lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from paycli import locks
from paycli.errors import ConfigError, ExitCode, Unavailable

# Another paycli run, as a separate process: takes the lock, says so, and holds it until its stdin closes.
HOLDER = textwrap.dedent("""
    import sys
    from pathlib import Path

    from paycli import locks

    with locks.exclusive(Path(sys.argv[1]), Path(sys.argv[2])):
        print("held", flush=True)
        sys.stdin.read()
""")


@contextmanager
def held_by_another_process(target: Path, state: Path) -> Iterator[subprocess.Popen[str]]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(target), str(state)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        yield holder
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(timeout=30)


def refusal(target: Path, state: Path) -> Unavailable:
    with pytest.raises(Unavailable) as caught, locks.exclusive(target, state):
        pytest.fail(f"took the lock on {target} while another run held it")
    return caught.value


def test_a_second_process_is_refused_while_the_first_writes_and_let_in_after(tmp_path: Path) -> None:
    target, state = tmp_path / "out" / "export.csv", tmp_path / "state"
    with held_by_another_process(target, state) as holder:
        refused = refusal(target, state)
        assert refused.exit_code == ExitCode.UNAVAILABLE  # try again later, not a configuration problem
        assert refused.message == (
            f"another paycli run (pid {holder.pid}) is writing {target}; try again when it has finished"
        )
        assert refused.details == {"path": str(target), "lock": str(locks.lock_path(target, state))}
        assert holder.stdin is not None
        holder.stdin.close()  # the first run finishes normally
        assert holder.wait(timeout=30) == 0
    with locks.exclusive(target, state) as lock:
        assert lock.read_text() == f"{os.getpid()}\n"


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    target, state = tmp_path / "export.csv", tmp_path / "state"
    with held_by_another_process(target, state) as holder:
        holder.send_signal(signal.SIGKILL)  # no finally, no atexit: only the kernel cleans up
        assert holder.wait(timeout=30) == -signal.SIGKILL
        lock = locks.lock_path(target, state)
        assert lock.read_text() == f"{holder.pid}\n"  # the dead run's file is still there...
        with locks.exclusive(target, state):  # ...and holds nobody back
            assert lock.read_text() == f"{os.getpid()}\n"


def test_the_lock_sits_in_the_state_directory_and_is_kept(tmp_path: Path) -> None:
    outputs, state = tmp_path / "watched-by-accounting", tmp_path / "state"
    outputs.mkdir()
    target = outputs / "2026-03-01.csv"
    with locks.exclusive(target, state) as lock:
        assert lock.parent == state / "locks" and lock.name.startswith("2026-03-01.csv.")
        assert list(outputs.iterdir()) == []  # nothing beside the output
        assert oct(lock.stat().st_mode & 0o777) == oct(0o600)
    # kept after release: deleting it while a third run waits on it would let two runs hold "the" lock
    assert lock.exists()
    with locks.exclusive(target, state) as again:
        assert again == lock


def test_one_file_under_any_name_is_one_lock_and_other_files_are_not_held_back(tmp_path: Path) -> None:
    real, state = tmp_path / "real", tmp_path / "state"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real)
    target = real / "out.csv"
    with locks.exclusive(tmp_path / "alias" / "out.csv", state):
        refusal(target, state)  # the same file through a symlink
        with locks.exclusive(real / "other.csv", state), locks.exclusive(tmp_path / "out.csv", state):
            pass  # another name in the same directory, the same name in another directory
    assert locks.lock_path(target, state) == locks.lock_path(tmp_path / "alias" / "out.csv", state)


def test_a_second_writer_in_the_same_process_is_refused_too(tmp_path: Path) -> None:
    target, state = tmp_path / "out.csv", tmp_path / "state"
    with locks.exclusive(target, state):
        assert f"(pid {os.getpid()})" in refusal(target, state).message


def test_a_state_directory_that_cannot_hold_locks_is_a_config_error_naming_the_lock(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.write_text("a file where the state directory should be")
    target = tmp_path / "out.csv"
    with pytest.raises(ConfigError) as caught, locks.exclusive(target, state):
        pytest.fail("locked without a state directory")
    lock = locks.lock_path(target, state)
    assert caught.value.message.startswith(f"cannot create the lock {lock} for {target}: ")
    assert caught.value.details == {"lock": str(lock)}
