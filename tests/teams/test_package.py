"""`partnerbot teams-package`: the zip unzips to a manifest with every field its declared schema version (1.17)
requires, ids that match the configured app id, the registry's commands, and both icons at the required sizes."""

from __future__ import annotations

import argparse
import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from bot.platforms.teams import install as teams_install

APP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"

# Required by MicrosoftTeams.schema.json v1.17, as the app manifest reference lists them.
REQUIRED_TOP = {"manifestVersion", "version", "id", "developer", "name", "description", "icons", "accentColor"}
REQUIRED_DEVELOPER = {"name", "websiteUrl", "privacyUrl", "termsOfUseUrl"}


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

    assert manifest["manifestVersion"] == "1.17" and "/v1.17/" in manifest["$schema"]
    assert set(manifest) >= REQUIRED_TOP
    assert set(manifest["developer"]) >= REQUIRED_DEVELOPER
    assert all(manifest["developer"][k].startswith("https://") for k in REQUIRED_DEVELOPER - {"name"})
    assert 0 < len(manifest["name"]["short"]) <= 30 and len(manifest["name"]["full"]) <= 100
    assert 0 < len(manifest["description"]["short"]) <= 80 and 0 < len(manifest["description"]["full"]) <= 4000
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert len(manifest["accentColor"]) == 7 and manifest["accentColor"].startswith("#")

    assert manifest["id"] == APP_ID
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID and {"personal", "team"} <= set(bot["scopes"])
    [commands] = bot["commandLists"]
    titles = [c["title"] for c in commands["commands"]]
    assert titles[0] == "help" and "norms" in titles and len(titles) <= 10
    assert all(len(c["title"]) <= 32 and 0 < len(c["description"]) <= 128 for c in commands["commands"])

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
