"""Sealed boxes: data kept in the database only as ciphertext, under a key derived from the server's secret
(bot/keys.py), for what a copy of the database must not show, such as the answers to a survey that is still open.

A box is one row: a fresh random salt (so each version has its own key) and the AES-256-GCM ciphertext of its
content as JSON, padded to whole blocks so that its size says little. Serialising the read-change-write of one box is
the caller's job (the pulse holds its run's lock, the norm check its check's). Which data goes in a box, and when it
leaves, is the caller's too: anonymous answers collect in one with `add` while a survey is open and leave it once
with `take` when it closes.
"""

from __future__ import annotations

import json
import secrets
import struct
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary, String, bindparam, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.keys import ServerKey
from bot.store.models import Base

PURPOSE = "partnerbot sealed box v1"
BLOCK = 1024  # content is padded to a multiple of this many bytes
NONCE = 12


class SealedError(RuntimeError):
    """A box cannot be opened: it was sealed under another server secret, or it was changed."""


class SealedBox(Base):
    __tablename__ = "sealed_boxes"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)  # what it holds, e.g. "pulse.run:42"
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # nonce + AES-GCM ciphertext of the padded JSON


def _cipher(key: ServerKey, salt: bytes) -> AESGCM:
    return AESGCM(key.derive(PURPOSE, salt))


def seal(session: Session, key: ServerKey, name: str, content: Any) -> None:
    """Write `content` (anything JSON can hold) into the box `name`, replacing what it held."""
    raw = json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    framed = struct.pack(">I", len(raw)) + raw
    padded = framed + bytes(-len(framed) % BLOCK)
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(NONCE)
    data = nonce + _cipher(key, salt).encrypt(nonce, padded, name.encode("utf-8"))
    box = session.get(SealedBox, name)
    if box is None:
        session.add(SealedBox(name=name, salt=salt, data=data))
    else:
        box.salt, box.data = salt, data
    session.flush()


def unseal(session: Session, key: ServerKey, name: str) -> Any | None:
    """What the box `name` holds, or None when there is no such box."""
    box = session.get(SealedBox, name, populate_existing=True)
    return None if box is None else _opened(key, box)


def _opened(key: ServerKey, box: SealedBox) -> Any:
    name = box.name
    nonce, ciphertext = box.data[:NONCE], box.data[NONCE:]
    try:
        padded = _cipher(key, box.salt).decrypt(nonce, ciphertext, name.encode("utf-8"))
    except InvalidTag:
        raise SealedError(
            f"cannot open {name}: it was sealed under another server secret ({key.source} differs from the one in "
            "use then), or the stored data was changed"
        ) from None
    (length,) = struct.unpack(">I", padded[:4])
    return json.loads(padded[4 : 4 + length].decode("utf-8"))


def drop(session: Session, name: str) -> None:
    session.execute(_DROP, {"box": name})


_DROP = delete(SealedBox).where(SealedBox.name == bindparam("box"))  # built once: every closing runs it


def add(session: Session, key: ServerKey, name: str, additions: Mapping[str, Iterable[Any]]) -> None:
    """Add items to the lists the box `name` holds (one list per key of `additions`) and write the box back whole,
    every list in a fresh random order: no version of the box keeps the order in which its items arrived."""
    content = unseal(session, key, name) or {}
    shuffle = secrets.SystemRandom().shuffle
    for part, items in additions.items():
        content[part] = [*content.get(part, []), *items]
    for items in content.values():
        shuffle(items)
    seal(session, key, name, content)


def take(session: Session, key: ServerKey, name: str) -> Any | None:
    """What the box `name` holds, and the box gone: for when its content leaves it for good."""
    box = session.get(SealedBox, name, populate_existing=True)
    if box is None:  # nobody added anything: nothing to drop (`seal` flushes, so no box is pending)
        return None
    content = _opened(key, box)
    drop(session, name)
    return content
