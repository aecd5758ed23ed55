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
            autoescape=False,  # output is chat markdown, not HTML
        )

    def render(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render(**context).strip()
