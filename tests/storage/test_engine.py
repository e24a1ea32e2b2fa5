"""Engines by URL: which URLs work, what a wrong one says, PostgreSQL connection settings."""

from __future__ import annotations

import socket
import uuid

import psycopg
import pytest
import sqlalchemy as sa

import pg
from legato.exceptions import ConfigurationError, StorageError
from legato.settings import get_current_settings, temporary_settings
from legato.storage import engine as store_engine
from legato.storage.engine import create_store_engine, describe_url, store_url


def closed_port() -> int:
    """A loopback port that nothing listens on (bound, never listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_store_url_is_the_setting_or_the_embedded_file(tmp_path):
    with temporary_settings(LEGATO_HOME=str(tmp_path)):
        assert store_url(get_current_settings()) == f"sqlite:///{tmp_path / 'legato.db'}"
    url = "postgresql+psycopg://legato:secret@db.example:5432/legato"
    with temporary_settings(LEGATO_HOME=str(tmp_path), LEGATO_DATABASE_URL=url):
        assert store_url(get_current_settings()) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:secret@host/db", "names the database 'mysql'"),
        ("postgresql+asyncpg://u:secret@host/db", "through psycopg 3"),
        ("postgresql+psycopg2://u:secret@host/db", "postgresql\\+psycopg://"),
        ("no url at all", "is not a database URL"),
        ("sqlite+aiosqlite:////tmp/legato.db", "standard library"),
    ],
)
def test_unsupported_urls_say_what_to_write(url, message):
    with pytest.raises(ConfigurationError, match=message) as caught:
        create_store_engine(url)
    assert "secret" not in str(caught.value)


def test_sqlite_needs_a_file():
    for url in ("sqlite://", "sqlite:///:memory:"):
        with pytest.raises(StorageError, match="not a SQLite file URL"):
            create_store_engine(url)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_postgresql_urls_use_psycopg_with_a_checked_pool(scheme):
    engine = create_store_engine(f"{scheme}://u:secret@db.example/legato", pool_size=2)
    try:
        assert engine.url.drivername == "postgresql+psycopg"
        assert engine.dialect.driver == "psycopg"
        assert engine.pool._pre_ping  # type: ignore[attr-defined]
        assert engine.pool.size() == 2  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_missing_psycopg_names_the_extra(monkeypatch):
    real_find_spec = store_engine.importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "psycopg" else real_find_spec(name, *args)

    monkeypatch.setattr(store_engine.importlib.util, "find_spec", find_spec)
    with pytest.raises(ConfigurationError, match=r"pip install 'legato\[postgres\]'"):
        create_store_engine("postgresql+psycopg://u:secret@db.example/legato")


def test_describe_url_masks_the_password():
    assert describe_url("postgresql+psycopg://legato:s3cret@h:5/db") == (
        "postgresql+psycopg://legato:***@h:5/db"
    )


def test_an_unreachable_server_names_host_port_database_and_the_fix():
    port = closed_port()
    engine = create_store_engine(f"postgresql+psycopg://legato:s3cret@127.0.0.1:{port}/runs")
    try:
        with pytest.raises(StorageError) as caught, engine.connect():
            pass
    finally:
        engine.dispose()
    message = str(caught.value)
    assert f"database 'runs' at 127.0.0.1:{port} as user 'legato'" in message
    assert "s3cret" not in message and "***" in message
    assert "Check that the server is running" in message and "LEGATO_DATABASE_URL" in message
    assert "Connection refused" in message
    assert isinstance(caught.value.__cause__, psycopg.OperationalError)


# -- on a real server ---------------------------------------------------------------


def test_a_wrong_password_or_database_is_a_clear_error(postgres_url):
    wrong_password = sa.make_url(postgres_url).set(password="wrong-password")
    wrong_database = sa.make_url(postgres_url).set(database="no_such_database")
    for url, reason in [
        (wrong_password, "password authentication failed"),
        (wrong_database, 'database "no_such_database" does not exist'),
    ]:
        engine = create_store_engine(url.render_as_string(hide_password=False))
        try:
            with pytest.raises(StorageError, match=reason) as caught, engine.connect():
                pass
        finally:
            engine.dispose()
        assert "wrong-password" not in str(caught.value)


def test_connections_are_named_and_stored_types_are_native(pg_database_url):
    engine = create_store_engine(pg_database_url)
    try:
        with engine.connect() as connection:
            name = connection.exec_driver_sql(
                "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()"
            ).scalar_one()
            types = dict(
                connection.exec_driver_sql(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = 'flow_runs'"
                ).all()
            )
    finally:
        engine.dispose()
    assert name == "legato"
    assert {key: types[key] for key in ("id", "created", "parameters", "total_run_time")} == {
        "id": "uuid",
        "created": "timestamp with time zone",
        "parameters": "jsonb",
        "total_run_time": "double precision",
    }


def test_a_dropped_connection_is_replaced_without_an_error(pg_database_url):
    engine = create_store_engine(pg_database_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        # When the server ends that pooled connection (a restart, an idle timeout)
        with pg._admin(pg_database_url) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() != pid
    finally:
        engine.dispose()


def test_each_test_gets_its_own_migrated_database(pg_database_url, postgres_url):
    assert sa.make_url(pg_database_url).database != sa.make_url(postgres_url).database
    engine = create_store_engine(pg_database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO flows VALUES (%s, 'mine', now(), now())", (str(uuid.uuid4()),)
            )
            assert connection.exec_driver_sql("SELECT count(*) FROM flows").scalar_one() == 1
    finally:
        engine.dispose()
