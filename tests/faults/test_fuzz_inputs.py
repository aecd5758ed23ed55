"""Hypothesis fuzzing of what people send: the /partner grammar, buttons and forms, by every kind of person, on a
partnership that has lived through a pulse and a meeting (so ids point at real runs, summaries and deliverables).
Every input must be answered (its result, its usage or a clear refusal) and none may reach the dispatchers' last
resort, which would mean an uncaught exception."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from bot.assembly import load_config
from bot.flows.catalog import CATALOG
from bot.handlers.actions import dispatch_action
from bot.handlers.commands import dispatch_command
from bot.inbound import Action, Command, Reply
from bot.messages import Buttons, ChoiceScale, Form, Message
from bot.store.db import Database
from tests.faults.conftest import seeded, sized
from tests.harness import Workspace, workspace

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # a Monday: the district's pulse opens at 08:30 Pacific
LIVED = datetime(2026, 12, 9, 3, 0, tzinfo=UTC)  # after Tuesday's meeting: norms check, roles, a summary prompt

CONFIG = load_config(ROOT / "config")
MEMBERS = [*sorted(CONFIG.members), None, "ghost"]
TEAMS = [*sorted(CONFIG.teams), None, "ghost"]
WORDS = sorted(" ".join(words) for words in CATALOG.commands)
TRICKY = [
    "0",
    "1",
    "2",
    "3",
    "-1",
    "#2",
    "#",
    "²",
    "١٢",
    "٣",
    "99999999999999999999999",
    "2147483648",
    "1e9",
    "1.5",
    "NaN",
    "∞",
    "2027-02-30",
    "2026-12-08",
    "2027-13-01",
    "0000-01-01",
    "done",
    "at-risk",
    "on-track",
    "need-help",
    "on_track",
    "trust",
    "psychological_safety",
    "closes",
    "in",
    "5",
    "31",
    "days",
    "day",
    "all",
    "none",
    "due",
    "owners",
    "title",
    "--team",
    "--team=district",
    "team:",
    "team:ghost",
    "@maria",
    "<@U01MARIA>",
    "<!channel>",
    "'",
    '"',
    "\\",
    "\x00",
    "\x1b[2J",
    "\u202e",
    "🙂",
    "ｄｏｎｅ",
    "x" * 3000,
    "\n",
    "--",
    "help",
    "?",
]
NUMBERISH = ["0", "1", "2", "3", "-1", "#2", "²", "١٢", "٣", "99999999999999999999999", "2147483648", "1e9", "1.5"]
number = st.one_of(
    st.sampled_from(NUMBERISH),
    st.integers(-(10**25), 10**25).map(str),
    st.from_regex(r"#?[0-9]{1,25}", fullmatch=True),
)
token = st.one_of(
    number,
    st.sampled_from(TRICKY),
    st.sampled_from(sorted(CONFIG.members)),
    st.sampled_from(sorted(CONFIG.teams)),
    st.dates().map(str),
    st.text(max_size=12),
)
declared = st.sampled_from(WORDS)
command_text = st.one_of(
    # Most often a declared command with a number, then anything: ids are where input meets the database.
    st.tuples(declared, number, st.lists(token, max_size=4)).map(lambda t: " ".join([t[0], t[1], *t[2]])),
    st.tuples(declared, st.lists(token, max_size=5)).map(lambda t: " ".join([t[0], *t[1]])),
    st.tuples(declared, st.lists(token, max_size=3)).map(lambda t: " ".join([t[0].upper(), *t[1]])),
    st.lists(token, max_size=6).map(" ".join),
    st.text(max_size=80),
)
CLOCK_STEPS = [0, 0, 0, 0.4, 1, 61, 3600, 86_400]

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")


class LastResort(logging.Handler):
    """Collects what reaches the dispatchers' catch-all (logged at ERROR with the traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(self.format(record))


@pytest.fixture
def last_resort() -> Iterator[LastResort]:
    handler = LastResort()
    logger = logging.getLogger("bot.handlers")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def lived(db: Database) -> Workspace:
    w = workspace(CONFIG, db, START)
    asyncio.run(w.advance(LIVED))
    return w


