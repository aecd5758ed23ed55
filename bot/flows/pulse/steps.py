"""Pulse surveys: runs opened on a cadence or by a co-chair, private invitations and at most two reminders, one
anonymous answer per person, results posted at closing with a trend chart, and the "you said, we did" follow-up.

Storage and its anonymity mechanics are in bot/store/pulse.py, scoring in bot/pulse_results.py, the threshold
policy in bot/anonymity.py, instruments in bot/config/surveys.py; this file is the routine and its wording.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import sys
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.anonymity import can_show, minimum
from bot.charts import trend_chart
from bot.config import Config, ConfigSection, Member, RoutineSettings, Team
from bot.config.models import known_key
from bot.config.surveys import Instrument, validate_surveys
from bot.delivery import direct_message, post_to_team
from bot.flows.api import (
    ActionInvocation,
    Due,
    Flow,
    Invocation,
    Refused,
    Routine,
    UsageError,
    action,
    command,
    exporter,
    home_section,
    per_team_this_tick,
)
from bot.inbound import Reply
from bot.meetings import cadence_times, closure
from bot.messages import Block, Button, Buttons, Context, Form, FormField, Header, Image, Message, Text
from bot.outbox import enqueue_update
from bot.pulse_results import (
    EXPORT_COLUMNS,
    RunResults,
    TeamResults,
    count_answers,
    export_rows,
    instrument_of,
    side_counts,
    team_results,
    visible_sides,
)
from bot.runtime import Runtime
from bot.schedule import localize, parse_rule
from bot.store.models import OutboxItem
from bot.store.pulse import PulseParticipation, PulseRun, lock_run, reshuffle_run

log = logging.getLogger(__name__)

MAX_REMINDERS = 2
_REMINDER = re.compile(
    r"^(?P<n>\d+)\s+(?P<unit>days?|hours?)\s+after\s+(?:the\s+)?opening(?:\s+at\s+(?P<h>\d{1,2}):(?P<m>\d{2}))?$"
)
_CLOSES_IN = re.compile(r"^(?:closes?\s+)?(?:in\s+)?(?P<n>\d+)\s+days?$")


def parse_reminder(text: str) -> tuple[timedelta, time | None]:
    """ "2 days after opening at 09:00" -> (2 days, 09:00); "36 hours after opening" -> (36 hours, None)."""
    match = _REMINDER.match(" ".join(text.lower().split()))
    if not match:
        raise ValueError(
            f"cannot read the reminder {text!r}; write for example '2 days after opening at 09:00' "
            "or '36 hours after opening'"
        )
    n = int(match["n"])
    if match["unit"].startswith("hour"):
        if match["h"] is not None:
            raise ValueError(f"{text!r}: a time of day ('at HH:MM') goes only with days")
        return timedelta(hours=n), None
    at = None
    if match["h"] is not None:
        hour, minute = int(match["h"]), int(match["m"])
        if hour > 23 or minute > 59:
            raise ValueError(f"{text!r}: {hour}:{minute:02d} is not a time of day")
        at = time(hour, minute)
    return timedelta(days=n), at


class PulseSettings(RoutineSettings):
    instrument: str = Field(default="trust", description="key of the instrument in surveys.yaml")
    cadence: str | None = Field(
        default=None,
        description='when runs open, e.g. "first Monday of each month at 08:30"; omit to open runs only by command',
    )
    open_days: int = Field(
        default=5,
        ge=1,
        le=30,
        description="days a run stays open; a close on a closed day moves to the school day before",
    )
    reminders: list[str] = Field(
        default_factory=lambda: ["2 days after opening at 09:00", "3 days after opening at 15:00"],
        max_length=MAX_REMINDERS,
        description="at most two, e.g. '2 days after opening at 09:00' or '36 hours after opening'",
    )
    side_breakdown: bool = Field(default=True, description="keep each answer's side so results can be split by side")

    @field_validator("instrument")
    @classmethod
    def _instrument(cls, value: str, info: ValidationInfo) -> str:
        return known_key("survey", value, info)

    @field_validator("cadence")
    @classmethod
    def _cadence(cls, value: str | None) -> str | None:
        if value is not None:
            parse_rule(value)
        return value

    @field_validator("reminders")
    @classmethod
    def _reminders(cls, value: list[str]) -> list[str]:
        for text in value:
            parse_reminder(text)
        return value


def instruments(config: Config) -> dict[str, Instrument]:
    try:
        return validate_surveys(config.sections.get("surveys", {}))
    except ValidationError:
        log.exception("surveys.yaml does not validate; pulse runs cannot open")  # `partnerbot validate` says where
        return {}


def pulse_settings(config: Config, team: Team) -> PulseSettings:
    """The team's pulse settings, or the defaults (a co-chair may start a run on a team without a cadence)."""
    raw = config.routine_settings(team, "pulse")
    try:
        return PulseSettings.model_validate(raw or {})
    except ValidationError:
        return PulseSettings()


