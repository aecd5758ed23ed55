"""Typed config: organisation, school calendar, members, teams, meeting series and routine settings.

Only shapes and single-object rules live here; rules across objects (a co-chair must be a member) are in
checks.py (cross_checks) so every error can be reported at once with its location. Loading is in loader.py.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import date, time, timedelta
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

Side = Literal["labor", "management", "other"]
SIDES: tuple[str, ...] = ("labor", "management", "other")
# Before parties, members named a side, and the board was a side of its own. A config that only uses sides still
# loads: each side in use becomes a party (LEGACY_PARTIES), and the board party sits on the "other" side.
LegacySide = Literal["labor", "management", "board", "other"]
LEGACY_PARTIES: dict[str, tuple[str, Side]] = {
    "labor": ("Labor", "labor"),
    "management": ("Management", "management"),
    "board": ("Board", "other"),
    "other": ("Other", "other"),
}
TeamKind = Literal["district", "site", "committee"]


@cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))  # scans tzdata: once per process is enough


def check_timezone(value: str | None) -> str | None:
    if value is None:
        return value
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long to be a file name
        close = difflib.get_close_matches(value, _zone_names(), n=1, cutoff=0.6)
        example = close[0] if close else "America/Los_Angeles"
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as {example!r}") from None
    return value


def known_key(kind: str, key: str, info: ValidationInfo) -> str:
    """A settings validator's check that `key` names an entry of `kind` ("member", or a routine section's context
    name such as "survey"); the loader passes the keys it found as validation context."""
    # Outside the loader there is no context and nothing to check.
    keys = (info.context or {}).get(f"{kind}_keys")
    if keys is not None and key not in keys:
        close = difflib.get_close_matches(key, sorted(keys), n=1)
        raise ValueError(f"unknown {kind} {key!r}" + (f"; did you mean {close[0]!r}?" if close else ""))
    return key


def known_member(key: str, info: ValidationInfo) -> str:
    """A routine settings validator's check that `key` names a member."""
    return known_key("member", key, info)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DateRange(Strict):
    """A holiday, a break or an away period: one day (`start` only) or `start`..`end` inclusive."""

    name: str = ""
    start: date
    end: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"the range ends ({self.end}) before it starts ({self.start}); swap the two dates")
        return self

    @property
    def last(self) -> date:
        return self.end or self.start

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.last


# Fields the loader fills (from mapping keys, from the folder) are left out of the JSON Schema: admins never write them.
LoaderFilled = SkipJsonSchema[str]


class Party(Strict):
    """A party at the table: a union, district management, the board. Every member belongs to one."""

    key: LoaderFilled = ""  # filled from the mapping key
    name: str = Field(description='display name, e.g. "Riverside Teachers Association"')
    side: Side = Field(description="labor, management or other: for the views that still speak of sides")
    channels: dict[str, str] = Field(
        default_factory=dict,
        description="platform -> where the party's constituents hear talking points addressed to the party "
        "(a team's constituency_channels may override it)",
    )

    @field_validator("side", mode="before")
    @classmethod
    def _board_is_a_party(cls, value: Any) -> Any:
        if value == "board":  # a side before parties existed
            raise ValueError("found 'board'; the board is a party now, on the 'other' side: write 'side: other'")
        return value


class Organisation(Strict):
    name: str
    timezone: str = "America/Los_Angeles"
    parties: dict[str, Party] = Field(
        default_factory=dict,
        description="party key -> {name, side}; each member names one with `party:`. Leave it out to keep "
        "members' `side:` (each side in use is then a party)",
    )
    admins: list[str] = Field(default_factory=list, description="member keys who may run any co-chair command")
    working_hours: tuple[time, time] | None = Field(
        default=None,
        description="contract working hours, e.g. ['07:30', '17:00']: when set, direct messages sent outside them "
        "(or on a weekend) wait for the member's next working morning; channel posts are not held",
    )

    _tz = field_validator("timezone")(check_timezone)

    @field_validator("parties")
    @classmethod
    def _party_keys(cls, value: dict[str, Party]) -> dict[str, Party]:
        """Each party knows its key (the mapping key)."""
        return {
            key: party if party.key == key else party.model_copy(update={"key": key}) for key, party in value.items()
        }

    @field_validator("working_hours")
    @classmethod
    def _hours_ordered(cls, value: tuple[time, time] | None) -> tuple[time, time] | None:
        if value is not None and value[0] >= value[1]:
            raise ValueError(f"working hours must start before they end (got {value[0]:%H:%M}-{value[1]:%H:%M})")
        return value


