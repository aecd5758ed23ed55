"""End to end on the local workspace with a fake clock: a meeting ends, the note-taker writes the summary, the
attribution check catches a name, both co-chairs approve, everything is published, the action items become
deliverables, and the reminders, the escalation and the celebration follow."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.store.db import Database
from tests.summary_fixture import FILLED, assign_note_taker, partnership, submit_line, world


async def test_a_meeting_becomes_a_published_summary_and_followed_up_deliverables(db: Database) -> None:
    w = world(partnership(), db, datetime(2026, 12, 9, 0, 0, tzinfo=UTC))
    assign_note_taker(w.rt, "ana")

    # 30 minutes after the end (17:30 in Los Angeles) the note-taker, and only she, gets the form.
    await w.run_until(datetime(2026, 12, 9, 1, 31, tzinfo=UTC))
    prompt = w.posts("@ana")
    assert len(prompt) == 1 and prompt[0].at == datetime(2026, 12, 9, 1, 30, tzinfo=UTC)
    assert "Meeting notes: District Partnership Team, Dec 8" in prompt[0].message.plain()
    assert not w.posts("@maria") and not w.posts("@robert")

    # She saves a draft, then reopens it with /partner summary: the text is still there.
    assert "Form: Meeting summary" in await w.say("as ana: press 1")
    saved = await w.say(submit_line("ana", {"attendance": "9 of 10 members"}, then="draft"))
    assert "Draft saved" in saved
    reopened = await w.say("as ana: /partner summary --team district")
    assert "[now: 9 of 10 members]" in reopened

    # Sending for approval: the check flags the talking point that names Lin, and nothing goes out.
    warning = await w.say(submit_line("ana", FILLED))
    assert 'talking_points: Talking point 2 names Lin Wu ("Lin")' in warning and '"a teacher"' in warning
    await w.tick()
    assert not w.posts("@maria") and not w.posts("@robert")

    # The form stays open with the draft kept; she rewords the point and sends it.
    assert "[now: 9 of 10 members" in await w.say("as ana: press 1")
    revised = dict(FILLED)
    revised["talking_points"] = FILLED["talking_points"].replace("Lin said caseloads", "Caseloads")
    assert "Sent to both co-chairs" in await w.say(submit_line("ana", revised))
    await w.tick()
    assert "Please review" in w.posts("@maria")[-1].message.plain()
    assert "Please review" in w.posts("@robert")[-1].message.plain()

    # One approval publishes nothing; the second publishes everything.
    mark = w.last_id()
    assert "published once Robert Kim approves" in await w.say("as maria: press 1")
    await w.tick()
    assert not w.posts("#district", mark)
    assert "summary and talking points are published" in await w.say("as robert: press 1")
    await w.tick()
    summary = w.posts("#district", mark)
    assert len(summary) == 1
    text = summary[0].message.plain()
    assert "Pilot co-teaching in three schools" in text and "*Talking points*" in text and "*Open questions*" in text
    teachers = w.posts("#tu-members", mark)
    principals = w.posts("#principals", mark)
    classified = w.posts("#classified", mark)
    assert len(teachers) == len(principals) == len(classified) == 1
    assert "Caseloads will be reviewed every quarter" in teachers[0].message.plain()
    assert "Caseloads" not in principals[0].message.plain()
    assert "Classified staff are invited" in classified[0].message.plain()

    # The action items are deliverables now: the survey in the committee, the release days on the district team.
    committee = await w.say("as lin: /partner deliverables --team special-education")
    assert "Draft the co-teaching survey" in committee and "Ana Silva" in committee
    district = await w.say("as robert: /partner deliverables --team district")
    assert "Book release days for pilot teachers" in district

    # Reminders at 14, 7 and 1 days before Jan 19, 09:00 in Los Angeles; the 1-day one falls on the holiday
    # (Mon Jan 18) and moves to the last school day before it (Fri Jan 15).
    mark = w.last_id()
    await w.run_until(datetime(2027, 1, 19, 18, 0, tzinfo=UTC))
    to_owner = [p for p in w.posts("@ana", mark) if "co-teaching survey" in p.message.plain()]
    assert [p.at for p in to_owner] == [
        datetime(2027, 1, 5, 17, 0, tzinfo=UTC),
        datetime(2027, 1, 12, 17, 0, tzinfo=UTC),
        datetime(2027, 1, 15, 17, 0, tzinfo=UTC),
        datetime(2027, 1, 19, 17, 0, tzinfo=UTC),  # the one nudge on the due date
    ]
    assert "Due today" in to_owner[-1].message.plain()
    assert "On track" in to_owner[0].message.plain() and "Need help" in to_owner[0].message.plain()
    digests = w.posts("#special-education", mark)
    assert [p.at.date().isoformat() for p in digests] == ["2027-01-11"]  # Jan 18 is the holiday: skipped
    assert "Due soon" in digests[0].message.plain()

    # Overdue: from the first school day after, the committee's co-chairs hear privately; the owner does not.
    mark = w.last_id()
    await w.run_until(datetime(2027, 1, 28, 18, 0, tzinfo=UTC))
    for chair in ("@lin", "@james"):
        escalations = [p for p in w.posts(chair, mark) if "Overdue deliverable" in p.message.plain()]
        assert [p.at for p in escalations] == [
            datetime(2027, 1, 20, 17, 0, tzinfo=UTC),
            datetime(2027, 1, 27, 17, 0, tzinfo=UTC),
        ]
    assert not [p for p in w.posts("@ana", mark) if "co-teaching survey" in p.message.plain()]
    assert "Overdue" in w.posts("#special-education", mark)[-1].message.plain()  # the Jan 25 digest

    # The owner marks it done: a celebration in the committee channel, one reflection request, and silence after.
    mark = w.last_id()
    due_today = next(p for p in w.posts("@ana") if "Due today" in p.message.plain())
    done = await w.say(f"as ana: press 3 on {due_today.id}")
    assert "is done" in done
    await w.tick()
    celebration = w.posts("#special-education", mark)
    assert len(celebration) == 1 and "Draft the co-teaching survey* is done" in celebration[0].message.plain()
    reflection = w.posts("@ana", mark)
    assert len(reflection) == 1 and "Reflection" in reflection[0].message.plain()
    assert "Form: Reflection" in await w.say("as ana: press 1")
    thanks = await w.say('as ana: submit intended="hear from every pilot teacher" learned="start the survey earlier"')
    assert "Thank you" in thanks

    mark = w.last_id()
    await w.run_until(datetime(2027, 2, 12, 0, 0, tzinfo=UTC))
    after = [p for p in w.local.posts if p.id > mark and "co-teaching survey" in p.message.plain()]
    assert [(p.conversation, p.at.date().isoformat()) for p in after] == [("#special-education", "2027-02-01")]
    assert "Done since last week" in after[0].message.plain()  # the digest only; no reminder or escalation

    history = await w.say("as james: /partner deliverables show 1 --team special-education")
    assert "Ana Silva changed open -> done" in history and "start the survey earlier" in history
