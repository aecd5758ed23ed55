"""Parties in config as an admin meets them: the example organisation lists its parties (two unions, management,
the board, parents) with a tri-chaired site team and committees seating both unions; a config that only uses sides
keeps loading (each side a party); and every party mistake is reported with file:line:col and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.assembly import load_config
from bot.config import ConfigError, Problem
from bot.flows.pulse.steps import FLOW as PULSE
from bot.flows.roles.steps import FLOW as ROLES

REPO = Path(__file__).resolve().parent.parent

PARTIES = {
    "organisation.yaml": """\
organisation:
  name: Test District
  parties:
    teachers: {name: Teachers Association, side: labor}
    classified: {name: Classified Employees, side: labor}
    district: {name: District management, side: management}
    board: {name: Board of Education, side: other}
""",
    "members.yaml": """\
members:
  tina: {name: Tina Teacher, party: teachers}
  tom: {name: Tom Teacher, party: teachers}
  carla: {name: Carla Custodian, party: classified}
  cody: {name: Cody Clerk, party: classified}
  pat: {name: Pat Principal, party: district}
  dana: {name: Dana Director, party: district}
  bea: {name: Bea Trustee, party: board}
""",
    "teams.yaml": """\
teams:
  site:
    name: Site Team
    kind: site
    members: [tina, tom, carla, cody, pat]
    co_chairs: [tina, carla, pat]
  district:
    name: District Team
    kind: district
    members: [tina, carla, pat, dana, bea]
    co_chair_parties: [teachers, classified, district]
    co_chairs: [tina, carla, dana]
    approval: 2 of 3
