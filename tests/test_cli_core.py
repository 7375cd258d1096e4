from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
from typer.models import CommandInfo

from paycli import __version__
from paycli.cli.app import app, configure
from paycli.cli.options import FormatOpt
from paycli.cli.runtime import Invocation, command
from paycli.config import Profile
from paycli.dates import parse_instant
from paycli.errors import (
    ConfigError,
    Declined,
    GatewayRefused,
    NotFound,
    PartialFailure,
    Unavailable,
    UsageError,
)
from paycli.money import parse_amount

SECRET = "s3cr3t-private-key-value"

CONFIG = f"""
default_profile: acme-sandbox
profiles:
  acme-sandbox:
    environment: sandbox
    merchant_id: abc123
    public_key: pub_xxx
    private_key: {SECRET}
    timezone: America/New_York
  acme-production:
    environment: production
    merchant_id: abc123
    public_key: pub_yyy
    private_key_env: ACME_PROD_PRIVATE_KEY
"""


def commands(typer_app: typer.Typer, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, CommandInfo]]:
    for info in typer_app.registered_commands:  # Typer's own registry, no Click involved
        yield " ".join((*prefix, info.name or "")), info
    for group in typer_app.registered_groups:
        assert group.typer_instance is not None
        yield from commands(group.typer_instance, (*prefix, group.name) if group.name else prefix)


def one_line_error(run: Any, says: str) -> None:
    """The promise for every failure: exactly one stderr line, no traceback anywhere."""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: ") and says in lines[0], lines[0]
    assert "Traceback" not in run.stderr + run.stdout


# ---- help, version, startup ------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "info"), list(commands(app)))
def test_every_command_has_help(invoke: Callable[..., Any], path: str, info: CommandInfo) -> None:
    assert (info.callback.__doc__ or "").strip(), f"{path} has no help text"
    assert invoke(*path.split(), "--help").stdout


def test_version(invoke: Callable[..., Any]) -> None:
    assert invoke("--version").stdout == f"paycli {__version__}\n"


def test_no_arguments_shows_help(invoke: Callable[..., Any]) -> None:
    run = invoke(code=2)
    assert "Usage: paycli" in run.stdout + run.stderr


def _import_log(*args: str) -> str:
    cmd = [sys.executable, "-X", "importtime", "-m", "paycli", *args]  # the import log goes to stderr
    run = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stderr


def test_help_does_not_import_braintree_yaml_or_the_sandbox() -> None:
    log = _import_log("--help")
    for module in ("braintree", "yaml", "paycli.sandbox", "paycli.gateway", "rich.console"):
        assert f" {module}\n" not in log and f" {module}." not in log, module


def test_version_does_not_import_rich() -> None:
    assert "rich" not in _import_log("--version")


@pytest.mark.slow  # two paycli processes
def test_piped_output_is_json_and_errors_keep_their_exit_code(isolated_env: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "paycli", "profiles", "list"], capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)[0]["name"] == "local" and ok.stderr == ""
    bad = subprocess.run(
        [sys.executable, "-m", "paycli", "-p", "nope", "profiles", "show"], capture_output=True, text=True
    )
    assert bad.returncode == 4
    assert json.loads(bad.stdout)["error"]["type"] == "config"
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("error: profile 'nope'")


# ---- profiles -------------------------------------------------------------------------------------------


def test_profiles_list_marks_the_selected_profile(
    invoke: Callable[..., Any], write_config: Callable[..., Path]
) -> None:
    write_config(CONFIG)
    rows = invoke("profiles", "list").json()
    assert [(row["name"], row["selected"]) for row in rows] == [
        ("acme-sandbox", True),
        ("acme-production", False),
        ("local", False),
    ]
    rows = invoke("-p", "local", "profiles", "list").json()
    assert [row["name"] for row in rows if row["selected"]] == ["local"]


