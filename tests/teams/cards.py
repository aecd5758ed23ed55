"""What every Teams message the tests produce must be: each Adaptive Card valid against the official schema 1.5 (with
Teams' `msteams` extension), every message under Teams' size limit, and no text a person reads carrying our chat
markdown's backticks, "> " quote markers or :shortcodes: (Teams would show them literally).

The Bot Connector stand-in (connector.py) checks every message the bot sends with `message_problems`.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator
from jsonschema.exceptions import ValidationError, best_match

from bot.platforms.teams.renderer import MAX_MESSAGE_BYTES

SCHEMA = Path(__file__).parent / "schemas" / "adaptive-card-1.5.json"
SHORTCODE = re.compile(r":[a-z0-9_+-]+:")
# The properties of card elements a person reads (ids, urls, data and input values are not shown as text).
SHOWN = ("text", "title", "label", "placeholder", "altText", "fallbackText", "errorMessage", "summary")


def elements(node: Any) -> list[dict[str, Any]]:
    """Every typed element (a dict with a "type": containers, texts, inputs, actions) in a card, a sent activity or
    any JSON holding them, depth first."""
    if isinstance(node, dict):
        return ([node] if "type" in node else []) + [e for v in node.values() for e in elements(v)]
    if isinstance(node, list):
        return [e for v in node for e in elements(v)]
    return []


@cache
def card_validator() -> Draft6Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    definitions = copy.deepcopy(schema["definitions"])
    definitions["AdaptiveCard"]["properties"]["msteams"] = {
        "type": "object",
        "properties": {"width": {"enum": ["Full"]}},
        "additionalProperties": False,
    }
    # Validate against the card definition itself: the root's anyOf would hide every error behind one line.
    return Draft6Validator({"$ref": "#/definitions/AdaptiveCard", "definitions": definitions})


def _deepest(error: ValidationError) -> ValidationError:
    """Inside an anyOf of element types, the error of the branch for the element's own type."""
    while error.context:
        own = [e for e in error.context if not (e.absolute_path and e.absolute_path[-1] == "type")]
        error = max(own or error.context, key=lambda e: (len(e.absolute_path), -len(e.context or ())))
    return error


def card_problems(card: dict[str, Any]) -> list[str]:
    problems = []
    for error in sorted(card_validator().iter_errors(card), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path)
        problems.append(f"card/{where}: {_deepest(error).message[:300]}")
    if card.get("version") != "1.5":  # the schema does not require it; Teams does
        problems.append(f"card: version is {card.get('version')!r}, not '1.5'")
    return problems


def shown_texts(node: Any) -> list[str]:
    """Every string in a card that Teams shows to a person."""
    if isinstance(node, list):
        return [text for item in node for text in shown_texts(item)]
    if not isinstance(node, dict):
        return []
    texts = [node[key] for key in SHOWN if isinstance(node.get(key), str)]
    if node.get("type") == "FactSet":
        texts += [fact.get("value", "") for fact in node.get("facts", [])]
    for key, value in node.items():
        if key not in ("data", "msteams") and isinstance(value, list | dict):
            texts += shown_texts(value)
    return texts


def text_problems(texts: list[str]) -> list[str]:
    problems = []
    for text in texts:
        # A backslash-escaped backtick or ">" is a person's own character, shown as typed: not markup.
        if re.search(r"(?<!\\)`", text):
            problems.append(f"a backtick reaches Teams: {text[:120]!r}")
        if any(line.lstrip().startswith(">") for line in text.split("\n")):
            problems.append(f"a quote marker reaches Teams: {text[:120]!r}")
        if found := SHORTCODE.search(text):
            problems.append(f"the shortcode {found.group(0)} reaches Teams: {text[:120]!r}")
    return problems


def message_problems(body: dict[str, Any]) -> list[str]:
    """Everything wrong with one activity the bot sends (as JSON)."""
    size = len(json.dumps(body).encode())
    problems = [f"the message is {size} bytes, over Teams' {MAX_MESSAGE_BYTES}"] if size > MAX_MESSAGE_BYTES else []
    texts = [body[key] for key in ("text", "summary") if isinstance(body.get(key), str)]
    for attachment in body.get("attachments") or []:
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
            card = attachment.get("content") or {}
            problems += card_problems(card)
            texts += shown_texts(card)
    return problems + text_problems(texts)


def assert_valid_card(card: dict[str, Any]) -> None:
    problems = card_problems(card) + text_problems(shown_texts(card))
    assert not problems, "\n".join(problems)


def first_error(card: dict[str, Any]) -> str:
    """The most relevant schema error of an invalid card (for tests of the validator itself)."""
    error = best_match(card_validator().iter_errors(card))
    return _deepest(error).message if error else ""
