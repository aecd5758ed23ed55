"""What people do with the pulse: /partner pulse subcommands, the answer and follow-up buttons and forms, and the
pulse's App Home section. Scheduled steps are in steps.py; results and the export in results.py.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.addresses import OutboxKey
from bot.approval import approval_of, approve_pending, new_proposal, request_message, still_up, still_waiting, withdrawn
from bot.config import Member, Team
from bot.delivery import direct_message, post_to_team
from bot.flows.api import ActionInvocation, Invocation, Refused, UsageError, action, command, home_section
from bot.flows.pulse.instruments import Instrument, configured_instruments
from bot.flows.pulse.results import names_of, not_enough, results_message, team_results
from bot.flows.pulse.state import (
    PulseParticipation,
    PulseRun,
    instrument_of,
    latest_closed_run,
    lock_run,
    open_run_of,
    participation_of,
    seal_submission,
)
from bot.flows.pulse.steps import FLOW, answer_buttons, close_run, local_time, open_run, run_key
from bot.inbound import LARGEST_NUMBER, Reply, whole_number
from bot.messages import Block, Form, FormField, Header, Markdown, Message, Text, md
from bot.runtime import Runtime

_CLOSES_IN = re.compile(r"^(?:closes?\s+)?(?:in\s+)?(?P<n>[0-9]{1,6})\s+days?$")


@command(
    "pulse start",
    "[INSTRUMENT] [closes in N days]",
    help="open a pulse survey now (default: the team's instrument and open days)",
    who="co-chair",
    example="/partner pulse start trust closes in 5 days",
)
def start_pulse(rt: Runtime, inv: Invocation) -> Reply:
    settings = FLOW.settings_or_defaults(rt.config, inv.team)
    known = configured_instruments(rt.config)
    args = list(inv.args)
    key = settings.instrument
    if args and args[0].lower() in known:
        key = args.pop(0).lower()
    elif args and whole_number(args[0]) is None and args[0].lower() not in ("closes", "close", "in"):
        raise UsageError(
            md(
                "There is no instrument `{}`. Known: {}.",
                args[0],
                Markdown(", ").join(md("`{}`", k) for k in known) or "none",
            )
        )
    days = settings.open_days
    if args:
        match = _CLOSES_IN.match(" ".join(args).lower())
        if not match or not 1 <= int(match["n"]) <= 30:
            raise UsageError(md("I can't read `{}`; write for example `closes in 5 days` (1 to 30).", " ".join(args)))
        days = int(match["n"])
    instrument = known.get(key)
    if instrument is None:
        raise Refused(md("The instrument `{}` is not in surveys.yaml; ask an admin to add it.", key))
    already_open = Refused(
        md("{} already has a pulse open. Close it first with `/partner pulse close`.", inv.team.name)
    )
    try:
        with rt.db.session() as session:
            if open_run_of(session, inv.team.key) is not None:
                raise already_open
            subject = _manual_subject(session, inv.team.key, f"manual:{instrument.key}@{inv.now:%Y-%m-%dT%H:%M:%SZ}")
            run = open_run(rt, session, inv.team, instrument, settings, inv.now, days, subject, inv.member.key)
            closes = local_time(rt, inv.team, run.closes_at)
    except IntegrityError:  # another co-chair opened one in the same instant
        raise already_open from None
    return Reply.say(
        md(
            "Opened *{}* for {}: each of the {} members gets a private invitation. "
            "It closes {}, or earlier with `/partner pulse close`.",
            instrument.name,
            inv.team.name,
            len(inv.team.members),
            closes,
        )
    )


def _manual_subject(session: Session, team: str, wanted: str) -> str:
    """A run's subject is unique per team: a start, close and start within one second numbers the second run."""
    taken = set(
        session.scalars(select(PulseRun.subject).where(PulseRun.team == team, PulseRun.subject.startswith(wanted)))
    )
    return next(s for n in range(1, len(taken) + 2) if (s := wanted if n == 1 else f"{wanted}#{n}") not in taken)


@command("pulse close", "[INSTRUMENT]", help="close the open pulse now and post its results", who="co-chair")
def close_pulse(rt: Runtime, inv: Invocation) -> Reply:
    if len(inv.args) > 1:
        raise UsageError(md("`/partner pulse close` takes at most an instrument name."))
    with rt.db.session() as session:
        run = open_run_of(session, inv.team.key, inv.args[0].lower() if inv.args else None)
        if run is None:
            raise Refused(f"{inv.team.name} has no pulse open.")
        close_run(rt, session, inv.team, run, asked_now=True)
        name = instrument_of(run).name
    return Reply.say(md("Closed *{}*. The results are on their way to the team channel.", name))


