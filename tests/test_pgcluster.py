"""The suite's own PostgreSQL server: real, password-protected, one fresh database per test."""

from __future__ import annotations

import pytest


def test_each_test_gets_an_empty_database_on_a_real_server(postgres_url: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url) as conn:  # the password comes from $PGPASSWORD, as libpq users expect
        version = conn.execute("SHOW server_version_num").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
    assert int(version) >= 120000 and tables == 0


def test_the_server_asks_for_a_password(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    monkeypatch.delenv("PGPASSWORD")
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(postgres_url, connect_timeout=5)


@pytest.mark.slow  # a pytest run in a subprocess
@pytest.mark.parametrize(("ci", "verdict"), [("", "1 skipped"), ("true", "1 error")])
def test_without_a_server_the_tests_skip_locally_and_fail_in_ci(ci: str, verdict: str, tmp_path) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    tests = Path(__file__).parent
    env = {**os.environ, "PG_BINDIR": str(tmp_path / "no-postgres"), "CI": ci}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rs",
            f"{tests / 'test_pgcluster.py'}::test_each_test_gets_an_empty_database_on_a_real_server",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tests.parent,
        timeout=120,
    )
    assert verdict in run.stdout, run.stdout
    assert "no PostgreSQL for the shared-journal tests" in run.stdout and "PG_BINDIR" in run.stdout
