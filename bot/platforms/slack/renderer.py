"""Block Kit from the neutral message model: message blocks, modals for Forms, the App Home view, and the way
back (a modal's state values, a button's action id). Pure functions: no Web API calls and no Slack SDK here.

Text is data: chat markup becomes mrkdwn with every literal character escaped (`&`, `<`, `>`), so no `<!channel>`,
`<@U..>` or link can come from a title or a comment; plain text that lands in mrkdwn (field values, questions, the
fallback) is escaped whole. Mentions come only from Mention tokens, rendered from the member's Slack id.
mrkdwn objects are `verbatim`, so Slack does not turn text into links or mentions on its own.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Mapping
from typing import Any

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
    message_from_json,
    message_to_json,
    safe_url,
    tokens,
)

# Slack's documented limits (Block Kit reference): text is split at block, line and word boundaries to fit them, and
# shortened at a word only where Slack allows no second block (a header, a button, a modal title).
MAX_BLOCKS = 50  # in a message (a modal or the Home tab allows 100)
MAX_VIEW_BLOCKS = 100
SECTION_TEXT = 3000
FIELD_TEXT = 2000  # each of a section's fields
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
OPTION_TEXT = 75
ACTIONS_PER_BLOCK = 25
FIELDS_PER_SECTION = 10
MODAL_TITLE = 24  # also the submit and close buttons
INPUT_LABEL = 2000
INPUT_HINT = 2000
PRIVATE_METADATA = 3000
OPTIONS_PER_SELECT = 100

# A button that opens a Form as a modal: pressing it needs no handler, the form travels in the button's value.
OPEN_FORM = "partnerbot.open_form"
# The callback id of every modal we open; the neutral action id travels in private_metadata.
FORM_CALLBACK = "partnerbot.form"
# Element action ids are "<neutral action id>|<n>" because Slack wants them unique within a block.
SUFFIX = "|"


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": shorten(text or " ", limit), "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_TEXT) -> dict[str, Any]:
    """A mrkdwn object for text already in Slack's markup (from slack_markup or slack_escape)."""
    return {"type": "mrkdwn", "text": shorten(text or " ", limit), "verbatim": True}


def slack_escape(text: str) -> str:
    """Literal text for mrkdwn: the three characters Slack reserves, as the entities it asks for."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_markup(markup: str, mentions: Mapping[str, str] | None = None) -> str:
    """Our chat markup as mrkdwn. `mentions`: member key -> Slack user id, for the mentions the bot makes."""
    return "".join(_token(token, mentions or {}) for token in tokens(markup))


def _token(token: Token, mentions: Mapping[str, str]) -> str:
    match token.kind:
        case "text":
            return slack_escape(token.text)
        case "mark":
            return token.text
        case "code":  # mrkdwn cannot escape a backtick inside code: a look-alike keeps the span whole
            return f"`{slack_escape(token.text.replace('`', 'ˋ'))}`"
        case "link":
            label = "".join(_token(t, mentions) for t in token.label)
            url = safe_url(token.target)
            return f"<{url}|{label}>" if url else label
        case _:
            user = mentions.get(token.target, "")
            return f"<@{user}>" if user.isalnum() else slack_escape(f"@{token.target}")


def fallback_text(message: Message) -> str:
    """The notification text of a message (Slack parses it like mrkdwn): plain text, escaped."""
    return slack_escape(message.fallback) or " "


def shorten(text: str, limit: int) -> str:
    """`text`, or its longest start that ends at a word and fits `limit` with "…" (where Slack allows no second
    block); a single word longer than the limit is cut."""
    if len(text) <= limit:
        return text
    room = text[: limit - 1]
    cut = room.rfind(" ")
    return (room[:cut].rstrip() if cut > limit // 2 else room) + "…"


_SPANS = ("*", "_", "~", "`")


def _balanced(text: str) -> bool:
    """Whether `text` closes every bold, italic, strike, code span and link it opens (so it can end a block)."""
    if text.count("<") != text.count(">"):
        return False
    return all(text.count(mark) % 2 == 0 for mark in _SPANS)


def split_mrkdwn(text: str, limit: int = SECTION_TEXT) -> list[str]:
    """Text cut into pieces of at most `limit` characters for consecutive sections: at line boundaries where it can,
    else at a space outside any formatting span, never inside a word, a bold run or a link."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        while len(line) > limit:
            head, line = _split_line(line, limit)
            pieces.append(head)
        current = line
    if current or not pieces:
        pieces.append(current or " ")
    return pieces