def _local(rt: Runtime, team: Team, instant: datetime) -> str:
    return instant.astimezone(rt.config.team_tz(team)).strftime("%a %b %-d at %-I:%M %p")


# --- the routine ----------------------------------------------------------------------------------------------


OPEN_RUNS = select(PulseRun).where(PulseRun.status == "open")


class PulseFlow(Flow):
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

    def run(self, rt: Runtime, session: Session, due: Due, settings: PulseSettings) -> None:
        team = rt.config.teams[due.team]
        if due.step == "open":
            instrument = instruments(rt.config).get(settings.instrument)
            if instrument is None:
                raise LookupError(f"team {team.key}: no instrument {settings.instrument!r} in surveys.yaml")
            if _open_run_of(session, team.key) is not None:
                log.info("team %s already has an open pulse; the scheduled %s is skipped", team.key, due.subject)
                return
            open_run(rt, session, team, instrument, settings, due.at, settings.open_days, due.subject, "schedule")
        elif due.step == "remind":
            run_id, number = due.subject.removeprefix("run").split(".")
            send_reminders(rt, session, team, int(run_id), int(number))
        elif due.step == "close":
            run = session.get(PulseRun, int(due.subject.removeprefix("run")))
            if run is not None and run.status == "open":
                close_run(rt, session, team, run)


def _open_run_of(session: Session, team: str, instrument: str | None = None) -> PulseRun | None:
    query = select(PulseRun).where(PulseRun.team == team, PulseRun.status == "open")
    if instrument:
        query = query.where(PulseRun.instrument == instrument)
    return session.scalars(query.order_by(PulseRun.opened_at.desc())).first()


def _closing_day(config: Config, team: Team, opened: date, days: int) -> date:
    """`days` after opening, moved back to the last school day (results land on a day people read them), but
    never back onto the opening day: then forward to the next school day instead."""
    target = opened + timedelta(days=days)
    for back in range(days):
        day = target - timedelta(days=back)
        if day.weekday() not in config.calendar.weekend and closure(config, team, day) is None:
            return day
    for ahead in range(1, 31):
        day = target + timedelta(days=ahead)
        if day.weekday() not in config.calendar.weekend and closure(config, team, day) is None:
            return day
    return target


