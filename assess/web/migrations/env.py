"""Alembic environment: migrations run on the connection the app hands over (Database.upgrade),
or on DATABASE_URL / sqlite:///assess.db when alembic is run by hand."""

import os

from alembic import context
from sqlalchemy import create_engine

from assess.web.db import Base

target_metadata = Base.metadata


def run() -> None:
    conn = context.config.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///assess.db"))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
