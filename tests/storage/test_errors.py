"""Unusable homes and files give LegatoErrors that name the path and the fix."""

from __future__ import annotations

import os
import sqlite3

import pytest

from legato.client.embedded import EmbeddedClient
from legato.exceptions import ConfigurationError, StorageError


def test_corrupt_database_file(database_path):
    database_path.parent.mkdir(parents=True)
    database_path.write_bytes(b"these bytes are not a SQLite database\n" * 200)

    with pytest.raises(StorageError) as caught:
        EmbeddedClient(database_path)

    message = str(caught.value)
    assert str(database_path) in message
    assert "not a usable legato database" in message and "Move it aside" in message
    assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)


def test_sqlite_database_of_another_program(database_path):
    database_path.parent.mkdir(parents=True)
    other = sqlite3.connect(database_path)
    other.execute("CREATE TABLE recipes (name TEXT)")
    other.close()

    with pytest.raises(StorageError, match="without legato's tables") as caught:
        EmbeddedClient(database_path)
    assert str(database_path) in str(caught.value)


def test_home_that_is_a_file(tmp_path):
    home = tmp_path / "home"
    home.write_text("not a folder")

    with pytest.raises(ConfigurationError, match="is not a directory") as caught:
        EmbeddedClient(home / "legato.db")
    assert str(home) in str(caught.value) and "LEGATO_HOME" in str(caught.value)


def test_home_below_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigurationError, match="LEGATO_HOME"):
        EmbeddedClient(tmp_path / "file" / "home" / "legato.db")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_home_that_is_not_writable(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o500)
    try:
        with pytest.raises(ConfigurationError, match="not writable") as caught:
            EmbeddedClient(home / "legato.db")
        assert str(home) in str(caught.value)
    finally:
        home.chmod(0o700)


def test_home_that_cannot_be_created(tmp_path, monkeypatch):
    # Portable stand-in for a read-only parent folder (the tests may run as root).
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("pathlib.Path.mkdir", refuse)
    with pytest.raises(ConfigurationError, match="Cannot create LEGATO_HOME") as caught:
        EmbeddedClient(tmp_path / "new-home" / "legato.db")
    assert "Permission denied" in str(caught.value)


def test_database_path_that_is_a_folder(database_path):
    database_path.mkdir(parents=True)
    with pytest.raises(StorageError, match="Cannot open the legato database") as caught:
        EmbeddedClient(database_path)
    assert str(database_path) in str(caught.value)


def test_write_errors_become_storage_errors(client, factory):
    batch, _ = factory.flow_run_batch()
    batch.task_runs[0] = batch.task_runs[0]._replace(task_key=None)  # NOT NULL

    with pytest.raises(StorageError, match="Could not write") as caught:
        client.record(batch)
    assert str(client.database_path) in str(caught.value)
    assert client.read_flow_runs() == []
