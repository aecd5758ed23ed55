"""The local workspace's own state, kept in the database so a restart shows the same workspace: its posts (with
their buttons, numbered for good) and the forms people have open. Nothing here renders or sends;
bot/platforms/local and bot/platforms/web read and write these rows.

Nothing here records when a person did something (answered, pressed, opened a form): a reply only they see is kept
without a time, and an update keeps none. A copy of the database must not tell when someone answered a pulse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from bot.messages import Form, form_from_json, form_to_json
from bot.store.db import Database
from bot.store.models import Base


class WorkspacePost(Base):
    """One post in the local workspace: a channel post, a direct message, or a reply only one member sees."""

    __tablename__ = "local_posts"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)  # the number people press buttons "on"; never reused
    at: Mapped[datetime | None]  # when it was delivered; None for a reply to one person's own action
    conversation: Mapped[str] = mapped_column(String(200), index=True)  # "#channel" or "@member"
    only_for: Mapped[str | None] = mapped_column(String(100))  # a member key: a private reply in a channel
    message: Mapped[dict[str, Any]] = mapped_column(JSON)  # bot.messages.message_to_json
    history: Mapped[list[Any]] = mapped_column(JSON, default=list)  # earlier versions, oldest first


class WorkspaceForm(Base):
    """A form a member has open (a modal in the browser, a prompt in the terminal), until it is submitted."""

    __tablename__ = "local_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    member: Mapped[str] = mapped_column(String(100), index=True)
    post_id: Mapped[int | None] = mapped_column(Integer)  # the post whose button opened it, if any
    form: Mapped[dict[str, Any]] = mapped_column(JSON)  # bot.messages.form_to_json
    closed: Mapped[bool] = mapped_column(Boolean, default=False)


# --- open forms ---------------------------------------------------------------------------------------------------


def open_form(db: Database, member: str, form: Form, post_id: int | None) -> int:
    """Keep `form` open for `member` (one at a time: an earlier open form is closed); returns its id."""
    with db.session() as session:
        for row in session.scalars(select(WorkspaceForm).where(WorkspaceForm.member == member, ~WorkspaceForm.closed)):
            row.closed = True
        row = WorkspaceForm(member=member, post_id=post_id, form=form_to_json(form), closed=False)
        session.add(row)
        session.flush()
        return row.id


@dataclass(frozen=True)
class OpenForm:
    id: int
    member: str
    post_id: int | None
    form: Form


def form_of(db: Database, member: str, form_id: int | None = None) -> OpenForm | None:
    """The member's open form (`form_id`, or the latest one), or None when it was submitted or never opened."""
    query = select(WorkspaceForm).where(WorkspaceForm.member == member, ~WorkspaceForm.closed)
    if form_id is not None:
        query = query.where(WorkspaceForm.id == form_id)
    with db.session() as session:
        row = session.scalars(query.order_by(WorkspaceForm.id.desc()).limit(1)).first()
        return OpenForm(row.id, row.member, row.post_id, form_from_json(row.form)) if row is not None else None


def close_form(db: Database, form_id: int) -> None:
    with db.session() as session:
        row = session.get(WorkspaceForm, form_id)
        if row is not None:
            row.closed = True
