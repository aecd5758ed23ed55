"""Small named values the bot keeps for itself in the database (bot_settings), such as the local workspace's demo
clock offset: kept across restarts. Never a secret: secrets stay outside the database (bot/keys.py).
"""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.db import Database
from bot.store.models import Base


class Setting(Base):
    """A small named value the bot keeps for itself (the demo clock's offset)."""

    __tablename__ = "bot_settings"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def read_setting(db: Database, name: str) -> str | None:
    with db.session() as session:
        row = session.get(Setting, name)
        return row.value if row is not None else None


def write_setting(db: Database, name: str, value: str) -> None:
    with db.session() as session:
        row = session.get(Setting, name)
        if row is None:
            session.add(Setting(name=name, value=value))
        else:
            row.value = value
