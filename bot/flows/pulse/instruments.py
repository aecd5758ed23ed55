"""Survey instruments as config: the shape of `surveys:` in surveys.yaml, validate_surveys() (the hook the config
loader calls through the routine's ConfigSection) and the instruments of a loaded config. Running surveys is not here.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from bot.config import Config

log = logging.getLogger(__name__)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scale(_Strict):
    """The answer scale: points `first`..`first + len(labels) - 1`, one label per point."""

    kind: Literal["agreement", "bipolar", "frequency", "other"] = "agreement"
    first: int = Field(default=1, description="the number of the first point (usually 1)")
    labels: list[str] = Field(min_length=2, max_length=11, description="one label per point, lowest first")

    @property
    def points(self) -> tuple[int, ...]:
        return tuple(range(self.first, self.first + len(self.labels)))

    @property
    def last(self) -> int:
        return self.first + len(self.labels) - 1

    def reverse(self, value: int) -> int:
        """A reverse-scored answer: on a 1..k scale, v counts as k + 1 - v."""
        return self.first + self.last - value


class Item(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40, description="stable id, lower_snake_case")
    measures: str = Field(
        alias="construct", min_length=1, max_length=60, description="the construct; results are per construct"
    )
    text: str = Field(min_length=3, description="the statement or question, in our own words")
    reverse: bool = Field(default=False, description="negatively worded: scored as first + last - value")
    anchors: tuple[str, str] | None = Field(
        default=None, description="for a bipolar scale: the statements at the low and the high end"
    )
    source: str = Field(min_length=1, description="`partnerbot` for items of our own design, else a citation")


class FreeText(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    text: str = Field(min_length=3)
    source: str = "partnerbot"


class Instrument(_Strict):
    key: str = ""  # filled from the mapping key
    name: str = Field(min_length=1)
    purpose: str = Field(min_length=10, description="why we ask: shown in every invitation")
    who_sees: str = Field(min_length=10, description="who sees the results and how they are used")
    source: str = Field(min_length=1, description="where the construct comes from")
    scale: Scale
    items: list[Item] = Field(min_length=1, max_length=25)
    constructs: dict[str, str] = Field(
        default_factory=dict, description="construct -> display name (default: the construct, capitalised)"
    )
    free_text: list[FreeText] = Field(default_factory=list, max_length=3, description="optional open questions")
    side_breakdown: bool = Field(default=True, description="store each answer's side so results can be split by side")

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        seen: set[str] = set()
        for item in [*self.items, *self.free_text]:
            if item.id in seen:
                raise ValueError(f"the id {item.id!r} is used twice; every item and question needs its own id")
            seen.add(item.id)
        if self.scale.kind == "bipolar":
            missing = [item.id for item in self.items if item.anchors is None]
            if missing:
                raise ValueError(f"a bipolar scale needs `anchors: [low end, high end]` on items {', '.join(missing)}")
        unknown = set(self.constructs) - {item.measures for item in self.items}
        if unknown:
            raise ValueError(f"`constructs` names {', '.join(sorted(unknown))}, which no item measures")
        return self

    def construct_order(self) -> list[str]:
        """Constructs in the order their first item appears."""
        return list(dict.fromkeys(item.measures for item in self.items))

    def construct_name(self, construct: str) -> str:
        return self.constructs.get(construct) or construct.replace("_", " ").capitalize()

    def snapshot(self) -> dict[str, Any]:
        """The instrument as JSON, frozen into a run."""
        return self.model_dump(mode="json", by_alias=True)


_INSTRUMENTS = TypeAdapter(dict[str, Instrument])


def validate_surveys(raw: dict[str, Any]) -> dict[str, Instrument]:
    """The `surveys:` mapping as validated instruments; raises pydantic.ValidationError whose error locations start
    with the instrument key (for example ("trust", "items", 2, "text")), so the loader can point at file:line:col."""
    filled = {key: ({**value, "key": key} if isinstance(value, dict) else value) for key, value in raw.items()}
    return _INSTRUMENTS.validate_python(filled)


def configured_instruments(config: Config) -> dict[str, Instrument]:
    """The instruments of a loaded config by key; none when surveys.yaml does not validate. Validated once per
    config (a config is immutable and replaced whole on reload): a district-wide pulse opens 1,000 runs at once."""
    if _VALIDATED[0] is config:
        return _VALIDATED[1]
    try:
        instruments = validate_surveys(config.sections.get("surveys", {}))
    except ValidationError:
        log.exception("surveys.yaml does not validate; pulse runs cannot open")  # `partnerbot validate` says where
        instruments = {}
    _VALIDATED[:] = [config, instruments]
    return instruments


_VALIDATED: list[Any] = [None, {}]  # the last config asked about, and its instruments
