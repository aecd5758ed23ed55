"""libyaml's C parser under ruamel's round-trip loader: the same documents as ruamel's pure-Python parser, four
times faster on a district's members.yaml. ruamel still resolves every scalar (YAML 1.2) and builds the
CommentedMaps; libyaml (from PyYAML, when installed with it) only turns the text into events. Its line and column
marks are libyaml's, which place an empty value (`key:` and nothing) elsewhere than ruamel does: the loader reads a
file again with ruamel's parser before it reports a problem at a position in it (loader.py `_Reader.marked`).

`events(text)` is None whenever the pure parser must do the job instead: no libyaml, a character ruamel refuses, a
%YAML or %TAG directive or an explicit tag (ruamel reads those its own way), or text libyaml rejects (ruamel then
reports the error as it always did). Comments are not carried over; the config never reads them.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import events as ry
from ruamel.yaml.composer import Composer
from ruamel.yaml.reader import Reader

try:  # PyYAML built with libyaml; absent, the config loads through ruamel's pure-Python parser as before
    from yaml import cyaml as _cyaml
    from yaml import events as _py
except ImportError:  # pragma: no cover - PyYAML comes with the dev tools and most installs
    _cyaml = None

# Line breaks YAML 1.1 (libyaml) and ruamel may count differently, and tabs that libyaml reads more strictly.
_PURE_ONLY = ("\x85", "\u2028", "\u2029", "\t", "\ufeff")


def events(text: str) -> list[Any] | None:
    """ruamel parser events for `text`, made by libyaml, or None (see the module docstring)."""
    if _cyaml is None or getattr(_cyaml, "CParser", None) is None:
        return None
    if any(c in text for c in _PURE_ONLY) or Reader.NON_PRINTABLE.search(text):
        return None
    parser = _cyaml.CParser(text)
    found: list[Any] = []
    try:
        while True:
            event = _convert(parser.get_event())
            if event is None:
                return None
            found.append(event)
            if isinstance(event, ry.StreamEndEvent):
                return found
    except Exception:  # any libyaml error: the pure parser reads the file and reports it
        return None
    finally:
        parser.dispose()


def _convert(event: Any) -> Any:
    start, end = event.start_mark, event.end_mark
    kind = type(event)
    if kind is _py.ScalarEvent:
        if event.tag is not None:
            return None
        return ry.ScalarEvent(event.anchor, None, event.implicit, event.value, start, end, style=event.style or None)
    if kind is _py.MappingStartEvent or kind is _py.SequenceStartEvent:
        if event.tag is not None:
            return None
        cls = ry.MappingStartEvent if kind is _py.MappingStartEvent else ry.SequenceStartEvent
        return cls(event.anchor, None, event.implicit, start, end, flow_style=event.flow_style)
    if kind is _py.MappingEndEvent:
        return ry.MappingEndEvent(start, end)
    if kind is _py.SequenceEndEvent:
        return ry.SequenceEndEvent(start, end)
    if kind is _py.AliasEvent:
        return ry.AliasEvent(event.anchor, start, end)
    if kind is _py.DocumentStartEvent:
        if event.version is not None or event.tags:
            return None
        return ry.DocumentStartEvent(start, end, explicit=event.explicit)
    if kind is _py.DocumentEndEvent:
        return ry.DocumentEndEvent(start, end, explicit=event.explicit)
    if kind is _py.StreamStartEvent:
        return ry.StreamStartEvent(start, end)
    if kind is _py.StreamEndEvent:
        return ry.StreamEndEvent(start, end)
    return None


class Replay:
    """A ruamel Parser that hands out events made beforehand (`YAML.Parser = Replay`, then `yaml.parser.feed`)."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        loader._parser = self
        self._events: list[Any] = []
        self._next = 0

    def feed(self, made: list[Any]) -> None:
        self._events, self._next = made, 0

    def check_event(self, *choices: Any) -> bool:
        if self._next >= len(self._events):
            return False
        return not choices or isinstance(self._events[self._next], choices)

    def peek_event(self) -> Any:
        return self._events[self._next] if self._next < len(self._events) else None

    def get_event(self) -> Any:
        event = self.peek_event()
        self._next += 1
        return event

    def dispose(self) -> None:
        self._events, self._next = [], 0


class DirectComposer(Composer):
    """ruamel's Composer holding its parser and resolver, which it otherwise looks up through the loader for every
    event (`YAML.Composer = DirectComposer` beside `YAML.Parser = Replay`)."""

    parser: Any = None
    resolver: Any = None

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self.parser = loader.parser
        self.resolver = loader.resolver
