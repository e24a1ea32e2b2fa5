"""Alembic environment for legato.

Run through ``legato.storage.database`` (``upgrade``/``downgrade``/``reset``),
which builds the Alembic config in code and passes an open connection in
``config.attributes["connection"]``; no alembic.ini is needed. Offline mode
(``--sql``) renders the SQL for a URL instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from legato.storage.schema import metadata


def run_online(connection: Connection) -> None:
    """Run the migrations on ``connection`` in one transaction."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """Print the migrations' SQL for the configured URL."""
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        run_offline()
        return
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_online(connection)
        return
    from legato.storage.database import create_engine

    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as new_connection:
            run_online(new_connection)
            new_connection.commit()
    finally:
        engine.dispose()


main()
