"""The config loader as an admin meets it: the example folder loads, and every mistake is reported at once with
file:line:col, key path and a fix. Scheduling itself is tested with bot/schedule.py, not here.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from bot.assembly import config_schema_json, extensions, load_config
from bot.config import ConfigError, DateRange, Problem, config_schema, summary
from bot.platforms.registry import PLATFORM_NAMES
from bot.schedule import parse_rule

REPO = Path(__file__).resolve().parent.parent

# A small valid config; each test breaks one file of it.
MINIMAL = {
    "organisation.yaml": """\
organisation:
  name: Test District
  timezone: America/Los_Angeles
""",
    "members.yaml": """\
members:
  maria:
    name: Maria Hernandez
    side: labor
  david:
    name: David Okafor
    side: management
  james:
    name: James Wilson
    side: labor
""",
    "teams.yaml": """\
teams:
  district:
    name: District Team
    kind: district
    members: [maria, david, james]
    co_chairs: [maria, david]
    meetings:
      - rule: monthly on the 2nd Tuesday at 15:30
    routines:
      norms: {}
""",
}


def write_config(folder: Path, changes: dict[str, str] | None = None) -> Path:
    for name, text in {**MINIMAL, **(changes or {})}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def problems_in(folder: Path, env: dict[str, str] | None = None) -> list[Problem]:
    with pytest.raises(ConfigError) as raised:
        load_config(folder, env=env or {})
    assert str(raised.value) == "\n".join(str(p) for p in raised.value.problems)
    return raised.value.problems


def at(problems: list[Problem], path: str) -> Problem:
    found = [p for p in problems if p.path == path]
    assert len(found) == 1, f"expected one problem at {path}, got: {[str(p) for p in problems]}"
    return found[0]


def where(problem: Problem) -> tuple[str, int | None, int | None]:
    return Path(problem.file).name, problem.line, problem.column


# --- the example config -------------------------------------------------------------------------------------


def test_example_config_loads() -> None:
    config = load_config(REPO / "config", env={})
    assert set(config.teams) == {
        "district",
        "lincoln-elementary",
        "roosevelt-middle",
        "special-education",
        "professional-learning",
    }
    assert 18 <= len(config.members) <= 24
    assert summary(config).startswith("OK: 5 teams, 21 members, 5 meeting series, ")
    assert summary(config).endswith(" routines (Riverside Unified School District)")
    district = config.teams["district"]
    assert [config.party_of(k).key for k in district.co_chairs] == ["rta", "rcea", "management"]
    assert config.teams["lincoln-elementary"].parent == "district"
    assert district.meetings[0].key == "meeting"
    # The .ics file adds its two days to the YAML holidays.
    assert config.calendar.closure(date(2026, 10, 9)).name.startswith("Staff Development Day")
    assert not config.calendar.is_school_day(date(2027, 3, 31))


def test_example_files_point_editors_at_the_schema() -> None:
    for path in sorted((REPO / "config").glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../docs/config.schema.json", path.name


# --- every problem at once, with its place ------------------------------------------------------------------


def test_bad_values_in_several_files_are_all_reported_with_their_place(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        {
            "organisation.yaml": MINIMAL["organisation.yaml"].replace("America/Los_Angeles", "America/Los_Angles"),
            "members.yaml": MINIMAL["members.yaml"].replace("side: labor", "side: union", 1),
            "teams.yaml": MINIMAL["teams.yaml"].replace("monthly on the 2nd Tuesday at 15:30", "FREQ=MONTHLY;BYDAY=XX"),
        },
    )
    problems = problems_in(tmp_path)

    side = at(problems, "members.maria.side")
    assert where(side) == ("members.yaml", 4, 11)
    assert side.message == "found 'union'; expected one of labor, management, board, other"

    zone = at(problems, "organisation.timezone")
    assert where(zone) == ("organisation.yaml", 3, 13)
    assert zone.message == "unknown time zone 'America/Los_Angles'; use an IANA name such as 'America/Los_Angeles'"

    rule = at(problems, "teams.district.meetings[0].rule")
    assert where(rule) == ("teams.yaml", 8, 15)
    with pytest.raises(ValueError) as parse_error:
        parse_rule("FREQ=MONTHLY;BYDAY=XX")
    assert rule.message == str(parse_error.value)

    assert f"{side.file}:4:11: members.maria.side: found 'union'" in str(ConfigError(problems))


def test_a_broken_field_does_not_hide_problems_across_objects(tmp_path: Path) -> None:
    teams = MINIMAL["teams.yaml"].replace("15:30", "25:30").replace("[maria, david, james]", "[maria, james]")
    write_config(tmp_path, {"teams.yaml": teams})
    problems = problems_in(tmp_path)
    assert "is not a time of day" in at(problems, "teams.district.meetings[0].rule").found
    assert "not a member of this team" in at(problems, "teams.district.co_chairs[1]").found


def test_unknown_key_suggests_the_closest_one(tmp_path: Path) -> None:
    write_config(tmp_path, {"teams.yaml": MINIMAL["teams.yaml"].replace("co_chairs:", "co_chair:")})
    problem = at(problems_in(tmp_path), "teams.district.co_chair")
    assert problem.message == "unknown key 'co_chair'; did you mean 'co_chairs'?"
    assert where(problem) == ("teams.yaml", 6, 5)


def test_missing_and_unknown_top_level_keys(tmp_path: Path) -> None:
    write_config(tmp_path, {"teams.yaml": MINIMAL["teams.yaml"].replace("teams:", "team:")})
    problems = problems_in(tmp_path)
    assert at(problems, "team").message == "unknown top-level key 'team'; did you mean 'teams'?"
    assert "missing top-level key 'teams'" in at(problems, "teams").message


def test_a_top_level_key_in_two_files_names_both(tmp_path: Path) -> None:
    write_config(tmp_path, {"more-members.yaml": "members:\n  ana: {name: Ana Costa, side: labor}\n"})
    [problem] = problems_in(tmp_path)
    assert "members.yaml" in problem.message and "more-members.yaml" in problem.message
    assert where(problem) == ("more-members.yaml", 1, 1)


# --- rules across objects ------------------------------------------------------------------------------------


def test_co_chair_who_is_not_on_the_team(tmp_path: Path) -> None:
    write_config(tmp_path, {"teams.yaml": MINIMAL["teams.yaml"].replace("[maria, david, james]", "[maria, james]")})
    problem = at(problems_in(tmp_path), "teams.district.co_chairs[1]")
    assert problem.message == "co-chair 'david' is not a member of this team; add 'david' to its members"
    assert where(problem) == ("teams.yaml", 6, 24)


def test_co_chairs_from_one_side_say_which_side_is_missing(tmp_path: Path) -> None:
    write_config(tmp_path, {"teams.yaml": MINIMAL["teams.yaml"].replace("[maria, david]", "[maria, james]")})
    problem = at(problems_in(tmp_path), "teams.district.co_chairs")
    assert "maria (labor) and james (labor)" in problem.found
    assert problem.expected.startswith("one labor and one management co-chair")
    assert problem.expected.endswith(
        "maria and james are both from labor: keep one; add one from management (on the team: david)"
    )


def test_unknown_team_member_and_unknown_parent(tmp_path: Path) -> None:
    teams = MINIMAL["teams.yaml"].replace("[maria, david, james]", "[maria, david, jmes]")
    write_config(tmp_path, {"teams.yaml": teams.replace("kind: district", "kind: district\n    parent: distrct")})
    problems = problems_in(tmp_path)
    assert at(problems, "teams.district.members[2]").message == "unknown member 'jmes'; did you mean 'james'?"
    assert at(problems, "teams.district.parent").found == "unknown team 'distrct'"


def test_parents_must_not_loop(tmp_path: Path) -> None:
    site = """\
  site:
    name: Site Team
    kind: site
    parent: district
    members: [maria, david]
    co_chairs: [maria, david]
