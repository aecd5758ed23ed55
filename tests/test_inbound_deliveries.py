"""The shared record of inbound deliveries on each database: a delivery is acted on once under any of its keys (an
event's id, the request that carried it), what was recorded is found by a read that writes nothing, and the record
forgets a key once no platform could deliver it again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.keys import ServerKey
from bot.store.db import Database
from bot.store.inbound import DEDUPE_WINDOW, first_delivery, forget_delivery, seen_deliveries

NOW = datetime(2026, 12, 8, 23, 21, tzinfo=UTC)


def test_a_delivery_is_first_once_under_any_of_its_keys(db: Database) -> None:
    key = ServerKey.ephemeral()
    assert first_delivery(db, key, ["event:E1", "request:sig-1"], NOW)
    assert not first_delivery(db, key, ["event:E1", "request:sig-2"], NOW)  # Slack's retry: a new request
    assert not first_delivery(db, key, ["event:E2", "request:sig-1"], NOW)  # a replay of the request
    assert first_delivery(db, key, ["event:E3"], NOW)
    assert first_delivery(db, key, ["event:E4", "event:E4"], NOW)  # a key given twice is one key


def test_what_was_recorded_is_read_back_and_forgotten_after_the_window(db: Database) -> None:
    key = ServerKey.ephemeral()
    first_delivery(db, key, ["request:a", "request:b"], NOW)
    assert seen_deliveries(db, key, ["request:a", "request:c"], NOW) == {"request:a"}
    assert seen_deliveries(db, key, ["request:a", "request:b"], NOW + DEDUPE_WINDOW + timedelta(seconds=1)) == set()
    assert seen_deliveries(db, ServerKey.ephemeral(), ["request:a"], NOW) == set()  # stored under another key
    forget_delivery(db, key, "request:a")  # a form sent back with errors may be submitted again
    assert seen_deliveries(db, key, ["request:a", "request:b"], NOW) == {"request:b"}
    assert first_delivery(db, key, ["request:a"], NOW)
