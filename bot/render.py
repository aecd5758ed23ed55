"""Human wording: Jinja2 templates under templates/ (admins override any of them from <config>/templates).

The plain-text view of neutral messages is Message.plain (bot/messages.py): messages never import this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

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
            # The output is chat text, not HTML: each platform's renderer escapes text from people and config for its
            # own markup (bot/messages.py), which HTML autoescaping would only garble (bandit B701).
            autoescape=False,  # nosec B701
        )

    def render(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render(**context).strip()
