"""Committee deliverables on the local workspace: YAML items, reminders moved off closed days, the status buttons
and commands with their refusals and usage, the recorded history, escalation that stops on a status change,
the digest and the home section."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.flows.deliverables.steps import escalation_days, reminder_days
from bot.store.db import Database
from tests.summary_fixture import partnership, world

PLAN = {
    "items": [
        {
            "title": "Caseload report",
            "owners": ["lin"],
            "due": "2027-01-19",
            "description": "Caseloads by site for the district team.",
        }
    ]
}


def test_reminder_days_move_to_the_last_school_day_before_a_closure() -> None:
    config = partnership()
    team = config.teams["special-education"]
    # Jan 19 2027: 14 days before is Tue Jan 5; 7 before is Tue Jan 12; 1 before is the Monday holiday -> Fri Jan 15.
    assert reminder_days(config, team, date(2027, 1, 19), [14, 7, 1]) == [
        (14, date(2027, 1, 5)),
        (7, date(2027, 1, 12)),
        (1, date(2027, 1, 15)),
    ]
    # Due Jan 4 2027, the first day after the winter break: 14, 7 and 1 days before fall in the break and all move
    # to Fri Dec 18, the last school day before it: one reminder there, then the due-date nudge on Jan 4.
    assert reminder_days(config, team, date(2027, 1, 4), [14, 7, 1]) == [(14, date(2026, 12, 18))]
    # Due Fri Jan 8: the ladder is the last school day before the break and the school days after it.
    assert reminder_days(config, team, date(2027, 1, 8), [14, 7, 1]) == [
        (14, date(2026, 12, 18)),
        (1, date(2027, 1, 7)),
    ]
    # Due on a Saturday: the nudge comes on Friday, so the 1-day reminder (also Friday) is not sent twice.
    assert reminder_days(config, team, date(2027, 2, 6), [7, 1]) == [(7, date(2027, 1, 29))]
    # Due Wed Jan 6, two days after the break, with a 3-day reminder (Sunday Jan 3): it goes on Monday Jan 4, the
    # first school day after the break, not 16 days early on Dec 18 with the others.
    assert reminder_days(config, team, date(2027, 1, 6), [14, 7, 3]) == [
        (14, date(2026, 12, 18)),
        (3, date(2027, 1, 4)),
    ]
    # Escalations: the first school day after the due date, then a week apart at most, never on a closed day.
    assert escalation_days(config, team, date(2027, 1, 15), 7, date(2027, 2, 1)) == [
        date(2027, 1, 19),
        date(2027, 1, 26),
    ]


async def test_statuses_are_recorded_with_who_and_when_and_only_the_right_people_change_them(db: Database) -> None:
    w = world(partnership(deliverables=PLAN), db, datetime(2027, 1, 5, 16, 0, tzinfo=UTC))
    await w.run_until(datetime(2027, 1, 5, 17, 1, tzinfo=UTC))
    reminder = w.posts("@lin")[-1]
    assert "Caseload report" in reminder.message.plain() and "in 14 days" in reminder.message.plain()

    # At risk asks for a note first.
    assert "Form: Mark it at risk\n*Caseload report*" in await w.say(f"as lin: press 2 on {reminder.id}")
    assert "note:" in await w.say("as lin: submit note=")
    assert "is at risk" in await w.say('as lin: submit note="two sites have not sent data"')

    # Somebody outside the committee is refused privately, without learning anything about the committee's item;
    # a committee member who is not an owner may act.
    refused = await w.say("as sam: /partner deliverables status 1 done --team district")
    assert "(only you see this)" in refused and "There is no deliverable #1 on your teams" in refused
    assert "Caseload" not in refused
    w.clock.set(datetime(2027, 1, 6, 18, 0, tzinfo=UTC))
    assert "is on track" in await w.say("as ana: /partner deliverables status 1 on-track --team special-education")

    outside = await w.say("as sam: /partner deliverables show 1 --team district")
    assert "There is no deliverable #1 on your teams" in outside and "Caseload" not in outside
    history = await w.say("as james: /partner deliverables show 1")  # a committee co-chair, not an owner
    assert "added from the committee's plan" in history
    assert '2027-01-05 09:01: Lin Wu changed open -> at risk ("two sites have not sent data")' in history
    assert "2027-01-06 10:00: Ana Silva changed at risk -> on track" in history

    # Usage on bad input.
    for line, expected in [
        ("status", "Give the deliverable's number and one of"),
        ("status 1 maybe", "Give the deliverable's number and one of"),
        ("status one done", "`one` is not a deliverable number"),
        ("status 99 done", "There is no deliverable #99"),
        ("status 1 at-risk", "Say in a few words what puts it at risk"),
        ("show", "Give one deliverable number"),
        ("extra", "takes no arguments"),
    ]:
        answer = await w.say(f"as lin: /partner deliverables {line} --team special-education")
        assert expected in answer and "Usage: `/partner deliverables" in answer, line


async def test_need_help_reaches_the_co_chairs_and_escalation_stops_when_the_status_changes(db: Database) -> None:
    w = world(partnership(deliverables=PLAN), db, datetime(2027, 1, 19, 18, 0, tzinfo=UTC))
    await w.run_until(datetime(2027, 1, 20, 17, 1, tzinfo=UTC))
    assert [p.at.date() for p in w.posts("@james")] == [date(2027, 1, 20)]  # the first escalation

    assert "The co-chairs have been told" in await w.say("as lin: press 4 on 1")
    await w.tick()
    assert "Lin Wu asked for help with *Caseload report*" in w.posts("@james")[-1].message.plain()
    mark = w.last_id()
    await w.run_until(datetime(2027, 2, 20, 0, 0, tzinfo=UTC))
    later = [p for p in w.local.posts if p.id > mark and p.conversation.startswith("@")]
    assert not [p for p in later if "Caseload report" in p.message.plain()]


async def test_members_add_deliverables_with_a_form_and_see_their_own(db: Database) -> None:
    w = world(partnership(), db, datetime(2026, 12, 14, 18, 0, tzinfo=UTC))
    form = await w.say("as james: /partner deliverables add --team special-education")
    assert "Form: Add a deliverable" in form
    errors = await w.say('as james: submit title="Parent guide" owners="james, nobody" due=2027-13-01')
    assert "owners: no member called `nobody`" in errors and "due: a date like 2027-01-15" in errors
    added = await w.say('as james: submit title="Parent guide" owners="James Carter, ana" due=2027-02-26')
    assert "Added `#1` *Parent guide*: due Fri Feb 26" in added

    assert "You are not a member of Special Education Committee" in await w.say(
        "as sam: /partner deliverables add --team special-education"
    )
    listed = await w.say("as ana: /partner deliverables --team special-education")
    assert "Parent guide" in listed and "James Carter, Ana Silva" in listed
    assert "Parent guide" in await w.say("as ana: /partner deliverables mine --team district")
    assert "Your deliverables" in await w.say("as ana: home")
    assert "Your deliverables" not in await w.say("as sam: home")

    # The weekly digest skips the winter break and posts nothing when nothing is due soon or late.
    await w.run_until(datetime(2027, 2, 16, 0, 0, tzinfo=UTC))
    digests = [p.at.date().isoformat() for p in w.posts("#special-education")]
    assert digests == ["2027-02-15"]  # 2027-02-15: due in 11 days; earlier Mondays had nothing due soon


def test_the_config_names_unknown_owners_and_note_takers_with_their_place(tmp_path: Path) -> None:
    import shutil

    from bot.assembly import load_config
    from bot.config.loader import ConfigError

    folder = tmp_path / "config"
    shutil.copytree(Path(__file__).resolve().parents[1] / "config", folder)
    teams = (folder / "teams.yaml").read_text(encoding="utf-8")
    district = teams.index("  district:\n")
    teams = teams[:district] + teams[district:].replace(
        "      summary: {",
        "      summary: {note_taker: mariaa, ",
        1,
    ).replace(
        "      deliverables: {}",
        "      deliverables:\n        items: [{title: Survey, owners: [robert, nobody], due: 2027-01-19}]",
        1,
    )
    assert "mariaa" in teams and "nobody" in teams
    (folder / "teams.yaml").write_text(teams, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(str(folder))
    text = str(raised.value)
    assert "teams.district.routines.summary.note_taker: unknown member 'mariaa'; did you mean 'maria'?" in text
    assert "teams.district.routines.deliverables.items[0].owners: unknown member 'nobody'" in text


async def test_a_new_due_date_moves_the_reminders_and_every_edit_is_in_the_history(sqlite_db: Database) -> None:
    w = world(partnership(deliverables=PLAN), sqlite_db, datetime(2027, 1, 4, 16, 0, tzinfo=UTC))
    await w.run_until(datetime(2027, 1, 5, 17, 1, tzinfo=UTC))  # the 14-day reminder for Jan 19 has gone out
    assert len([p for p in w.posts("@lin") if "Caseload report" in p.message.plain()]) == 1

    refused = await w.say("as sam: /partner deliverables edit 1 due 2027-02-16")
    assert "There is no deliverable #1 on your teams" in refused and "Caseload" not in refused
    assert "is not a date" in await w.say("as lin: /partner deliverables edit 1 due soon")
    assert "Usage: `/partner deliverables edit N due|owners|title VALUE`" in await w.say(
        "as lin: /partner deliverables edit 1 colour blue"
    )
    assert "now has due 2027-02-16" in await w.say("as lin: /partner deliverables edit 1 due 2027-02-16")
    assert "now has owners lin, ana" in await w.say("as lin: /partner deliverables edit 1 owners lin, ana")

    # The old 7-day reminder (Jan 12) no longer comes; the new 14-day one (Feb 2) goes to both owners.
    await w.run_until(datetime(2027, 2, 2, 17, 1, tzinfo=UTC))
    lin = [p for p in w.posts("@lin") if "Caseload report" in p.message.plain()]
    assert [p.at.date() for p in lin] == [date(2027, 1, 5), date(2027, 2, 2)]
    assert any("Caseload report" in p.message.plain() for p in w.posts("@ana"))

    history = await w.say("as lin: /partner deliverables show 1")
    assert "Lin Wu changed the due from 2027-01-19 to 2027-02-16" in history
    assert "Lin Wu changed the owners from lin to lin, ana" in history