def _reminder_times(rt: Runtime, team: Team, settings: PulseSettings, opened: datetime, closes: datetime) -> list[str]:
    tz = rt.config.team_tz(team)
    times = []
    for text in settings.reminders[:MAX_REMINDERS]:
        offset, at = parse_reminder(text)
        if at is None:
            instant = opened + offset
        else:
            instant = localize(datetime.combine(opened.astimezone(tz).date() + offset, at), tz)
        if opened < instant < closes:
            times.append(instant.isoformat())
    return sorted(set(times))


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
) -> PulseRun:
    """Freeze the instrument into a new run, list who is asked, and invite each of them privately."""
    tz = rt.config.team_tz(team)
    local_open = opened.astimezone(tz)
    closing_day = _closing_day(rt.config, team, local_open.date(), days) if settings.skip_school_closures else None
    closes = localize(datetime.combine(closing_day or local_open.date() + timedelta(days=days), local_open.time()), tz)
    members = sorted(team.members)
    run = PulseRun(
        team=team.key,
        instrument=instrument.key,
        subject=subject,
        snapshot=instrument.snapshot(),
        side_breakdown=settings.side_breakdown and instrument.side_breakdown,
        status="open",
        opened_by=opened_by,
        opened_at=opened,
        closes_at=closes,
        reminders={"at": _reminder_times(rt, team, settings, opened, closes)},
        invited=len(members),
        respondents=0,
        shuffles=0,
        followup="",
        followup_by="",
    )
    session.add(run)
    session.flush()
    session.add_all(PulseParticipation(run_id=run.id, member=m, status="invited", reminders_sent=0) for m in members)
    session.flush()
    until = _local(rt, team, closes)
    text = rt.templates.render(
        "pulse_invitation.md.j2",
        team=team,
        instrument=instrument,
        followup=_latest_followup(session, team.key, run.id),
        minimum=minimum(team.min_group_size),
    )
    message = Message(
        (
            Header(f"{instrument.name}: a short anonymous pulse"),
            Text(text),
            _answer_buttons(run.id),
            Context(f"{len(instrument.items)} questions, about two minutes. Closes {until}."),
        ),
        f"{team.name}: {instrument.name}, closes {until}",
    )
    for member in members:
        direct_message(rt, session, team, member, f"{team.key}/pulse.invite/run{run.id}/{member}", message)
    return run


def _answer_buttons(run_id: int) -> Buttons:
    return Buttons(
        (
            Button("Answer", "pulse.answer", str(run_id), "primary"),
            Button("Not this time", "pulse.decline", str(run_id)),
        )
    )


def _latest_followup(session: Session, team: str, before_run: int) -> PulseRun | None:
    """The previous closed run, when its co-chairs wrote a follow-up: the next invitation quotes it, once."""
    previous = session.scalars(
        select(PulseRun)
        .where(PulseRun.team == team, PulseRun.id != before_run, PulseRun.status == "closed")
        .order_by(PulseRun.closed_at.desc(), PulseRun.id.desc())
    ).first()
    return previous if previous is not None and previous.followup else None


def send_reminders(rt: Runtime, session: Session, team: Team, run_id: int, number: int) -> int:
    """Remind, privately, each member who has neither answered nor declined; never more than twice, never naming
    anyone. Returns how many reminders were queued."""
    run = session.get(PulseRun, run_id)
    if run is None or run.status != "open" or number > MAX_REMINDERS:
        return 0
    instrument = instrument_of(run)
    waiting = session.scalars(
        select(PulseParticipation).where(
            PulseParticipation.run_id == run_id,
            PulseParticipation.status == "invited",
            PulseParticipation.reminders_sent < number,
        )
    ).all()
    text = rt.templates.render(
        "pulse_reminder.md.j2", team=team, instrument=instrument, closes=_local(rt, team, run.closes_at)
    )
    message = Message(
        (Header(f"Reminder: {instrument.name}"), Text(text), _answer_buttons(run.id)),
        f"Reminder: {instrument.name} closes {_local(rt, team, run.closes_at)}",
    )
    for row in waiting:
        row.reminders_sent = number
        direct_message(
            rt, session, team, row.member, f"{team.key}/pulse.remind/run{run.id}.{number}/{row.member}", message
        )
    return len(waiting)


