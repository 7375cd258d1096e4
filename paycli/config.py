"""Profiles: one per merchant account, from the config file, `BRAINTREE_*` variables and a built-in `local`.

Everything is validated when loaded, so a typo fails the run up front with one line naming the file, the
profile and the key, rather than as an authentication error halfway through a batch. Each field remembers
where it came from (`Profile.origin`) for `paycli profiles show`. A private key stays a reference
(`PrivateKey`) until `gateway.connect()` resolves it, so it is never in a Profile's repr, a log or a traceback.

Paths and variables are read when asked (`load_profiles(path, env)`), never at import, so tests can point
them anywhere.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import stat
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal
from zoneinfo import ZoneInfo

from paycli.braintree_facts import SEARCH_CAP
from paycli.errors import ConfigError

Environment = Literal["local", "sandbox", "production"]
ENVIRONMENTS: tuple[str, ...] = ("local", "sandbox", "production")
BUILTIN_PROFILE = "local"
ENV_PROFILE = "env"
# Braintree's search returns at most this many ids, silently; exports split their windows below it.
DEFAULT_TIMEZONE = "UTC"
# Long enough for a password manager to ask for a passphrase on a terminal, short enough for cron to fail.
KEY_COMMAND_TIMEOUT_S = 30.0

ENV_VARS: tuple[str, ...] = (
    "BRAINTREE_ENVIRONMENT",
    "BRAINTREE_MERCHANT_ID",
    "BRAINTREE_PUBLIC_KEY",
    "BRAINTREE_PRIVATE_KEY",
)
KEY_SOURCES: dict[str, Literal["env", "cmd", "inline"]] = {
    "private_key_env": "env",
    "private_key_cmd": "cmd",
    "private_key": "inline",
}
PROFILE_KEYS: tuple[str, ...] = (
    "environment",
    "merchant_id",
    "public_key",
    *KEY_SOURCES,
    "url",
    "merchant_accounts",
    "default_merchant_account",
    "timezone",
    "search_cap",
    "confirm",
)
TOP_KEYS: tuple[str, ...] = ("default_profile", "profiles", "journal")
JOURNAL_SCHEMES: tuple[str, ...] = ("postgresql://", "postgres://")
_PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*", re.ASCII)
_MISSING: Any = object()  # no config file at all, unlike an empty one
_KEY_SOURCES_TEXT = "one of private_key_env, private_key_cmd or private_key"


@dataclass(frozen=True)
class PrivateKey:
    """Where a profile's private key lives; only `gateway.connect()` calls `resolve()`."""

    source: Literal["env", "cmd", "inline"]
    where: str  # variable name, command line, or the config file holding the inline key
    inline: str | None = field(default=None, repr=False)  # out of repr, jsonable(), logs and tracebacks
    profile: str = ""  # named in error messages

    def __str__(self) -> str:
        return f"**** ({self.describe()})"

    def describe(self) -> str:
        """Where the key comes from, safe to print: `env: ACME_KEY`, `cmd: pass show bt/acme`, `inline: FILE`."""
        return f"{self.source}: {self.where}"

    def missing(self, env: Mapping[str, str] | None = None) -> bool:
        """Known to be absent without running anything: an unset variable or an empty inline key."""
        if self.source == "env":
            return not (os.environ if env is None else env).get(self.where, "").strip()
        return self.source == "inline" and not self.inline

    def resolve(self, env: Mapping[str, str] | None = None, *, timeout_s: float = KEY_COMMAND_TIMEOUT_S) -> str:
        """The key itself. Failures name the profile and the source, never the key or the command's output."""
        who = f"profile '{self.profile}'" if self.profile else "profile"
        if self.source == "env":
            value = (os.environ if env is None else env).get(self.where, "").strip()
            if not value:
                raise ConfigError(
                    f"{who}, key 'private_key_env': ${self.where} is not set; export it or change the profile",
                    profile=self.profile,
                    key="private_key_env",
                )
            return value
        if self.source == "cmd":
            return self._run_command(who, timeout_s, env)
        if not self.inline:
            raise ConfigError(f"{who}, key 'private_key': empty", profile=self.profile, key="private_key")
        return self.inline

    def _run_command(self, who: str, timeout_s: float, env: Mapping[str, str] | None) -> str:
        argv = shlex.split(self.where)
        # only the program's name: its arguments and its output (stderr too) may hold the key or a path to it
        program = Path(argv[0]).name if argv else self.where

        def fail(problem: str) -> ConfigError:
            return ConfigError(
                f"{who}, key 'private_key_cmd': `{program}` {problem}", profile=self.profile, key="private_key_cmd"
            )

        try:
            done = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
                env=None if env is None else dict(env),  # the run's environment, as for private_key_env
            )
        except FileNotFoundError:
            raise fail("failed: command not found") from None
        except subprocess.TimeoutExpired:
            raise fail(f"timed out after {timeout_s:g} s") from None
        except OSError as err:
            raise fail(f"failed: {err.strerror}") from None
        if done.returncode != 0:
            # a helper may print the key, or part of it, on stderr as readily as on stdout: echo neither
            raise fail(
                f"exited with status {done.returncode}; run it yourself to see why (paycli does not show "
                "its output, which may hold the key)"
            )
        value = done.stdout.strip()
        if not value:
            raise fail("printed nothing")
        return value


