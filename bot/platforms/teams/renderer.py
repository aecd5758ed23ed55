"""Adaptive Cards (schema 1.5) from the neutral message model, written the Teams way, and the message activity
that carries them (`outgoing_activity`).

Teams shows our chat markdown's `code`, "> " quotes and :shortcodes: literally, so they never reach it: code spans
become monospace text runs, quotes an emphasis container, shortcodes real emoji, *bold* and <url|label> Teams'
own markdown. Text is data: chat markup is read with bot.messages.tokens (`runs`), and every literal piece that
lands where Teams reads markdown (TextBlocks, facts) is backslash-escaped (`teams_escape`), so text from people or
config can never make a link, HTML or formatting; plain-text fields (a Header, labels, choices, button titles) are
literal text, never parsed (`_plain`).

A message stays under Teams' size limit: a chart is shown from a hosted address (`image_url`, given by
outbound.py) instead of being embedded, and an oversized card is shortened with a note. Only rendering lives here:
no HTTP and no sending. Every button is an Action.Submit whose data carries {"partnerbot_action": action_id,
"value": value}; form inputs arrive beside it, keyed "input.<field name>".
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from microsoft_agents.activity import Activity, ActivityTypes, Attachment

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
# Teams refuses a message over about 28 KB, card included ("Format your bot messages", message size limits).
MAX_MESSAGE_BYTES = 28 * 1024
SHORTENED_NOTE = "This message was too long for Teams and has been shortened."
CHART_LEFT_OUT = "The chart is left out here: Teams cannot show it (ask your admin to set PARTNERBOT_PUBLIC_URL)."

ImageUrl = Callable[[Image], str | None]  # a hosted address for an image, or None when there is none

_STYLES = {"primary": "positive", "danger": "destructive"}
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_~\[\]<>#|])")
_SHORTCODE = re.compile(r":([a-z0-9_+-]+):")
# The shortcodes our wording uses or admins are likely to write, as the emoji Teams shows.
EMOJI = {
    "tada": "🎉",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "x": "❌",
    "warning": "⚠️",
    "wave": "👋",
    "clap": "👏",
    "raised_hands": "🙌",
    "+1": "👍",
    "thumbsup": "👍",
    "pray": "🙏",
    "handshake": "🤝",
    "sparkles": "✨",
    "star": "⭐",
    "rocket": "🚀",
    "bulb": "💡",
    "memo": "📝",
    "pencil": "📝",
    "calendar": "📅",
    "date": "📅",
    "spiral_calendar_pad": "🗓️",
    "bar_chart": "📊",
    "chart_with_upwards_trend": "📈",
    "clipboard": "📋",
    "pushpin": "📌",
    "bell": "🔔",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "alarm_clock": "⏰",
    "speech_balloon": "💬",
    "information_source": "ℹ️",
    "heart": "❤️",
    "seedling": "🌱",
    "smile": "😄",
    "slightly_smiling_face": "🙂",
    "partying_face": "🥳",
    "eyes": "👀",
    "mega": "📣",
    "loudspeaker": "📢",
}


# --- text ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """A piece of a line with one kind of formatting: plain, code, bold, italic or a link (with its address)."""

    text: str
    kind: str = "plain"
    url: str = ""


def emoji(text: str) -> str:
    """:shortcodes: as the emoji they stand for (unknown ones are left as written)."""
    return _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def runs(line: str) -> list[Run]:
    """One line of our chat markup as formatted runs of literal text."""
    out: list[Run] = []
    bold = italic = False
    for token in tokens(line):
        match token.kind:
            case "mark" if token.text == "*":
                bold = not bold
            case "mark" if token.text == "_":
                italic = not italic
            case "mark":
                pass  # ~strike~: Adaptive Cards have none
            case "code":
                out.append(Run(token.text, "code"))
            case "link":
                label = "".join(t.text for t in token.label if t.kind in ("text", "code"))
                url = safe_url(token.target)
                out.append(Run(label, "link", url) if url else Run(label))
            case "mention":
                out.append(Run(f"@{token.target}"))
            case _:
                out.append(Run(token.text, "bold" if bold else "italic" if italic else "plain"))
    return [Run(emoji(r.text), r.kind, r.url) for r in out if r.text]


def teams_escape(text: str) -> str:
    """Literal text where Teams reads markdown: CommonMark backslash escapes before every character it could read
    as syntax (a link, HTML, emphasis, a heading)."""
    return _MARKDOWN_SYNTAX.sub(r"\\\1", text)


def has_code(markdown: str) -> bool:
    return any(r.kind == "code" for line in markdown.split("\n") for r in runs(line))


def is_quote(line: str) -> bool:
    return line.startswith(">")


def _unquote(line: str) -> str:
    return line[1:].removeprefix(" ")


def teams_markdown(markdown: str) -> str:
    """Our chat markdown (*bold*, _italic_, <url|label>, "- " bullets, :shortcodes:) in the dialect Teams renders.
    Code spans keep their text without the backticks; `_paragraphs` shows them in monospace instead."""
    lines = []
    for line in markdown.split("\n"):
        parts = []
        for run in runs(line):
            text = teams_escape(run.text)
            match run.kind:
                case "bold":
                    parts.append(f"**{text}**")
                case "italic":
                    parts.append(f"_{text}_")
                case "link":
                    parts.append(f"[{text}]({run.url.replace('(', '%28').replace(')', '%29')})")
                case _:
                    parts.append(text)
        lines.append("".join(parts))
    return "\n".join(lines)


def _plain(text: str) -> str:
    """A plain-text field (a title, a label, a choice) as one line of literal text, shortcodes as emoji. Where Teams
    reads markdown (a TextBlock, a fact), it goes through teams_escape too."""
    return " ".join(emoji(text).split("\n")).strip()


def _text_runs(line: str, **style: Any) -> list[dict[str, Any]]:
    inlines: list[dict[str, Any]] = []
    for run in runs(line):
        if not run.text:
            continue
        inline: dict[str, Any] = {"type": "TextRun", "text": run.text, **style}
        if run.kind == "code":
            inline["fontType"] = "Monospace"
        elif run.kind == "bold":
            inline["weight"] = "Bolder"
        elif run.kind == "italic":
            inline["italic"] = True
        elif run.kind == "link":
            inline["selectAction"] = {"type": "Action.OpenUrl", "url": run.url}
        inlines.append(inline)
    return inlines


def _lines(lines: list[str], **style: Any) -> list[dict[str, Any]]:
    """Unquoted lines: one TextBlock in Teams markdown; lines with code spans as rich text with monospace runs."""
    if not any(has_code(line) for line in lines):
        text = teams_markdown("\n".join(lines))
        return [{"type": "TextBlock", "text": text, "wrap": True, **style}] if text.strip() else []
    elements: list[dict[str, Any]] = []
    for line in lines:
        bullet = line.startswith("- ")
        inlines = _text_runs("• " + line[2:] if bullet else line, **style)
        if inlines:
            element: dict[str, Any] = {"type": "RichTextBlock", "inlines": inlines}
            if elements:
                element["spacing"] = "Small"
            elements.append(element)
    return elements


def _paragraphs(markdown: str, *, subtle: bool = False) -> list[dict[str, Any]]:
    """Text that may be formatted: plain runs of lines as text, "> " quotes in an emphasis container."""
    style: dict[str, Any] = {"isSubtle": True, "size": "Small"} if subtle else {}
    elements: list[dict[str, Any]] = []
    group: list[str] = []
    quoted = False

    def flush() -> None:
        if not group:
            return
        if quoted:
            inner = _lines([_unquote(line) for line in group], **style)
            if inner:
                elements.append({"type": "Container", "style": "emphasis", "items": inner})
        else:
            elements.extend(_lines(group, **style))
        group.clear()

    for line in markdown.split("\n"):
        if is_quote(line) != quoted:
            flush()
            quoted = is_quote(line)
        group.append(line)
    flush()
    return elements


def plain_fallback(text: str) -> str:
    """A notification's or screen reader's text (never read as markdown): formatting marks and quote markers
    dropped, links as their labels."""
    lines = (_unquote(line) if is_quote(line) else line for line in text.split("\n"))
    return "\n".join("".join(run.text for run in runs(line)) for line in lines)


# --- messages and cards ----------------------------------------------------------------------------------------


def submit_data(action_id: str, value: str = "") -> dict[str, str]:
    return {ACTION_KEY: action_id, VALUE_KEY: value}


def is_plain(message: Message) -> bool:
    """One paragraph of prose reads better as a chat message than as a card; text with code or quotes needs the
    card's formatting."""
    if len(message.blocks) != 1 or not isinstance(message.blocks[0], Text):
        return False
    markdown = message.blocks[0].markdown
    return not has_code(markdown) and not any(is_quote(line) for line in markdown.split("\n"))