def answered(reply: object) -> bool:
    return isinstance(reply, Reply) and any(
        part is not None and part != {}
        for part in (reply.private, reply.public, reply.form, reply.update, reply.errors)
    )


FUZZ = seeded(sized(250, 10_000), HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large)


def test_no_command_goes_unanswered_or_crashes(lived: Workspace, last_resort: LastResort, measured) -> None:
    tried = 0

    @FUZZ
    @given(text=command_text, member=st.sampled_from(MEMBERS), team=st.sampled_from(TEAMS))
    def one(text: str, member: str | None, team: str | None) -> None:
        nonlocal tried
        tried += 1
        lived.clock.advance(seconds=CLOCK_STEPS[tried % len(CLOCK_STEPS)])
        before = len(last_resort.seen)
        reply = dispatch_command(lived.rt, Command("local", member or "U0", member, text, None, team))
        assert answered(reply), text
        assert len(last_resort.seen) == before, (text, member, team, last_resort.seen[-1])

    one()
    measured(f"fuzzed commands ({lived.rt.db.engine.dialect.name})", commands=tried, crashes=len(last_resort.seen))


def controls(w: Workspace) -> list[tuple[str, str, tuple[str, ...]]]:
    """Every button, scale and form the partnership was sent: (action id, value, form field names)."""
    found: list[tuple[str, str, tuple[str, ...]]] = []
    messages: list[Message] = [post.message for post in w.local.posts]
    for message in messages:
        for block in message.blocks:
            if isinstance(block, Buttons):
                found += [(b.action_id, b.value, ()) for b in block.buttons]
            elif isinstance(block, ChoiceScale):
                found += [(block.action_id, f"{block.value_prefix}{p}", ()) for p in block.points]
            elif isinstance(block, Form):
                found.append((block.action_id, block.value, tuple(f.name for f in block.fields)))
    return found


def test_no_button_or_form_goes_unanswered_or_crashes(lived: Workspace, last_resort: LastResort, measured) -> None:
    sent = controls(lived)
    assert len(sent) >= 10  # the lived-in partnership has buttons and forms to press
    field_names = sorted({name for _, _, names in sent for name in names} | {"note", "comment", "x"})
    action_ids = sorted({a for a, _, _ in sent} | set(CATALOG.actions) | {"ghost.press", ""})
    value = st.one_of(
        st.sampled_from(sorted({v for _, v, _ in sent})),
        st.sampled_from(sorted({v for _, v, _ in sent})).map(lambda v: v + "0"),
        token,
        st.tuples(token, token).map(":".join),
        st.tuples(st.sampled_from(sorted(CONFIG.teams)), token).map("|".join),
    )
    form = st.dictionaries(st.sampled_from(field_names), st.one_of(token, st.text(max_size=40)), max_size=6)
    pressed = st.one_of(
        st.sampled_from(sent).flatmap(
            lambda c: st.tuples(st.just(c[0]), st.just(c[1]), st.fixed_dictionaries({n: token for n in c[2]}))
        ),
        st.tuples(st.sampled_from(action_ids), value, form),
    )
    tried = 0

    @FUZZ
    @given(press=pressed, member=st.sampled_from(MEMBERS), team=st.sampled_from(TEAMS))
    def one(press: tuple[str, str, dict[str, str]], member: str | None, team: str | None) -> None:
        nonlocal tried
        tried += 1
        lived.clock.advance(seconds=CLOCK_STEPS[tried % len(CLOCK_STEPS)])
        action_id, value, fields = press
        before = len(last_resort.seen)
        reply = dispatch_action(
            lived.rt, Action("local", member or "U0", member, action_id, value, fields, None, None, team)
        )
        assert answered(reply), press
        assert len(last_resort.seen) == before, (press, member, team, last_resort.seen[-1])

    one()
    measured(
        f"fuzzed buttons and forms ({lived.rt.db.engine.dialect.name})", presses=tried, crashes=len(last_resort.seen)
    )