def close_run(rt: Runtime, session: Session, team: Team, run: PulseRun) -> None:
    """Close a run: keep sides only where they may be shown, post the results, and ask the co-chairs to follow up."""
    run = lock_run(session, run.id) or run
    run.status = "closed"
    run.closed_at = rt.clock.now()
    instrument = instrument_of(run)
    # Data minimisation: a side that results may never show is not kept either (rewritten in the same shuffle).
    by_side = side_counts(instrument, count_answers(session, [run.id])[run.id])
    reshuffle_run(session, run.id, [], [], keep_sides=visible_sides(by_side, team.min_group_size))
    session.flush()
    results = team_results(session, team.key, team.min_group_size, run.instrument, order_seed=rt.seed)
    post_to_team(rt, session, team, f"{team.key}/pulse.results/run{run.id}", results_message(rt, team, results))
    prompt = Message(
        (
            Text(rt.templates.render("pulse_followup_prompt.md.j2", team=team, instrument=instrument)),
            Buttons((Button("Write the follow-up", "pulse.followup", str(run.id), "primary"),)),
        ),
        f"{team.name}: close the loop on the {instrument.name} results",
    )
    for chair in team.co_chairs:
        direct_message(rt, session, team, chair, f"{team.key}/pulse.followup-prompt/run{run.id}/{chair}", prompt)
    # Invitations and reminders lose their buttons, so nobody taps into a closed run.
    closed = Message.text(f"The *{instrument.name}* pulse has closed. Results are in the team channel.")
    asked = session.scalars(
        select(OutboxItem.key).where(
            OutboxItem.kind == "post",
            or_(
                OutboxItem.key.like(f"{team.key}/pulse.invite/run{run.id}/%"),
                OutboxItem.key.like(f"{team.key}/pulse.remind/run{run.id}.%"),
            ),
        )
    ).all()
    for key in asked:
        enqueue_update(session, f"{key}|closed", key, closed, now=rt.clock.now())


# --- results as a message: the post, the command and App Home all start here ----------------------------------


def not_enough(rt: Runtime, run: RunResults) -> str:
    return rt.templates.render("pulse_not_enough.md.j2", minimum=run.minimum)


def results_message(rt: Runtime, team: Team, results: TeamResults) -> Message:
    latest = results.latest
    if latest is None:
        return Message.text(f"{team.name} has no closed pulse yet.")
    title = f"{latest.instrument.name}: results"
    if not latest.shown:
        text = not_enough(rt, latest)
        return Message((Header(title), Text(text)), f"{team.name}: {text}")
    labels = [(r.closed_at or r.opened_at).astimezone(rt.config.team_tz(team)).strftime("%b %-d") for r in results.runs]
    series = {
        latest.instrument.construct_name(c): [r.mean_of(c) if r.shown else None for r in results.runs]
        for c in latest.instrument.construct_order()
    }
    scale = latest.instrument.scale
    chart = trend_chart(
        labels, series, title=f"{team.name}: {latest.instrument.name}", y_range=(scale.first, scale.last)
    )
    text = rt.templates.render("pulse_results.md.j2", team=team, run=latest, scale=scale)
    return Message(
        (
            Header(title),
            Text(text),
            Image(chart, alt=f"Trend of {latest.instrument.name} across {len(results.runs)} runs", title="Trend"),
            Context(
                f"Anonymous: no group under {latest.minimum} people is shown, and nobody can see who answered what. "
                "Co-chairs see exactly what you see."
            ),
        ),
        f"{team.name}: {latest.instrument.name} results",
    )


# --- commands -------------------------------------------------------------------------------------------------


@command(
    "pulse start",
    "[INSTRUMENT] [closes in N days]",
    help="open a pulse survey now (default: the team's instrument and open days)",
    who="co-chair",
    example="/partner pulse start trust closes in 5 days",
)
def start_pulse(rt: Runtime, inv: Invocation) -> Reply:
    settings = pulse_settings(rt.config, inv.team)
    known = instruments(rt.config)
    args = list(inv.args)
    key = settings.instrument
    if args and args[0].lower() in known:
        key = args.pop(0).lower()
    elif args and not args[0].isdigit() and args[0].lower() not in ("closes", "close", "in"):
        raise UsageError(f"There is no instrument `{args[0]}`. Known: {', '.join(f'`{k}`' for k in known) or 'none'}.")
    days = settings.open_days
    if args:
        match = _CLOSES_IN.match(" ".join(args).lower())
        if not match or not 1 <= int(match["n"]) <= 30:
            raise UsageError(f"I can't read `{' '.join(args)}`; write for example `closes in 5 days` (1 to 30).")
        days = int(match["n"])
    instrument = known.get(key)
    if instrument is None:
        raise Refused(f"The instrument `{key}` is not in surveys.yaml; ask an admin to add it.")
    with rt.db.session() as session:
        if _open_run_of(session, inv.team.key) is not None:
            raise Refused(f"{inv.team.name} already has a pulse open. Close it first with `/partner pulse close`.")
        subject = f"manual:{instrument.key}@{inv.now:%Y-%m-%dT%H:%M:%SZ}"
        run = open_run(rt, session, inv.team, instrument, settings, inv.now, days, subject, inv.member.key)
        closes = _local(rt, inv.team, run.closes_at)
    return Reply.say(
        f"Opened *{instrument.name}* for {inv.team.name}: each of the {len(inv.team.members)} members gets a private "
        f"invitation. It closes {closes}, or earlier with `/partner pulse close`."
    )


