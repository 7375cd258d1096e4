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
import re
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from contextlib import ExitStack, suppress
from contextvars import ContextVar
from enum import Enum
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, get_args

import typer
from typer.core import TyperGroup

from paycli.cli.options import FormatOpt, NoColorOpt, OutputOpt, ProfileOpt, QuietOpt, VerboseOpt, YesOpt
from paycli.errors import Declined, ExitCode, InternalError, Interrupted, PaycliError, Terminated
from paycli.formats import Format

if TYPE_CHECKING:  # types only: importing these at run time would load braintree for `paycli --help`
    from paycli.config import Profile, Profiles
    from paycli.gateway import Gateway
    from paycli.journal import Journal
    from paycli.output import Output, Terminal

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
        self._gateways: dict[tuple[str, bool], Gateway] = {}
        self._journal: Journal | None = None
        self._cleanup = ExitStack()

    @classmethod
    def current(cls) -> Invocation:
        run = _current.get()
        if run is None:
            raise RuntimeError("no paycli run is active: commands run under paycli.cli.app's root callback")
        return run

    def activate(self) -> Invocation:
        _current.set(self)
        self._handle_sigterm()
        return self

    def _handle_sigterm(self) -> None:
        """SIGTERM stops the run the way Ctrl-C does: temporary files removed, locks released, exit 143.

        Python's default for SIGTERM is to die on the spot, leaving a half-written `.tmp` beside every file
        being written. Only the main thread may set a handler; the previous one is put back when the run ends.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
        self._cleanup.callback(signal.signal, signal.SIGTERM, previous)

    def apply(self, params: Mapping[str, Any]) -> Invocation:
        """Take the global options typed after the command; they win over the same options typed before."""
        # the run's Output from here on is a new one with these options; none is changed in place
        path = params["output"] if params.get("output") is not None else self.output.path
        self.output = self.output.to(path, params.get("fmt")).with_settings(
            quiet=bool(params.get(GLOBAL_QUIET)),
            verbose=bool(params.get(GLOBAL_VERBOSE)),
            assume_yes=bool(params.get("yes")),
            no_color=bool(params.get(GLOBAL_NO_COLOR)),
        )
        self.yes = self.yes or bool(params.get("yes"))
        self.verbose = self.verbose or bool(params.get(GLOBAL_VERBOSE))
        if params.get(GLOBAL_PROFILE) is not None:
            self.requested_profile = params[GLOBAL_PROFILE]
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

    def gateway(self, *, offline: bool = False) -> Gateway:
        """The selected profile's gateway, connected on first use; `offline`: for webhook signing (no requests)."""
        return self.gateway_for(self.profile, offline=offline)

    def gateway_for(self, profile: Profile, *, offline: bool = False) -> Gateway:
        """A gateway per profile (for `--all-profiles`); closed when the run ends if it has `close()`.

        It reads this run's environment (`env`), never the process's: the private key's variable and the
        state directory of an embedded sandbox come from there.
        """
        key = (profile.name, offline)
        if key not in self._gateways:
            from paycli.config import state_dir
            from paycli.gateway import connect

            gateway = connect(
                profile,
                env=self.env,
                state_dir=state_dir(self.env),
                log=self.output.log if self.verbose else None,
                notify=self.output.note,
                offline=offline,
            )
            if callable(getattr(gateway, "close", None)):
                self._cleanup.callback(gateway.close)
            self._gateways[key] = gateway
        return self._gateways[key]

    def journal(self) -> Journal:
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
        # the root's options typed after the command too (`checkout … -q`), unless the command has its own
        trailing += [
            _keyword(GLOBAL_PROFILE, ProfileOpt, None),
            _keyword(GLOBAL_QUIET, QuietOpt, False),
            _keyword(GLOBAL_VERBOSE, VerboseOpt, False),
            _keyword(GLOBAL_NO_COLOR, NoColorOpt, False),
        ]
        taken = {flag for param in own.parameters.values() for flag in _flags(param.annotation)}
        extra = [
            param
            for param in trailing
            if param.name not in own.parameters and not taken & set(_flags(param.annotation))
        ]
        wrapper = guarded(fn)
        wrapper.__signature__ = own.replace(parameters=[*own.parameters.values(), *extra])  # type: ignore[attr-defined]
        app.command(name, **settings)(wrapper)
        return fn

    return register


