"""The embedded client's write transactions (specific to SQLite: not part of the contract)."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from legato.exceptions import StorageError
from legato.orchestration import variables as service


def test_writes_are_one_transaction(embedded_client):
    def create_then_fail(connection):
        service.create_variable(connection, name="half", value=1)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        embedded_client._transaction(create_then_fail)

    assert embedded_client.read_variable_by_name("half") is None


def test_a_transaction_holds_the_write_lock_from_its_start(embedded_client, database_path):
    def check_locked(connection):
        other = sqlite3.connect(database_path, timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
        return connection.execute(sa.text("SELECT 1")).scalar_one()

    assert embedded_client._transaction(check_locked) == 1


def test_a_closed_client_refuses_to_write(embedded_client):
    embedded_client.close()

    with pytest.raises(StorageError, match="is closed"):
        embedded_client.set_variable("x", 1)


def test_concurrent_writers_queue_instead_of_failing(database_path):
    from concurrent.futures import ThreadPoolExecutor

    from legato.client.embedded import EmbeddedClient

    def write(worker):
        with EmbeddedClient(database_path) as client:
            for number in range(10):
                # A read, then a write, in one transaction: the racy shape.
                client.set_variable(f"worker-{worker}-{number}", number)
                client.set_variable("shared", [worker, number], overwrite=True)
                client.create_artifact(key=f"worker-{worker}", type="progress", data=number)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(write, worker) for worker in range(4)]:
            future.result(timeout=60)

    with EmbeddedClient(database_path) as client:
        assert client.count_artifacts() == 40
        assert len(client.read_variables(name_like="worker-")) == 40
        shared = client.read_variable_by_name("shared")
        assert shared is not None and shared["value"][1] == 9
