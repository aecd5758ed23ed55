"""The server's secret and the keys derived from it. The secret lives outside the database (the environment or a key
file), so a copy of the database alone cannot open what is sealed with it (bot/store/sealed.py).

Where the secret comes from, first match wins: PARTNERBOT_SECRET (any text of 32 characters or more), the file named
by PARTNERBOT_SECRET_FILE, else var/partnerbot.secret, created with 32 random bytes on first use. Every replica
sharing one database needs the same secret.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Names of where the secret is found, not secrets (bandit B105 reads any "secret" set to a string as one).
SECRET_ENV = "PARTNERBOT_SECRET"  # nosec B105
SECRET_FILE_ENV = "PARTNERBOT_SECRET_FILE"  # nosec B105
DEFAULT_SECRET_FILE = "var/partnerbot.secret"  # nosec B105
MIN_SECRET_CHARS = 32


class SecretError(ValueError):
    """The server's secret is missing or unusable; the message says what to set."""


@dataclass(frozen=True)
class ServerKey:
    secret: bytes = field(repr=False)
    source: str = "ephemeral"  # where it came from, for messages: never the secret itself

    @classmethod
    def ephemeral(cls) -> ServerKey:
        """A random key that lives as long as this process: for tests and the simulator, never for a server."""
        return cls(secrets.token_bytes(32))

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, require_configured: bool = False) -> ServerKey:
        """The secret named by the environment, or the default key file (created when missing).

        `require_configured`: refuse the default file (several replicas on one PostgreSQL must share one secret,
        and a file each replica makes for itself would differ)."""
        text = env.get(SECRET_ENV, "")
        if text:
            if len(text) < MIN_SECRET_CHARS:
                raise SecretError(
                    f"{SECRET_ENV} is {len(text)} characters; use at least {MIN_SECRET_CHARS}, for example the output "
                    "of `python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
                )
            return cls(text.encode("utf-8"), SECRET_ENV)
        named = env.get(SECRET_FILE_ENV, "")
        if not named and require_configured:
            raise SecretError(
                f"Set {SECRET_ENV} (or {SECRET_FILE_ENV}) to the same value on every replica: open pulse surveys are "
                "sealed with it, and replicas with different secrets cannot read each other's answers."
            )
        return cls(_file_secret(Path(named or DEFAULT_SECRET_FILE)), str(named or DEFAULT_SECRET_FILE))

    def derive(self, purpose: str, salt: bytes = b"") -> bytes:
        """A 32-byte key for one purpose (and one salt, e.g. one survey run): HKDF-SHA256 of the secret."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt or None, info=purpose.encode("utf-8"))
        return hkdf.derive(self.secret)


def _file_secret(path: Path) -> bytes:
    try:
        data = path.read_bytes().strip()
    except FileNotFoundError:
        # Written aside, then linked into place: a second process either finds the whole file or makes its own link
        # fail and reads the first one's.
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_hex(32).encode("ascii") + b"\n")
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
        data = path.read_bytes().strip()
    if len(data) < MIN_SECRET_CHARS:
        raise SecretError(f"{path} holds {len(data)} characters; a secret needs at least {MIN_SECRET_CHARS}.")
    return data
