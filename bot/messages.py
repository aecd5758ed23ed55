"""The neutral message vocabulary that flows build and platform renderers translate, and its plain-text view.

A Message is a tuple of blocks plus a plain-text fallback. No block knows about Block Kit or Adaptive Cards.

Text is data, never markup. Three fields carry our chat markup (`Text.markdown`, `Context.text`, `Form.intro`):
*bold*, _italic_, ~strike~, `code`, links <https://url|label>, and mentions <@member-key>, where a backslash makes the
next punctuation character literal. Markup is a `Markdown` string: written by us (templates, code) with every value
from people or config escaped, built with md(), escape(), link(), mention() or a template. A plain `str` given there
is taken as literal text and escaped, so forgetting to mark text can only lose formatting, never let markup in.
Every other text field (headers, field pairs, button labels, questions, form titles and labels, the fallback) is
plain text. Each renderer parses markup with `tokens()` and escapes the literal text for its platform.
"""

from __future__ import annotations

import base64
import json
import re
import string
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Literal
from urllib.parse import quote, urlsplit

# --- chat markup -------------------------------------------------------------------------------------------------

MARKS = "*_~"  # bold, italic, strike: each toggles; `code` spans are read whole
ESCAPED = "\\`*_~<>[]|#"  # what escape() backslashes: our marks and link brackets, and what CommonMark files need
LINK_SCHEMES = ("http", "https", "mailto")
_ESCAPE = re.compile(r"\\([" + re.escape(string.punctuation) + r"])")
_ESCAPES = str.maketrans({ch: "\\" + ch for ch in ESCAPED})  # escape(): each of ESCAPED gets a backslash
_SPECIAL = re.compile(r"[\\`*_~<]")  # what may start markup in tokens(): an escape, a code span, a mark, a link
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class Markdown(str):
    """Chat markup whose every formatting character is meant. Joining or formatting escapes what is not Markdown."""

    __slots__ = ()

    def __add__(self, other: object) -> Markdown:
        return Markdown(str.__add__(self, escape(other)))

    def __radd__(self, other: object) -> Markdown:
        return Markdown(str.__add__(escape(other), self))

    def join(self, parts: Iterable[object]) -> Markdown:  # type: ignore[override]
        return Markdown(str.join(self, (escape(part) for part in parts)))

    def format(self, *args: object, **kwargs: object) -> Markdown:  # type: ignore[override]
        return Markdown(_FORMATTER.vformat(self, args, kwargs))


class _EscapingFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        return value if isinstance(value, Markdown) and not format_spec else escape(format(value, format_spec))


_FORMATTER = _EscapingFormatter()


def escape(value: object) -> Markdown:
    """`value` as literal text in markup (a Markdown value is already markup and stays as it is)."""
    if isinstance(value, Markdown):
        return value
    text = "" if value is None else str(value)
    return Markdown(text.translate(_ESCAPES))


def md(template: str, *args: object, **kwargs: object) -> Markdown:
    """Markup from a template we wrote, with `{}` fields filled by escaped values: md("*{}* is done", title)."""
    return Markdown(template).format(*args, **kwargs)


def safe_url(url: str) -> str | None:
    """`url` fit for a link (http, https or mailto, with nothing that could end the link), or None."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or (parts.scheme.lower() != "mailto" and not parts.netloc):
        return None
    return quote(url, safe="/:?#[]@!$&'()*+,;=%~-._")


def link(url: str, label: object) -> Markdown:
    """A link; a URL that is not http(s) or mailto gives the label alone."""
    target = safe_url(url)
    if target is None:
        return escape(label)
    return Markdown(f"<{target}|") + escape(label) + Markdown(">")


def mention(member_key: str) -> Markdown:
    """A mention of a member, by key: each platform renders it from the member's id there, never from text."""
    return Markdown(f"<@{escape(member_key)}>")


def quoted(value: object) -> Markdown:
    """Literal text as a quote: every line starts with "> "."""
    return Markdown("\n").join(Markdown("> ") + escape(line) for line in str(value).split("\n"))


def as_markup(value: str) -> Markdown:
    """Markup as given if it is Markdown, otherwise the text escaped: what a markup field holds."""
    return value if isinstance(value, Markdown) else escape(value)


