"""Platforms at the edge: every platform package has the same layout, listing platforms loads no SDK, the SDK
contract covers every module outside bot.platforms, bot.web and bot.app, and the platform modules form no cycle."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from bot.platforms.registry import PLATFORM_NAMES, PLATFORMS

REPO = Path(__file__).resolve().parents[2]
LAYOUT = {"__init__.py", "adapter.py", "renderer.py", "outbound.py"}
SDK_HOMES = {"bot.platforms", "bot.web", "bot.app"}


def test_every_platform_package_has_the_same_layout() -> None:
    for entry in PLATFORMS:
        assert isinstance(entry.factory, str)
        module, _, function = entry.factory.partition(":")
        assert module.startswith("bot.platforms.") and module.count(".") == 2 and function == "create"
        package = REPO / "bot" / "platforms" / module.rsplit(".", 1)[1]
        assert {p.name for p in package.glob("*.py")} >= LAYOUT, f"{package} lacks part of {sorted(LAYOUT)}"
    # The local workspace has two packages, the browser's (its factory) and the terminal's: both keep the layout.
    for package in (REPO / "bot" / "platforms").iterdir():
        if (package / "adapter.py").is_file():
            assert {p.name for p in package.glob("*.py")} >= LAYOUT, f"{package} lacks part of {sorted(LAYOUT)}"
    assert (REPO / "bot/platforms/slack/install.py").is_file() and (REPO / "bot/platforms/teams/install.py").is_file()


def test_listing_the_platforms_imports_no_sdk() -> None:
    code = (
        "import sys; from bot.platforms.registry import PLATFORM_NAMES; import bot.config, bot.identity, "
        "bot.audience; print(PLATFORM_NAMES, [m for m in ('slack_bolt', 'slack_sdk', 'microsoft_agents', 'aiohttp') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"{PLATFORM_NAMES!r} []"


def test_the_sdk_contract_covers_every_module_outside_the_edge() -> None:
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    sdk = next(c for c in contracts if "microsoft_agents" in c["forbidden_modules"])
    tops = {f"bot.{p.stem}" for p in (REPO / "bot").iterdir() if p.suffix == ".py" and p.stem != "__init__"}
    tops |= {f"bot.{p.name}" for p in (REPO / "bot").iterdir() if (p / "__init__.py").is_file()}
    assert tops - SDK_HOMES == set(sdk["source_modules"])


def test_no_bot_framework_sdk_remains() -> None:
    """botbuilder-python is archived (support ended 2025-12-31): Teams runs on the Microsoft 365 Agents SDK."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    assert not [r for r in requirements if r.lower().startswith(("botbuilder", "msrest", "microsoft-teams"))]
    sources = [p for folder in ("bot", "tests", "bench", "migrations") for p in (REPO / folder).rglob("*.py")]
    imports = re.compile(r"^\s*(from|import)\s+(botbuilder|msrest)\b", re.MULTILINE)
    assert not [str(p) for p in sources if imports.search(p.read_text(encoding="utf-8"))]
