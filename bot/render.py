"""Human wording: Jinja2 templates under templates/ (admins override any of them from <config>/templates).

A template's text is chat markup (bot/messages.py) and every value it prints is data: `{{ value }}` is escaped
unless the value is already Markdown, `join` escapes each part, `quote` makes literal text a "> " quote, and
`link(url, label)` / `mention(member_key)` build links and mentions. So a title, a comment or a config string can
never add a mention, a link or formatting. The plain-text view of neutral messages is Message.plain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from bot.messages import Markdown, escape, link, mention, quoted

BUILTIN_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


class Templates:
    def __init__(self, override_folder: str | Path | None = None) -> None:
        loaders = []
        if override_folder and Path(override_folder).is_dir():
            loaders.append(FileSystemLoader(str(override_folder)))
        loaders.append(FileSystemLoader(str(BUILTIN_TEMPLATES)))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            # The output is chat markup, not HTML: `finalize` escapes every value for it instead (bandit B701).
            autoescape=False,  # nosec B701
            finalize=escape,
        )
        self.env.filters["join"] = _join
        self.env.filters["quote"] = quoted
        self.env.globals.update(link=link, mention=mention)

    def render(self, name: str, **context: Any) -> Markdown:
        return Markdown(self.env.get_template(name).render(**context).strip())


def _join(parts: Any, separator: str = "") -> Markdown:
    """Jinja's join, escaping each part that is not already markup (the separator is the template's own)."""
    return Markdown(separator).join(parts)
