"""One piece of work run for several profiles (`--all-profiles`, `profiles check --all`), failures collected.

With every profile, one profile's failure is kept and the others still run; a profile the config file could
not validate (`Profiles.broken`) is a failure of its own from the start, since it is in no list of profiles to
run. With one profile, its failure is raised as it is, so its own message and exit code reach the user.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from paycli.errors import PartialFailure, PaycliError

if TYPE_CHECKING:
    from paycli.config import Profile, Profiles

T = TypeVar("T")
R = TypeVar("R")


def every_configured(profiles: Profiles) -> list[Profile]:
    """The profiles `--all-profiles` runs for: the built-in `local` (an embedded sandbox, nobody's merchant)
    only when nothing else is configured."""
    configured = [profile for profile in profiles if profile.origin.get("environment") != "built-in"]
    return configured or list(profiles)


@dataclass(frozen=True)
class Outcome(Generic[T, R]):
    """What the work gave for one item: its result, or the failure that was collected."""

    item: T
    result: R | None = None
    error: PaycliError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class ProfileRuns:
    """The failures of one run over profiles, in the order they happened, broken profiles first.

    `keep_going`: every profile was asked for, so failures are collected; otherwise the first is raised.
    """

    def __init__(self, *, keep_going: bool, broken: Mapping[str, PaycliError] | None = None) -> None:
        self.keep_going = keep_going
        self.broken: dict[str, PaycliError] = dict(broken or {}) if keep_going else {}
        self.failures: list[tuple[str, PaycliError]] = list(self.broken.items())

    def fail(self, name: str, err: PaycliError) -> None:
        """`name` failed: collected with every profile, raised with one."""
        if not self.keep_going:
            raise err
        self.failures.append((name, err))

    def fail_each(self, names: Iterable[str], err: PaycliError) -> None:
        """One error shared by several profiles (their common output file): each that has not failed already."""
        if not self.keep_going:
            raise err
        failed = self.failed_names()
        self.failures += [(name, err) for name in names if name not in failed]

    def record(self, name: str, err: PaycliError) -> None:
        """A failure that does not stop even a single profile's run (its file is written; the exit code says
        it is not to be trusted): always collected, raised by `finish`."""
        self.failures.append((name, err))

    def failed_names(self) -> set[str]:
        return {name for name, _ in self.failures}

    @contextmanager
    def attempt(self, name: str) -> Iterator[None]:
        """Run the block for profile `name`; a PaycliError in it is that profile's failure."""
        try:
            yield
        except PaycliError as err:
            self.fail(name, err)

    def each(self, items: Iterable[T], work: Callable[[T], R], name: Callable[[T], str]) -> Iterator[Outcome[T, R]]:
        """`work(item)` for each item in turn, as each finishes; a failure (of the profile `name(item)`) is an
        outcome, not the end."""
        for item in items:
            try:
                result = work(item)
            except PaycliError as err:
                self.fail(name(item), err)
                yield Outcome(item, error=err)
            else:
                yield Outcome(item, result)

    def finish(self, ran: int, what: str) -> None:
        """Raise what went wrong, if anything: the one failure with one profile, else a PartialFailure (exit 7)
        over `ran` profiles and the broken ones."""
        if not self.failures:
            return
        if not self.keep_going:
            raise self.failures[0][1]
        names = sorted(self.failed_names())
        total = ran + len(self.broken)
        detail = "; ".join(f"{name}: {err.message}" for name, err in self.failures)
        raise PartialFailure(
            f"{what} failed for {len(names)} of {total} profiles ({', '.join(names)}); the others were written. "
            f"{detail}",
            failures=[{"profile": name, **err.to_json()} for name, err in self.failures],
        )
