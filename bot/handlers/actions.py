"""Button presses, scale taps and form submissions: find the routine's declared handler and run it for a known
member. Handlers themselves make a second press harmless (one answer per person, status already set).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.flows.api import ActionInvocation, Refused, UsageError, said
from bot.handlers.commands import SORRY
from bot.inbound import Action, Reply, printable
from bot.metrics import count
from bot.runtime import Runtime

log = logging.getLogger(__name__)


def dispatch_action(rt: Runtime, action: Action) -> Reply:
    """Every press and form gets an answer: its result, a refusal, or (for a bug of ours) an apology."""
    action = replace(
        action,
        value=printable(action.value),
        form={printable(k): printable(v or "") for k, v in action.form.items()},
    )
    try:
        return _dispatch(rt, action)
    except Exception:
        log.exception("action %s failed", action.action_id)
        count("partnerbot_command_errors_total", "commands and actions that failed with an unexpected error")
        return Reply.say(SORRY)


def _dispatch(rt: Runtime, action: Action) -> Reply:
    member = rt.config.members.get(action.member or "")
    if member is None:
        return Reply.say("Your account isn't linked to a member in the partnership's config, so I can't record that.")
    handler = rt.catalog.actions.get(action.action_id)
    if handler is None:
        log.warning("no handler for action %s", action.action_id)
        return Reply.say("That button no longer does anything; it may belong to an older message.")
    try:
        return handler(rt, ActionInvocation(action, member, rt.clock.now()))
    except (UsageError, Refused) as problem:
        return Reply.say(said(problem))
