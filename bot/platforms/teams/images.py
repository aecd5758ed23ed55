"""Charts for Teams, served from our own web server at signed addresses instead of inside the card: a Teams message
is limited to about 28 KB, and a results chart alone is half of that once embedded.

An image is stored once (hosted_images, named by the SHA-256 of its bytes) and shown at
`{PARTNERBOT_PUBLIC_URL}/teams/images/{digest}.png?exp=...&sig=...`: the signature (HMAC-SHA256 with the key from
settings.py) covers the digest and the expiry, so nobody can list images or keep a link alive past its expiry.
Rendering is renderer.py's; this module only stores, signs and serves.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from datetime import timedelta

from aiohttp import web
from sqlalchemy import delete, select

from bot.messages import Image, Message
from bot.platforms.teams.settings import TeamsSettings
from bot.runtime import Runtime
from bot.store.models import HostedImage

log = logging.getLogger(__name__)

ROUTE = "/teams/images/{name}"
PNG = "image/png"
# Results stay in a channel for the school year and more; a link (and its image) lives a little longer than that.
KEEP = timedelta(days=400)


class HostedImages:
    def __init__(self, runtime: Runtime, settings: TeamsSettings) -> None:
        self.rt = runtime
        self.settings = settings

    @property
    def enabled(self) -> bool:
        return bool(self.settings.public_url)

    def _signature(self, digest: str, expires: int) -> str:
        return hmac.new(self.settings.signing_key, f"{digest}.{expires}".encode(), hashlib.sha256).hexdigest()

    def addresses(self, message: Message) -> dict[str, str]:
        """Store the images of `message` and give each one's signed address, by digest (none when there is no
        public address to serve them from). Runs database work: call it off the event loop."""
        images = [block for block in message.blocks if isinstance(block, Image)]
        if not images or not self.enabled:
            return {}
        now = self.rt.clock.now()
        expires = int((now + KEEP).timestamp())
        found: dict[str, str] = {}
        with self.rt.db.session() as session:
            session.execute(delete(HostedImage).where(HostedImage.created_at < now - KEEP))
            for image in images:
                digest = digest_of(image)
                stored = session.get(HostedImage, digest)
                if stored is None:
                    session.add(HostedImage(digest=digest, content_type=PNG, data=image.data, created_at=now))
                else:
                    stored.created_at = now  # shown again: keep it as long as the new link
                found[digest] = (
                    f"{self.settings.public_url}/teams/images/{digest}.png"
                    f"?exp={expires}&sig={self._signature(digest, expires)}"
                )
        return found

    async def serve(self, request: web.Request) -> web.Response:
        """GET /teams/images/{digest}.png: the image, if the address is signed by us and not expired."""
        digest = request.match_info["name"].removesuffix(".png")
        try:
            expires = int(request.query.get("exp", ""))
        except ValueError:
            expires = 0
        signature = request.query.get("sig", "")
        if not hmac.compare_digest(signature, self._signature(digest, expires)):
            log.warning("Teams image refused (403): the address is not signed by this server")
            return web.Response(status=403, text="This address is not valid.")
        if expires < self.rt.clock.now().timestamp():
            log.warning("Teams image refused (403): the address has expired")
            return web.Response(status=403, text="This address has expired.")
        stored = await asyncio.to_thread(self._load, digest)
        if stored is None:
            return web.Response(status=404, text="No such image.")
        data, content_type = stored
        return web.Response(body=data, content_type=content_type, headers={"Cache-Control": "private, max-age=86400"})

    def _load(self, digest: str) -> tuple[bytes, str] | None:
        with self.rt.db.session() as session:
            row = session.execute(
                select(HostedImage.data, HostedImage.content_type).where(HostedImage.digest == digest)
            ).first()
            return (bytes(row[0]), str(row[1])) if row else None


def digest_of(image: Image) -> str:
    return hashlib.sha256(image.data).hexdigest()
