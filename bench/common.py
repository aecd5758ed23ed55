"""What the benchmarks share: machine-readable figures (`--json FILE`, collected by `python -m bench.report` into
BENCHMARKS.md) and the peak memory of the process. Not a benchmark itself.
"""

from __future__ import annotations

import json
import resource
from dataclasses import dataclass, field
from typing import Any


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Figures:
    """One benchmark's results: each figure a name, a value and a unit, with its anchor (what it is compared to,
    measured in the same run) and target where it has them."""

    bench: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str, **extra: Any) -> None:
        self.rows.append({"name": name, "value": value, "unit": unit, **extra})

    def write(self, path: str | None) -> None:
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump({"bench": self.bench, "figures": self.rows}, handle, indent=1)
