"""The neutral message vocabulary that flows build and platform renderers translate, and its plain-text view.

A Message is a tuple of blocks plus a plain-text fallback. No block knows about Block Kit or Adaptive Cards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Header:
    text: str


@dataclass(frozen=True)
class Text:
    """Markdown: *bold*, _italic_, bullet lines starting with "- ", and links <url|label>."""

    markdown: str


@dataclass(frozen=True)
class Fields:
    """Label/value pairs shown as a compact table (Slack fields, Adaptive Card FactSet)."""

    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Context:
    """A small, muted line: who sees results, when a poll closes."""

    text: str


@dataclass(frozen=True)
class Divider:
    pass


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str  # "<flow>.<verb>", routed by bot.handlers.actions
    value: str = ""
    style: Literal["primary", "danger"] | None = None


@dataclass(frozen=True)
class Buttons:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class ChoiceScale:
    """One question answered by a single tap on a point of a scale (1-5, 1-7, agree...disagree).

    Pressing point p sends action `action_id` with value f"{value_prefix}{p}".
    """

    question: str
    action_id: str
    points: tuple[int, ...]
    labels: tuple[str, ...] = ()  # one per point, or empty for bare numbers
    value_prefix: str = ""


@dataclass(frozen=True)
class Image:
    """A chart or picture. `data` is PNG bytes; renderers upload or embed it."""

    data: bytes = field(repr=False)
    alt: str
    title: str = ""


FieldKind = Literal["text", "multiline", "choice", "multi_choice", "number", "date", "scale", "member"]


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: FieldKind = "text"
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for choice, multi_choice, scale, member
    required: bool = True
    initial: str = ""
    hint: str = ""


@dataclass(frozen=True)
class Form:
    """A form opened as a Slack modal, an Adaptive Card with inputs, or a local prompt sequence.

    Submitting sends action `action_id` with `value` and the field values keyed by FormField.name.
    """

    title: str
    action_id: str
    fields: tuple[FormField, ...]
    value: str = ""
    submit_label: str = "Submit"
    intro: str = ""


Block = Header | Text | Fields | Context | Divider | Buttons | ChoiceScale | Image | Form


@dataclass(frozen=True)
class Message:
    blocks: tuple[Block, ...]
    fallback: str  # plain text for notifications, screen readers and logs

    @staticmethod
    def text(markdown: str) -> Message:
        return Message((Text(markdown),), markdown)

    def plain(self) -> str:
        """A readable plain-text rendering, used by logs, the simulator and the local workspace."""
        return plain_text(self)


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


# --- storage codec: messages are stored in the outbox as JSON ------------------------------------------

_BLOCK_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (Header, Text, Fields, Context, Divider, Buttons, ChoiceScale, Image, Form, Button, FormField)
}


def _encode(value: object) -> object:
    import base64
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, object] = {"type": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = _encode(getattr(value, f.name))
        return out
    if isinstance(value, bytes):
        return {"type": "bytes", "b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


def _decode(value: object) -> object:
    import base64

    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    if isinstance(value, dict):
        kind = value["type"]
        if kind == "bytes":
            return base64.b64decode(value["b64"])
        cls = _BLOCK_TYPES[kind]
        return cls(**{k: _decode(v) for k, v in value.items() if k != "type"})
    return value


def message_to_json(message: Message) -> dict[str, object]:
    return {"blocks": _encode(message.blocks), "fallback": message.fallback}


def message_from_json(data: dict[str, object]) -> Message:
    return Message(blocks=_decode(data["blocks"]), fallback=str(data["fallback"]))  # type: ignore[arg-type]


def form_to_json(form: Form) -> dict[str, object]:
    """A form as JSON, to keep it open across requests and restarts (the local workspace)."""
    encoded = _encode(form)
    assert isinstance(encoded, dict)
    return encoded


def form_from_json(data: dict[str, object]) -> Form:
    form = _decode(data)
    if not isinstance(form, Form):
        raise ValueError("not a stored form")
    return form
