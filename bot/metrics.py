"""Counters and gauges for GET /metrics, in the Prometheus text format. Tiny on purpose: a dict of numbers."""

from __future__ import annotations

import threading
from collections import defaultdict

_lock = threading.Lock()
_counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
_help: dict[str, str] = {}


def count(name: str, help: str, amount: float = 1.0, **labels: str) -> None:
    with _lock:
        _help.setdefault(name, help)
        _counters[(name, tuple(sorted(labels.items())))] += amount


def set_gauge(name: str, help: str, value: float, **labels: str) -> None:
    with _lock:
        _help.setdefault(name, help)
        _counters[(name, tuple(sorted(labels.items())))] = value


def exposition() -> str:
    lines: list[str] = []
    with _lock:
        names = sorted({name for name, _ in _counters})
        for name in names:
            kind = "counter" if name.endswith("_total") else "gauge"
            lines.append(f"# HELP {name} {_help.get(name, '')}")
            lines.append(f"# TYPE {name} {kind}")
            for (n, labels), value in sorted(_counters.items()):
                if n != name:
                    continue
                label_text = ",".join(f'{k}="{v}"' for k, v in labels)
                lines.append(f"{name}{{{label_text}}} {value:g}" if label_text else f"{name} {value:g}")
    return "\n".join(lines) + "\n"
