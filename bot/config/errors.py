"""Config problems a person can act on: where (file:line:col, key path), what was found, what is expected, and the
translation of pydantic's errors into such sentences. Finding the YAML node for a key path is loader.py's job.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic.json_schema import SkipJsonSchema

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Issue:
    """A problem known by its key path only; the loader turns it into a Problem with a file, line and column."""

    loc: Loc
    found: str
    expected: str = ""
    at_key: bool = False  # point at the key itself (unknown keys) rather than at its value


@dataclass(frozen=True)
class Problem:
    file: str  # relative to the working directory when possible
    line: int | None  # 1-based; None when the problem has no place in a file (a missing top-level key)
    column: int | None
    path: str  # key path such as members.maria.side or teams.district.meetings[0].rule
    found: str  # what is wrong, e.g. "found 'union'" or "unknown time zone 'America/Los_Angles'"
    expected: str = ""  # what would be right, or how to fix it

    @property
    def message(self) -> str:
        return f"{self.found}; {self.expected}" if self.expected else self.found

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line is not None else self.file
        return ": ".join(part for part in (where, self.path, self.message) if part)


class ConfigError(Exception):
    """Every problem found in a config folder; str() gives one line per problem."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def format_path(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def describe(value: Any) -> str:
    """A short account of a YAML value for 'found ...' (whole mappings would drown the message)."""
    if value is None:
        return "an empty value"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def issues_from_validation(error: ValidationError, model: type[BaseModel], prefix: Loc) -> list[Issue]:
    """pydantic's errors for `model` validated at `prefix` -> human sentences at full key paths."""
    issues = []
    for item in error.errors():
        # Drop pydantic's internal tags (validator or union member names): they name no YAML key.
        local: Loc = tuple(p for p in item["loc"] if isinstance(p, int) or not _PYDANTIC_TAG.fullmatch(p))
        issues.append(_issue(item, model, local, (*prefix, *local)))
    return issues


# How pydantic names a validator or a union member in an error's location: "function-after[check(), str]",
# "tagged-union[...]", "list[str]". (A YAML key such as "name[" or "rule[2" is kept: it does not end so.)
_PYDANTIC_TAG = re.compile(r"[a-z][a-z-]*\[.*\]|function-[a-z-]+")


def _issue(item: Any, model: type[BaseModel], local: Loc, loc: Loc) -> Issue:
    kind, value, ctx = item["type"], item.get("input"), item.get("ctx") or {}
    if not local and kind in ("extra_forbidden", "missing"):
        kind = "unnamed"  # no key to name: described by the generic case at the end
    if kind == "extra_forbidden":
        name = str(local[-1])
        known = field_names(model, local[:-1])
        hint = did_you_mean(name, known) or (f"known keys: {', '.join(known)}" if known else "")
        return Issue(loc, f"unknown key {name!r}", hint, at_key=True)
    if kind == "missing":
        if isinstance(local[-1], int):
            return Issue(loc, f"missing item {local[-1] + 1}", "add it to the list")
        field = _field(model, local)
        detail = _choices(field.annotation) if field else ""
        detail = detail or (field.description if field and field.description else "")
        return Issue(loc, f"missing key {local[-1]!r}", f"add '{local[-1]}:'" + (f" ({detail})" if detail else ""))
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = did_you_mean(str(value), choices)
        return Issue(
            loc, f"found {describe(value)}", f"expected one of {', '.join(choices)}" + (f"; {hint}" if hint else "")
        )
    if kind in ("value_error", "assertion_error"):
        # Our validators write "what is wrong; how to fix it"; keep their words.
        found, _, expected = str(ctx.get("error", item["msg"])).partition("; ")
        return Issue(loc, found, expected)
    if kind.startswith("date"):
        return Issue(loc, f"found {describe(value)}", "expected a date written YYYY-MM-DD, for example 2026-09-07")
    if kind in ("model_type", "dict_type", "list_type"):
        shape = "a list ('- item' lines or [a, b])" if kind == "list_type" else "a mapping ('key: value' lines)"
        return Issue(loc, f"found {describe(value)}", f"expected {shape}")
    message = item["msg"]
    expected = "expected " + message.removeprefix("Input should be ") if message.startswith("Input should") else message
    return Issue(loc, f"found {describe(value)}", expected[0].lower() + expected[1:])


def _unwrap(annotation: Any) -> Any:
    """Annotated[X, ...] -> X and X | None -> X, so a walk reaches the model or container inside."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            others = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(others) != 1:
                return annotation
            annotation = others[0]
        else:
            return annotation


def _type_at(model: type[BaseModel], local: Loc) -> Any:
    annotation: Any = model
    for part in local:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) in (list, tuple, dict) and get_args(annotation):
            annotation = get_args(annotation)[-1 if get_origin(annotation) is dict else 0]
        else:
            return None
    return _unwrap(annotation)


def field_names(model: type[BaseModel], local: Loc) -> list[str]:
    """The keys the model at `local` (a path inside `model`) accepts; [] when that is not a model."""
    found = _type_at(model, local)
    if isinstance(found, type) and issubclass(found, BaseModel):
        # Fields the loader fills are not keys an admin writes: leave them out of hints.
        return [n for n, f in found.model_fields.items() if not any(isinstance(m, SkipJsonSchema) for m in f.metadata)]
    return []


def _field(model: type[BaseModel], local: Loc) -> FieldInfo | None:
    parent = _type_at(model, local[:-1])
    if isinstance(parent, type) and issubclass(parent, BaseModel):
        return parent.model_fields.get(str(local[-1]))
    return None


def _choices(annotation: Any) -> str:
    annotation = _unwrap(annotation)
    return f"one of {', '.join(map(str, get_args(annotation)))}" if get_origin(annotation) is Literal else ""
