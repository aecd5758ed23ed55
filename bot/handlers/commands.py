"""The /partner grammar: split the text, find the longest declared subcommand, resolve the person and team,
check who may use it, run it. Every problem is answered privately with the usage of the subcommand concerned.
"""

from __future__ import annotations

import difflib
import logging
import shlex
from dataclasses import replace

from bot.config import Team
from bot.flows.api import Catalog, CommandSpec, Invocation, Refused, UsageError, said
from bot.inbound import Command, Reply, printable
from bot.messages import Context, Header, Markdown, Message, Text, md, unescape
from bot.metrics import count
from bot.runtime import Runtime

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side and nothing was changed. The admins can find the details in the log."


def dispatch_command(rt: Runtime, command: Command) -> Reply:
    """Every command gets an answer: its result, its usage, a refusal, or (for a bug of ours) an apology."""
    command = replace(command, text=printable(command.text))
    try:
        return _dispatch(rt, command)
    except Exception:
        log.exception("/partner command failed: %s", command.text[:200])
        count("partnerbot_command_errors_total", "commands and actions that failed with an unexpected error")
        return Reply.say(SORRY)


def _dispatch(rt: Runtime, command: Command) -> Reply:
    try:
        words = shlex.split(command.text)
    except ValueError:
        words = command.text.split()
    words, team_key = _pop_team_option(words)
    if not words or words[0] in ("help", "?"):
        return Reply(private=help_message(rt, command, words[1:] if words else []))

    spec, args = _match(rt.catalog, words)
    if spec is None:
        return Reply(private=_unknown(rt.catalog, words))
    member = rt.config.members.get(command.member or "")
    if member is None:
        return Reply.say(
            "I don't know you yet: your account isn't linked to a member in the partnership's config. "
            "Ask an admin to add your id or e-mail to members.yaml."
        )
    team = _resolve_team(rt, member.key, team_key or command.team)
    if isinstance(team, Reply):
        teams = rt.config.teams_of(member.key)
        if spec.about_one_team or not teams or team_key:
            return team
        team = teams[0]  # the command is about the person, not a team: any of their teams gives it context
    if spec.who == "co-chair" and not rt.config.is_co_chair(team, member.key):
        chairs = " and ".join(rt.config.members[k].name for k in team.co_chairs if k in rt.config.members)
        return Reply(
            private=Message.text(
                md("Only the co-chairs of {} ({}) or an admin can use `{}`.", team.name, chairs, spec.usage)
            )
        )
    try:
        return spec.handler(rt, Invocation(command, member, team, args, rt.clock.now()))
    except UsageError as problem:
        return Reply(private=usage_message(spec, said(problem)))
    except Refused as problem:
        return Reply.say(said(problem))


def _pop_team_option(words: list[str]) -> tuple[list[str], str | None]:
    """`--team KEY` (or `team:KEY`) anywhere picks the team when the channel does not say."""
    rest: list[str] = []
    team: str | None = None
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--team" and i + 1 < len(words):
            team, i = words[i + 1], i + 2
            continue
        if word.startswith("team:") or word.startswith("--team="):
            team = word.split(":", 1)[1] if word.startswith("team:") else word.split("=", 1)[1]
        else:
            rest.append(word)
        i += 1
    return rest, team


def _match(catalog: Catalog, words: list[str]) -> tuple[CommandSpec | None, list[str]]:
    lowered = [w.lower() for w in words]
    for length in range(len(lowered), 0, -1):
        spec = catalog.commands.get(tuple(lowered[:length]))
        if spec is not None:
            return spec, words[length:]
    return None, words


def _resolve_team(rt: Runtime, member_key: str, wanted: str | None) -> Team | Reply:
    teams = rt.config.teams_of(member_key)
    if wanted:
        team = rt.config.teams.get(wanted)
        if team is None:
            return Reply.say(md("There is no team `{}`. Your teams: {}.", wanted, _keys(teams)))
        if member_key not in team.members and member_key not in rt.config.organisation.admins:
            return Reply.say(md("You are not a member of {}. Your teams: {}.", team.name, _keys(teams)))
        return team
    if len(teams) == 1:
        return teams[0]
    if not teams:
        return Reply.say("You are not on any partnership team yet. Ask an admin to add you in teams.yaml.")
    return Reply.say(
        md(
            "You are on several teams ({}); add `--team KEY` to say which, or type the command in that team's channel.",
            _keys(teams),
        )
    )


