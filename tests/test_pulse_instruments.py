"""The shipped instruments, instrument validation for the config loader, reverse scoring, pulse settings and the
trend chart."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from pydantic import ValidationError

from bot.flows.pulse.charts import trend_chart
from bot.flows.pulse.instruments import validate_surveys
from bot.flows.pulse.results import score
from bot.flows.pulse.settings import PulseSettings, parse_reminder
from tests.test_pulse import shipped_surveys


def test_the_three_shipped_instruments_are_ours_and_complete() -> None:
    instruments = validate_surveys(shipped_surveys())
    assert set(instruments) == {"trust", "psychological_safety", "team_effectiveness"}
    for instrument in instruments.values():
        assert all(item.source == "partnerbot" for item in instrument.items)
        assert instrument.purpose and instrument.who_sees

    trust = instruments["trust"]
    assert trust.construct_order() == ["benevolence", "reliability", "competence", "honesty", "openness"]
    assert all(1 <= sum(i.measures == c for i in trust.items) <= 2 for c in trust.construct_order())
    assert all(re.search(r"\b(we|us)\b", item.text, re.IGNORECASE) for item in trust.items), "about us, not them"
    assert trust.scale.points == (1, 2, 3, 4, 5)

    safety = instruments["psychological_safety"]
    assert len(safety.items) == 7 and safety.scale.points == tuple(range(1, 8))
    assert [item.reverse for item in safety.items] == [True, False, True, False, True, False, False]

    effectiveness = instruments["team_effectiveness"]
    assert effectiveness.scale.kind == "bipolar" and effectiveness.scale.points == tuple(range(1, 8))
    assert [effectiveness.construct_name(c) for c in effectiveness.construct_order()] == [
        "Goals",
        "Use of resources",
        "Trust and conflict",
        "Leadership",
        "Control and procedures",
        "Communication",
        "Problem solving",
        "Experimentation",
        "Evaluation",
    ]
    assert all(item.anchors for item in effectiveness.items)


def test_a_two_on_a_reversed_seven_point_item_counts_as_six() -> None:
    safety = validate_surveys(shipped_surveys())["psychological_safety"]
    assert safety.scale.reverse(2) == 6 and safety.scale.reverse(7) == 1 and safety.scale.reverse(4) == 4
    scored = score(safety, {"ps_1": Counter({2: 1}), "ps_2": Counter({2: 1})})
    assert scored["psychological_safety"] == Counter({6: 1, 2: 1})


def test_a_broken_instrument_is_reported_with_its_location() -> None:
    raw = shipped_surveys()
    raw["trust"]["items"][2]["text"] = ""
    raw["team_effectiveness"]["items"][0].pop("anchors")
    with pytest.raises(ValidationError) as caught:
        validate_surveys(raw)
    errors = {error["loc"]: error["msg"] for error in caught.value.errors()}
    assert "at least 3 characters" in errors[("trust", "items", 2, "text")]
    assert "needs `anchors: [low end, high end]` on items goals" in errors[("team_effectiveness",)]

    raw = shipped_surveys()
    raw["trust"]["items"][3]["id"] = raw["trust"]["items"][0]["id"]
    with pytest.raises(ValidationError, match="'benevolence_1' is used twice"):
        validate_surveys(raw)


def test_pulse_settings_read_reminders_and_refuse_a_third() -> None:
    assert parse_reminder("2 days after opening at 09:00")[0].days == 2
    assert parse_reminder("36 hours after opening")[0].total_seconds() == 36 * 3600
    with pytest.raises(ValidationError, match="at most 2"):
        PulseSettings.model_validate({"reminders": ["1 day after opening"] * 3})
    with pytest.raises(ValidationError, match="cannot read the reminder"):
        PulseSettings.model_validate({"reminders": ["next week"]})
    with pytest.raises(ValidationError, match="cannot read the schedule"):
        PulseSettings.model_validate({"cadence": "now and then"})


def test_the_trend_chart_is_a_png_and_the_same_input_gives_the_same_bytes() -> None:
    args = (["Oct 5", "Nov 2", "Dec 7"], {"Benevolence": [3.2, None, 3.9], "Openness": [2.5, 2.8, 3.1]})
    first = trend_chart(*args, title="District Team: Trust", y_range=(1, 5))
    again = trend_chart(*args, title="District Team: Trust", y_range=(1, 5))
    other = trend_chart(args[0], {"Benevolence": [3.2, 3.0, 3.9]}, title="District Team: Trust", y_range=(1, 5))
    assert first.startswith(b"\x89PNG\r\n\x1a\n") and first == again and first != other