@dataclass(frozen=True)
class Profile:
    name: str
    environment: Environment
    merchant_id: str | None = None
    public_key: str | None = None
    private_key: PrivateKey | None = None
    url: str | None = None  # a served `paycli sandbox serve`; only for environment local
    # hash=False: mapping proxies are unhashable, and a Profile should still work as a dict key
    merchant_accounts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    default_merchant_account: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    search_cap: int = SEARCH_CAP
    confirm: bool = False  # ask before money moves as on production: to rehearse that against a sandbox
    origin: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def embedded(self) -> bool:
        """A local profile without a url runs the offline sandbox inside this process."""
        return self.environment == "local" and self.url is None

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def confirms(self) -> bool:
        """Money-moving commands ask first: every production profile, and any profile with `confirm: true`."""
        return self.production or self.confirm


@dataclass(frozen=True)
class JournalLocation:
    """Where the money-moving journal lives: a team's PostgreSQL URL, or a SQLite file (the default)."""

    target: str = field(repr=False)  # a URL may carry a password (allowed in a 0600 file): out of repr
    origin: str  # "config.yaml: journal", "$PAYCLI_JOURNAL" or "default"

    @property
    def backend(self) -> Literal["postgresql", "sqlite"]:
        return "postgresql" if self.target.startswith(JOURNAL_SCHEMES) else "sqlite"

    def describe(self) -> str:
        """The location, safe to print: a URL loses its password."""
        if self.backend == "sqlite":
            return self.target
        from paycli.journal_pg import redact

        return redact(self.target)


@dataclass(frozen=True)
class Profiles:
    """All profiles of one run, in file order, then `env`, then the built-in `local`."""

    by_name: Mapping[str, Profile]
    path: Path | None  # the config file read, None when there is none
    journal: JournalLocation  # the config's `journal`, $PAYCLI_JOURNAL, or the SQLite file under the state directory
    default_profile: str | None = None  # the file's default_profile
    warnings: tuple[str, ...] = ()  # for the caller to show; config.py never prints
    env_missing: tuple[str, ...] = ()  # BRAINTREE_* variables missing when only some are set
    # profiles of the file that do not validate: only a command that uses one fails (with its error)
    broken: Mapping[str, ConfigError] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    def __iter__(self) -> Iterator[Profile]:
        return iter(self.by_name.values())

    def __len__(self) -> int:
        return len(self.by_name)

    def __contains__(self, name: object) -> bool:
        return name in self.by_name

    def __getitem__(self, name: str) -> Profile:
        return self.by_name[name]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.by_name)

    def selected_name(self, requested: str | None, env: Mapping[str, str]) -> tuple[str, str]:
        """The profile this run uses and why: `--profile` > `$PAYCLI_PROFILE` > `default_profile` > `local`."""
        if requested:
            return requested, "--profile"
        if env.get("PAYCLI_PROFILE"):
            return env["PAYCLI_PROFILE"], "$PAYCLI_PROFILE"
        if self.default_profile:
            return self.default_profile, "default_profile"
        return BUILTIN_PROFILE, "built-in default"

    def get(self, name: str, *, why: str = "") -> Profile:
        """The named profile, or a ConfigError: its own problem if it is broken, else the known names."""
        if name in self.by_name:
            return self.by_name[name]
        if name in self.broken:
            raise self.broken[name]
        where = f" (from {why})" if why else ""
        if name == ENV_PROFILE and self.env_missing:
            raise ConfigError(
                f"profile 'env'{where} needs all of {', '.join(ENV_VARS)}; missing: {', '.join(self.env_missing)}",
                profile=name,
                missing=list(self.env_missing),
            )
        source = str(self.path) if self.path else "the built-in profiles (no config file)"
        raise ConfigError(
            f"profile '{name}'{where} is not defined in {source}; known profiles: {', '.join(self.by_name)}",
            profile=name,
            file=str(self.path) if self.path else None,
        )


