"""FileSystemLockManager: lock files, stale locks, safe file names."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato.exceptions import ParameterError
from legato.locking import FileSystemLockManager
from legato.locking.filesystem import is_process_alive, lock_file_name

SAFE_NAME_CHARACTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


@pytest.fixture
def manager(tmp_path):
    return FileSystemLockManager(tmp_path / "locks")


def dead_pid():
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=10)
    return child.pid


def write_lock_file(manager, key, **overrides):
    record = {
        "key": key,
        "holder": "ghost",
        "pid": os.getpid(),
        "process_started": None,
        "hostname": os.uname().nodename,
        "acquired_at": time.time(),
        "expires_at": None,
    }
    record.update(overrides)
    path = manager.lock_file_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return path


def test_the_lock_file_says_who_holds_the_lock(manager, key):
    manager.acquire_lock(key, "alice", hold_timeout=30)

    record = json.loads(manager.lock_file_path(key).read_text())

    assert record["holder"] == "alice"
    assert record["pid"] == os.getpid()
    assert record["hostname"] == socket.gethostname()
    assert record["expires_at"] == pytest.approx(record["acquired_at"] + 30)
    manager.release_lock(key, "alice")
    assert not manager.lock_file_path(key).exists()


def test_without_hold_timeout_the_lock_file_never_expires(manager, key):
    manager.acquire_lock(key, "alice")

    assert json.loads(manager.lock_file_path(key).read_text())["expires_at"] is None


def test_the_directory_is_made_on_first_use(tmp_path, key):
    manager = FileSystemLockManager(tmp_path / "not" / "yet")
    assert not (tmp_path / "not").exists()

    assert manager.acquire_lock(key, "alice")

    assert manager.lock_file_path(key).parent == tmp_path / "not" / "yet"


def test_a_relative_directory_is_fixed_when_the_manager_is_made(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    manager = FileSystemLockManager("locks")

    assert manager.lock_files_directory == tmp_path / "locks"


def test_the_directory_must_be_a_path():
    with pytest.raises(ParameterError, match="lock_files_directory"):
        FileSystemLockManager(None)  # type: ignore[arg-type]


def test_a_lock_of_a_dead_process_is_free(manager, key):
    write_lock_file(manager, key, pid=dead_pid())

    assert not manager.is_locked(key)
    assert manager.acquire_lock(key, "alice", acquire_timeout=0)
    assert manager.is_lock_holder(key, "alice")


def test_a_lock_of_a_reused_pid_is_free(manager, key):
    write_lock_file(manager, key, pid=os.getpid(), process_started="1")  # not when we started

    assert not manager.is_locked(key)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_zombie_holds_nothing():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert is_process_alive(child.pid)
        child.kill()
        deadline = time.monotonic() + 10  # killed, not yet reaped: a zombie
        while is_process_alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not is_process_alive(child.pid)
    finally:
        child.kill()
        child.wait(timeout=10)


def test_a_lock_of_a_live_process_is_held(manager, key):
    write_lock_file(manager, key)  # this very process

    assert manager.is_locked(key)
    assert not manager.acquire_lock(key, "alice", acquire_timeout=0)


def test_a_lock_of_another_host_holds_until_it_expires(manager, key):
    write_lock_file(manager, key, hostname="elsewhere", pid=dead_pid())
    assert manager.is_locked(key)  # we cannot see that host's processes

    write_lock_file(manager, key, hostname="elsewhere", expires_at=time.time() - 1)
    assert not manager.is_locked(key)


def test_an_unreadable_lock_file_is_free(manager, key):
    path = write_lock_file(manager, key)
    path.write_text("")  # its writer died before writing

    assert not manager.is_locked(key)
    assert manager.acquire_lock(key, "alice", acquire_timeout=0)


def test_of_many_threads_breaking_one_stale_lock_exactly_one_wins(manager, key):
    write_lock_file(manager, key, pid=dead_pid())
    start = threading.Barrier(8)
    winners = []

    def take(holder):
        start.wait(timeout=10)
        if manager.acquire_lock(key, holder, acquire_timeout=0):
            winners.append(holder)

    threads = [threading.Thread(target=take, args=(f"t{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert len(winners) == 1
    assert manager.is_lock_holder(key, winners[0])


def test_the_holder_of_a_stale_lock_takes_it_afresh(manager, key):
    write_lock_file(manager, key, holder="alice", pid=dead_pid())

    assert manager.acquire_lock(key, "alice", acquire_timeout=0)

    assert json.loads(manager.lock_file_path(key).read_text())["pid"] == os.getpid()


def test_managers_on_one_directory_share_locks(tmp_path, key):
    first, second = FileSystemLockManager(tmp_path), FileSystemLockManager(str(tmp_path))

    first.acquire_lock(key, "alice")

    assert second.is_lock_holder(key, "alice")
    assert not second.acquire_lock(key, "bob", acquire_timeout=0)


@pytest.mark.parametrize(
    ("key", "name_start"),
    [
        ("report-2024", "report-2024-"),
        ("a/b\\c", "a_b_c-"),
        ("..", ""),
        ("café résumé", "caf_r_sum-"),
        ("-leading", "leading-"),
        ("x" * 500, "x" * 64 + "-"),
    ],
)
def test_lock_file_names_keep_a_readable_part_of_the_key(key, name_start):
    name = lock_file_name(key)

    assert name.startswith(name_start)
    assert name.endswith(".lock")
    assert len(name) <= 64 + 1 + 32 + len(".lock")


@given(st.text(min_size=1), st.text(min_size=1))
def test_lock_file_names_are_safe_and_differ_for_different_keys(first, second):
    name = lock_file_name(first)

    assert set(name) <= SAFE_NAME_CHARACTERS
    assert not name.startswith((".", "-"))
    assert (name == lock_file_name(second)) == (first == second)
