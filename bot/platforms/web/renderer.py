"""Neutral messages and health figures as HTML: Jinja2 templates under templates/ with autoescape on, so every text
from people or config is data; our chat markdown (*bold*, _italic_, `code`, "- " bullets, <url|label>) becomes
tags only around text that is already escaped. Charts are inline SVG drawn from the numbers, each with a text
alternative and a table of every value. Pure functions: no HTTP and no database here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from bot.health import Trend
from bot.messages import (
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
    as_markup,
    plain_text,
    safe_url,
    tokens,
)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

_BULLET = re.compile(r"^\s*[-•]\s+")
_TAGS = {"*": "strong", "_": "em", "~": "s"}

# Every page says where its assets may come from (this server only) and never hands its address to another site.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

# Colour-blind-safe (Okabe-Ito), in a fixed order so a series keeps its colour from chart to chart.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C6D00", "#000000", "#999999")


def inline(markup: str, names: Mapping[str, str] | None = None) -> Markup:
    """One line of chat markup (bot/messages.py) as HTML: literal text escaped, marks as tags (an unpaired mark stays
    literal), code, links only to http(s) or mailto, mentions as the member's name. A plain str is literal text."""
    # Built from pieces _tokens_html escaped one by one, so it is safe to mark as HTML (bandit B704: Markup).
    return Markup(_tokens_html(tokens(as_markup(markup)), names or {}))  # nosec


def _tokens_html(found: tuple[Token, ...], names: Mapping[str, str]) -> str:
    paired: set[int] = set()
    waiting: dict[str, int] = {}
    for index, token in enumerate(found):
        if token.kind == "mark":
            if token.text in waiting:
                paired.update((waiting.pop(token.text), index))
            else:
                waiting[token.text] = index
    out: list[str] = []
    open_tags: list[str] = []  # marks open now, innermost last
    for index, token in enumerate(found):
        match token.kind:
            case "mark" if index in paired and token.text in open_tags:
                # Close down to this mark and reopen what was opened inside it, so tags always nest.
                inner = open_tags[open_tags.index(token.text) + 1 :]
                for mark in reversed(inner):
                    out.append(f"</{_TAGS[mark]}>")
                out.append(f"</{_TAGS[token.text]}>")
                open_tags.remove(token.text)
                out.extend(f"<{_TAGS[mark]}>" for mark in inner)
            case "mark" if index in paired:
                open_tags.append(token.text)
                out.append(f"<{_TAGS[token.text]}>")
            case "mark" | "text":
                out.append(str(escape(token.text)))
            case "code":
                out.append(f"<code>{escape(token.text)}</code>")
            case "link":
                label = _tokens_html(token.label, names)
                url = safe_url(token.target)
                out.append(f'<a href="{escape(url)}" rel="noopener noreferrer">{label}</a>' if url else label)
            case _:
                out.append(f'<span class="mention">@{escape(names.get(token.target, token.target))}</span>')
    out.extend(f"</{_TAGS[mark]}>" for mark in reversed(open_tags))
    return "".join(out)


def markdown(markup: str, names: Mapping[str, str] | None = None) -> Markup:
    """Chat markup as HTML: paragraphs (a blank line between), line breaks, bullet lists (an indented line after a
    bullet continues it, as in Markdown), and inline formatting inside them. The markup is parsed first, so a line
    break inside a person's text (or a link's label) is only ever text."""
    blocks: list[tuple[str, list[tuple[Token, ...]]]] = []  # ("li", lines) or ("p", lines)
    after_blank = True
    for line in _lines(tokens(as_markup(markup))):
        start = line[0].text if line and line[0].kind == "text" else ""
        if all(token.kind == "text" and not token.text.strip() for token in line):
            after_blank = True
            continue
        if _BULLET.match(start):
            blocks.append(("li", [(Token("text", _BULLET.sub("", start, count=1)), *line[1:])]))
        elif blocks and (
            (start.startswith("  ") and blocks[-1][0] == "li") or (not after_blank and blocks[-1][0] == "p")
        ):
            blocks[-1][1].append(line)
        else:
            blocks.append(("p", [line]))
        after_blank = False
    html: list[str] = []
    for kind, group in groupby(blocks, key=lambda block: block[0]):
        joined = ["<br>".join(_tokens_html(line, names or {}).strip() for line in lines) for _, lines in group]
        if kind == "li":
            html.append("<ul>" + "".join(f"<li>{item}</li>" for item in joined) + "</ul>")
        else:
            html.extend(f"<p>{paragraph}</p>" for paragraph in joined)
    # Our own tags around pieces _tokens_html escaped one by one (bandit B704: Markup).
    return Markup("".join(html))  # nosec


def _lines(found: tuple[Token, ...]) -> list[tuple[Token, ...]]:
    """Parsed markup cut into lines at the line breaks of its text (never inside a code span or a link)."""
    lines: list[list[Token]] = [[]]
    for token in found:
        if token.kind != "text" or "\n" not in token.text:
            lines[-1].append(token)
            continue
        first, *rest = token.text.split("\n")
        if first:
            lines[-1].append(Token("text", first))
        for piece in rest:
            lines.append([Token("text", piece)] if piece else [])
    return [tuple(line) for line in lines]


# --- messages ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    """A pressable thing in a message: its number (the same numbering as the terminal's `press N`)."""

    number: int
    label: str
    style: str = ""