def outgoing_activity(message: Message, image_url: ImageUrl | None = None) -> Activity:
    """One paragraph of prose goes as a chat message; anything richer as an Adaptive Card."""
    if is_plain(message):
        block = message.blocks[0]
        assert isinstance(block, Text)
        return Activity(type=ActivityTypes.message, text=teams_markdown(block.markdown), text_format="markdown")
    return Activity(
        type=ActivityTypes.message,
        summary=plain_fallback(message.fallback),
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=render_card(message, image_url))],
    )


def render_card(message: Message, image_url: ImageUrl | None = None) -> dict[str, Any]:
    """The Adaptive Card for a message (its `content`; wrap with `attachment`), under Teams' size limit."""
    body = _body(message, image_url, embed=True)
    card = _card(body, message)
    if _size(card) > MAX_MESSAGE_BYTES and any(isinstance(b, Image) for b in message.blocks):
        card = _card(_body(message, image_url, embed=False), message)
    if _size(card) > MAX_MESSAGE_BYTES:
        card = _card(_shortened(card["body"], message), message)
    return card


def _card(body: list[dict[str, Any]], message: Message) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA_URL,
        "version": VERSION,
        "body": body,
        "fallbackText": plain_fallback(message.fallback),
        "msteams": {"width": "Full"},
    }