"""
    teams = MINIMAL["teams.yaml"].replace("kind: district", "kind: district\n    parent: site") + site
    write_config(tmp_path, {"teams.yaml": teams})
    [problem] = problems_in(tmp_path)
    assert problem.found == "the parent chain loops: district -> site -> district"


def test_unknown_routine_suggests_a_known_one(tmp_path: Path) -> None:
    write_config(tmp_path, {"teams.yaml": MINIMAL["teams.yaml"].replace("norms: {}", "norm: {}")})
    problem = at(problems_in(tmp_path), "teams.district.routines.norm")
    # The list of known routines grows with each routine; what matters is the suggestion.
    assert problem.message.startswith("unknown routine 'norm'; known: ") and "norms" in problem.message
    assert problem.message.endswith("did you mean 'norms'?")
    assert where(problem) == ("teams.yaml", 10, 7)


def test_routine_settings_are_checked_at_the_nested_key(tmp_path: Path) -> None:
    write_config(tmp_path, {"teams.yaml": MINIMAL["teams.yaml"].replace("norms: {}", "norms: {set: sevn-norms}")})
    problem = at(problems_in(tmp_path), "teams.district.routines.norms.set")
    assert problem.message.startswith("found 'sevn-norms'; expected one of seven-norms, six-categories")
    assert where(problem) == ("teams.yaml", 10, 20)


def test_organisation_admins_must_be_members(tmp_path: Path) -> None:
    write_config(tmp_path, {"organisation.yaml": MINIMAL["organisation.yaml"] + "  admins: [roberto]\n"})
    assert at(problems_in(tmp_path), "organisation.admins[0]").found == "unknown member 'roberto'"


def test_a_date_range_that_ends_before_it_starts(tmp_path: Path) -> None:
    calendar = "calendar:\n  holidays:\n    - {name: Labor Day, start: 2026-09-08, end: 2026-09-07}\n"
    write_config(tmp_path, {"calendar.yaml": calendar})
    problem = at(problems_in(tmp_path), "calendar.holidays[0]")
    assert where(problem) == ("calendar.yaml", 3, 7)
    assert problem.message == "the range ends (2026-09-07) before it starts (2026-09-08); swap the two dates"


def test_unnamed_meeting_series_get_unique_keys(tmp_path: Path) -> None:
    second = "      - rule: every 2 weeks on Thursday at 16:00\n      - {key: meeting-2, rule: daily at 09:00}\n"
    write_config(tmp_path, {"teams.yaml": MINIMAL["teams.yaml"].replace("    routines:", second + "    routines:")})
    meetings = load_config(tmp_path, env={}).teams["district"].meetings
    assert [m.key for m in meetings] == ["meeting", "meeting-3", "meeting-2"]


# --- environment and secrets ---------------------------------------------------------------------------------


def test_env_references_are_replaced_and_a_missing_one_is_named(tmp_path: Path) -> None:
    write_config(tmp_path, {"organisation.yaml": "organisation:\n  name: ${DISTRICT_NAME}\n"})
    assert load_config(tmp_path, env={"DISTRICT_NAME": "Test District"}).organisation.name == "Test District"
    problem = at(problems_in(tmp_path, env={}), "organisation.name")
    assert "'DISTRICT_NAME' is not set" in problem.message
    assert where(problem) == ("organisation.yaml", 2, 9)


def test_secrets_must_come_from_the_environment(tmp_path: Path) -> None:
    surveys = "surveys:\n  webhook:\n    token: xoxb-not-for-yaml\n    signing_secret: ${SIGNING_SECRET}\n"
    write_config(tmp_path, {"surveys.yaml": surveys})
    problems = problems_in(tmp_path, env={"SIGNING_SECRET": "from-env"})
    # (`webhook` is not a real instrument, so its shape is reported too; only the secret rules matter here.)
    [problem] = [p for p in problems if "literal secret" in p.message and p.path == "surveys.webhook.token"]
    assert not [p for p in problems if "literal secret" in p.message and p.path.endswith("signing_secret")]
    assert where(problem) == ("surveys.yaml", 3, 12)
    assert "xoxb" not in str(problem)  # the message must not leak the secret it complains about


# --- YAML and .ics files -------------------------------------------------------------------------------------


def test_yaml_syntax_error_has_its_place(tmp_path: Path) -> None:
    write_config(tmp_path, {"members.yaml": "members:\n  maria:\n    name: Maria\n   side: labor\n"})
    # Only the syntax error: the teams' references to members it hides are not reported as unknown.
    [problem] = problems_in(tmp_path)
    assert where(problem)[:2] == ("members.yaml", 4)
    assert problem.found.startswith("invalid YAML")


def test_ics_events_become_holidays_and_breaks_with_dtend_exclusive(tmp_path: Path) -> None:
    ics = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//test//EN",
            "BEGIN:VEVENT",
            "UID:1",
            "DTSTAMP:20260101T000000Z",
            "DTSTART;VALUE=DATE:20261221",
            "DTEND;VALUE=DATE:20270102",
            "SUMMARY:Winter Break",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "UID:2",
            "DTSTAMP:20260101T000000Z",
            "DTSTART;VALUE=DATE:20270331",
            "SUMMARY:Cesar Chavez Day",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "UID:3",
            "DTSTAMP:20260101T000000Z",
            "DTSTART:20261015T190000Z",
            "DTEND:20261015T203000Z",
            "SUMMARY:Board meeting",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    calendar = "calendar:\n  holidays: [{name: Labor Day, start: 2026-09-07}]\n  ics: [calendar/school.ics]\n"
    write_config(tmp_path, {"calendar.yaml": calendar, "calendar/school.ics": ics})
    loaded = load_config(tmp_path, env={}).calendar
    assert loaded.breaks == [DateRange(name="Winter Break", start=date(2026, 12, 21), end=date(2027, 1, 1))]
    assert [h.name for h in loaded.holidays] == ["Labor Day", "Cesar Chavez Day"]  # timed events close nothing
    assert not loaded.is_school_day(date(2027, 1, 1))
    assert loaded.is_school_day(date(2027, 1, 4))
    assert not loaded.is_school_day(date(2027, 3, 31))


def test_a_missing_ics_file_is_reported_at_its_entry(tmp_path: Path) -> None:
    write_config(tmp_path, {"calendar.yaml": "calendar:\n  ics:\n    - calendar/nope.ics\n"})
    problem = at(problems_in(tmp_path), "calendar.ics[0]")
    assert where(problem) == ("calendar.yaml", 3, 7)
    assert "'calendar/nope.ics' does not exist" in problem.found


# --- the JSON Schema -----------------------------------------------------------------------------------------


def test_schema_describes_the_whole_config_with_each_routine() -> None:
    schema = config_schema(extensions())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"organisation", "calendar", "members", "teams", "surveys"} <= set(schema["properties"])
    assert "required" not in schema  # each file holds only some top-level keys
    assert schema["properties"]["teams"]["additionalProperties"] == {"$ref": "#/$defs/Team"}
    routines = schema["$defs"]["Team"]["properties"]["routines"]
    assert routines["additionalProperties"] is False
    assert {"$ref": "#/$defs/NormsSettings"} in routines["properties"]["norms"]["anyOf"]
    assert "set" in schema["$defs"]["NormsSettings"]["properties"]
    assert "key" not in schema["$defs"]["Member"]["properties"]  # filled from the mapping key, not written


def test_committed_schema_is_up_to_date() -> None:
    committed = (REPO / "docs" / "config.schema.json").read_text(encoding="utf-8")
    assert json.loads(committed) == config_schema(extensions()), (
        "docs/config.schema.json is out of date; regenerate it with: "
        ".venv/bin/partnerbot schema > docs/config.schema.json"
    )
    assert committed == config_schema_json()


def test_schema_names_the_platforms_ids_and_channels_may_use() -> None:
    defs = config_schema(extensions())["$defs"]
    names = {"enum": ["slack", "teams", "local"]}
    assert defs["Member"]["properties"]["ids"]["propertyNames"] == names
    assert defs["Team"]["properties"]["channels"]["propertyNames"] == names
    assert defs["Team"]["properties"]["constituency_channels"]["additionalProperties"]["propertyNames"] == names


# --- platform ids and channels -------------------------------------------------------------------------------


def test_old_slack_id_and_teams_id_say_how_to_write_ids(tmp_path: Path) -> None:
    members = MINIMAL["members.yaml"].replace(
        "    name: Maria Hernandez\n", "    name: Maria Hernandez\n    slack_id: U123\n    teams_id: aad-maria\n"
    )
    problems = problems_in(write_config(tmp_path, {"members.yaml": members}))
    assert len(problems) == 2
    slack, teams = at(problems, "members.maria.slack_id"), at(problems, "members.maria.teams_id")
    assert where(slack) == ("members.yaml", 4, 5) and where(teams) == ("members.yaml", 5, 5)
    assert "write 'ids: {slack: U123}'" in slack.expected
    assert "write 'ids: {teams: aad-maria}'" in teams.expected


def test_platform_ids_and_channels_are_checked_against_the_platforms(tmp_path: Path) -> None:
    members = MINIMAL["members.yaml"].replace(
        "    name: Maria Hernandez\n", "    name: Maria Hernandez\n    ids: {slak: U123, teams: aad-maria}\n"
    )
    teams = MINIMAL["teams.yaml"].replace(
        "    co_chairs: [maria, david]\n",
        "    co_chairs: [maria, david]\n    channels: {slack: C1, mattermost: town-square}\n"
        "    constituency_channels:\n      principals: {lokal: '#principals'}\n",
    )
    problems = problems_in(write_config(tmp_path, {"members.yaml": members, "teams.yaml": teams}))
    assert len(problems) == 3
    ids = at(problems, "members.maria.ids.slak")
    assert ids.found == "unknown platform 'slak'" and ids.expected == "did you mean 'slack'?"
    assert where(ids) == ("members.yaml", 4, 11)
    channel = at(problems, "teams.district.channels.mattermost")
    assert channel.expected == "the platforms are slack, teams, local"
    constituency = at(problems, "teams.district.constituency_channels.principals.lokal")
    assert constituency.expected == "did you mean 'local'?"


def test_platform_names_are_whatever_the_caller_passes(tmp_path: Path) -> None:
    teams = MINIMAL["teams.yaml"].replace(
        "    co_chairs: [maria, david]\n", "    co_chairs: [maria, david]\n    channels: {echo: '#echo'}\n"
    )
    folder = write_config(tmp_path, {"teams.yaml": teams})
    assert load_config(folder, env={}, platforms=(*PLATFORM_NAMES, "echo")).teams["district"].channels == {
        "echo": "#echo"
    }
    with pytest.raises(ConfigError, match="unknown platform 'echo'"):
        load_config(folder, env={})


def test_survey_instruments_and_the_pulse_instrument_are_checked_with_their_place(tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "config"
    shutil.copytree(REPO / "config", folder)
    surveys = folder / "surveys.yaml"
    surveys.write_text(surveys.read_text().replace("reverse: true", "reverse: maybe", 1))
    teams = folder / "teams.yaml"
    teams.write_text(teams.read_text().replace("instrument: trust", "instrument: trsut", 1))
    with pytest.raises(ConfigError) as raised:
        load_config(folder, env={})
    text = str(raised.value)
    assert re.search(r"surveys\.yaml:\d+:\d+: surveys\.psychological_safety\.items\[0\]\.reverse: found 'maybe'", text)
    assert re.search(
        r"teams\.yaml:\d+:\d+: teams\.district\.routines\.pulse\.instrument: unknown survey 'trsut'; "
        r"did you mean 'trust'\?",
        text,
    )


def test_a_constituency_label_with_a_bar_is_refused_where_it_is_written(tmp_path: Path) -> None:
    """A label such as "teachers | paras" made publishing a summary crash (the outbox key refused it), and could
    never be named in a talking point, whose parts "|" separates."""
    members = MINIMAL["members.yaml"].replace(
        "    name: Maria Hernandez\n", "    name: Maria Hernandez\n    constituency: teachers | paras\n"
    )
    teams = MINIMAL["teams.yaml"].replace(
        "    co_chairs: [maria, david]\n",
        "    co_chairs: [maria, david]\n    constituency_channels:\n      'principals|vps': {local: '#principals'}\n",
    )
    problems = problems_in(write_config(tmp_path, {"members.yaml": members, "teams.yaml": teams}))
    assert len(problems) == 2
    member = at(problems, "members.maria.constituency")
    assert where(member) == ("members.yaml", 4, 19)
    assert "may not contain '|'" in str(member) and "'teachers paras'" in str(member)
    team = at(problems, "teams.district.constituency_channels")
    assert "'principals|vps'" in str(team) and "'principals vps'" in str(team)
