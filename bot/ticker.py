"""Tick and reconcile: each tick asks every routine of every team what fell due since the last tick, claims each
due occurrence by inserting its unique row, and runs only what it claimed. APScheduler 3 only drives the ticks.

So a restart, a late tick or a second replica never runs an occurrence twice; an occurrence missed while the bot
was down runs once if still inside its grace window and is recorded as missed otherwise. One team's failure is
logged with its context and never stops the others.

Due work runs in batches: what falls due in a tick, at most one occurrence per team in a batch, grouped by routine
step, up to BATCH occurrences in one transaction (BATCH_POSTGRES on PostgreSQL), with their claims inserted in one
statement and their rows and messages inserted in bulk (bot/store/batch.py), so a busy tick (1,000 teams opening a
pulse at once) commits a few times, not thousands, and holds no lock for long.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from bot.config import Team
from bot.delivery import note_posting
from bot.flows.api import Due, Flow
from bot.runtime import Runtime
from bot.store.batch import batched
from bot.store.db import insert_ignoring_duplicates
from bot.store.models import Occurrence, TickerState

log = logging.getLogger(__name__)

MAX_LOOKBACK = timedelta(days=3)  # how far back a restarted bot looks for missed occurrences
FIRST_START_LOOKBACK = timedelta(hours=1)  # a brand-new database does not replay history
ABANDONED_AFTER = timedelta(minutes=10)  # a run still 'running' after this was left by a process that died
UTC_ZONE = ZoneInfo("UTC")
RECHECK = timedelta(hours=6)  # each tick also re-reads this much before the last tick, to finish interrupted work
# Occurrences of one step run in one transaction. SQLite has one write lock for the whole database: 50 keep each
# transaction short enough that a web process's write (a press being recorded) never waits long. PostgreSQL locks
# rows, so nobody else waits on a batch's new rows; what costs there is each statement's round trip and each
# commit's flush to disk, and 250 make a busy tick (1,000 runs) four transactions instead of twenty.
BATCH = 50
BATCH_POSTGRES = 250


def batch_size(rt: Runtime) -> int:
    """How many occurrences of one step this database runs in one transaction."""
    return BATCH_POSTGRES if rt.db.is_postgres else BATCH


@dataclass
class TickReport:
    ran: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # the posting policy skipped them (bot/posting.py)
    failed: list[str] = field(default_factory=list)
    next_due: datetime | None = None


@dataclass(frozen=True)
class _Work:
    """One due occurrence with what running it needs."""

    flow: Flow[Any]
    settings: Any
    due: Due

    @property
    def claim(self) -> tuple[str, datetime]:
        return self.due.routine_key, self.due.at


class _RunFailed(Exception):
    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(str(error))
        self.index, self.error = index, error


# Built once: a tick runs each of these, and building a statement costs more than running it.
_RECONCILED = select(TickerState.reconciled_until).where(TickerState.name == bindparam("name"))
_TICKERS = TickerState.__table__
_ADVANCE = (
    _TICKERS.update()  # type: ignore[attr-defined]
    .where(_TICKERS.c.name == bindparam("ticker"), _TICKERS.c.reconciled_until < bindparam("now"))  # type: ignore[attr-defined]
    .values(reconciled_until=bindparam("now"))
)
_CLAIMS_AFTER = select(Occurrence.routine_key, Occurrence.due_at, Occurrence.status, Occurrence.started_at).where(
    Occurrence.due_at > bindparam("after")
)
_OCCURRENCES = Occurrence.__table__
_DONE = (
    _OCCURRENCES.update()  # type: ignore[attr-defined]
    .where(_OCCURRENCES.c.id.in_(bindparam("ids", expanding=True)))  # type: ignore[attr-defined]
    .values(status="done", finished_at=bindparam("at"))
)


class Ticker:
    def __init__(
        self,
        rt: Runtime,
        flows: Mapping[str, Flow],
        *,
        name: str = "main",
        instance: str | None = None,
        lookahead: timedelta = timedelta(minutes=5),
        batch: int | None = None,
    ) -> None:
        self.rt = rt
        self.flows = flows
        self.name = name
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}"
        self.lookahead = lookahead
        self.batch = max(1, batch_size(rt) if batch is None else batch)  # occurrences of one step a transaction
        self.last_next_due: datetime | None = None  # the earliest occurrence seen ahead at the last tick
        self._routines: tuple[object, dict[str, list[tuple[Flow[Any], Any]]]] = (None, {})  # per config: _routines_of

    def reconcile(self) -> TickReport:
        now = self.rt.clock.now()
        since = self._since(now)
        report = TickReport()
        self.rt.tick_cache.clear()
        self.rt.ticking_thread = threading.get_ident()
        try:
            work = self._due_work(since, now, report)
            self._dispatch(work, since, now, report)
        finally:
            self.rt.ticking_thread = None
            self.rt.tick_cache.clear()  # commands between ticks always read fresh state
        self._advance(now)
        self.last_next_due = report.next_due
        return report

    def _since(self, now: datetime) -> datetime:
        found = self.rt.db.read(_RECONCILED, {"name": self.name})
        last = found[0][0] if found else None
        if last is None:
            return now - FIRST_START_LOOKBACK
        return max(min(last, now), now - MAX_LOOKBACK)

    def _advance(self, now: datetime) -> None:
        """Move the ticker's mark forward to `now` (never back: another replica may have ticked later)."""
        with self.rt.db.session() as session:
            moved = session.execute(_ADVANCE, {"ticker": self.name, "now": now}).rowcount
            if not moved:  # the mark is already there, or this is the ticker's first tick
                row = {"name": self.name, "reconciled_until": now}
                insert_ignoring_duplicates(session, TickerState, [row], unique=("name",))

    def _due_work(self, since: datetime, now: datetime, report: TickReport) -> list[list[_Work]]:
        """What is due now, per team (in each team's own order: flows in catalog order, steps as each flow lists
        them); notes the earliest occurrence ahead."""
        per_team = []
        for team in self.rt.config.teams.values():
            try:
                per_team.append(self._due_for_team(team.key, since, now, report))
            except Exception:  # one team's failure must not stop the others
                log.exception("routines of team %s failed to reconcile", team.key)
                report.failed.append(f"{team.key}/*")
        return per_team

    def _due_for_team(self, team_key: str, since: datetime, now: datetime, report: TickReport) -> list[_Work]:
        rt = self.rt
        team = rt.config.teams[team_key]
        # Look back at least as far as any grace window, so work interrupted mid-tick is found again; claims make
        # looking twice harmless.
        start, end = since - RECHECK, now + self.lookahead
        found = []
        earliest = report.next_due
        for flow, settings in self._routines_of(team):
            for due in flow.due(rt, team, settings, start, end):
                if due.at <= now:
                    found.append(_Work(flow, settings, due))
                elif earliest is None or due.at < earliest:
                    earliest = due.at
        report.next_due = earliest
        return found

    def _routines_of(self, team: Team) -> list[tuple[Flow[Any], Any]]:
        """The routines `team` runs with their settings: asked for every team at every tick, worked out once per
        config object (settings come from the config alone, and a reload replaces it whole)."""
        config = self.rt.config
        if self._routines[0] is not config:
            self._routines = (config, {})
        known = self._routines[1]
        found = known.get(team.key)
        if found is None:
            pairs = ((flow, flow.settings(config, team)) for flow in self.flows.values())
            found = known[team.key] = [(flow, settings) for flow, settings in pairs if settings is not None]
        return found

    def _dispatch(self, per_team: list[list[_Work]], since: datetime, now: datetime, report: TickReport) -> None:
        """Record what is too late as missed, run what is new in batches, take over what a dead process left."""
        claimed = self._already_claimed(since) if any(per_team) else {}
        missed: list[_Work] = []
        skipped: list[_Work] = []
        rounds: list[list[_Work]] = []  # the k-th new occurrence of every team: each team's order is kept
        for team_work in per_team:
            fresh = 0
            for work in team_work:
                claim = claimed.get(work.claim)
                late = work.due.at < now - work.due.grace
                if claim is None and work.due.skipped:
                    skipped.append(work)
                elif claim is None and late:
                    missed.append(work)
                elif claim is None:
                    if fresh == len(rounds):
                        rounds.append([])
                    rounds[fresh].append(work)
                    fresh += 1
                elif not late and self._stale(claim, now) and self._take_over(work.due, claim, now):
                    self._run_claimed(work.flow, work.settings, work.due, report)
        if skipped:
            self._record_skipped(skipped, now, report)
        if missed:
            self._record_missed(missed, now, report)
        for round_ in rounds:
            steps: dict[tuple[str, str], list[_Work]] = {}
            for work in round_:
                steps.setdefault((work.due.flow, work.due.step), []).append(work)
            # A round has at most one occurrence per team; its steps share transactions of up to self.batch occurrences.
            grouped = [work for same_step in steps.values() for work in same_step]
            for first in range(0, len(grouped), self.batch):
                self._run_batch(grouped[first : first + self.batch], now, report)

    def _already_claimed(self, since: datetime) -> dict[tuple[str, datetime], tuple[str, datetime | None]]:
        """Every claim in this tick's window with its status and start, read once per tick: a claim made meanwhile
        by another ticker is still caught by the unique insert."""

        def load() -> dict[tuple[str, datetime], tuple[str, datetime | None]]:
            rows = self.rt.db.read(_CLAIMS_AFTER, {"after": since - RECHECK})
            return {(key, at): (status, started) for key, at, status, started in rows}

        return self.rt.once_per_tick("ticker.claimed", load)

    @staticmethod
    def _stale(claim: tuple[str, datetime | None], now: datetime) -> bool:
        status, started = claim
        return status == "running" and started is not None and started < now - ABANDONED_AFTER

    def _take_over(self, due: Due, claim: tuple[str, datetime | None], now: datetime) -> bool:
        """Re-claim an occurrence whose runner died mid-run. Safe: a run is one transaction (a crash committed
        nothing) and its messages have idempotent keys. Compare-and-set, so one taker wins."""
        with self.rt.db.session() as session:
            taken = session.execute(
                update(Occurrence)
                .where(
                    Occurrence.routine_key == due.routine_key,
                    Occurrence.due_at == due.at,
                    Occurrence.status == "running",
                    Occurrence.started_at == claim[1],
                )
                .values(claimed_by=self.instance, started_at=now)
            ).rowcount
        if taken == 1:
            log.warning("%s was abandoned mid-run by a stopped process; running it again", due.routine_key)
        return taken == 1

    def _claim_rows(
        self, session: Session, works: Sequence[_Work], status: str, now: datetime, error: str = ""
    ) -> dict[int, int]:
        """Insert the claims of `works` in one statement (in key order, so two tickers never wait on each other in
        a circle); returns the index of each claim this ticker won -> its row id."""
        rows = [
            {
                "routine_key": w.due.routine_key,
                "team": w.due.team,
                "flow": w.due.flow,
                "step": w.due.step,
                "subject": w.due.subject,
                "due_at": w.due.at,
                "status": status,
                "claimed_by": self.instance,
                "started_at": now,
                "finished_at": now if status != "running" else None,
                "error": error,
            }
            for w in sorted(works, key=lambda w: w.claim)
        ]
        won = insert_ignoring_duplicates(
            session, Occurrence, rows, unique=("routine_key", "due_at"), returning=("id", "routine_key", "due_at")
        )
        ids = {(key, at): row_id for row_id, key, at in won}
        mine = {i: ids[w.claim] for i, w in enumerate(works) if w.claim in ids}
        for i in mine:
            # What the posting policy did to its steps is written down once, with the claim.
            due = works[i].due
            team = self.rt.config.teams.get(due.team)
            tz = self.rt.config.team_tz(team) if team else UTC_ZONE
            note_posting(session, due.team, due.routine_key, due.posting, tz)
        return mine

    def _record_skipped(self, works: list[_Work], now: datetime, report: TickReport) -> None:
        """The posting policy skipped every step of these occurrences: claim them as skipped, run nothing."""
        with self.rt.db.session() as session:
            won = self._claim_rows(session, works, "skipped", now)
        report.skipped += [works[i].due.routine_key for i in sorted(won)]

    def _record_missed(self, works: list[_Work], now: datetime, report: TickReport) -> None:
        with self.rt.db.session() as session:
            won = self._claim_rows(session, works, "missed", now)
        for i in sorted(won):
            due = works[i].due
            log.warning("missed %s due %s (outside its grace window of %s)", due.routine_key, due.at, due.grace)
            report.missed.append(due.routine_key)

    def _run_batch(self, works: list[_Work], now: datetime, report: TickReport) -> None:
        """Claim and run `works` in one transaction. When one run fails, the batch is rolled back and run again
        without it (before it, then after it), and the failure is recorded on its own: a failed run leaves
        nothing behind but its error, as when each occurrence had a transaction of its own."""
        if not works:
            return
        failed: _RunFailed | None = None
        try:
            ran = self._claim_and_run(works, now)
        except _RunFailed as error:
            failed = error
        except Exception:  # the database, not a routine: nothing was claimed; the next tick tries again
            log.exception("could not claim or record %d occurrences of %s", len(works), works[0].due.routine_key)
            return
        if failed is None:
            report.ran += [works[i].due.routine_key for i in ran]
            return
        # Outside the except clause, so one failure's traceback is not chained onto the next one's in the log.
        self._run_batch(works[: failed.index], now, report)
        self._record_failure(works[failed.index], failed.error, now, report)
        self._run_batch(works[failed.index + 1 :], now, report)

    def _claim_and_run(self, works: list[_Work], now: datetime) -> list[int]:
        with self.rt.db.session() as session, batched(session):
            won = self._claim_rows(session, works, "running", now)
            ran = sorted(won)
            steps: dict[tuple[str, str], list[_Work]] = {}
            for i in ran:
                steps.setdefault((works[i].due.flow, works[i].due.step), []).append(works[i])
            for same_step in steps.values():  # each step's runs look up together what they need (Flow.prepare)
                same_step[0].flow.prepare(self.rt, session, [work.due for work in same_step])
            for i in ran:
                work = works[i]
                try:
                    work.flow.run(self.rt, session, work.due, work.settings)
                except Exception as error:
                    raise _RunFailed(i, error) from error
            if ran:
                # Nobody outside this transaction ever sees these claims 'running': they commit as done.
                session.execute(_DONE, {"ids": list(won.values()), "at": self.rt.clock.now()})
        return ran

    def _record_failure(self, work: _Work, error: Exception, now: datetime, report: TickReport) -> None:
        due = work.due
        log.error("routine %s failed", due.routine_key, exc_info=error)
        try:
            with self.rt.db.session() as session:
                won = self._claim_rows(session, [work], "failed", now, f"{type(error).__name__}: {error}")
        except Exception:
            log.exception("could not record the failure of %s", due.routine_key)
            return
        if won:
            report.failed.append(due.routine_key)

    def _run_claimed(self, flow: Flow[Any], settings: object, due: Due, report: TickReport) -> None:
        error = ""
        try:
            with self.rt.db.session() as session:
                flow.run(self.rt, session, due, settings)
        except Exception as exc:
            log.exception("routine %s failed", due.routine_key)
            error = f"{type(exc).__name__}: {exc}"
        with self.rt.db.session() as session:
            row = session.scalar(
                select(Occurrence).where(Occurrence.routine_key == due.routine_key, Occurrence.due_at == due.at)
            )
            if row is not None:
                row.status = "failed" if error else "done"
                row.error = error
                row.finished_at = self.rt.clock.now()
        (report.failed if error else report.ran).append(due.routine_key)
