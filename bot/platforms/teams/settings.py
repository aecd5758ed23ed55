"""The Teams app's credentials, read from MICROSOFT_APP_* variables. No SDK here: deciding whether Teams is live, and
building the app package, must not load the Bot Framework.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class TeamsSettings:
    """The names ConfigurationBotFrameworkAuthentication reads, filled from MICROSOFT_APP_* variables."""

    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TYPE: str = "MultiTenant"
    APP_TENANTID: str = ""

    @property
    def authenticated(self) -> bool:
        return bool(self.APP_ID)


def settings_from_env(env: Mapping[str, str]) -> TeamsSettings:
    return TeamsSettings(
        APP_ID=env.get("MICROSOFT_APP_ID", "").strip(),
        APP_PASSWORD=env.get("MICROSOFT_APP_PASSWORD", ""),
        APP_TYPE=env.get("MICROSOFT_APP_TYPE", "").strip() or "MultiTenant",
        APP_TENANTID=env.get("MICROSOFT_APP_TENANT_ID", "").strip(),
    )
