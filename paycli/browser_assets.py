"""braintree-web's browser files for the checkout page: fetched from npm with npm itself, pinned, verified.

paycli never ships or commits this JavaScript. `fetch` runs `npm pack` for the pinned version, checks the
tarball against npm's published sha512 integrity (pinned here, so a changed package is refused), and keeps
only the two files the page loads. `locate` checks each file's own sha512 every time it is asked for them,
so a directory given with `--assets-dir` is held to the same pin as paycli's cache.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path

from paycli.config import cache_dir
from paycli.errors import ConfigError, Unavailable

PACKAGE = "braintree-web"
VERSION = "3.144.0"
# `npm view braintree-web@3.144.0 dist.integrity`
INTEGRITY = "sha512-jYQAcqtH12XBN9laa347gkhJZel2q8Hrd3TUa3tc0IFSNwrMK/SN75m3GtRgfCf9AzHr628HcOb9O9vae+lujA=="
# sha512 of each file the page loads, as found in that tarball under package/dist/browser/
FILES = {
    "client.js": "465b2fcadcf1110ee4c59ea0572a7d5ea7dd1ed3782365b75c8329220cd952c19d360373d3a04b091f330113550fc5bc562e206c19c1906994775ba5f6485408",
    "hosted-fields.js": "f0ef12b56ef6fdb4bbb171677d66756235f3dd74e223dd04faa8227281fb3181072a9a62e6712b39073c2dc44bf2d3ad69156f1be8e3eb5dee820b269d513e55",
}
FETCH_COMMAND = "paycli assets fetch"
NPM_TIMEOUT_S = 300


def default_dir(env: Mapping[str, str]) -> Path:
    return cache_dir(env) / "js" / PACKAGE / VERSION


def _digest(path: Path) -> str:
    return hashlib.sha512(path.read_bytes()).hexdigest()


def locate(env: Mapping[str, str], assets_dir: Path | None = None) -> Path:
    """The directory holding the pinned files, checked; ConfigError (exit 4) naming the fix otherwise."""
    folder = assets_dir or default_dir(env)
    where = f"--assets-dir {folder}" if assets_dir else f"paycli's cache ({folder})"
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise ConfigError(
            f"{PACKAGE} {VERSION} is not in {where}: {', '.join(missing)} missing; run "
            f"`{FETCH_COMMAND}` (needs npm), or pass --assets-dir DIR holding {' and '.join(FILES)} "
            f"from {PACKAGE}@{VERSION}'s dist/browser"
        )
    changed = [name for name, digest in FILES.items() if _digest(folder / name) != digest]
    if changed:
        raise ConfigError(
            f"{', '.join(changed)} in {where} is not {PACKAGE} {VERSION} as pinned (sha512 differs); "
            f"run `{FETCH_COMMAND}` again"
        )
    return folder


def fetch(env: Mapping[str, str], *, npm: str = "npm") -> Path:
    """`npm pack` the pinned version into a scratch folder, verify it, and keep the page's files in the cache."""
    if shutil.which(npm) is None:
        raise ConfigError(
            f"`{FETCH_COMMAND}` needs npm on PATH; install Node.js's npm, or pass --assets-dir DIR "
            f"holding {' and '.join(FILES)} from {PACKAGE}@{VERSION}"
        )
    target = default_dir(env)
    with tempfile.TemporaryDirectory(prefix="paycli-npm-") as scratch:
        try:
            done = subprocess.run(
                [npm, "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", scratch, "--silent"],
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_S,
                cwd=scratch,
            )
        except subprocess.TimeoutExpired:
            raise Unavailable(f"npm pack {PACKAGE}@{VERSION} took over {NPM_TIMEOUT_S} s; try again") from None
        tarballs = list(Path(scratch).glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            reason = (done.stderr.strip().splitlines() or ["no tarball"])[-1]
            raise Unavailable(f"npm pack {PACKAGE}@{VERSION} failed: {reason}")
        integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarballs[0].read_bytes()).digest()).decode()
        if integrity != INTEGRITY:
            raise ConfigError(
                f"npm's {PACKAGE}@{VERSION} tarball does not match paycli's pinned integrity "
                f"({integrity[:20]}… ≠ {INTEGRITY[:20]}…); nothing was kept"
            )
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarballs[0]) as archive:
            for name in FILES:
                member = archive.extractfile(f"package/dist/browser/{name}")
                if member is None:
                    raise ConfigError(f"{PACKAGE}@{VERSION} has no dist/browser/{name}")
                partial = target / f".{name}.part"
                partial.write_bytes(member.read())
                partial.replace(target / name)
    return locate(env)
