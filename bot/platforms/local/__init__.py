"""The local workspace: the bot without Slack or Teams, in a terminal (and in tests). Live when no other platform is.

adapter.py (typed lines -> neutral Commands and Actions; the Platform), renderer.py (messages as text),
outbound.py (posts kept and printed). Nothing to install.
"""

from __future__ import annotations

from bot.platforms.base import PlatformSetup
from bot.platforms.local.adapter import LocalWorkspace
from bot.platforms.local.outbound import LocalPost


def create(setup: PlatformSetup) -> LocalWorkspace:
    rt = setup.runtime
    local = LocalWorkspace(rt.db, rt.clock, echo=setup.echo, timezone=rt.config.organisation.timezone)
    local.inbound = setup.inbound
    return local


__all__ = ["LocalPost", "LocalWorkspace", "create"]
