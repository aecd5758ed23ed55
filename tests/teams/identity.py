"""Microsoft Entra ID stand-ins for the Teams tests: a signing key whose tokens the bot checks exactly as it checks
the Bot Connector's (the SDK's validator, given our key instead of Microsoft's published ones), and a token
provider for the bot's own calls to the connector. No network: nothing here leaves the process."""

from __future__ import annotations

import base64
import json
import time
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from microsoft_agents.hosting.core import AnonymousTokenProvider

APP_ID = "00000000-0000-0000-0000-0000000000a1"
TENANT_ID = "11111111-1111-1111-1111-111111111111"
BOT_FRAMEWORK = "https://api.botframework.com"
EMULATOR_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"
ENV = {
    "MICROSOFT_APP_ID": APP_ID,
    "MICROSOFT_APP_PASSWORD": "client-secret",
    "MICROSOFT_APP_TENANT_ID": TENANT_ID,
}


@cache
def _key(name: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class PublishedKeys:
    """Microsoft's published signing keys, as the validator asks for them: ours, under the key id "teams-1"."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def get_signing_key(self, jwks_uri: str, header: dict[str, Any]) -> Any:
        self.asked.append(jwks_uri)
        if header["kid"] != "teams-1":
            raise jwt.PyJWKClientError(f'Unable to find a signing key that matches: "{header["kid"]}"')
        return _key("teams").public_key()


class UnreachableKeys:
    """The identity provider's keys cannot be fetched (network down, DNS failure)."""

    async def get_signing_key(self, jwks_uri: str, header: dict[str, Any]) -> Any:
        raise jwt.PyJWKClientConnectionError(f'Fail to fetch data from the url, err: "{jwks_uri} unreachable"')


class OutboundToken(AnonymousTokenProvider):
    """The bot's token for its calls to the connector (what MSAL would fetch from Entra ID)."""

    TOKEN = "outbound-token-from-entra"

    async def get_access_token(self, resource_url: str, scopes: list[str], force_refresh: bool = False) -> str:
        return self.TOKEN


def claims(service_url: str, **override: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": BOT_FRAMEWORK,
        "aud": APP_ID,
        "exp": now + 3600,
        "nbf": now - 60,
        "serviceurl": service_url,
        **override,
    }


def token(service_url: str, *, kid: str = "teams-1", key: str = "teams", alg: str = "RS256", **override: Any) -> str:
    payload = {k: v for k, v in claims(service_url, **override).items() if v is not None}
    signing: Any = "a-guessed-secret-long-enough-for-hs256-keys" if alg == "HS256" else _key(key)
    return jwt.encode(payload, signing, algorithm=alg, headers={"kid": kid} if kid else None)


def unsigned(service_url: str, *, kid: str | None = "teams-1") -> str:
    """An alg=none token: a claim of identity with no signature at all."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    header = {"alg": "none", "typ": "JWT", **({"kid": kid} if kid else {})}
    return f"{part(header)}.{part(claims(service_url))}."


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}
