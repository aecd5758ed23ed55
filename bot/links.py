"""Signed, expiring, read-only links to one team's health page. `/partner dashboard` gives one to a co-chair on any
platform; the bot's own HTTP server (bot/web.py) serves the page to whoever holds a valid link, until it expires.

A link carries the team, the co-chair it was made for and its expiry, signed with HMAC-SHA256 under a key derived
from the server's secret (bot/keys.py: outside the database, the same on every replica), so every replica and every
restart accepts the same links and a copy of the database cannot forge one. Changing the secret revokes them all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.runtime import Runtime

LIFETIME = timedelta(hours=24)
KEY_PURPOSE = "dashboard links"
_PURPOSE = b"partnerbot-dashboard-v1\n"  # a signature made for anything else never verifies here


class LinkError(Exception):
    """A link that is not ours, was altered, or names no team we know."""


class LinkExpired(LinkError):
    """A genuine link whose time is up."""


@dataclass(frozen=True)
class DashboardAccess:
    team: str
    member: str  # who it was made for
    expires: datetime


def link_secret(rt: Runtime) -> bytes:
    return rt.key.derive(KEY_PURPOSE)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(secret: bytes, access: DashboardAccess) -> str:
    payload = "\n".join((access.team, access.member, str(int(access.expires.timestamp())))).encode("utf-8")
    signature = hmac.new(secret, _PURPOSE + payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(signature)}"


def read_token(secret: bytes, token: str, now: datetime) -> DashboardAccess:
    """The access a token grants; LinkError when it is not genuine, LinkExpired when its time is up."""
    encoded, _, sent = token.partition(".")
    try:
        payload, signature = _unb64(encoded), _unb64(sent)
    except (binascii.Error, ValueError):
        raise LinkError("this link is not a Partnerbot dashboard link") from None
    expected = hmac.new(secret, _PURPOSE + payload, hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise LinkError("this link is not a Partnerbot dashboard link, or it was changed")
    team, member, expires_at = payload.decode("utf-8").split("\n")
    expires = datetime.fromtimestamp(int(expires_at), UTC)
    if expires <= now:
        raise LinkExpired(f"this link expired on {expires:%Y-%m-%d at %H:%M} UTC")
    return DashboardAccess(team, member, expires)


def dashboard_path(rt: Runtime, team: str, member: str, lifetime: timedelta = LIFETIME) -> tuple[str, datetime]:
    """The path (on the bot's own HTTP server) of `team`'s health page for `member`, and when the link expires."""
    expires = rt.clock.now() + lifetime
    token = make_token(link_secret(rt), DashboardAccess(team, member, expires))
    return f"/dashboard/{token}", expires


def dashboard_link(rt: Runtime, team: str, member: str, lifetime: timedelta = LIFETIME) -> tuple[str, datetime]:
    """The full link to give out (PARTNERBOT_PUBLIC_URL, else the local address), and when it expires."""
    path, expires = dashboard_path(rt, team, member, lifetime)
    return rt.public_url.rstrip("/") + path, expires


def check_link(rt: Runtime, token: str) -> DashboardAccess:
    """The access a link grants now: for a team still in the config, to someone still its co-chair (or an admin)."""
    access = read_token(link_secret(rt), token, rt.clock.now())
    team = rt.config.teams.get(access.team)
    if team is None:
        raise LinkError("this link is for a team that is no longer in the config")
    if not rt.config.is_co_chair(team, access.member):
        raise LinkError(f"this link was made for someone who is no longer a co-chair of {team.name}")
    return access
