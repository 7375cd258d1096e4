"""This run's state (`Invocation`) and the `@command` decorator every command goes through.

The root callback builds one Invocation per run (never at import: `CliRunner` swaps the streams per run)
and makes it current; commands reach it with `Invocation.current()`. The profile and the gateway are made
on first use, so `paycli nonces` never reads the config file and `paycli --help` never imports braintree.
`@command` adds the trailing `--format/--output/--yes` and wraps the command in `guarded`, the one place
where exceptions become a message and an exit code.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Mapping
from contextlib import ExitStack, suppress
from contextvars import ContextVar
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from paycli.cli.options import FormatOpt, OutputOpt, YesOpt
from paycli.errors import Declined, InternalError, Interrupted, PaycliError
from paycli.formats import Format

if TYPE_CHECKING:
    from paycli.config import Profile, Profiles
    from paycli.output import Terminal

F = TypeVar("F", bound=Callable[..., Any])

_current: ContextVar[Invocation | None] = ContextVar("paycli_invocation", default=None)


class Invocation:
    """One run of paycli: its global options, its Output, and the profile and gateways it uses."""

    def __init__(
        self,
        *,
        profile: str | None = None,
        config: Path | None = None,
        fmt: Format | None = None,
        output: Path | None = None,
        no_color: bool = False,
        quiet: bool = False,
        verbose: bool = False,
        yes: bool = False,
        env: Mapping[str, str] | None = None,
        terminal: Terminal | None = None,
    ) -> None:
        from paycli.output import Output, Terminal  # here: `paycli --help` never builds an Invocation

        self.env: Mapping[str, str] = dict(os.environ if env is None else env)
        self.requested_profile = profile
        self.config_path = config
        self.verbose = verbose
        self.debug = self.env.get("PAYCLI_DEBUG", "") not in ("", "0")
        self.yes = yes
        self.output = Output(
            terminal or Terminal.detect(env=self.env, no_color=no_color),
            fmt=fmt,
            path=output,
            quiet=quiet,
            verbose=verbose,
            debug=self.debug,
            assume_yes=yes,
        )
        self._profiles: Profiles | None = None
        self._gateways: dict[tuple[str, bool], Any] = {}
        self._journal: Any = None
        self._cleanup = ExitStack()

    @classmethod
    def current(cls) -> Invocation:
        run = _current.get()
        if run is None:
            raise RuntimeError("no paycli run is active: commands run under paycli.cli.app's root callback")
        return run

    def activate(self) -> Invocation:
        _current.set(self)
        return self

    def apply(self, params: Mapping[str, Any]) -> Invocation:
        """Take `--format/--output/--yes` typed after the command; they win over the same options typed before."""
        if params.get("fmt") is not None:
            self.output.explicit_format = params["fmt"]
        if params.get("output") is not None:
            self.output.path = params["output"]
        if params.get("yes"):
            self.yes = self.output.assume_yes = True
        return self

    @property
    def profiles(self) -> Profiles:
        """Every profile, loaded and validated on first use; config warnings are shown once, here."""
        if self._profiles is None:
            from paycli.config import load_profiles

            self._profiles = load_profiles(self.config_path, self.env)
            for warning in self._profiles.warnings:
                self.output.warn(warning)
        return self._profiles

    def selected_name(self) -> str:
        return self.profiles.selected_name(self.requested_profile, self.env)[0]

    @property
    def profile(self) -> Profile:
        name, why = self.profiles.selected_name(self.requested_profile, self.env)
        return self.profiles.get(name, why=why)

    def gateway(self, *, offline: bool = False) -> Any:
        """The selected profile's gateway, connected on first use; `offline`: for webhook signing (no requests)."""
        return self.gateway_for(self.profile, offline=offline)

    def gateway_for(self, profile: Profile, *, offline: bool = False) -> Any:
        """A gateway per profile (for `--all-profiles`); closed when the run ends if it has `close()`."""
        key = (profile.name, offline)
        if key not in self._gateways:
            from paycli.gateway import connect

            gateway = connect(profile, log=self.output.log if self.verbose else None, notify=self.output.note,
                              offline=offline)
            if callable(getattr(gateway, "close", None)):
                self._cleanup.callback(gateway.close)
            self._gateways[key] = gateway
        return self._gateways[key]

    def journal(self) -> Any:
        """The money-moving journal (the config's `journal`, else SQLite under the state directory), opened on first use."""
        if self._journal is None:
            from paycli.journal import Journal

            self._journal = Journal(self.profiles.journal.target)
            self._cleanup.callback(self._journal.close)
        return self._journal

    def confirm(self, prompt: str) -> bool:
        return self.output.confirm(prompt)

    def close(self) -> None:
        """End of the run: stop embedded sandboxes and forget this run."""
        try:
            self._cleanup.close()
        finally:
            self._gateways.clear()
            if _current.get() is self:
                _current.set(None)


def command(
    app: typer.Typer, name: str, *, data: bool = True, confirms: bool = False, **settings: Any
) -> Callable[[F], F]:
    """Register `fn` as command `name` on `app`, with trailing output options and the error boundary.

    `data=True` adds `--format` and `--output`; `confirms=True` adds `--yes`. A command may declare
    `fmt`, `output` or `yes` itself (with `FormatOpt`, `OutputOpt`, `YesOpt`) to read them; otherwise they
    are applied to the Invocation and not passed in. Returns `fn` unchanged, so it stays callable in tests.
    """

    def register(fn: F) -> F:
        own = inspect.signature(fn, eval_str=True)
        trailing = []
        if data:
            trailing += [_keyword("fmt", FormatOpt, None), _keyword("output", OutputOpt, None)]
        if confirms:
            trailing.append(_keyword("yes", YesOpt, False))
        extra = [param for param in trailing if param.name not in own.parameters]
        wrapper = guarded(fn)
        wrapper.__signature__ = own.replace(parameters=[*own.parameters.values(), *extra])  # type: ignore[attr-defined]
        app.command(name, **settings)(wrapper)
        return fn

    return register


def _keyword(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def guarded(fn: F) -> F:
    """Run a command so that every failure becomes one stderr line, a JSON error document and an exit code."""
    accepts = set(inspect.signature(fn).parameters)

    @wraps(fn)
    def run(**params: Any) -> None:
        out = Invocation.current().apply(params).output
        try:
            fn(**{key: value for key, value in params.items() if key in accepts})
        except typer.Exit:
            raise
        except PaycliError as err:
            raise typer.Exit(out.fail(err, _view_for(err))) from None
        except KeyboardInterrupt:
            raise typer.Exit(out.fail(Interrupted("interrupted"))) from None
        except BrokenPipeError:
            # the reader (`| head`) stopped listening: not a bug, and nothing left to tell it
            _silence_stdout()
            raise typer.Exit(int(Interrupted.exit_code)) from None
        except Exception as err:  # a bug: exit 1, traceback only with --verbose or PAYCLI_DEBUG=1
            raise typer.Exit(out.fail(InternalError.from_bug(err))) from None

    return run  # type: ignore[return-value]


def _view_for(err: PaycliError) -> Any:
    if isinstance(err, Declined):
        from paycli.cli import views

        return views.view_for(err.transaction)
    return None


def _silence_stdout() -> None:
    # Python flushes stdout at exit; pointing fd 1 at /dev/null stops a second BrokenPipeError there
    with suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
