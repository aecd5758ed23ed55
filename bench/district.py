"""A generated district for the benchmarks: 400 members on 35 teams (the district team, 28 school site teams and 6
joint committees) running every routine over a school year, written as the YAML folder an admin would keep.

    python -m bench.district OUT_DIR [--members 400] [--sites 28] [--committees 6]

Seeded, so every run writes the same district. Not a benchmark itself (bench.simulate_year and bench.report use it).
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
SITE_RULES = (
    "monthly on the 1st Thursday at 15:15",
    "monthly on the 2nd Wednesday at 15:00",
    "monthly on the 3rd Tuesday at 15:30",
    "every 2 weeks on Monday at 15:15",
)
COMMITTEE_RULES = ("every 2 weeks on Wednesday at 16:00", "every 2 weeks on Thursday at 16:00")
INSTRUMENTS = ("trust", "psychological_safety", "team_effectiveness")
PARTIES = (  # (side, constituency, share of the members)
    ("labor", "teachers' union", 0.5),
    ("labor", "classified staff union", 0.25),
    ("management", "principals", 0.1),
    ("management", "district leadership", 0.1),
    ("board", "board", 0.05),
)


def district(members: int = 400, sites: int = 28, committees: int = 6, seed: int = 7) -> dict[str, Any]:
    """The config as plain data (one mapping per YAML file)."""
    rng = random.Random(seed)
    people: dict[str, dict[str, Any]] = {}
    by_side: dict[str, list[str]] = {"labor": [], "management": [], "board": []}
    for n in range(members):
        side, constituency = _party(n / members)
        key = f"p{n:03d}"
        people[key] = {
            "name": f"Person {n:03d}",
            "side": side,
            "constituency": constituency,
            "role": constituency.rstrip("s").title() if side != "labor" else f"{constituency} member",
            "email": f"person{n:03d}@district.example",
            "joined": "2025-08-01",
        }
        by_side[side].append(key)
    teams: dict[str, dict[str, Any]] = {}
    pool = {side: list(keys) for side, keys in by_side.items()}
    for side in pool:
        rng.shuffle(pool[side])

    def take(side: str, count: int) -> list[str]:
        if len(pool[side]) < count:  # everyone has a seat: the rest serve on a second team
            pool[side] += rng.sample(by_side[side], len(by_side[side]))
        return [pool[side].pop() for _ in range(count)]

    leaders = take("labor", 6) + take("management", 5) + take("board", 1)
    teams["district"] = _team("District Partnership Team", "district", leaders, "monthly on the 2nd Tuesday at 15:30")
    teams["district"]["routines"] = {
        "norms": {},
        "roles": {},
        "summary": {},
        "deliverables": {"items": _items(rng, leaders, 6)},
        "pulse": {"instrument": "trust", "cadence": "first Monday of each month at 08:30"},
    }
    for s in range(sites):
        team = take("labor", 9) + take("management", 2) + take("board", 0)
        teams[f"site{s:02d}"] = _team(f"School {s:02d} Site Team", "site", team, SITE_RULES[s % len(SITE_RULES)])
        teams[f"site{s:02d}"]["routines"] = {
            "norms": {"set": "parent"},
            "roles": {},
            "pulse": {"instrument": INSTRUMENTS[s % 2], "cadence": "first Monday of each month at 08:30"},
        }
        if s % 3 == 0:
            teams[f"site{s:02d}"]["routines"]["summary"] = {}
    for c in range(committees):
        team = take("labor", 5) + take("management", 4)
        key = f"committee{c}"
        teams[key] = _team(f"Joint Committee {c}", "committee", team, COMMITTEE_RULES[c % 2])
        teams[key]["meetings"][0]["starts"] = f"2026-08-{19 + c:02d}"
        teams[key]["routines"] = {
            "norms": {},
            "roles": {},
            "summary": {},
            "deliverables": {"items": _items(rng, team, 8)},
            "pulse": {"instrument": "team_effectiveness", "cadence": "first Monday of each month at 08:30"},
        }
    return {
        "organisation": {
            "organisation": {
                "name": "Generated Unified School District",
                "timezone": "America/Los_Angeles",
                "admins": leaders[:1],
                "working_hours": ["07:30", "17:30"],
            }
        },
        "members": {"members": people},
        "teams": {"teams": teams},
    }


def _party(position: float) -> tuple[str, str]:
    edge = 0.0
    for side, constituency, share in PARTIES:
        edge += share
        if position < edge:
            return side, constituency
    return PARTIES[-1][0], PARTIES[-1][1]


def _team(name: str, kind: str, members: list[str], rule: str) -> dict[str, Any]:
    labor = next(m for m in members if m)
    management = members[-1] if kind != "district" else members[6]
    team: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "members": members,
        "co_chairs": [labor, management],
        "meetings": [{"rule": rule, "duration_minutes": 60 if kind != "district" else 90}],
    }
    if kind != "district":
        team["parent"] = "district"
    return team


def _items(rng: random.Random, members: list[str], count: int) -> list[dict[str, Any]]:
    months = ("2026-10", "2026-11", "2026-12", "2027-01", "2027-02", "2027-03", "2027-04", "2027-05")
    return [
        {
            "title": f"Deliverable {n + 1}",
            "owners": rng.sample(members, 2),
            "due": f"{months[n % len(months)]}-{rng.randint(10, 25):02d}",
            "description": "Generated for the benchmark.",
        }
        for n in range(count)
    ]


def write(folder: Path, **sizes: int) -> Path:
    """Write the district's YAML folder (with the example calendar and surveys) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    yaml = YAML()
    for name, data in district(**sizes).items():
        with (folder / f"{name}.yaml").open("w", encoding="utf-8") as handle:
            yaml.dump(data, handle)
    for name in ("calendar.yaml", "surveys.yaml"):
        shutil.copy(ROOT / "config" / name, folder / name)
    shutil.copytree(ROOT / "config" / "calendar", folder / "calendar", dirs_exist_ok=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--members", type=int, default=400)
    parser.add_argument("--sites", type=int, default=28)
    parser.add_argument("--committees", type=int, default=6)
    args = parser.parse_args()
    folder = write(Path(args.out), members=args.members, sites=args.sites, committees=args.committees)
    print(f"wrote {folder}")


if __name__ == "__main__":
    main()
