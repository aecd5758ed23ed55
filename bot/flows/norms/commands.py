"""The norms routine's chat side: the closing check's answers (the `norms.rate` form), /partner norms, its report,
and revisit rounds (proposals by members; a new version once the co-chairs approve it together). Scheduled posts are in
steps.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.addresses import OutboxKey
from bot.approval import (
    approval_of,
    approve_pending,
    approved_by,
    new_proposal,
    request_message,
    still_up,
    still_waiting,
    withdrawn,
)
from bot.config import Team
from bot.delivery import direct_message, post_to_team
from bot.flows.api import ActionInvocation, Invocation, Refused, UsageError, action, command
from bot.flows.norms.library import Norm
from bot.flows.norms.results import close_due_checks, shown_ratings, trends
from bot.flows.norms.state import (
    ClosingParticipation,
    NormProposal,
    NormSetVersion,
    RevisitRound,
    add_version,
    lock_check,
    open_round,
    seal_answers,
)
from bot.flows.norms.steps import FLOW, active_norms
from bot.inbound import Reply, whole_number
from bot.messages import Context, Form, FormField, Header, Markdown, Message, Text, md
from bot.runtime import Runtime

# --- closing check answers ---------------------------------------------------------------------------------------


@action("norms.rate")
def rate(rt: Runtime, inv: ActionInvocation) -> Reply:
    team_key, _, subject = inv.action.value.partition("|")
    team = rt.config.teams.get(team_key)
    if team is None or inv.member.key not in team.members:
        raise Refused("This norm check belongs to a team you are not on.")
    with rt.db.session() as session:
        # The check's lock serialises submissions and closing, so no two rewrites of its sealed box interleave.
        check = lock_check(session, team.key, subject)
        if check is None:
            raise Refused("I can't find that norm check any more.")
        if check.closed or inv.now > check.closes_at:
            raise Refused(
                "This norm check has closed. Thanks all the same: there will be another after the next meeting."
            )
        answered = session.scalar(
            select(ClosingParticipation).where(
                ClosingParticipation.team == team.key,
                ClosingParticipation.meeting == subject,
                ClosingParticipation.member == inv.member.key,
            )
        )
        if answered is not None:
            return Reply.say(
                "You've already rated this meeting, thank you. Only one answer per person counts, so I kept the first."
            )
        norms = check.asked["norms"]
        errors: dict[str, str] = {}
        ratings: list[tuple[str, int]] = []
        for i, name in enumerate(norms, 1):
            raw = (inv.action.form.get(f"n{i}") or "").strip()
            if raw not in {"1", "2", "3", "4", "5"}:
                errors[f"n{i}"] = "choose a number from 1 to 5"
            else:
                ratings.append((name, int(raw)))
        focus_key = (inv.action.form.get("focus") or "").strip()
        focus_names = {f"n{i}": name for i, name in enumerate(norms, 1)}
        if focus_key and focus_key not in focus_names:
            errors["focus"] = "pick one of the norms, or leave it empty"
        if errors:
            return Reply(errors=errors)
        session.add(ClosingParticipation(team=team.key, meeting=subject, member=inv.member.key))
        seal_answers(session, rt.key, check, ratings, focus_names.get(focus_key))
        rt.db.forget_history_after_commit(session)
    return Reply(update=Message.text("Thanks: your ratings are in, anonymously. Results are shared as team averages."))


# --- commands ---------------------------------------------------------------------------------------------------


@command("norms", help="show the team's norms")
def show_norms(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError(md("`/partner norms` takes no arguments (got `{}`).", " ".join(inv.args)))
    with rt.db.session() as session:
        version, norms = active_norms(rt, session, inv.team)
    lines = Markdown("\n").join(md("- *{}*{}", n.name, ": " + n.gist if n.gist else "") for n in norms)
    return Reply(
        private=Message(
            (Header(f"{inv.team.name}: our norms"), Text(lines), Context(f"Version {version}.")),
            f"{inv.team.name} norms",
        )
    )


@command(
    "norms report",
    "[MEETINGS]",
    help="how well we kept each norm lately, with trends",
    example="/partner norms report 6",
)
def norms_report(rt: Runtime, inv: Invocation) -> Reply:
    settings = FLOW.settings_or_defaults(rt.config, inv.team)
    count = settings.report_meetings
    if inv.args:
        wanted = whole_number(inv.args[0], low=2, high=50) if len(inv.args) == 1 else None
        if wanted is None:
            raise UsageError("Give the number of recent meetings to look at, from 2 to 50.")
        count = wanted
    with rt.db.session() as session:
        close_due_checks(rt, session, inv.team, inv.now)
        _, norms = active_norms(rt, session, inv.team)
        shown = shown_ratings(session, inv.team, inv.now, count)
    rows = trends([n.name for n in norms], shown.ratings) if shown.checks else []
    text = rt.templates.render(
        "norms/report.md.j2",
        team=inv.team,
        rows=rows,
        meetings=len(shown.checks),
        hidden=shown.hidden,
        minimum=inv.team.min_group_size,
        focus=shown.focus.most_common(1)[0][0] if shown.focus else "",
    )
    return Reply(private=Message((Header(f"{inv.team.name}: norm check trends"), Text(text)), text))


def proposal_form(norms: Sequence[Norm], round_id: int) -> Form:
    return Form(
        "Propose a norm change",
        "norms.propose",
        (
            FormField(
                "change",
                "What kind of change?",
                "choice",
                (("add", "Add a norm"), ("change", "Change a norm"), ("remove", "Remove a norm")),
            ),
            FormField(
                "norm",
                "Which norm (to change or remove)?",
                "choice",
                tuple((n.name, n.name) for n in norms),
                required=False,
            ),
            FormField("name", "New name (to add or rename)", required=False),
            FormField("gist", "What it means, in a sentence", "multiline", required=False),
            FormField("why", "Why (optional)", "multiline", required=False),
        ),
        str(round_id),
        "Propose",
    )


@command("norms revisit", who="co-chair", help="open a round for proposals to add, change or remove norms")
def norms_revisit(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError(md("`/partner norms revisit` takes no arguments (got `{}`).", " ".join(inv.args)))
    with rt.db.session() as session:
        if open_round(session, inv.team.key) is not None:
            raise Refused(md("A revisit round is already open. Adopt its proposals with `/partner norms adopt`."))
        version, norms = active_norms(rt, session, inv.team)
        round_ = RevisitRound(team=inv.team.key, opened_by=inv.member.key, opened_at=inv.now, status="open")
        session.add(round_)
        session.flush()
        text = rt.templates.render("norms/revisit.md.j2", team=inv.team, norms=norms, opener=inv.member)
        message = Message(
            (Header("Let's revisit our norms"), Text(text), proposal_form(norms, round_.id)),
            f"{inv.team.name} is revisiting its norms: propose a change",
        )
        post_to_team(rt, session, inv.team, OutboxKey(inv.team.key, "norms", "revisit", str(round_.id)), message)
    return Reply.say(f"Revisit round opened in the team channel (norms version {version}).")


@action("norms.propose")
def propose(rt: Runtime, inv: ActionInvocation) -> Reply:
    form = {k: (v or "").strip() for k, v in inv.action.form.items()}
    with rt.db.session() as session:
        round_id = whole_number(inv.action.value)
        round_ = session.get(RevisitRound, round_id) if round_id is not None else None
        if round_ is None or round_.status != "open":
            raise Refused("That revisit round has closed.")
        team = rt.config.teams[round_.team]
        if inv.member.key not in team.members:
            raise Refused(f"Only members of {team.name} can propose changes to its norms.")
        _, norms = active_norms(rt, session, team)
        names = {n.name for n in norms}
        errors = {}
        kind = form.get("change", "")
        if kind not in ("add", "change", "remove"):
            errors["change"] = "choose add, change or remove"
        if kind in ("change", "remove") and form.get("norm") not in names:
            errors["norm"] = "choose the norm to " + kind
        if kind == "add" and not form.get("name"):
            errors["name"] = "give the new norm a name"
        if kind == "change" and not (form.get("name") or form.get("gist")):
            errors["gist"] = "say what should change"
        if errors:
            return Reply(errors=errors)
        proposal = NormProposal(
            round_id=round_.id,
            team=team.key,
            kind=kind,
            norm=form.get("norm", "") if kind != "add" else "",
            name=form.get("name", ""),
            gist=form.get("gist", ""),
            reason=form.get("why", ""),
            proposed_by=inv.member.key,
            proposed_at=inv.now,
            status="open",
        )
        session.add(proposal)
        session.flush()
        number = proposal.id
    return Reply.say(f"Thanks: proposal #{number} is recorded. The co-chairs will bring it to the team.")


def apply_proposals(norms: Sequence[Norm], proposals: Sequence[NormProposal]) -> list[Norm]:
    """The norm set after the proposals, in order; a proposal about a norm no longer there is a usage error."""
    result = list(norms)
    for p in proposals:
        index = next((i for i, n in enumerate(result) if n.name == p.norm), None)
        if p.kind == "add":
            result.append(Norm(p.name, p.gist))
        elif index is None:
            raise UsageError(md("Proposal #{} is about *{}*, which an earlier proposal already changed.", p.id, p.norm))
        elif p.kind == "remove":
            del result[index]
        else:
            old = result[index]
            result[index] = Norm(p.name or old.name, p.gist or old.gist, old.tip if not p.name else "")
    if not result:
        raise UsageError("That would leave the team with no norms at all.")
    return result


def _describe(p: NormProposal) -> Markdown:
    if p.kind == "add":
        return md("add *{}*", p.name) + (f": {p.gist}" if p.gist else "")
    if p.kind == "remove":
        return md("remove *{}*", p.norm)
    return md("change *{}*", p.norm) + (md(" to *{}*", p.name) if p.name else "") + (f": {p.gist}" if p.gist else "")


@command(
    "norms adopt",
    "[NUMBERS|all|none]",
    who="co-chair",
    help="propose to adopt proposals from the revisit round as a new version of the norms (the co-chairs approve)",
    example="/partner norms adopt 3 5",
)
def norms_adopt(rt: Runtime, inv: Invocation) -> Reply:
    with rt.db.session() as session:
        round_ = open_round(session, inv.team.key)
        if round_ is None:
            raise Refused(md("No revisit round is open. Start one with `/partner norms revisit`."))
        proposals = _proposals(session, round_)
        listing = Markdown("\n").join(
            md("- #{}: {} (by {})", p.id, _describe(p), rt.config.members[p.proposed_by].name) for p in proposals
        ) or Markdown("- (no proposals yet)")
        if not inv.args:
            raise UsageError(md("Open proposals:\n{}\nName the numbers to adopt, `all`, or `none` to close.", listing))
        words = [a.lstrip("#").lower() for a in inv.args]
        if words == ["none"]:
            chosen: list[NormProposal] = []
        elif words == ["all"]:
            chosen = proposals
        elif all(whole_number(w) is not None for w in words):
            by_id = {p.id: p for p in proposals}
            missing = [w for w in words if whole_number(w) not in by_id]
            if missing:
                raise UsageError(md("No proposal #{} in this round. Open proposals:\n{}", ", #".join(missing), listing))
            chosen = [by_id[n] for w in words if (n := whole_number(w)) is not None]
        else:
            raise UsageError(md("Name proposal numbers, `all` or `none`. Open proposals:\n{}", listing))
        version, norms = active_norms(rt, session, inv.team)
        if chosen:
            apply_proposals(norms, chosen)  # a usage error now, not after the other co-chairs approved
        # Adopting is the co-chairs' joint decision: this co-chair proposes it, the others approve (bot/approval.py).
        round_.adoption = new_proposal(round_.adoption, inv.member.key, inv.now, chosen=[p.id for p in chosen])
        approval = approval_of(inv.team, round_.adoption["approvals"])
        if approval.complete:
            return Reply.say(_adopt(rt, session, inv.team, round_, inv.now))
        what = Markdown("\n").join(md("- {}", _describe(p)) for p in chosen)
        body = (
            md(
                "{} proposes to adopt, as version {} of the {} norms:\n{}",
                inv.member.name,
                version + 1,
                inv.team.name,
                what,
            )
            if chosen
            else md(
                "{} proposes to close the revisit round of the {} norms with no changes.",
                inv.member.name,
                inv.team.name,
            )
        )
        value = f"{round_.id}:{round_.adoption['round']}"
        message = request_message(
            inv.team, "Adopt new norms?", body, "norms.adoption_approve", "norms.adoption_hold", value
        )
        key = OutboxKey(inv.team.key, "norms", "adoption", f"{round_.id}#{round_.adoption['round']}")
        for chair in approval.waiting:
            direct_message(rt, session, inv.team, chair, key, message)
    return Reply.say(f"Proposed to the co-chairs: it takes effect once {still_waiting(rt.config, approval)} too.")


def _proposals(session: Session, round_: RevisitRound) -> list[NormProposal]:
    return list(
        session.scalars(select(NormProposal).where(NormProposal.round_id == round_.id).order_by(NormProposal.id))
    )


def _pending(rt: Runtime, session: Session, inv: ActionInvocation) -> tuple[RevisitRound, Team]:
    """The adoption an approve or hold button is about, if it is still the one waiting."""
    round_id, _, number = inv.action.value.partition(":")
    lock = rt.db.is_postgres  # two co-chairs approving at the same moment must both be counted
    round_number = whole_number(round_id)
    round_ = session.get(RevisitRound, round_number, with_for_update=lock) if round_number is not None else None
    team = rt.config.teams.get(round_.team) if round_ is not None else None
    if round_ is None or team is None:
        raise Refused("That revisit round no longer exists.")
    if inv.member.key not in team.co_chairs:
        raise Refused(f"Only the co-chairs of {team.name} adopt its norms.")
    if round_.status != "open" or not still_up(round_.adoption, number):
        raise Refused("This proposal is no longer up for approval: the round was closed or a newer one was made.")
    return round_, team


@action("norms.adoption_approve")
def approve_adoption(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        round_, team = _pending(rt, session, inv)
        round_.adoption, approval, note = approve_pending(
            rt.config, team, round_.adoption or {}, inv.member.key, inv.now, "It takes effect"
        )
        if not approval.complete:
            return Reply(update=Message.text(note))
        done = _adopt(rt, session, team, round_, inv.now)
    return Reply(update=Message.text(done))


@action("norms.adoption_hold")
def hold_adoption(rt: Runtime, inv: ActionInvocation) -> Reply:
    with rt.db.session() as session:
        round_, team = _pending(rt, session, inv)
        pending = round_.adoption or {}
        round_.adoption = withdrawn(pending)
        note = Message.text(
            md(
                "{} is not ready to adopt the proposed changes to the {} norms yet. "
                "Talk it through together, then propose again with `/partner norms adopt`.",
                inv.member.name,
                team.name,
            )
        )
        key = OutboxKey(team.key, "norms", "adoption-held", inv.action.value.replace(":", "#"))
        direct_message(rt, session, team, str(pending.get("by", "")), key, note)
    return Reply(update=Message.text("Held back: the co-chair who proposed it has been told. The round stays open."))


def _adopt(rt: Runtime, session: Session, team: Team, round_: RevisitRound, now: datetime) -> str:
    """What the co-chairs approved takes effect: the round closes, a new version is stored and the team is told."""
    pending = round_.adoption or {}
    proposals = _proposals(session, round_)
    chosen = [p for p in proposals if p.id in set(pending.get("chosen", []))]
    version, norms = active_norms(rt, session, team)
    round_.status, round_.closed_at = "closed", now
    for p in proposals:
        p.status = "adopted" if p in chosen else "set_aside"
    if not chosen:
        return "Revisit round closed with no changes: the norms stay as they are."
    new = apply_proposals(norms, chosen)
    add_version(
        session,
        NormSetVersion(
            team=team.key,
            version=version + 1,
            changed_by=str(pending.get("by", "")),
            changed_at=now,
            norms={"norms": [{"name": n.name, "gist": n.gist, "tip": n.tip} for n in new]},
            changes={
                "changes": [
                    {
                        "kind": p.kind,
                        "norm": p.norm,
                        "name": p.name,
                        "gist": p.gist,
                        "proposal": p.id,
                        "proposed_by": p.proposed_by,
                    }
                    for p in chosen
                ],
                "approved_by": sorted(pending.get("approvals", {})),
            },
        ),
    )
    text = rt.templates.render(
        "norms/adopted.md.j2",
        team=team,
        version=version + 1,
        changes=[_describe(p) for p in chosen],
        norms=new,
        approved_by=approved_by(rt.config, approval_of(team, pending.get("approvals", {}))),
    )
    message = Message((Header(f"Our norms, version {version + 1}"), Text(text)), f"{team.name} adopted new norms")
    post_to_team(rt, session, team, OutboxKey(team.key, "norms", "adopted", str(version + 1)), message)
    return f"Adopted {len(chosen)} change(s): the norms are now version {version + 1}, and the team has been told."