def _keys(teams: list[Team]) -> Markdown:
    return Markdown(", ").join(md("`{}`", t.key) for t in teams) or Markdown("none")


def _unknown(catalog: Catalog, words: list[str]) -> Message:
    commands = catalog.commands
    typed = " ".join(words[:2])
    choices = [" ".join(k) for k in commands]
    close = difflib.get_close_matches(typed.lower(), choices, n=1, cutoff=0.5) or difflib.get_close_matches(
        words[0].lower(), [k[0] for k in commands], n=1, cutoff=0.5
    )
    # A known first word with an unknown second: show that group's usages.
    group = [spec for key, spec in commands.items() if key[0] == words[0].lower()]
    lines = [md("I don't know `/partner {}`.", typed)]
    if close:
        lines.append(md("Did you mean `/partner {}`?", close[0]))
    if group:
        lines.append(md("Usage:"))
        lines.extend(md("- `{}`: {}", spec.usage, spec.help) for spec in sorted(group, key=lambda s: s.words))
    lines.append(md("Type `/partner help` for everything I can do."))
    return Message.text(Markdown("\n").join(lines))


def usage_message(spec: CommandSpec, problem: str = "") -> Message:
    """The usage of a subcommand, after `problem` (markup if it is Markdown, else literal text)."""
    lines = [problem] if problem else []
    lines.append(md("Usage: `{}`", spec.usage))
    lines.append(spec.help)
    if spec.example:
        lines.append(md("Example: `{}`", spec.example))
    return Message.text(Markdown("\n").join(lines))


def help_message(rt: Runtime, command: Command, topic: list[str]) -> Message:
    """Everything the person may use, grouped by routine; `help norms` narrows to one routine."""
    member_key = command.member or ""
    is_chair = any(rt.config.is_co_chair(t, member_key) for t in rt.config.teams.values())
    specs = sorted(rt.catalog.commands.values(), key=lambda s: s.words)
    if topic:
        specs = [s for s in specs if s.words[0] == topic[0].lower()] or specs
    lines = []
    for spec in specs:
        marker = md(" _(co-chairs)_") if spec.who == "co-chair" else ""
        if spec.who == "co-chair" and not is_chair:
            continue
        lines.append(md("- `{}`: {}{}", spec.usage, spec.help, marker))
    body = Markdown("\n").join(lines) or Markdown("- (no commands yet)")
    fallback = "Partnerbot commands:\n" + unescape(body)
    return Message(
        (
            Header("Partnerbot commands"),
            Text(body),
            Context(md("Add `--team KEY` when you are on several teams. Replies about you are shown only to you.")),
        ),
        fallback,
    )


def commands_markdown(catalog: Catalog) -> str:
    """docs/commands.md, generated from the declarations so the reference cannot drift from the code."""
    lines = [
        "# /partner commands",
        "",
        "Generated from the command declarations (`partnerbot docs commands`); do not edit by hand.",
        "In Slack type `/partner ...`; in Teams type the same after @mentioning the bot (or in a personal chat);",
        "in the local workspace type it in the box under a channel (in a terminal: `as NAME: /partner ...`).",
        "Add `--team KEY` when you are on several teams.",
        "",
        "| command | who | what it does |",
        "| --- | --- | --- |",
        "| `/partner help [ROUTINE]` | everyone | the commands you may use |",
    ]
    for spec in sorted(catalog.commands.values(), key=lambda s: s.words):
        who = "co-chairs and admins" if spec.who == "co-chair" else "members"
        example = f" Example: `{spec.example}`" if spec.example else ""
        lines.append(f"| `{spec.usage}` | {who} | {spec.help}.{example} |".replace("..", "."))
    return "\n".join(lines) + "\n"
