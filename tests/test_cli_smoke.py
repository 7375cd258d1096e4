"""`paycli smoke` and the `paycli sandbox` commands; a few runs of the installed `paycli` script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

STEPS = ["token", "checkout", "find", "search", "settle", "refund", "void", "summary"]


def test_smoke_passes_every_step_on_the_embedded_sandbox(invoke) -> None:
    report = invoke("smoke").json()
    assert report["profile"] == "local" and report["ok"] is True
    assert [s["name"] for s in report["steps"]] == STEPS
    assert all(s["ok"] and isinstance(s["ms"], int) for s in report["steps"])


def test_smoke_against_a_served_sandbox_profile(invoke, sandbox) -> None:
    report = invoke("smoke", "--amount", "12.34").json()
    assert report["profile"] == "test" and report["ok"]
    assert "12.34" in report["steps"][1]["detail"]


def test_smoke_table_shows_pass_rows(invoke, sandbox, tty) -> None:
    run = invoke("smoke")
    assert run.stdout.count("PASS") == len(STEPS) and "smoke passed" in run.stderr


def test_smoke_with_a_declining_amount_fails_and_skips_the_rest(invoke, sandbox) -> None:
    run = invoke("smoke", "--amount", "2000.00", code=3)
    steps = {s["name"]: s for s in run.json()["steps"]}
    assert steps["token"]["ok"] and not steps["checkout"]["ok"]
    assert "Do Not Honor" in steps["checkout"]["detail"]
    assert steps["find"]["detail"].startswith("skipped")
    assert steps["checkout"]["skipped"] is False and steps["token"]["skipped"] is False
    assert all(steps[name]["skipped"] and not steps[name]["ok"] for name in STEPS[2:])


def test_quiet_hides_progress_but_never_the_error(invoke, sandbox) -> None:
    run = invoke("-q", "smoke", "--amount", "2000", code=3)
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: smoke failed on profile test: ")
    assert "Do Not Honor" in lines[0]
    assert invoke("-q", "smoke").stderr == ""  # a pass says nothing under --quiet


def test_the_table_marks_skipped_steps_skip_not_fail(invoke, sandbox, tty) -> None:
    run = invoke("--no-color", "smoke", "--amount", "2000.00", code=3)
    results = {
        line.split()[0]: line.split()[1]
        for line in run.stdout.splitlines()
        if line.split()[:1] in ([name] for name in STEPS)
    }
    assert results == {"token": "PASS", "checkout": "FAIL", **{name: "SKIP" for name in STEPS[2:]}}
    assert "smoke failed on profile test" in run.stderr


def test_smoke_keep_goes_on_after_a_failure(invoke, sandbox) -> None:
    steps = {s["name"]: s for s in invoke("smoke", "--amount", "2000.00", "--keep", code=3).json()["steps"]}
    assert steps["void"]["detail"] != "skipped: an earlier step failed"  # void makes its own sale


def test_smoke_with_wrong_keys_exits_4(invoke, sandbox, monkeypatch) -> None:
    monkeypatch.setenv("PAYCLI_TEST_PRIVATE_KEY", "wrong")
    run = invoke("smoke", code=4)
    assert "authentication failed" in run.json()["steps"][0]["detail"]


def test_smoke_on_production_is_read_only(invoke, monkeypatch, write_config, sandbox) -> None:
    from paycli import smoke
    from paycli.config import Profile

    class ReadOnly:
        profile = Profile(name="prod", environment="production")
        calls: list[str] = []

        def generate_client_token(self, **_: object) -> str:
            self.calls.append("token")
            return "t"

        def search_ids(self, query: object) -> list[str]:
            self.calls.append("search")
            return []

        def settlement_summary(self, day: object) -> list[object]:
            self.calls.append("summary")
            return []

    gateway = ReadOnly()
    report = smoke.run(gateway)  # type: ignore[arg-type]
    assert report.ok and [s.name for s in report.steps] == ["token", "search", "summary"]
    assert gateway.calls == ["token", "search", "summary"]


def test_sandbox_settle_reset_and_status(invoke, sandbox) -> None:
    waiting = [sandbox.sale("4.00"), sandbox.sale("5.00")]
    sandbox.sale("6.00", submit=False)
    settled = invoke("sandbox", "settle", "--all").json()
    assert sorted(t["id"] for t in settled) == sorted(waiting) and {t["status"] for t in settled} == {"settled"}
    status = invoke("sandbox", "status").json()
    assert status["transactions"] == 3 and status["merchant_id"] == sandbox.merchant.id
    declined = invoke("sandbox", "settle", sandbox.sale("7.00"), "--outcome", "settlement_declined").json()
    assert declined[0]["status"] == "settlement_declined"
    assert invoke("sandbox", "reset", "--yes").json()["transactions"] == 0


def test_sandbox_settle_needs_ids_or_all(invoke, sandbox) -> None:
    assert "--all" in invoke("sandbox", "settle", code=2).stderr
    both = invoke("sandbox", "settle", "abc", "--all", code=2).stderr
    assert "--all" in both and "not both" in both, both
    outcome = invoke("sandbox", "settle", "--all", "--outcome", "paid", code=2).stderr
    assert outcome.startswith("error: --outcome 'paid' is not one of"), outcome


def test_sandbox_settle_of_an_authorized_sale_is_refused(invoke, sandbox) -> None:
    assert "91575" in invoke("sandbox", "settle", sandbox.sale("4.00", submit=False), code=3).stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--faults", "refund=explode@0.1"], "unknown kind"),
        (["--faults", "pay=503@0.1"], "unknown route"),
        (["--faults", "*=503@2"], "not in [0, 1]"),
        (["--merchant", "onlyid"], "ID:PUBLIC_KEY:PRIVATE_KEY"),
        (["--timezone", "Mars/Base"], "not an IANA timezone"),
        (["--nightly-settlement", "25:00"], "not a time like 02:00"),
    ],
)
def test_sandbox_serve_rejects_bad_options(invoke, args: list[str], message: str) -> None:
    run = invoke("sandbox", "serve", *args, code=2)
    assert message in run.stderr and len(run.stderr.strip().splitlines()) == 1


# --- the installed script -----------------------------------------------------------------------------


def _paycli() -> list[str]:
    found = shutil.which("paycli", path=os.path.dirname(sys.executable))
    return [found] if found else [sys.executable, "-m", "paycli"]


@pytest.mark.slow  # the installed script in a process of its own
def test_installed_script_smoke_pipes_json(isolated_env) -> None:
    run = subprocess.run([*_paycli(), "smoke"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["ok"] is True


@pytest.mark.slow  # `python -m paycli` in a process of its own
def test_python_dash_m_reports_exit_codes(isolated_env) -> None:
    run = subprocess.run([sys.executable, "-m", "paycli", "txn", "show", "bad.id"], capture_output=True, text=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    error = json.loads(run.stdout)["error"]
    assert error["type"] == "usage" and "bad.id" in error["message"], error


@pytest.mark.slow  # `paycli sandbox serve` in a process of its own
def test_served_sandbox_works_for_another_process(tmp_path, isolated_env) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            *_paycli(),
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "s.db"),
            "--merchant",
            "team:team_pub:team_priv",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stderr.readline()
        assert f"listening on http://127.0.0.1:{port}" in line
        config = tmp_path / "c.yaml"
        config.write_text(
            f"profiles:\n  team:\n    environment: local\n    url: http://127.0.0.1:{port}\n"
            "    merchant_id: team\n    public_key: team_pub\n    private_key_env: TEAM_KEY\n"
        )
        env = {**os.environ, "TEAM_KEY": "team_priv"}
        run = subprocess.run(
            [*_paycli(), "--config", str(config), "-p", "team", "checkout", "--amount", "3.00"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["merchant_account_id"] == "team_usd"
    finally:
        server.terminate()
        server.wait(timeout=10)