class Calendar(Strict):
    """The school calendar. Routines skip holidays and breaks unless a routine turns that off."""

    school_year: tuple[date, date] | None = Field(
        default=None, description="first and last day of school; days outside are treated as summer break"
    )
    holidays: list[DateRange] = Field(default_factory=list)
    breaks: list[DateRange] = Field(default_factory=list)
    ics: list[str] = Field(default_factory=list, description=".ics files (relative to the config folder)")
    weekend: list[int] = Field(default=[5, 6], description="weekday numbers that are never school days (Mon=0)")

    # Each tick asks about the same few days for every team and routine; the calendar never changes once loaded.
    _closures: dict[date, DateRange | None] = PrivateAttr(default_factory=dict)

    def closure(self, day: date) -> DateRange | None:
        """The holiday or break that closes `day`, if any (weekends are not closures)."""
        if day in self._closures:
            return self._closures[day]
        found = None
        for item in (*self.holidays, *self.breaks):
            if item.contains(day):
                found = item
                break
        else:
            if self.school_year and not (self.school_year[0] <= day <= self.school_year[1]):
                found = DateRange(name="summer break", start=day)
        if len(self._closures) < 20_000:
            self._closures[day] = found
        return found

    def is_school_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and self.closure(day) is None

    def last_school_day_on_or_before(self, day: date) -> date:
        for _ in range(400):
            if self.is_school_day(day):
                return day
            day -= timedelta(days=1)
        return day


def check_constituency(label: str) -> str:
    """A constituency label is written after `for:` in a talking point's line, whose parts "|" separates."""
    if "|" in label:
        fixed = " ".join(label.replace("|", " ").split())
        raise ValueError(
            f"a constituency label may not contain '|' ({label!r}): talking points are written "
            f"'point | for: {fixed}', where '|' separates the parts; write it without, e.g. {fixed!r}"
        )
    return label


class Member(Strict):
    key: LoaderFilled = ""  # filled from the mapping key
    name: str
    party: str | None = Field(default=None, description="key of the member's party (organisation.parties)")
    side: LegacySide | None = Field(
        default=None, description="only in configs without parties: labor, management, board or other"
    )
    constituency: str = Field(default="", description='for example "teachers\' union" or "principals"')
    role: str = Field(default="", description="job title used instead of the name in summaries")
    email: str | None = None
    ids: dict[str, str] = Field(
        default_factory=dict,
        description="platform -> the person's id there, e.g. {slack: U123, teams: <Entra object id>}; "
        "without one, Slack and Teams find the member by e-mail",
    )
    timezone: str | None = None
    away: list[DateRange] = Field(default_factory=list)
    joined: date | None = Field(default=None, description="first meeting date; newcomers are not made facilitator")

    _tz = field_validator("timezone")(check_timezone)

    @field_validator("constituency")
    @classmethod
    def _label(cls, value: str) -> str:
        return check_constituency(value)

    def away_on(self, day: date) -> bool:
        return any(period.contains(day) for period in self.away)


class Meeting(Strict):
    """A meeting series: an RRULE or a friendly rule such as 'monthly on the 2nd Tuesday at 15:30'."""

    key: str = "meeting"
    name: str = ""
    rule: str
    starts: date | None = Field(default=None, description="first possible date of the series")
    until: date | None = None
    duration_minutes: int = Field(default=90, gt=0, le=24 * 60)
    location: str = ""
    agenda_url: str = ""
    skip_school_closures: bool = True

    @field_validator("rule")
    @classmethod
    def _rule_parses(cls, value: str) -> str:
        from bot.schedule import parse_rule

        parse_rule(value)  # raises ValueError with a readable message
        return value


class RoutineSettings(Strict):
    """Settings every routine shares. Each flow extends this with its own fields and defaults."""

    enabled: bool = True
    skip_school_closures: bool = True
    grace_minutes: int | None = Field(
        default=None, ge=0, description="how late a missed occurrence may still run; default set by the flow"
    )


