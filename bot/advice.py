"""Warnings for a config that is valid but probably not what its admin meant: `partnerbot validate` prints them and
still exits 0. Meetings that fall on weekends, a team too small for any survey result, a member whose zone differs
from the team's, rules that almost say something else. Errors (what cannot run) stay in bot/config/.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from bot.anonymity import minimum
from bot.config import Config, Meeting, Team
from bot.config.errors import Issue
from bot.schedule import DEFAULT_ANCHOR, expand, parse_rule

RESULT_ROUTINES = ("pulse", "norms")  # routines whose results are shown only for groups of min_group_size or more
EARLY, LATE = time(6, 0), time(22, 0)  # a meeting outside these hours is probably a.m. meant as p.m.


def config_warnings(config: Config, today: date) -> list[Issue]:
    """Every warning for `config`, with the key path it is about (the loader gives it a file and line)."""
    found: list[Issue] = []
    first, last = _period(config, today)
    for team in config.teams.values():
        for index, series in enumerate(team.meetings):
            loc = ("teams", team.key, "meetings", index, "rule")
            found += list(_rule_warnings(config, team, series, loc, first, last))
        found += _team_size(team)
        found += _member_zones(config, team)
    return found


def _period(config: Config, today: date) -> tuple[date, date]:
    """The school year when the calendar sets one, else the coming year."""
    if config.calendar.school_year:
        return config.calendar.school_year
    return today, today + timedelta(days=365)


def _rule_warnings(
    config: Config, team: Team, series: Meeting, loc: tuple[str | int, ...], first: date, last: date
) -> Iterator[Issue]:
    rule = parse_rule(series.rule)
    raw = series.rule.strip().upper()
    if raw.startswith(("RRULE:", "FREQ=")) and "BYHOUR" not in raw:
        yield Issue(loc, "the RRULE gives no BYHOUR, so the meetings start at 9:00", "add BYHOUR=..;BYMINUTE=..")
    clock = time(rule.hour, rule.minute)
    ampm = any(mark in series.rule.lower() for mark in ("am", "pm", "a.m.", "p.m."))
    if not ampm and not EARLY <= clock <= LATE:
        later = time((rule.hour + 12) % 24, rule.minute)
        yield Issue(
            loc,
            f"the meetings start at {clock:%H:%M}, at night",
            f"write {later:%H:%M} or '{clock:%-I:%M} pm' if the afternoon is meant",
        )
    if rule.interval > 1 and series.starts is None:
        unit = rule.period
        yield Issue(
            loc,
            f"every {rule.interval} {unit} without `starts:`: which {unit} it meets is counted from {DEFAULT_ANCHOR}",
            "give the series `starts:` with the date of its first meeting",
        )
    if rule.bymonthday and max(rule.bymonthday) > 28:
        yield Issue(
            loc,
            f"months without a {max(rule.bymonthday)}th (such as February) have no meeting",
            "write for example 'monthly on the last Thursday at 16:00'",
        )
    if not series.skip_school_closures:
        return
    tz = config.team_tz(team)
    start = datetime.combine(max(first, series.starts or first), time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(min(last, series.until or last), time(23, 59), tzinfo=tz).astimezone(UTC)
    weekend = [
        day
        for instant in expand(rule, tz, start, end, anchor=series.starts, until=series.until)
        if (day := instant.astimezone(tz).date()).weekday() in config.calendar.weekend
    ]
    if weekend:
        times = "once" if len(weekend) == 1 else f"{len(weekend)} times"
        yield Issue(
            loc,
            f"the rule falls on a weekend {times} between {first} and {last} (first on {weekend[0]:%a %b %-d, %Y}); "
            "those meetings are not held",
            "name a weekday, for example 'monthly on the 3rd Tuesday at 16:00', or set skip_school_closures: false",
        )


def _team_size(team: Team) -> list[Issue]:
    routines = [name for name in RESULT_ROUTINES if name in team.routines]
    needed = minimum(team.min_group_size)
    if not routines or len(team.members) >= needed:
        return []
    return [
        Issue(
            ("teams", team.key, "members"),
            f"{team.name} has {len(team.members)} members, fewer than the {needed} answers {' and '.join(routines)} "
            "results need: no result can ever be shown",
            "add members, or run those routines on a larger team",
        )
    ]


def _member_zones(config: Config, team: Team) -> list[Issue]:
    zone = config.team_tz(team).key
    issues = []
    for member in config.team_members(team):
        if member.timezone and member.timezone != zone:
            issues.append(
                Issue(
                    ("members", member.key, "timezone"),
                    f"{member.name} ({member.timezone}) is not in the zone of {team.name} ({zone})",
                    "fine if meant: times they read are shown in their zone with the team's, and the bot posts to "
                    "them on their own school days",
                )
            )
    return issues