def message_view(message: Message, names: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """A message's blocks as plain dicts the template draws, with each control numbered in order. `names`: member key
    -> name, for mentions."""
    blocks: list[dict[str, Any]] = []
    number = 0
    images = 0
    for block in message.blocks:
        match block:
            case Header(text):
                blocks.append({"kind": "header", "text": text})
            case Text(text):
                blocks.append({"kind": "text", "html": markdown(text, names)})
            case Fields(pairs):
                blocks.append({"kind": "fields", "pairs": list(pairs)})
            case Context(text):
                blocks.append({"kind": "context", "html": markdown(text, names)})
            case Divider():
                blocks.append({"kind": "divider"})
            case Buttons(buttons):
                controls = []
                for button in buttons:
                    number += 1
                    controls.append(Control(number, button.label, button.style or ""))
                blocks.append({"kind": "buttons", "controls": controls})
            case ChoiceScale(question, _, points, labels, _):
                controls = []
                for i, point in enumerate(points):
                    number += 1
                    controls.append(Control(number, labels[i] if labels else str(point)))
                blocks.append({"kind": "scale", "question": question, "controls": controls})
            case Image(_, alt, title):
                blocks.append({"kind": "image", "index": images, "alt": alt, "title": title})
                images += 1
            case Form(title, _, fields, _, submit_label, intro):
                number += 1
                blocks.append(
                    {
                        "kind": "form",
                        "control": Control(number, submit_label, "primary"),
                        "title": title,
                        "intro": markdown(intro, names) if intro else "",
                        "fields": len(fields),
                    }
                )
            case _:  # a block this renderer does not know yet: its plain text, escaped
                blocks.append(
                    {"kind": "text", "html": Markup("<p>") + escape(plain_text(Message((block,), ""))) + Markup("</p>")}
                )
    return blocks


def image_of(message: Message, index: int) -> Image | None:
    found = [block for block in message.blocks if isinstance(block, Image)]
    return found[index] if 0 <= index < len(found) else None


def form_view(form: Form, values: Mapping[str, list[str]], errors: Mapping[str, str]) -> list[dict[str, Any]]:
    """A form's fields for the dialog template, with what was typed before (kept when a submission had errors)."""
    fields = []
    for field in form.fields:
        typed = values.get(field.name)
        chosen = typed if typed is not None else ([field.initial] if field.initial else [])
        fields.append(
            {
                "field": field,
                "input": _input_kind(field),
                "value": chosen[0] if chosen else "",
                "chosen": set(chosen),
                "error": errors.get(field.name, ""),
            }
        )
    return fields


def _input_kind(field: FormField) -> str:
    if field.kind in ("scale",):
        return "radios"
    if field.kind in ("choice", "member"):
        return "radios" if len(field.options) <= 5 else "select"
    if field.kind == "multi_choice":
        return "checkboxes"
    return {"multiline": "textarea", "number": "number", "date": "date"}.get(field.kind, "text")


# --- charts -----------------------------------------------------------------------------------------------------

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 44, 44, 16, 48  # room for the axis labels at both ends


def chart_view(trend: Trend) -> dict[str, Any]:
    """The geometry of a line chart of `trend`: axes, gridlines, one polyline per run of points without gaps."""
    count = len(trend.labels)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (trend.high - trend.low) or 1.0

    def x(i: int) -> float:
        return LEFT + (inner_w / 2 if count <= 1 else inner_w * i / (count - 1))

    def y(v: float) -> float:
        return TOP + inner_h * (1 - (v - trend.low) / span)

    grid = []
    step = 1.0 if span <= 10 else span / 5
    tick = trend.low
    while tick <= trend.high + 1e-9:
        grid.append({"y": round(y(tick), 1), "label": f"{tick:g}"})
        tick += step
    every = max(1, -(-count // 8))  # at most 8 labels on the time axis
    labels = [{"x": round(x(i), 1), "text": label} for i, label in enumerate(trend.labels) if i % every == 0]
    series = []
    for index, (name, values) in enumerate(trend.series):
        colour = PALETTE[index % len(PALETTE)]
        segments: list[list[tuple[float, float]]] = [[]]
        dots = []
        for i, value in enumerate(values):
            if value is None:
                segments.append([])
                continue
            point = (round(x(i), 1), round(y(value), 1))
            segments[-1].append(point)
            dots.append({"x": point[0], "y": point[1], "text": f"{name}, {trend.labels[i]}: {value:.2f}"})
        lines = [" ".join(f"{px},{py}" for px, py in seg) for seg in segments if len(seg) > 1]
        series.append({"name": name, "colour": colour, "lines": lines, "dots": dots, "dash": _DASHES[index % 4]})
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "grid": grid,
        "labels": labels,
        "series": series,
    }


_DASHES = ("", "6 3", "2 3", "8 3 2 3")  # lines differ by pattern as well as colour


# --- the template environment -------------------------------------------------------------------------------------


def local_time(instant: datetime | None, tz: Any, fmt: str = "%a %b %-d, %-I:%M %p") -> str:
    return instant.astimezone(tz).strftime(fmt) if instant is not None else ""


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["markdown"] = markdown
    env.filters["inline"] = inline
    env.filters["localtime"] = local_time
    env.tests["trend"] = lambda part: isinstance(part, Trend)
    env.globals.update(message_view=message_view, chart_view=chart_view, form_view=form_view)
    return env


_ENV: Environment | None = None


def _environment() -> Environment:
    global _ENV
    if _ENV is None:
        _ENV = environment()
    return _ENV


def render(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)


def message_html(message: Message, post: int | str | None, names: Mapping[str, str] | None = None) -> str:
    """One message as a page shows it (the `message` macro of _message.html.j2), pressable when `post` is given."""
    page = '{% from "_message.html.j2" import message with context %}{{ message(msg, post, "/press", "home") }}'
    return _environment().from_string(page).render(msg=message, post=post, names=names or {})
