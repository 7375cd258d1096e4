"""Where each profile's report goes (-o with {date}/{profile}) and its lock, called directly: no CLI."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from paycli import export_targets
from paycli.config import Profile, load_profiles
from paycli.errors import Unavailable, UsageError

CONFIG = """
profiles:
  acme:
    environment: sandbox
    merchant_id: abc123
    public_key: pub_a
    private_key_env: ACME_KEY
  globex:
    environment: sandbox
    merchant_id: def456
    public_key: pub_g
    private_key_env: GLOBEX_KEY
"""
MARCH_1, MARCH_3 = date(2026, 3, 1), date(2026, 3, 3)


@pytest.fixture
def profiles(write_config: Callable[..., Path]) -> list[Profile]:
    return [p for p in load_profiles(write_config(CONFIG), {}) if p.name != "local"]


def test_placeholders_are_filled_with_the_profile_and_the_date_or_the_range() -> None:
    template = Path("/srv/{profile}/settlement-{date}.csv")
    assert export_targets.fill(template, "acme", (MARCH_1,)) == Path("/srv/acme/settlement-2026-03-01.csv")
    assert export_targets.fill(template, "acme", (MARCH_1, date(2026, 3, 2), MARCH_3)) == Path(
        "/srv/acme/settlement-2026-03-01_2026-03-03.csv"
    )
    assert export_targets.fill(None, "acme", (MARCH_1,)) is None  # stdout stays stdout
    assert export_targets.fill(Path("-"), "acme", (MARCH_1,)) == Path("-")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("out-{month}.csv", "--output 'out-{month}.csv': unknown placeholder {month}"),
        ("out-{date.csv", "--output 'out-{date.csv': unbalanced braces"),
    ],
)
def test_a_bad_template_is_a_usage_error_naming_the_option(template: str, message: str) -> None:
    with pytest.raises(UsageError) as raised:
        export_targets.fill(Path(template), "acme", (MARCH_1,))
    assert raised.value.message.startswith(message)


def test_profiles_share_a_file_without_profile_in_it_in_profile_order(profiles: list[Profile]) -> None:
    def one_day(profile: Profile) -> tuple[date, ...]:
        return (MARCH_1,)

    shared = export_targets.by_output(export_targets.plan(profiles, Path("/srv/{date}.csv"), one_day))
    apart = export_targets.by_output(export_targets.plan(profiles, Path("/srv/{profile}.csv"), one_day))
    stdout = export_targets.by_output(export_targets.plan(profiles, None, one_day))

    assert {path: [t.profile.name for t in group] for path, group in shared.items()} == {
        Path("/srv/2026-03-01.csv"): ["acme", "globex"]
    }
    assert {path: [t.profile.name for t in group] for path, group in apart.items()} == {
        Path("/srv/acme.csv"): ["acme"],
        Path("/srv/globex.csv"): ["globex"],
    }
    assert {path: [t.profile.name for t in group] for path, group in stdout.items()} == {None: ["acme", "globex"]}


def test_each_profile_gets_its_own_days(profiles: list[Profile]) -> None:
    days = {"acme": (MARCH_1,), "globex": (MARCH_3,)}

    targets = export_targets.plan(profiles, Path("{profile}-{date}.csv"), lambda profile: days[profile.name])

    assert [(t.profile.name, t.days, t.output) for t in targets] == [
        ("acme", (MARCH_1,), Path("acme-2026-03-01.csv")),
        ("globex", (MARCH_3,), Path("globex-2026-03-03.csv")),
    ]


def test_a_file_is_written_under_its_lock_and_a_second_writer_is_told_to_wait(tmp_path: Path) -> None:
    out, state = tmp_path / "out.csv", tmp_path / "state"

    with export_targets.locked(out, state):
        with pytest.raises(Unavailable) as raised, export_targets.locked(out, state):
            pass  # pragma: no cover - the lock is held
        with export_targets.locked(tmp_path / "other.csv", state):  # another file: its own lock
            pass
    with export_targets.locked(out, state):  # released when the first writer finished
        pass

    assert raised.value.exit_code == 6
    assert f"another paycli run (pid {os.getpid()}) is writing {out}" in raised.value.message
    assert not list(tmp_path.glob("*.lock"))  # locks live under the state directory, not beside the file


def test_stdout_needs_no_lock(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with (
        export_targets.locked(None, state),
        export_targets.locked(Path("-"), state),
        export_targets.locked(None, state),
    ):
        pass
    assert not state.exists()
