"""Transactions: all-or-nothing groups of task runs, hooks, idempotency, isolation."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from legato import flow, task
from legato.exceptions import ConfigurationError
from legato.transactions import (
    CommitMode,
    IsolationLevel,
    TransactionState,
    get_transaction,
    transaction,
)


def stored_keys(home: Path) -> set[str]:
    root = home / "storage"
    return {p.name for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def make_tasks(log: list[str]):
    @task(persist_result=True)
    def extract(x: int) -> int:
        log.append(f"extract {x}")
        return x + 1

    @extract.on_commit
    def extract_committed(txn) -> None:
        log.append("commit extract")

    @extract.on_rollback
    def undo_extract(txn) -> None:
        log.append("rollback extract")

    @task
    def load(y: int) -> int:
        log.append(f"load {y}")
        if y < 0:
            raise ValueError("negative")
        return y * 10

    @load.on_rollback
    def undo_load(txn) -> None:
        log.append("rollback load")

    return extract, load


def test_commit_writes_staged_results_and_runs_commit_hooks(legato_home: Path):
    log: list[str] = []
    extract, load = make_tasks(log)

    @flow
    def pipeline() -> int:
        with transaction(key="daily") as txn:
            value = load(extract(1))
            assert get_transaction() is txn
            assert stored_keys(legato_home) == set()  # nothing written before commit
        assert txn.state is TransactionState.COMMITTED
        return value

    assert pipeline() == 20
    assert get_transaction() is None
    assert log == ["extract 1", "load 2", "commit extract"]
    assert "daily" in stored_keys(legato_home)


def test_a_failure_rolls_back_every_staged_task_newest_first(legato_home: Path):
    log: list[str] = []
    extract, load = make_tasks(log)

    @flow
    def pipeline() -> None:
        with transaction(key="fails"):
            load(extract(1))
            load(-5)
        raise AssertionError("not reached")

    state = pipeline(return_state=True)
    assert state.is_failed()
    assert log == ["extract 1", "load 2", "load -5", "rollback load", "rollback extract"]
    assert stored_keys(legato_home) == set()


def test_a_failed_task_rolls_back_even_if_the_error_is_caught(legato_home: Path):
    log: list[str] = []
    extract, load = make_tasks(log)

    @flow
    def pipeline() -> str:
        with transaction(key="caught") as txn:
            extract(1)
            state = load(-1, return_state=True)
            assert state.is_failed()
        return txn.state.value

    assert pipeline() == "ROLLED_BACK"
    assert log[-1] == "rollback extract"
    assert stored_keys(legato_home) == set()


def test_a_committed_key_makes_a_rerun_a_no_op_returning_stored_values():
    log: list[str] = []
    extract, load = make_tasks(log)

    @flow
    def pipeline() -> tuple[int, str, bool]:
        with transaction(key="once") as txn:
            state = load(extract(2), return_state=True)
        return state.result(), state.name, txn.is_committed()

    assert pipeline() == (30, "Completed", True)
    assert pipeline() == (30, "Cached", True)
    assert log.count("extract 2") == 1 and log.count("load 3") == 1


def test_overwrite_runs_again():
    log: list[str] = []
    extract, load = make_tasks(log)

    @flow
    def pipeline() -> int:
        with transaction(key="again", overwrite=True):
            return load(extract(2))

    pipeline()
    pipeline()
    assert log.count("load 3") == 2


def test_nested_lazy_children_commit_with_the_outermost(legato_home: Path):
    log: list[str] = []
    extract, _ = make_tasks(log)

    @flow
    def pipeline() -> None:
        with transaction(key="outer"):
            with transaction(key="inner") as inner:
                extract(5)
            assert inner.state is TransactionState.STAGED
            assert "inner" not in stored_keys(legato_home)
        assert inner.state is TransactionState.COMMITTED

    pipeline()
    assert {"outer", "inner"} <= stored_keys(legato_home)


def test_eager_children_commit_at_once(legato_home: Path):
    log: list[str] = []
    extract, _ = make_tasks(log)

    @flow
    def pipeline() -> None:
        with transaction(key="outer-eager"):
            with transaction(key="inner-eager", commit_mode=CommitMode.EAGER):
                extract(5)
            assert "inner-eager" in stored_keys(legato_home)
            assert "commit extract" in log

    pipeline()


def test_commit_mode_off_writes_nothing(legato_home: Path):
    log: list[str] = []
    extract, _ = make_tasks(log)

    @flow
    def pipeline() -> None:
        with transaction(key="off", commit_mode="off") as txn:
            extract(1)
        assert txn.is_committed()

    pipeline()
    assert "off" not in stored_keys(legato_home)


def test_values_are_shared_with_hooks_and_children():
    seen: list[object] = []

    @task
    def write_file(name: str) -> str:
        get_transaction().set("path", f"/tmp/{name}")  # type: ignore[union-attr]
        return name

    @write_file.on_rollback
    def remove(txn) -> None:
        seen.append(txn.get("path"))
        seen.append(txn.get("owner"))

    @flow
    def pipeline() -> None:
        with transaction(key="shared") as outer:
            outer.set("owner", "etl")
            write_file("a.csv")
            raise RuntimeError("boom")

    assert pipeline(return_state=True).is_failed()
    assert seen == ["/tmp/a.csv", "etl"]


def test_get_without_default_names_the_value():
    with transaction() as txn, pytest.raises(KeyError, match="txn.set\\('nope'"):
        txn.get("nope")
    assert txn.get("nope", 3) == 3


def test_async_with_transaction():
    log: list[str] = []
    extract, _ = make_tasks(log)

    @flow
    async def pipeline() -> str:
        async with transaction(key="async-key") as txn:
            extract(9)
        return txn.state.value

    assert asyncio.run(pipeline()) == "COMMITTED"
    assert "commit extract" in log


def test_bad_options_are_clear_errors():
    with pytest.raises(ConfigurationError, match="commit_mode='sometimes'"):
        transaction(commit_mode="sometimes")
    with pytest.raises(ConfigurationError, match="key=''"):
        transaction(key="")
    serializable = transaction(key="x", isolation_level=IsolationLevel.SERIALIZABLE)
    with pytest.raises(ConfigurationError, match="no lock manager"), serializable:
        pass


def test_submitted_tasks_join_the_transaction():
    log: list[str] = []
    extract, load = make_tasks(log)

    @flow
    def pipeline() -> None:
        with transaction(key="submitted"):
            futures = extract.map([1, 2, 3])
            load.submit(-1).wait()
            futures.wait()

    assert pipeline(return_state=True).is_completed()
    assert log.count("rollback extract") == 3


# -- across processes ----------------------------------------------------------

RACE_SCRIPT = """
import json, os, sys, time
from pathlib import Path
from legato import flow, task
from legato.results import ResultStore
from legato.transactions import transaction, IsolationLevel

