"""What is worked out from a config alone (held meetings, where steps land, closed days), kept while that config
object is the one in use. Not the config itself (models.py), nor anything read from the database.

A config is immutable and a reload replaces it whole, so an answer kept for one config object stays true for it; a
new object (a reload, a test's copy) starts afresh. Answers are kept by identity, never inside the config, so a
`model_copy` with changes cannot carry stale ones along.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class PerConfig(Generic[K, V]):
    """Answers by key for the config last asked about, up to `limit` of them (then they start afresh). Threads may
    share one: at worst an answer is worked out twice."""

    def __init__(self, limit: int) -> None:
        self._config: object | None = None
        self._entries: dict[K, V] = {}
        self._limit = limit

    def entries(self, config: object) -> dict[K, V]:
        """The answers kept for `config` (a dict to read and fill)."""
        if self._config is not config or len(self._entries) >= self._limit:
            self._config, self._entries = config, {}
        return self._entries

    def get(self, config: object, key: K, work_out: Callable[[], V]) -> V:
        """The answer for `key`, worked out by `work_out()` the first time it is asked for this config."""
        if self._config is not config or len(self._entries) >= self._limit:  # as entries(), without a call
            self._config, self._entries = config, {}
        entries = self._entries
        try:
            return entries[key]
        except KeyError:
            found = entries[key] = work_out()
            return found
