"""`partnerbot simulate` shows the note-taker's prompt and reminder, the owners' reminders, the escalation and the
committee digest, in time order, without anyone answering."""

from __future__ import annotations

from datetime import date

from bot.simulate import format_posts, simulate
from tests.summary_fixture import partnership


def test_simulate_lists_prompts_reminders_escalations_and_digests_in_time_order() -> None:
    plan = {"items": [{"title": "Caseload report", "owners": ["lin"], "due": "2027-01-19"}]}
    config = partnership(summary={"note_taker": "omar"}, deliverables=plan)
    posts = simulate(config, date(2026, 12, 7), 46)
    assert [p.at for p in posts] == sorted(p.at for p in posts)

    def first(text: str, where: str) -> int:
        return next(i for i, p in enumerate(posts) if text in p.message.plain() and where in repr(p.destination))

    order = [
        first("Meeting notes: District Partnership Team, Dec 8", "omar"),
        first("Reminder: meeting notes", "omar"),
        first("Caseload report* for Special Education Committee is due *Tuesday January 19* (in 14 days)", "lin"),
        first("Special Education Committee: deliverables, Mon", "#special-education"),
        first("Due today", "lin"),
        first("Overdue deliverable", "james"),
    ]
    assert order == sorted(order)
    text = format_posts(config, posts)
    assert (
        "Wed 2027-01-20 09:00 PST  @james (direct message)  [special-education/deliverables.nudges/2027-01-20]" in text
    )
    assert "Tue 2026-12-08 17:30 PST  @omar (direct message)  [district/summary.prompt]" in text