@dataclass(frozen=True)
class Token:
    """A piece of parsed markup. kind "text": literal `text`; "mark": one of *_~ in `text`; "code": a code span whose
    literal content is `text`; "link": `target` is the URL and `label` its tokens; "mention": `target` is a member
    key."""

    kind: Literal["text", "mark", "code", "link", "mention"]
    text: str = ""
    target: str = ""
    label: tuple[Token, ...] = ()


def tokens(markup: str) -> tuple[Token, ...]:
    """Parse markup. Unescaped marks are formatting; a code span runs to the next unescaped backtick."""
    out: list[Token] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            out.append(Token("text", "".join(literal)))
            literal.clear()

    i, n = 0, len(markup)
    while i < n:
        # Literal text up to the next character that may start markup is taken whole.
        special = _SPECIAL.search(markup, i)
        if special is None:
            literal.append(markup[i:])
            break
        if special.start() > i:
            literal.append(markup[i : special.start()])
            i = special.start()
        ch = markup[i]
        if ch == "\\" and i + 1 < n and markup[i + 1] in string.punctuation:
            literal.append(markup[i + 1])
            i += 2
            continue
        if ch == "`" and (end := _closing(markup, i, "`")) > 0:
            flush()
            out.append(Token("code", _unescaped(markup[i + 1 : end])))
            i = end
        elif ch in MARKS:
            flush()
            out.append(Token("mark", ch))
        elif ch == "<" and (end := _closing(markup, i, ">")) > 0:
            flush()
            out.append(_angle(markup[i + 1 : end]))
            i = end
        else:
            literal.append(ch)
        i += 1
    flush()
    return tuple(out)


def _unescaped(markup: str) -> str:
    return _ESCAPE.sub(r"\1", markup)


def _closing(markup: str, start: int, close: str) -> int:
    """Where the unescaped `close` ending the span opened at `start` is, or -1 (a link may not contain "<")."""
    i = start + 1
    while i < len(markup):
        if markup[i] == "\\":
            i += 2
            continue
        if markup[i] == close:
            return i
        if close == ">" and markup[i] == "<":
            return -1
        i += 1
    return -1


def _angle(inner: str) -> Token:
    if inner.startswith("@"):
        return Token("mention", target=unescape(inner[1:]))
    target, _, label = inner.partition("|")
    return Token("link", target=target, label=tokens(label) if label else (Token("text", target),))


def unescape(markup: str) -> str:
    """Markup as literal text: escapes removed, marks kept where they stand (the plain view)."""
    return "".join(_plain_token(token) for token in tokens(markup))


def _plain_token(token: Token) -> str:
    match token.kind:
        case "text" | "mark":
            return token.text
        case "code":
            return f"`{token.text}`"
        case "link":
            label = "".join(_plain_token(t) for t in token.label)
            return label if label == token.target else f"{label} <{token.target}>"
        case _:
            return f"@{token.target}"


def printable(text: str) -> str:
    """Text with control characters (terminal escapes, bidirectional overrides, zero-width marks) made visible or
    removed, for a terminal or a log line."""
    return _CONTROL.sub(_shown_control, text)


def _shown_control(match: re.Match[str]) -> str:
    ch = match[0]
    return "" if ch == "\r" or unicodedata.category(ch) == "Cf" else f"\\x{ord(ch):02x}"


@dataclass(frozen=True)
class Header:
    text: str


@dataclass(frozen=True)
class Text:
    """Chat markup (see the module doc): *bold*, _italic_, bullet lines starting with "- ", links <url|label>."""

    markdown: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "markdown", as_markup(self.markdown))


@dataclass(frozen=True)
class Fields:
    """Label/value pairs shown as a compact table (Slack fields, Adaptive Card FactSet)."""

    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Context:
    """A small, muted line of chat markup: who sees results, when a poll closes."""

    text: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", as_markup(self.text))


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
    intro: str = ""  # chat markup

    def __post_init__(self) -> None:
        object.__setattr__(self, "intro", as_markup(self.intro))


Block = Header | Text | Fields | Context | Divider | Buttons | ChoiceScale | Image | Form


