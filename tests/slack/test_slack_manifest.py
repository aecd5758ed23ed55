"""The committed Slack app manifests are exactly what the code generates from what it registers, so the scopes,
the command, the events and the request URLs cannot drift from the app. (Every Web API method the tests see being
called must have its scopes in the manifest's table: tests/slack/conftest.py checks that after each test.)"""

from __future__ import annotations

from pathlib import Path

from bot.platforms.slack.install import COMMAND, EVENTS, build_manifest, main, manifest_yaml

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_manifests_are_what_the_code_generates() -> None:
    http = (ROOT / "slack" / "manifest.yaml").read_text()
    socket = (ROOT / "slack" / "manifest-socket-mode.yaml").read_text()
    regenerate = "regenerate with: python -m bot.platforms.slack.install [--socket-mode] > slack/manifest....yaml"
    assert http == manifest_yaml(build_manifest()), regenerate
    assert socket == manifest_yaml(build_manifest(socket_mode=True)), regenerate


def test_the_manifest_declares_what_the_app_listens_to() -> None:
    manifest = build_manifest("https://bot.example.org/slack/events")
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND == "/partner" and command["url"] == "https://bot.example.org/slack/events"
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == list(EVENTS)
    assert manifest["settings"]["interactivity"]["request_url"] == "https://bot.example.org/slack/events"
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert {"commands", "chat:write", "im:write", "users:read.email", "files:write", "channels:history"} <= set(scopes)
    socket = build_manifest(socket_mode=True)
    assert (
        socket["settings"]["socket_mode_enabled"] is True and "request_url" not in socket["settings"]["interactivity"]
    )


def test_the_manifest_command_prints_yaml(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--url", "https://bot.example.org/slack/events"]) == 0
    assert "https://bot.example.org/slack/events" in capsys.readouterr().out
