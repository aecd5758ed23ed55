"""Times said as of the moment a message is read. A routine writes `moment(value, zone, style)` into its text (a small
span such as ⟦when|2026-12-08T23:30Z|America/Los_Angeles⟧); delivery stamps the reader's zone on each span
(`for_reader`); the sender, and the inbound port for replies, turn the spans into words as of the moment the message
is delivered (`resolve`): "today", "tomorrow", "in 3 days", "on Monday", "Thursday's", with a zone label when the
reader's zone differs from the zone of the event. Messages never carry a relative word computed earlier.

Styles (`say` is the one place that words them):
- `when` (says when something happens): "today at 3:30 PM", "on Monday at 3:30 PM", "on Tue Jan 12 at 3:30 PM"
- `datetime` (names a moment: "until ...", "Roles for ..."): "tomorrow at 9:00 AM", "Monday at 3:30 PM",
  "Tue Jan 12 at 3:30 PM"
- `time`: "3:30 PM"
- `day`: "today", "tomorrow", "yesterday", "on Monday", "on Tue Jan 12"
- `date`: "Tuesday January 12" (no relative word; the date as the reader's calendar has it)
- `countdown`: "today", "tomorrow", "in 10 days", "yesterday", "3 days ago"
- `due`: "due today", "due tomorrow", "due in 10 days", "1 day overdue", "3 days overdue"
- `possessive`: "today's", "yesterday's", "tomorrow's", "this Friday's", "last Thursday's", "the Dec 3"
A value is an instant (UTC) or a calendar date (a due date is a date wherever it is read).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.messages import Markdown

Style = Literal["when", "datetime", "time", "day", "date", "countdown", "due", "possessive"]
STYLES: tuple[str, ...] = ("when", "datetime", "time", "day", "date", "countdown", "due", "possessive")
MIXED = "+"  # after a reader's zone: the readers are in several zones (a team channel), so label every time

# A span survives being escaped as literal text (bot/messages.py backslashes "|" and "_"): the words replace it whole.
_SPAN = re.compile(
    r"⟦(?P<style>[a-z]+)\\?\|(?P<value>[0-9T:Z\-]+)\\?\|(?P<zone>(?:[A-Za-z0-9+\-/]|\\?_)+)"
    r"(?:\\?\|(?P<reader>(?:[A-Za-z0-9+\-/]|\\?_)*))?⟧"
)
T = TypeVar("T")


def moment(value: date | datetime, zone: ZoneInfo | str, style: Style = "when") -> Markdown:
    """A span that says `value` (an instant, or a calendar date) in `style` when the message is delivered. `zone` is
    the zone of the event (the team's): times are shown in it, with a label where a reader lives elsewhere. The span
    is our own markup (never escaped in a template or by md()); in a plain-text field it is kept as it is."""
    if style not in STYLES:
        raise ValueError(f"unknown moment style {style!r}")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a moment needs a timezone-aware instant")
        text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    else:
        text = value.isoformat()
    return Markdown(f"⟦{style}|{text}|{zone}⟧")


def for_reader(message: T, zone: ZoneInfo | str, *, mixed: bool = False) -> T:
    """`message` (a Message, a block, a text) with the reader's zone on every span that has none yet (delivery knows
    who reads it)."""
    reader = f"{zone}{MIXED if mixed else ''}"

    def stamp(text: str) -> str:
        if "⟦" not in text:
            return text
        return _SPAN.sub(lambda m: m.group(0) if m["reader"] else m.group(0)[:-1] + f"|{reader}⟧", text)

    return _map_text(message, stamp)


def resolve(
    message: T, now: datetime, reader: ZoneInfo | str | None = None, *, said: dict[str, str] | None = None
) -> T:
    """`message` (a Message, a Reply, any block) with every span said as of `now`, for its stamped reader (or
    `reader`, or the event's zone). `said`: the texts already said as of this `now` for this `reader` (filled as it
    goes), for a caller that resolves many messages sharing texts at one moment."""
    if said is None:
        return _map_text(message, lambda text: resolve_text(text, now, reader))

    def say_once(text: str) -> str:
        found = said.get(text)
        if found is None:
            found = said[text] = resolve_text(text, now, reader)
        return found

    return _map_text(message, say_once)


def resolve_text(text: str, now: datetime, reader: ZoneInfo | str | None = None) -> str:
    if "⟦" not in text:
        return text

    def word(match: re.Match[str]) -> str:
        try:
            zone_name = match["zone"].replace("\\", "")
            zone = ZoneInfo(zone_name)
            stamped = (match["reader"] or "").replace("\\", "") or (str(reader) if reader is not None else zone_name)
            mixed = stamped.endswith(MIXED)
            reader_zone = ZoneInfo(stamped.removesuffix(MIXED))
            value = _value_of(match["value"])
        except (ValueError, ZoneInfoNotFoundError):
            return match.group(0)  # not one of ours (someone typed the brackets): leave it as written
        return say(value, match["style"], zone, reader_zone, now, mixed=mixed)  # type: ignore[arg-type]

    return _SPAN.sub(word, text)


def _read_value(raw: str) -> date | datetime:
    return datetime.strptime(raw, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC) if "T" in raw else date.fromisoformat(raw)


# Cached by a call (see bot/schedule.py): a message to many readers says the same few moments for each of them.
_value_of = lru_cache(maxsize=4096)(_read_value)


# --- the words ------------------------------------------------------------------------------------------------------


def say(
    value: date | datetime, style: Style, zone: ZoneInfo, reader: ZoneInfo, now: datetime, *, mixed: bool = False
) -> str:
    """`value` in words as of `now` for a reader in `reader` (days counted on the reader's calendar)."""
    today = now.astimezone(reader).date()
    if isinstance(value, datetime):
        local = value.astimezone(reader)
        day = local.date()
    else:
        local, day = None, value
    delta = (day - today).days
    if style == "date":
        return f"{day:%A %B} {day.day}"
    if style == "countdown":
        return _countdown(delta)
    if style == "due":
        if delta < 0:
            return f"{-delta} day{'s' if delta != -1 else ''} overdue"
        return f"due {_countdown(delta)}"
    if style == "possessive":
        return _possessive(day, delta)
    if style == "day":
        return _day(day, delta)
    if local is None:
        return _day(day, delta)  # a date has no time of day
    clock = _clock(value, zone, reader, mixed)  # type: ignore[arg-type]
    if style == "time":
        return clock
    word = {0: "today", 1: "tomorrow", -1: "yesterday"}.get(delta)
    if word is None:
        word = f"{day:%A}" if 2 <= delta <= 6 else f"{day:%a %b} {day.day}"
        word = f"on {word}" if style == "when" else word
    return f"{word} at {clock}"


def _countdown(delta: int) -> str:
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if delta == -1:
        return "yesterday"
    return f"in {delta} days" if delta > 0 else f"{-delta} days ago"


def _day(day: date, delta: int) -> str:
    word = {0: "today", 1: "tomorrow", -1: "yesterday"}.get(delta)
    if word:
        return word
    return f"on {day:%A}" if 2 <= delta <= 6 else f"on {day:%a %b} {day.day}"


def _possessive(day: date, delta: int) -> str:
    word = {0: "today's", 1: "tomorrow's", -1: "yesterday's"}.get(delta)
    if word:
        return word
    if 2 <= delta <= 6:
        return f"this {day:%A}'s"
    if -6 <= delta <= -2:
        return f"last {day:%A}'s"
    return f"the {day:%b} {day.day}"


def _clock(instant: datetime, zone: ZoneInfo, reader: ZoneInfo, mixed: bool) -> str:
    """The time of day in the reader's zone; labelled when the reader's zone is not the event's (with the event's
    time alongside), or when the readers are in several zones."""
    mine = instant.astimezone(reader)
    text = _hour(mine)
    if str(reader) != str(zone):
        theirs = instant.astimezone(zone)
        return f"{text} {mine:%Z} ({_hour(theirs)} {theirs:%Z})"
    if mixed:
        return f"{text} {mine:%Z}"
    return text


def _hour(local: datetime) -> str:
    return local.strftime("%-I:%M %p")


# --- walking a message ----------------------------------------------------------------------------------------------


def _map_text(value: T, change: Any) -> T:
    """`value` with `change` applied to every string inside it that holds a span (dataclasses, tuples). What holds no
    span is given back as it is, the same object: a message without spans is walked once and never copied."""
    if isinstance(value, str):
        if "⟦" not in value:
            return value  # type: ignore[return-value]
        if isinstance(value, Markdown):  # said words keep the field's markup: it stays Markdown, unescaped
            return Markdown(change(value))  # type: ignore[return-value]
        return change(value)  # type: ignore[no-any-return]
    kind = type(value)
    if kind is tuple:
        items: list[Any] | None = None
        for i, old in enumerate(value):  # type: ignore[arg-type]
            if type(old) in _PLAIN or (isinstance(old, str) and "⟦" not in old):
                continue  # the common case, decided without a call: a message holds hundreds of these
            new = _map_text(old, change)
            if new is not old:
                if items is None:
                    items = list(value)  # type: ignore[call-overload]
                items[i] = new
        return value if items is None else tuple(items)  # type: ignore[return-value]
    try:
        names = _FIELD_NAMES[kind]
    except KeyError:
        names = _FIELD_NAMES[kind] = (
            tuple(f.name for f in dataclasses.fields(kind)) if dataclasses.is_dataclass(kind) else None
        )
    if names is None:
        return value
    changes = {}
    for name in names:
        old = getattr(value, name)
        if type(old) in _PLAIN or (isinstance(old, str) and "⟦" not in old):
            continue
        new = _map_text(old, change)
        if new is not old:
            changes[name] = new
    return dataclasses.replace(value, **changes) if changes else value  # type: ignore[type-var]


_PLAIN = frozenset({int, float, bool, bytes, type(None)})  # values that hold no text
_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}  # a dataclass's field names (None: not a dataclass), per type
