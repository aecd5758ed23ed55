"""Pulse results: answers counted in SQL (one GROUP BY per team), scored per construct on the instrument's own scale,
with every show-or-hide decision asked of bot/anonymity.py; then the results message and the CSV export. The post,
the command, the export and App Home all read these objects, so none of them can show more than another.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.anonymity import can_show, minimum, shown_parties
from bot.config import Config, Team
from bot.flows.api import exporter, health_section
from bot.flows.pulse.charts import trend_chart
from bot.flows.pulse.instruments import Instrument
from bot.flows.pulse.state import PulseAnswer, PulseComment, PulseRun, instrument_of
from bot.health import Part, Section, Table, Trend
from bot.messages import Context, Header, Image, Message, Text
from bot.runtime import Runtime

STEADY = 0.05  # a change smaller than this is shown as "no change"

# One run's answers: (item, group) -> value -> count; the group is a party key, or None when the answer kept no party
RunCounts = dict[tuple[str, str | None], Counter[int]]


@dataclass(frozen=True)
class ConstructResult:
    construct: str
    name: str
    mean: float
    distribution: tuple[int, ...]  # scored answers per scale point, lowest point first
    change: float | None  # against the previous run's mean, when both runs could be shown
    by_party: Mapping[str, float] = field(default_factory=dict)  # party key -> mean, only parties the run showed

    @property
    def arrow(self) -> str:
        if self.change is None:
            return ""
        if abs(self.change) < STEADY:
            return "→"
        return "↑" if self.change > 0 else "↓"


@dataclass(frozen=True)
class RunResults:
    run_id: int
    team: str
    instrument: Instrument
    opened_at: datetime
    closed_at: datetime | None
    minimum: int
    shown: bool  # False: nothing but "not enough responses yet" may be said
    invited: int = 0
    respondents: int = 0
    constructs: tuple[ConstructResult, ...] = ()
    parties: Mapping[str, int] = field(default_factory=dict)  # shown party key -> respondents
    comments: tuple[tuple[str, str], ...] = ()  # (question id, text), in random order
    party_breakdown: bool = False  # the run kept parties (its breakdown may still be suppressed)
    party_names: Mapping[str, str] = field(default_factory=dict)  # party key -> display name, for the shown ones

    def party_name(self, key: str) -> str:
        return self.party_names.get(key, key)

    @property
    def response_rate(self) -> float:
        return self.respondents / self.invited if self.invited else 0.0

    def mean_of(self, construct: str) -> float | None:
        for result in self.constructs:
            if result.construct == construct:
                return result.mean
        return None


@dataclass(frozen=True)
class TeamResults:
    """One team's closed runs of one instrument, oldest first; `latest` is what `/partner pulse results` shows."""

    runs: tuple[RunResults, ...]

    @property
    def latest(self) -> RunResults | None:
        return self.runs[-1] if self.runs else None


def count_answers(session: Session, run_ids: Iterable[int]) -> dict[int, RunCounts]:
    """Answers per (run, item, group, value), counted by the database; run id -> that run's counts."""
    ids = list(run_ids)
    counts: dict[int, RunCounts] = defaultdict(lambda: defaultdict(Counter))
    if not ids:
        return counts
    rows = session.execute(
        select(PulseAnswer.run_id, PulseAnswer.item, PulseAnswer.group, PulseAnswer.value, func.count())
        .where(PulseAnswer.run_id.in_(ids))
        .group_by(PulseAnswer.run_id, PulseAnswer.item, PulseAnswer.group, PulseAnswer.value)
    )
    for run_id, item, group, value, n in rows:
        counts[run_id][(item, group)][value] += n
    return counts


def respondents_by_party(instrument: Instrument, counts: RunCounts) -> dict[str, int]:
    """Respondents per stored party (answers that kept no party are in no party). Every respondent answers every
    item, so the first item counts people."""
    first = instrument.items[0].id
    return {group: sum(values.values()) for (item, group), values in counts.items() if item == first and group}


def names_of(config: Config) -> dict[str, str]:
    """Party key -> display name, for results."""
    return {key: party.name for key, party in config.parties.items()}