@command("pulse close", "[INSTRUMENT]", help="close the open pulse now and post its results", who="co-chair")
def close_pulse(rt: Runtime, inv: Invocation) -> Reply:
    if len(inv.args) > 1:
        raise UsageError("`/partner pulse close` takes at most an instrument name.")
    with rt.db.session() as session:
        run = _open_run_of(session, inv.team.key, inv.args[0].lower() if inv.args else None)
        if run is None:
            raise Refused(f"{inv.team.name} has no pulse open.")
        close_run(rt, session, inv.team, run)
        name = instrument_of(run).name
    return Reply.say(f"Closed *{name}*. The results are on their way to the team channel.")


@command("pulse results", "[INSTRUMENT]", help="the latest pulse results (the same for everyone)")
def show_results(rt: Runtime, inv: Invocation) -> Reply:
    if len(inv.args) > 1:
        raise UsageError("`/partner pulse results` takes at most an instrument name.")
    with rt.db.session() as session:
        results = team_results(
            session,
            inv.team.key,
            inv.team.min_group_size,
            inv.args[0].lower() if inv.args else None,
            order_seed=rt.seed,
        )
    return Reply(private=results_message(rt, inv.team, results))


@command(
    "pulse followup",
    "TEXT",
    help='post the "you said, we did" follow-up to the latest results',
    who="co-chair",
    example='/partner pulse followup "You asked for agendas a week ahead; from March they go out 7 days before."',
)
def followup_command(rt: Runtime, inv: Invocation) -> Reply:
    text = " ".join(inv.args).strip()
    if len(text) < 10:
        raise UsageError("Write a sentence or two: what the team said, and what you are doing about it.")
    with rt.db.session() as session:
        run = session.scalars(
            select(PulseRun)
            .where(PulseRun.team == inv.team.key, PulseRun.status == "closed")
            .order_by(PulseRun.closed_at.desc(), PulseRun.id.desc())
        ).first()
        if run is None:
            raise Refused(f"{inv.team.name} has no closed pulse to follow up yet.")
        return record_followup(rt, session, inv.team, run, inv.member.key, text)


def record_followup(rt: Runtime, session: Session, team: Team, run: PulseRun, chair: str, text: str) -> Reply:
    first = not run.followup
    run.followup, run.followup_by = text, chair
    if first:
        body = rt.templates.render("pulse_followup.md.j2", instrument=instrument_of(run), text=text)
        message = Message((Header("You said, we did"), Text(body)), f"{team.name}: you said, we did")
        post_to_team(rt, session, team, f"{team.key}/pulse.followup/run{run.id}", message)
        return Reply.say("Posted to the team. The next pulse invitation will quote it.")
    return Reply.say("Updated. It was already posted once; the next pulse invitation will quote the new wording.")


# --- buttons and forms ----------------------------------------------------------------------------------------


def _run_for(session: Session, value: str) -> PulseRun:
    run = session.get(PulseRun, int(value)) if value.isdigit() else None
    if run is None:
        raise Refused("I can't find that pulse any more.")
    return run


def _participation(session: Session, run_id: int, member: str) -> PulseParticipation | None:
    return session.scalars(
        select(PulseParticipation).where(PulseParticipation.run_id == run_id, PulseParticipation.member == member)
    ).first()


