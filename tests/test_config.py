from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from paycli.config import (
    PrivateKey,
    Profiles,
    config_path,
    load_profiles,
    select_profile,
    state_dir,
)
from paycli.errors import ConfigError
from paycli.output import jsonable

SECRET = "s3cr3t-private-key-value"

SANDBOX = """
default_profile: acme-sandbox
profiles:
  acme-sandbox:
    environment: sandbox
    merchant_id: abc123
    public_key: pub_xxx
    private_key_env: ACME_SANDBOX_PRIVATE_KEY
    merchant_accounts: {USD: acme_usd, EUR: acme_eur}
    default_merchant_account: acme_usd
    timezone: America/New_York
    search_cap: 1000
  acme-production:
    environment: production
    merchant_id: abc123
    public_key: pub_yyy
    private_key_env: ACME_PROD_PRIVATE_KEY
  team-sandbox:
    environment: local
    url: http://127.0.0.1:4567
    merchant_id: team
    public_key: team_pub
    private_key_cmd: "pass show bt/team"
"""


def env() -> dict[str, str]:
    return dict(os.environ)


def load(path: Path | None = None, **extra: str) -> Profiles:
    return load_profiles(path, {**env(), **extra})


def test_without_a_config_file_there_is_a_builtin_local_profile() -> None:
    profiles = load()
    assert profiles.path is None
    assert profiles.names == ("local",)
    local = select_profile(profiles, None, env())
    assert (local.name, local.environment, local.embedded) == ("local", "local", True)
    assert local.merchant_id is None and local.private_key is None
    assert local.timezone == "UTC" and local.search_cap == 50_000


def test_the_default_file_is_read_from_xdg_config_home(write_config: Callable[..., Path]) -> None:
    path = write_config(SANDBOX)
    profiles = load()
    assert profiles.path == path
    assert profiles.names == ("acme-sandbox", "acme-production", "team-sandbox", "local")
    acme = profiles["acme-sandbox"]
    assert acme.environment == "sandbox"
    assert dict(acme.merchant_accounts) == {"USD": "acme_usd", "EUR": "acme_eur"}
    assert acme.tz.key == "America/New_York"
    assert acme.search_cap == 1000
    assert acme.private_key == PrivateKey("env", "ACME_SANDBOX_PRIVATE_KEY", profile="acme-sandbox")
    assert profiles["team-sandbox"].url == "http://127.0.0.1:4567" and not profiles["team-sandbox"].embedded


def test_config_file_precedence_is_flag_then_env_then_xdg(tmp_path: Path, write_config: Callable[..., Path]) -> None:
    xdg = write_config("profiles: {xdg: {environment: local}}")
    from_env = write_config("profiles: {from-env: {environment: local}}", path=tmp_path / "env.yaml")
    from_flag = write_config("profiles: {from-flag: {environment: local}}", path=tmp_path / "flag.yaml")
    assert "xdg" in load()
    assert "from-env" in load(PAYCLI_CONFIG=str(from_env))
    assert "from-flag" in load(from_flag, PAYCLI_CONFIG=str(from_env))
    assert config_path(None, {"HOME": "/h"}) == (Path("/h/.config/paycli/config.yaml"), "default location")
    assert config_path(None, {"HOME": "/h", "XDG_CONFIG_HOME": "relative"})[0] == Path("/h/.config/paycli/config.yaml")
    assert xdg.exists()


def test_profile_selection_is_flag_then_env_then_default_profile_then_local(write_config: Callable[..., Path]) -> None:
    write_config(SANDBOX)
    profiles = load()
    assert select_profile(profiles, "team-sandbox", {"PAYCLI_PROFILE": "acme-production"}).name == "team-sandbox"
    assert select_profile(profiles, None, {"PAYCLI_PROFILE": "acme-production"}).name == "acme-production"
    assert select_profile(profiles, None, {}).name == "acme-sandbox"
    write_config("profiles: {other: {environment: local}}")
    assert select_profile(load(), None, {}).name == "local"


def test_an_unknown_profile_lists_the_known_ones(write_config: Callable[..., Path]) -> None:
    path = write_config(SANDBOX)
    with pytest.raises(ConfigError) as caught:
        select_profile(load(), None, {"PAYCLI_PROFILE": "acme"})
    message = caught.value.message
    assert "profile 'acme' (from $PAYCLI_PROFILE) is not defined in" in message
    assert str(path) in message and "acme-sandbox, acme-production" in message


