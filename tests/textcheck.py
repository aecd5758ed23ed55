"""What each platform would read as markup in what the bot sends: Slack's mrkdwn strings and control sequences,
Teams' markdown strings and the links, images and HTML a CommonMark reader (as Adaptive Cards use) finds there."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from markdown_it import MarkdownIt

# Slack's control sequences: <!channel>, <!here>, <@U..>, <#C..>, <!subteam^..>, <http..|..>
SLACK_CONTROL = re.compile(r"<[^<>]*>")


def walk(value: Any, pick: Callable[[dict[str, Any]], list[str]]) -> Iterator[str]:
    """Every string `pick` chooses from the dicts nested anywhere in `value`."""
    if isinstance(value, dict):
        yield from pick(value)
        for inner in value.values():
            yield from walk(inner, pick)
    elif isinstance(value, list):
        for inner in value:
            yield from walk(inner, pick)


def mrkdwn_texts(value: Any) -> Iterator[str]:
    """Every string Slack reads as mrkdwn: mrkdwn text objects (plain_text objects are shown as they are)."""
    return walk(value, lambda d: [d["text"]] if d.get("type") == "mrkdwn" else [])


def teams_texts(card: Any) -> Iterator[str]:
    """What Teams reads as markdown in a card: TextBlock texts and FactSet titles and values."""

    def pick(d: dict[str, Any]) -> list[str]:
        if d.get("type") == "TextBlock":
            return [d["text"]]
        if d.get("type") == "FactSet":
            return [text for fact in d["facts"] for text in (fact["title"], fact["value"])]
        return []

    return walk(card, pick)


def live_markdown(text: str) -> list[str]:
    """Links, images, autolinks and HTML a CommonMark reader finds in `text` (their address or content)."""
    found = []
    for block in MarkdownIt("commonmark").parse(text):
        for token in [block, *(block.children or [])]:
            if token.type in ("link_open", "image", "html_inline", "html_block"):
                found.append(token.attrGet("href") or token.content)
    return found