@command("pulse results", "[INSTRUMENT]", help="the latest pulse results (the same for everyone)")
def show_results(rt: Runtime, inv: Invocation) -> Reply:
    if len(inv.args) > 1:
        raise UsageError(md("`/partner pulse results` takes at most an instrument name."))
    with rt.db.session() as session:
        results = team_results(
            session,
            inv.team.key,
            inv.team.min_group_size,
            inv.args[0].lower() if inv.args else None,
            party_names=names_of(rt.config),
        )
    return Reply(private=results_message(rt, inv.team, results))


@command(
    "pulse followup",
    "TEXT",
    help='write the "you said, we did" follow-up to the latest results (posted once the co-chairs approve)',
    who="co-chair",
    example='/partner pulse followup "You asked for agendas a week ahead; from March they go out 7 days before."',
)
def followup_command(rt: Runtime, inv: Invocation) -> Reply:
    text = " ".join(inv.args).strip()
    if len(text) < 10:
        raise UsageError("Write a sentence or two: what the team said, and what you are doing about it.")
    with rt.db.session() as session:
        run = latest_closed_run(session, inv.team.key)
        if run is None:
            raise Refused(f"{inv.team.name} has no closed pulse to follow up yet.")
        return record_followup(rt, session, inv.team, run, inv.member.key, text)


def record_followup(rt: Runtime, session: Session, team: Team, run: PulseRun, chair: str, text: str) -> Reply:
    """The follow-up speaks for the co-chairs together: the one who wrote it proposes it, the others approve."""
    run.followup_pending = new_proposal(run.followup_pending, chair, rt.clock.now(), text=text)
    approval = approval_of(team, run.followup_pending["approvals"])
    if approval.complete:
        return Reply.say(_post_followup(rt, session, team, run))
    author = rt.config.members[chair].name if chair in rt.config.members else chair
    body = rt.templates.render("pulse/followup.md.j2", instrument=instrument_of(run), text=text)
    value = f"{run.id}:{run.followup_pending['round']}"
    message = request_message(
        team, f"{author} wrote the follow-up: post it?", body, "pulse.followup_approve", "pulse.followup_hold", value
    )
    key = OutboxKey(team.key, "pulse", "followup-approval", f"run{run.id}#{run.followup_pending['round']}")
    for other in approval.waiting:
        direct_message(rt, session, team, other, key, message)
    return Reply.say(f"Sent to the co-chairs: it is posted once {still_waiting(rt.config, approval)} too.")


def _post_followup(rt: Runtime, session: Session, team: Team, run: PulseRun) -> str:
    pending = run.followup_pending or {}
    first = not run.followup
    run.followup, run.followup_by = str(pending.get("text", "")), str(pending.get("by", ""))
    run.followup_pending = withdrawn(pending)
    if first:
        body = rt.templates.render("pulse/followup.md.j2", instrument=instrument_of(run), text=run.followup)
        message = Message((Header("You said, we did"), Text(body)), f"{team.name}: you said, we did")
        post_to_team(rt, session, team, run_key(team, "followup", run), message)
        return "Posted to the team. The next pulse invitation will quote it."
    return "Updated. It was already posted once; the next pulse invitation will quote the new wording."


def _pending_followup(rt: Runtime, session: Session, inv: ActionInvocation) -> tuple[PulseRun, Team]:
    run_id, _, number = inv.action.value.partition(":")
    run = _run_for(session, run_id)
    team = rt.config.teams.get(run.team)
    if team is None or inv.member.key not in team.co_chairs:
        raise Refused("Only the team's co-chairs approve its follow-up.")
    if not still_up(run.followup_pending, number):
        raise Refused("This follow-up is no longer up for approval: it was posted, held back or rewritten.")
    return run, team