""",
}


def write(folder: Path, changes: dict[str, list[tuple[str, str]]] | None = None) -> Path:
    """The config above with (old, new) replacements per file."""
    for name, text in PARTIES.items():
        for old, new in (changes or {}).get(name, []):
            assert old in text, old
            text = text.replace(old, new)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def problems(folder: Path) -> list[Problem]:
    with pytest.raises(ConfigError) as raised:
        load_config(folder, env={})
    return raised.value.problems


def one(found: list[Problem], path: str) -> Problem:
    matching = [p for p in found if p.path == path]
    assert len(matching) == 1, [str(p) for p in found]
    return matching[0]


def test_the_example_has_two_unions_at_one_table_and_a_tri_chaired_site_team() -> None:
    config = load_config(REPO / "config", env={})
    assert {k: (p.name, p.side) for k, p in config.parties.items()} == {
        "rta": ("Riverside Teachers Association", "labor"),
        "rcea": ("Riverside Classified Employees Association", "labor"),
        "management": ("District management", "management"),
        "board": ("Board of Education", "other"),
        "parents": ("Parents", "other"),
    }
    lincoln = config.teams["lincoln-elementary"]
    assert sorted(config.party_of(k).key for k in lincoln.co_chairs) == ["management", "rcea", "rta"]
    assert lincoln.approvals_needed == 3
    committee = config.teams["special-education"]
    assert {"rta", "rcea"} <= set(config.team_parties(committee))
    assert config.teams["roosevelt-middle"].approvals_needed == 2  # "2 of 3"
    assert all(member.party in config.parties for member in config.members.values())


def test_a_config_of_parties_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path), env={})
    assert config.party_of("bea").side == "other"
    assert list(config.team_parties(config.teams["site"])) == ["teachers", "classified", "district"]
    assert config.teams["site"].approvals_needed == 3 and config.teams["district"].approvals_needed == 2


def test_a_config_that_only_uses_sides_still_loads_each_side_a_party(tmp_path: Path) -> None:
    files = {
        "organisation.yaml": "organisation:\n  name: Old District\n",
        "members.yaml": "members:\n"
        "  maria: {name: Maria, side: labor}\n  david: {name: David, side: management}\n"
        "  james: {name: James, side: labor}\n  pat: {name: Pat, side: board}\n",
        # Two co-chairs, one labor and one management, with a board member at the table: the old rule holds.
        "teams.yaml": "teams:\n  district:\n    name: D\n    kind: district\n"
        "    members: [maria, david, james, pat]\n    co_chairs: [maria, david]\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    config = load_config(tmp_path, env={})
    assert {k: (p.name, p.side) for k, p in config.parties.items()} == {
        "labor": ("Labor", "labor"),
        "management": ("Management", "management"),
        "board": ("Board", "other"),
    }
    assert config.members["pat"].party == "board" and config.teams["district"].approvals_needed == 2


def test_member_party_mistakes_are_placed_and_explained(tmp_path: Path) -> None:
    found = problems(
        write(
            tmp_path,
            {
                "members.yaml": [
                    ("tom: {name: Tom Teacher, party: teachers}", "tom: {name: Tom Teacher, party: teachrs}"),
                    ("cody: {name: Cody Clerk, party: classified}", "cody: {name: Cody Clerk, side: labor}"),
                    ("dana: {name: Dana Director, party: district}", "dana: {name: Dana Director}"),
                    ("bea: {name: Bea Trustee, party: board}", "bea: {name: Bea Trustee, party: board, side: board}"),
                ]
            },
        )
    )
    tom = one(found, "members.tom.party")
    assert (Path(tom.file).name, tom.line, tom.column) == ("members.yaml", 3, 35)
    assert tom.message == "unknown party 'teachrs'; did you mean 'teachers'?"
    cody = one(found, "members.cody.side")
    assert cody.found == "found side 'labor'; this organisation lists its parties"
    assert cody.expected.endswith("on that side: teachers, classified")
    assert one(found, "members.dana").message.startswith("missing key 'party'; add 'party:' with one of teachers,")
    assert "remove it" in one(found, "members.bea.side").expected
    # A member whose party is unknown does not also make every co-chair rule fail.
    assert not [p for p in found if p.path.startswith("teams.")]


def test_a_tri_chaired_team_missing_a_co_chair_says_whom_to_add(tmp_path: Path) -> None:
    found = problems(write(tmp_path, {"teams.yaml": [("co_chairs: [tina, carla, pat]", "co_chairs: [tina, pat]")]}))
    problem = one(found, "teams.site.co_chairs")
    assert (Path(problem.file).name, problem.line, problem.column) == ("teams.yaml", 6, 5)
    assert problem.found == "found co-chairs tina (teachers) and pat (district)"
    assert problem.expected == (
        "one co-chair from each party on the team (teachers, classified, district), or name them in "
        "co_chair_parties: add one from classified (Classified Employees) (on the team: carla, cody)"
    )


def test_co_chair_parties_and_quorum_mistakes(tmp_path: Path) -> None:
    found = problems(
        write(
            tmp_path,
            {
                "teams.yaml": [
                    ("co_chair_parties: [teachers, classified, district]", "co_chair_parties: [teachers, distrct]"),
                    ("approval: 2 of 3", "approval: most"),
                    ("co_chairs: [tina, carla, pat]", "co_chairs: [tina, tom, pat]\n    approval: 1 of 3"),
                ]
            },
        )
    )
    assert (
        one(found, "teams.district.co_chair_parties[1]").message == "unknown party 'distrct'; did you mean 'district'?"
    )
    assert one(found, "teams.district.approval").found == "found 'most'"
    site = one(found, "teams.site.co_chairs")
    assert "tina and tom are both from teachers (Teachers Association): keep one" in site.expected
    quorum = one(found, "teams.site.approval")
    assert (
        quorum.message == "found '1 of 3'; ask for 2 to 3 approvals: joint communications need more than one co-chair"
    )


def test_party_definitions_are_checked(tmp_path: Path) -> None:
    found = problems(
        write(
            tmp_path,
            {
                "organisation.yaml": [
                    (
                        "board: {name: Board of Education, side: other}",
                        "board: {name: Board of Education, side: board}",
                    ),
                    ("classified: {name: Classified Employees,", "classified: {name: Teachers Association,"),
                    ("side: management}", "side: management, channels: {slak: C1}}"),
                ]
            },
        )
    )
    assert one(found, "organisation.parties.board.side").message == (
        "found 'board'; the board is a party now, on the 'other' side: write 'side: other'"
    )
    assert "also the name of party 'teachers'" in one(found, "organisation.parties.classified.name").found
    assert one(found, "organisation.parties.district.channels.slak").message.startswith("unknown platform 'slak'")


def test_older_setting_names_still_load(tmp_path: Path) -> None:
    """Settings that spoke of sides are read as their party names."""
    files = {
        "organisation.yaml": "organisation:\n  name: Old District\n",
        "members.yaml": "members:\n  maria: {name: Maria, side: labor}\n  david: {name: David, side: management}\n",
        "teams.yaml": "teams:\n  district:\n    name: D\n    kind: district\n    members: [maria, david]\n"
        "    co_chairs: [maria, david]\n"
        "    routines:\n      roles: {alternate_sides: false}\n"
        "      pulse: {instrument: trust, side_breakdown: false}\n",
        "surveys.yaml": (REPO / "config" / "surveys.yaml").read_text(encoding="utf-8"),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    config = load_config(tmp_path, env={})
    team = config.teams["district"]
    assert ROLES.settings_or_defaults(config, team).by_party is False
    assert PULSE.settings_or_defaults(config, team).party_breakdown is False
