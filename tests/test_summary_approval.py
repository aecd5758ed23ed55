"""Joint approval: one co-chair's approval publishes nothing, a change request sends the draft back with the comment,
a revised version needs both approvals again; plus the note-taker fallbacks and the reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.flows.summary.state import MeetingSummary
from bot.store.db import Database
from tests.summary_fixture import (
    CLEAN,
    FILLED,
    assign_note_taker,
    partnership,
    submit_line,
    world,
    write_and_approve,
)

AFTER_PROMPT = datetime(2026, 12, 9, 1, 31, tzinfo=UTC)


async def _sent_for_review(db: Database, **settings: object):  # type: ignore[no-untyped-def]
    w = world(partnership(summary=dict(settings)), db, datetime(2026, 12, 9, 0, 0, tzinfo=UTC))
    assign_note_taker(w.rt, "ana")
    await w.run_until(AFTER_PROMPT)
    await w.say("as ana: press 1")
    assert "Sent to both co-chairs" in await w.say(submit_line("ana", CLEAN))
    await w.tick()
    return w


async def test_one_approval_publishes_nothing_and_a_change_request_returns_the_draft(db: Database) -> None:
    w = await _sent_for_review(db)
    mark = w.last_id()
    assert "once Robert Kim approves" in await w.say("as maria: press 1")
    await w.tick()
    channels = {p.conversation for p in w.local.posts if p.id > mark}
    assert channels <= {"@maria"}  # only her own updated confirmation; nothing published anywhere

    # Robert asks for changes: the note-taker gets the comment, the draft reopens with her text.
    assert "Form: Ask for changes" in await w.say("as robert: press 2")
    assert "comment:" in await w.say("as robert: submit comment=")  # an empty comment keeps the form open
    assert "Sent back to the note-taker" in await w.say('as robert: submit comment="Add the June funding question"')
    await w.tick()
    back = w.posts("@ana", mark)[-1].message.plain()
    assert "Robert Kim asked for changes" in back and "Add the June funding question" in back
    form = await w.say("as ana: press 1")
    assert 'Robert Kim asked for changes: "Add the June funding question"' in form
    assert "[now: Pilot co-teaching in three schools" in form

    # Robert's old approve button is stale now, and the revised version needs both approvals again (Maria's too).
    assert "no longer up for approval" in await w.say(f"as robert: press 1 on {w.posts('@robert')[0].id}")
    revised = {"open_questions": "How will release time be funded after June?\\nWho covers classes on release days?"}
    assert "Sent to both co-chairs" in await w.say(submit_line("ana", revised))
    await w.tick()
    mark = w.last_id()
    await w.say("as robert: press 1")
    await w.tick()
    assert not w.posts("#district", mark)
    await w.say("as maria: press 1")
    await w.tick()
    published = w.posts("#district", mark)
    assert len(published) == 1 and "Who covers classes on release days?" in published[0].message.plain()


async def test_only_the_co_chairs_approve_and_the_note_taker_cannot_edit_under_review(db: Database) -> None:
    w = await _sent_for_review(db)
    review = w.posts("@maria")[-1]
    assert "Only the co-chairs of District Partnership Team approve" in await w.say(f"as lin: press 1 on {review.id}")
    assert "with the co-chairs for approval" in await w.say("as ana: press 1 on 1")
    assert "No District Partnership Team summary is waiting for you" in await w.say(
        "as ana: /partner summary --team district"
    )
    assert "Usage: `/partner summary`" in await w.say("as ana: /partner summary now --team district")


async def test_send_anyway_goes_to_the_co_chairs_with_what_the_check_found(db: Database) -> None:
    w = world(partnership(), db, datetime(2026, 12, 9, 0, 0, tzinfo=UTC))
    assign_note_taker(w.rt, "ana")
    await w.run_until(AFTER_PROMPT)
    await w.say("as ana: press 1")
    assert "Lin Wu" in await w.say(submit_line("ana", FILLED))
    assert "Sent to both co-chairs" in await w.say(submit_line("ana", {}, then="send_anyway"))
    await w.tick()
    review = w.posts("@robert")[-1].message.plain()
    assert "despite the attribution check: talking point 2 names Lin Wu" in review


async def test_outside_note_taker_then_co_chairs_and_the_reminders(db: Database) -> None:
    # No role holder: the configured outside note-taker gets the form, and a reminder a day later.
    w = world(partnership(summary={"note_taker": "omar"}), db, datetime(2026, 12, 9, 0, 0, tzinfo=UTC))
    await w.run_until(AFTER_PROMPT + timedelta(hours=25))
    prompts = [p.at for p in w.posts("@omar")]
    assert prompts == [datetime(2026, 12, 9, 1, 30, tzinfo=UTC), datetime(2026, 12, 10, 1, 30, tzinfo=UTC)]
    assert "Reminder" in w.posts("@omar")[-1].message.plain()
    assert not w.posts("@maria")

    # He sends it; after two days the co-chair who has not approved is reminded, the one who did is not.
    await w.say("as omar: press 1")
    assert "Sent to both co-chairs" in await w.say(submit_line("omar", CLEAN))
    await w.tick()
    await w.say("as maria: press 1")
    sent_at = w.clock.now()
    await w.run_until(sent_at + timedelta(hours=49))
    reminders = [p for p in w.posts("@robert") if "Reminder: your approval" in p.message.plain()]
    assert [p.at for p in reminders] == [sent_at + timedelta(hours=48)]
    assert not [p for p in w.posts("@maria") if "Reminder: your approval" in p.message.plain()]


async def test_without_any_note_taker_both_co_chairs_get_the_form(db: Database) -> None:
    w = world(partnership(), db, datetime(2026, 12, 9, 0, 0, tzinfo=UTC))
    await w.run_until(AFTER_PROMPT)
    assert len(w.posts("@maria")) == len(w.posts("@robert")) == 1
    with w.rt.db.session() as session:
        row = session.scalar(select(MeetingSummary))
        assert row is not None and row.note_takers == ["maria", "robert"]


async def test_deliverables_done_since_the_last_meeting_appear_in_the_next_summary(db: Database) -> None:
    w = world(partnership(deliverables={}), db, datetime(2027, 1, 5, 18, 0, tzinfo=UTC))
    await w.say("as james: /partner deliverables add --team special-education")
    await w.say('as james: submit title="Parent guide to co-teaching" owners=james due=2027-01-29')
    assert "is done" in await w.say("as james: /partner deliverables status 1 done --team special-education")

    # The Jan 12 meeting has no note-taker assigned: the co-chairs write it.
    await w.run_until(datetime(2027, 1, 13, 1, 31, tzinfo=UTC))
    await write_and_approve(w, "maria")
    post = w.posts("#district")[-1].message.plain()
    assert "*Done since the last meeting*\n- Parent guide to co-teaching" in post


async def test_without_the_roles_and_deliverables_routines_the_summary_still_runs(db: Database) -> None:
    """Summary imports neither routine: with both absent from the catalog, the note-taker the roles table names is not
    asked (the co-chairs write it), and the published action items create no deliverables."""
    from bot.flows.api import Catalog
    from bot.flows.deliverables.state import Deliverable
    from bot.flows.summary import routine as summary

    w = world(partnership(), db, datetime(2026, 12, 9, 0, 0, tzinfo=UTC))
    w.rt.catalog = Catalog((summary.ROUTINE,))
    assign_note_taker(w.rt, "ana")
    await w.run_until(AFTER_PROMPT)
    assert not w.posts("@ana") and w.posts("@maria") and w.posts("@robert")
    await w.say("as maria: press 1")
    assert "Sent to both co-chairs" in await w.say(submit_line("maria", CLEAN))
    await w.tick()
    await w.say("as maria: press 1")
    await w.say("as robert: press 1")
    await w.tick()
    assert "Draft the co-teaching survey" in w.posts("#district")[-1].message.plain()
    with db.session() as session:
        assert session.scalars(select(Deliverable)).all() == []
