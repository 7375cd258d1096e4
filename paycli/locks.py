"""Exclusive locks on the files paycli writes, so two runs (two cron jobs, a rerun and a straggler) never
write the same output at once.

A lock is `flock` on a small file under the state directory (beside the journal and the embedded sandbox), named after the
output's absolute path, not next to the output: a directory that accounting programs watch gets no
`.lock` files. The kernel drops an flock when its process ends, however it ends, so a killed run never
leaves a stale lock behind. Lock files are kept, not deleted: deleting one while another process waits on
it would let a third take a different lock on a new file of the same name.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from paycli.errors import ConfigError, Unavailable


def lock_path(target: Path, state_dir: Path) -> Path:
    resolved = Path(os.path.realpath(target))
    digest = hashlib.sha256(str(resolved).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return state_dir / "locks" / f"{resolved.name[:60]}.{digest}.lock"


@contextmanager
def exclusive(target: Path, state_dir: Path) -> Iterator[Path]:
    """Hold the lock for writing `target`; Unavailable (exit 6: try again later) if another run holds it."""
    path = lock_path(target, state_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as err:
        raise ConfigError(
            f"cannot create the lock {path} for {target}: {err.strerror or err}", lock=str(path)
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            raise Unavailable(
                f"another paycli run{holder} is writing {target}; try again when it has finished",
                path=str(target),
                lock=str(path),
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for the message above and for a person
        yield path
    finally:
        os.close(fd)  # releases the flock


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""
