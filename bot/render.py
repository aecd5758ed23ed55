"""Human wording: Jinja2 templates under templates/ (admins override any of them from <config>/templates),
and a plain-text view of neutral messages for logs, the simulator and the local workspace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from bot.messages import (
    Buttons,
    ChoiceScale,
    Context,
    Divider,
    Fields,
    Form,
    Header,
    Image,
    Message,
    Text,
)

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


def plain_text(message: Message) -> str:
    """Render a message as readable text; buttons are numbered in order so a person can `press N`."""
    lines: list[str] = []
    number = 0
    for block in message.blocks:
        match block:
            case Header(text):
                lines.append(f"== {text} ==")
            case Text(markdown):
                lines.append(markdown)
            case Fields(pairs):
                lines.extend(f"  {label}: {value}" for label, value in pairs)
            case Context(text):
                lines.append(f"  ({text})")
            case Divider():
                lines.append("  ----")
            case Buttons(buttons):
                labels = []
                for button in buttons:
                    number += 1
                    labels.append(f"[{number}] {button.label}")
                lines.append("  " + "  ".join(labels))
            case ChoiceScale(question, _, points, labels, _):
                options = []
                for i, point in enumerate(points):
                    number += 1
                    label = f" {labels[i]}" if labels else ""
                    options.append(f"[{number}]{label or ' ' + str(point)}")
                lines.append(f"  {question}")
                lines.append("    " + " ".join(options))
            case Image(_, alt, title):
                lines.append(f"  [image: {title or alt}]")
            case Form(title, _, fields, _, submit_label, intro):
                number += 1
                lines.append(f"  [{number}] {submit_label}: {title} ({len(fields)} fields)")
                if intro:
                    lines.append(f"  {intro}")
    return "\n".join(lines)
