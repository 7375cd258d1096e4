"""Where each profile's report goes: `-o` with `{date}` and `{profile}` filled in, and the lock it is written under.

A cron line names its files once (`-o /srv/settlement/{profile}/{date}.csv`); each profile's file is worked
out here before anything is fetched, so a bad template fails first. Profiles whose names come out the same
(no `{profile}`) share one file, in profile order. Each file is written under its own lock, so two runs never
write it at once.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

from paycli.errors import UsageError

if TYPE_CHECKING:
    from paycli.config import Profile

PLACEHOLDERS = ("date", "profile")


@dataclass(frozen=True)
class Target:
    """One profile's part of a report: the dates it covers and the file it goes to (None or "-": stdout)."""

    profile: Profile
    days: tuple[date, ...]
    output: Path | None


def is_file(output: Path | None) -> TypeGuard[Path]:
    """Whether `output` names a file, rather than stdout (none given, or `-`)."""
    return output is not None and str(output) != "-"


def fill(template: Path | None, profile: str, days: tuple[date, ...]) -> Path | None:
    """`-o` with its placeholders filled in: {date} is the date, or FIRST_LAST for a range."""
    if not is_file(template):
        return template
    text = str(template)
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        raise UsageError(f"--output '{text}': unbalanced braces; placeholders are {{date}} and {{profile}}") from None
    unknown = [name for name in fields if name not in PLACEHOLDERS]
    if unknown:
        raise UsageError(f"--output '{text}': unknown placeholder {{{unknown[0]}}}; use {{date}} and {{profile}}")
    label = days[0].isoformat() if len(days) == 1 else f"{days[0].isoformat()}_{days[-1].isoformat()}"
    return Path(text.format(date=label, profile=profile))


def plan(
    profiles: Iterable[Profile], template: Path | None, days_for: Callable[[Profile], tuple[date, ...]]
) -> list[Target]:
    """Each profile's dates (`days_for` may refuse a bad date) and file, in profile order."""
    targets = []
    for profile in profiles:
        days = days_for(profile)
        targets.append(Target(profile, days, fill(template, profile.name, days)))
    return targets


def by_output(targets: Iterable[Target]) -> dict[Path | None, list[Target]]:
    """Targets grouped by the file they write, in profile order: without {profile}, they share one file."""
    groups: dict[Path | None, list[Target]] = {}
    for target in targets:
        groups.setdefault(target.output, []).append(target)
    return groups


@contextmanager
def locked(output: Path | None, state_dir: Path) -> Iterator[None]:
    """Hold `output`'s lock while the block writes it; stdout needs none. Unavailable (exit 6) if another run
    holds it."""
    if not is_file(output):
        yield
        return
    from paycli import locks

    with locks.exclusive(output, state_dir):
        yield
