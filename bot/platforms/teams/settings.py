"""The Teams app's settings, read from the environment: the Azure Bot's credentials (MICROSOFT_APP_*), the public
address that hosted images are served from (PARTNERBOT_PUBLIC_URL), and the key that signs their addresses.

No SDK here: deciding whether Teams is live, and building the app package, must not load the Agents SDK.
TEAMS_MESSAGES_PER_SECOND caps the bot's calls across all conversations (pacing.py).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.platforms.teams.pacing import DEFAULT_RATE

SINGLE_TENANT = "SingleTenant"
MULTI_TENANT = "MultiTenant"
MANAGED_IDENTITY = "UserAssignedMSI"
APP_TYPES = (SINGLE_TENANT, MANAGED_IDENTITY, MULTI_TENANT)

# What each app type needs besides MICROSOFT_APP_ID.
NEEDS = {
    SINGLE_TENANT: ("MICROSOFT_APP_PASSWORD", "MICROSOFT_APP_TENANT_ID"),
    MANAGED_IDENTITY: ("MICROSOFT_APP_TENANT_ID",),
    MULTI_TENANT: ("MICROSOFT_APP_PASSWORD",),
}


@dataclass(frozen=True)
class TeamsSettings:
    app_id: str = ""
    password: str = field(default="", repr=False)
    app_type: str = SINGLE_TENANT
    tenant_id: str = ""
    public_url: str = ""  # https://host (no trailing slash): where Teams fetches hosted images
    signing_key: bytes = field(default=b"", repr=False)  # signs hosted image addresses
    messages_per_second: float = DEFAULT_RATE  # the bot's calls a second across all conversations (pacing.py)
    rate_problem: str = ""  # TEAMS_MESSAGES_PER_SECOND as given, when it is not a usable number

    @property
    def authenticated(self) -> bool:
        return bool(self.app_id)

    def problems(self) -> list[str]:
        """What keeps these settings from working, in words an admin can act on (empty when fine)."""
        if self.rate_problem:
            return [
                f"TEAMS_MESSAGES_PER_SECOND={self.rate_problem!r} is not a number of messages a second above 0 "
                f"(leave it unset for Teams' documented {DEFAULT_RATE:g})"
            ]
        if not self.authenticated:
            return []
        if self.app_type not in APP_TYPES:
            return [f"MICROSOFT_APP_TYPE={self.app_type} is not one of {', '.join(APP_TYPES)}"]
        given = {"MICROSOFT_APP_PASSWORD": self.password, "MICROSOFT_APP_TENANT_ID": self.tenant_id}
        missing = [name for name in NEEDS[self.app_type] if not given[name]]
        if missing:
            return [f"MICROSOFT_APP_TYPE={self.app_type} also needs {' and '.join(missing)} to be set"]
        if self.public_url and not self.public_url.startswith(("https://", "http://")):
            return [f"PARTNERBOT_PUBLIC_URL must be an https:// address (got {self.public_url!r})"]
        return []


def _canonical_type(value: str) -> str:
    for known in APP_TYPES:
        if value.lower() == known.lower():
            return known
    return value


def settings_from_env(env: Mapping[str, str]) -> TeamsSettings:
    password = env.get("MICROSOFT_APP_PASSWORD", "")
    configured_key = env.get("PARTNERBOT_URL_SIGNING_KEY", "")
    if configured_key:
        key = hashlib.sha256(b"partnerbot url signing\0" + configured_key.encode()).digest()
    elif password:
        # Derived, never the secret itself: every replica with the same secret signs the same way.
        key = hashlib.sha256(b"partnerbot url signing\0" + password.encode()).digest()
    else:
        key = secrets.token_bytes(32)  # the Emulator or a managed identity: good for this process only
    rate_text = env.get("TEAMS_MESSAGES_PER_SECOND", "").strip()
    try:
        rate = float(rate_text) if rate_text else DEFAULT_RATE
    except ValueError:
        rate = 0.0
    return TeamsSettings(
        messages_per_second=rate if rate > 0 else DEFAULT_RATE,
        rate_problem="" if rate > 0 else rate_text,
        app_id=env.get("MICROSOFT_APP_ID", "").strip(),
        password=password,
        app_type=_canonical_type(env.get("MICROSOFT_APP_TYPE", "").strip() or SINGLE_TENANT),
        tenant_id=env.get("MICROSOFT_APP_TENANT_ID", "").strip(),
        public_url=env.get("PARTNERBOT_PUBLIC_URL", "").strip().rstrip("/"),
        signing_key=key,
    )
