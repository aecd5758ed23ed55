"""The server's secret (outside the database) and what is sealed with it: where the secret comes from, the clear
errors when it is missing or too short, and a box that another secret cannot open."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.keys import SecretError, ServerKey
from bot.store.db import Database
from bot.store.sealed import SealedBox, SealedError, seal, unseal


def test_the_secret_comes_from_the_environment_or_a_key_file_made_once(tmp_path: Path) -> None:
    named = ServerKey.from_env({"PARTNERBOT_SECRET": "x" * 40})
    assert named.source == "PARTNERBOT_SECRET" and named.secret == b"x" * 40
    path = tmp_path / "var" / "partnerbot.secret"
    made = ServerKey.from_env({"PARTNERBOT_SECRET_FILE": str(path)})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(made.secret) == 64
    assert ServerKey.from_env({"PARTNERBOT_SECRET_FILE": str(path)}).secret == made.secret
    assert made.derive("a") != made.derive("b") and made.derive("a", b"salt") != made.derive("a")
    assert made.secret.decode() not in repr(made)


def test_a_short_or_missing_secret_is_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="at least 32"):
        ServerKey.from_env({"PARTNERBOT_SECRET": "too short"})
    with pytest.raises(SecretError, match="same value on every replica"):
        ServerKey.from_env({}, require_configured=True)


def test_a_box_opens_only_with_the_secret_it_was_sealed_with(sqlite_db: Database) -> None:
    key, other = ServerKey.ephemeral(), ServerKey.ephemeral()
    with sqlite_db.session() as session:
        seal(session, key, "test:1", {"answers": [["w1", 3, "labor"]]})
    with sqlite_db.session() as session:
        box = session.get(SealedBox, "test:1")
        assert box is not None and b"labor" not in box.data and len(box.data) % 1024 == 12 + 16
        assert unseal(session, key, "test:1") == {"answers": [["w1", 3, "labor"]]}
        assert unseal(session, key, "test:2") is None
        with pytest.raises(SealedError, match="another server secret"):
            unseal(session, other, "test:1")
