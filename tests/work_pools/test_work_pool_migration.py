"""Migration 0005 on a database with runs in it (SQLite and PostgreSQL): the runs stay,
the new columns take their defaults, and going back down keeps the runs too."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from legato.storage import database
from legato.storage.engine import create_store_engine

FLOW_ID = "6f1c1b2e-8a52-4d7e-9d35-0f1f4ab0a111"
RUN_ID = "0f9d3c1a-2b4e-4f6a-8c7d-9e0a1b2c3d4e"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield database.sqlite_url(tmp_path / "empty.db")
        return
    import pg

    url = pg.empty_database(request.getfixturevalue("postgres_url"), prefix="migration")
    yield url
    pg.drop_database(url)


def _execute(url: str, sql: str) -> list[tuple]:
    engine = create_store_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.exec_driver_sql(sql)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_store_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_runs_survive_0005_up_and_down(empty_url):
    database.upgrade(empty_url, "0003")
    now = "1.0" if empty_url.startswith("sqlite") else "now()"
    _execute(
        empty_url,
        f"INSERT INTO flows (id, name, created, updated) VALUES ('{FLOW_ID}', 'f', {now}, {now})",
    )
    _execute(
        empty_url,
        "INSERT INTO flow_runs (id, flow_id, name, state_type, created, updated) "
        f"VALUES ('{RUN_ID}', '{FLOW_ID}', 'old-run', 'COMPLETED', {now}, {now})",
    )

    database.upgrade(empty_url, "0005")

    [row] = _execute(
        empty_url,
        "SELECT name, state_type, job_variables, auto_scheduled, work_pool_name, "
        "idempotency_key FROM flow_runs",
    )
    name, state_type, job_variables, auto_scheduled, pool, key = row
    assert (name, state_type, pool, key) == ("old-run", "COMPLETED", None, None)
    assert job_variables in ("{}", {})  # TEXT on SQLite, JSONB on PostgreSQL
    assert not auto_scheduled
    assert {"work_pools", "work_queues", "workers"} <= _tables(empty_url)

    database.downgrade(empty_url, "0003")

    assert _execute(empty_url, "SELECT name FROM flow_runs") == [("old-run",)]
    [row] = _execute(empty_url, "SELECT * FROM flow_runs")
    assert len(row) == 19  # the recorder's fields, as before 0005
    assert not {"work_pools", "work_queues", "workers"} & _tables(empty_url)