def select_profile(profiles: Profiles, requested: str | None, env: Mapping[str, str]) -> Profile:
    name, why = profiles.selected_name(requested, env)
    return profiles.get(name, why=why)


def config_path(explicit: Path | None, env: Mapping[str, str]) -> tuple[Path, str]:
    """The config file and what chose it: `--config` > `$PAYCLI_CONFIG` > `$XDG_CONFIG_HOME/paycli/config.yaml`."""
    if explicit is not None:
        return explicit, "--config"
    if env.get("PAYCLI_CONFIG"):
        return Path(env["PAYCLI_CONFIG"]).expanduser(), "$PAYCLI_CONFIG"
    return _xdg_dir(env, "XDG_CONFIG_HOME", ".config") / "paycli" / "config.yaml", "default location"


def state_dir(env: Mapping[str, str]) -> Path:
    """Where the journal, the embedded sandbox database and export locks live (not created here)."""
    return _xdg_dir(env, "XDG_STATE_HOME", ".local/state") / "paycli"


def cache_dir(env: Mapping[str, str]) -> Path:
    """Where downloaded files paycli can fetch again live (the browser checkout's JS; not created here)."""
    return _xdg_dir(env, "XDG_CACHE_HOME", ".cache") / "paycli"


def _xdg_dir(env: Mapping[str, str], var: str, fallback: str) -> Path:
    value = env.get(var, "")
    # the XDG spec says relative values are invalid and must be ignored
    if value and Path(value).is_absolute():
        return Path(value)
    home = env.get("HOME")
    return (Path(home) if home else Path.home()) / fallback


def load_profiles(path: Path | None, env: Mapping[str, str]) -> Profiles:
    """Every profile of this run; `path` is `--config` (None: `$PAYCLI_CONFIG` or the default location)."""
    file, chosen_by = config_path(path, env)
    document = _read_document(file, required=chosen_by != "default location", chosen_by=chosen_by)
    warnings: list[str] = []
    by_name: dict[str, Profile] = {}
    broken: dict[str, ConfigError] = {}
    default_profile: str | None = None
    journal = _journal_from_env(env)
    if document is not _MISSING:
        default_profile, raw_profiles = _split_document(document, file)
        for name, raw in raw_profiles.items():
            try:
                by_name[name] = _file_profile(file, name, raw, warnings)
            except ConfigError as err:  # one bad profile must not stop a cron job of every other profile
                broken[name] = err
        if journal is None and isinstance(document, dict) and document.get("journal") is not None:
            journal = _journal_from_file(document["journal"], file)

    env_missing: tuple[str, ...] = ()
    present = [var for var in ENV_VARS if env.get(var, "").strip()]
    if len(present) == len(ENV_VARS):
        by_name.setdefault(ENV_PROFILE, _env_profile(env))
    elif present:
        env_missing = tuple(var for var in ENV_VARS if var not in present)
    by_name.setdefault(BUILTIN_PROFILE, _builtin_local())

    if default_profile is not None and default_profile not in by_name and default_profile not in broken:
        raise ConfigError(
            f"{file}: key 'default_profile': '{default_profile}' is not a profile; known profiles: "
            f"{', '.join(by_name)}",
            file=str(file),
            key="default_profile",
        )
    return Profiles(
        by_name=MappingProxyType(by_name),
        path=file if document is not _MISSING else None,
        default_profile=default_profile,
        warnings=tuple(warnings),
        env_missing=env_missing,
        journal=journal or JournalLocation(str(state_dir(env) / "journal.db"), "default"),
        broken=MappingProxyType(broken),
    )


