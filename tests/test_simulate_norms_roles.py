"""`partnerbot simulate` around meetings: line-up, reminders and brief, opening norms and closing check come in that
order around each meeting, and nothing is posted around a meeting that falls in a school break."""

from __future__ import annotations

import re
from datetime import date

from bot.simulate import format_posts, simulate
from tests.support import build_config, member

ORDER = ["roles.announce", "roles.remind", "norms.opening", "norms.closing"]


def test_simulate_orders_the_steps_around_each_meeting_and_skips_breaks() -> None:
    members = {f"l{i}": member(f"Labor{i} Person", "labor") for i in range(1, 4)}
    members |= {f"m{i}": member(f"Manager{i} Person", "management") for i in range(1, 4)}
    config = build_config(
        members,
        {
            "site": {
                "name": "Lincoln Site Team",
                "kind": "site",
                "members": list(members),
                "co_chairs": ["l1", "m1"],
                "meetings": [{"rule": "monthly on the 2nd Tuesday at 15:30", "starts": "2026-08-01"}],
                "routines": {"roles": {}, "norms": {}},
            }
        },
        calendar={"breaks": [{"name": "Fall break", "start": "2026-09-07", "end": "2026-09-11"}]},
    )
    posts = simulate(config, date(2026, 8, 1), 75)  # Aug 11, (Sep 8 in the break), Oct 13
    steps = [re.search(r"(roles|norms)\.\w+", p.routine)[0] for p in posts]  # type: ignore[index]
    assert not any(p.at.date().month == 9 for p in posts)
    for month in (8, 10):
        around = [s for p, s in zip(posts, steps, strict=True) if p.at.month == month]
        firsts = [around.index(step) for step in ORDER]
        assert firsts == sorted(firsts), around
        lasts = [len(around) - 1 - around[::-1].index(step) for step in ORDER]
        assert all(lasts[i] < firsts[i + 1] for i in range(len(ORDER) - 1)), around
    text = format_posts(config, posts)
    assert "facilitator brief" in text and "Final line-up" in text and "closing norm check" in text