def test_the_file_may_redefine_local(write_config: Callable[..., Path]) -> None:
    write_config(
        """
        profiles:
          local:
            environment: local
            url: http://127.0.0.1:9999
            merchant_id: m
            public_key: p
            private_key_env: LOCAL_KEY
        """
    )
    local = load()["local"]
    assert local.url == "http://127.0.0.1:9999" and local.origin["environment"].endswith("profiles.local.environment")


def test_all_four_braintree_variables_form_an_env_profile() -> None:
    variables = {
        "BRAINTREE_ENVIRONMENT": "sandbox",
        "BRAINTREE_MERCHANT_ID": "mid",
        "BRAINTREE_PUBLIC_KEY": "pub",
        "BRAINTREE_PRIVATE_KEY": SECRET,
    }
    profiles = load(**variables)
    profile = select_profile(profiles, "env", variables)
    assert (profile.environment, profile.merchant_id, profile.public_key) == ("sandbox", "mid", "pub")
    assert profile.private_key is not None and profile.private_key.describe() == "env: BRAINTREE_PRIVATE_KEY"
    assert profile.private_key.resolve(variables) == SECRET
    assert profile.origin["merchant_id"] == "$BRAINTREE_MERCHANT_ID"
    assert SECRET not in repr(profiles)


def test_some_braintree_variables_are_not_a_profile_and_selecting_env_names_the_missing_ones() -> None:
    profiles = load(BRAINTREE_ENVIRONMENT="sandbox", BRAINTREE_MERCHANT_ID="mid")
    assert "env" not in profiles
    with pytest.raises(ConfigError, match="missing: BRAINTREE_PUBLIC_KEY, BRAINTREE_PRIVATE_KEY"):
        select_profile(profiles, "env", {})


def test_a_bad_braintree_environment_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"profile 'env', key 'environment': \$BRAINTREE_ENVIRONMENT 'prod'"):
        load(
            BRAINTREE_ENVIRONMENT="prod",
            BRAINTREE_MERCHANT_ID="m",
            BRAINTREE_PUBLIC_KEY="p",
            BRAINTREE_PRIVATE_KEY=SECRET,
        )


def test_each_value_remembers_where_it_came_from(write_config: Callable[..., Path]) -> None:
    path = write_config(SANDBOX)
    origin = load()["acme-production"].origin
    assert origin["merchant_id"] == f"{path}: profiles.acme-production.merchant_id"
    assert origin["private_key"] == f"{path}: profiles.acme-production.private_key_env"
    assert origin["timezone"] == "default" and origin["search_cap"] == "default"
    assert load()["local"].origin["environment"] == "built-in"


def test_a_local_profile_without_url_needs_no_credentials(write_config: Callable[..., Path]) -> None:
    write_config("profiles: {dev: {environment: local, timezone: Europe/Paris}}")
    dev = load()["dev"]
    assert dev.embedded and dev.private_key is None and dev.timezone == "Europe/Paris"


def test_an_empty_config_file_is_allowed(write_config: Callable[..., Path]) -> None:
    path = write_config("")
    profiles = load()
    assert profiles.path == path and profiles.names == ("local",)


# Every broken file gives one line naming the file, the profile and the key.
BAD_PROFILES = [
    (
        "environment: sandbox\n  merchant_id: m\n  public_key: p\n  private_key_env: K\n  colour: red",
        "colour",
        "unknown key",
    ),
    ("environment: prod", "environment", "'prod' is not local, sandbox or production"),
    ("merchant_id: m", "environment", "missing; set it to local, sandbox or production"),
    ("environment: local\n  timezone: Mars/Olympus", "timezone", "not an IANA time zone"),
    ("environment: sandbox\n  public_key: p\n  private_key_env: K", "merchant_id", "missing; a sandbox profile needs"),
    ("environment: production\n  merchant_id: m\n  private_key_env: K", "public_key", "missing; a production profile"),
    ("environment: sandbox\n  merchant_id: m\n  public_key: p", "private_key_env", "needs one of private_key_env"),
    (
        "environment: sandbox\n  merchant_id: m\n  public_key: p\n  private_key_env: K\n  private_key_cmd: c",
        "private_key_cmd",
        "give exactly one of",
    ),
    (
        "environment: local\n  url: http://127.0.0.1:1\n  merchant_id: m\n  public_key: p",
        "private_key_env",
        "a local profile with a url",
    ),
    (
        "environment: sandbox\n  url: http://x\n  merchant_id: m\n  public_key: p\n  private_key_env: K",
        "url",
        "only a local profile",
    ),
    (
        "environment: local\n  url: ftp://x\n  merchant_id: m\n  public_key: p\n  private_key_env: K",
        "url",
        "not an http",
    ),
    ("environment: local\n  search_cap: 0", "search_cap", "whole number above 0"),
    ("environment: local\n  search_cap: many", "search_cap", "whole number above 0"),
    ("environment: sandbox\n  merchant_id: 012345\n  public_key: p\n  private_key_env: K", "merchant_id", "quote it"),
    ("environment: local\n  merchant_accounts: [usd]", "merchant_accounts", "mapping of currency"),
    ("environment: sandbox\n  merchant_id: m\n  public_key: p\n  private_key_env: ''", "private_key_env", "is empty"),
    (
        'environment: sandbox\n  merchant_id: m\n  public_key: p\n  private_key_cmd: "pass \'x"',
        "private_key_cmd",
        "cannot split",
    ),
    ("environment: local\n  merchant_idd: m", "merchant_idd", "did you mean 'merchant_id'"),
]


