"""The meeting-summary form: its fields, the one-item-per-line syntax the note-taker writes, a strict parser that
reports problems by field and line, and the attribution check; pure (no storing, approving or publishing here).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date

from bot.config import Config, Member, Party, Team
from bot.identity import known_handles
from bot.messages import Form, FormField
from bot.people import find_member

MIN_TALKING_POINTS = 3
MAX_TALKING_POINTS = 5
REQUIRED = ("attendance",)  # the form marks and enforces it; the rest may stay empty

# (name, label, hint). All multiline; a hint says the line syntax with an example (docs/summary.md has the table).
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("overview", "Overview", "A few sentences: what the meeting was about and what came of it."),
    ("attendance", "Attendance", "One line each: who was there (names are fine here). Example: 8 of 10 members"),
    (
        "decisions",
        "Decisions",
        "One per line: decision | why: reason | by: team, co-chairs or a committee key. "
        "Example: Pilot co-teaching in three schools | why: caseloads are uneven | by: team",
    ),
    (
        "action_items",
        "Action items",
        "One per line: task | owner: member | due: YYYY-MM-DD, optionally | committee: key. "
        "Example: Draft the survey | owner: maria | due: 2027-01-15 | committee: special-education",
    ),
    (
        "discussion",
        "Key discussion points",
        "One per line; speakers by role only. Example: A principal noted coverage gaps",
    ),
    ("open_questions", "Open questions", "One per line: what is carried to the next meeting."),
    (
        "talking_points",
        f"Talking points ({MIN_TALKING_POINTS} to {MAX_TALKING_POINTS}, or none)",
        "One per line: point | for: constituencies | messenger: who. "
        "Example: Co-teaching starts in January | for: teachers' union, principals | messenger: union president",
    ),
    ("next_meeting", "Next meeting", "Date, time and place of the next meeting, and what to prepare."),
    ("notes", "Free notes", "Paste anything else; it is kept as typed and not published."),
)
LINE_FIELDS = ("attendance", "discussion", "open_questions")


@dataclass(frozen=True)
class Decision:
    text: str
    why: str
    by: str


@dataclass(frozen=True)
class ActionItem:
    title: str
    owners: tuple[str, ...]  # member keys
    due: date
    committee: str  # team key


@dataclass(frozen=True)
class TalkingPoint:
    text: str
    constituencies: tuple[str, ...]
    messenger: str


@dataclass
class ParsedSummary:
    overview: str = ""
    attendance: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    action_items: list[ActionItem] = field(default_factory=list)
    discussion: list[str] = field(default_factory=list)
    open_questions: list[str] = field(default_factory=list)
    talking_points: list[TalkingPoint] = field(default_factory=list)
    next_meeting: str = ""
    notes: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def summary_form(action_id: str, value: str, saved: Mapping[str, str], intro: str, next_default: str = "") -> Form:
    defaults = {"next_meeting": next_default}
    fields = [
        FormField(
            name,
            label,
            "multiline",
            required=name in REQUIRED,
            initial=saved.get(name) or defaults.get(name, ""),
            hint=hint,
        )
        for name, label, hint in FIELDS
    ]
    fields.append(
        FormField(
            "then",
            "Then",
            "choice",
            options=(
                ("send", "send to the co-chairs for approval"),
                ("draft", "save as a draft and come back later"),
                ("send_anyway", "send even if the attribution check finds names"),
            ),
            required=False,
            initial="send",
        )
    )
    return Form("Meeting summary", action_id, tuple(fields), value=value, submit_label="Save", intro=intro)


def _lines(text: str) -> list[tuple[int, str]]:
    return [(n, line.strip().lstrip("-*• ").strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _parts(line: str, allowed: tuple[str, ...]) -> tuple[str, dict[str, str], list[str]]:
    """`head | key: value | key: value` -> head, {key: value}, problems (bad pairs, repeated or unknown keys)."""
    head, *rest = (part.strip() for part in line.split("|"))
    found: dict[str, str] = {}
    problems = []
    for part in rest:
        key, sep, value = part.partition(":")
        key = key.strip().lower()
        if not sep or not value.strip():
            problems.append(f"`{part}` should be `key: value`")
        elif key in found:
            problems.append(f"`{key}:` is given twice")
        elif key not in allowed:
            problems.append(f"unknown `{key}:` (use {', '.join(f'`{k}:`' for k in allowed)})")
        else:
            found[key] = value.strip()
    return head, found, problems


def _items(
    raw: Mapping[str, str], name: str, allowed: tuple[str, ...], problem: Callable[[str, int, str], None]
) -> Iterator[tuple[int, str, dict[str, str]]]:
    """Each non-empty line of a field as (line number, head, keys), its shape problems already reported."""
    for number, line in _lines(raw.get(name, "")):
        head, keys, bad = _parts(line, allowed)
        for text in bad:
            problem(name, number, text)
        if not head:
            problem(name, number, "the item itself is missing before the first `|`")
        yield number, head, keys


def _names(value: str, *, split_and: bool = True) -> list[str]:
    """Comma-separated names; people may also be joined by "and" (constituency labels may contain it)."""
    return [v.strip() for v in re.split(r",|\band\b" if split_and else ",", value) if v.strip()]


def known_constituencies(config: Config, team: Team, extra: Iterable[str] = ()) -> list[str]:
    """Whom talking points may be for: the team's constituency bindings, its members' constituencies, the
    parties at its table (by name) and the routine's extra labels."""
    labels = {*team.constituency_channels, *extra}
    labels |= {m.constituency for m in config.team_members(team) if m.constituency}
    labels |= {config.parties[key].name for key in config.team_parties(team)}
    return sorted(labels)


