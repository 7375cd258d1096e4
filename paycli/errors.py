"""Error classes and the exit-code table (README, "Output and exit codes").

Every failure a user can cause or meet is a `PaycliError` subclass; its class fixes the exit code and the
JSON `type`, so one boundary (`paycli.cli.runtime.guarded`) can turn any of them into the same one-line
message, the same `{"error": …}` document and the right exit status. Messages are one line that says
what is wrong and how to fix it; they never contain a private key.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, ClassVar


class ExitCode(IntEnum):
    """Exit statuses scripts and cron jobs rely on; pinned by tests, never renumbered."""

    OK = 0
    INTERNAL = 1  # a bug in paycli
    USAGE = 2  # bad option, malformed amount/date/id, missing --yes without a terminal
    REFUSED = 3  # the gateway said no: declined, rejected, validation error
    CONFIG = 4  # profile, YAML, credentials, authentication, authorization
    NOT_FOUND = 5
    UNAVAILABLE = 6  # transient: network, timeout, 429/5xx after retries
    PARTIAL = 7  # a batch or export finished with some rows failed, or did not reconcile
    INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
    CLOSED_PIPE = 141  # 128 + SIGPIPE: the reader (`| head`) stopped reading; what `cat` or `grep` would report
    TERMINATED = 143  # 128 + SIGTERM: stopped by `kill`, systemd or a cron timeout


class PaycliError(Exception):
    """A failure with a user-facing one-line `message` and machine-readable `details`."""

    exit_code: ClassVar[ExitCode] = ExitCode.INTERNAL
    type: ClassVar[str] = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict[str, Any]:
        """The body of the `{"error": …}` document; details may still hold Decimals or datetimes."""
        return {"type": self.type, "message": self.message, **self.details}


class UsageError(PaycliError):
    exit_code = ExitCode.USAGE
    type = "usage"


class GatewayRefused(PaycliError):
    exit_code = ExitCode.REFUSED
    type = "refused"


class Declined(GatewayRefused):
    """A transaction that exists but did not succeed (processor declined, gateway rejected).

    Scripts get the transaction itself on stdout rather than an error object: it has an id, a status
    and the processor response, which is what they need to act on.
    """

    type = "declined"

    def __init__(self, message: str, transaction: Any, **details: Any) -> None:
        super().__init__(message, **details)
        self.transaction = transaction


class ConfigError(PaycliError):
    exit_code = ExitCode.CONFIG
    type = "config"


class NotFound(PaycliError):
    exit_code = ExitCode.NOT_FOUND
    type = "not_found"


class Unavailable(PaycliError):
    exit_code = ExitCode.UNAVAILABLE
    type = "unavailable"


class PartialFailure(PaycliError):
    exit_code = ExitCode.PARTIAL
    type = "partial"


class Cancelled(PaycliError):
    """Someone answered no at a confirmation: nothing was done, by their choice.

    Exit 2, as when no terminal could confirm and no --yes was given: either way the confirmation the
    command needs was not given. Not 130: that is Ctrl-C, which a script may treat as "stop everything".
    """

    exit_code = ExitCode.USAGE
    type = "cancelled"


class Interrupted(PaycliError):
    exit_code = ExitCode.INTERRUPTED
    type = "interrupted"


class Terminated(Interrupted):
    """Stopped by SIGTERM (`kill`, systemd, a cron timeout): cleaned up like Ctrl-C, reported as 143."""

    exit_code = ExitCode.TERMINATED
    type = "terminated"


class InternalError(PaycliError):
    exit_code = ExitCode.INTERNAL
    type = "internal"

    @classmethod
    def from_bug(cls, exc: BaseException) -> InternalError:
        """Wrap an unexpected exception; the original stays as `__cause__` for --verbose tracebacks."""
        text = str(exc).strip().splitlines()
        detail = f": {text[0]}" if text else ""
        err = cls(
            f"unexpected {type(exc).__name__}{detail} (a bug in paycli; rerun with --verbose for the traceback)",
            exception=type(exc).__name__,
        )
        err.__cause__ = exc
        return err
