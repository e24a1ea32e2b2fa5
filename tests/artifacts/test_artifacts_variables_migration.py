"""Migration 0003 (artifacts and variables) up and down, keeping the other tables' rows."""

from __future__ import annotations

import sqlite3

from legato.storage import database

TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'alembic_version'"


def tables(path):
    connection = sqlite3.connect(path)
    try:
        return {name for (name,) in connection.execute(TABLES)}
    finally:
        connection.close()


def test_0003_adds_and_removes_the_tables_and_keeps_other_rows(tmp_path):
    path = tmp_path / "legato.db"
    url = database.sqlite_url(path)
    database.upgrade(url, "0002")
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "INSERT INTO block_documents VALUES ('00000000-0000-0000-0000-000000000001', "
            "'local-file-system', 'results', '{}', 1.0, 1.0)"
        )
    connection.close()

    database.upgrade(url, "0003")
    assert {"artifacts", "variables"} <= tables(path)

    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "INSERT INTO variables (id, name, value, created, updated) "
            "VALUES ('00000000-0000-0000-0000-000000000002', 'x', '1', 1.0, 1.0)"
        )
        assert connection.execute("SELECT tags FROM variables").fetchone() == ("[]",)
    connection.close()

    database.downgrade(url, "0002")
    assert database.current_revision(url) == "0002"
    assert not {"artifacts", "variables"} & tables(path)
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("SELECT name FROM block_documents").fetchall() == [("results",)]
    finally:
        connection.close()

    database.upgrade(url)
    assert {"artifacts", "variables"} <= tables(path)