def membership(config: Config, team: Team) -> dict[str, int]:
    """Members per party on the team: what the anonymity policy weighs groups by."""
    return {key: len(members) for key, members in config.team_parties(team).items()}


def parties_to_show(
    config: Config,
    team: Team,
    run: PulseRun,
    by_party: Mapping[str, int],
    unkept: int,
    earlier: Iterable[PulseRun],
    earlier_counts: Mapping[int, RunCounts] | None = None,
) -> set[str]:
    """The parties a closing run shows apart (bot/anonymity.py decides) from its respondents per party and those
    without one, judged against the earlier closed runs of the same instrument as they were shown
    (`earlier_counts` serves runs closed before the decision was stored)."""
    if not run.party_breakdown:
        return set()
    before = [shown_by(r, (earlier_counts or {}).get(r.id)) for r in earlier]
    return shown_parties(by_party, unkept, membership(config, team), team.min_group_size, before)


def shown_by(run: PulseRun, counts: RunCounts | None = None) -> set[str]:
    """The parties a closed run showed: decided when it closed. Runs closed before that decision was stored kept
    exactly the groups they showed (closing drops the others), so their stored groups say it."""
    if run.parties_shown is not None:
        return set(run.parties_shown)
    return {group for (_, group) in (counts or {}) if group is not None}


def score(instrument: Instrument, values: Mapping[str, Counter[int]]) -> dict[str, Counter[int]]:
    """Item id -> answer counts  =>  construct -> scored answer counts (reverse-scored items turned round)."""
    items = {item.id: item for item in instrument.items}
    scored: dict[str, Counter[int]] = {c: Counter() for c in instrument.construct_order()}
    for item_id, counter in values.items():
        item = items.get(item_id)
        if item is None:
            continue  # a stored answer to an item the frozen instrument lacks cannot happen; ignore defensively
        target = scored[item.measures]
        for value, n in counter.items():
            target[instrument.scale.reverse(value) if item.reverse else value] += n
    return scored


def _mean(counter: Counter[int]) -> float | None:
    total = sum(counter.values())
    return sum(v * n for v, n in counter.items()) / total if total else None


def run_results(
    run: PulseRun,
    counts: RunCounts,
    team_minimum: int,
    previous: RunResults | None = None,
    comments: tuple[tuple[str, str], ...] = (),
    party_names: Mapping[str, str] | None = None,
) -> RunResults:
    instrument = instrument_of(run)
    base = RunResults(run.id, run.team, instrument, run.opened_at, run.closed_at, minimum(team_minimum), False)
    if not can_show(run.respondents, team_minimum):
        return base
    per_party_items: dict[str, dict[str, Counter[int]]] = defaultdict(lambda: defaultdict(Counter))
    all_items: dict[str, Counter[int]] = defaultdict(Counter)
    for (item, group), values in counts.items():
        all_items[item].update(values)
        if group is not None:
            per_party_items[group][item].update(values)
    by_party = respondents_by_party(instrument, counts)
    # What the run showed when it closed; a party below the minimum is never shown, whatever was stored.
    parties = sorted(p for p in shown_by(run, counts) if can_show(by_party.get(p, 0), team_minimum))
    parties = parties if run.party_breakdown and run.status == "closed" else []
    scored_total = score(instrument, all_items)
    scored_parties = {party: score(instrument, per_party_items[party]) for party in parties}
    constructs = []
    for construct, counter in scored_total.items():
        mean = _mean(counter)
        if mean is None:
            continue
        before = previous.mean_of(construct) if previous is not None and previous.shown else None
        constructs.append(
            ConstructResult(
                construct,
                instrument.construct_name(construct),
                mean,
                tuple(counter.get(point, 0) for point in instrument.scale.points),
                None if before is None else mean - before,
                {p: m for p in parties if (m := _mean(scored_parties[p][construct])) is not None},
            )
        )
    names = party_names or {}
    return RunResults(
        run.id,
        run.team,
        instrument,
        run.opened_at,
        run.closed_at,
        minimum(team_minimum),
        True,
        run.invited,
        run.respondents,
        tuple(constructs),
        {party: by_party[party] for party in parties},
        comments,
        run.party_breakdown,
        {party: names.get(party, party) for party in parties},
    )


