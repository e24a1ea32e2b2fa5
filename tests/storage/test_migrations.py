"""Alembic migrations on SQLite and on PostgreSQL: every step up and down, no drift.

Each test runs on an empty SQLite file and on an empty PostgreSQL database.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from legato.exceptions import StorageError
from legato.storage import database
from legato.storage.engine import create_store_engine
from legato.storage.schema import metadata


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield database.sqlite_url(tmp_path / "empty.db")
        return
    import pg

    url = pg.empty_database(request.getfixturevalue("postgres_url"))
    yield url
    pg.drop_database(url)


def revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(database.alembic_config("sqlite://"))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def tables(url: str) -> set[str]:
    engine = create_store_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def differences(url: str) -> list[object]:
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), metadata))
    finally:
        engine.dispose()


def test_every_migration_goes_up_and_down_one_step_at_a_time(empty_url):
    seen: list[set[str]] = [set()]
    for revision in revisions():
        database.upgrade(empty_url, revision)
        assert database.current_revision(empty_url) == revision
        seen.append(tables(empty_url))
        assert seen[-1] > seen[-2], f"{revision} added no table"

    assert seen[-1] == set(metadata.tables)
    for revision, expected in zip(
        reversed([None, *revisions()[:-1]]), reversed(seen[:-1]), strict=True
    ):
        database.downgrade(empty_url, revision or "base")
        assert database.current_revision(empty_url) == revision
        assert tables(empty_url) == expected


def test_migrated_database_matches_the_sqlalchemy_schema(empty_url):
    database.upgrade(empty_url)

    assert differences(empty_url) == []
    assert database.current_revision(empty_url) == database.head_revision()
    # And the comparison does see a difference when there is one
    engine = create_store_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP INDEX ix_logs_task_run_id_timestamp")
    finally:
        engine.dispose()
    assert [diff[0] for diff in differences(empty_url)] == ["add_index"]


def test_reset_drops_everything_and_migrates_again(empty_url):
    database.upgrade(empty_url)
    engine = create_store_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO flows (id, name, created, updated) VALUES "
                "('6f1c1b2e-8a52-4d7e-9d35-0f1f4ab0a111', 'x', 1.0, 1.0)"
                if engine.dialect.name == "sqlite"
                else "INSERT INTO flows (id, name, created, updated) VALUES "
                "('6f1c1b2e-8a52-4d7e-9d35-0f1f4ab0a111', 'x', now(), now())"
            )
    finally:
        engine.dispose()

    database.reset(empty_url)

    assert database.current_revision(empty_url) == database.head_revision()
    engine = create_store_engine(empty_url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM flows").scalar() == 0
    finally:
        engine.dispose()


def test_an_empty_database_has_no_revision(empty_url):
    assert database.current_revision(empty_url) is None


def test_a_database_from_a_newer_legato_is_refused(empty_url):
    database.upgrade(empty_url)
    engine = create_store_engine(empty_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff_future'")
    finally:
        engine.dispose()

    with pytest.raises(StorageError, match="newer legato") as caught:
        database.upgrade(empty_url)
    assert "ffff_future" in str(caught.value)
    assert "password" not in str(caught.value).lower()


def test_concurrent_upgrades_queue_and_both_succeed(empty_url):
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def upgrade() -> None:
        try:
            start.wait(timeout=30)
            database.upgrade(empty_url)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert database.current_revision(empty_url) == database.head_revision()
    assert differences(empty_url) == []
