"""Random school calendars for the property tests (hypothesis strategies): a school year, breaks up to six weeks,
holidays on every weekday, team pauses, a team zone and members in other zones, around the DST changes of two zones.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from bot.config import Config
from tests.support import build_config, member

YEAR = (date(2026, 8, 12), date(2027, 6, 4))
ZONES = ("America/Los_Angeles", "Europe/London")  # DST changes on different dates in spring and autumn
# Windows of about ten weeks that contain both zones' DST changes, in autumn and in spring.
WINDOWS = (date(2026, 10, 5), date(2027, 2, 22))


@st.composite
def date_ranges(draw: st.DrawFn, first: date, span_days: int, longest: int, most: int) -> list[dict[str, str]]:
    ranges = []
    for _ in range(draw(st.integers(0, most))):
        start = first + timedelta(days=draw(st.integers(0, span_days)))
        length = draw(st.integers(1, longest))
        ranges.append({"start": start.isoformat(), "end": (start + timedelta(days=length - 1)).isoformat()})
    return ranges


@st.composite
def holidays(draw: st.DrawFn, first: date, span_days: int) -> list[dict[str, str]]:
    """Single days, at least one on each weekday Monday to Friday."""
    days = []
    for weekday in range(5):
        week = draw(st.integers(0, span_days // 7 - 1))
        day = first + timedelta(days=week * 7)
        days.append(day + timedelta(days=(weekday - day.weekday()) % 7))
    days += [first + timedelta(days=d) for d in draw(st.lists(st.integers(0, span_days), max_size=4))]
    return [{"name": f"Holiday {n}", "start": d.isoformat()} for n, d in enumerate(sorted(set(days)))]


@st.composite
def calendars(draw: st.DrawFn, first: date, span_days: int) -> dict[str, Any]:
    return {
        "school_year": [YEAR[0].isoformat(), YEAR[1].isoformat()] if draw(st.booleans()) else None,
        "holidays": draw(holidays(first, span_days)),
        "breaks": draw(date_ranges(first, span_days, longest=42, most=2)),
    }


RULES = (
    "weekly on Tuesday at 15:30",
    "weekly on Monday and Thursday at 16:00",
    "every 2 weeks on Wednesday at 16:00",
    "monthly on the 1st Thursday at 15:15",
    "weekly on Friday at 8:00",
)


@st.composite
def teams(draw: st.DrawFn, first: date, span_days: int, *, working_hours: bool | None = None) -> Config:
    """A team of six (two co-chairs) in one of two zones with members in the other, running every routine, with a
    random calendar and pauses; `working_hours` on, off or drawn."""
    team_zone, other = draw(st.permutations(ZONES))
    away = draw(st.sets(st.sampled_from(["l2", "l3", "m2", "m3"]), max_size=2))
    members = {}
    for key, side in (("l1", "labor"), ("l2", "labor"), ("l3", "labor"), ("m1", "management"), ("m2", "management")):
        extra = {"timezone": other} if key in away else {}
        members[key] = member(f"{key.upper()} Person", side, **extra)
    members["m3"] = member("M3 Person", "management", **({"timezone": other} if "m3" in away else {}))
    due = first + timedelta(days=draw(st.integers(3, span_days)))
    routines: dict[str, Any] = {
        "roles": {},
        "norms": {},
        "summary": {},
        "pulse": {"cadence": "first Monday of each month at 08:30", "open_days": draw(st.integers(2, 10))},
        "deliverables": {
            "items": [
                {"title": "Survey of pilot teachers", "owners": ["l2", "m2"], "due": due.isoformat()},
                {"title": "Release-time plan", "owners": ["l2"], "due": (due + timedelta(days=1)).isoformat()},
            ],
            "escalate_every_days": 7,
        },
    }
    team = {
        "name": "Lincoln Site Team",
        "kind": "site",
        "timezone": team_zone,
        "members": list(members),
        "co_chairs": ["l1", "m1"],
        "meetings": [{"rule": draw(st.sampled_from(RULES)), "starts": (first - timedelta(days=14)).isoformat()}],
        "routines": routines,
        "min_group_size": 3,
        "paused": draw(date_ranges(first, span_days, longest=21, most=1)),
    }
    config = build_config(
        members,
        {"site": team},
        timezone=team_zone,
        calendar=draw(calendars(first, span_days)),
    )
    hours = draw(st.booleans()) if working_hours is None else working_hours
    if hours:
        data = config.model_dump()
        data["organisation"]["working_hours"] = ("07:30", "17:00")
        config = Config.model_validate(data)
    return config.model_copy(update={"sections": {"surveys": shipped_surveys()}})


def shipped_surveys() -> dict[str, Any]:
    from pathlib import Path

    from ruamel.yaml import YAML

    with open(Path(__file__).resolve().parent.parent / "config" / "surveys.yaml", encoding="utf-8") as handle:
        return dict(YAML(typ="safe").load(handle)["surveys"])