def team_results(
    session: Session,
    team: str,
    team_minimum: int,
    instrument: str | None = None,
    *,
    with_comments: bool = True,
    party_names: Mapping[str, str] | None = None,
) -> TeamResults:
    """Every closed run of `team` for `instrument` (default: the instrument of the team's latest closed run)."""
    query = select(PulseRun).where(PulseRun.team == team, PulseRun.status == "closed")
    if instrument is None:
        latest = session.scalars(query.order_by(PulseRun.closed_at.desc(), PulseRun.id.desc()).limit(1)).first()
        if latest is None:
            return TeamResults(())
        instrument = latest.instrument
    runs = session.scalars(
        query.where(PulseRun.instrument == instrument).order_by(PulseRun.closed_at, PulseRun.id)
    ).all()
    counts = count_answers(session, [r.id for r in runs])
    results: list[RunResults] = []
    previous: RunResults | None = None
    for i, run in enumerate(runs):
        wanted = with_comments and i == len(runs) - 1 and can_show(run.respondents, team_minimum)
        comments = shown_comments(session, run.id) if wanted else ()
        previous = run_results(run, counts[run.id], team_minimum, previous, comments, party_names)
        results.append(previous)
    return TeamResults(tuple(results))


def shown_comments(session: Session, run_id: int) -> tuple[tuple[str, str], ...]:
    """A run's free-text answers in random order: the order of their ids, which closing drew from the OS's CSPRNG
    (bot/flows/pulse/state.py), so it says nothing about who answered when and reads the same on every post.
    Callers check the threshold first."""
    rows = session.execute(
        select(PulseComment.question, PulseComment.text).where(PulseComment.run_id == run_id).order_by(PulseComment.id)
    ).all()
    return tuple((q, t) for q, t in rows)


# --- export ---------------------------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "team",
    "instrument",
    "run",
    "opened",
    "closed",
    "construct",
    "group",
    "invited",
    "respondents",
    "response_rate",
    "mean",
    "scale",
    "change",
    "distribution",
    "note",
)


def export_rows(results: TeamResults, tz: tzinfo = UTC) -> list[dict[str, str]]:
    """Aggregated rows only: one per run, construct and group (the team, then each shown party by name). A run below the
    minimum gets one row per construct with every number blank and a note saying why. Dates are the team's (`tz`)."""
    rows: list[dict[str, str]] = []
    for run in results.runs:
        scale = f"{run.instrument.scale.first}-{run.instrument.scale.last}"
        common = {
            "team": run.team,
            "instrument": run.instrument.key,
            "run": str(run.run_id),
            "opened": run.opened_at.astimezone(tz).date().isoformat(),
            "closed": run.closed_at.astimezone(tz).date().isoformat() if run.closed_at else "",
            "scale": scale,
        }
        if not run.shown:
            note = f"suppressed: fewer than {run.minimum} responses"
            for construct in run.instrument.construct_order():
                name = run.instrument.construct_name(construct)
                rows.append(_blank_row(common, name, "team", note))
            continue
        for result in run.constructs:
            rows.append(
                {
                    **common,
                    "construct": result.name,
                    "group": "team",
                    "invited": str(run.invited),
                    "respondents": str(run.respondents),
                    "response_rate": f"{run.response_rate:.2f}",
                    "mean": f"{result.mean:.2f}",
                    "change": "" if result.change is None else f"{result.change:+.2f}",
                    "distribution": " ".join(str(n) for n in result.distribution),
                    "note": "",
                }
            )
            for party, mean in sorted(result.by_party.items()):
                rows.append(
                    {
                        **_blank_row(common, result.name, run.party_name(party), ""),
                        "respondents": str(run.parties[party]),
                        "mean": f"{mean:.2f}",
                    }
                )
        if run.party_breakdown and not run.parties:
            note = "party breakdown suppressed: it would tell apart a group under the minimum"
            rows.append(_blank_row(common, "", "by party", note))
    return rows


