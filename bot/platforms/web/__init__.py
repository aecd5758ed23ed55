"""The web workspace: the local workspace (platform name `local`) in a browser, at http://localhost:3978/ when no
Slack or Teams credentials are set. Live when no other platform is (the registry's fallback).

adapter.py (pages and form posts in as neutral Commands and Actions; live updates; the demo clock controls),
renderer.py (neutral messages and health figures as HTML, Jinja2 with autoescape), outbound.py (posts stored as the
terminal's are, announced to open pages), dashboard.py (the co-chairs' health pages behind signed links, served on
every platform); templates/ and static/ hold the pages, a stylesheet and a little plain JavaScript, and nothing from
another host. The terminal (bot/platforms/local) works on the same posts when one is attached. Nothing to install.
"""

from __future__ import annotations

from bot.platforms.base import PlatformSetup
from bot.platforms.web.adapter import WebWorkspace


def create(setup: PlatformSetup) -> WebWorkspace:
    """The registry's factory (bot/platforms/registry.py)."""
    workspace = WebWorkspace(setup.runtime, echo=setup.echo)
    workspace.inbound = setup.inbound
    return workspace


__all__ = ["WebWorkspace", "create"]
