"""The pulse's scheduled side: when runs open, remind and close (PulseFlow.due) and what each step does: open a run
and invite privately, remind non-respondents, close and post results. Commands and buttons live in commands.py.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from bot.addresses import OutboxKey
from bot.anonymity import can_show, minimum
from bot.config import Config, Team
from bot.delivery import direct_message, note_posting, post_to_team
from bot.flows.api import Due, Flow, per_team_this_tick
from bot.flows.pulse.instruments import Instrument, configured_instruments
from bot.flows.pulse.results import count_answers, names_of, parties_to_show, results_message, team_results
from bot.flows.pulse.settings import MAX_REMINDERS, PulseSettings, parse_reminder
from bot.flows.pulse.state import (
    PulseParticipation,
    PulseRun,
    instrument_of,
    latest_followup,
    lock_run,
    open_run_of,
    opening_state,
    store_answers,
    take_sealed,
    touch_participation,
)
from bot.meetings import cadence_times
from bot.messages import Button, Buttons, Context, Header, Message, Text, md
from bot.moments import moment
from bot.outbox import POSTED, enqueue_updates, once_per_message
from bot.posting import Placement, earlier_open_day, later_open_day, place_after
from bot.runtime import Runtime
from bot.schedule import localize
from bot.store.batch import allocate_ids, insert_later
from bot.store.db import SerializedJSON
from bot.store.models import OutboxItem
from bot.store.sealed import SealedBox

log = logging.getLogger(__name__)


def local_time(rt: Runtime, team: Team, instant: datetime) -> str:
    """A closing time, said as of when the message is read ("tomorrow at 8:30 AM"), zone labelled when needed."""
    return moment(instant, rt.config.team_tz(team), "datetime")


def run_key(team: Team, step: str, run: PulseRun) -> OutboxKey:
    """The key of what a step posts about one run (`/{member}` added for private messages)."""
    return OutboxKey(team.key, "pulse", step, f"run{run.id}")


# What a tick needs of each open run to know when its reminders and its close fall due.
OPEN_RUNS = select(PulseRun.id, PulseRun.team, PulseRun.reminders, PulseRun.closes_at).where(PulseRun.status == "open")
_OPENING = "pulse.opening"  # session.info key: what prepare() found for the teams whose runs open in this batch
_RUN_IDS = "pulse.run-ids"  # session.info key: ids allocated for the runs opening in this batch
_LOOK_UP = object()  # open_run(followup=...) not given: it looks the previous run up itself


class PulseFlow(Flow[PulseSettings]):
    name = "pulse"
    settings_model = PulseSettings
    default_grace = timedelta(hours=12)

    def due(self, rt: Runtime, team: Team, settings: PulseSettings, start: datetime, end: datetime) -> Iterable[Due]:
        if settings.cadence:
            times = cadence_times(
                rt.config, team, settings.cadence, start, end, skip_closures=settings.skip_school_closures
            )
            for at in times:
                subject = f"{settings.instrument}@{at:%Y-%m-%dT%H:%MZ}"
                yield Due(team.key, self.name, "open", subject, at, self.grace(settings))
        for run in per_team_this_tick(rt, "pulse.open-runs", OPEN_RUNS).get(team.key, []):
            for number, stamp in enumerate(run.reminders.get("at", []), start=1):
                at = datetime.fromisoformat(stamp)
                if start < at <= end and at < run.closes_at:
                    yield Due(team.key, self.name, "remind", f"run{run.id}.{number}", at, run.closes_at - at)
            # A close is due whenever it is past, however long the bot was down: a run never stays open for ever.
            if run.closes_at <= end:
                yield Due(team.key, self.name, "close", f"run{run.id}", run.closes_at, timedelta(days=365))

    def prepare(self, rt: Runtime, session: Session, dues: Sequence[Due]) -> None:
        """Runs opening for many teams at once (a district-wide pulse) look up their open and previous runs in
        two queries."""
        opening = [due.team for due in dues if due.step == "open"]
        if opening:
            session.info[_OPENING] = opening_state(session, opening)
            session.info[_RUN_IDS] = allocate_ids(session, PulseRun, len(opening))

    def run(self, rt: Runtime, session: Session, due: Due, settings: PulseSettings) -> None:
        team = rt.config.teams[due.team]
        if due.step == "open":
            instrument = configured_instruments(rt.config).get(settings.instrument)
            if instrument is None:
                raise LookupError(f"team {team.key}: no instrument {settings.instrument!r} in surveys.yaml")
            prepared = session.info.get(_OPENING, {}).get(team.key)
            already_open, followup = prepared or (open_run_of(session, team.key), _LOOK_UP)
            if already_open is not None:
                log.info("team %s already has an open pulse; the scheduled %s is skipped", team.key, due.subject)
                return
            open_run(
                rt,
                session,
                team,
                instrument,
                settings,
                due.at,
                settings.open_days,
                due.subject,
                "schedule",
                followup=followup,
            )
        elif due.step == "remind":
            run_id, number = due.subject.removeprefix("run").split(".")
            send_reminders(rt, session, team, int(run_id), int(number))
        elif due.step == "close":
            run = session.get(PulseRun, int(due.subject.removeprefix("run")))
            if run is not None and run.status == "open":
                close_run(rt, session, team, run)


FLOW = PulseFlow()


def _closing_day(config: Config, team: Team, opened: date, days: int) -> date:
    """`days` after opening, moved back to the last open day (results land on a day people read them), but
    never back onto the opening day: then forward to the first open day after it instead, however long the break."""
    target = opened + timedelta(days=days)
    back = earlier_open_day(config, team, target)
    if back is not None and back > opened:
        return back
    return later_open_day(config, team, target) or target


def _reminders(rt: Runtime, team: Team, settings: PulseSettings, opened: datetime, closes: datetime) -> list[Placement]:
    """Each reminder placed by the posting policy: after the opening, on an open day, before the close; a reminder
    moved onto the day of another (or of the opening) is merged into it."""
    tz = rt.config.team_tz(team)
    placed: list[Placement] = []
    taken = {opened.astimezone(tz).date(): "the invitation"}
    for number, text in enumerate(settings.reminders[:MAX_REMINDERS], start=1):
        offset, at = parse_reminder(text)
        if at is None:
            planned = opened + offset
        else:
            planned = localize(datetime.combine(opened.astimezone(tz).date() + offset, at), tz)
        step = f"reminder {number}"
        placement = place_after(rt.config, team, step, planned, until=closes)
        if placement.at is not None and placement.kind == "moved" and placement.at.astimezone(tz).date() in taken:
            into = taken[placement.at.astimezone(tz).date()]
            placement = Placement(step, planned, None, f"{placement.why}; merged into {into}")
        elif placement.at is not None and placement.at <= opened:
            placement = Placement(step, planned, None, "it would come before the invitation")
        if placement.at is not None:
            taken[placement.at.astimezone(tz).date()] = step
        placed.append(placement)
    return placed


def open_run(
    rt: Runtime,
    session: Session,
    team: Team,
    instrument: Instrument,
    settings: PulseSettings,
    opened: datetime,
    days: int,
    subject: str,
    opened_by: str,
    *,
    followup: PulseRun | object | None = _LOOK_UP,
) -> PulseRun:
    """Freeze the instrument into a new run, list who is asked, and invite each of them privately. `followup`: the
    previous run whose follow-up the invitation quotes, when the caller has looked it up already."""
    tz = rt.config.team_tz(team)
    local_open = opened.astimezone(tz)
    closing_day = _closing_day(rt.config, team, local_open.date(), days) if settings.skip_school_closures else None
    closes = localize(datetime.combine(closing_day or local_open.date() + timedelta(days=days), local_open.time()), tz)
    reminders = _reminders(rt, team, settings, opened, closes)
    members = sorted(team.members)
    ids = session.info.get(_RUN_IDS)
    run = PulseRun(
        id=ids.pop() if ids else None,  # allocated for the batch (prepare): no round trip to learn it
        team=team.key,
        instrument=instrument.key,
        subject=subject,
        # Frozen once per session with its stored text: a district-wide pulse opens a run per team from one instrument.
        snapshot=once_per_message(session, _SNAPSHOTS, instrument, lambda: SerializedJSON(instrument.snapshot())),
        party_breakdown=settings.party_breakdown and instrument.party_breakdown,
        status="open",
        opened_by=opened_by,
        opened_at=opened,
        closes_at=closes,
        reminders={"at": sorted({p.at.isoformat() for p in reminders if p.at is not None})},
        invited=len(members),
        respondents=0,
        shuffles=0,
        followup="",
        followup_by="",
    )
    session.add(run)
    if run.id is None:
        session.flush()
    note_posting(session, team.key, str(run_key(team, "remind", run)), reminders, tz)
    insert_later(
        session,
        PulseParticipation,
        [{"run_id": run.id, "member": m, "status": "invited", "reminders_sent": 0, "touched": 0} for m in members],
    )
    until = local_time(rt, team, closes)
    text = rt.templates.render(
        "pulse/invitation.md.j2",
        team=team,
        instrument=instrument,
        followup=latest_followup(session, team.key, run.id) if followup is _LOOK_UP else followup,
        minimum=minimum(team.min_group_size),
    )
    message = Message(
        (
            Header(f"{instrument.name}: a short anonymous pulse"),
            Text(text),
            answer_buttons(run.id),
            Context(md("{} questions, about two minutes. Closes {}.", len(instrument.items), until)),
        ),
        f"{team.name}: {instrument.name}, closes {until}",
    )
    invite = run_key(team, "invite", run)
    for member in members:
        direct_message(rt, session, team, member, invite / member, message, expires=closes)
    return run


_SNAPSHOTS = "pulse.snapshots"  # session.info key: each instrument as frozen into the runs opened in this session


def answer_buttons(run_id: int) -> Buttons:
    return Buttons(
        (
            Button("Answer", "pulse.answer", str(run_id), "primary"),
            Button("Not this time", "pulse.decline", str(run_id)),
        )
    )


def send_reminders(rt: Runtime, session: Session, team: Team, run_id: int, number: int) -> int:
    """Remind, privately, each member who has neither answered nor declined; never more than twice, never naming
    anyone. Returns how many reminders were queued."""
    run = session.get(PulseRun, run_id)
    if run is None or run.status != "open" or number > MAX_REMINDERS:
        return 0
    instrument = instrument_of(run)
    waiting = session.execute(_WAITING, {"run": run_id, "number": number}).all()
    text = rt.templates.render(
        "pulse/reminder.md.j2", team=team, instrument=instrument, closes=local_time(rt, team, run.closes_at)
    )
    message = Message(
        (Header(f"Reminder: {instrument.name}"), Text(text), answer_buttons(run.id)),
        f"Reminder: {instrument.name} closes {local_time(rt, team, run.closes_at)}",
    )
    remind = OutboxKey(team.key, "pulse", "remind", f"run{run.id}.{number}")
    if waiting:  # rows, not objects: one statement marks them all
        session.execute(_REMINDED, {"ids": [row.id for row in waiting], "number": number})
    for row in waiting:
        direct_message(rt, session, team, row.member, remind / row.member, message, expires=run.closes_at)
    return len(waiting)


# Built once: every reminder runs them.
_WAITING = (
    select(PulseParticipation.id, PulseParticipation.member)
    .where(
        PulseParticipation.run_id == bindparam("run"),
        PulseParticipation.status == "invited",
        PulseParticipation.reminders_sent < bindparam("number"),
    )
    .order_by(PulseParticipation.id)
)
_PARTICIPATION = PulseParticipation.__table__
_REMINDED = (
    _PARTICIPATION.update()  # type: ignore[attr-defined]
    .where(_PARTICIPATION.c.id.in_(bindparam("ids", expanding=True)))  # type: ignore[attr-defined]
    .values(reminders_sent=bindparam("number"))
)


def close_run(rt: Runtime, session: Session, team: Team, run: PulseRun, *, asked_now: bool = False) -> None:
    """Close a run: decide which parties it shows apart (against the earlier runs of its instrument); its answers
    leave the sealed box (kept only if enough people answered, with a party only for the parties shown); post the
    results, and ask the co-chairs to follow up. `asked_now`: a co-chair closed it by command, so the results post
    at once, on a closed day too (the posting policy holds scheduled posts, not what a person asks for now)."""
    run = lock_run(session, run.id) or run
    run.status = "closed"
    run.closed_at = rt.clock.now()
    instrument = instrument_of(run)
    received = take_sealed(session, rt.key, run.id)
    shown: set[str] = set()
    if can_show(run.respondents, team.min_group_size):  # below the minimum nothing may ever be shown: keep nothing
        first = instrument.items[0].id  # everyone answers every item, so the first item counts people
        by_party = Counter(group for item, _, group in received.answers if item == first and group is not None)
        unkept = sum(1 for item, _, group in received.answers if item == first and group is None)
        earlier = session.scalars(
            select(PulseRun)
            .where(
                PulseRun.team == team.key,
                PulseRun.instrument == run.instrument,
                PulseRun.status == "closed",
                PulseRun.id != run.id,
            )
            .order_by(PulseRun.closed_at, PulseRun.id)
        ).all()
        legacy = count_answers(session, [r.id for r in earlier if r.parties_shown is None])
        shown = parties_to_show(rt.config, team, run, dict(by_party), unkept, earlier, legacy)
        # Data minimisation: a party the results do not show is not written next to any answer.
        answers = [(item, value, group if group in shown else None) for item, value, group in received.answers]
        store_answers(session, run.id, answers, received.comments)
    run.parties_shown = sorted(shown)
    touch_participation(session, run.id)
    rt.db.forget_history_after_commit(session, rewrite=(SealedBox.__tablename__,))
    session.flush()
    results = team_results(session, team.key, team.min_group_size, run.instrument, party_names=names_of(rt.config))
    message = results_message(rt, team, results)
    post_to_team(rt, session, team, run_key(team, "results", run), message, closed_day_ok=asked_now)
    latest = results.latest
    if latest is not None and latest.run_id == run.id and latest.shown and latest.respondents > 0:
        ask_for_followup(rt, session, team, run, instrument)
    # Invitations and reminders lose their buttons, so nobody taps into a closed run.
    _close_invitations(rt, session, team, run, instrument)


_ASKED = select(*POSTED).where(
    OutboxItem.team == bindparam("team"),  # indexed: the key patterns below are read within the team's rows only
    OutboxItem.kind == "post",
    or_(
        OutboxItem.key.like(bindparam("invites"), escape="\\"),
        OutboxItem.key.like(bindparam("reminders"), escape="\\"),
    ),
)  # built once: every closing survey runs it


def ask_for_followup(rt: Runtime, session: Session, team: Team, run: PulseRun, instrument: Instrument) -> None:
    """Ask the co-chairs to close the loop ("you said, we did"): only after results the team could see."""
    prompt = Message(
        (
            Text(rt.templates.render("pulse/followup_prompt.md.j2", team=team, instrument=instrument)),
            Buttons((Button("Write the follow-up", "pulse.followup", str(run.id), "primary"),)),
        ),
        f"{team.name}: close the loop on the {instrument.name} results",
    )
    followup_prompt = run_key(team, "followup-prompt", run)
    for chair in team.co_chairs:
        direct_message(rt, session, team, chair, followup_prompt / chair, prompt)


def _close_invitations(rt: Runtime, session: Session, team: Team, run: PulseRun, instrument: Instrument) -> None:
    closed = Message.text(md("The *{}* pulse has closed. Results are in the team channel.", instrument.name))
    invites = run_key(team, "invite", run) / ""  # ".../run7/": one per member, of this run only (not run70)
    reminders = OutboxKey(team.key, "pulse", "remind", f"run{run.id}.")  # ".../run7.1/...", ".../run7.2/..."
    patterns = {"team": team.key, "invites": invites.like_prefix(), "reminders": reminders.like_prefix()}
    asked = session.execute(_ASKED, patterns).all()
    updates = [(f"{post.key}|closed", post.key) for post in asked]
    enqueue_updates(session, updates, closed, now=rt.clock.now(), posts=asked)
