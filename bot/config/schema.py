"""The JSON Schema (draft 2020-12) of the config folder, built from the models and the routines' settings models
and sections (passed in as Extensions), for editors (docs/config.schema.json) and `partnerbot schema`.
Loading and validating the YAML is loader.py's job.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from bot.config.extensions import Extensions
from bot.config.models import Config

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def config_schema(extensions: Extensions) -> dict[str, Any]:
    """One document for the whole config. Every top-level key is optional because each YAML file holds only some
    of them and editors validate file by file; the loader checks that the required ones are present somewhere.
    The extensions' platform names are the keys members' ids and channels take."""
    schema = Config.model_json_schema(mode="validation")
    schema.pop("required", None)
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    routines: dict[str, Any] = {}
    for name, model in sorted(extensions.routines.items()):
        # `norms:` with nothing after it is read as "run with the defaults".
        routines[name] = {"anyOf": [{"$ref": _define(defs, model)}, {"type": "null"}]}
    for section in extensions.sections:
        schema["properties"][section.key] = {
            "title": section.key.capitalize(),
            "description": section.description,
            "type": "object",
            "additionalProperties": {"$ref": _define(defs, section.model)},
        }
    team_routines = defs["Team"]["properties"]["routines"]
    defs["Team"]["properties"]["routines"] = {
        "title": team_routines.get("title", "Routines"),
        "description": team_routines.get("description", ""),
        "type": "object",
        "properties": routines,
        "additionalProperties": False,
    }
    if extensions.platforms:
        names = {"enum": list(extensions.platforms)}
        defs["Member"]["properties"]["ids"]["propertyNames"] = names
        defs["Team"]["properties"]["channels"]["propertyNames"] = names
        defs["Team"]["properties"]["constituency_channels"]["additionalProperties"]["propertyNames"] = names
        defs["Party"]["properties"]["channels"]["propertyNames"] = names
    return {
        "$schema": DIALECT,
        **schema,
        "title": "Partnerbot config",
        "description": "The YAML files of a Partnerbot config folder, merged: each file holds some top-level keys.",
    }


def _define(defs: dict[str, Any], model: type[BaseModel]) -> str:
    """Add `model` (and the models it uses) to the shared $defs; returns the reference to it."""
    schema = model.model_json_schema(mode="validation")
    schema.get("properties", {}).pop("key", None)  # filled from the mapping key, never written by admins
    for def_name, definition in {**schema.pop("$defs", {}), schema["title"]: schema}.items():
        if defs.get(def_name, definition) != definition:
            raise RuntimeError(f"two config models are both named {def_name}; rename one")
        defs[def_name] = definition
    return f"#/$defs/{schema['title']}"


def config_schema_json(extensions: Extensions) -> str:
    """The schema as committed in docs/config.schema.json (stable key order, trailing newline)."""
    return json.dumps(config_schema(extensions), indent=2, ensure_ascii=False) + "\n"
