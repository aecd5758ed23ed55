"""The partnerbot command as an admin uses it: validate, simulate, and run answering /healthz."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from bot.assembly import load_config
from bot.cli import main
from bot.flows.catalog import CATALOG
from bot.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]


def test_validate_accepts_the_example_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "config")]) == 0
    assert capsys.readouterr().out.startswith("OK: 5 teams")


def write_config(folder: Path, **files: str) -> None:
    """A config folder of `name.yaml` files (org.yaml first), with the organisation every test shares."""
    (folder / "org.yaml").write_text("organisation:\n  name: Test\n  timezone: America/Los_Angeles\n")
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text)


def test_validate_warns_of_plausible_mistakes_and_still_succeeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13: a meeting rule that falls on weekends, a team too small for any result, a member in another zone,
    a rule whose time reads as the middle of the night: printed as warnings with their place, exit 0."""
    write_config(
        tmp_path,
        calendar="calendar:\n  school_year: [2026-08-12, 2027-06-03]\n",
        members="members:\n"
        "  ana: {name: Ana Lima, side: labor}\n"
        "  ben: {name: Ben Cole, side: management, timezone: Europe/London}\n",
        teams="teams:\n  t:\n    name: Small Team\n    kind: site\n    members: [ana, ben]\n    co_chairs: [ana, ben]\n"
        "    meetings: [{rule: monthly on the 15th at 3:30}]\n    routines: {pulse: {}}\n",
    )
    assert main(["validate", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: 1 team")
    assert "teams.yaml:7:23: teams.t.meetings[0].rule: the meetings start at 03:30, at night" in out
    assert "the rule falls on a weekend 3 times between 2026-08-12 and 2027-06-03" in out
    assert "teams.t.members: Small Team has 2 members, fewer than the 5 answers pulse results need" in out
    assert "members.yaml:3:53: members.ben.timezone: Ben Cole (Europe/London) is not in the zone of Small Team" in out
    assert "4 warning(s): the config is valid" in out


def test_validate_lists_every_problem_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_config(
        tmp_path,
        members="members:\n"
        "  ana: {name: Ana, side: labor}\n"
        "  ben: {name: Ben, side: union}\n"
        "  cy: {name: Cy, side: management, timezone: Mars/Olympus}\n",
        teams="teams:\n"
        "  t:\n"
        "    name: T\n"
        "    kind: site\n"
        "    members: [ana, ben, cy]\n"
        "    co_chairs: [ana, cy]\n"
        "    meetings:\n"
        "      - rule: 'FREQ=SOMETIMES'\n",
    )
    assert main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "members.yaml:3:" in err and "members.ben.side" in err
    assert "members.yaml:4:" in err and "Mars/Olympus" in err
    assert "teams.yaml:8:" in err and "FREQ=SOMETIMES" in err


def test_an_rrule_part_the_bot_does_not_follow_is_an_error_at_its_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=2` posted monthly (BYMONTH was ignored); it now meets on April 2, and a
    part the bot does not follow (BYSETPOS) is refused with its file, line and column instead of being ignored."""
    write_config(
        tmp_path,
        members="members:\n  ana: {name: Ana, side: labor}\n  cy: {name: Cy, side: management}\n",
        teams="teams:\n"
        "  t:\n"
        "    name: T\n"
        "    kind: site\n"
        "    members: [ana, cy]\n"
        "    co_chairs: [ana, cy]\n"
        "    meetings:\n"
        "      - {key: retreat, rule: 'FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=2;BYHOUR=10'}\n"
        "      - rule: 'FREQ=MONTHLY;BYDAY=TU,WE;BYSETPOS=1'\n",
    )
    assert main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "teams.yaml:9:15: teams.t.meetings[1].rule: the RRULE" in err
    assert "uses BYSETPOS, which a meeting series does not follow" in err and "retreat" not in err


def test_simulate_skips_winter_break_and_moves_the_spotlight_on() -> None:
    config = load_config(ROOT / "config")
    posts = simulate(config, date(2026, 12, 1), 45)
    assert posts, "the example config posts something in December and January"
    for post in posts:
        day = post.at.astimezone(config.team_tz(config.teams[post.routine.split("/")[0]])).date()
        assert not date(2026, 12, 21) <= day <= date(2027, 1, 1), f"{post.routine} posted in the winter break"
    district = [p.message.fallback for p in posts if p.routine.startswith("district/norms.opening")]
    assert len(district) == 2 and district[0] != district[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_run_serves_healthz_on_the_local_workspace(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    env |= {"PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}", "PARTNERBOT_CONFIG": "config"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    body = response.read().decode()
                    break
            except OSError:
                time.sleep(0.2)  # polling for start-up, not timing behaviour
        assert '"status": "ok"' in body and '"local"' in body
        metrics = ""
        while time.monotonic() < deadline and "partnerbot_ticks_total" not in metrics:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                metrics = response.read().decode()
            time.sleep(0.2)  # the first tick runs right after start-up
        assert "partnerbot_ticks_total" in metrics
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert "headless" in output


def test_the_commands_reference_matches_the_declarations() -> None:
    from bot.handlers.commands import commands_markdown

    committed = (ROOT / "docs" / "commands.md").read_text()
    regenerate = "regenerate with: .venv/bin/partnerbot docs commands > docs/commands.md"
    assert committed == commands_markdown(CATALOG), regenerate
