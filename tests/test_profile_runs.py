"""The runner behind `--all-profiles` and `profiles check --all`, called directly: no CLI, no gateway."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from paycli.config import load_profiles
from paycli.errors import ConfigError, NotFound, PartialFailure, Unavailable
from paycli.profile_runs import ProfileRuns, every_configured

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
  initech:
    environment: moon
    merchant_id: ghi789
"""


def work(name: str) -> str:
    if name == "globex":
        raise Unavailable("gateway unreachable")
    return name.upper()


def by_name(name: str) -> str:
    return name


def test_with_every_profile_a_failure_is_collected_and_the_others_still_run() -> None:
    runs = ProfileRuns(keep_going=True)

    outcomes = list(runs.each(["acme", "globex", "initech"], work, name=by_name))

    assert [(o.item, o.result, o.ok) for o in outcomes] == [
        ("acme", "ACME", True),
        ("globex", None, False),
        ("initech", "INITECH", True),
    ]
    assert [name for name, _ in runs.failures] == ["globex"]
    assert isinstance(outcomes[1].error, Unavailable)


def test_with_one_profile_its_own_error_is_raised_at_once() -> None:
    runs = ProfileRuns(keep_going=False, broken={"initech": ConfigError("initech: bad environment")})
    seen = []

    def recording(name: str) -> str:
        seen.append(name)
        return work(name)

    with pytest.raises(Unavailable, match="gateway unreachable"):
        list(runs.each(["globex", "acme"], recording, name=by_name))
    assert seen == ["globex"]  # nothing after the failure runs
    assert runs.failures == []  # a broken profile is no failure of a run that did not ask for it
    runs.finish(1, "export")  # nothing collected: nothing raised


def test_broken_profiles_are_failures_from_the_start_and_count_in_the_total() -> None:
    broken = ConfigError("environment 'moon' is not local, sandbox or production")
    runs = ProfileRuns(keep_going=True, broken={"initech": broken})
    list(runs.each(["acme", "globex"], work, name=by_name))

    with pytest.raises(PartialFailure) as raised:
        runs.finish(2, "export")

    assert raised.value.exit_code == 7
    assert raised.value.message == (
        "export failed for 2 of 3 profiles (globex, initech); the others were written. "
        "initech: environment 'moon' is not local, sandbox or production; "
        "globex: gateway unreachable"
    )
    assert [failure["profile"] for failure in raised.value.details["failures"]] == ["initech", "globex"]


def test_an_error_shared_by_a_file_goes_to_each_profile_that_had_not_failed_already() -> None:
    runs = ProfileRuns(keep_going=True)
    list(runs.each(["acme", "globex"], work, name=by_name))
    locked = Unavailable("another paycli run is writing out.csv")

    runs.fail_each(["acme", "globex"], locked)

    assert [(name, err.message) for name, err in runs.failures] == [
        ("globex", "gateway unreachable"),
        ("acme", "another paycli run is writing out.csv"),
    ]


def test_a_recorded_failure_does_not_stop_a_single_profile_but_finish_raises_it() -> None:
    runs = ProfileRuns(keep_going=False)
    mismatch = PartialFailure("out.csv was written but the export of acme does not reconcile")

    runs.record("acme", mismatch)  # the file is written first; the exit code tells afterwards

    with pytest.raises(PartialFailure) as raised:
        runs.finish(1, "export")
    assert raised.value is mismatch


def test_attempt_turns_a_paycli_error_into_the_profiles_failure_and_lets_bugs_through() -> None:
    runs = ProfileRuns(keep_going=True)
    with runs.attempt("acme"):
        raise NotFound("no such merchant account")
    assert runs.failed_names() == {"acme"}
    with pytest.raises(ZeroDivisionError), runs.attempt("globex"):
        1 / 0  # noqa: B018 - a bug is not a profile's failure


def test_every_configured_leaves_out_the_built_in_local_unless_it_is_all_there_is(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    profiles = load_profiles(write_config(CONFIG), {})
    assert [p.name for p in every_configured(profiles)] == ["acme", "globex"]
    assert set(profiles.broken) == {"initech"}  # broken: not run, a failure of its own (see ProfileRuns)

    nothing_configured = load_profiles(write_config("profiles: {}\n", path=tmp_path / "empty.yaml"), {})
    assert [p.name for p in every_configured(nothing_configured)] == ["local"]
