"""Proving that a profile's credentials work, the cheapest way Braintree allows: generate a client token.

A client token needs valid keys and a reachable gateway and moves no money, so a failure here is either
the credentials (the gateway raises ConfigError, exit 4) or the network (Unavailable, exit 6).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from paycli.errors import PaycliError

if TYPE_CHECKING:
    from paycli.config import Profile
    from paycli.profile_runs import ProfileRuns


@dataclass(frozen=True)
class CheckResult:
    ms: int
    token_chars: int


@dataclass(frozen=True)
class ProfileCheck:
    profile: str
    environment: str
    merchant_id: str | None
    ok: bool
    ms: int | None = None
    error: str | None = None
    failure: PaycliError | None = field(default=None, repr=False, compare=False)


def check(gateway: Any) -> CheckResult:
    """Generate a client token and time it; the gateway's PaycliError propagates."""
    started = time.perf_counter()
    token = gateway.generate_client_token()
    elapsed_ms = round((time.perf_counter() - started) * 1000)
    return CheckResult(ms=elapsed_ms, token_chars=len(token or ""))


def check_profiles(
    profiles: Iterable[Profile], connect: Callable[[Profile], Any], runs: ProfileRuns
) -> Iterator[ProfileCheck]:
    """Check each profile in turn; with every profile (`runs.keep_going`), a failing one is a row with its
    error, not the end of the list; with one, its error is raised."""

    def one(profile: Profile) -> tuple[Any, CheckResult]:
        gateway = connect(profile)
        return gateway, check(gateway)

    for outcome in runs.each(profiles, one, name=lambda profile: profile.name):
        profile, err = outcome.item, outcome.error
        if err is not None or outcome.result is None:  # (a result is None only when there is an error)
            yield ProfileCheck(
                profile.name,
                profile.environment,
                profile.merchant_id,
                ok=False,
                error=err.message if err else None,
                failure=err,
            )
            continue
        gateway, result = outcome.result
        # the built-in local profile has no merchant id of its own: show the embedded sandbox's
        merchant = profile.merchant_id or getattr(gateway, "merchant_id", None)
        yield ProfileCheck(profile.name, profile.environment, merchant, ok=True, ms=result.ms)


def unusable(runs: ProfileRuns) -> list[ProfileCheck]:
    """A failed check for each profile the config could not validate (with every profile only)."""
    return [ProfileCheck(name, "", None, ok=False, error=err.message, failure=err) for name, err in runs.broken.items()]
