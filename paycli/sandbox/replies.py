"""What the sandbox answers: rendered replies, and validation errors in Braintree's shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paycli.sandbox import rules, schema, xmlcodec


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""


NOT_FOUND = Reply(404)
BAD_REQUEST = Reply(400)


def render(status: int, root: str, value: Any) -> Reply:
    return Reply(status, xmlcodec.render(root, value))


class Invalid(Exception):
    """Validation errors for one request: (object path, code, attribute) triples."""

    def __init__(self, root: str, *errors: tuple[str, str, str], names: str = "") -> None:
        super().__init__(root)
        self.root = root
        self.errors = list(errors)
        self.names = names

    def reply(self, params: dict[str, Any]) -> Reply:
        by_object: dict[str, list[tuple[str, str, str]]] = {}
        for path, code, attribute in self.errors:
            by_object.setdefault(path, []).append((code, attribute, rules.message(code, names=self.names)))
        messages = [text for items in by_object.values() for _, _, text in items]
        return render(
            422,
            "api_error_response",
            {
                "errors": schema.errors(self.root, by_object),
                "params": {self.root: echo(params)},
                "message": "\n".join(messages),
            },
        )


def echo(params: dict[str, Any]) -> dict[str, Any]:
    """The request as Braintree echoes it: card number and CVV removed."""
    echoed = {key: value for key, value in params.items() if key != "api_request_key"}
    card = echoed.get("credit_card")
    if isinstance(card, dict):
        echoed["credit_card"] = {k: v for k, v in card.items() if k not in ("number", "cvv")}
    return echoed