@dataclass(frozen=True)
class Message:
    blocks: tuple[Block, ...]
    fallback: str  # plain text for notifications, screen readers and logs (markup given here becomes its plain view)

    def __post_init__(self) -> None:
        if isinstance(self.fallback, Markdown):
            object.__setattr__(self, "fallback", unescape(self.fallback))

    @staticmethod
    def text(markdown: str) -> Message:
        """One paragraph of markup (a plain str is literal text); the fallback is its plain view."""
        block = Text(markdown)
        return Message((block,), block.markdown)

    def plain(self) -> str:
        """A readable plain-text rendering, used by logs, the simulator and the local workspace."""
        return plain_text(self)

    def mentioned(self) -> set[str]:
        """The member keys the message mentions, for a renderer to look up their ids on its platform."""
        return {t.target for block in self.blocks for t in tokens(markup_of(block)) if t.kind == "mention"}


def markup_of(block: Block) -> str:
    """The chat markup a block carries ("" for blocks of plain text only)."""
    match block:
        case Text(markdown):
            return markdown
        case Context(text):
            return text
        case Form():
            return block.intro
    return ""


def plain_text(message: Message) -> str:
    """Render a message as readable text; buttons are numbered in order so a person can `press N`."""
    lines: list[str] = []
    number = 0
    for block in message.blocks:
        match block:
            case Header(text):
                lines.append(f"== {text} ==")
            case Text(markdown):
                lines.append(unescape(markdown))
            case Fields(pairs):
                lines.extend(f"  {label}: {value}" for label, value in pairs)
            case Context(text):
                lines.append(f"  ({unescape(text)})")
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
                    lines.append(f"  {unescape(intro)}")
    return printable("\n".join(lines))


# --- storage codec: messages are stored in the outbox as JSON ------------------------------------------

_BLOCK_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (Header, Text, Fields, Context, Divider, Buttons, ChoiceScale, Image, Form, Button, FormField)
}


_MARKUP_FIELDS = {"Text": "markdown", "Context": "text", "Form": "intro"}
# Field names per block type, looked up once: every outbox row is encoded on the way in and decoded on the way out.
_FIELDS: dict[type, tuple[str, ...]] = {cls: tuple(f.name for f in fields(cls)) for cls in _BLOCK_TYPES.values()}
_SCALARS = (str, int, float, bool, type(None))  # Markdown is a str: stored as its text
_LEAVES = frozenset({*_SCALARS, Markdown})  # values stored as they are (by exact type)


def _encode(value: object) -> object:
    # Leaves (most of a message) are decided here, without a call each: every outbox row is encoded.
    names = _FIELDS.get(type(value))
    if names is not None:
        out: dict[str, object] = {"type": type(value).__name__}
        for name in names:
            item = getattr(value, name)
            out[name] = item if type(item) in _LEAVES else _encode(item)
        return out
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, bytes):
        return {"type": "bytes", "b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, tuple | list):
        return [item if type(item) in _LEAVES else _encode(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        _FIELDS[type(value)] = tuple(f.name for f in fields(value))
        return _encode(value)
    return value


def _decode(value: object) -> object:
    # As in _encode, leaves are decided without a call each: every delivered message is decoded.
    if type(value) is list:
        return tuple([item if type(item) in _LEAVES else _decode(item) for item in value])
    if type(value) is dict:
        kind = value["type"]
        if kind == "bytes":
            return base64.b64decode(value["b64"])
        given = {k: v if type(v) in _LEAVES else _decode(v) for k, v in value.items() if k != "type"}
        markup = _MARKUP_FIELDS.get(kind)
        if markup and isinstance(given.get(markup), str):
            given[markup] = Markdown(given[markup])  # stored as built: already markup
        return _BLOCK_TYPES[kind](**given)
    return value


def message_to_json(message: Message, encode_block: Callable[[Block], object] | None = None) -> dict[str, object]:
    """The message as stored; `encode_block` (block_to_json, or a caller's memo of it) encodes each block."""
    encode = encode_block or block_to_json
    return {"blocks": [encode(block) for block in message.blocks], "fallback": message.fallback}


def message_json_text(message: Message, block_texts: Sequence[str]) -> str:
    """json.dumps(message_to_json(message)), given json.dumps of each of its blocks' JSON: a block shared by many
    messages (the same form in each member's own message) is written out once."""
    return f'{{"blocks": [{", ".join(block_texts)}], "fallback": {json.dumps(message.fallback)}}}'


def block_to_json(block: Block) -> object:
    return _encode(block)


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