@action("pulse.answer")
def open_form(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        run = _run_for(session, inv.action.value)
        mine = _participation(session, run.id, inv.member.key)
        if mine is None:
            raise Refused("This pulse was sent to another team's members; you were not asked this time.")
        if run.status != "open":
            raise Refused("This pulse has closed. Results are in the team channel, or type `/partner pulse results`.")
        if mine.status == "answered":
            raise Refused("You have already answered this pulse. Each person counts once; thank you.")
        instrument = instrument_of(run)
    return Reply(form=answer_form(instrument, run.id))


def answer_form(instrument: Instrument, run_id: int) -> Form:
    options = tuple((str(p), label) for p, label in zip(instrument.scale.points, instrument.scale.labels, strict=True))
    fields = [
        FormField(
            item.id,
            item.text if item.anchors is None else f"{item.text}: {item.anchors[0]}  ←→  {item.anchors[1]}",
            "scale",
            options,
        )
        for item in instrument.items
    ]
    hint = "Shown word for word, in random order, only if enough people answer. Leave out details that point to you."
    fields += [FormField(q.id, q.text, "multiline", required=False, hint=hint) for q in instrument.free_text]
    return Form(
        instrument.name,
        "pulse.submit",
        tuple(fields),
        value=str(run_id),
        submit_label="Send anonymously",
        intro=f"{instrument.purpose} Your answers are stored without your name, mixed with everyone else's.",
    )


@action("pulse.submit")
def submit_answers(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        run = _run_for(session, inv.action.value)
        instrument = instrument_of(run)  # the frozen items: a later YAML edit cannot change what is asked
        errors = {}
        answers: list[tuple[str, int]] = []
        for item in instrument.items:
            raw = (inv.action.form.get(item.id) or "").strip()
            if not raw.lstrip("-").isdigit() or int(raw) not in instrument.scale.points:
                errors[item.id] = f"pick one point from {instrument.scale.first} to {instrument.scale.last}"
            else:
                answers.append((item.id, int(raw)))
        if errors:
            return Reply(errors=errors)
        comments = [
            (q.id, text[:2000]) for q in instrument.free_text if (text := (inv.action.form.get(q.id) or "").strip())
        ]
        team_of_run = rt.config.teams.get(run.team)
        run = lock_run(session, run.id)
        if run is None or run.status != "open":
            raise Refused("This pulse closed before your answers arrived, so they were not recorded.")
        # One answer per person: only the first submission changes the status; a second one finds nothing to change.
        changed = session.execute(
            update(PulseParticipation)
            .where(
                PulseParticipation.run_id == run.id,
                PulseParticipation.member == inv.member.key,
                PulseParticipation.status != "answered",
            )
            .values(status="answered")
        ).rowcount
        if not changed:
            if _participation(session, run.id, inv.member.key) is None:
                raise Refused("You were not asked in this pulse, so I can't record answers from you.")
            raise Refused("You have already answered this pulse. Each person counts once; your first answers stand.")
        run.respondents += 1
        side = _side_to_keep(rt, team_of_run, inv.member.key) if run.side_breakdown else None
        reshuffle_run(session, run.id, [(item, value, side) for item, value in answers], comments)
    done = Message.text("Thank you: your answers are in, stored without your name. Results come when the pulse closes.")
    return Reply(update=done, private=done)


def _side_to_keep(rt: Runtime, team: Team | None, member_key: str) -> str | None:
    """A side is kept with an answer only if the team has enough members of that side for it ever to be shown."""
    member = rt.config.members.get(member_key)
    if team is None or member is None:
        return None
    same_side = sum(1 for m in rt.config.team_members(team) if m.side == member.side)
    return member.side if can_show(same_side, team.min_group_size) else None


@action("pulse.decline")
def decline(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        run = _run_for(session, inv.action.value)
        changed = session.execute(
            update(PulseParticipation)
            .where(
                PulseParticipation.run_id == run.id,
                PulseParticipation.member == inv.member.key,
                PulseParticipation.status == "invited",
            )
            .values(status="declined")
        ).rowcount
    if not changed:
        return Reply.say("Nothing to change: you have already answered or declined this pulse.")
    done = Message.text("Understood: you are skipping this pulse, and no reminders will follow. Thanks for saying so.")
    return Reply(update=done, private=done)


@action("pulse.followup")
def open_followup_form(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        run = _run_for(session, inv.action.value)
        team = rt.config.teams.get(run.team)
        if team is None or not rt.config.is_co_chair(team, inv.member.key):
            raise Refused("Only the team's co-chairs or an admin can write the follow-up.")
        initial = run.followup
    field = FormField(
        "followup",
        "You said... we did (or will do)...",
        "multiline",
        initial=initial,
        hint="Name what the results showed and the concrete step you are taking. No names.",
    )
    return Reply(
        form=Form("You said, we did", "pulse.followup_submit", (field,), value=str(run.id), submit_label="Post")
    )


@action("pulse.followup_submit")
def submit_followup(rt: Runtime, inv: ActionInvocation) -> Reply:
    text = (inv.action.form.get("followup") or "").strip()
    if len(text) < 10:
        return Reply(errors={"followup": "write a sentence or two"})
    with rt.db.session() as session:
        run = _run_for(session, inv.action.value)
        team = rt.config.teams.get(run.team)
        if team is None or not rt.config.is_co_chair(team, inv.member.key):
            raise Refused("Only the team's co-chairs or an admin can write the follow-up.")
        return record_followup(rt, session, team, run, inv.member.key, text)


# --- App Home and export --------------------------------------------------------------------------------------


@home_section
def pulse_home(rt: Runtime, member: Member, now: datetime) -> list[Block]:
    blocks: list[Block] = []
    with rt.db.session() as session:
        for team in rt.config.teams_of(member.key):
            run = _open_run_of(session, team.key)
            if run is not None:
                mine = _participation(session, run.id, member.key)
                status = {"answered": "you have answered", "declined": "you skipped this one"}.get(
                    mine.status if mine else "", "you have not answered yet"
                )
                until = _local(rt, team, run.closes_at)
                blocks.append(Text(f"*{team.name}*: {instrument_of(run).name} is open until {until}; {status}."))
                if mine is not None and mine.status == "invited":
                    blocks.append(_answer_buttons(run.id))
            results = team_results(session, team.key, team.min_group_size, with_comments=False)
            latest = results.latest
            if latest is None:
                continue
            if not latest.shown:
                blocks.append(Text(f"*{team.name}*, latest {latest.instrument.name}: {not_enough(rt, latest)}"))
                continue
            summary = ", ".join(f"{c.name} {c.mean:.1f}{(' ' + c.arrow) if c.arrow else ''}" for c in latest.constructs)
            blocks.append(
                Text(f"*{team.name}*, latest {latest.instrument.name} (of {latest.instrument.scale.last}): {summary}")
            )
    return [Header("Pulse surveys"), *blocks] if blocks else []


@exporter("pulse", options={"instrument": "survey instrument"})
def export_pulse(rt: Runtime, options: dict[str, object]) -> str:
    """`partnerbot export pulse --team T [--instrument I] --format csv`: aggregated rows only."""
    team = rt.config.teams.get(str(options.get("team") or ""))
    if team is None:
        raise ValueError(f"unknown team {options.get('team')!r}; known: {', '.join(sorted(rt.config.teams))}")
    if str(options.get("format") or "csv") != "csv":
        raise ValueError("pulse exports are written as csv (--format csv)")
    wanted = options.get("instrument")
    with rt.db.session() as session:
        keys = (
            [str(wanted)]
            if wanted
            else list(
                dict.fromkeys(
                    session.scalars(
                        select(PulseRun.instrument).where(PulseRun.team == team.key).order_by(PulseRun.instrument)
                    )
                )
            )
        )
        rows = []
        for key in keys:
            rows += export_rows(team_results(session, team.key, team.min_group_size, key, with_comments=False))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


ROUTINE = Routine(
    PulseFlow(),
    "anonymous pulse surveys on trust and psychological safety, with trends",
    declared_in=(sys.modules[__name__],),
    config_sections=(
        ConfigSection(
            "surveys",
            Instrument,
            validate_surveys,
            "survey",
            "survey instruments by key (the pulse routine's `instrument:` names one)",
        ),
    ),
)