# parameter names of the global options repeated after a command: never a command's own parameter name
GLOBAL_PROFILE, GLOBAL_QUIET, GLOBAL_VERBOSE, GLOBAL_NO_COLOR = (
    "global_profile",
    "global_quiet",
    "global_verbose",
    "global_no_color",
)


def _flags(annotation: Any) -> tuple[str, ...]:
    """The option names (`--profile`, `-p`) an `Annotated[..., typer.Option(...)]` declares."""
    flags: list[str] = []
    for meta in getattr(annotation, "__metadata__", ()):
        # in Annotated, Typer reads an Option's first argument (its `default`) as the first name
        declared = (getattr(meta, "default", None), *(getattr(meta, "param_decls", None) or ()))
        flags += [flag for flag in declared if isinstance(flag, str) and flag.startswith("-")]
    return tuple(flags)


def _keyword(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def guarded(fn: F) -> F:
    """Run a command so that every failure becomes one stderr line, a JSON error document and an exit code."""
    accepts = set(inspect.signature(fn).parameters)

    @wraps(fn)
    def run(**params: Any) -> None:
        out = Invocation.current().apply(params).output
        try:
            out.check_destination()
            fn(**{key: value for key, value in params.items() if key in accepts})
        except typer.Exit:
            raise
        except PaycliError as err:
            raise typer.Exit(out.fail(err, _view_for(err))) from None
        except TerminationRequested:
            raise typer.Exit(out.fail(Terminated("terminated (SIGTERM); nothing was left half-written"))) from None
        except KeyboardInterrupt:
            raise typer.Exit(out.fail(Interrupted("interrupted"))) from None
        except BrokenPipeError:
            # the reader (`| head`) stopped listening: not a bug and not an interrupt, and nothing left to tell
            # it; quiet, with the status a Unix filter killed by SIGPIPE has
            _silence_stdout()
            raise typer.Exit(int(ExitCode.CLOSED_PIPE)) from None
        except Exception as err:  # a bug: exit 1, traceback only with --verbose or PAYCLI_DEBUG=1
            raise typer.Exit(out.fail(InternalError.from_bug(err))) from None

    return run  # type: ignore[return-value]


class TerminationRequested(KeyboardInterrupt):
    """SIGTERM, raised in the main thread; a KeyboardInterrupt so every cleanup written for Ctrl-C runs for it."""


def _raise_terminated(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM while cleaning up ends the process at once
    raise TerminationRequested()


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


# parse errors ------------------------------------------------------------------------------------------------
# Typer and Click check option values before any command runs, so their errors never reach `guarded`; the root
# group below turns them into the same one `error: …` line in paycli's words, naming the option.

# Click's exception classes, from wherever this Typer takes Click (newer releases vendor it as typer._click)
_click_errors = sys.modules[typer.BadParameter.__module__]
BadParameter = typer.BadParameter
# typed Any: their module differs between Typer releases, so no stub names them for a checker
ClickException: Any = _click_errors.ClickException
MissingParameter: Any = _click_errors.MissingParameter
NoArgsIsHelpError: Any = getattr(_click_errors, "NoArgsIsHelpError", ())
Abort: tuple[type[BaseException], ...] = (typer.Abort, getattr(_click_errors, "Abort", typer.Abort))


_WHOLE_SENTENCE = 1_000  # characters: longer than any command's first sentence


class RootGroup(TyperGroup):
    """paycli's root command: Typer's group, with usage errors worded by `usage_message`."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """Each command's first sentence, whole and wrapped: Click would cut it with "…" to fit one line."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=_WHOLE_SENTENCE)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, **{**kwargs, "standalone_mode": False})
        argv = list(args[0] if args and args[0] is not None else kwargs.get("args") or sys.argv[1:])
        shell = _named_shell(argv)
        if shell is not None:
            _install_completion(shell)
        try:
            # non-standalone: Click raises its usage errors and returns `typer.Exit` codes instead of exiting
            result = super().main(*args, **{**kwargs, "standalone_mode": False})
        except NoArgsIsHelpError as err:
            err.show()  # `paycli txn` alone: the help is the answer, exit 2
            sys.exit(err.exit_code)
        except ClickException as err:
            _stderr_line(f"error: {usage_message(err)}")
            sys.exit(int(ExitCode.USAGE))
        except Abort:  # Ctrl-C or end of input inside Click itself
            _stderr_line("error: interrupted")
            sys.exit(int(ExitCode.INTERRUPTED))
        sys.exit(result if isinstance(result, int) else 0)


COMPLETION_SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")


def _named_shell(argv: list[str]) -> str | None:
    """`--install-completion zsh`: the shell named after the option, which Typer takes for a stray argument.

    With shellingham installed Typer's option is a flag that detects the running shell, so the zsh a user
    names would get bash's completion (the shell they typed it in).
    """
    if "--install-completion" in argv:
        following = argv[argv.index("--install-completion") + 1 :][:1]
        if following and following[0] in COMPLETION_SHELLS:
            return following[0]
    return None


def _install_completion(shell: str) -> None:
    from typer import _completion_shared  # Typer's own installer, given the shell instead of guessing it

    installed, path = _completion_shared.install(shell=shell, prog_name="paycli", complete_var="_PAYCLI_COMPLETE")
    _stderr_line(f"{installed} completion installed in {path}; it takes effect in a new shell")
    sys.exit(0)


def usage_message(err: Any) -> str:  # a Click usage exception
    """One line saying what was wrong with the command line, naming the option or argument."""
    ctx = getattr(err, "ctx", None)
    see = f" (see '{ctx.command_path} -h')" if ctx is not None else ""
    if isinstance(err, MissingParameter) and err.param is not None:
        return f"{_param_label(err.param)} is required{see}"
    if isinstance(err, BadParameter) and err.param is not None:
        return _bad_value(err, _param_label(err.param)) + see
    return err.format_message().rstrip(".") + see


def _param_label(param: Any) -> str:
    if getattr(param, "param_type_name", "") == "argument":
        return str(param.metavar or param.name.upper())
    long = [opt for opt in param.opts if opt.startswith("--")]
    return max(long or param.opts, key=len)


def _bad_value(err: BadParameter, label: str) -> str:
    choices = _choices(err.param)
    if choices:
        return f"{label} must be one of {', '.join(choices)}"
    cause = err.__cause__
    problems = cause.errors() if callable(getattr(cause, "errors", None)) else []  # type: ignore[union-attr]
    if not problems:  # a check of Typer's own, most often a path's kind ("File '/tmp' is a directory.")
        path = _TYPER_PATH_PROBLEM.fullmatch(err.message)
        if path:
            return f"{label} {path['path']} {path['problem']}" + (
                "; name a file" if "directory" in path["problem"] else ""
            )
        return f"{label}: {err.message[:1].lower()}{err.message[1:]}".rstrip(".")
    problem = problems[0]
    given, limits, kind = problem.get("input"), problem.get("ctx") or {}, str(problem.get("type", ""))
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bounds = {
            "greater_than_equal": f"at least {limits.get('ge')}",
            "greater_than": f"more than {limits.get('gt')}",
            "less_than_equal": f"at most {limits.get('le')}",
            "less_than": f"less than {limits.get('lt')}",
        }
        return f"{label} must be {bounds[kind]}, not {given}"
    if kind.startswith("int_"):
        return f"{label} '{given}' is not a whole number"
    if kind.startswith(("float_", "decimal_")):
        return f"{label} '{given}' is not a number"
    if kind.startswith("bool_"):
        return f"{label} '{given}' is not true or false"
    return f"{label} '{given}' is not a valid value"


_TYPER_PATH_PROBLEM = re.compile(
    r"(?:File|Directory|Path|file|directory|path) (?P<path>'.*') (?P<problem>is a "
    r"directory|is a file|is not readable|is not writable|does not exist)\.?"
)


def _choices(param: Any) -> tuple[str, ...]:
    """The values of the Enum an option takes (`--format`), however Typer wrapped it."""
    pending = [getattr(getattr(param, "type_descriptor", None), "annotation", None)]
    while pending:
        annotation = pending.pop()
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            return tuple(str(member.value) for member in annotation)
        pending.extend(get_args(annotation))
    return ()


def _stderr_line(line: str) -> None:
    with suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


def serve_until_stopped(out: Output, stop: Callable[[], None]) -> None:
    """Keep a server of this run (sandbox, storefront) up until Ctrl-C or SIGTERM, then stop it."""
    import threading

    out.note("Ctrl-C stops it.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        out.note("stopped")
    finally:
        stop()
