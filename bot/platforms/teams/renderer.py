"""Adaptive Cards (schema 1.5) from the neutral message model: what a Teams person sees and taps, and the message
activity that carries them (`outgoing_activity`).

Only rendering lives here: no HTTP and no sending. Every button is an Action.Submit whose data carries
{"partnerbot_action": action_id, "value": value}; form inputs arrive beside it, keyed "input.<field name>".

Text is data: chat markup becomes Teams markdown with every literal character that markdown (or the HTML Teams
reads in messages) would take as syntax backslash-escaped; plain text that lands in a TextBlock or a FactSet is
escaped whole.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from botbuilder.schema import Activity, ActivityTypes, Attachment

from bot.messages import (
    Block,
    Buttons,
    ChoiceScale,
    Context,
    Divider,
    Fields,
    Form,
    FormField,
    Header,
    Image,
    Message,
    Text,
    Token,
    safe_url,
    tokens,
)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
ACTION_KEY = "partnerbot_action"
VALUE_KEY = "value"
SCALE_INPUT_KEY = "partnerbot_scale_input"  # which input carries the chosen point of a long scale
INPUT_PREFIX = "input."
MAX_SCALE_BUTTONS = 5  # more points than this do not fit a row in Teams; they become a choice set and a button

_STYLES = {"primary": "positive", "danger": "destructive"}
_TEAMS_MARKS = {"*": "**", "_": "_", "~": ""}  # Adaptive Cards have no strike-through
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_~\[\]<>#|])")


def teams_escape(text: str) -> str:
    """Literal text for Teams markdown (CommonMark backslash escapes)."""
    return _MARKDOWN_SYNTAX.sub(r"\\\1", text)


def teams_markdown(markup: str) -> str:
    """Our chat markup (*bold*, _italic_, `code`, <url|label>, "- " bullets) in the markdown Teams renders."""
    return "".join(_token(token) for token in tokens(markup))


def _token(token: Token) -> str:
    match token.kind:
        case "text":
            return teams_escape(token.text)
        case "mark":
            return _TEAMS_MARKS[token.text]
        case "code":  # a code span's content is literal in markdown; only a backtick could end it early
            return f"`{token.text.replace('`', 'ˋ')}`"
        case "link":
            label = "".join(_token(t) for t in token.label)
            url = safe_url(token.target)
            return f"[{label}]({url.replace('(', '%28').replace(')', '%29')})" if url else label
        case _:
            return teams_escape(f"@{token.target}")


def submit_data(action_id: str, value: str = "") -> dict[str, str]:
    return {ACTION_KEY: action_id, VALUE_KEY: value}


def is_plain(message: Message) -> bool:
    """A message that is one paragraph of text reads better as a chat message than as a card."""
    return len(message.blocks) == 1 and isinstance(message.blocks[0], Text)


def outgoing_activity(message: Message) -> Activity:
    """One paragraph of text goes as a chat message; anything richer as an Adaptive Card."""
    if is_plain(message):
        block = message.blocks[0]
        assert isinstance(block, Text)
        return Activity(type=ActivityTypes.message, text=teams_markdown(block.markdown), text_format="markdown")
    return Activity(
        type=ActivityTypes.message,
        summary=message.fallback,
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=render_card(message))],
    )


def render_card(message: Message) -> dict[str, Any]:
    """The Adaptive Card for a message (its `content`; wrap with `attachment`)."""
    body: list[dict[str, Any]] = []
    separate = False
    for block in message.blocks:
        if isinstance(block, Divider):
            separate = True
            continue
        elements = _render_block(block)
        if separate and elements:
            elements[0]["separator"] = True
            elements[0]["spacing"] = "Medium"
        separate = False
        body.extend(elements)
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA_URL,
        "version": VERSION,
        "body": body,
        "fallbackText": message.fallback,
        "msteams": {"width": "full"},
    }


def render_form(form: Form) -> dict[str, Any]:
    """A form on its own card (Reply.form)."""
    return render_card(Message((form,), form.title))


def attachment(card: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CARD_CONTENT_TYPE, "content": card}


def _render_block(block: Block) -> list[dict[str, Any]]:
    match block:
        case Header(text):
            return [
                {"type": "TextBlock", "text": teams_escape(text), "size": "Large", "weight": "Bolder", "wrap": True}
            ]
        case Text(markdown):
            return [{"type": "TextBlock", "text": teams_markdown(markdown), "wrap": True}]
        case Context(text):
            return [
                {"type": "TextBlock", "text": teams_markdown(text), "isSubtle": True, "size": "Small", "wrap": True}
            ]
        case Fields(pairs):
            facts = [{"title": teams_escape(label), "value": teams_escape(value)} for label, value in pairs]
            return [{"type": "FactSet", "facts": facts}]
        case Buttons(buttons):
            actions = []
            for button in buttons:
                action = {
                    "type": "Action.Submit",
                    "title": button.label,
                    "data": submit_data(button.action_id, button.value),
                }
                if button.style:
                    action["style"] = _STYLES[button.style]
                actions.append(action)
            return [{"type": "ActionSet", "actions": actions}]
        case ChoiceScale():
            return _render_scale(block)
        case Image(data, alt, title):
            uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
            shown: list[dict[str, Any]] = []
            if title:
                shown.append({"type": "TextBlock", "text": teams_escape(title), "weight": "Bolder", "wrap": True})
            shown.append({"type": "Image", "url": uri, "altText": alt, "size": "Stretch"})
            return shown
        case Form():
            return _render_form_block(block)
    raise TypeError(f"no Adaptive Card rendering for {type(block).__name__}")


def _scale_label(scale: ChoiceScale, index: int) -> str:
    return scale.labels[index] if scale.labels else str(scale.points[index])


def _render_scale(scale: ChoiceScale) -> list[dict[str, Any]]:
    question = {"type": "TextBlock", "text": teams_escape(scale.question), "wrap": True}
    if len(scale.points) <= MAX_SCALE_BUTTONS:
        actions = [
            {
                "type": "Action.Submit",
                "title": _scale_label(scale, i),
                "data": submit_data(scale.action_id, f"{scale.value_prefix}{point}"),
            }
            for i, point in enumerate(scale.points)
        ]
        return [question, {"type": "ActionSet", "actions": actions}]
    input_id = f"{INPUT_PREFIX}scale.{scale.action_id}.{scale.value_prefix}"
    choices = [
        {"title": _scale_label(scale, i), "value": f"{scale.value_prefix}{point}"}
        for i, point in enumerate(scale.points)
    ]
    return [
        question,
        {"type": "Input.ChoiceSet", "id": input_id, "style": "expanded", "choices": choices, "isRequired": True},
        {
            "type": "ActionSet",
            "actions": [
                {
                    "type": "Action.Submit",
                    "title": "Answer",
                    "data": {**submit_data(scale.action_id), SCALE_INPUT_KEY: input_id},
                }
            ],
        },
    ]


def _render_form_block(form: Form) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": teams_escape(form.title), "weight": "Bolder", "wrap": True}
    ]
    if form.intro:
        items.append({"type": "TextBlock", "text": teams_markdown(form.intro), "wrap": True})
    items.extend(_render_input(field) for field in form.fields)
    items.append(
        {
            "type": "ActionSet",
            "actions": [
                {
                    "type": "Action.Submit",
                    "title": form.submit_label,
                    "style": "positive",
                    "data": submit_data(form.action_id, form.value),
                }
            ],
        }
    )
    return [{"type": "Container", "items": items}]


def _render_input(field: FormField) -> dict[str, Any]:
    common: dict[str, Any] = {"id": INPUT_PREFIX + field.name, "label": field.label, "isRequired": field.required}
    if field.required:
        common["errorMessage"] = f"{field.label} is required"
    if field.kind in ("choice", "multi_choice", "scale", "member"):
        element = {
            "type": "Input.ChoiceSet",
            **common,
            "choices": [{"title": label, "value": value} for value, label in field.options],
            "style": "expanded" if field.kind == "scale" else "compact",
        }
        if field.kind == "multi_choice":
            element["isMultiSelect"] = True
    elif field.kind == "number":
        element = {"type": "Input.Number", **common}
        try:
            element["value"] = float(field.initial) if field.initial else None
        except ValueError:
            element["value"] = None  # a non-numeric starting value cannot be shown in a number box
        if element["value"] is None:
            del element["value"]
        return element
    elif field.kind == "date":
        element = {"type": "Input.Date", **common}
    else:
        element = {"type": "Input.Text", **common, "isMultiline": field.kind == "multiline"}
        if field.hint:
            element["placeholder"] = field.hint
    if field.initial:
        element["value"] = field.initial
    return element


def form_values(data: dict[str, Any]) -> dict[str, str]:
    """The submitted form fields from an Action.Submit's data, keyed by FormField.name."""
    values = {}
    for key, value in data.items():
        if key.startswith(INPUT_PREFIX) and not key.startswith(INPUT_PREFIX + "scale."):
            values[key[len(INPUT_PREFIX) :]] = "" if value is None else str(value)
    return values


def submitted_value(data: dict[str, Any]) -> str:
    """The action's value: the button's own, or the point chosen on a long scale."""
    scale_input = data.get(SCALE_INPUT_KEY)
    if isinstance(scale_input, str) and scale_input:
        return str(data.get(scale_input) or "")
    return str(data.get(VALUE_KEY) or "")
