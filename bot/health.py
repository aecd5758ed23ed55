"""A team's health, as neutral data: the sections routines declare with `@health_section` (bot/flows/api.py), made
of trends (values over time) and tables, each already cut to what may be shown. The co-chairs' health pages (the
web workspace and signed links) render them; the CSV download flattens them. Nothing here reads a routine's tables
or decides what is hidden: each routine asks bot/anonymity.py through its own results, as it does in chat.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.config import Team

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

# The order of a health page, and each topic's heading.
TOPICS: tuple[tuple[str, str], ...] = (
    ("trust", "Trust and psychological safety"),
    ("norms", "Norms"),
    ("roles", "Role equity"),
    ("deliverables", "Deliverables"),
    ("participation", "Participation"),
)


@dataclass(frozen=True)
class Trend:
    """Named lines over points in time (oldest first) on a scale from `low` to `high`. None leaves a gap: a point
    that may not be shown (too few answers) or has no value."""

    title: str
    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[float | None, ...]], ...]
    low: float
    high: float
    note: str = ""  # what is left out and why

    @property
    def alt(self) -> str:
        """A sentence describing the chart, for people who cannot see it (the table view gives every value)."""
        if not self.labels or not self.series:
            return f"{self.title}: no values to show yet."
        latest = []
        for name, values in self.series:
            shown = [v for v in values if v is not None]
            if shown:
                latest.append(f"{name} {shown[-1]:.1f}")
        span = self.labels[0] if len(self.labels) == 1 else f"{self.labels[0]} to {self.labels[-1]}"
        tail = f"; latest values: {', '.join(latest)}" if latest else "; no point may be shown"
        return (
            f"{self.title}: line chart of {len(self.series)} series over {len(self.labels)} points, {span}, "
            f"on a scale of {self.low:g} to {self.high:g}{tail}."
        )


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


Part = Trend | Table


@dataclass(frozen=True)
class Section:
    """What one routine says about one topic of a team's health."""

    topic: str  # one of TOPICS
    title: str
    parts: tuple[Part, ...] = ()
    note: str = ""  # shown when there is nothing (yet), or to say what the figures leave out


@dataclass(frozen=True)
class TeamHealth:
    team: Team
    at: datetime
    sections: tuple[Section, ...] = field(default_factory=tuple)

    def by_topic(self) -> list[tuple[str, list[Section]]]:
        """The sections under each topic's heading, in the page's order (empty topics left out)."""
        grouped = []
        for topic, heading in TOPICS:
            found = [s for s in self.sections if s.topic == topic]
            if found:
                grouped.append((heading, found))
        return grouped


def team_health(rt: Runtime, team: Team) -> TeamHealth:
    """Every routine's health sections for `team`, now. One routine failing leaves its sections out, not the page."""
    now = rt.clock.now()
    sections: list[Section] = []
    for declared in rt.catalog.health_sections:
        try:
            sections.extend(declared(rt, team, now))
        except Exception:
            log.exception("health section %s failed for team %s", declared.__name__, team.key)
    order = {topic: i for i, (topic, _) in enumerate(TOPICS)}
    sections.sort(key=lambda s: order.get(s.topic, len(order)))
    return TeamHealth(team, now, tuple(sections))


CSV_COLUMNS = ("team", "topic", "section", "figure", "row", "column", "value", "note")


def health_csv(health: TeamHealth) -> str:
    """Every figure of the page in long form: one row per value (a trend's point, a table's cell)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for section in health.sections:
        for part in section.parts:
            for row, column, value in cells(part):
                writer.writerow((health.team.key, section.topic, section.title, part.title, row, column, value, ""))
            if part.note:
                writer.writerow((health.team.key, section.topic, section.title, part.title, "", "", "", part.note))
        if section.note:
            writer.writerow((health.team.key, section.topic, section.title, "", "", "", "", section.note))
    return out.getvalue()


def cells(part: Part) -> list[tuple[str, str, str]]:
    """(row, column, value) for every value of a trend or a table; a hidden point is an empty value."""
    if isinstance(part, Trend):
        return [
            (label, name, "" if value is None else f"{value:.2f}")
            for name, values in part.series
            for label, value in zip(part.labels, values, strict=False)
        ]
    found = []
    for row in part.rows:
        for column, value in zip(part.columns[1:], row[1:], strict=False):
            found.append((row[0], column, value))
    return found


def mean_or_none(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None
