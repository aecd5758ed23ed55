"""The note-taker's line syntax is parsed strictly (every problem named by field and line), and the attribution
check finds names, first names and handles of team members, and only whole words."""

from __future__ import annotations

from datetime import date

from bot.config import Party
from bot.flows.summary.form import attributions, parse_summary, role_wording
from tests.summary_fixture import partnership

CONFIG = partnership()
TEAM = CONFIG.teams["district"]


def parse(**raw: str):  # type: ignore[no-untyped-def]
    return parse_summary(CONFIG, TEAM, raw)


def test_well_formed_lines_become_structured_items() -> None:
    parsed = parse(
        decisions="- Adopt the calendar | why: families asked for it | by: co-chairs\n"
        "Start the pilot | why: caseloads | by: special-education",
        action_items="Draft the survey | owners: Ana Silva, lin | due: 2027-01-15 | committee: special-education",
        talking_points="Release time is protected | for: Teachers' Union, principals | messenger: a principal\n"
        "Caseloads are reviewed | for: principals | messenger: a principal\n"
        "Pilot starts in January | for: principals | messenger: a principal",
        discussion="  \nA principal noted coverage gaps\n",
        attendance="8 of 10 members",
    )
    assert parsed.errors == {}
    assert [(d.text, d.by) for d in parsed.decisions] == [
        ("Adopt the calendar", "the co-chairs"),
        ("Start the pilot", "Special Education Committee"),
    ]
    item = parsed.action_items[0]
    assert (item.owners, item.due, item.committee) == (("ana", "lin"), date(2027, 1, 15), "special-education")
    assert parsed.talking_points[0].constituencies == ("teachers' union", "principals")
    assert parsed.discussion == ["A principal noted coverage gaps"]


def test_problems_are_reported_by_field_and_line() -> None:
    parsed = parse(
        action_items="Draft the survey | owner: ana | due: 2027-01-15\nBook rooms | owner: nobody | due: soon",
        decisions="Adopt it | by: everyone",
        talking_points="A point | for: parents | messenger: a teacher\nAnother | for: principals",
    )
    assert parsed.errors["action_items"] == (
        "line 2: no member called `nobody` (use a member key or full name); "
        "line 2: `due: soon` is not a date like 2027-01-15"
    )
    assert "line 1: add the reason: `| why: ...`" in parsed.errors["decisions"]
    assert "line 1: `by: everyone` is not the team" in parsed.errors["decisions"]
    assert "line 1: unknown constituency `parents`" in parsed.errors["talking_points"]
    assert "line 2: say who carries it" in parsed.errors["talking_points"]
    assert [a.title for a in parsed.action_items] == ["Draft the survey"]


def test_more_than_five_talking_points_are_refused() -> None:
    points = "\n".join(f"Point {i} | for: principals | messenger: a principal" for i in range(6))
    assert "6 talking points: keep 5 at most" in parse(talking_points=points).errors["talking_points"]


def test_the_form_says_its_rules_and_enforces_them() -> None:
    """Issue 13: the form marked every field optional, refused a draft for missing attendance, showed the line
    syntax only in errors and accepted one talking point under the label "(3-5)"."""
    from bot.flows.summary.form import summary_form
    from bot.platforms.local.renderer import describe_form
    from bot.platforms.slack.renderer import modal

    form = summary_form("summary.save", "1", {}, "intro")
    fields = {f.name: f for f in form.fields}
    assert fields["attendance"].required and not fields["overview"].required
    assert "Example: Pilot co-teaching in three schools | why: caseloads are uneven | by: team" in (
        fields["decisions"].hint
    )
    assert fields["talking_points"].label == "Talking points (3 to 5, or none)"
    shown = describe_form(form)
    assert "attendance: Attendance [required]" in shown and "overview: Overview [optional]" in shown
    assert "Example: Draft the survey | owner: maria | due: 2027-01-15" in shown
    blocks = {b["block_id"]: b for b in modal(form, {})["blocks"] if b["type"] == "input"}
    assert blocks["attendance"]["optional"] is False and blocks["decisions"]["optional"] is True
    assert "why: caseloads are uneven" in blocks["decisions"]["hint"]["text"]

    one = "A point | for: principals | messenger: a principal"
    assert parse(talking_points=one, attendance="all").errors == {
        "talking_points": "1 talking point: write 3 to 5, or none if the team agreed none"
    }
    assert parse(attendance="all").errors == {}  # no talking points at all is allowed
    assert parse().errors["attendance"].startswith("required")


def test_the_attribution_check_finds_names_first_names_and_handles_as_whole_words() -> None:
    parsed = parse(
        talking_points="Caseloads will be reviewed | for: principals | messenger: a principal\n"
        "As MARIA put it, trust comes first | for: principals | messenger: a principal",
        discussion="@robert asked for data\nLinda from the county office joined\nOne teacher noted the coverage gap",
    )
    found = [(a.where, a.member.key, a.matched) for a in attributions(CONFIG, TEAM, parsed)]
    assert found == [("talking point 2", "maria", "MARIA"), ("discussion point 1", "robert", "@robert")]


def test_role_wording_suggests_the_role_or_the_side_of_the_party() -> None:
    assert role_wording(CONFIG.members["james"], CONFIG.party_of("james")) == "a principal"
    assert role_wording(CONFIG.members["robert"], CONFIG.party_of("robert")) == "a superintendent"
    bare = CONFIG.members["lin"].model_copy(update={"role": ""})
    assert role_wording(bare, CONFIG.party_of("lin")) == "one union representative"
    board = Party(key="board", name="Board of Education", side="other")
    assert role_wording(bare, board) == "a representative of Board of Education"
