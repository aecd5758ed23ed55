"""School closures from an .ics file: each all-day VEVENT becomes a holiday, or a break when its summary says "break".

Only reading lives here; the loader finds the files, reports problems at the `ics:` entry and merges the result.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import icalendar

from bot.config.models import DateRange


def read_ics(path: Path) -> tuple[list[DateRange], list[DateRange]]:
    """(holidays, breaks) in the file. Raises ValueError with a readable reason when the file cannot be read."""
    try:
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
    except (ValueError, IndexError) as error:  # icalendar raises both on malformed content lines
        raise ValueError(f"{path.name} is not a readable iCalendar file: {error}") from None
    holidays: list[DateRange] = []
    breaks: list[DateRange] = []
    for event in calendar.walk("VEVENT"):
        closure = _closure(event)
        if closure is not None:
            (breaks if "break" in closure.name.lower() else holidays).append(closure)
    return holidays, breaks


def _closure(event: icalendar.Event) -> DateRange | None:
    name = str(event.get("SUMMARY", ""))
    if "DTSTART" not in event:
        raise ValueError(f"the event {name!r} has no DTSTART")
    start = event["DTSTART"].dt
    if isinstance(start, datetime):
        return None  # a timed event (an evening meeting, say) does not close a school day
    # DTEND is exclusive in iCalendar: an all-day event ending 2027-01-02 covers up to 2027-01-01.
    if "DTEND" in event:
        end = event["DTEND"].dt
    elif "DURATION" in event:
        end = start + event["DURATION"].dt
    else:
        end = start + timedelta(days=1)  # RFC 5545: an all-day event without an end lasts one day
    if _as_date(end) < start:
        raise ValueError(f"the event {name!r} ends before it starts")
    last = max(_as_date(end) - timedelta(days=1), start)  # some tools write DTEND = DTSTART for one day
    return DateRange(name=name, start=start, end=last if last > start else None)


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value