def _size(card: dict[str, Any]) -> int:
    # The activity around a card adds its summary and a few hundred bytes of addressing.
    return len(json.dumps(card).encode()) + len(card["fallbackText"].encode()) + 1024


def _shortened(body: list[dict[str, Any]], message: Message) -> list[dict[str, Any]]:
    """The body without its last text elements until it fits, buttons and inputs kept, with a note saying so."""
    note = {"type": "TextBlock", "text": SHORTENED_NOTE, "isSubtle": True, "size": "Small", "wrap": True}
    kept = list(body)
    while kept:
        for i in range(len(kept) - 1, -1, -1):
            if _droppable(kept[i]):
                del kept[i]
                break
        else:
            break
        if _size(_card([*kept, note], message)) <= MAX_MESSAGE_BYTES:
            break
    return [*kept, note]


def _droppable(element: dict[str, Any]) -> bool:
    """Text, facts and images may go to make room; buttons, inputs and forms stay."""
    if element["type"] == "Container":
        return not any(str(e.get("type", "")).startswith(("Input.", "Action")) for e in element.get("items", []))
    return element["type"] in ("TextBlock", "RichTextBlock", "FactSet", "Image")


def _body(message: Message, image_url: ImageUrl | None, *, embed: bool) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    separate = False
    for block in message.blocks:
        if isinstance(block, Divider):
            separate = True
            continue
        elements = _render_image(block, image_url, embed) if isinstance(block, Image) else _render_block(block)
        if separate and elements:
            elements[0]["separator"] = True
            elements[0]["spacing"] = "Medium"
        separate = False
        body.extend(elements)
    return body


def render_form(form: Form) -> dict[str, Any]:
    """A form on its own card (Reply.form)."""
    return render_card(Message((form,), form.title))