def _blank_row(common: Mapping[str, str], construct: str, group: str, note: str) -> dict[str, str]:
    row = dict.fromkeys(EXPORT_COLUMNS, "")
    row.update(common)
    row.update({"construct": construct, "group": group, "note": note})
    return row


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
            names = names_of(rt.config)
            rows += export_rows(
                team_results(session, team.key, team.min_group_size, key, with_comments=False, party_names=names),
                rt.config.team_tz(team),
            )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


# --- results as a message: the post, the command and App Home all start here ----------------------------------


def not_enough(rt: Runtime, run: RunResults) -> str:
    return rt.templates.render("pulse/not_enough.md.j2", minimum=run.minimum)


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
    text = rt.templates.render("pulse/results.md.j2", run=latest, scale=scale)
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


# --- the co-chairs' health page ---------------------------------------------------------------------------------


@health_section
def pulse_health(rt: Runtime, team: Team, now: datetime) -> list[Section]:
    """Trends per facet for each instrument the team has closed runs of, the latest run shown by party, and response
    rates: built from the same RunResults as the chat post, so a run hidden there is a gap here."""
    tz = rt.config.team_tz(team)
    trends: list[Part] = []
    responses: list[tuple[str, ...]] = []
    with rt.db.session() as session:
        keys = dict.fromkeys(
            session.scalars(
                select(PulseRun.instrument)
                .where(PulseRun.team == team.key, PulseRun.status == "closed")
                .order_by(PulseRun.closed_at, PulseRun.id)
            )
        )
        for key in keys:
            runs = team_results(
                session, team.key, team.min_group_size, key, with_comments=False, party_names=names_of(rt.config)
            ).runs
            if not runs:
                continue
            latest = runs[-1]
            instrument, scale = latest.instrument, latest.instrument.scale
            labels = tuple(_day(run, tz) for run in runs)
            series = tuple(
                (instrument.construct_name(c), tuple(r.mean_of(c) if r.shown else None for r in runs))
                for c in instrument.construct_order()
            )
            hidden = sum(1 for r in runs if not r.shown)
            note = (
                f"{hidden} of {len(runs)} runs had fewer than {latest.minimum} responses: they are gaps, not zeros."
                if hidden
                else f"Every run had at least {latest.minimum} responses."
            )
            trends.append(
                Trend(
                    f"{instrument.name} ({scale.first} to {scale.last})", labels, series, scale.first, scale.last, note
                )
            )
            shown = [r for r in runs if r.shown and r.parties]
            if shown:
                run = shown[-1]
                parties = sorted(run.parties)
                trends.append(
                    Table(
                        f"{instrument.name} by party, {_day(run, tz)}",
                        ("facet", "whole team", *(run.party_name(p) for p in parties)),
                        tuple(
                            (
                                c.name,
                                f"{c.mean:.2f}",
                                *(f"{c.by_party[p]:.2f}" if p in c.by_party else "" for p in parties),
                            )
                            for c in run.constructs
                        ),
                        "A party is shown only with enough answers and members, when what stays hidden cannot be "
                        "worked out from the rest, in this run or by comparing it with earlier ones.",
                    )
                )
            for run in runs:
                responses.append(
                    (
                        f"{instrument.name}, {_day(run, tz)}",
                        str(run.invited) if run.shown else "",
                        str(run.respondents) if run.shown else f"fewer than {run.minimum}",
                        f"{run.response_rate:.0%}" if run.shown else "",
                    )
                )
    if not trends:
        return [Section("trust", "Pulse surveys", note=f"{team.name} has no closed pulse yet.")]
    return [
        Section("trust", "Pulse surveys", tuple(trends)),
        Section(
            "participation",
            "Pulse responses",
            (Table("Responses per pulse", ("pulse", "invited", "answered", "response rate"), tuple(responses)),),
        ),
    ]


def _day(run: RunResults, tz: tzinfo) -> str:
    return (run.closed_at or run.opened_at).astimezone(tz).strftime("%Y-%m-%d")
