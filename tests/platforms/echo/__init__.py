"""Echo: a chat platform that exists only in the tests, to prove that adding a platform is one package plus one
registry entry. Live when ECHO=on; its registry entry is handed to build_app(extra_platforms=[ENTRY]).

adapter.py (typed lines in as neutral Commands; the Platform), renderer.py (messages as text), outbound.py (what was
sent, kept in memory). Nothing to install.
"""

from __future__ import annotations

from bot.platforms.base import PlatformSetup
from bot.platforms.entry import PlatformEntry
from tests.platforms.echo.adapter import EchoPlatform


def create(setup: PlatformSetup) -> EchoPlatform | None:
    if setup.env.get("ECHO") != "on":
        return None
    return EchoPlatform(setup.inbound)


# The one line a real platform adds to bot/platforms/registry.py.
ENTRY = PlatformEntry("echo", "tests.platforms.echo:create")
