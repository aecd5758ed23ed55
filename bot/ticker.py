"""Tick and reconcile: each tick asks every routine of every team what fell due since the last tick, claims each
due occurrence by inserting its unique row, and runs only what it claimed. APScheduler 3 only drives the ticks.

So a restart, a late tick or a second replica never runs an occurrence twice; an occurrence missed while the bot
was down runs once if still inside its grace window and is recorded as missed otherwise. One team's failure is
logged with its context and never stops the others.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.delivery import note_posting
from bot.flows.api import Due, Flow
from bot.runtime import Runtime
from bot.store.models import Occurrence, TickerState

log = logging.getLogger(__name__)

MAX_LOOKBACK = timedelta(days=3)  # how far back a restarted bot looks for missed occurrences
FIRST_START_LOOKBACK = timedelta(hours=1)  # a brand-new database does not replay history
ABANDONED_AFTER = timedelta(minutes=10)  # a run still 'running' after this was left by a process that died
UTC_ZONE = ZoneInfo("UTC")
RECHECK = timedelta(hours=6)  # each tick also re-reads this much before the last tick, to finish interrupted work


@dataclass
class TickReport:
    ran: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # the posting policy skipped them (bot/posting.py)
    failed: list[str] = field(default_factory=list)
    next_due: datetime | None = None


class Ticker:
    def __init__(
        self,
        rt: Runtime,
        flows: Mapping[str, Flow],
        *,
        name: str = "main",
        instance: str | None = None,
        lookahead: timedelta = timedelta(minutes=5),
    ) -> None:
        self.rt = rt
        self.flows = flows
        self.name = name
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}"
        self.lookahead = lookahead
        self.last_next_due: datetime | None = None  # the earliest occurrence seen ahead at the last tick

    def reconcile(self) -> TickReport:
        now = self.rt.clock.now()
        since = self._since(now)
        report = TickReport()
        self.rt.tick_cache.clear()
        try:
            for team in self.rt.config.teams.values():
                try:
                    self._reconcile_team(team.key, since, now, report)
                except Exception:  # one team's failure must not stop the others
                    log.exception("routines of team %s failed to reconcile", team.key)
                    report.failed.append(f"{team.key}/*")
        finally:
            self.rt.tick_cache.clear()  # commands between ticks always read fresh state
        self._advance(now)
        self.last_next_due = report.next_due
        return report

    def _since(self, now: datetime) -> datetime:
        with self.rt.db.session() as session:
            state = session.get(TickerState, self.name)
            last = state.reconciled_until if state else None
        if last is None:
            return now - FIRST_START_LOOKBACK
        return max(min(last, now), now - MAX_LOOKBACK)

    def _advance(self, now: datetime) -> None:
        with self.rt.db.session() as session:
            state = session.get(TickerState, self.name, with_for_update=self.rt.db.is_postgres)
            if state is None:
                try:
                    with session.begin_nested():
                        session.add(TickerState(name=self.name, reconciled_until=now))
                except IntegrityError:
                    pass
            elif state.reconciled_until < now:
                state.reconciled_until = now

    def _reconcile_team(self, team_key: str, since: datetime, now: datetime, report: TickReport) -> None:
        team = self.rt.config.teams[team_key]
        for flow in self.flows.values():
            settings = flow.settings(self.rt.config, team)
            if settings is None:
                continue
            # Look back at least as far as any grace window, so work interrupted mid-tick is found again;
            # claims make looking twice harmless.
            dues = list(flow.due(self.rt, team, settings, since - RECHECK, now + self.lookahead))
            upcoming = [d.at for d in dues if d.at > now]
            if upcoming:
                earliest = min(upcoming)
                report.next_due = earliest if report.next_due is None else min(report.next_due, earliest)
            current = [d for d in dues if d.at <= now]
            if not current:
                continue
            claimed = self._already_claimed(since)
            for due in current:
                claim = claimed.get((due.routine_key, due.at))
                late = due.at < now - due.grace
                if claim is None:
                    if due.skipped:
                        self._record_skipped(due, now, report)
                    elif late:
                        self._record_missed(due, now, report)
                    else:
                        self._claim_and_run(flow, settings, due, now, report)
                elif not late and self._stale(claim, now) and self._take_over(due, claim, now):
                    self._run_claimed(flow, settings, due, report)

    def _already_claimed(self, since: datetime) -> dict[tuple[str, datetime], tuple[str, datetime | None]]:
        """Every claim in this tick's window with its status and start, read once per tick: a claim made meanwhile
        by another ticker is still caught by the unique insert."""

        def load() -> dict[tuple[str, datetime], tuple[str, datetime | None]]:
            with self.rt.db.session() as session:
                rows = session.execute(
                    select(Occurrence.routine_key, Occurrence.due_at, Occurrence.status, Occurrence.started_at).where(
                        Occurrence.due_at > since - RECHECK
                    )
                ).all()
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

    def _insert_claim(self, due: Due, status: str, now: datetime) -> bool:
        try:
            with self.rt.db.session() as session:
                team = self.rt.config.teams.get(due.team)
                tz = self.rt.config.team_tz(team) if team else UTC_ZONE
                # What the posting policy did to its steps is written down once, with the claim.
                note_posting(session, due.team, due.routine_key, due.posting, tz)
                session.add(
                    Occurrence(
                        routine_key=due.routine_key,
                        team=due.team,
                        flow=due.flow,
                        step=due.step,
                        subject=due.subject,
                        due_at=due.at,
                        status=status,
                        claimed_by=self.instance,
                        started_at=now,
                        finished_at=now if status in ("missed", "skipped") else None,
                        error="",
                    )
                )
        except IntegrityError:
            return False  # another ticker (or an earlier run of this one) claimed it
        return True

    def _record_skipped(self, due: Due, now: datetime, report: TickReport) -> None:
        """The posting policy skipped every step of this occurrence: claim it as skipped, run nothing."""
        if self._insert_claim(due, "skipped", now):
            report.skipped.append(due.routine_key)

    def _record_missed(self, due: Due, now: datetime, report: TickReport) -> None:
        if self._insert_claim(due, "missed", now):
            log.warning("missed %s due %s (outside its grace window of %s)", due.routine_key, due.at, due.grace)
            report.missed.append(due.routine_key)

    def _claim_and_run(self, flow: Flow, settings: object, due: Due, now: datetime, report: TickReport) -> None:
        if self._insert_claim(due, "running", now):
            self._run_claimed(flow, settings, due, report)

    def _run_claimed(self, flow: Flow, settings: object, due: Due, report: TickReport) -> None:
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
