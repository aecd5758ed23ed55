"""Alembic environment: runs on the connection bot.store.db.upgrade hands over, or on DATABASE_URL."""

from alembic import context
from sqlalchemy import create_engine

import bot.flows.catalog  # every routine's tables (each routine's state.py) register on Base.metadata
import bot.store.inbound
import bot.store.settings
import bot.store.workspace  # noqa: F401
from bot.store.db import database_url, normalise_url
from bot.store.models import Base

target_metadata = Base.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(normalise_url(database_url()))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
