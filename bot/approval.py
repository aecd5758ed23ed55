"""Joint approval by a team's co-chairs, the one place for the rule: one co-chair per chairing party, and a joint
communication goes out once every co-chair (or the team's quorum, `approval: 2 of 3`) has approved. What a routine
asks approval for, where it keeps the pending proposal, and what it does once approved, stay in the routine; the
proposal's shape (`new_proposal`, `with_approval`), the request message and the wording are here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.config import Config, Team
from bot.messages import Button, Buttons, Context, Header, Message, Text

NUMBERS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


@dataclass(frozen=True)
class Approval:
    """Where a joint approval stands: the team's co-chairs, how many must approve, and who has."""

    co_chairs: tuple[str, ...]
    needed: int
    approved: tuple[str, ...]  # co-chairs who approved, in the team's co-chair order

    @property
    def complete(self) -> bool:
        return len(self.approved) >= self.needed

    @property
    def waiting(self) -> tuple[str, ...]:
        """Co-chairs who have not approved (yet)."""
        return tuple(c for c in self.co_chairs if c not in self.approved)

    @property
    def still_needed(self) -> int:
        return max(0, self.needed - len(self.approved))


def approval_of(team: Team, approvals: Mapping[str, Any] | Iterable[str]) -> Approval:
    """The state of an approval from who has approved (a mapping keyed by member, or keys); approvals by anyone
    who is not (or no longer) a co-chair do not count."""
    given = set(approvals)
    return Approval(tuple(team.co_chairs), team.approvals_needed, tuple(c for c in team.co_chairs if c in given))


def the_co_chairs(team: Team) -> str:
    """'both co-chairs', 'the three co-chairs'."""
    count = len(team.co_chairs)
    return "both co-chairs" if count == 2 else f"the {NUMBERS.get(count, str(count))} co-chairs"


def who_approves(team: Team) -> str:
    """The rule in words: 'both co-chairs', 'all three co-chairs', '2 of the 3 co-chairs'."""
    count, needed = len(team.co_chairs), team.approvals_needed
    if needed >= count:
        return "both co-chairs" if count == 2 else f"all {NUMBERS.get(count, str(count))} co-chairs"
    return f"{needed} of the {count} co-chairs"


def still_waiting(config: Config, approval: Approval) -> str:
    """What is missing, in words: 'Robert Kim approves', 'Ana Costa and Luis Ramirez approve', 'one more of
    Ana Costa or Luis Ramirez approves'."""
    names = [config.members[c].name if c in config.members else c for c in approval.waiting]
    if approval.still_needed >= len(names):
        return f"{_joined(names, 'and')} approve{'s' if len(names) == 1 else ''}"
    more = "one more" if approval.still_needed == 1 else f"{approval.still_needed} more"
    return f"{more} of {_joined(names, 'or')} approve{'s' if approval.still_needed == 1 else ''}"


def approved_by(config: Config, approval: Approval) -> str:
    """Who approved, by party (never by name, for what goes beyond the team): 'the co-chairs from the Teachers
    Association, the Classified Employees and District management'."""
    parties = [config.party_of(c).name for c in approval.approved if c in config.members]
    return f"the co-chairs from {_joined(parties, 'and')}" if parties else "the co-chairs"


def _joined(words: list[str], last: str) -> str:
    if len(words) <= 2:
        return f" {last} ".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


# --- a proposal waiting for the co-chairs, as a routine stores it (a JSON column) ----------------------------------


def new_proposal(previous: Mapping[str, Any] | None, by: str, now: datetime, **what: Any) -> dict[str, Any]:
    """A new proposal: its round (one more than the last, so buttons of an earlier one go stale), who proposed it
    (a co-chair's own proposal counts as their approval), and what it is."""
    number = int((previous or {}).get("round", 0)) + 1
    return {"round": number, "by": by, "approvals": {by: now.isoformat()}, **what}


def with_approval(pending: Mapping[str, Any], member: str, now: datetime) -> dict[str, Any]:
    return {**pending, "approvals": {**pending.get("approvals", {}), member: now.isoformat()}}


def still_up(pending: Mapping[str, Any] | None, number: str) -> bool:
    """Whether buttons carrying a proposal's round `number` still act on it: it waits, and it is that round."""
    return bool(pending) and "by" in (pending or {}) and str((pending or {}).get("round")) == number


def withdrawn(pending: Mapping[str, Any] | None) -> dict[str, Any]:
    """Nothing waits any more (held back, or carried out); the round number stays, so its buttons go stale."""
    return {"round": (pending or {}).get("round", 0)}


def approve_pending(
    config: Config, team: Team, pending: Mapping[str, Any], member: str, now: datetime, effect: str
) -> tuple[dict[str, Any], Approval, str]:
    """A co-chair's approval of a waiting proposal: the proposal with it, where the approval stands, and (while more
    approvals are needed) what to tell them: 'You approved. {effect} once Pria Shah approves too.'"""
    updated = with_approval(pending, member, now)
    approval = approval_of(team, updated["approvals"])
    note = "" if approval.complete else f"You approved. {effect} once {still_waiting(config, approval)} too."
    return updated, approval, note


def request_message(
    team: Team, title: str, body: str, approve_action: str, hold_action: str, value: str, hold_label: str = "Not yet"
) -> Message:
    """What each other co-chair gets: the proposal, the rule, and Approve / hold buttons carrying `value`."""
    return Message(
        (
            Header(title),
            Text(body),
            Context(
                f"It goes ahead only when {who_approves(team)} approve. {hold_label} tells the co-chair who asked."
            ),
            Buttons((Button("Approve", approve_action, value, "primary"), Button(hold_label, hold_action, value))),
        ),
        title,
    )
