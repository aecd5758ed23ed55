"""The commands every bot has whatever its routines: `home` (the member's view across routines). `help` is part of
the grammar itself (commands.py). The default catalog adds this module's declarations to the routines'.
"""

from __future__ import annotations

from bot.flows.api import Invocation, UsageError, command
from bot.handlers.events import home_view
from bot.inbound import Reply
from bot.messages import md
from bot.runtime import Runtime


@command("home", help="your upcoming roles, open surveys, deliverables and next meetings", about_one_team=False)
def show_home(rt: Runtime, inv: Invocation) -> Reply:
    # The same view as Slack's App Home tab, for Teams and the local workspace (and Slack users who prefer it).
    if inv.args:
        raise UsageError(md("`/partner home` takes no arguments (got `{}`).", " ".join(inv.args)))
    return Reply(private=home_view(rt, inv.member.key))
