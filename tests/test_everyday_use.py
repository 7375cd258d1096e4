"""Everyday frictions: options anywhere, file formats, profiles, messages, what happened and why."""

from __future__ import annotations

import inspect
import re
from typing import Annotated

import pytest
import typer

from paycli.cli.runtime import command

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


# global options after the command ----------------------------------------------------------------------------


def test_quiet_after_the_command_works_like_before_it(invoke, sandbox) -> None:
    assert "no transactions matched" in invoke("txn", "search", "--order-id", "none").stderr
    assert invoke("txn", "search", "--order-id", "none", "-q").stderr == ""
    assert invoke("txn", "search", "--order-id", "none", "--quiet").stderr == ""


def test_profile_after_the_command_selects_it(invoke, sandbox) -> None:
    run = invoke("txn", "search", "-p", "nosuch", code=4)
    assert "nosuch" in run.stderr
    sale = sandbox.sale("4.00")
    assert invoke("txn", "show", sale, "--profile", "test").json()["id"] == sale


def test_verbose_after_the_command_logs_requests(invoke, sandbox) -> None:
    sale = sandbox.sale("4.00")
    run = invoke("txn", "show", sale, "-v")
    assert re.search(r"\bGET\b.*transactions/" + sale, run.stderr)


def test_no_color_after_the_command_is_plain(invoke, sandbox, tty) -> None:
    sandbox.sale("4.00")
    assert "\x1b" in invoke("txn", "search").stdout
    run = invoke("txn", "search", "--no-color")
    assert "\x1b" not in run.stdout + run.stderr


def test_a_commands_own_option_wins_over_a_trailing_global_one() -> None:
    app = typer.Typer()

    @command(app, "audit-like")
    def audit_like(profile: Annotated[str | None, typer.Option("--profile", help="A filter.")] = None) -> None:
        """A command with its own --profile filter."""

    params = [p.name for p in inspect.signature(app.registered_commands[0].callback).parameters.values()]
    assert "profile" in params and "global_profile" not in params and "global_quiet" in params