def parse_summary(
    config: Config, team: Team, raw: Mapping[str, str], *, constituencies: Iterable[str] = ()
) -> ParsedSummary:
    """Every field, strictly. Problems are collected per field as `line N: ...` so the form can show them all."""
    out = ParsedSummary(overview=raw.get("overview", "").strip(), next_meeting=raw.get("next_meeting", "").strip())
    out.notes = raw.get("notes", "")
    problems: dict[str, list[str]] = {}

    def problem(name: str, number: int, text: str) -> None:
        problems.setdefault(name, []).append(f"line {number}: {text}")

    for name in LINE_FIELDS:
        setattr(out, name, [line for _, line in _lines(raw.get(name, ""))])

    for number, head, keys in _items(raw, "decisions", ("why", "by"), problem):
        if not keys.get("why"):
            problem("decisions", number, "add the reason: `| why: ...`")
        by = keys.get("by", "")
        if not by:
            problem("decisions", number, "say who decided: `| by: team`, `| by: co-chairs` or `| by: <committee>`")
        elif _decider(config, by) is None:
            problem("decisions", number, f"`by: {by}` is not the team, the co-chairs or a committee key")
        if head and keys.get("why") and by and _decider(config, by):
            out.decisions.append(Decision(head, keys["why"], _decider(config, by) or by))

    for number, head, keys in _items(raw, "action_items", ("owner", "owners", "due", "committee"), problem):
        owners: list[str] = []
        owner_text = keys.get("owner") or keys.get("owners") or ""
        if not owner_text:
            problem("action_items", number, "add who owns it: `| owner: <member>`")
        for name in _names(owner_text):
            member = find_member(config, name)
            if member is None:
                problem("action_items", number, f"no member called `{name}` (use a member key or full name)")
            else:
                owners.append(member.key)
        due: date | None = None
        if not keys.get("due"):
            problem("action_items", number, "add a due date: `| due: YYYY-MM-DD`")
        else:
            try:
                due = date.fromisoformat(keys["due"])
            except ValueError:
                problem("action_items", number, f"`due: {keys['due']}` is not a date like 2027-01-15")
        committee = keys.get("committee", team.key)
        if committee not in config.teams:
            problem("action_items", number, f"no team or committee with key `{committee}`")
        if head and owners and due and committee in config.teams and len(owners) == len(_names(owner_text)):
            out.action_items.append(ActionItem(head, tuple(owners), due, committee))

    allowed = known_constituencies(config, team, constituencies)
    # A party may be named by its key too (`for: rta`); it stands for the party's name.
    lowered = {key.lower(): config.parties[key].name for key in config.team_parties(team)}
    lowered |= {c.lower(): c for c in allowed}
    points = _lines(raw.get("talking_points", ""))
    if len(points) > MAX_TALKING_POINTS:
        problems.setdefault("talking_points", []).append(
            f"{len(points)} talking points: keep {MAX_TALKING_POINTS} at most, short enough to repeat"
        )
    elif 0 < len(points) < MIN_TALKING_POINTS:
        count = f"{len(points)} talking point{'s' if len(points) != 1 else ''}"
        problems.setdefault("talking_points", []).append(
            f"{count}: write {MIN_TALKING_POINTS} to {MAX_TALKING_POINTS}, or none if the team agreed none"
        )
    for number, head, keys in _items(raw, "talking_points", ("for", "messenger"), problem):
        targets = []
        for name in _names(keys.get("for", ""), split_and=False):
            if name.lower() in lowered:
                targets.append(lowered[name.lower()])
            else:
                known = ", ".join(allowed) or "none configured"
                problem("talking_points", number, f"unknown constituency `{name}` (known: {known})")
        if not keys.get("for"):
            problem("talking_points", number, "say for whom: `| for: <constituency>, ...`")
        if not keys.get("messenger"):
            problem("talking_points", number, "say who carries it: `| messenger: <role>`")
        if head and targets and keys.get("messenger") and len(targets) == len(_names(keys["for"], split_and=False)):
            out.talking_points.append(TalkingPoint(head, tuple(targets), keys["messenger"]))

    for name in REQUIRED:
        if not raw.get(name, "").strip():
            problems.setdefault(name, []).append("required: " + _REQUIRED_WHY.get(name, "fill it in"))
    out.errors = {name: "; ".join(texts) for name, texts in problems.items()}
    return out


