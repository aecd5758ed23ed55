"""`partnerbot simulate`: run the real ticker, flows and outbox on a throwaway database with a fake clock, and
print every message the routines would post over a period, in time order. Nothing is sent anywhere.

The ticker, the routines and the outbox are the running bot's. Only delivery differs: what the outbox holds when the
clock reaches it is written down in one pass (`Recorder.take_due`), without the sender's per-message claims, leases
and pacing, which protect real deliveries and change nothing on paper. The throwaway database skips the disk syncs
a real one needs. A school year of a 400-member district takes seconds (bench/simulate_year.py).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Text, bindparam, func, select, type_coerce

from bot.addresses import Destination, OutboxKey, SentRef
from bot.clock import FakeClock, MovableClock
from bot.config import Config
from bot.flows.api import Catalog
from bot.flows.catalog import CATALOG
from bot.messages import Message, message_from_json
from bot.moments import resolve
from bot.platforms.base import Pacing, Platform
from bot.posting import Placement, closed_because
from bot.render import Templates
from bot.runtime import Runtime
from bot.sender import Sender
from bot.store.db import Database, open_database, upgrade
from bot.store.models import AuditEntry, OutboxItem, TickerState
from bot.ticker import Ticker, TickReport

Progress = Callable[[datetime, int], None]  # (the simulated clock, messages so far)


@dataclass(frozen=True)
class SimulatedPost:
    at: datetime
    destination: Destination
    routine: str
    message: Message  # as delivered: times said as of `at`
    key: str = ""  # the outbox key
    queued: Message | None = field(default=None, compare=False, repr=False)  # as enqueued (bot/moments.py)

    @property
    def team(self) -> str:
        return _parsed(self.routine).team

    @property
    def flow(self) -> str:
        return _parsed(self.routine).routine


@lru_cache(maxsize=4096)
def _parsed(routine: str) -> OutboxKey:
    """A post's routine key, parsed once: a step's messages to many members share it (a pure function of the text)."""
    return OutboxKey.parse(routine)


class Recorder(Platform):
    """A platform that only writes down what it was asked to deliver."""

    name = "local"
    pacing = Pacing(interval=0.0)

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.posts: list[SimulatedPost] = []

    def record(self, destination: Destination, message: Message, key: str, queued: Message | None = None) -> SentRef:
        routine = _routine_of(key)
        self.posts.append(SimulatedPost(self.clock.now(), destination, routine, message, key, queued))
        return SentRef(self.name, destination.channel or destination.member or "", str(len(self.posts)))

    async def deliver(self, destination: Destination, message: Message, key: str) -> SentRef:
        return self.record(destination, message, key)

    async def update(self, ref: SentRef, message: Message) -> None:
        return None

    def take_due(self, db: Database) -> datetime | None:
        """Write down every post due by now and mark everything due sent, in one transaction: the outbox as the
        sender would leave it once it had delivered what may go at this moment. A message queued for many (the same
        stored text) is read and worded once. Returns when the earliest message still held becomes due (as
        `next_held_message`, read in the same transaction)."""
        now = self.clock.now()
        read: dict[str, tuple[Message, Message]] = {}  # stored text -> (as queued, as delivered now)
        said: dict[str, str] = {}  # a text of those messages -> its words now: many share a form, a header
        with db.engine.begin() as connection:  # rows in and out, no objects: no session needed
            due = connection.execute(_DUE, {"now": now}).all()
            for _id, kind, key, platform, channel, member, payload in due:
                if kind == "post":  # updates change what was posted; the simulation lists posts
                    if payload not in read:
                        queued = message_from_json(json.loads(payload))
                        # As the sender does: words such as "today" are said as of the moment of delivery.
                        read[payload] = (queued, resolve(queued, now, said=said))
                    queued, delivered = read[payload]
                    self.record(Destination(platform, channel=channel, member=member), delivered, key, queued)
            if due:  # the rows just read: the same condition in the same transaction, and nobody else writes
                connection.execute(_SENT, {"now": now})
            return connection.execute(_EARLIEST_HELD).scalar()  # type: ignore[no-any-return]


def _routine_of(key: str) -> str:
    """The outbox key without its destination and its last level (the member or channel a message is for): what
    `OutboxKey.parse` and `str` give back, worked out on the text (every level of a stored key is written escaped, so
    the text of a level is the same before and after a round trip). Once per message of a simulated year."""
    parts = key.partition("|")[0].split("/")
    if len(parts) < 2 or "." not in parts[1]:
        raise ValueError(f"not an outbox key: {key!r}")
    return "/".join(parts[: max(2, len(parts) - 1)])


# Built once: each moment runs them.
_DUE = (
    select(
        OutboxItem.id,
        OutboxItem.kind,
        OutboxItem.key,
        OutboxItem.platform,
        OutboxItem.channel,
        OutboxItem.member,
        type_coerce(OutboxItem.payload, Text),  # the stored text: the same text is read once
    )
    .where(OutboxItem.status == "pending", OutboxItem.not_before <= bindparam("now"))
    .order_by(OutboxItem.id)
)
_OUTBOX = OutboxItem.__table__
_SENT = (
    _OUTBOX.update()  # type: ignore[attr-defined]
    .where(_OUTBOX.c.status == "pending", _OUTBOX.c.not_before <= bindparam("now"))  # type: ignore[attr-defined]
    .values(status="sent", sent_at=bindparam("now"), attempts=1)
)


@dataclass(frozen=True)
class Decision:
    """What the posting policy did to a step (moved, merged, skipped), as the audit log keeps it."""

    at: datetime
    team: str
    key: str
    placement: Placement


@dataclass(frozen=True)
class Simulation:
    posts: list[SimulatedPost]
    decisions: list[Decision]


def simulate(
    config: Config, start: date, days: int, catalog: Catalog = CATALOG, progress: Progress | None = None
) -> list[SimulatedPost]:
    return run_simulation(config, start, days, catalog, progress).posts


def run_simulation(
    config: Config,
    start: date,
    days: int,
    catalog: Catalog = CATALOG,
    progress: Progress | None = None,
) -> Simulation:
    """Every post of the period in time order, and every decision of the posting policy in it."""
    tz = ZoneInfo(config.organisation.timezone)
    begin = datetime.combine(start, time(0, 0), tzinfo=tz).astimezone(UTC)
    end = begin + timedelta(days=days)
    clock = FakeClock(begin)
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{Path(folder) / 'simulate.sqlite3'}", durable=False)
        upgrade(db)
        with db.session() as session:
            session.add(TickerState(name="main", reconciled_until=begin))
        rt = Runtime(config, db, clock, Templates(Path(config.folder) / "templates"), catalog, platforms=("local",))
        recorder = Recorder(clock)
        ticker = Ticker(rt, catalog.flows, lookahead=timedelta(days=2))
        while True:
            report = ticker.reconcile()
            held = recorder.take_due(db)
            if progress is not None:
                progress(clock.now(), len(recorder.posts))
            wake = wake_at(report, held, clock.now(), end)
            if wake is None:
                break
            clock.set(wake)
        decisions = _decisions(db, end)
        db.engine.dispose()
    return Simulation(sorted(recorder.posts, key=lambda p: p.at), decisions)


def _decisions(db: Database, end: datetime) -> list[Decision]:
    with db.session() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("posting.%")).order_by(AuditEntry.at, AuditEntry.id)
        ).all()
        found = []
        for row in rows:
            d = row.detail
            at = datetime.fromisoformat(d["at"]) if d.get("at") else None
            placement = Placement(d["step"], datetime.fromisoformat(d["planned"]), at, d["why"], d.get("into", ""))
            if row.at <= end:
                found.append(Decision(row.at, row.team, d["key"], placement))
    return found


def closed_day_posts(config: Config, posts: list[SimulatedPost]) -> list[tuple[SimulatedPost, str]]:
    """The posts that went on a day closed for their team in their reader's zone (the team's, for a channel), with
    why the day is closed. The posting policy allows them only where a team chose so (skip_school_closures off)."""
    found = []
    for post in posts:
        team = config.teams.get(post.team)
        member = config.members.get(post.destination.member or "")
        if member is not None:
            zone = config.member_tz(member)
        else:
            zone = config.team_tz(team) if team else ZoneInfo(config.organisation.timezone)
        why = closed_because(config, team, post.at.astimezone(zone).date())
        if why:
            found.append((post, why))
    return found


def next_wake(report: TickReport, db: Database, now: datetime, until: datetime) -> datetime | None:
    """When a running bot would next have something to do: the next due occurrence, the next held message, or a
    routine tick every two days at the latest; None once `until` is reached."""
    return wake_at(report, next_held_message(db), now, until)


def wake_at(report: TickReport, held: datetime | None, now: datetime, until: datetime) -> datetime | None:
    """`next_wake`, given when the earliest held message becomes due."""
    if now >= until:
        return None
    upcoming = [t for t in (report.next_due, held) if t is not None and t > now]
    return min([*upcoming, now + timedelta(days=2), until])


async def advance(
    ticker: Ticker,
    sender: Sender,
    clock: MovableClock,
    until: datetime,
    *,
    reconcile: Callable[[], Awaitable[TickReport]] | None = None,
) -> None:
    """Move a fake clock to `until` as a running bot lives through it, delivering through the real sender: wake at
    each due occurrence and each held message's send time, tick, and deliver what may go at that moment. The
    routine tests drive the bot with it, and the local workspace's demo time (bot/demo.py), which passes its own
    `reconcile` (off the event loop)."""
    while True:
        report = await reconcile() if reconcile is not None else ticker.reconcile()
        await send_what_is_due(sender)
        wake = next_wake(report, sender.db, clock.now(), until)
        if wake is None:
            return
        clock.set(wake)


async def send_what_is_due(sender: Sender) -> None:
    """Deliver what may go now; messages held for later (working hours, pacing) wait."""
    while await sender.drain_once():
        pass


def next_held_message(db: Database) -> datetime | None:
    """When the earliest message held back (working hours, a later send time) becomes due."""
    return db.read(_EARLIEST_HELD)[0][0]  # type: ignore[no-any-return]


_EARLIEST_HELD = select(func.min(OutboxItem.not_before)).where(OutboxItem.status == "pending")


def keep(
    posts: Iterable[SimulatedPost], teams: Iterable[str] = (), routines: Iterable[str] = ()
) -> list[SimulatedPost]:
    """The posts of these teams and routines (all of them when none are named)."""
    teams, routines = set(teams), set(routines)
    return [p for p in posts if (not teams or p.team in teams) and (not routines or p.flow in routines)]


def format_posts(config: Config, posts: list[SimulatedPost], decisions: list[Decision] | None = None) -> str:
    """Posts, and the posting policy's decisions (moved, merged or skipped steps), in time order; then the count of
    messages and of those on a closed day (0 unless a team set skip_school_closures: false)."""
    entries: list[tuple[datetime, int, int, str]] = []  # decisions before the posts of the same moment
    shown: dict[int, str] = {}  # a message delivered to many (the same object, bot.simulate.Recorder) is shown once
    for n, post in enumerate(posts):
        team = config.teams.get(post.team)
        local = post.at.astimezone(config.team_tz(team) if team else UTC)
        where = post.destination.channel or f"{post.destination.address} (direct message)"
        text = shown.get(id(post.message))
        if text is None:
            text = shown[id(post.message)] = "\n".join("    " + line for line in post.message.plain().splitlines())
        entries.append((post.at, 1, n, f"{local:%a %Y-%m-%d %H:%M %Z}  {where}  [{post.routine}]\n{text}"))
    for n, decision in enumerate(decisions or []):
        team = config.teams.get(decision.team)
        tz = config.team_tz(team) if team else ZoneInfo("UTC")
        local = decision.at.astimezone(tz)
        what = decision.placement.describe(tz)
        entries.append(
            (decision.at, 0, n, f"{local:%a %Y-%m-%d %H:%M %Z}  (posting policy)  [{decision.key}]\n    {what}")
        )
    chunks = [text for *_, text in sorted(entries, key=lambda e: e[:3])]
    if not posts:
        return "\n\n".join([*chunks, "No messages in this period."])
    closed = closed_day_posts(config, posts)
    tail = f"{len(posts)} messages, {len(closed)} on a closed day"
    if decisions:
        tail += f"; the posting policy moved, merged or skipped {len(decisions)} steps"
    return "\n\n".join([*chunks, tail + "."])


def posts_json(config: Config, posts: list[SimulatedPost]) -> str:
    """The posts as a JSON array, for admins' scripts: one object per message, in time order."""
    entries = [
        {
            "at": post.at.isoformat(),
            "local_time": post.at.astimezone(_tz_of(config, post)).isoformat(),
            "team": post.team,
            "routine": post.flow,
            "step": OutboxKey.parse(post.routine).step,
            "key": post.key,
            "platform": post.destination.platform,
            "channel": post.destination.channel,
            "member": post.destination.member,
            "summary": post.message.fallback,
            "text": post.message.plain(),
        }
        for post in posts
    ]
    return "[\n" + ",\n".join(json.dumps(entry, ensure_ascii=False) for entry in entries) + ("\n]" if entries else "]")


def _tz_of(config: Config, post: SimulatedPost) -> ZoneInfo:
    team = config.teams.get(post.team)
    return ZoneInfo(team.timezone or config.organisation.timezone) if team else ZoneInfo("UTC")