kind, root, key = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
if kind == "file":
    from legato.locking import FileSystemLockManager
    locks = FileSystemLockManager(lock_files_directory=root / "locks")
else:
    from legato.locking import RedisLockManager
    host, port = sys.argv[4], int(sys.argv[5])
    locks = RedisLockManager(host=host, port=port, lease_seconds=1.0)
store = ResultStore(result_storage=str(root / "results"), lock_manager=locks)

@task
def work() -> int:
    with open(root / "work.log", "a") as f:
        f.write(f"{os.getpid()}\\n")
    if os.environ.get("HANG"):
        (root / "holding").write_text("yes")
        time.sleep(60)
    time.sleep(0.05)
    return 42

@flow
def job() -> int:
    with transaction(key=key, store=store, isolation_level=IsolationLevel.SERIALIZABLE):
        return work()

print(json.dumps(job()))
"""


def race(tmp_path: Path, kind: str, extra: list[str], processes: int = 4) -> list[str]:
    script = tmp_path / "race.py"
    script.write_text(RACE_SCRIPT)
    children = [
        subprocess.Popen(
            [sys.executable, str(script), kind, str(tmp_path), "shared-key", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=90)
        assert child.returncode == 0, err
        outputs.append(out.strip().splitlines()[-1])
    return outputs


def kill_while_holding(tmp_path: Path, kind: str, extra: list[str]) -> None:
    script = tmp_path / "race.py"
    script.write_text(RACE_SCRIPT)
    child = subprocess.Popen(
        [sys.executable, str(script), kind, str(tmp_path), "shared-key", *extra],
        env={**os.environ, "HANG": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "holding").exists():
        assert time.monotonic() < deadline, "the child never took the lock"
        assert child.poll() is None, "the child died"
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    (tmp_path / "work.log").unlink()


@pytest.mark.slow
def test_serializable_file_locks_run_the_work_once_across_processes(tmp_path: Path):
    outputs = race(tmp_path, "file", [])
    assert outputs == ["42"] * 4
    assert len((tmp_path / "work.log").read_text().split()) == 1


@pytest.mark.slow
def test_a_killed_holder_does_not_leave_the_key_locked(tmp_path: Path):
    kill_while_holding(tmp_path, "file", [])
    outputs = race(tmp_path, "file", [], processes=2)
    assert outputs == ["42", "42"]
    assert len((tmp_path / "work.log").read_text().split()) == 1


@pytest.mark.slow
def test_serializable_redis_locks_run_the_work_once_across_processes(
    tmp_path: Path, redis_server: tuple[str, int]
):
    host, port = redis_server
    kill_while_holding(tmp_path, "redis", [host, str(port)])
    outputs = race(tmp_path, "redis", [host, str(port)])
    assert outputs == ["42"] * 4
    assert len((tmp_path / "work.log").read_text().split()) == 1
