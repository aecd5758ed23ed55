"""What an approved summary becomes: the post to the team, talking points to each constituency, action items as
deliverables (when the bot runs that routine), and the Markdown export. Approval itself is in commands.py.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.addresses import OutboxKey
from bot.config import Team
from bot.delivery import post_to_constituency, post_to_team
from bot.flows.api import ADD_DELIVERABLE, exporter
from bot.flows.summary.form import ParsedSummary
from bot.flows.summary.state import MeetingSummary
from bot.flows.summary.steps import context, meeting_day, render_summary
from bot.messages import Header, Message, Text
from bot.runtime import Runtime
from bot.store.models import AuditEntry


def publish(rt: Runtime, session: Session, team: Team, row: MeetingSummary) -> list[str]:
    """Post the summary to the team, talking points to each constituency; action items become deliverables.
    Returns the constituencies that have no channel configured."""
    now = rt.clock.now()
    wording = context(rt, session, team, row)
    parsed: ParsedSummary = wording["s"]
    day = wording["day"]
    full = rt.templates.render("summary/post.md.j2", **wording)
    message = Message((Header(f"{team.name}: meeting summary, {day:%B %-d, %Y}"), Text(full)), f"{team.name} summary")
    post_to_team(rt, session, team, OutboxKey(team.key, "summary", "publish", row.meeting), message)
    unreached = []
    for constituency in sorted({c for p in parsed.talking_points for c in p.constituencies}):
        points = [p for p in parsed.talking_points if constituency in p.constituencies]
        text = rt.templates.render("summary/talking_points.md.j2", constituency=constituency, points=points, **wording)
        header = Header(f"Talking points from {team.name}, {day:%b %-d}")
        post = Message((header, Text(text)), f"Talking points for {constituency}")
        key = OutboxKey(team.key, "summary", "talking-points", row.meeting, constituency)
        if not post_to_constituency(rt, session, team, constituency, key, post):
            unreached.append(constituency)
    # Without the deliverables routine the action items stay in the summary only.
    add_deliverable = rt.catalog.service(ADD_DELIVERABLE)
    for index, item in enumerate(parsed.action_items if add_deliverable is not None else (), 1):
        add_deliverable(
            rt,
            session,
            item.committee,
            title=item.title,
            owners=list(item.owners),
            due=item.due,
            source="summary",
            source_ref=f"summary:{row.id}:{index}",
            description=f"Action item from the {team.name} meeting of {day:%B %-d, %Y}.",
        )
    row.status, row.published_at, row.updated_at = "published", now, now
    session.add(AuditEntry(at=now, team=team.key, actor="", action="summary.published", detail={"id": row.id}))
    return unreached


@exporter("summary", options={"meeting": "meeting date, YYYY-MM-DD"})
def export_summary(rt: Runtime, options: dict[str, object]) -> str:
    """`partnerbot export summary --team T --meeting YYYY-MM-DD --format md`: the published summary as Markdown."""
    if options.get("format") not in ("md", "markdown"):
        raise ValueError("summaries export as Markdown: add --format md")
    team = rt.config.teams.get(str(options.get("team") or ""))
    if team is None:
        raise ValueError(f"no team {options.get('team')!r}; teams: {', '.join(sorted(rt.config.teams))}")
    try:
        day = date.fromisoformat(str(options.get("meeting") or ""))
    except ValueError:
        raise ValueError("give the meeting's date as --meeting YYYY-MM-DD") from None
    with rt.db.session() as session:
        rows = session.scalars(
            select(MeetingSummary).where(MeetingSummary.team == team.key, MeetingSummary.status == "published")
        ).all()
        for row in rows:
            if meeting_day(rt, team, row) == day:
                return render_summary(rt, session, team, row, "summary/export.md.j2") + "\n"
    raise ValueError(f"{team.name} has no published summary for a meeting on {day}")
