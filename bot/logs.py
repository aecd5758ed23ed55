"""How the `partnerbot` command logs: readable lines on a terminal (the default), or one JSON object per line for a
log collector (PARTNERBOT_LOG_FORMAT=json). What each module logs is its own business; the shape is decided here.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Mapping
from datetime import UTC, datetime

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# LogRecord attributes that are not extra fields a caller passed with `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the process's role and instance, the
    traceback when there is one, and any `extra=` fields."""

    def __init__(self, static: Mapping[str, object]) -> None:
        super().__init__()
        self.static = dict(static)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **self.static,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value if isinstance(value, str | int | float | bool | None) else repr(value)
        return json.dumps(entry, ensure_ascii=False)


def configure(*, verbose: bool = False, env: Mapping[str, str] | None = None, role: str | None = None) -> None:
    """Set up the root logger for the command from PARTNERBOT_LOG_FORMAT (text | json)."""
    env = os.environ if env is None else env
    chosen = (env.get("PARTNERBOT_LOG_FORMAT") or "text").strip().lower()
    handler = logging.StreamHandler()
    if chosen == "json":
        static: dict[str, object] = {"instance": f"{socket.gethostname()}:{os.getpid()}"}
        if role:
            static["role"] = role
        handler.setFormatter(JsonFormatter(static))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if not verbose:
        # One line per migration and two per tick are noise on every start and in the local workspace's terminal.
        for chatty in ("alembic", "apscheduler"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
    if chosen not in FORMATS:
        logging.getLogger("partnerbot").warning(
            "PARTNERBOT_LOG_FORMAT=%s is not one of %s; logging as text", chosen, ", ".join(FORMATS)
        )