@action("pulse.followup_approve")
def approve_followup(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        run, team = _pending_followup(rt, session, inv)
        run.followup_pending, approval, note = approve_pending(
            rt.config, team, run.followup_pending or {}, inv.member.key, inv.now, "It is posted"
        )
        if not approval.complete:
            return Reply(update=Message.text(note))
        return Reply(update=Message.text(_post_followup(rt, session, team, run)))


@action("pulse.followup_hold")
def hold_followup(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        run, team = _pending_followup(rt, session, inv)
        pending = run.followup_pending or {}
        run.followup_pending = withdrawn(pending)
        note = Message.text(
            md(
                "{} would rather not post the follow-up as written yet. Agree the wording together, then write it "
                "again (`/partner pulse followup TEXT`).",
                inv.member.name,
            )
        )
        key = OutboxKey(team.key, "pulse", "followup-held", f"run{run.id}#{pending.get('round', 0)}")
        direct_message(rt, session, team, str(pending.get("by", "")), key, note)
    return Reply(update=Message.text("Held back: the co-chair who wrote it has been told."))


# --- buttons and forms ----------------------------------------------------------------------------------------


def _run_for(session: Session, value: str) -> PulseRun:
    run_id = whole_number(value)
    run = session.get(PulseRun, run_id) if run_id is not None else None
    if run is None:
        raise Refused("I can't find that pulse any more.")
    return run


@action("pulse.answer")
def open_form(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        run = _run_for(session, inv.action.value)
        mine = participation_of(session, run.id, inv.member.key)
        if mine is None:
            raise Refused("This pulse was sent to another team's members; you were not asked this time.")
        if run.status != "open":
            raise Refused(
                md("This pulse has closed. Results are in the team channel, or type `/partner pulse results`.")
            )
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
        "Pulse survey",
        "pulse.submit",
        tuple(fields),
        value=str(run_id),
        submit_label="Send anonymously",
        intro=md(
            "*{}*. {} Your answers are stored without your name, mixed with everyone else's.",
            instrument.name,
            instrument.purpose,
        ),
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
            point = whole_number(raw, low=-LARGEST_NUMBER)
            if point is None or point not in instrument.scale.points:
                errors[item.id] = f"pick one point from {instrument.scale.first} to {instrument.scale.last}"
            else:
                answers.append((item.id, point))
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
            if participation_of(session, run.id, inv.member.key) is None:
                raise Refused("You were not asked in this pulse, so I can't record answers from you.")
            raise Refused("You have already answered this pulse. Each person counts once; your first answers stand.")
        run.respondents += 1
        group = answer_group(rt, team_of_run, inv.member.key) if run.party_breakdown else None
        seal_submission(session, rt.key, run.id, [(item, value, group) for item, value in answers], comments)
        rt.db.forget_history_after_commit(session)
    done = Message.text("Thank you: your answers are in, stored without your name. Results come when the pulse closes.")
    return Reply(update=done, private=done)


def answer_group(rt: Runtime, team: Team | None, member_key: str) -> str | None:
    """The group an answer is sealed with: the member's party. Whether it is ever stored in the clear is decided at
    closing, from how many answered in each party and what earlier runs showed (steps.close_run)."""
    member = rt.config.members.get(member_key)
    if team is None or member is None:
        return None
    return member.party


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
        form=Form(
            "You said, we did",
            "pulse.followup_submit",
            (field,),
            value=str(run.id),
            submit_label="Send to the co-chairs",
        )
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


# --- App Home ---------------------------------------------------------------------------------------------


@home_section
def pulse_home(rt: Runtime, member: Member, now: datetime) -> list[Block]:
    blocks: list[Block] = []
    with rt.db.session() as session:
        for team in rt.config.teams_of(member.key):
            run = open_run_of(session, team.key)
            if run is not None:
                mine = participation_of(session, run.id, member.key)
                status = {"answered": "you have answered", "declined": "you skipped this one"}.get(
                    mine.status if mine else "", "you have not answered yet"
                )
                until = local_time(rt, team, run.closes_at)
                blocks.append(
                    Text(md("*{}*: {} is open until {}; {}.", team.name, instrument_of(run).name, until, status))
                )
                if mine is not None and mine.status == "invited":
                    blocks.append(answer_buttons(run.id))
            results = team_results(session, team.key, team.min_group_size, with_comments=False)
            latest = results.latest
            if latest is None:
                continue
            if not latest.shown:
                blocks.append(
                    Text(md("*{}*, latest {}: {}", team.name, latest.instrument.name, not_enough(rt, latest)))
                )
                continue
            summary = ", ".join(f"{c.name} {c.mean:.1f}{(' ' + c.arrow) if c.arrow else ''}" for c in latest.constructs)
            blocks.append(
                Text(
                    md(
                        "*{}*, latest {} (of {}): {}",
                        team.name,
                        latest.instrument.name,
                        latest.instrument.scale.last,
                        summary,
                    )
                )
            )
    return [Header("Pulse surveys"), *blocks] if blocks else []