def _split_line(line: str, limit: int) -> tuple[str, str]:
    spaces = [i for i, char in enumerate(line[: limit + 1]) if char == " "]
    for i in reversed(spaces):
        if _balanced(line[:i]):
            return line[:i].rstrip(), line[i + 1 :]
    # A formatting run longer than a section: close it at a word and open it again in the next section.
    spaces = [i for i in spaces if i <= limit - len(_SPANS)]
    for i in reversed(spaces):
        head = line[:i].rstrip()
        if head.count("<") == head.count(">") and head.count("`") % 2 == 0:
            marks = "".join(mark for mark in "*_~" if head.count(mark) % 2)
            return head + marks[::-1], marks + line[i + 1 :]
    return line[:limit], line[limit:]  # one word longer than a section: nothing better to do


def neutral_action_id(element_action_id: str) -> str:
    return element_action_id.split(SUFFIX, 1)[0]


def render(
    message: Message, mentions: Mapping[str, str] | None = None, *, limit: int = MAX_BLOCKS
) -> list[dict[str, Any]]:
    """Block Kit blocks for a message. Images are uploaded separately (files_upload_v2); here they leave a line.
    `mentions`: member key -> Slack user id for the members the message mentions (Message.mentioned()). A message
    that needs more than `limit` blocks ends, at a block boundary, with a line saying it was shortened."""
    out: list[dict[str, Any]] = []
    for index, block in enumerate(message.blocks):
        out.extend(_render_block(block, index, mentions or {}))
    if len(out) > limit:
        out = [*out[: limit - 1], {"type": "context", "elements": [mrkdwn("(shortened: too long for Slack)")]}]
    return out


def _render_block(block: Block, index: int, mentions: Mapping[str, str]) -> list[dict[str, Any]]:
    match block:
        case Header(text):
            return [{"type": "header", "text": plain(text, HEADER_TEXT)}]
        case Text(markdown):
            chunks = split_mrkdwn(slack_markup(markdown, mentions))
            return [{"type": "section", "text": mrkdwn(chunk)} for chunk in chunks]
        case Fields(pairs):
            sections = []
            for start in range(0, len(pairs), FIELDS_PER_SECTION):
                chunk = pairs[start : start + FIELDS_PER_SECTION]
                fields = [mrkdwn(f"*{slack_escape(k)}*\n{slack_escape(v)}", FIELD_TEXT) for k, v in chunk]
                sections.append({"type": "section", "fields": fields})
            return sections
        case Context(text):
            return [{"type": "context", "elements": [mrkdwn(c)]} for c in split_mrkdwn(slack_markup(text, mentions))]
        case Divider():
            return [{"type": "divider"}]
        case Buttons(buttons):
            elements = [_button(b.label, b.action_id, b.value, b.style, n) for n, b in enumerate(buttons)]
            return _actions(elements, index)
        case ChoiceScale(question, action_id, points, labels, value_prefix):
            elements = [
                _button(labels[n] if labels else str(point), action_id, f"{value_prefix}{point}", None, n)
                for n, point in enumerate(points)
            ]
            return [{"type": "section", "text": mrkdwn(f"*{slack_escape(question)}*")}, *_actions(elements, index)]
        case Image(_, alt, title):
            caption = f":bar_chart: {slack_escape(title or alt)} (chart below)"
            return [{"type": "context", "elements": [mrkdwn(caption)]}]
        case Form(title, _, _, _, _, intro):
            blocks: list[dict[str, Any]] = []
            if intro:
                chunks = split_mrkdwn(slack_markup(intro, mentions))
                blocks.extend({"type": "section", "text": mrkdwn(chunk)} for chunk in chunks)
            button = _button(title, OPEN_FORM, pack_form(block), "primary", 0)
            return [*blocks, *_actions([button], index)]
    raise TypeError(f"cannot render {type(block).__name__} for Slack")


