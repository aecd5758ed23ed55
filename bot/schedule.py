"""When things happen: meeting series and routine cadences (RRULE or friendly English) expanded in an IANA time zone,
school closures skipped, and times relative to meetings ("1 day before at 09:00", "30 minutes after the end").

DST policy: a local time that does not exist (the spring gap) moves to the first valid time after it; a local time
that happens twice (the autumn fold) happens once, at the first. Claiming and running is bot/ticker.py's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil import rrule as rr

WEEKDAYS = {
    "monday": rr.MO,
    "tuesday": rr.TU,
    "wednesday": rr.WE,
    "thursday": rr.TH,
    "friday": rr.FR,
    "saturday": rr.SA,
    "sunday": rr.SU,
}
ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "last": -1,
}
DEFAULT_ANCHOR = date(2024, 1, 1)  # a Monday; only matters for "every N weeks" without a start date

# "at 16:00", "at 4:30 pm", "at 4pm" (a bare "at 4" is refused: it could be morning or afternoon)
_TIME = r"(?:at\s+)?(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)?"
_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?"
_DAYS = rf"(?P<days>{_DAY}(?:(?:\s*,\s*|\s+and\s+){_DAY})*)"
_ORD = r"(?P<ord>first|1st|second|2nd|third|3rd|fourth|4th|last)"
_FRIENDLY = [
    # "monthly on the 2nd Tuesday at 15:30", "every month on the last Thursday at 16:00"
    re.compile(rf"^(?:monthly|every month)\s+on\s+the\s+{_ORD}\s+{_DAYS}\s+{_TIME}$"),
    # "first Monday of each month at 08:30", "the 2nd Tuesday of every month at 15:30"
    re.compile(rf"^(?:the\s+)?{_ORD}\s+{_DAYS}\s+of\s+(?:each|every|the)\s+month\s+{_TIME}$"),
    # "monthly on the 15th at 09:00"
    re.compile(rf"^(?:monthly|every month)\s+on\s+the\s+(?P<monthday>\d{{1,2}})(?:st|nd|rd|th)?\s+{_TIME}$"),
    # "weekly on Monday at 08:30", "every Monday and Thursday at 16:00", "every 2 weeks on Thursday at 16:00"
    re.compile(rf"^(?:weekly\s+on|every(?:\s+(?P<interval>\d+)\s+weeks\s+on)?)\s+{_DAYS}\s+{_TIME}$"),
    # "daily at 09:00", "every day at 09:00", "every weekday at 07:45"
    re.compile(rf"^(?:daily|every\s+day|every\s+(?P<weekday>weekday|school day))\s+{_TIME}$"),
]

FRIENDLY_EXAMPLES = (
    "monthly on the 2nd Tuesday at 15:30",
    "first Monday of each month at 08:30",
    "monthly on the 15th at 09:00",
    "weekly on Monday at 08:30",
    "every 2 weeks on Thursday at 16:00",
    "daily at 09:00",
    "RRULE:FREQ=MONTHLY;BYDAY=2TU;BYHOUR=15;BYMINUTE=30",
)


@dataclass(frozen=True)
class Rule:
    """A parsed recurrence: dateutil rrule keyword arguments, in local wall-clock time."""

    freq: int
    interval: int = 1
    byweekday: tuple[object, ...] | None = None
    bymonthday: tuple[int, ...] | None = None
    bymonth: tuple[int, ...] | None = None
    hour: int = 9
    minute: int = 0

    @property
    def period(self) -> str:
        """What `interval` counts: "days", "weeks", "months" or "years"."""
        return {rr.YEARLY: "years", rr.MONTHLY: "months", rr.WEEKLY: "weeks"}.get(self.freq, "days")


def _parse_rule(text: str) -> Rule:
    """Parse an RRULE (with or without the 'RRULE:' prefix) or one of the friendly forms; ValueError says why, and
    for a near miss ("every other Thursday at 4pm") what to write instead."""
    raw = " ".join(text.strip().split())
    if raw.upper().startswith(("RRULE:", "FREQ=")):
        return _parse_rrule(raw)
    lowered = raw.lower()
    for pattern in _FRIENDLY:
        match = pattern.match(lowered)
        if match:
            return _rule_from_match(match)
    suggestion = suggest_rule(raw)
    if suggestion:
        starts = " (and give the series `starts:`, the date of its first meeting)" if "2 weeks" in suggestion else ""
        raise ValueError(f"cannot read the schedule {text!r}; did you mean {suggestion!r}?{starts}")
    raise ValueError(
        f"cannot read the schedule {text!r}; write an RRULE such as 'FREQ=MONTHLY;BYDAY=2TU;BYHOUR=15;BYMINUTE=30' "
        f"or a form such as {', '.join(repr(e) for e in FRIENDLY_EXAMPLES[:4])}"
    )


# Cached by a call, not a decorator: mutation testing (make mutation) skips decorated functions.
parse_rule = lru_cache(maxsize=4096)(_parse_rule)


_NEAR_MISSES = (
    # every other Thursday / biweekly on Thursday / fortnightly on Thursdays -> every 2 weeks on Thursday
    (
        re.compile(rf"^(?:every\s+other|bi-?weekly\s+on|fortnightly\s+on|every\s+second)\s+{_DAYS}\s+(?P<rest>.*)$"),
        "every 2 weeks on {days} {rest}",
    ),
    # on the 2nd Tuesday at 15:30 / every 2nd Tuesday at 15:30 -> monthly on the 2nd Tuesday at 15:30
    (re.compile(rf"^(?:on\s+the|every)\s+{_ORD}\s+{_DAYS}\s+(?P<rest>.*)$"), "monthly on the {ord} {days} {rest}"),
    # every Thursday 16:00 / weekly Thursday at 16:00 -> weekly on Thursday at 16:00
    (re.compile(rf"^(?:every|weekly)\s+{_DAYS}\s+(?!at\b)(?P<rest>.*)$"), "weekly on {days} at {rest}"),
    (re.compile(rf"^weekly\s+{_DAYS}\s+(?P<rest>at\b.*)$"), "weekly on {days} {rest}"),
    # every Thursday (no time) -> weekly on Thursday at 16:00
    (re.compile(rf"^(?:every|weekly\s+on)\s+{_DAYS}$"), "weekly on {days} at 16:00"),
)


def suggest_rule(text: str) -> str | None:
    """A friendly form close to `text` that parses, or None."""
    lowered = " ".join(text.strip().split()).lower()
    for pattern, template in _NEAR_MISSES:
        match = pattern.match(lowered)
        if not match:
            continue
        parts = match.groupdict()
        days = re.sub(r"\b(\w+day)s\b", r"\1", parts["days"])
        days = re.sub(r"\b\w+day\b", lambda m: m.group(0).capitalize(), days)
        found = " ".join(template.format(days=days, rest=parts.get("rest") or "", ord=parts.get("ord") or "").split())
        try:
            parse_rule(found)
        except ValueError:
            continue
        return found
    return None


def _clock(match: re.Match[str]) -> tuple[int, int]:
    ampm = (match["ampm"] or "").replace(".", "")
    if match["minute"] is None and not ampm:
        raise ValueError(
            f"'at {match['hour']}' could be morning or afternoon; write 'at {match['hour']}:00' (24-hour) "
            f"or 'at {match['hour']}am' / 'at {match['hour']}pm'"
        )
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if ampm and not 1 <= hour <= 12:
        raise ValueError(f"{match['hour']}{ampm} is not a time of day (with am/pm the hour is 1 to 12)")
    if ampm == "pm" and hour < 12:
        hour += 12
    if ampm == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise ValueError(f"{match['hour']}:{match['minute']} is not a time of day")
    return hour, minute


def _days(text: str) -> tuple[object, ...]:
    names = re.split(r"\s*,\s*|\s+and\s+", text)
    return tuple(WEEKDAYS[name.removesuffix("s")] for name in names)  # "Mondays" is Monday; no day name ends in s


def _rule_from_match(match: re.Match[str]) -> Rule:
    hour, minute = _clock(match)
    groups = match.groupdict()
    if groups.get("ord"):
        n = ORDINALS[groups["ord"]]
        return Rule(rr.MONTHLY, byweekday=tuple(d(n) for d in _days(groups["days"])), hour=hour, minute=minute)
    if groups.get("monthday"):
        day = int(groups["monthday"])
        if not 1 <= day <= 31:
            raise ValueError(f"there is no day {day} in a month")
        return Rule(rr.MONTHLY, bymonthday=(day,), hour=hour, minute=minute)
    if groups.get("days"):
        interval = int(groups.get("interval") or 1)
        return Rule(rr.WEEKLY, interval=interval, byweekday=_days(groups["days"]), hour=hour, minute=minute)
    if groups.get("weekday"):
        return Rule(rr.DAILY, byweekday=(rr.MO, rr.TU, rr.WE, rr.TH, rr.FR), hour=hour, minute=minute)
    return Rule(rr.DAILY, hour=hour, minute=minute)


# The parts of an RRULE a meeting series follows; any other is refused, never silently ignored.
RRULE_PARTS = ("FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYHOUR", "BYMINUTE")
_FREQUENCIES = {"YEARLY": rr.YEARLY, "MONTHLY": rr.MONTHLY, "WEEKLY": rr.WEEKLY, "DAILY": rr.DAILY}


def _parse_rrule(raw: str) -> Rule:
    body = raw[6:] if raw.upper().startswith("RRULE:") else raw
    # Parts are checked before dateutil reads them: an UNTIL copied from a calendar would otherwise fail as
    # "does not parse" (its UTC time against our naive start) instead of pointing to the series' `until:`.
    names = {part.split("=", 1)[0].strip().upper() for part in body.split(";") if part.strip()}
    unsupported = sorted(names - set(RRULE_PARTS))
    if unsupported:
        until = " (for an end date, give the series `until:`)" if {"UNTIL", "COUNT"} & set(unsupported) else ""
        raise ValueError(
            f"the RRULE {raw!r} uses {', '.join(unsupported)}, which a meeting series does not follow; "
            f"write it with {', '.join(RRULE_PARTS)} only{until}"
        )
    try:
        parsed = rr.rrulestr("RRULE:" + body, dtstart=datetime(2024, 1, 1), forceset=False)
    except (ValueError, TypeError) as error:
        raise ValueError(f"the RRULE {raw!r} does not parse: {error}") from None
    if not isinstance(parsed, rr.rrule):
        raise ValueError(f"the RRULE {raw!r} does not parse")
    frequency = next((name for name, value in _FREQUENCIES.items() if value == parsed._freq), None)  # type: ignore[attr-defined]
    if frequency is None:
        raise ValueError(f"the RRULE {raw!r} repeats more often than daily; use FREQ=DAILY, WEEKLY, MONTHLY or YEARLY")
    # Read what the rule says back out of dateutil's parsed form (it fills in defaults from dtstart).
    original = parsed._original_rule  # type: ignore[attr-defined]
    hours = original.get("byhour") or (9,)
    minutes = original.get("byminute") or (0,)
    if len(hours) > 1 or len(minutes) > 1:
        raise ValueError(f"the RRULE {raw!r} names several times of day; give one BYHOUR and one BYMINUTE")
    weekdays = original.get("byweekday")
    monthdays = original.get("bymonthday")
    months = original.get("bymonth")
    # A day the rule leaves to its first date ("FREQ=MONTHLY" alone: the day of the month it starts) is refused:
    # a series is expanded from any month, so the day must be in the rule.
    day_part = {"WEEKLY": "BYDAY", "MONTHLY": "BYDAY or BYMONTHDAY", "YEARLY": "BYMONTH with BYMONTHDAY or BYDAY"}
    says_day = {
        "DAILY": True,
        "WEEKLY": bool(weekdays),
        "MONTHLY": bool(weekdays or monthdays),
        "YEARLY": bool(months and (weekdays or monthdays)),
    }
    if not says_day[frequency]:
        raise ValueError(f"the RRULE {raw!r} does not say on which day it meets; add {day_part[frequency]}")
    return Rule(
        freq=parsed._freq,  # type: ignore[attr-defined]
        interval=parsed._interval,  # type: ignore[attr-defined]
        byweekday=tuple(weekdays) if weekdays else None,
        bymonthday=tuple(monthdays) if monthdays else None,
        bymonth=tuple(months) if months else None,
        hour=hours[0],
        minute=minutes[0],
    )


def _rrule(rule: Rule, anchor: date, until: date | None) -> rr.rrule:
    kwargs: dict[str, object] = {
        "dtstart": datetime.combine(anchor, time(rule.hour, rule.minute)),
        "interval": rule.interval,
        "byhour": rule.hour,
        "byminute": rule.minute,
        "bysecond": 0,
        "cache": True,
    }
    if rule.byweekday:
        kwargs["byweekday"] = rule.byweekday
    if rule.bymonthday:
        kwargs["bymonthday"] = rule.bymonthday
    if rule.bymonth:
        kwargs["bymonth"] = rule.bymonth
    if until:
        kwargs["until"] = datetime.combine(until, time(23, 59))
    return rr.rrule(rule.freq, **kwargs)  # type: ignore[arg-type]


_expander = lru_cache(maxsize=4096)(_rrule)


def localize(wall: datetime, tz: ZoneInfo) -> datetime:
    """A local wall-clock time -> the UTC instant, under the DST policy in the module docstring."""
    return _localized(wall.replace(tzinfo=None), tz)


def _localize(naive: datetime, tz: ZoneInfo) -> datetime:
    aware = naive.replace(tzinfo=tz, fold=0)  # fold=0: in an autumn fold, the first of the two instants
    for _ in range(24 * 60):
        if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive:
            return aware.astimezone(UTC)
        # In the spring gap: step to the next minute until the wall time exists.
        naive = (naive + timedelta(minutes=1)).replace(second=0, microsecond=0)
        aware = naive.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC)


# Cached by a call (see parse_rule): every tick and every message asks for the same few wall times.
_localized = lru_cache(maxsize=65536)(_localize)


def expand(
    rule: Rule,
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
    *,
    anchor: date | None = None,
    until: date | None = None,
) -> list[datetime]:
    """UTC instants of `rule` in (start, end]."""
    first = anchor or DEFAULT_ANCHOR
    local_start = start.astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
    local_end = end.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    if local_end.date() < first:
        return []
    if rule.interval == 1:
        # Every-period rules look the same from any month start: expanding from the window's month instead of
        # the series' first date keeps each tick's work small (and the cache keyed by month).
        first = max(first, local_start.date().replace(day=1))
    times = []
    seen: set[datetime] = set()
    for wall in _expander(rule, first, until).between(local_start, local_end, inc=True):
        instant = localize(wall, tz)
        if start < instant <= end and instant not in seen:
            seen.add(instant)
            times.append(instant)
    return times


# --- times relative to a meeting ------------------------------------------------------------------------------

_UNITS = {"minute": 1, "minutes": 1, "hour": 60, "hours": 60, "day": 1440, "days": 1440}
_RELATIVE = re.compile(
    r"^(?:(?P<at_edge>at the (?P<edge0>start|end))"
    r"|(?:(?P<n>\d+|a|an|one|the)\s+(?P<unit>minutes?|hours?|days?)\s+(?P<dir>before|after)"
    r"(?:\s+the\s+(?P<edge>start|end))?(?:\s+at\s+(?P<hour>\d{1,2}):(?P<minute>\d{2}))?))$"
)


@dataclass(frozen=True)
class Relative:
    """A time relative to a meeting: an offset from its start or end, or a day offset at a fixed local time."""

    edge: str  # "start" | "end"
    minutes: int  # signed offset; negative = before
    at: time | None = None  # when set, `minutes` is a whole number of days and the time of day is `at`
    before: bool = False  # written "before": kept apart from `minutes`, which is 0 for "0 days before"

    def describe(self) -> str:
        if self.minutes == 0 and self.at is None:
            return f"at the {self.edge}"
        direction = "before" if self.before or self.minutes < 0 else "after"
        amount = abs(self.minutes)
        if self.at is not None:
            return f"{amount // 1440} day(s) {direction} at {self.at:%H:%M}"
        return f"{amount} minutes {direction} the {self.edge}"


def _parse_relative(text: str) -> Relative:
    lowered = " ".join(text.lower().split())  # "the day before" reads as n="the": one day
    match = _RELATIVE.match(lowered)
    if not match:
        raise ValueError(
            f"cannot read {text!r} as a time relative to the meeting; write for example '10 minutes before the start', "
            "'at the start', '30 minutes after the end' or '2 days before at 09:00'"
        )
    if match["at_edge"]:
        return Relative(match["edge0"], 0)
    n = 1 if match["n"] in ("a", "an", "one", "the") else int(match["n"])
    minutes = n * _UNITS[match["unit"]] * (-1 if match["dir"] == "before" else 1)
    edge = match["edge"] or ("start" if match["dir"] == "before" else "end")
    at = None
    if match["hour"] is not None:
        if match["unit"] not in ("day", "days"):
            raise ValueError(f"{text!r}: a time of day ('at HH:MM') goes only with days before or after")
        at = time(int(match["hour"]), int(match["minute"]))
    return Relative(edge, minutes, at, before=match["dir"] == "before")


parse_relative = lru_cache(maxsize=1024)(_parse_relative)


def relative_time(relative: Relative, meeting_start: datetime, duration: timedelta, tz: ZoneInfo) -> datetime:
    """The UTC instant of `relative` for the meeting starting at `meeting_start` (UTC). A day offset written "before"
    is always before its edge, and one written "after" always after it: "0 days before at 16:00" of a meeting at 15:30
    is the day before at 16:00 (the posting policy then moves it earlier off closed days, never past the meeting),
    "0 days after at 09:00" of a meeting ending at 17:00 the next day at 09:00."""
    base = meeting_start if relative.edge == "start" else meeting_start + duration
    if relative.at is None:
        return base + timedelta(minutes=relative.minutes)
    local_day = base.astimezone(tz).date() + timedelta(days=relative.minutes // 1440)
    found = localize(datetime.combine(local_day, relative.at), tz)
    if relative.before and found >= base:
        found = localize(datetime.combine(local_day - timedelta(days=1), relative.at), tz)
    elif not relative.before and found < base:
        found = localize(datetime.combine(local_day + timedelta(days=1), relative.at), tz)
    return found


def reach(relative: Relative, duration: timedelta) -> timedelta:
    """How far from a meeting's start `relative` can land, either way: used to pad expansion windows."""
    span = abs(relative.minutes) + (duration.total_seconds() // 60 if relative.edge == "end" else 0)
    return timedelta(minutes=span) + (timedelta(days=1) if relative.at else timedelta(0))


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()
