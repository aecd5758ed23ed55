"""`/partner dashboard`: a co-chair's private, signed, expiring link to their team's health page (read-only), served
by the bot's own HTTP server. The page itself is bot/platforms/web/dashboard.py; signing is bot/links.py.
"""

from __future__ import annotations

from bot.flows.api import Invocation, UsageError, command
from bot.inbound import Reply
from bot.links import dashboard_link
from bot.messages import Context, Message, Text, link, md
from bot.runtime import Runtime
from bot.store.models import AuditEntry


@command(
    "dashboard",
    help="a private link to your team's health page: trust, norms, roles, deliverables (read-only, expires in a day)",
    who="co-chair",
)
def dashboard(rt: Runtime, inv: Invocation) -> Reply:
    if inv.args:
        raise UsageError(md("`/partner dashboard` takes no arguments (got `{}`).", " ".join(inv.args)))
    url, expires = dashboard_link(rt, inv.team.key, inv.member.key)
    until = expires.astimezone(rt.config.team_tz(inv.team)).strftime("%a %b %-d at %-I:%M %p")
    with rt.db.session() as session:
        session.add(AuditEntry(at=inv.now, team=inv.team.key, actor=inv.member.key, action="dashboard.link", detail={}))
    return Reply(
        private=Message(
            (
                Text(link(url, f"Open the {inv.team.name} health page")),
                Context(
                    f"Only for you: anyone holding this link can read the page until {until}. "
                    "It shows what the team sees in chat, with the same minimum group sizes."
                ),
            ),
            f"Your {inv.team.name} health page: {url}",
        )
    )
