"""libyaml under ruamel (bot/config/fastparse.py) reads every config exactly as ruamel's own parser: the same keys,
values, types and order, so a district's config loads the same, only faster. Problems keep ruamel's positions:
tests/test_config.py checks those, unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bench import district
from bot.config import fastparse
from bot.config.loader import _NOT_READ, _pure, _replayed

REPO = Path(__file__).resolve().parent.parent

TRICKY = """\
plain: text with:colon  # and a comment
quoted: "a \\"b\\" \\u00e9"
single: 'it''s'
literal: |
  line one
    indented
folded: >
  folded
  text

  para
booleans: [true, false, yes, no, on, off, True]
numbers: [010, 0o17, 0x1F, 1_000, 1e3, .inf, -.5, 12:30]
dates: [2026-08-01, 2027-02-30, 2026-08-01 09:30:00]
nulls: [~, null, ]
empty:
defaults: &defaults
  cadence: weekly
  at: "09:00"
team:
  <<: *defaults
  at: "10:00"
again: *defaults
flow: {a: 1, b: [x, y], c: "z"}
nested:
  - name: one
    items:
      -
      - two
  - name: 😀 wide
"""


def _same(pure: Any, fast: Any, at: tuple[Any, ...] = ()) -> None:
    assert type(pure) is type(fast), at
    if isinstance(pure, CommentedMap):
        assert list(pure) == list(fast), at
        for key in pure:
            _same(pure[key], fast[key], (*at, key))
    elif isinstance(pure, CommentedSeq):
        assert len(pure) == len(fast), at
        for index, (a, b) in enumerate(zip(pure, fast, strict=True)):
            _same(a, b, (*at, index))
    else:
        assert repr(pure) == repr(fast), at


def _texts(tmp_path: Path) -> list[str]:
    files = [*sorted((REPO / "config").glob("*.yaml")), *sorted(district.write(tmp_path / "d").glob("*.yaml"))]
    return [TRICKY, *(path.read_text(encoding="utf-8") for path in files)]


def test_libyaml_builds_the_same_documents_as_ruamel(tmp_path: Path) -> None:
    if fastparse.events("a: 1\n") is None:
        pytest.skip("PyYAML without libyaml here: the config loads through ruamel's parser alone")
    for text in _texts(tmp_path):
        made = fastparse.events(text)
        assert made is not None
        _same(_pure(text), _replayed(made, text))


@pytest.mark.parametrize(
    "text",
    [
        "%YAML 1.1\n---\na: yes\n",  # a directive: ruamel reads the version its own way
        "a: !!str 1\n",  # an explicit tag
        "a:\tb\n",  # a tab
        "a: [1, 2\n",  # broken: ruamel reports it with its own words
    ],
)
def test_what_ruamel_reads_its_own_way_is_left_to_it(text: str) -> None:
    assert fastparse.events(text) is None


def test_a_duplicate_key_is_left_to_ruamel_to_report() -> None:
    made = fastparse.events("a: 1\na: 2\n")
    assert made is None or _replayed(made, "a: 1\na: 2\n") is _NOT_READ