_REQUIRED_WHY = {"attendance": "say who attended (for example '8 of 10 members')"}


def _decider(config: Config, by: str) -> str | None:
    lowered = by.strip().lower()
    if lowered in ("team", "the team"):
        return "the team"
    if lowered in ("co-chairs", "cochairs", "the co-chairs", "co-chair"):
        return "the co-chairs"
    key = lowered.removeprefix("committee").strip()
    if key in config.teams:
        return config.teams[key].name
    return None


# --- no personal attributions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attribution:
    where: str  # "talking point 2", "discussion point 1"
    text: str
    member: Member
    matched: str


def _patterns(member: Member) -> list[str]:
    words = {member.name, member.name.split()[0], *known_handles(member)}
    return sorted((w for w in words if len(w) >= 2), key=len, reverse=True)


def attributions(config: Config, team: Team, parsed: ParsedSummary) -> list[Attribution]:
    """Every talking point and discussion point that names a team member (name, first name or handle)."""
    found = []
    members = config.team_members(team)
    checked = [(f"talking point {i}", p.text) for i, p in enumerate(parsed.talking_points, 1)]
    checked += [(f"discussion point {i}", text) for i, text in enumerate(parsed.discussion, 1)]
    for where, text in checked:
        for member in members:
            for word in _patterns(member):
                match = re.search(rf"(?<![\w@])@?{re.escape(word)}(?!\w)", text, re.IGNORECASE)
                if match:
                    found.append(Attribution(where, text, member, match.group(0)))
                    break
    return found


def role_wording(member: Member, party: Party) -> str:
    """How to name a speaker without naming them: 'a principal', 'one union representative'."""
    if member.role:
        article = "an" if member.role[0].lower() in "aeiou" else "a"
        return f"{article} {member.role.lower()}"
    by_side = {"labor": "one union representative", "management": "one district administrator"}
    return by_side.get(party.side, f"a representative of {party.name}")