class Team(Strict):
    key: LoaderFilled = ""  # filled from the mapping key
    name: str
    kind: TeamKind
    parent: str | None = None
    timezone: str | None = None
    channels: dict[str, str] = Field(
        default_factory=dict,
        description="platform -> the team's conversation there (Slack channel id, Teams conversation id, "
        "local '#name'); the local workspace defaults to '#<team key>'",
    )
    constituency_channels: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="constituency label -> platform -> where its talking points are shared"
    )
    members: list[str]
    co_chairs: list[str] = Field(
        description="one member per chairing party (every party on the team, or those in co_chair_parties)"
    )
    co_chair_parties: list[str] | None = Field(
        default=None,
        description="the parties that co-chair, when not every party on the team does (two or more party keys)",
    )
    approval: str = Field(
        default="all",
        description='how many co-chairs approve joint communications: "all" (default) or "N of M", e.g. "2 of 3"',
    )
    meetings: list[Meeting] = Field(default_factory=list)
    routines: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="flow name -> that flow's settings (see `partnerbot schema`)"
    )
    min_group_size: Annotated[int, Field(ge=3)] = Field(
        default=5, description="smallest group whose survey or rating results may be shown (never below 3)"
    )
    paused: list[DateRange] = Field(default_factory=list, description="periods when every routine is paused")

    _tz = field_validator("timezone")(check_timezone)

    @field_validator("constituency_channels")
    @classmethod
    def _labels(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for label in value:
            check_constituency(label)
        return value

    @field_validator("approval")
    @classmethod
    def _quorum_form(cls, value: str) -> str:
        parse_quorum(value)
        return value

    @property
    def approvals_needed(self) -> int:
        """How many co-chairs must approve a joint communication (the team's quorum; every co-chair by default)."""
        quorum = parse_quorum(self.approval)
        return len(self.co_chairs) if quorum is None else quorum[0]


_QUORUM = re.compile(r"\s*(\d+)\s+of\s+(\d+)\s*")


def parse_quorum(text: str) -> tuple[int, int] | None:
    """`all` -> None (every co-chair); `2 of 3` -> (2, 3). That M is the number of co-chairs is checked in checks.py."""
    if text.strip().lower() == "all":
        return None
    match = _QUORUM.fullmatch(text.lower())
    if match is None:
        raise ValueError(f'found {text!r}; write "all" (every co-chair) or "N of M", for example "2 of 3"')
    return int(match[1]), int(match[2])


def legacy_parties(members: Iterable[Member]) -> dict[str, Party]:
    """The parties of a config that only uses sides: one per side in use, in the usual order."""
    used = {member.side for member in members if member.side is not None and member.party is None}
    return {key: Party(key=key, name=name, side=side) for key, (name, side) in LEGACY_PARTIES.items() if key in used}


class Config(Strict):
    organisation: Organisation
    calendar: Calendar = Calendar()
    members: dict[str, Member]
    teams: dict[str, Team]
    # Top-level mappings owned by routines (the pulse's `surveys:`), as written; each routine validates its own.
    sections: SkipJsonSchema[dict[str, dict[str, Any]]] = Field(default_factory=dict)
    folder: LoaderFilled = ""  # where it was loaded from; admins' template overrides live in <folder>/templates

    @model_validator(mode="before")
    @classmethod
    def _sides_become_parties(cls, data: Any) -> Any:
        """A config that lists no parties keeps members' sides: each side in use becomes a party and each member
        belongs to the party of their side. (The loader reports a mix of the two before it gets here.)"""
        if not isinstance(data, dict) or not isinstance(data.get("members"), dict):
            return data
        try:
            organisation = Organisation.model_validate(data.get("organisation"))
            if organisation.parties:
                return data
            members = {key: Member.model_validate(member) for key, member in data["members"].items()}
        except ValidationError:
            return data  # reported by the field validation that follows
        parties = legacy_parties(members.values())
        members = {
            key: member.model_copy(update={"party": member.side}) if member.party is None else member
            for key, member in members.items()
        }
        return {**data, "organisation": organisation.model_copy(update={"parties": parties}), "members": members}

    @model_validator(mode="after")
    def _every_member_has_a_known_party(self) -> Config:
        for member in self.members.values():
            if member.party not in self.organisation.parties:
                known = ", ".join(self.organisation.parties) or "none"
                raise ValueError(f"member {member.key!r} names party {member.party!r}; the parties are {known}")
        return self

    @property
    def parties(self) -> dict[str, Party]:
        """Every party, in the order the organisation lists them."""
        return self.organisation.parties

    def party_of(self, member: Member | str) -> Party:
        """The party of a member (a Member or a member key)."""
        found = self.members[member] if isinstance(member, str) else member
        return self.organisation.parties[found.party or ""]

    def team_parties(self, team: Team) -> dict[str, list[Member]]:
        """Party key -> the team's members of that party, for the parties represented on the team, in the order
        the organisation lists them."""
        found: dict[str, list[Member]] = {}
        members = self.team_members(team)
        for key in self.organisation.parties:
            of_party = [member for member in members if member.party == key]
            if of_party:
                found[key] = of_party
        return found

    def team_tz(self, team: Team) -> ZoneInfo:
        return ZoneInfo(team.timezone or self.organisation.timezone)

    def member_tz(self, member: Member) -> ZoneInfo:
        return ZoneInfo(member.timezone or self.organisation.timezone)

    def team_members(self, team: Team) -> list[Member]:
        return [self.members[k] for k in team.members if k in self.members]

    def is_co_chair(self, team: Team, member_key: str | None) -> bool:
        return member_key is not None and (member_key in team.co_chairs or member_key in self.organisation.admins)

    def teams_of(self, member_key: str) -> list[Team]:
        return [t for t in self.teams.values() if member_key in t.members]

    def routine_settings(self, team: Team, flow_name: str) -> dict[str, Any] | None:
        """The raw settings of a routine a team runs, or None when the team does not run it."""
        return team.routines.get(flow_name)
