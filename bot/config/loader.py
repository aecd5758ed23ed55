"""Loading a config folder: every *.yaml / *.yml file -> one validated Config, or a ConfigError that lists every
problem with file:line:col. Shapes are in models.py, cross-object rules in checks.py, the .ics import in ics.py.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from bot.config import fastparse
from bot.config.checks import Parts, cross_checks
from bot.config.errors import ConfigError, Issue, Loc, Problem, describe, did_you_mean, format_path
from bot.config.errors import issues_from_validation as _from_pydantic
from bot.config.extensions import ConfigSection, Extensions
from bot.config.ics import read_ics
from bot.config.models import Calendar, Config, Member, Organisation, Party, Team

M = TypeVar("M", bound=BaseModel)

__all__ = ["ConfigError", "Problem", "load_config", "locate", "summary"]

CORE_KEYS: tuple[str, ...] = tuple(name for name in Config.model_fields if name not in ("folder", "sections"))
# `$${X}` escapes a literal `${X}`; only `${NAME}` with a shell-style name is a reference.
_REFERENCE = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SECRET_KEY = re.compile(r"(?:^|[^a-z])(?:token|secret|password)s?(?:$|[^a-z])")


def load_config(folder: str | Path, extensions: Extensions, *, env: Mapping[str, str] | None = None) -> Config:
    """Read, check and assemble the config in `folder` for the routines, their sections and the platform names in
    `extensions` (bot/assembly.py gives this build's). `env` (default os.environ) resolves ${VAR} references."""
    reader = _Reader(Path(folder), os.environ if env is None else env)
    data = reader.read()
    config = _assemble(data, reader, extensions) if reader.files else None
    if reader.problems or config is None:
        raise ConfigError(sorted(reader.problems, key=lambda p: (p.file, p.line or 0, p.column or 0)))
    return config


def locate(folder: str | Path, issues: Iterable[Issue], *, env: Mapping[str, str] | None = None) -> list[Problem]:
    """File, line and column of issues found in a config that loaded from `folder` (the warnings of `validate`)."""
    reader = _Reader(Path(folder), os.environ if env is None else env)
    reader.read()
    reader.problems = []
    for issue in issues:
        reader.issue(issue)
    return reader.problems


def summary(config: Config) -> str:
    """One line for `partnerbot validate`."""
    counts = {
        "team": len(config.teams),
        "member": len(config.members),
        "meeting series": sum(len(team.meetings) for team in config.teams.values()),
        "routine": sum(len(team.routines) for team in config.teams.values()),
    }
    parts = [f"{n} {noun}" if n == 1 or noun.endswith("series") else f"{n} {noun}s" for noun, n in counts.items()]
    return f"OK: {', '.join(parts)} ({config.organisation.name})"


class _Reader:
    """Reads the YAML files and remembers, for each top-level key, which file and node it came from, so that an
    issue at any key path can be given a file, line and column."""

    def __init__(self, folder: Path, env: Mapping[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.files: list[Path] = []
        self.sources: dict[str, tuple[Path, CommentedMap]] = {}  # top-level key -> (file, that file's mapping)
        self.libyaml: set[Path] = set()  # files parsed by libyaml (fastparse.py): marks come from a second reading
        self._marked: dict[Path, CommentedMap] = {}
        self.problems: list[Problem] = []
        # A file that could not be read hides its keys: then "missing" keys and unknown references are guesses.
        self.unreadable = False

    def read(self) -> dict[str, Any]:
        if not self.folder.is_dir():
            self._problem(self.folder, None, "the config folder does not exist", "point at the folder with the YAML")
            return {}
        self.files = sorted(p for p in self.folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not self.files:
            self._problem(self.folder, None, "no .yaml files in the config folder", "add organisation.yaml and others")
        data: dict[str, Any] = {}
        for path in self.files:
            document = self._parse(path)
            if document is None:
                continue
            for key, value in document.items():
                if key in self.sources:
                    first = _display(self.sources[key][0])
                    found = f"the top-level key {key!r} is in both {first} and {_display(path)}"
                    where = self.marked(path, document).lc.key(key)
                    self._problem(path, where, found, "keep each top-level key in one file", str(key))
                    continue
                self.sources[key] = (path, document)
                data[key] = self._plain(value, (key,))
        return data

    def _parse(self, path: Path) -> CommentedMap | None:
        document = self._load(path)
        if document is not None and not isinstance(document, CommentedMap):
            found = f"found {describe(document)} at the top of the file"
            self._problem(path, (0, 0), found, f"expected a mapping with some of: {', '.join(CORE_KEYS)}")
            self.unreadable = True
            return None
        return document  # None for an empty file, or one with only comments

    def marked(self, path: Path, document: CommentedMap) -> CommentedMap:
        """`document` (read from `path`) with the line and column marks of ruamel's own parser."""
        if path not in self.libyaml:
            return document
        if path not in self._marked:
            try:
                self._marked[path] = _pure(path.read_bytes().decode("utf-8"))
            except Exception:  # changed since: libyaml's marks are close
                self._marked[path] = document
        return self._marked[path]

    def _load(self, path: Path) -> Any:
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8")
            made = fastparse.events(text)
            if made is not None and (document := _replayed(made, text)) is not _NOT_READ:
                self.libyaml.add(path)
                return document
            return _pure(text)
        except MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            where = (mark.line, mark.column) if mark else None
            expected = (
                "each key may appear once in a mapping"
                if isinstance(error, DuplicateKeyError)
                else "check the indentation, colons and quotes here or on the line before"
            )
            self._problem(path, where, f"invalid YAML: {error.problem or error.context}", expected)
        except ReaderError as error:  # a character YAML does not allow anywhere (NUL, most control characters)
            text = raw.decode("utf-8")
            before = text[: error.position]
            where = (before.count("\n"), error.position - (before.rfind("\n") + 1))
            found = f"a character YAML does not allow (U+{error.character:04X})"
            self._problem(path, where, found, "delete it, or write it inside a quoted string as an escape")
        except UnicodeDecodeError as error:
            before = raw[: error.start]
            where = (before.count(b"\n"), error.start - (before.rfind(b"\n") + 1))
            self._problem(path, where, f"a byte that is not UTF-8 text ({raw[error.start]:#04x})", "save it as UTF-8")
        except OSError as error:
            self._problem(path, None, f"cannot read the file: {error}", "check that it exists and may be read")
        self.unreadable = True
        return None

    def _plain(self, node: Any, loc: Loc) -> Any:
        """ruamel's node -> plain Python (what pydantic validates), with ${VAR} references replaced."""
        if isinstance(node, dict):
            plain = {}
            for key, value in node.items():
                plain[key] = self._plain(value, (*loc, key))
                if isinstance(key, str) and _SECRET_KEY.search(key.lower()) and _literal_secret(value):
                    found = f"a literal secret in {key!r} (not shown here)"
                    expected = f"secrets come from the environment: write '{key}: ${{SOME_VARIABLE}}' and set it"
                    self.issue(Issue((*loc, key), found, expected))
            return plain
        if isinstance(node, list):
            return [self._plain(value, (*loc, index)) for index, value in enumerate(node)]
        if isinstance(node, str):
            return self._expand(str(node), loc)
        if isinstance(node, ScalarBoolean):  # ruamel keeps an anchored boolean as an int subclass
            return bool(node)
        return node  # int, float, date, datetime, None: pydantic reads ruamel's subclasses as the base types

    def _expand(self, text: str, loc: Loc) -> str:
        def replace(match: re.Match[str]) -> str:
            escaped, name = match.groups()
            if escaped:
                return "${" + name + "}"
            if name not in self.env:
                found = f"the environment variable {name!r} is not set"
                self.issue(Issue(loc, found, f"set {name} in the bot's environment, or remove the reference"))
                return match[0]
            return self.env[name]

        return _REFERENCE.sub(replace, text)

    def issue(self, issue: Issue) -> None:
        source = self.sources.get(str(issue.loc[0]))
        if source is None:
            self.problems.append(
                Problem(_display(self.folder), None, None, format_path(issue.loc), issue.found, issue.expected)
            )
            return
        path, document = source
        line, column = _position(self.marked(path, document), issue.loc, issue.at_key)
        self.problems.append(
            Problem(_display(path), line + 1, column + 1, format_path(issue.loc), issue.found, issue.expected)
        )

    def _problem(self, path: Path, where: tuple[int, int] | None, found: str, expected: str, key: str = "") -> None:
        line, column = (where[0] + 1, where[1] + 1) if where else (None, None)
        self.problems.append(Problem(_display(path), line, column, key, found, expected))


_NOT_READ = object()


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Constructor = _DatesAsWritten
    return yaml


def _pure(text: str) -> Any:
    return _yaml().load(text)


def _replayed(made: list[Any], text: str) -> Any:
    """The document ruamel builds from libyaml's events (bot/config/fastparse.py)."""
    yaml = _yaml()
    yaml.Parser = fastparse.Replay
    yaml.Composer = fastparse.DirectComposer
    yaml.parser.feed(made)
    try:
        return yaml.load(text)
    except Exception:  # a duplicate key, say: ruamel's own parser reads the file again and reports it
        return _NOT_READ


class _DatesAsWritten(RoundTripConstructor):
    """YAML reads 2027-02-30 as a date and fails outright; kept as the text written, the field that wanted a date
    reports it with its file, line and column like any other wrong value."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return super().construct_yaml_timestamp(node, values)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)


_DatesAsWritten.add_default_constructor("timestamp")


def _literal_secret(value: Any) -> bool:
    """A value written out in the YAML rather than a ${VAR} reference (nested mappings are checked key by key)."""
    if value is None or isinstance(value, dict | list):
        return False
    match = _REFERENCE.fullmatch(value.strip()) if isinstance(value, str) else None
    return match is None or bool(match[1])


def _position(document: CommentedMap, loc: Loc, at_key: bool) -> tuple[int, int]:
    """0-based line and column of the node at `loc`, or of the nearest node above it that exists."""
    node: Any = document
    where: tuple[int, int] = document.lc.key(loc[0])
    for depth, part in enumerate(loc):
        last = depth == len(loc) - 1
        if isinstance(node, CommentedMap) and part in node:
            value = node[part]
            # Point at a scalar value (where the typo is); at the key of a block, an empty value or an unknown key.
            scalar = value is not None and not isinstance(value, CommentedMap | CommentedSeq)
            where = node.lc.value(part) if last and scalar and not at_key else node.lc.key(part)
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            value = node[part]
            where = node.lc.item(part)
        else:
            break
        node = value
    return where


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# --- assembling the parts ------------------------------------------------------------------------------------


def _assemble(data: dict[str, Any], reader: _Reader, extensions: Extensions) -> Config | None:
    top_level = (*CORE_KEYS, *(section.key for section in extensions.sections))
    for key in data:
        if key not in top_level:
            hint = did_you_mean(str(key), top_level) or f"the top-level keys are {', '.join(top_level)}"
            reader.issue(Issue((key,), f"unknown top-level key {key!r}", hint, at_key=True))
    for key in [] if reader.unreadable else CORE_KEYS:
        if Config.model_fields[key].is_required() and key not in data:
            reader.issue(Issue((key,), f"missing top-level key {key!r}", f"add it to a file such as {key}.yaml"))

    # A missing organisation is reported above as a missing top-level key, not again as an empty one.
    organisation = (
        _validate(Organisation, data["organisation"], ("organisation",), reader) if "organisation" in data else None
    )
    calendar = _validate(Calendar, data.get("calendar", {}), ("calendar",), reader)
    members_raw = _mapping(data.get("members", {}), "members", reader)
    teams_raw = {key: _prepare_team(raw, key, reader) for key, raw in _mapping(data.get("teams", {}), "teams", reader)}
    members_raw = [(key, _old_platform_ids(raw, key, reader)) for key, raw in members_raw]
    members = {key: m for key, raw in members_raw if (m := _validate_keyed(Member, raw, "members", key, reader))}
    teams = {key: t for key, raw in teams_raw.items() if (t := _validate_keyed(Team, raw, "teams", key, reader))}
    sections = {section.key: _section(section, data.get(section.key, {}), reader) for section in extensions.sections}

    if not reader.unreadable:
        section_keys = {s.context_name: list(sections[s.key]) for s in extensions.sections}
        parts = Parts(
            organisation,
            members,
            teams,
            [k for k, _ in members_raw],
            list(teams_raw),
            extensions,
            section_keys,
            _parties(data.get("organisation")),
        )
        for issue in cross_checks(parts):
            reader.issue(issue)
    if calendar is not None:
        calendar = _import_ics(calendar, reader)

    if reader.problems or organisation is None or calendar is None:
        return None
    return Config(
        organisation=organisation,
        calendar=calendar,
        members=members,
        teams=teams,
        sections=sections,
        folder=str(reader.folder),
    )


def _parties(organisation: Any) -> dict[str, Party | None]:
    """organisation.parties entry by entry (None where one does not validate: the organisation's own validation
    reports why), so the cross checks know every party key even when one party is broken."""
    raw = organisation.get("parties") if isinstance(organisation, dict) else None
    if not isinstance(raw, dict):
        return {}
    found: dict[str, Party | None] = {}
    for key, entry in raw.items():
        try:
            found[str(key)] = Party.model_validate({**entry, "key": key} if isinstance(entry, dict) else entry)
        except ValidationError:
            found[str(key)] = None
    return found


def _section(section: ConfigSection, raw: Any, reader: _Reader) -> dict[str, Any]:
    """A routine's own top-level mapping (the pulse's `surveys:`), checked by the routine's validator."""
    if not isinstance(raw, dict):
        found = f"found {describe(raw)}"
        reader.issue(Issue((section.key,), found, f"expected a mapping of key -> {section.context_name}"))
        return {}
    try:
        section.validate(raw)
    except ValidationError as error:
        for issue in _from_pydantic(error, section.model, (section.key,)):
            reader.issue(issue)
    return raw


def _validate(model: type[M], raw: Any, loc: Loc, reader: _Reader) -> M | None:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        for issue in _from_pydantic(error, model, loc):
            reader.issue(issue)
        return _salvage(model, raw, error)


def _salvage(model: type[M], raw: Any, error: ValidationError) -> M | None:
    """The object without its broken fields, when it stands without them: it is never returned to the caller of
    load_config, but lets the cross checks still look at a team whose meetings have a typo (all errors at once)."""
    if not isinstance(raw, dict):
        return None
    broken = {item["loc"][0] for item in error.errors() if item["loc"]}
    sound = {key: value for key, value in raw.items() if key in model.model_fields and key not in broken}
    try:
        return model.model_validate(sound)
    except ValidationError:
        return None  # a required field is broken


def _validate_keyed(model: type[M], raw: Any, section: str, key: str, reader: _Reader) -> M | None:
    """A member or team: its key comes from the mapping, so a `key:` inside it would only disagree."""
    if isinstance(raw, dict):
        if "key" in raw:
            expected = f"its key is its name in the `{section}:` mapping ({key!r}); remove this line"
            reader.issue(Issue((section, key, "key"), "unknown key 'key'", expected, at_key=True))
        raw = {**raw, "key": key}
    return _validate(model, raw, (section, key), reader)


# Before platform ids became a mapping, members had one field per platform.
_OLD_ID_FIELDS = {"slack_id": "slack", "teams_id": "teams"}


def _old_platform_ids(raw: Any, key: str, reader: _Reader) -> Any:
    """`slack_id:` / `teams_id:` are reported with the new spelling (and left out, so that is the only problem)."""
    if not isinstance(raw, dict) or not any(name in raw for name in _OLD_ID_FIELDS):
        return raw
    for name, platform in _OLD_ID_FIELDS.items():
        if name in raw:
            found = f"{name!r} is no longer a member field"
            expected = f"platform ids are one mapping now: write 'ids: {{{platform}: {raw[name]}}}'"
            reader.issue(Issue(("members", key, name), found, expected, at_key=True))
    return {name: value for name, value in raw.items() if name not in _OLD_ID_FIELDS}


def _mapping(raw: Any, section: str, reader: _Reader) -> list[tuple[str, Any]]:
    if isinstance(raw, dict):
        return [(str(key), value) for key, value in raw.items()]
    noun = section.rstrip("s")
    expected = (
        f"expected a mapping from each {noun}'s key (such as {'maria' if noun == 'member' else 'district'}) to it"
    )
    reader.issue(Issue((section,), f"found {describe(raw)}", expected))
    return []


def _prepare_team(raw: Any, key: str, reader: _Reader) -> Any:
    """Fill what an admin may leave out of a team: meeting keys, and `norms:` with no settings."""
    if not isinstance(raw, dict):
        return raw
    team = dict(raw)
    if isinstance(team.get("routines"), dict):
        team["routines"] = {name: {} if settings is None else settings for name, settings in team["routines"].items()}
    if isinstance(team.get("meetings"), list):
        team["meetings"] = _name_meetings(team["meetings"], key, reader)
    return team


def _name_meetings(meetings: list[Any], team: str, reader: _Reader) -> list[Any]:
    """Unnamed series get `meeting`, `meeting-2`, ...: keys end up in stored occurrence keys, so they must be unique."""
    used: set[str] = set()
    for index, meeting in enumerate(meetings):
        if isinstance(meeting, dict) and "key" in meeting:
            if meeting["key"] in used:
                found = f"the meeting key {meeting['key']!r} is used twice in this team"
                reader.issue(Issue(("teams", team, "meetings", index, "key"), found, "give each series its own key"))
            used.add(str(meeting["key"]))
    free = (name for name in _meeting_names() if name not in used)
    return [{**m, "key": next(free)} if isinstance(m, dict) and "key" not in m else m for m in meetings]


def _meeting_names() -> Iterator[str]:
    yield "meeting"
    number = 2
    while True:
        yield f"meeting-{number}"
        number += 1


def _import_ics(calendar: Calendar, reader: _Reader) -> Calendar:
    holidays, breaks = list(calendar.holidays), list(calendar.breaks)
    for index, name in enumerate(calendar.ics):
        loc = ("calendar", "ics", index)
        path = reader.folder / name
        if not path.is_file():
            reader.issue(
                Issue(loc, f"the file {name!r} does not exist", f"give a path relative to {_display(reader.folder)}")
            )
            continue
        try:
            more_holidays, more_breaks = read_ics(path)
        except ValueError as error:
            reader.issue(Issue(loc, str(error), "export the calendar again as .ics (iCalendar)"))
            continue
        holidays += more_holidays
        breaks += more_breaks
    return calendar.model_copy(update={"holidays": holidays, "breaks": breaks})
