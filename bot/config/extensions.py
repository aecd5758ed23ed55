"""What the config loader learns from outside bot/config: the routines' settings models, the top-level sections
routines own (the pulse's `surveys:`), and the platform names. Passed in, never imported, so bot/config depends on
no routine and no platform.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class ConfigSection:
    """A top-level config key a routine owns: how to validate it and how to describe it.

    `validate(raw)` raises pydantic.ValidationError located inside the section; `model` is the model of one entry
    (for the JSON Schema and error wording); its entry keys reach routine settings validation as `<context_name>_keys`.
    """

    key: str  # "surveys"
    model: type[BaseModel]
    validate: Callable[[dict[str, Any]], object]
    context_name: str  # "survey"
    description: str


@dataclass(frozen=True)
class Extensions:
    routines: Mapping[str, type[BaseModel]] = field(default_factory=dict)  # routine name -> settings model
    sections: tuple[ConfigSection, ...] = ()
    platforms: Collection[str] = ()  # the platform names that members' ids and teams' channels may use
