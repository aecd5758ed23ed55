"""Small named values the bot keeps for itself in the database (bot_settings): the local workspace's demo clock
offset, a generated dashboard link secret. Shared by every replica and kept across restarts.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.db import Database
from bot.store.models import Base


class Setting(Base):
    """A small named value the bot keeps for itself (the demo clock's offset, a generated link secret)."""

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


def setting_or_create(db: Database, name: str, make: Callable[[], str]) -> str:
    """The stored value of `name`, creating it with `make()` the first time; when two processes race, both end
    up with the value that was stored first."""
    found = read_setting(db, name)
    if found is not None:
        return found
    try:
        with db.session() as session:
            session.add(Setting(name=name, value=make()))
    except IntegrityError:
        pass
    with db.session() as session:
        stored = session.scalar(select(Setting.value).where(Setting.name == name))
    assert stored is not None
    return stored
