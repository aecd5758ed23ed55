"""Follow-through in figures: a team's deliverables done on time, done late, overdue and still ahead, and the
overdue ones by name, for the co-chairs' health page.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.config import Team
from bot.flows.api import health_section
from bot.flows.deliverables.state import STATUS_LABELS, Deliverable
from bot.flows.deliverables.steps import local_day, names_of
from bot.health import Section, Table
from bot.runtime import Runtime


@health_section
def deliverables_health(rt: Runtime, team: Team, now: datetime) -> list[Section]:
    with rt.db.session() as session:
        items = list(session.scalars(select(Deliverable).where(Deliverable.team == team.key).order_by(Deliverable.due)))
    if not items:
        return []
    today = local_day(rt.config, team, now)
    on_time = [i for i in items if i.done_at is not None and local_day(rt.config, team, i.done_at) <= i.due]
    late = [i for i in items if i.done_at is not None and local_day(rt.config, team, i.done_at) > i.due]
    open_items = [i for i in items if i.done_at is None]
    overdue = [i for i in open_items if i.due < today]
    ahead = [i for i in open_items if i.due >= today]
    summary = Table(
        "Deliverables by follow-through",
        ("", "deliverables"),
        (
            ("done on time", str(len(on_time))),
            ("done late", str(len(late))),
            ("overdue", str(len(overdue))),
            ("not yet due", str(len(ahead))),
        ),
        f"{len(on_time)} of {len(on_time) + len(late)} done on time." if on_time or late else "None done yet.",
    )
    parts = [summary]
    if overdue:
        parts.append(
            Table(
                "Overdue",
                ("deliverable", "owners", "due", "days overdue", "status"),
                tuple(
                    (
                        item.title,
                        names_of(rt.config, item.owners),
                        item.due.isoformat(),
                        str((today - item.due).days),
                        STATUS_LABELS.get(item.status, item.status),
                    )
                    for item in overdue
                ),
            )
        )
    return [Section("deliverables", "Committee deliverables", tuple(parts))]