@pytest.mark.parametrize(("body", "key", "says"), BAD_PROFILES)
def test_a_broken_profile_names_file_profile_and_key(
    write_config: Callable[..., Path], body: str, key: str, says: str
) -> None:
    path = write_config(f"profiles:\n broken:\n  {body}\n")
    profiles = load()  # the other profiles load; only using this one fails
    assert "broken" not in profiles and "local" in profiles
    with pytest.raises(ConfigError) as caught:
        profiles.get("broken")
    message = caught.value.message
    assert message.startswith(f"{path}: profile 'broken', key '{key}': "), message
    assert says in message
    assert "\n" not in message
    assert caught.value.details == {"file": str(path), "profile": "broken", "key": key}


BAD_FILES = [
    ("profiles: [a, b]", "key 'profiles': expected a mapping"),
    ("profile:\n  a: {environment: local}", "unknown top-level key 'profile' (did you mean 'profiles'?)"),
    ("- just\n- a list", "expected a mapping with a 'profiles' key"),
    ("default_profile: nope\nprofiles: {a: {environment: local}}", "key 'default_profile': 'nope' is not a profile"),
    ("profiles:\n  a: [environment, local]", "profile 'a': expected a mapping of settings"),
    ("profiles:\n  'bad name': {environment: local}", "profile name 'bad name' is not valid"),
    ("profiles:\n  a: {environment: local\n", "invalid YAML at line"),
    ("profiles:\n\ta: 1", "invalid YAML at line 2"),
]


@pytest.mark.parametrize(("text", "says"), BAD_FILES)
def test_a_broken_file_is_one_line_naming_the_file(write_config: Callable[..., Path], text: str, says: str) -> None:
    path = write_config(text)
    with pytest.raises(ConfigError) as caught:
        load().get("a")  # a whole-file problem fails the load; one profile's, only that profile
    assert caught.value.message.startswith(f"{path}: ")
    assert says in caught.value.message
    assert "\n" not in caught.value.message


def test_a_named_config_file_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=r"nope.yaml: config file not found \(named by --config\)"):
        load(missing)
    with pytest.raises(ConfigError, match=r"named by \$PAYCLI_CONFIG"):
        load(PAYCLI_CONFIG=str(missing))


INLINE = """
profiles:
  {name}:
    environment: {environment}
    merchant_id: m
    public_key: p
    private_key: {secret}
"""


def test_an_inline_key_in_a_0600_file_is_fine(write_config: Callable[..., Path]) -> None:
    write_config(INLINE.format(name="prod", environment="production", secret=SECRET), mode=0o600)
    profiles = load()
    assert profiles.warnings == ()
    key = profiles["prod"].private_key
    assert key is not None and key.resolve() == SECRET and key.source == "inline"


def test_an_inline_key_in_a_readable_file_is_refused_for_production(write_config: Callable[..., Path]) -> None:
    path = write_config(INLINE.format(name="prod", environment="production", secret=SECRET), mode=0o644)
    with pytest.raises(ConfigError) as caught:
        load().get("prod")
    message = caught.value.message
    assert message.startswith(f"{path}: profile 'prod', key 'private_key': refused")
    assert f"chmod 600 {path}" in message and SECRET not in message


def test_an_inline_key_in_a_readable_file_is_a_warning_otherwise(write_config: Callable[..., Path]) -> None:
    write_config(INLINE.format(name="sbx", environment="sandbox", secret=SECRET), mode=0o640)
    profiles = load()
    assert len(profiles.warnings) == 1
    assert "profile 'sbx', key 'private_key'" in profiles.warnings[0] and SECRET not in profiles.warnings[0]


