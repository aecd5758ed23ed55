"""Hypothesis fuzzing of the config an admin writes: the shipped example, mutated the ways people get YAML wrong
(keys dropped or misspelled, values of the wrong kind, impossible dates, broken indentation, stray characters,
bytes that are not UTF-8). `partnerbot validate` must report every problem with its file, line and column, never
a traceback."""

from __future__ import annotations

import copy
import random
import re
import shutil
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from bot.assembly import load_config
from bot.config.loader import ConfigError
from tests.faults.conftest import seeded, sized

EXAMPLE = Path(__file__).resolve().parents[2] / "config"
FILES = sorted(p.name for p in EXAMPLE.glob("*.yaml"))
ODD_VALUES: list[Any] = [
    None,
    "",
    0,
    -1,
    10**30,
    1.5,
    float("inf"),
    True,
    [],
    {},
    [1, 2],
    {"a": 1},
    "2027-02-30",
    "2027-13-01",
    "25:99",
    "nobody",
    "x" * 3000,
    "${NOT_SET}",
    "$${LITERAL}",
    "monthly on the 31st Tuesday at 15:30",
    "every 0 days at 08:00",
    "every day at 25:00",
    "\x00",
    "🙂",
    "../../etc/passwd",
    "calendar/missing.ics",
    "1970-01-01",
    "9999-12-31",
    "0001-01-01",
    "America/Los_Angles",
    "Mars/Olympus",
    -(10**9),
]
ODD_KEYS = ["extra", "key", "ids", "members", "routines", "co_chairs", "slack_id", "name[", "rule", "side", "parties"]
ODD_TEXT = [
    "2027-02-30",
    "2026-02-29",
    "0000-00-00",
    "99999-01-01",
    ":",
    "- ",
    "\t",
    "&a ",
    "*a",
    "*nowhere",
    "!!python/object:os.system ",
    "{",
    "[",
    "'",
    '"',
    "? ",
    "!!binary x",
    "<<: *x",
    "%YAML 1.1\n",
    "---\n",
    "\\",
]


def odd_value(rng: random.Random) -> Any:
    """A copy: a later mutation may go inside it, and must not change the list for the next example."""
    return copy.deepcopy(rng.choice(ODD_VALUES))


def mutate_data(node: Any, rng: random.Random) -> None:
    """One change somewhere in a parsed YAML document: drop, replace or add a key or item, at any depth."""
    while isinstance(node, dict | list) and node:
        where = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        roll = rng.random()
        if roll < 0.2:
            del node[where]
        elif roll < 0.5:
            node[where] = odd_value(rng)
        elif roll < 0.6 and isinstance(node, dict):
            node[rng.choice(ODD_KEYS)] = odd_value(rng)
        elif roll < 0.6:
            node.append(odd_value(rng))
        else:
            node = node[where]
            continue
        return


def mutate_text(text: bytes, rng: random.Random) -> bytes:
    """One change to the bytes of a file: insert, delete, rewrite a date, or flip a byte."""
    position, roll = rng.randrange(len(text)), rng.random()
    if roll < 0.35:
        return text[:position] + rng.choice(ODD_TEXT).encode() + text[position:]
    if roll < 0.6:
        return text[:position] + text[position + rng.randint(1, 40) :]
    if roll < 0.85:
        wrong = rng.choice(["2027-02-30", "2026-02-29", "2027-00-10", "2027-1-1", "2027-02-31T25:00"]).encode()
        return re.sub(rb"\d{4}-\d{2}-\d{2}", wrong, text, count=rng.randint(1, 3))
    return text[:position] + bytes([rng.randrange(256)]) + text[position + 1 :]


def mutated(original: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        yaml = YAML(typ="rt")
        data = yaml.load(original.decode())
        for _ in range(rng.randint(1, 4)):
            mutate_data(data, rng)
        from io import StringIO

        out = StringIO()
        yaml.dump(data, out)
        return out.getvalue().encode()
    text = original
    for _ in range(rng.randint(1, 3)):
        text = mutate_text(text, rng) or b"\n"
    return text


def test_validate_reports_every_mutated_config_with_file_line_and_column(tmp_path: Path, measured) -> None:
    folder = tmp_path / "config"
    shutil.copytree(EXAMPLE, folder)
    originals = {name: (folder / name).read_bytes() for name in FILES}
    outcomes = {"valid": 0, "reported": 0, "crashes": 0, "problems without a line": 0}

    @seeded(sized(20, 1_000), HealthCheck.function_scoped_fixture, HealthCheck.too_slow)
    @given(name=st.sampled_from(FILES), rng=st.randoms(use_true_random=False))
    def one(name: str, rng: random.Random) -> None:
        target = folder / name
        target.write_bytes(mutated(originals[name], rng))
        try:
            load_config(folder)
            outcomes["valid"] += 1
        except ConfigError as error:
            outcomes["reported"] += 1
            assert error.problems
            for problem in error.problems:
                in_a_file = problem.file.endswith((".yaml", ".yml"))
                if in_a_file and problem.line is None:
                    outcomes["problems without a line"] += 1
                assert not in_a_file or (problem.line and problem.column), str(problem)
                assert str(problem).startswith(problem.file)
        except Exception:
            outcomes["crashes"] += 1
            raise
        finally:
            target.write_bytes(originals[name])

    one()
    measured("mutated configs through validate", configs=outcomes["valid"] + outcomes["reported"], **outcomes)
    assert outcomes["crashes"] == 0 and outcomes["problems without a line"] == 0
