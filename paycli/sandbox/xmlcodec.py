"""The only XML in paycli: Braintree's request documents in, response documents out.

Requests come from SDKs that send underscore tags (Python) or dashed tags (Ruby, Java), with
`type="array|boolean|integer|datetime"` hints and empty elements for "not given". Responses use
dashed tags, `nil="true"` (never together with a `type`: the Python SDK checks the type first and
crashes) and `type="array"` on every list, or repeated scalars overwrite one another.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from defusedxml import ElementTree as SafeElementTree

# Far deeper than any Braintree document (a search criterion or a line item is 3–4 levels), far shallower
# than Python's recursion limit.
MAX_DEPTH = 32
# What an element name may be once dashes are underscores: no namespace, no leading digit, dash or dot.
_NAME = re.compile(r"(?![\d.-])[\w.-]+")
# Characters XML 1.0 cannot carry even escaped; a stored value holding one would make its replies unparseable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


class XmlError(ValueError):
    """The request body is not a document we accept: malformed, a DTD or entity declaration (in any encoding),
    an encoding the parser does not support, namespaced element names, or nesting deeper than MAX_DEPTH."""


@dataclass(frozen=True)
class Items:
    """A list rendered with a particular child tag (`<status-history type="array"><status-event>`)."""

    tag: str
    values: Iterable[Any]


def parse_request(body: bytes) -> tuple[str, Any]:
    """Decode a request body into (root name with underscores, value)."""
    if not body.strip():
        return "", {}
    try:
        # The parser itself refuses a DTD, so no byte pattern can be dodged by another encoding.
        root = SafeElementTree.fromstring(body, forbid_dtd=True)
    except ElementTree.ParseError as err:
        raise XmlError(f"malformed XML: {err}") from None
    except (ValueError, LookupError) as err:  # DTDForbidden, EntitiesForbidden, an unsupported encoding
        raise XmlError(f"XML not accepted: {err}") from None
    return _key(root.tag), _decode(root, 1)


def _key(tag: str) -> str:
    if not _NAME.fullmatch(tag):  # `{urn:x}store`: stored, it would be rendered as a malformed tag
        raise XmlError(f"element name {tag[:40]!r} is not accepted (no namespaces)")
    return tag.replace("-", "_")


def _decode(element: ElementTree.Element, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise XmlError(f"elements nested deeper than {MAX_DEPTH} levels")
    kind = element.get("type")
    children = list(element)
    if kind == "array":
        return [_decode(child, depth + 1) for child in children]
    if children:
        return {_key(child.tag): _decode(child, depth + 1) for child in children}
    text = (element.text or "").strip()
    if element.get("nil") == "true" or text == "":
        return None
    if kind == "boolean":
        return text in ("true", "1")
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise XmlError(f"<{element.tag}> is not an integer") from None
    if kind == "datetime":
        parsed = parse_datetime(text)
        if parsed is None:
            raise XmlError(f"<{element.tag}> is not a datetime")
        return parsed
    return element.text


def parse_datetime(text: str) -> datetime | None:
    """An ISO-8601 date or datetime; naive values are UTC, as the SDK sends them."""
    match = _DATETIME.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        value = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    if zone in (None, "Z"):
        return value.replace(tzinfo=timezone.utc)
    sign = 1 if zone[0] == "+" else -1
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    try:
        return (value - sign * offset).replace(tzinfo=timezone.utc)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before the first representable instant
        return None


def render(root: str, value: Any) -> bytes:
    """Encode a response document; dicts become elements in their insertion order."""
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _node(out, root, value)
    return "".join(out).encode("utf-8")


@functools.lru_cache(maxsize=4096)
def _tag(name: str) -> str | None:
    tag = name.replace("_", "-")
    return tag if _NAME.fullmatch(tag) else None


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", value)) if _NOT_XML.search(value) else escape(value)


def _node(out: list[str], name: str, value: Any) -> None:
    tag = _tag(name)
    if tag is None:
        # A name that cannot be an element (stored before names were checked at the door, or by another
        # route) is left out, so one bad row can never make every later reply that holds it unparseable.
        return
    if value is None:
        out.append(f'<{tag} nil="true"/>')
    elif isinstance(value, bool):
        out.append(f'<{tag} type="boolean">{"true" if value else "false"}</{tag}>')
    elif isinstance(value, int):
        out.append(f'<{tag} type="integer">{value}</{tag}>')
    elif isinstance(value, str):
        out.append(f"<{tag}>{_text(value)}</{tag}>")
    elif isinstance(value, (Decimal, float)):
        out.append(f"<{tag}>{value}</{tag}>")
    elif isinstance(value, datetime):
        stamp = value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(f'<{tag} type="datetime">{stamp}</{tag}>')
    elif isinstance(value, date):
        out.append(f'<{tag} type="date">{value.isoformat()}</{tag}>')
    elif isinstance(value, dict):
        out.append(f"<{tag}>")
        for key, child in value.items():
            if isinstance(child, Repeated):
                for item in child.values:
                    _node(out, key, item)
            else:
                _node(out, key, child)
        out.append(f"</{tag}>")
    elif isinstance(value, Items):
        out.append(f'<{tag} type="array">')
        for child in value.values:
            _node(out, value.tag, child)
        out.append(f"</{tag}>")
    elif isinstance(value, (list, tuple)):
        _node(out, name, Items("item", value))
    else:
        raise TypeError(f"cannot render {type(value).__name__} as XML")


@dataclass(frozen=True)
class Repeated:
    """Sibling elements with one tag and no array wrapper (`<transaction>` × n in a search page)."""

    values: Iterable[Any]
