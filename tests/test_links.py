"""Dashboard links: signed for one team, refused once expired, altered or signed with another secret; signed with a
key derived from the server's secret, so a restart accepts the links given out before and a new secret revokes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.keys import ServerKey
from bot.links import DashboardAccess, LinkError, LinkExpired, check_link, dashboard_link, make_token, read_token
from bot.store.db import Database
from tests.support import runtime, ten_member_team

NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def test_a_token_grants_one_team_until_it_expires() -> None:
    access = DashboardAccess("district", "l1", NOW + timedelta(hours=24))
    token = make_token(b"secret", access)
    assert read_token(b"secret", token, NOW) == access
    with pytest.raises(LinkExpired, match="expired on 2026-12-02"):
        read_token(b"secret", token, NOW + timedelta(hours=24))
    with pytest.raises(LinkError, match="changed"):
        read_token(b"another secret", token, NOW)
    payload, _, signature = token.partition(".")
    other_team = make_token(b"secret", DashboardAccess("lincoln", "l1", access.expires)).partition(".")[0]
    with pytest.raises(LinkError):
        read_token(b"secret", f"{other_team}.{signature}", NOW)  # another team's payload under this signature
    for garbage in ("", "nonsense", "a.b", f"{payload}.", f"{payload}.!!"):
        with pytest.raises(LinkError):
            read_token(b"secret", garbage, NOW)


def test_links_outlive_a_restart_and_die_with_the_secret(sqlite_db: Database) -> None:
    config = ten_member_team({})
    first = runtime(config, sqlite_db, NOW)
    link, expires = dashboard_link(first, "district", "l1")
    assert link.startswith("http://localhost:3978/dashboard/") and expires == NOW + timedelta(hours=24)
    token = link.rsplit("/", 1)[1]
    restarted = runtime(config, sqlite_db, NOW + timedelta(hours=1))
    restarted.key = first.key  # the same server secret (bot/keys.py), as every restart and replica has
    assert check_link(restarted, token).team == "district"
    restarted.key = ServerKey.ephemeral()
    with pytest.raises(LinkError):
        check_link(restarted, token)  # changing the secret revokes every link given out
    gone = runtime(ten_member_team({}).model_copy(update={"teams": {}}), sqlite_db, NOW)
    gone.key = first.key
    with pytest.raises(LinkError, match="no longer in the config"):
        check_link(gone, token)
    data = config.model_dump()
    data["teams"]["district"]["co_chairs"] = ["l2", "m1"]
    stepped_down = runtime(type(config).model_validate(data), sqlite_db, NOW)
    stepped_down.key = first.key
    with pytest.raises(LinkError, match="no longer a co-chair of District Team"):
        check_link(stepped_down, token)
