"""`partnerbot teams-package`: the Teams app package (manifest.json, color.png, outline.png, zipped) that an admin
uploads to Teams. The command menus come from the routine catalog, so the package cannot drift from help.

Teams shows at most ten command hints per scope, so each scope gets the ten its people use most (MENUS, chosen
below and documented in docs/install-teams.md); `help` lists everything else.

Only the package lives here; the running bot is the rest of bot/platforms/teams/. Steps: docs/install-teams.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import uuid
import zipfile
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from bot.flows.api import Catalog
from bot.flows.catalog import CATALOG

MANIFEST_VERSION = "1.23"
SCHEMA_URL = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
ACCENT = (46, 94, 78)  # a calm green; also the color icon's background
MAX_COMMANDS = 10  # Teams shows at most 10 command hints per list
MAX_TITLE = 32  # longer titles are cut off in the Teams compose box

# The ten commands people use most in each scope, most used first. In a personal chat people ask about themselves
# (home, their deliverables, their role) and answer; in a team's channel or a group chat the co-chairs run the
# routines (pulse start and close, norms report) and members look things up together. A command of a routine that
# is not in the catalog is left out; `help` lists every command either way.
PERSONAL = "personal"
TEAM = "team"
MENUS: dict[str, tuple[str, ...]] = {
    PERSONAL: (
        "help",
        "home",
        "deliverables mine",
        "roles",
        "roles swap",
        "pulse results",
        "norms",
        "deliverables status",
        "summary",
        "summary show",
    ),
    TEAM: (
        "help",
        "pulse start",
        "pulse close",
        "pulse results",
        "roles",
        "norms",
        "norms report",
        "deliverables",
        "deliverables add",
        "summary show",
    ),
}
SCOPES = {PERSONAL: [PERSONAL], TEAM: [TEAM, "groupChat"]}
SHORT_NAME = "Partnerbot"
FULL_NAME = "Partnerbot for labor-management partnership teams"
SHORT_DESCRIPTION = "Runs the routines of labor-management partnership teams."


def full_description(catalog: Catalog = CATALOG) -> str:
    """What the Teams app store page says, with the routines of the catalog."""
    routines = "; ".join(routine.title for routine in catalog.routines)
    return (
        f"Partnerbot helps school district labor-management partnership teams keep their routines: {routines}. "
        "Mention @Partnerbot in your team's channel or chat with it directly; say help to start."
    )


def command_hints(scope: str, catalog: Catalog = CATALOG) -> list[dict[str, str]]:
    """The command menu of one scope (MENUS), as Teams bot command hints."""
    declared = {" ".join(spec.words): spec for spec in catalog.commands.values()}
    hints = []
    for title in MENUS[scope]:
        if title == "help":
            hints.append({"title": "help", "description": "Everything Partnerbot can do for you"})
        elif (spec := declared.get(title)) is not None:
            description = spec.help + (" (co-chairs)" if spec.who == "co-chair" else "")
            hints.append({"title": title[:MAX_TITLE], "description": description[:128]})
    return hints[:MAX_COMMANDS]


def build_manifest(app_id: str, website: str, privacy: str, terms: str, app_version: str) -> dict[str, Any]:
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": app_version,
        "id": app_id,
        "developer": {"name": "Partnerbot", "websiteUrl": website, "privacyUrl": privacy, "termsOfUseUrl": terms},
        "name": {"short": SHORT_NAME, "full": FULL_NAME},
        "description": {"short": SHORT_DESCRIPTION, "full": full_description()},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": [PERSONAL, TEAM, "groupChat"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": SCOPES[scope], "commands": command_hints(scope)} for scope in (PERSONAL, TEAM)
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
    }


def _png(image: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def color_icon() -> bytes:
    """192x192, full color: two white linked rings (a partnership) on the accent color."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (192, 192), (*ACCENT, 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse((34, 56, 114, 136), outline=(255, 255, 255, 255), width=12)
    draw.ellipse((78, 56, 158, 136), outline=(255, 255, 255, 255), width=12)
    return _png(image)


def outline_icon() -> bytes:
    """32x32, transparent background, white outline only (as Teams requires for the outline icon)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)  # no anti-aliasing: every pixel is pure white or fully transparent
    draw.ellipse((3, 8, 19, 24), outline=(255, 255, 255, 255), width=2)
    draw.ellipse((13, 8, 29, 24), outline=(255, 255, 255, 255), width=2)
    return _png(image)


def write_package(path: str, manifest: dict[str, Any]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2))
        package.writestr("color.png", color_icon())
        package.writestr("outline.png", outline_icon())


def _app_version() -> str:
    try:
        return version("partnerbot")
    except PackageNotFoundError:
        return "0.1.0"


def cmd_teams_package(args: argparse.Namespace) -> int:
    app_id = (args.app_id or os.environ.get("MICROSOFT_APP_ID", "")).strip()
    try:
        uuid.UUID(app_id)
    except ValueError:
        print(
            "teams-package needs the bot's Microsoft App ID (a GUID from the Azure Bot registration): "
            "set MICROSOFT_APP_ID or pass --app-id.",
            file=sys.stderr,
        )
        return 2
    if not args.website.startswith("https://"):
        print("--website must be an https:// address (Teams requires it)", file=sys.stderr)
        return 2
    manifest = build_manifest(
        app_id, args.website, args.privacy_url or args.website, args.terms_url or args.website, args.version
    )
    write_package(args.out, manifest)
    menus = ", ".join(f"{len(menu['commands'])} {menu['scopes'][0]}" for menu in manifest["bots"][0]["commandLists"])
    print(f"wrote {args.out} (app id {app_id}, manifest {MANIFEST_VERSION}, command menus: {menus})")
    return 0


def add_cli(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "teams-package", help="build the Teams app package (manifest.json and icons, zipped)"
    )
    parser.add_argument("--app-id", help="the bot's Microsoft App ID (default $MICROSOFT_APP_ID)")
    parser.add_argument("--out", default="partnerbot-teams.zip", help="zip file to write")
    parser.add_argument(
        "--website", required=True, help="https page about Partnerbot in your organisation (shown in Teams)"
    )
    parser.add_argument("--privacy-url", help="privacy statement (default: --website)")
    parser.add_argument("--terms-url", help="terms of use (default: --website)")
    parser.add_argument("--version", default=_app_version(), help="app version, raise it for every re-upload")
    parser.set_defaults(func=cmd_teams_package)