def test_profiles_list_as_csv_has_stable_columns(invoke: Callable[..., Any], write_config: Callable[..., Path]) -> None:
    write_config(CONFIG)
    rows = list(csv.DictReader(io.StringIO(invoke("profiles", "list", "-f", "csv").stdout)))
    assert list(rows[0]) == [
        "name",
        "selected",
        "environment",
        "merchant_id",
        "public_key",
        "private_key",
        "private_key_source",
        "url",
        "timezone",
    ]
    assert rows[1]["private_key_source"] == "env: ACME_PROD_PRIVATE_KEY"


def test_profiles_show_redacts_the_key_and_says_where_each_value_comes_from(
    invoke: Callable[..., Any], write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(CONFIG)
    monkeypatch.setenv("ACME_PROD_PRIVATE_KEY", "set")  # unset, it would show MISSING
    shown = invoke("profiles", "show").json()
    assert shown["name"] == "acme-sandbox"
    assert shown["private_key"] == "****"
    assert shown["private_key_source"] == f"inline: {path}"
    assert shown["origin"]["timezone"] == f"{path}: profiles.acme-sandbox.timezone"
    assert shown["origin"]["search_cap"] == "default"
    table = invoke("-f", "table", "profiles", "show", "acme-production").stdout
    assert "****" in table and "env: ACME_PROD_PRIVATE_KEY" in table and "default" in table


@pytest.mark.parametrize("fmt", ["table", "json", "ndjson", "csv"])
@pytest.mark.parametrize("subcommand", [("list",), ("show",), ("show", "acme-sandbox")])
def test_the_private_key_never_reaches_output(
    invoke: Callable[..., Any], write_config: Callable[..., Path], fmt: str, subcommand: tuple[str, ...]
) -> None:
    write_config(CONFIG)
    run = invoke("-v", "-f", fmt, "profiles", *subcommand)
    assert SECRET not in run.stdout + run.stderr


def test_profiles_show_of_an_unknown_profile_is_a_config_error(
    invoke: Callable[..., Any], write_config: Callable[..., Path]
) -> None:
    write_config(CONFIG)
    run = invoke("profiles", "show", "acme", code=4)
    one_line_error(run, "profile 'acme' (from argument) is not defined in")
    assert run.json()["error"]["type"] == "config"


class StubGateway:
    """Stands in for paycli.gateway's object: these tests are about the command, not the wire."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.failure = failure

    def generate_client_token(self) -> str:
        if self.failure:
            raise self.failure
        return "eyJ2ZXJzaW9uIjoyfQ=="


@pytest.fixture
def gateways(monkeypatch: pytest.MonkeyPatch) -> dict[str, StubGateway]:
    stubs: dict[str, StubGateway] = {}

    def gateway_for(self: Invocation, profile: Profile) -> StubGateway:
        return stubs.get(profile.name, StubGateway())

    monkeypatch.setattr(Invocation, "gateway_for", gateway_for)
    return stubs


def test_profiles_check_reports_a_working_profile(invoke: Callable[..., Any], gateways: dict[str, StubGateway]) -> None:
    [row] = invoke("profiles", "check").json()
    assert row["profile"] == "local" and row["ok"] is True and isinstance(row["ms"], int)
    assert "failure" not in row


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (ConfigError("authentication failed for merchant abc123: check the public and private key"), 4),
        (Unavailable("sandbox.braintreegateway.com unreachable: connection refused"), 6),
    ],
)
def test_profiles_check_exits_with_the_gateways_error(
    invoke: Callable[..., Any], gateways: dict[str, StubGateway], failure: Exception, code: int
) -> None:
    gateways["local"] = StubGateway(failure)
    run = invoke("profiles", "check", "local", code=code)
    one_line_error(run, str(failure))


def test_profiles_check_all_lists_every_profile_and_exits_7_when_some_fail(
    invoke: Callable[..., Any], write_config: Callable[..., Path], gateways: dict[str, StubGateway]
) -> None:
    write_config(CONFIG)
    gateways["acme-production"] = StubGateway(ConfigError("authentication failed"))
    run = invoke("profiles", "check", "--all", "-f", "ndjson", code=7)
    rows = run.ndjson()
    assert [(row["profile"], row["ok"]) for row in rows[:3]] == [
        ("acme-sandbox", True),
        ("acme-production", False),
        ("local", True),
    ]
    assert rows[1]["error"] == "authentication failed"
    assert rows[3]["error"]["type"] == "partial"
    one_line_error(run, "1 of 3 profiles failed the check: acme-production")


def test_profiles_check_for_real_against_the_embedded_sandbox(invoke: Callable[..., Any]) -> None:
    [row] = invoke("profiles", "check", "local").json()
    assert row["ok"] is True


def test_nonces_lists_the_sandbox_test_nonces(invoke: Callable[..., Any]) -> None:
    rows = invoke("nonces").json()
    assert {"nonce", "description", "sale", "verification"} <= set(rows[0])
    assert any(row["nonce"] == "fake-valid-nonce" for row in rows)
    declined = invoke("nonces", "PROCESSOR-DECLINED").json()
    assert declined and all("processor" in json.dumps(row).lower() for row in declined)
    run = invoke("nonces", "no-such-nonce-anywhere", "-f", "csv")
    assert run.stdout == "nonce,sale,verification,description\n"
    assert "no test nonce matches" in run.stderr


# ---- the command boundary -------------------------------------------------------------------------------

probes = typer.Typer()
ERRORS: dict[str, type[Exception]] = {
    "usage": UsageError,
    "refused": GatewayRefused,
    "config": ConfigError,
    "not_found": NotFound,
    "unavailable": Unavailable,
    "partial": PartialFailure,
}


@command(probes, "fail")
def fail(kind: str) -> None:
    """Raise the named PaycliError."""
    raise ERRORS[kind](f"{kind} went wrong", kind=kind)


@command(probes, "bug")
def bug() -> None:
    """Fail the way a bug does."""
    {}["missing"]


@command(probes, "interrupt")
def interrupt() -> None:
    """Fail the way Ctrl-C does."""
    raise KeyboardInterrupt


@command(probes, "declined")
def declined() -> None:
    """Decline a sale."""
    raise Declined("processor declined: 2000 Do Not Honor", {"id": "t1", "status": "processor_declined"})


@command(probes, "amount")
def amount(value: Annotated[str, typer.Option("--amount")]) -> None:
    """Parse an amount the way money-moving commands do."""
    Invocation.current().output.emit({"amount": parse_amount(value)})


@command(probes, "since")
def since(value: Annotated[str, typer.Option("--since")]) -> None:
    """Parse a time in the profile's timezone."""
    run = Invocation.current()
    run.output.emit({"since": parse_instant(value, tz=run.profile.tz, field="--since")})


@command(probes, "refund", confirms=True)
def refund() -> None:
    """Move pretend money after confirmation."""
    run = Invocation.current()
    if run.confirm("Refund 10.00 USD on acme-production?"):
        run.output.emit({"refunded": True})
    else:
        run.output.note("nothing refunded")


@command(probes, "echo-format")
def echo_format(fmt: FormatOpt = None) -> None:
    """A command that reads --format itself."""
    Invocation.current().output.emit({"asked": fmt, "using": Invocation.current().output.fmt})


probe_root = typer.Typer(rich_markup_mode=None)
probe_root.callback()(configure)
probe_root.add_typer(probes)


@pytest.fixture
def probe(invoke: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: object, **kwargs: Any) -> Any:
        return invoke(*args, app=probe_root, **kwargs)

    return run


@pytest.mark.parametrize(
    ("kind", "code"),
    [("usage", 2), ("refused", 3), ("config", 4), ("not_found", 5), ("unavailable", 6), ("partial", 7)],
)
def test_each_error_becomes_its_exit_code_a_line_and_a_json_document(
    probe: Callable[..., Any], kind: str, code: int
) -> None:
    run = probe("fail", kind, code=code)
    one_line_error(run, f"{kind} went wrong")
    assert run.json() == {"error": {"type": kind, "message": f"{kind} went wrong", "kind": kind}}


def test_a_bug_exits_1_with_one_line_and_no_traceback(probe: Callable[..., Any]) -> None:
    run = probe("-f", "table", "bug", code=1)
    one_line_error(run, "unexpected KeyError: 'missing' (a bug in paycli; rerun with --verbose")
    assert run.stdout == ""


@pytest.mark.parametrize("how", ["--verbose", "PAYCLI_DEBUG=1"])
def test_a_traceback_is_shown_only_when_asked_for(
    probe: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    args = ["bug"]
    if how == "--verbose":
        args.insert(0, "-v")
    else:
        monkeypatch.setenv("PAYCLI_DEBUG", "1")
    run = probe(*args, code=1)
    assert "Traceback" in run.stderr and "KeyError" in run.stderr
    assert run.stderr.splitlines()[-1].startswith("error: unexpected KeyError")


def test_ctrl_c_exits_130(probe: Callable[..., Any]) -> None:
    one_line_error(probe("interrupt", code=130), "interrupted")


def test_a_decline_prints_the_transaction_and_exits_3(probe: Callable[..., Any]) -> None:
    run = probe("declined", code=3)
    assert run.json() == {"id": "t1", "status": "processor_declined"}
    one_line_error(run, "processor declined: 2000 Do Not Honor")


def test_format_is_accepted_before_and_after_the_command_and_after_wins(probe: Callable[..., Any]) -> None:
    assert probe("-f", "ndjson", "amount", "--amount", "5").stdout == '{"amount":"5.00"}\n'
    assert probe("amount", "--amount", "5", "-f", "csv").stdout == "amount\n5.00\n"
    assert probe("-f", "ndjson", "amount", "--amount", "5", "--format", "json").json() == {"amount": "5.00"}
    assert probe("echo-format", "-f", "csv").stdout == "asked,using\ncsv,csv\n"


def test_output_after_the_command_writes_the_file_atomically(probe: Callable[..., Any], tmp_path: Path) -> None:
    target = tmp_path / "amount.csv"
    run = probe("amount", "--amount", "7.5", "-o", target)
    assert run.stdout == "" and target.read_text() == "amount\n7.50\n"


def test_money_moves_with_yes_after_the_command(probe: Callable[..., Any]) -> None:
    assert probe("refund", "--yes").json() == {"refunded": True}
    assert probe("-y", "refund").json() == {"refunded": True}


def test_money_does_not_move_without_yes_when_nobody_can_confirm(probe: Callable[..., Any]) -> None:
    run = probe("refund", code=2)
    one_line_error(run, "no terminal to confirm on (Refund 10.00 USD on acme-production?); pass --yes")


def test_a_person_at_a_terminal_is_asked(probe: Callable[..., Any], tty: None) -> None:
    assert "refunded" in probe("-f", "json", "refund", input="y\n").stdout
    run = probe("-f", "json", "refund", input="n\n")
    assert "refunded" not in run.stdout and "nothing refunded" in run.stderr


def test_the_runs_profile_timezone_reaches_date_parsing(
    probe: Callable[..., Any], write_config: Callable[..., Path]
) -> None:
    write_config(CONFIG)
    assert probe("since", "--since", "2026-03-01").json() == {"since": "2026-03-01T00:00:00-05:00"}


# ---- bad input: one line, the right exit code, never a traceback -----------------------------------------

BAD_CONFIGS = [
    ("profiles:\n  a: {environment: local\n", "invalid YAML at line"),
    (
        "profiles:\n  a: {environment: prod}\n",
        "profile 'a', key 'environment': 'prod' is not local, sandbox or production",
    ),
    ("profiles:\n  a: {environment: local, colour: red}\n", "profile 'a', key 'colour': unknown key"),
    (
        "profiles:\n  a: {environment: sandbox, public_key: p, private_key_env: K}\n",
        "profile 'a', key 'merchant_id': missing",
    ),
    ("profiles:\n  a: {environment: local, timezone: Nowhere/Land}\n", "profile 'a', key 'timezone'"),
    (
        "profiles:\n  a: {environment: sandbox, merchant_id: m, public_key: p}\n",
        "profile 'a', key 'private_key_env': missing",
    ),
    ("profile: {}\n", "unknown top-level key 'profile'"),
    ("default_profile: b\nprofiles:\n  a: {environment: local}\n", "key 'default_profile': 'b' is not a profile"),
    (
        f"profiles:\n  p: {{environment: production, merchant_id: m, public_key: k, private_key: {SECRET}}}\n",
        "profile 'p', key 'private_key': refused",
    ),
]


@pytest.mark.parametrize(("text", "says"), BAD_CONFIGS)
@pytest.mark.parametrize("fmt", ["json", "table"])
def test_a_bad_config_file_exits_4_with_one_line(
    invoke: Callable[..., Any], write_config: Callable[..., Path], text: str, says: str, fmt: str
) -> None:
    path = write_config(text, mode=0o644)
    # a command that uses the broken profile (the others still work: see test_everyday_use)
    run = invoke("-f", fmt, "-p", "p" if "\n  p:" in text else "a", "profiles", "show", code=4)
    one_line_error(run, says)
    assert str(path) in run.stderr and SECRET not in run.stdout + run.stderr
    if fmt == "json":
        assert run.json()["error"]["file"] == str(path)


BAD_ARGUMENTS = [
    (
        ("--config", "{tmp}/missing.yaml", "profiles", "list"),
        4,
        "missing.yaml: config file not found (named by --config)",
    ),
    (("-p", "nope", "profiles", "show"), 4, "profile 'nope' (from --profile) is not defined"),
    (("-p", "env", "profiles", "show"), 4, "profile 'env' (from --profile) is not defined"),
    (("profiles", "check", "local", "--all"), 2, "give a profile NAME or --all, not both"),
    (("-o", "{tmp}/no/such/dir/out.json", "profiles", "list"), 2, "cannot write --output"),
    (("amount", "--amount", "10.001"), 2, "--amount '10.001' has more than 2 decimal places"),
    (("amount", "--amount", "-5"), 2, "--amount '-5' is negative"),
    (("amount", "--amount", "1e3"), 2, "--amount '1e3' is not a plain amount"),
    (("amount", "--amount", "1,000"), 2, "--amount '1,000' is not a plain amount"),
    (("amount", "--amount", "0"), 2, "--amount '0' is zero"),
    (("amount", "--amount", "abc"), 2, "--amount 'abc' is not a plain amount"),
    (("amount", "--amount", " "), 2, "--amount is empty"),
    (("since", "--since", "last week"), 2, "--since 'last week' is not a date or time"),
    (("since", "--since", "2026-02-30"), 2, "--since '2026-02-30' is not a calendar date"),
]


@pytest.mark.parametrize(("args", "code", "says"), BAD_ARGUMENTS)
def test_bad_arguments_exit_with_one_line(
    invoke: Callable[..., Any], probe: Callable[..., Any], tmp_path: Path, args: tuple[str, ...], code: int, says: str
) -> None:
    real = [arg.format(tmp=tmp_path) for arg in args]
    run = (probe if real[0] in ("amount", "since") else invoke)(*real, code=code)
    one_line_error(run, says)


def test_a_missing_paycli_config_file_exits_4(
    invoke: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PAYCLI_CONFIG", str(tmp_path / "gone.yaml"))
    one_line_error(invoke("profiles", "list", code=4), "named by $PAYCLI_CONFIG")


def test_an_unknown_paycli_profile_exits_4(invoke: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYCLI_PROFILE", "ghost")
    one_line_error(invoke("profiles", "show", code=4), "profile 'ghost' (from $PAYCLI_PROFILE)")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--bogus", "profiles", "list"), "No such option: --bogus"),
        (("profiles", "list", "--bogus"), "No such option: --bogus"),
        (("-f", "xml", "profiles", "list"), "--format must be one of table, json, ndjson, csv"),
        (("profiles", "list", "--format", "xml"), "--format must be one of table, json, ndjson, csv"),
        (("no-such-command",), "No such command 'no-such-command'"),
        (("txn", "search", "--limit", "0"), "--limit must be at least 1, not 0"),
        (("txn", "search", "--limit", "ten"), "--limit 'ten' is not a whole number"),
        (("settlement", "export", "--concurrency", "99"), "--concurrency must be at most 32, not 99"),
        (("batch-refund", "rows.csv", "--concurrency", "0"), "--concurrency must be at least 1, not 0"),
        (("sandbox", "serve", "--port", "70000"), "--port must be at most 65535, not 70000"),
        (("checkout",), "--amount is required"),
        (("refund",), "ID is required"),
        (("-o", "/", "nonces"), "--output '/' is a directory; name a file"),
    ],
)
def test_typer_usage_errors_exit_2_without_a_traceback(
    invoke: Callable[..., Any], args: tuple[str, ...], says: str
) -> None:
    run = invoke(*args, code=2)
    one_line_error(run, says)
    for library_wording in ("Value error", "Input should be", "Invalid value for", "Usage:", "Try '"):
        assert library_wording not in run.stderr


def test_a_usage_error_points_at_the_commands_help(invoke: Callable[..., Any]) -> None:
    run = invoke("txn", "search", "--limit", "0", code=2)
    assert run.stderr.startswith("error: --limit"), run.stderr
    assert run.stderr.rstrip().endswith("(see 'paycli txn search -h')")


# ---- terminals, colour, files -----------------------------------------------------------------------------


def test_config_warnings_go_to_stderr_and_the_run_goes_on(
    invoke: Callable[..., Any], write_config: Callable[..., Path]
) -> None:
    write_config(CONFIG, mode=0o644)
    run = invoke("profiles", "list")
    assert run.stderr.startswith("warning: ") and "chmod 600" in run.stderr and SECRET not in run.stderr
    assert len(run.json()) == 3


def test_on_a_terminal_the_default_is_a_table(invoke: Callable[..., Any], tty: None) -> None:
    run = invoke("--no-color", "profiles", "list")
    assert "selected" in run.stdout and "local" in run.stdout and "{" not in run.stdout
    assert "\x1b[3" not in run.stdout  # bold headers stay; colours go


@pytest.mark.parametrize("how", ["--no-color", "NO_COLOR=1"])
def test_no_color_on_a_terminal_means_no_colour_codes(
    invoke: Callable[..., Any], tty: None, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    coloured = invoke("-p", "nope", "profiles", "show", code=4)
    assert "\x1b[" in coloured.stderr
    args = ["-p", "nope", "profiles", "show"]
    if how == "--no-color":
        args.insert(0, how)
    else:
        monkeypatch.setenv("NO_COLOR", "1")
    plain = invoke(*args, code=4)
    assert "\x1b[31m" not in plain.stderr and "\x1b[1;31m" not in plain.stderr
    assert plain.stderr.startswith(("error: ", "\x1b[1merror: "))


def test_quiet_drops_notes(invoke: Callable[..., Any]) -> None:
    assert "no test nonce matches" in invoke("nonces", "zzz-nothing").stderr
    assert invoke("-q", "nonces", "zzz-nothing").stderr == ""


def test_output_before_the_command_picks_the_format_from_the_suffix(invoke: Callable[..., Any], tmp_path: Path) -> None:
    target = tmp_path / "profiles.csv"
    assert invoke("-o", target, "profiles", "list").stdout == ""
    assert target.read_text().startswith("name,selected,environment,")


def test_command_modules_keep_real_annotations() -> None:
    """String annotations make Typer evaluate every signature at start-up (~40 ms of each --help)."""
    import paycli.cli

    folder = Path(paycli.cli.__file__).parent
    lazy = [
        path.name
        for path in folder.glob("*.py")
        if path.name not in ("options.py", "runtime.py", "views.py")
        and "from __future__ import annotations" in path.read_text().splitlines()
    ]
    assert lazy == []