def _button(label: str, action_id: str, value: str, style: str | None, n: int) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(label, BUTTON_TEXT),
        "action_id": f"{action_id}{SUFFIX}{n}",
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def _actions(elements: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    return [
        {"type": "actions", "block_id": f"b{index}.{start}", "elements": elements[start : start + ACTIONS_PER_BLOCK]}
        for start in range(0, len(elements), ACTIONS_PER_BLOCK)
    ]


def images(message: Message) -> list[Image]:
    return [block for block in message.blocks if isinstance(block, Image)]


# --- forms ---------------------------------------------------------------------------------------------------


def pack_form(form: Form) -> str:
    """A Form carried in a button's value (compressed JSON), so pressing the button can open it at once."""
    raw = json.dumps(message_to_json(Message((form,), "")), separators=(",", ":")).encode()
    packed = base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode("ascii")
    if len(packed) > BUTTON_VALUE:
        raise ValueError(f"form {form.action_id!r} is too large for a Slack button ({len(packed)} characters)")
    return packed


def unpack_form(value: str) -> Form:
    data = json.loads(zlib.decompress(base64.urlsafe_b64decode(value.encode("ascii"))))
    form = message_from_json(data).blocks[0]
    if not isinstance(form, Form):
        raise ValueError("the button does not carry a form")
    return form


def modal(form: Form, context: Mapping[str, str]) -> dict[str, Any]:
    """A modal view for a Form. `context` (where it was opened from) comes back in the submission."""
    metadata = json.dumps({**context, "action_id": form.action_id, "value": form.value}, separators=(",", ":"))
    if len(metadata) > PRIVATE_METADATA:
        raise ValueError("the form's value and context are too long for a Slack modal")
    blocks: list[dict[str, Any]] = []
    if form.intro:
        blocks.extend({"type": "section", "text": mrkdwn(chunk)} for chunk in split_mrkdwn(slack_markup(form.intro)))
    blocks.extend(_input(f) for f in form.fields)
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": plain(form.title, MODAL_TITLE),
        "submit": plain(form.submit_label, MODAL_TITLE),
        "close": plain("Cancel", MODAL_TITLE),
        "private_metadata": metadata,
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": plain(label, OPTION_TEXT), "value": value}


def _input(field: FormField) -> dict[str, Any]:
    element: dict[str, Any]
    options = [_option(v, label) for v, label in field.options[:OPTIONS_PER_SELECT]]
    initial = [o for o in options if o["value"] in field.initial.split(",")] if field.initial else []
    match field.kind:
        case "text" | "multiline":
            element = {"type": "plain_text_input", "multiline": field.kind == "multiline"}
            if field.initial:
                element["initial_value"] = field.initial
        case "number":
            element = {"type": "number_input", "is_decimal_allowed": True}
            if field.initial:
                element["initial_value"] = field.initial
        case "date":
            element = {"type": "datepicker"}
            if field.initial:
                element["initial_date"] = field.initial
        case "multi_choice":
            element = {"type": "multi_static_select", "options": options}
            if initial:
                element["initial_options"] = initial
        case "scale":
            element = {"type": "radio_buttons", "options": options}
            if initial:
                element["initial_option"] = initial[0]
        case _:  # choice, member: the flow gives the options (member keys and names), never Slack user ids
            element = {"type": "static_select", "options": options}
            if initial:
                element["initial_option"] = initial[0]
    element["action_id"] = field.name
    block: dict[str, Any] = {
        "type": "input",
        "block_id": field.name,
        "label": plain(field.label, INPUT_LABEL),
        "element": element,
        "optional": not field.required,
    }
    if field.hint:
        block["hint"] = plain(field.hint, INPUT_HINT)
    return block


def form_values(state_values: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, str]:
    """A submitted modal's state, back to field name -> text (several choices joined by commas)."""
    values: dict[str, str] = {}
    for block_id, elements in state_values.items():
        for element in elements.values():
            values[block_id] = _element_value(element)
    return values


def _element_value(element: Mapping[str, Any]) -> str:
    if element.get("selected_options") is not None:
        return ",".join(o["value"] for o in element["selected_options"])
    if element.get("selected_option"):
        return str(element["selected_option"]["value"])
    if element.get("selected_date"):
        return str(element["selected_date"])
    value = element.get("value")
    return "" if value is None else str(value)


def home(message: Message) -> dict[str, Any]:
    return {"type": "home", "blocks": render(message, limit=MAX_VIEW_BLOCKS)}


def modal_errors(errors: Mapping[str, str]) -> dict[str, str]:
    """response_action=errors wants block ids; ours are the field names."""
    return {name: shorten(problem, 150) for name, problem in errors.items()}
