"""The local workspace in a terminal (and in tests): the bot without Slack or Teams, typed at line by line. The
registry builds the web workspace (bot/platforms/web), which extends this one, so both show the same posts.

adapter.py (typed lines -> neutral Commands and Actions; the Platform), renderer.py (messages as text),
outbound.py (posts kept in the database and printed). Nothing to install.
"""

from __future__ import annotations

from bot.platforms.local.adapter import LocalWorkspace
from bot.platforms.local.outbound import LocalPost

__all__ = ["LocalPost", "LocalWorkspace"]
