"""`partnerbot teams-package`: the zip unzips to a manifest valid against the official schema of the version it declares
(1.23), with ids that match the configured app id, a command menu per scope, and both icons at the required sizes."""

from __future__ import annotations

import argparse
import io
import json
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from PIL import Image

from bot.flows.catalog import CATALOG
from bot.handlers.commands import help_message
from bot.inbound import Command
from bot.platforms.teams import install as teams_install
from bot.store.db import Database
from tests.support import runtime, ten_member_team

APP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
ROOT = Path(__file__).resolve().parents[2]

# Required by MicrosoftTeams.schema.json, as the app manifest reference lists them.
REQUIRED_TOP = {"manifestVersion", "version", "id", "developer", "name", "description", "icons", "accentColor"}
REQUIRED_DEVELOPER = {"name", "websiteUrl", "privacyUrl", "termsOfUseUrl"}


def manifest_schema(version: str) -> dict[str, Any]:
    """The official manifest schema (not vendored: its repository states no licence; see tests/teams/schemas/)."""
    name = f"teams-manifest-{version}.json"
    places = [Path(os.environ["PARTNERBOT_SPECS"])] if os.environ.get("PARTNERBOT_SPECS") else []
    places += [parent / "shared" / "specs" for parent in ROOT.parents]
    for place in places:
        if (place / name).is_file():
            text = (place / name).read_text(encoding="utf-8")
            schema = json.loads(text)
            return _without_unicode_classes(schema)
    pytest.skip(f"{name} not found: set PARTNERBOT_SPECS to the folder of the official Teams manifest schemas")


# One pattern (extensionFunction names) matches Unicode letters with \p{L}, which Python's re cannot read; this is
# the same pattern with [^\W\d_] (a word character that is neither a digit nor "_": a letter) for \p{L}.
LETTER_PATTERNS = {"^[\\p{L}][\\p{L}0-9._]*$": "^[^\\W\\d_](?:[^\\W\\d_]|[0-9._])*$"}


def _without_unicode_classes(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: LETTER_PATTERNS.get(v, v) if k == "pattern" else _without_unicode_classes(v) for k, v in node.items()
        }
    if isinstance(node, list):
        return [_without_unicode_classes(v) for v in node]
    return node


def build(tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "partnerbot.zip"
    assert run("--app-id", APP_ID, "--website", "https://district.example/partnerbot", "--out", str(out)) == 0
    with zipfile.ZipFile(out) as package:
        return dict(json.loads(package.read("manifest.json")))


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="partnerbot")
    teams_install.add_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["teams-package", *argv])
    return int(args.func(args))


def test_package_has_a_complete_manifest_matching_the_app_id_and_both_icons(tmp_path: Path) -> None:
    out = tmp_path / "partnerbot.zip"
    assert run("--app-id", APP_ID, "--website", "https://district.example/partnerbot", "--out", str(out)) == 0

    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        color = Image.open(io.BytesIO(package.read("color.png")))
        outline = Image.open(io.BytesIO(package.read("outline.png")))

    assert manifest["manifestVersion"] == "1.23" and "/v1.23/" in manifest["$schema"]
    assert set(manifest) >= REQUIRED_TOP
    assert set(manifest["developer"]) >= REQUIRED_DEVELOPER
    assert all(manifest["developer"][k].startswith("https://") for k in REQUIRED_DEVELOPER - {"name"})
    assert 0 < len(manifest["name"]["short"]) <= 30 and len(manifest["name"]["full"]) <= 100
    assert 0 < len(manifest["description"]["short"]) <= 80 and 0 < len(manifest["description"]["full"]) <= 4000
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert len(manifest["accentColor"]) == 7 and manifest["accentColor"].startswith("#")

    assert manifest["id"] == APP_ID
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID and {"personal", "team", "groupChat"} <= set(bot["scopes"])
    personal, team = bot["commandLists"]
    assert personal["scopes"] == ["personal"] and team["scopes"] == ["team", "groupChat"]
    for menu in (personal, team):
        assert len(menu["commands"]) == 10 and menu["commands"][0]["title"] == "help"
        assert all(len(c["title"]) <= 32 and 0 < len(c["description"]) <= 128 for c in menu["commands"])

    assert color.size == (192, 192)
    assert outline.size == (32, 32) and outline.mode == "RGBA"
    pixels = {outline.getpixel((x, y)) for x in range(32) for y in range(32)}
    assert (255, 255, 255, 255) in pixels and all(p[3] == 0 or p[:3] == (255, 255, 255) for p in pixels)
    assert any(p[3] == 0 for p in pixels)  # transparent background


def test_app_id_comes_from_the_environment_and_must_be_a_guid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p.zip"
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    assert run("--website", "https://d.example", "--out", str(out)) == 0
    with zipfile.ZipFile(out) as package:
        assert json.loads(package.read("manifest.json"))["bots"][0]["botId"] == APP_ID

    monkeypatch.setenv("MICROSOFT_APP_ID", "not-a-guid")
    assert run("--website", "https://d.example", "--out", str(tmp_path / "q.zip")) == 2
    assert "MICROSOFT_APP_ID" in capsys.readouterr().err and not (tmp_path / "q.zip").exists()


def test_the_manifest_validates_against_the_official_schema_of_its_version(tmp_path: Path) -> None:
    manifest = build(tmp_path)
    schema = manifest_schema(manifest["manifestVersion"])
    Draft4Validator.check_schema(schema)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in Draft4Validator(schema).iter_errors(manifest)
    ]
    assert not errors, "\n".join(errors)
    broken = {**manifest, "accentColor": "green", "bots": [{**manifest["bots"][0], "scopes": ["everywhere"]}]}
    assert len(list(Draft4Validator(schema).iter_errors(broken))) == 2  # the schema does catch mistakes


def test_each_scope_menu_holds_the_ten_most_used_commands_and_help_lists_the_rest(
    tmp_path: Path, sqlite_db: Database
) -> None:
    manifest = build(tmp_path)
    personal, team = ([c["title"] for c in menu["commands"]] for menu in manifest["bots"][0]["commandLists"])
    assert personal[:4] == ["help", "home", "deliverables mine", "roles"]
    assert {"pulse start", "pulse close", "pulse results", "roles", "norms"} <= set(team)  # missing from the old menu
    declared = {" ".join(spec.words) for spec in CATALOG.commands.values()}
    assert set(personal + team) - {"help"} <= declared  # every hint is a real command
    rest = declared - set(personal) - set(team)
    assert rest, "some commands are only in help"
    rt = runtime(ten_member_team({}), sqlite_db, datetime(2026, 12, 1, tzinfo=UTC))
    listed = help_message(rt, Command("teams", "29:l1", "l1", "help", None, None), []).plain()  # a co-chair
    assert all(f"/partner {title}" in listed for title in rest)