def _journal_from_env(env: Mapping[str, str]) -> JournalLocation | None:
    """`$PAYCLI_JOURNAL` wins over the file's `journal`, as `$PAYCLI_PROFILE` wins over `default_profile`."""
    value = env.get("PAYCLI_JOURNAL", "").strip()
    if not value:
        return None
    _check_journal_target(value, "$PAYCLI_JOURNAL", {})
    return JournalLocation(
        value if value.startswith(JOURNAL_SCHEMES) else str(Path(value).expanduser()), "$PAYCLI_JOURNAL"
    )


def _journal_from_file(value: Any, file: Path) -> JournalLocation:
    where = {"file": str(file), "key": "journal"}
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"{file}: key 'journal': expected a postgresql:// URL or a file path, got {_kind(value)}", **where
        )
    value = value.strip()
    _check_journal_target(value, f"{file}: key 'journal'", where)
    if value.startswith(JOURNAL_SCHEMES) and _url_password(value):
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
        except OSError:
            mode = 0
        if mode & 0o077:
            raise ConfigError(
                f"{file}: key 'journal': refused: a password in the URL of a file others can read (mode {mode:o}); "
                f"run chmod 600 {file}, or keep the password in PGPASSWORD, ~/.pgpass or a PGSERVICE entry",
                **where,
            )
    if not value.startswith(JOURNAL_SCHEMES):
        path = Path(value).expanduser()
        value = str(path if path.is_absolute() else file.parent / path)  # relative to the config file
    return JournalLocation(value, f"{file}: journal")


def _check_journal_target(value: str, named: str, where: Mapping[str, str]) -> None:
    if "://" in value and not value.startswith(JOURNAL_SCHEMES):
        raise ConfigError(
            f"{named}: '{value.split('://')[0]}://' is not a journal paycli can use; give a "
            "postgresql:// URL or a SQLite file path",
            **where,
        )


def _url_password(url: str) -> bool:
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    return bool(parts.password) or any(key == "password" for key, _ in parse_qsl(parts.query))


def _read_document(file: Path, *, required: bool, chosen_by: str) -> Any:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(
                f"{file}: config file not found (named by {chosen_by}); create it or fix {chosen_by}", file=str(file)
            ) from None
        return _MISSING
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: not a UTF-8 text file", file=str(file)) from None
    except IsADirectoryError:
        raise ConfigError(f"{file}: is a directory, not a config file; fix {chosen_by}", file=str(file)) from None
    except OSError as err:
        raise ConfigError(
            f"{file}: cannot read config file (named by {chosen_by}): {err.strerror}", file=str(file)
        ) from None

    import yaml  # only runs that need a profile pay for YAML

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{file}: invalid YAML{at}: {problem}", file=str(file)) from None


def _split_document(document: Any, file: Path) -> tuple[str | None, dict[str, Any]]:
    if document is None:  # an empty file
        return None, {}
    if not isinstance(document, dict):
        raise ConfigError(f"{file}: expected a mapping with a 'profiles' key, got {_kind(document)}", file=str(file))
    for key in document:
        if key not in TOP_KEYS:
            raise ConfigError(
                f"{file}: unknown top-level key '{key}'{_did_you_mean(key, TOP_KEYS)}; expected "
                f"{', '.join(TOP_KEYS[:-1])} or {TOP_KEYS[-1]}",
                file=str(file),
                key=str(key),
            )
    default_profile = document.get("default_profile")
    if default_profile is not None and not isinstance(default_profile, str):
        raise ConfigError(
            f"{file}: key 'default_profile': expected a profile name, got {_kind(default_profile)}",
            file=str(file),
            key="default_profile",
        )
    profiles = document.get("profiles") or {}
    if not isinstance(profiles, dict):
        raise ConfigError(
            f"{file}: key 'profiles': expected a mapping of profile names, got {_kind(profiles)}",
            file=str(file),
            key="profiles",
        )
    for name in profiles:
        if not isinstance(name, str) or not _PROFILE_NAME.fullmatch(name):
            raise ConfigError(
                f"{file}: profile name '{name}' is not valid; use letters, digits, '.', '_' and '-'",
                file=str(file),
                profile=str(name),
            )
    return default_profile, profiles