def attachment(card: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CARD_CONTENT_TYPE, "content": card}


def _render_block(block: Block) -> list[dict[str, Any]]:
    match block:
        case Header(text):
            heading = teams_escape(_plain(text))
            return [{"type": "TextBlock", "text": heading, "style": "heading", "size": "Large", "wrap": True}]
        case Text(markdown):
            return _paragraphs(markdown)
        case Context(text):
            return _paragraphs(text, subtle=True)
        case Fields(pairs):
            facts = [{"title": teams_escape(_plain(k)), "value": teams_escape(_plain(v))} for k, v in pairs]
            return [{"type": "FactSet", "facts": facts}]
        case Buttons(buttons):
            actions = []
            for button in buttons:
                action = {
                    "type": "Action.Submit",
                    "title": _plain(button.label),
                    "data": submit_data(button.action_id, button.value),
                }
                if button.style:
                    action["style"] = _STYLES[button.style]
                actions.append(action)
            return [{"type": "ActionSet", "actions": actions}]
        case ChoiceScale():
            return _render_scale(block)
        case Form():
            return _render_form_block(block)
    raise TypeError(f"no Adaptive Card rendering for {type(block).__name__}")


def _render_image(image: Image, image_url: ImageUrl | None, embed: bool) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = []
    if image.title:
        shown.append({"type": "TextBlock", "text": teams_escape(_plain(image.title)), "weight": "Bolder", "wrap": True})
    url = image_url(image) if image_url is not None else None
    if url is None and embed:
        url = "data:image/png;base64," + base64.b64encode(image.data).decode("ascii")
    if url is None:
        shown.append({"type": "TextBlock", "text": CHART_LEFT_OUT, "isSubtle": True, "size": "Small", "wrap": True})
    else:
        shown.append({"type": "Image", "url": url, "altText": _plain(image.alt), "size": "Stretch"})
    return shown


def _scale_label(scale: ChoiceScale, index: int) -> str:
    return _plain(scale.labels[index]) if scale.labels else str(scale.points[index])


def _render_scale(scale: ChoiceScale) -> list[dict[str, Any]]:
    question = [{"type": "TextBlock", "text": teams_escape(_plain(scale.question)), "wrap": True}]
    if len(scale.points) <= MAX_SCALE_BUTTONS:
        actions = [
            {
                "type": "Action.Submit",
                "title": _scale_label(scale, i),
                "data": submit_data(scale.action_id, f"{scale.value_prefix}{point}"),
            }
            for i, point in enumerate(scale.points)
        ]
        return [*question, {"type": "ActionSet", "actions": actions}]
    input_id = f"{INPUT_PREFIX}scale.{scale.action_id}.{scale.value_prefix}"
    choices = [
        {"title": _scale_label(scale, i), "value": f"{scale.value_prefix}{point}"}
        for i, point in enumerate(scale.points)
    ]
    return [
        *question,
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
    title = teams_escape(_plain(form.title))
    items: list[dict[str, Any]] = [{"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": True}]
    if form.intro:
        items.extend(_paragraphs(form.intro))
    items.extend(_render_input(field) for field in form.fields)
    items.append(
        {
            "type": "ActionSet",
            "actions": [
                {
                    "type": "Action.Submit",
                    "title": _plain(form.submit_label),
                    "style": "positive",
                    "data": submit_data(form.action_id, form.value),
                }
            ],
        }
    )
    return [{"type": "Container", "items": items}]


def _render_input(field: FormField) -> dict[str, Any]:
    label = _plain(field.label)
    common: dict[str, Any] = {"id": INPUT_PREFIX + field.name, "label": label, "isRequired": field.required}
    if field.required:
        common["errorMessage"] = f"{label} is required"
    if field.kind in ("choice", "multi_choice", "scale", "member"):
        element = {
            "type": "Input.ChoiceSet",
            **common,
            "choices": [{"title": _plain(title), "value": value} for value, title in field.options],
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
            element["placeholder"] = _plain(field.hint)
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
