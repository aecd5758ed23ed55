"""Who may post to /api/messages: the bearer token of every request, checked before its body is read, and the
Agents SDK's authentication configuration for the app type in use.

The SDK's JwtTokenValidator checks the signature against Microsoft's published keys, the audience, the issuer and
the tenant binding; around it this module makes every failure a refusal with one reason (never an exception, never
a traceback), requires an expiry, accepts only the issuers Teams uses (the Bot Framework's and the app's own
tenant's, not the Emulator's), and fails closed when the identity provider cannot be reached. Reading the
activity is adapter.py's.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from jwt import PyJWKClientConnectionError
from microsoft_agents.hosting.core import (
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    AuthTypes,
    ClaimsIdentity,
    JwtTokenValidator,
)

from bot.platforms.teams.settings import MANAGED_IDENTITY, MULTI_TENANT, TeamsSettings

# Multi-tenant bots take their Bot Connector tokens from this tenant (the SDK needs a tenant to ask).
BOT_FRAMEWORK_TENANT = "botframework.com"
KEY_LOOKUP_SECONDS = 10.0  # a token whose signing key cannot be fetched in this time is refused

# The validator logs its own warning for some refusals; ours says the same in the one line per refused request.
logging.getLogger("microsoft_agents.hosting.core.authorization.jwt").setLevel(logging.ERROR)


def auth_configuration(settings: TeamsSettings) -> AgentAuthConfiguration:
    """The SDK's configuration for the app registration in `settings`; anonymous for the Emulator."""
    if not settings.authenticated:
        return AgentAuthConfiguration(anonymous_allowed=True)
    if settings.app_type == MANAGED_IDENTITY:
        return AgentAuthConfiguration(
            AuthTypes.user_managed_identity, settings.app_id, settings.tenant_id, validate_issuer=True
        )
    tenant = settings.tenant_id or (BOT_FRAMEWORK_TENANT if settings.app_type == MULTI_TENANT else "")
    return AgentAuthConfiguration(
        AuthTypes.client_secret, settings.app_id, tenant, settings.password, validate_issuer=True
    )


class EmulatorToken(AnonymousTokenProvider):
    """The Emulator takes no token. The SDK refuses an empty one for the user-token client it builds in every
    proactive turn, and sends no Authorization header for a token of one character: so one character it is."""

    async def get_access_token(self, resource_url: str, scopes: list[str], force_refresh: bool = False) -> str:
        return "-"


class SigningKeys(Protocol):
    """Where the validator finds the key a token was signed with (Microsoft's published keys; a test's own)."""

    async def get_signing_key(self, jwks_uri: str, header: dict[str, Any]) -> Any: ...


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused: `status` is 401 for who sent it, 400 for what it carried."""

    status: int
    reason: str


class TokenCheck:
    """Checks the Authorization header of a request to /api/messages."""

    def __init__(
        self, config: AgentAuthConfiguration, *, keys: SigningKeys | None = None, timeout: float = KEY_LOOKUP_SECONDS
    ) -> None:
        self.config = config
        self.validator = JwtTokenValidator(config)
        if keys is not None:
            # An instance attribute: this validator alone looks keys up elsewhere (the SDK keeps one shared cache).
            self.validator._jwk_client_manager = keys  # type: ignore[assignment]
        self.timeout = timeout

    @property
    def anonymous(self) -> bool:
        return not self.config.CLIENT_ID

    async def identity(self, authorization: str | None) -> ClaimsIdentity | Refusal:
        """The caller's verified claims, or why the request is refused. The Emulator mode accepts anyone."""
        if self.anonymous:
            return ClaimsIdentity()  # no claims: the SDK treats it as anonymous
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return Refusal(401, "no bearer token" if not authorization else "not a bearer token")
        try:
            identity = await asyncio.wait_for(self.validator.validate_token(token), self.timeout)
        except TimeoutError:
            return Refusal(401, "the identity provider's signing keys did not arrive in time (refused)")
        except PyJWKClientConnectionError:
            return Refusal(401, "the identity provider's signing keys could not be fetched (refused)")
        except Exception as error:  # any malformed, forged, expired or foreign token
            return Refusal(401, f"invalid token: {_describe(error)}")
        if "exp" not in identity.claims:
            return Refusal(401, "invalid token: it has no expiry")
        issuer = str(identity.claims.get("iss", ""))
        if issuer.lower() not in {accepted.lower() for accepted in self.config.ISSUERS}:
            # The SDK also trusts Microsoft's first-party tenants, the Emulator's among them; Teams never uses them.
            return Refusal(401, f"invalid token: issued by {issuer[:80]!r}, not the Bot Framework or this tenant")
        return identity


def service_url_refusal(identity: ClaimsIdentity, service_url: str | None) -> Refusal | None:
    """A token names the service URL it was issued for; an activity that points elsewhere is refused, so a stolen
    token cannot send the bot's replies to another address."""
    claimed = identity.claims.get("serviceurl")
    if not claimed or not service_url:
        return None
    if str(claimed).rstrip("/").lower() != service_url.rstrip("/").lower():
        return Refusal(401, "the activity's serviceUrl is not the one its token was issued for")
    return None


def _describe(error: Exception) -> str:
    """A short reason for the log: the error's kind and first line, never the token."""
    text = str(error).splitlines()[0][:120] if str(error) else ""
    kind = type(error).__name__
    if isinstance(error, KeyError):
        return f"{kind} (a required header field is missing)"
    return f"{kind}: {text}" if text else kind