class _ProfileReader:
    """Validates one file profile; every complaint names the file, the profile and the key."""

    def __init__(self, file: Path, name: str, raw: Mapping[str, Any]) -> None:
        self.file = file
        self.name = name
        self.raw = raw

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(
            f"{self.file}: profile '{self.name}', key '{key}': {problem}",
            file=str(self.file),
            profile=self.name,
            key=key,
        )

    def origin(self, key: str) -> str:
        return f"{self.file}: profiles.{self.name}.{key}"

    def text(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            # YAML turns 012345 into 5349 (octal) and 1e5 into a float: only a quoted string is safe
            raise self.error(key, f'expected a string, got {_kind(value)}; quote it, e.g. {key}: "{value}"')
        if not value.strip():
            raise self.error(key, "is empty")
        return value.strip()


def _file_profile(file: Path, name: str, raw: Any, warnings: list[str]) -> Profile:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{file}: profile '{name}': expected a mapping of settings, got {_kind(raw)}", file=str(file), profile=name
        )
    read = _ProfileReader(file, name, raw)
    for key in raw:
        if key not in PROFILE_KEYS:
            hint = _did_you_mean(key, PROFILE_KEYS)
            raise read.error(str(key), f"unknown key{hint}; known: {', '.join(PROFILE_KEYS)}")
    origin: dict[str, str] = {}

    environment = raw.get("environment")
    if environment is None:
        raise read.error("environment", "missing; set it to local, sandbox or production")
    if environment not in ENVIRONMENTS:
        raise read.error("environment", f"'{environment}' is not local, sandbox or production")
    origin["environment"] = read.origin("environment")

    url = read.text("url")
    if url is not None:
        if environment != "local":
            raise read.error("url", "only a local profile has a url (a served `paycli sandbox serve`)")
        if not url.startswith(("http://", "https://")):
            raise read.error("url", f"'{url}' is not an http:// or https:// address")

    merchant_id = read.text("merchant_id")
    public_key = read.text("public_key")
    sources = [key for key in KEY_SOURCES if key in raw]
    if len(sources) > 1:
        raise read.error(sources[1], f"give exactly {_KEY_SOURCES_TEXT}, not {' and '.join(sources)}")
    needs_credentials = environment != "local" or url is not None
    if needs_credentials:
        kind = "a local profile with a url" if environment == "local" else f"a {environment} profile"
        for key, value in (("merchant_id", merchant_id), ("public_key", public_key)):
            if value is None:
                raise read.error(key, f"missing; {kind} needs merchant_id, public_key and {_KEY_SOURCES_TEXT}")
        if not sources:
            raise read.error("private_key_env", f"missing; {kind} needs {_KEY_SOURCES_TEXT}")

    private_key: PrivateKey | None = None
    if sources:
        key = sources[0]
        value = read.text(key)
        if value is None:
            raise read.error(key, "is empty")
        source = KEY_SOURCES[key]
        if source == "cmd":
            try:
                if not shlex.split(value):
                    raise read.error(key, "is empty")
            except ValueError as err:
                raise read.error(key, f"cannot split the command line: {err}") from None
        if source == "inline":
            _check_inline_key_file(read, file, environment, warnings)
            private_key = PrivateKey("inline", str(file), inline=value, profile=name)
        else:
            private_key = PrivateKey(source, value, profile=name)
        origin["private_key"] = read.origin(key)

    merchant_accounts = _merchant_accounts(read)
    default_merchant_account = read.text("default_merchant_account")

    timezone = read.text("timezone") or DEFAULT_TIMEZONE
    try:
        ZoneInfo(timezone)
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError; "../x" is a ValueError
        raise read.error("timezone", f"'{timezone}' is not an IANA time zone such as UTC or America/New_York") from None

    confirm = raw.get("confirm", False)
    if not isinstance(confirm, bool):
        raise read.error("confirm", f"expected true or false, got {_kind(confirm)}")
    if confirm:
        origin["confirm"] = read.origin("confirm")

    search_cap = raw.get("search_cap", SEARCH_CAP)
    if isinstance(search_cap, bool) or not isinstance(search_cap, int) or search_cap < 1:
        raise read.error("search_cap", f"expected a whole number above 0, got {search_cap!r}")

    recorded: tuple[tuple[str, object], ...] = (  # fields whose origin is shown when set
        ("merchant_id", merchant_id),
        ("public_key", public_key),
        ("url", url),
        ("merchant_accounts", merchant_accounts or None),
        ("default_merchant_account", default_merchant_account),
    )
    for key, given in recorded:
        if given is not None:
            origin[key] = read.origin(key)
    origin["timezone"] = read.origin("timezone") if "timezone" in raw else "default"
    origin["search_cap"] = read.origin("search_cap") if "search_cap" in raw else "default"

    return Profile(
        name=name,
        environment=environment,
        merchant_id=merchant_id,
        public_key=public_key,
        private_key=private_key,
        url=url,
        merchant_accounts=MappingProxyType(merchant_accounts),
        default_merchant_account=default_merchant_account,
        timezone=timezone,
        search_cap=search_cap,
        confirm=confirm,
        origin=MappingProxyType(origin),
    )


