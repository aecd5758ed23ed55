"""Neutral messages as terminal text: a post with its header, a list of posts, a form's fields, and the numbers a
person types to press a control (the same numbering as Message.plain). Pure functions: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from bot.messages import Buttons, ChoiceScale, Form, Message, unescape


class Shown(Protocol):
    id: int
    conversation: str
    message: Message


def render_post(post_id: int, where: str, when: datetime, message: Message, *, updated: bool = False) -> str:
    head = f"--- [msg {post_id}] {where} {when:%a %Y-%m-%d %H:%M %Z}{' (updated)' if updated else ''}"
    return f"{head}\n{message.plain()}\n"


def post_list(posts: Iterable[Shown]) -> str:
    return "\n\n".join(f"[msg {p.id}] {p.conversation}\n{p.message.plain()}" for p in posts) or "(nothing)"


def numbered_controls(message: Message) -> dict[int, tuple[str, str] | Form]:
    """The same numbering as bot.messages.plain_text: buttons, scale points and forms in order."""
    controls: dict[int, tuple[str, str] | Form] = {}
    number = 0
    for block in message.blocks:
        if isinstance(block, Buttons):
            for button in block.buttons:
                number += 1
                controls[number] = (button.action_id, button.value)
        elif isinstance(block, ChoiceScale):
            for point in block.points:
                number += 1
                controls[number] = (block.action_id, f"{block.value_prefix}{point}")
        elif isinstance(block, Form):
            number += 1
            controls[number] = block
    return controls


def describe_form(form: Form) -> str:
    lines = [f"Form: {form.title}"]
    if form.intro:
        lines.append(unescape(form.intro))
    for f in form.fields:
        shown = [v if label in ("", v) else f"{v}={label}" for v, label in f.options]
        options = f" (one of: {', '.join(shown)})" if f.options else ""
        required = " [required]" if f.required else " [optional]"
        initial = f" [now: {f.initial}]" if f.initial else ""
        lines.append(f"  {f.name}: {f.label}{options}{required}{initial}")
        if f.hint:
            lines.append(f"      {f.hint}")
    lines.append('Reply with: as NAME: submit field=value field2="several words" ...')
    return "\n".join(lines)
