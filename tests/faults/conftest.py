"""The standing fault suite: crashes, replicas, rate-limit storms, first starts and fuzzing, each at two sizes.

Every test in tests/faults/ is marked `faults`. `make test` runs them small; `make faults` runs them at full size
(PARTNERBOT_FAULTS=full) and prints what each measured. To add one: put a test_*.py here, size it with
`sized(small, full)`, and hand its numbers to the `measured` fixture (a name, then numbers by label), for example
`measured("kills during a fan-out (sqlite)", kills=20, lost=0, duplicated=0)`; assert on them as usual.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

FULL = os.environ.get("PARTNERBOT_FAULTS", "").lower() == "full"
# Where kills fall and what fuzzing tries follow from this seed: another value explores other points.
SEED = int(os.environ.get("PARTNERBOT_FAULTS_SEED") or "11")
RESULTS = Path(__file__).resolve().parents[2] / "var" / "faults.jsonl"  # what the last run measured
_measured: list[dict[str, object]] = []


def sized(small: int, full: int) -> int:
    """How many of something a fault test does: `full` under `make faults`, `small` in `make test`."""
    return full if FULL else small


T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def seeded(count: int, *checks: HealthCheck) -> Callable[[F], F]:
    """Hypothesis settings for a fault test: `count` examples chosen from SEED (so PARTNERBOT_FAULTS_SEED explores
    other inputs), no example database, no deadline."""

    def decorate(test: F) -> F:
        return seed(SEED)(
            settings(max_examples=count, deadline=None, database=None, suppress_health_check=checks)(test)
        )

    return decorate


def drawn(strategy: st.SearchStrategy[T], count: int) -> list[T]:
    """`count` examples of `strategy`, drawn up front by hypothesis from SEED (for requests sent from the event loop
    afterwards, where hypothesis cannot drive them)."""
    found: list[T] = []

    @seeded(count, HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much)
    @given(example=strategy)
    def collect(example: Any) -> None:
        found.append(example)

    collect()
    return found


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def measured() -> Iterator[Callable[..., None]]:
    """Record a test's numbers (shown at the end of the run and kept in var/faults.jsonl)."""

    def record(name: str, **numbers: object) -> None:
        _measured.append({"name": name, "size": "full" if FULL else "small", **numbers})

    yield record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _measured:
        return
    terminalreporter.section(f"fault suite: what was measured ({'full' if FULL else 'small'} size)")
    for row in _measured:
        numbers = ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("name", "size"))
        terminalreporter.write_line(f"{row['name']}: {numbers}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("".join(json.dumps(row) + "\n" for row in _measured), encoding="utf-8")