def _check_inline_key_file(read: _ProfileReader, file: Path, environment: str, warnings: list[str]) -> None:
    try:
        mode = file.stat().st_mode
    except OSError:
        return
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return
    problem = (
        f"an inline private key in a file readable by group or others (mode {stat.S_IMODE(mode):o}); "
        f"run chmod 600 {file} or use private_key_env / private_key_cmd"
    )
    if environment == "production":
        raise read.error("private_key", f"refused: {problem}")
    warnings.append(f"{file}: profile '{read.name}', key 'private_key': {problem}")


def _merchant_accounts(read: _ProfileReader) -> dict[str, str]:
    raw = read.raw.get("merchant_accounts")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise read.error(
            "merchant_accounts", f"expected a mapping of currency to merchant account id, got {_kind(raw)}"
        )
    accounts: dict[str, str] = {}
    for currency, account in raw.items():
        if not isinstance(currency, str) or not isinstance(account, str) or not account.strip():
            raise read.error("merchant_accounts", f"entry {currency!r}: expected CURRENCY: merchant_account_id strings")
        accounts[currency.upper()] = account.strip()
    return accounts


def _env_profile(env: Mapping[str, str]) -> Profile:
    environment = env["BRAINTREE_ENVIRONMENT"].strip().lower()
    if environment not in ENVIRONMENTS:
        raise ConfigError(
            f"profile 'env', key 'environment': $BRAINTREE_ENVIRONMENT '{environment}' is not local, sandbox or "
            "production",
            profile=ENV_PROFILE,
            key="BRAINTREE_ENVIRONMENT",
        )
    return Profile(
        name=ENV_PROFILE,
        environment=environment,  # type: ignore[arg-type]
        merchant_id=env["BRAINTREE_MERCHANT_ID"].strip(),
        public_key=env["BRAINTREE_PUBLIC_KEY"].strip(),
        private_key=PrivateKey("env", "BRAINTREE_PRIVATE_KEY", profile=ENV_PROFILE),
        origin=MappingProxyType(
            {
                "environment": "$BRAINTREE_ENVIRONMENT",
                "merchant_id": "$BRAINTREE_MERCHANT_ID",
                "public_key": "$BRAINTREE_PUBLIC_KEY",
                "private_key": "$BRAINTREE_PRIVATE_KEY",
                "timezone": "default",
                "search_cap": "default",
            }
        ),
    )


# The embedded sandbox's built-in merchant accounts (paycli.sandbox.local_merchant; a test keeps them equal),
# so the built-in profile knows each account's currency, which a settlement summary does not say.
BUILTIN_MERCHANT_ACCOUNTS = MappingProxyType({"USD": "local_usd", "EUR": "local_eur"})


def _builtin_local() -> Profile:
    return Profile(
        name=BUILTIN_PROFILE,
        environment="local",
        merchant_accounts=BUILTIN_MERCHANT_ACCOUNTS,
        origin=MappingProxyType(
            {"environment": "built-in", "merchant_accounts": "built-in", "timezone": "default", "search_cap": "default"}
        ),
    )


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    return f"{type(value).__name__} {value!r}"


def _did_you_mean(key: Any, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
