"""Braintree's XML replies decoded into exactly the dict the braintree SDK's own parser returns, for a fraction
of its CPU cost.

The SDK (`braintree.util.xml_util.XmlUtil.dict_from_xml`) builds a `minidom` tree and walks it in Python,
holding the GIL for a few ms per transaction; bulk reads (settlement export, search pages) spend most of their
time there. This decoder builds the same dict in one pass over expat's events (expat is C, as under minidom)
and keeps every rule of the SDK's parser, quirks included:

- whitespace between a `>` and the next `<` is cut out of the whole body first, then the body is stripped;
- dashes in element names become underscores;
- an element's value is decided by its first child: `type="array"` → a list of its child elements, whatever
  comes first; no child → the empty value; text first → that text, converted by `type` (`integer` → int,
  `boolean` → "true"/"1" is True, anything else False, `datetime` → the SDK's `parse_datetime`, `date` →
  a date), then `nil="true"` → None, then "" for empty text; any other first child → a dict of the element
  children;
- in a dict, an element that starts with text or is an array replaces an earlier one of the same name; any
  other one replaces an earlier one whose value is falsy (so `<b/>` then `<b><c/></b>` keep only the second),
  and otherwise the values become a list (appended to, when the earlier value already was one).

What it does not decode like the SDK it refuses to guess at: comments, processing instructions, CDATA
sections and namespaced names (which minidom turns into nodes of their own kinds), and anything that fails
to parse or convert, raise `Unhandled`, and the caller hands that reply to the SDK's parser. A reply with a
document type declaration raises `Refused` before any of it is expanded: Braintree never sends one, and
entity declarations from a network peer are a way to make a parser expand a few bytes into gigabytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from xml.parsers import expat

_BETWEEN_TAGS = re.compile(r">\s+<")  # the SDK's own whitespace rule, applied to the raw body
_CONVERSIONS_CACHED = 4096  # distinct timestamps remembered: a page repeats each one several times

# what an element's first child made it
_EMPTY, _TEXT, _TEXT_THEN_MORE, _DICT, _LIST = range(5)


class Unhandled(Exception):
    """A reply this decoder does not decode exactly as the SDK does: give it to the SDK's parser."""


class Refused(ValueError):
    """A reply that declares a document type (and so could declare entities): decoded by no parser."""


def _refuse(*_: object) -> None:
    raise Refused("the reply declares a document type; Braintree's replies never do")


def _unhandled(*_: object) -> None:
    raise Unhandled("comment, processing instruction or CDATA section")


class ReplyDecoder:
    """`decode(body)`: the SDK parser's dict for a reply body, or Unhandled/Refused.

    `parse_datetime` is the SDK's own timestamp parser (`braintree.util.datetime_parser.parse_datetime`),
    passed in so that timestamps come out exactly as the SDK makes them; results are cached, since a page
    repeats each timestamp several times and both conversions are pure.
    """

    def __init__(self, parse_datetime: Callable[[str], datetime]) -> None:
        self._datetime = lru_cache(maxsize=_CONVERSIONS_CACHED)(parse_datetime)
        self._date = lru_cache(maxsize=_CONVERSIONS_CACHED)(_parse_date)

    def decode(self, body: str | bytes) -> dict[str, Any]:
        try:
            return self._decode(body)
        except (Unhandled, Refused):
            raise
        except Exception as err:  # malformed XML, a conversion the SDK would also fail: its parser decides
            raise Unhandled(f"{type(err).__name__}: {err}") from err

    def _decode(self, body: str | bytes) -> dict[str, Any]:
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        text = _BETWEEN_TAGS.sub("><", body).strip()
        convert = self._convert
        result: dict[str, Any] = {}
        # one frame per open element: [attributes, what its first child made it, value so far]
        stack: list[list[Any]] = []
        push, pop = stack.append, stack.pop

        def start(name: str, attrs: dict[str, str]) -> None:
            if stack:
                parent = stack[-1]
                parent_kind = parent[1]
                if parent_kind == _EMPTY:
                    parent[1] = _DICT
                    parent[2] = {}
                elif parent_kind == _TEXT:
                    parent[1] = _TEXT_THEN_MORE
            push([attrs, _LIST, []] if attrs and attrs.get("type") == "array" else [attrs, _EMPTY, None])

        def characters(data: str) -> None:
            frame = stack[-1]
            if frame[1] == _EMPTY:
                frame[1] = _TEXT
                frame[2] = data
            elif frame[1] == _TEXT:  # expat hands long text over in pieces; minidom joins them
                frame[2] += data

        keys: dict[str, str] = {}

        def end(name: str) -> None:
            attrs, kind, value = pop()
            if kind in (_TEXT, _TEXT_THEN_MORE):
                if attrs:
                    value = convert(attrs, value)
            elif kind == _EMPTY:
                value = convert(attrs, None) if attrs else ""
            key = keys.get(name)
            if key is None:
                if "}" in name:  # a namespaced name: minidom keeps the prefix, expat gives the URI
                    raise Unhandled(f"namespaced element {name!r}")
                key = keys[name] = name.replace("-", "_")
            if not stack:
                result[key] = value
                return
            parent = stack[-1]
            parent_kind = parent[1]
            if parent_kind == _DICT:
                siblings = parent[2]
                if kind != _DICT and kind != _EMPTY:  # text first, or an array: the last one wins
                    siblings[key] = value
                else:
                    earlier = siblings.get(key)
                    if not earlier:
                        siblings[key] = value
                    elif isinstance(earlier, list):
                        earlier.append(value)
                    else:
                        siblings[key] = [earlier, value]
            elif parent_kind == _LIST:
                parent[2].append(value)
            # a parent whose first child was text is that text: the SDK never looks at its elements

        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = characters
        parser.StartDoctypeDeclHandler = _refuse
        parser.EntityDeclHandler = _refuse
        parser.CommentHandler = _unhandled
        parser.ProcessingInstructionHandler = _unhandled
        parser.StartCdataSectionHandler = _unhandled
        parser.Parse(text, True)
        return result

    def _convert(self, attrs: dict[str, str], content: str | None) -> Any:
        kind = attrs.get("type")
        if kind == "integer":
            return int(content)  # type: ignore[arg-type]  # None raises, as it does in the SDK
        if kind == "boolean":
            return content == "true" or content == "1"
        if kind == "datetime":
            return self._datetime(content)
        if kind == "date":
            return self._date(content)
        if attrs.get("nil") == "true":
            return None
        return content or ""


def _parse_date(value: str) -> date:
    return datetime.strptime(value, "%Y-%m-%d").date()