def _cmd(code: str) -> str:
    return shlex.join([sys.executable, "-c", code])


def test_private_key_cmd_runs_the_command_and_uses_its_output() -> None:
    key = PrivateKey("cmd", _cmd(f"print('{SECRET}')"), profile="acme")
    assert key.resolve() == SECRET


def test_private_key_cmd_runs_in_the_environment_it_is_given(monkeypatch) -> None:
    """The run's environment (as Invocation passes it), not the process's, like private_key_env."""
    monkeypatch.setenv("PASSWORD_STORE_KEY", "from the process")
    key = PrivateKey("cmd", _cmd("import os; print(os.environ['PASSWORD_STORE_KEY'])"), profile="acme")
    given = {**os.environ, "PASSWORD_STORE_KEY": "from the run"}
    assert key.resolve(given) == "from the run"


@pytest.mark.parametrize(
    ("command", "says", "timeout_s"),
    [
        (
            _cmd(
                "import os, sys; print(os.environ['KEY']); print('not in the password store', file=sys.stderr); sys.exit(1)"
            ),
            "exited with status 1;",
            30,
        ),
        (  # a helper that complains with the key itself on stderr
            _cmd("import os, sys; print('bad passphrase for', os.environ['KEY'], file=sys.stderr); sys.exit(3)"),
            "exited with status 3;",
            30,
        ),
        (_cmd("pass"), "printed nothing", 30),
        ("/nonexistent/key-helper show", "command not found", 30),
        (_cmd("import time; time.sleep(5)"), "timed out after 0.2 s", 0.2),
    ],
)
def test_a_failing_private_key_cmd_names_profile_and_key_but_never_the_output(
    monkeypatch: pytest.MonkeyPatch, command: str, says: str, timeout_s: float
) -> None:
    monkeypatch.setenv("KEY", SECRET)  # printed on stdout by the failing command, so it must not be echoed
    key = PrivateKey("cmd", command, profile="acme")
    with pytest.raises(ConfigError) as caught:
        key.resolve(timeout_s=timeout_s)
    message = caught.value.message
    assert message.startswith("profile 'acme', key 'private_key_cmd': ")
    assert says in message and SECRET not in message and "password store" not in message
    program = os.path.basename(shlex.split(command)[0])
    assert f"`{program}` " in message and "-c" not in message  # the command's name, not its arguments


def test_private_key_env_reads_the_variable_when_resolved() -> None:
    key = PrivateKey("env", "ACME_KEY", profile="acme")
    assert key.resolve({"ACME_KEY": SECRET}) == SECRET
    with pytest.raises(ConfigError, match=r"profile 'acme', key 'private_key_env': \$ACME_KEY is not set"):
        key.resolve({})


def test_the_key_never_appears_in_repr_str_or_json(write_config: Callable[..., Path]) -> None:
    write_config(INLINE.format(name="sbx", environment="sandbox", secret=SECRET))
    profile = load()["sbx"]
    key = profile.private_key
    assert key is not None
    for text in (repr(profile), str(profile), repr(key), str(key), str(jsonable(profile)), str(jsonable(key))):
        assert SECRET not in text
    assert str(key).startswith("****")


def test_state_lives_under_xdg_state_home() -> None:
    assert state_dir({"XDG_STATE_HOME": "/s", "HOME": "/h"}) == Path("/s/paycli")
    assert state_dir({"HOME": "/h"}) == Path("/h/.local/state/paycli")


def test_a_config_option_naming_a_directory_is_a_config_error(invoke, tmp_path: Path) -> None:
    run = invoke("--config", tmp_path, "profiles", "list", code=4)
    lines = run.stderr.splitlines()
    assert lines == [f"error: {tmp_path}: is a directory, not a config file; fix --config"], run.stderr


def test_paycli_config_naming_a_directory_is_a_config_error(invoke, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PAYCLI_CONFIG", str(tmp_path))
    run = invoke("profiles", "list", code=4)
    assert run.stderr.splitlines() == [f"error: {tmp_path}: is a directory, not a config file; fix $PAYCLI_CONFIG"]


def test_a_config_file_that_cannot_be_read_is_a_config_error(invoke, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    unreadable = tmp_path / "file" / "config.yaml"  # under a regular file: unreadable even for root
    run = invoke("--config", unreadable, "profiles", "show", code=4)
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"error: {unreadable}: cannot read config file (named by --config): Not a directory"
    ), run.stderr
