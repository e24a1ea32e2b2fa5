"""The schema: snapshot, Alembic history and SQLAlchemy tables never drift apart."""

from __future__ import annotations

import importlib.util
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa

from legato.exceptions import StorageError
from legato.storage import database, sqlite
from legato.storage.schema import metadata

SCRIPT = Path(__file__).parents[2] / "scripts" / "render_sqlite_schema.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_sqlite_schema", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sqlite_master(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
        ).fetchall()
    finally:
        connection.close()
    # Alembic's batch mode recreates a table's indexes in no fixed order
    return sqlite.canonical_order([sqlite.normalize_ddl(sql) for (sql,) in rows])


def revision_of(path: Path) -> str | None:
    connection = sqlite.connect(path)
    try:
        return sqlite.read_revision(connection)
    finally:
        connection.close()


def test_snapshot_is_what_alembic_produces():
    script = load_script()
    assert script.render() == sqlite.SNAPSHOT_PATH.read_text(encoding="utf-8"), (
        "sqlite_schema.sql is stale: run scripts/render_sqlite_schema.py"
    )
    assert script.main(["--check"]) == 0


def test_snapshot_revision_is_the_alembic_head():
    assert sqlite.load_snapshot().revision == database.head_revision()


def test_new_database_is_created_from_the_snapshot_and_stamped(database_path):
    connection = sqlite.open_database(database_path)
    connection.close()

    assert sqlite_master(database_path) == list(sqlite.load_snapshot().statements)
    assert revision_of(database_path) == database.head_revision()


def test_bootstrapped_database_equals_an_alembic_upgraded_one(tmp_path, database_path):
    sqlite.open_database(database_path).close()
    migrated = tmp_path / "migrated.db"
    database.upgrade(database.sqlite_url(migrated))

    assert sqlite_master(database_path) == sqlite_master(migrated)


def test_reopening_a_database_at_head_runs_one_select(database_path):
    sqlite.open_database(database_path).close()
    statements: list[str] = []
    connection = sqlite.connect(database_path)
    try:
        connection.set_trace_callback(statements.append)
        sqlite.ensure_schema(connection, database_path)
    finally:
        connection.close()
    assert statements == ["SELECT version_num FROM alembic_version"]


def test_database_at_base_is_upgraded_by_alembic_on_open(tmp_path):
    path = tmp_path / "legato.db"
    database.upgrade(database.sqlite_url(path))
    database.downgrade(database.sqlite_url(path), "base")

    sqlite.open_database(path).close()

    assert revision_of(path) == database.head_revision()
    assert sqlite_master(path) == list(sqlite.load_snapshot().statements)


def test_database_from_a_newer_legato_is_refused(database_path):
    sqlite.open_database(database_path).close()
    connection = sqlite3.connect(database_path)
    with connection:
        connection.execute("UPDATE alembic_version SET version_num = 'ffff_from_the_future'")
    connection.close()

    with pytest.raises(StorageError, match="newer legato") as caught:
        sqlite.open_database(database_path)
    assert "ffff_from_the_future" in str(caught.value)


def test_upgrade_refuses_a_memory_url():
    with pytest.raises(StorageError, match="not a SQLite file URL"):
        database.create_engine("sqlite://")


def test_fresh_database_and_first_write_load_neither_sqlalchemy_nor_alembic(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys, time, uuid
        from pathlib import Path
        from legato.client.embedded import EmbeddedClient
        from legato.storage.records import RecordBatch

        for name in ("fresh", "fresh"):  # created, then reopened at head
            client = EmbeddedClient(Path({str(tmp_path)!r}) / name / "legato.db")
            client.record(RecordBatch(logs=[(str(uuid.uuid4()), None, None, "x", 20, "m", time.time())]))
            client.close()
        heavy = sorted(m for m in ("sqlalchemy", "alembic") if m in sys.modules)
        print(",".join(heavy) or "light")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "light"


def test_schema_tables_carry_the_record_fields():
    from legato.storage.records import (
        FLOW_RUN_FIELDS,
        FLOW_RUN_ORCHESTRATION_FIELDS,
        LOG_FIELDS,
        STATE_FIELDS,
        TASK_RUN_FIELDS,
    )
    from legato.storage.writes import FLOW_FIELDS

    columns = {
        table.name: tuple(column.name for column in table.columns)
        for table in metadata.sorted_tables
    }
    # Rows are tuples bound in field order: the fields must be the columns, in order.
    # The orchestration columns follow: the recorder's upserts never name them.
    assert columns["flow_runs"] == FLOW_RUN_FIELDS + FLOW_RUN_ORCHESTRATION_FIELDS
    assert columns["task_runs"] == TASK_RUN_FIELDS
    assert columns["states"] == STATE_FIELDS
    assert columns["logs"] == LOG_FIELDS
    assert columns["flows"] == FLOW_FIELDS
    assert isinstance(metadata.tables["flows"].c.id.type, sa.types.TypeDecorator)


def test_sqlalchemy_schema_renders_the_snapshot_ddl():
    from sqlalchemy.dialects import sqlite as sqlite_dialect
    from sqlalchemy.schema import CreateIndex, CreateTable

    def ddl(element: CreateTable | CreateIndex) -> str:
        return sqlite.normalize_ddl(str(element.compile(dialect=sqlite_dialect.dialect())))

    rendered = {ddl(CreateTable(table)) for table in metadata.sorted_tables}
    rendered |= {
        ddl(CreateIndex(index)) for table in metadata.sorted_tables for index in table.indexes
    }
    snapshot = {s for s in sqlite.load_snapshot().statements if "alembic_version" not in s}
    assert rendered == snapshot


def test_canonical_order_puts_each_tables_indexes_after_it_by_name():
    statements = [
        "CREATE TABLE b (x)",
        "CREATE TABLE a (x)",
        "CREATE INDEX ix_a_2 ON a (x)",
        "CREATE INDEX ix_b_1 ON b (x)",
        'CREATE INDEX "ix_a_1" ON "a" (x)',
        "CREATE UNIQUE INDEX ix_c ON c (x)",
    ]
    assert sqlite.canonical_order(statements) == [
        "CREATE TABLE b (x)",
        "CREATE INDEX ix_b_1 ON b (x)",
        "CREATE TABLE a (x)",
        'CREATE INDEX "ix_a_1" ON "a" (x)',
        "CREATE INDEX ix_a_2 ON a (x)",
        "CREATE UNIQUE INDEX ix_c ON c (x)",
    ]
