"""HTTP request bodies read whole, or not at all: for paycli's own small servers (the sandbox, `paycli serve`).

A request is acted on only once its whole body has been read. A cut-off body could otherwise read as an
empty or shorter one — a refund with no amount and no api_request_key — so a body that ends early is
`BodyCut` (close without an answer), and framing that cannot be trusted (both Content-Length and
Transfer-Encoding, a negative or non-numeric length, an unknown transfer coding, malformed chunks) is
`BodyRefused` with the status to answer before closing, since the next request's start is unknown
(RFC 9112, sections 6 and 7.1). Standard library only: the sandbox imports it too.
"""

from __future__ import annotations

import io
import re
from email.message import Message
from typing import IO

MAX_LINE_BYTES = 1024  # a chunk-size or trailer line
MAX_TRAILERS = 32
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only: str.isdigit() would take "²" or "٣"
_HEX = re.compile(rb"[0-9A-Fa-f]{1,8}")


class BodyCut(Exception):
    """The stream ended inside the body: the client went away mid-request."""


class BodyRefused(Exception):
    """The request's framing cannot be trusted: answer `status`, then close the connection."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def read_body(headers: Message, stream: IO[bytes] | io.BufferedIOBase, max_bytes: int) -> bytes:
    """The whole body framed by `headers` (Content-Length or chunked), at most `max_bytes` (else 413)."""
    codings = headers.get_all("Transfer-Encoding") or []
    lengths = headers.get_all("Content-Length") or []
    if codings:
        if lengths:  # both framings at once is how requests are smuggled
            raise BodyRefused(400)
        if [c.strip().lower() for value in codings for c in value.split(",")] != ["chunked"]:
            raise BodyRefused(501)  # a transfer coding this server does not implement
        return _read_chunked(stream, max_bytes)
    if not lengths:
        return b""
    if len({value.strip() for value in lengths}) != 1 or not _DIGITS.fullmatch(lengths[0].strip()):
        raise BodyRefused(400)
    length = int(lengths[0])
    if length > max_bytes:
        raise BodyRefused(413)
    body = stream.read(length) if length else b""
    if len(body) < length:
        raise BodyCut
    return body


def _read_chunked(stream: IO[bytes] | io.BufferedIOBase, max_bytes: int) -> bytes:
    body = bytearray()
    while True:
        size_text = _line(stream).split(b";", 1)[0].strip()  # chunk extensions are ignored
        if not _HEX.fullmatch(size_text):
            raise BodyRefused(400)
        size = int(size_text, 16)
        if size == 0:
            break
        if len(body) + size > max_bytes:
            raise BodyRefused(413)
        chunk = stream.read(size)
        if len(chunk) < size:
            raise BodyCut
        body += chunk
        if _line(stream).strip():
            raise BodyRefused(400)  # chunk data longer than its size line said
    for _ in range(MAX_TRAILERS + 1):
        if not _line(stream).strip():
            return bytes(body)
    raise BodyRefused(400)


def _line(stream: IO[bytes] | io.BufferedIOBase) -> bytes:
    line = stream.readline(MAX_LINE_BYTES + 1)
    if len(line) > MAX_LINE_BYTES:
        raise BodyRefused(400)
    if not line.endswith(b"\n"):
        raise BodyCut  # the stream ended inside the body
    return line
