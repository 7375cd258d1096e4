"""Static files a browser loads from the sandbox: the hosted-fields frame stand-in and braintree-web's JS.

braintree-web puts its Hosted Fields frames at `{assetsUrl}/web/{version}/html/hosted-fields-frame[.min].html`
(a browser paycli drives routes Braintree's assets host here). Braintree publishes that frame only on its
CDN, so the sandbox answers with its own (`hosted_fields_frame.html`), which loads braintree-web's real
`client.js` from `/paycli/js/braintree-web/{version}/client.js`: the pinned npm files in paycli's cache.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from paycli import browser_assets
from paycli.errors import ConfigError
from paycli.sandbox import clientapi

FRAME = re.compile(r"^/web/[^/]+/html/hosted-fields-frame(\.min)?\.html$")
_JS = re.compile(rf"^/paycli/js/{browser_assets.PACKAGE}/{re.escape(browser_assets.VERSION)}/(?P<name>[\w.-]+)$")
CACHE_SECONDS = 3600


@lru_cache(maxsize=1)
def frame_html() -> bytes:
    text = resources.files("paycli.sandbox").joinpath("hosted_fields_frame.html").read_text(encoding="utf-8")
    return text.replace("__VERSION__", browser_assets.VERSION).encode()


def script(folder: Path, name: str) -> clientapi.Answer:
    """One of the pinned files from a checked folder (anything else is 404)."""
    if name not in browser_assets.FILES:
        return clientapi.json_answer(404, {"error": {"message": f"no file {name}"}})
    return (
        200,
        {
            **clientapi.CORS,
            "Content-Type": "application/javascript; charset=utf-8",
            "Cache-Control": f"max-age={CACHE_SECONDS}",
        },
        (folder / name).read_bytes(),
    )


def frame() -> clientapi.Answer:
    return 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}, frame_html()


def serve_asset(method: str, route: str) -> clientapi.Answer:
    if method not in ("GET", "HEAD"):
        return clientapi.json_answer(405, {"error": {"message": f"{method} {route} is not allowed"}})
    if FRAME.match(route):
        return frame()
    match = _JS.match(route)
    if match:
        try:
            folder = browser_assets.locate(os.environ)
        except ConfigError as err:
            return clientapi.json_answer(404, {"error": {"message": err.message}})
        return script(folder, match["name"])
    return clientapi.json_answer(404, {"error": {"message": f"no asset at {route}"}})
