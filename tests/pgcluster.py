"""A throwaway PostgreSQL server for tests and benchmarks: `initdb` into a temporary directory, `pg_ctl start`
on 127.0.0.1 and a free port, `pg_ctl stop` and delete at the end.

It runs Debian's (or any) PostgreSQL binaries as found by `pg_config --bindir`, `$PG_BINDIR`, or under
/usr/lib/postgresql/*/bin. PostgreSQL refuses to run as root, so under root the cluster belongs to the
`postgres` system user and every server command goes through `runuser -u postgres`. The server asks for a
password over TCP (scram-sha-256), as a team's server would, so tests exercise libpq's PGPASSWORD and
~/.pgpass rather than trust authentication.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "paycli"
START_TIMEOUT_S = 60


class NoServer(Exception):
    """No PostgreSQL binaries (or no way to run them) on this machine."""


def find_bindir() -> Path:
    named = os.environ.get("PG_BINDIR", "")
    if named:  # an explicit choice is the only candidate: a wrong one is reported, not silently replaced
        if (Path(named) / "initdb").exists() and (Path(named) / "pg_ctl").exists():
            return Path(named)
        raise NoServer(f"PG_BINDIR={named} has no initdb and pg_ctl")
    candidates = []
    if shutil.which("pg_config"):
        done = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(done.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)  # newest major first
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise NoServer("no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql, or set PG_BINDIR")


@dataclass
class Cluster:
    bindir: Path
    directory: Path
    port: int
    password: str
    run_as: str | None  # the system user that owns the cluster when we are root

    host = "127.0.0.1"
    user = SUPERUSER

    @classmethod
    def start(cls, *, fast: bool = True) -> Cluster:
        """A running server; `fast` trades durability (fsync off) for speed, as a test suite may."""
        bindir = find_bindir()
        run_as = None
        if os.geteuid() == 0:
            if not shutil.which("runuser"):
                raise NoServer("running as root without runuser: cannot start PostgreSQL as a normal user")
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise NoServer("running as root and there is no 'postgres' user to own the cluster") from None
            run_as = "postgres"
        directory = Path(tempfile.mkdtemp(prefix="paycli-pg-"))
        password = secrets.token_urlsafe(16)
        if run_as:
            os.chown(directory, owner.pw_uid, owner.pw_gid)
        cluster = cls(bindir, directory, _free_port(), password, run_as)
        try:
            cluster._init(fast)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return cluster

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres", *, with_password: bool = False) -> str:
        secret = f":{self.password}" if with_password else ""
        return f"postgresql://{self.user}{secret}@{self.host}:{self.port}/{database}"

    def _server_cmd(self, *argv: str) -> list[str]:
        return ["runuser", "-u", self.run_as, "--", *argv] if self.run_as else list(argv)

    def _run(self, *argv: str) -> None:
        done = subprocess.run(
            self._server_cmd(*argv),
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
            timeout=START_TIMEOUT_S,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:2])} failed ({done.returncode}): {done.stderr[-2000:]}")

    def _init(self, fast: bool) -> None:
        pwfile = self.directory / "pw"
        pwfile.write_text(self.password + "\n")
        if self.run_as:
            owner = pwd.getpwnam(self.run_as)
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        pwfile.chmod(0o600)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-instructions",
        )
        settings = [
            f"port={self.port}",
            f"listen_addresses='{self.host}'",
            f"unix_socket_directories='{self.directory}'",
            "max_connections=200",
        ]
        if fast:
            settings += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.directory / "server.log"),
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "start",
        )

    def create_database(self, name: str) -> str:
        """A fresh database; returns its URL (without the password)."""
        import psycopg

        with psycopg.connect(self.url(), password=self.password, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
