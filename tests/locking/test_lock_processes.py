"""Real processes racing for one lock, and a holder killed with SIGKILL.

Runs against the managers that work across processes: filesystem and redis.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from locking.lock_worker import manager_from_spec

WORKER = Path(__file__).with_name("lock_worker.py")
REDIS_LEASE_SECONDS = 1.0

pytestmark = pytest.mark.slow


@pytest.fixture(params=["filesystem", "redis"])
def manager_spec(request, tmp_path):
    if request.param == "filesystem":
        return {"kind": "filesystem", "directory": str(tmp_path / "locks")}
    host, port = request.getfixturevalue("redis_server")
    return {"kind": "redis", "host": host, "port": port, "lease_seconds": REDIS_LEASE_SECONDS}


@pytest.fixture
def manager(manager_spec):
    manager = manager_from_spec(manager_spec)
    yield manager
    if hasattr(manager, "close"):
        manager.close()


def start_worker(*arguments):
    return subprocess.Popen(
        [sys.executable, str(WORKER), *map(str, arguments)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_line(process, timeout_seconds):
    """The next line the process prints, waiting at most ``timeout_seconds``."""
    ready, _, _ = select.select([process.stdout], [], [], timeout_seconds)
    assert ready, f"no output within {timeout_seconds} s"
    return process.stdout.readline().strip()


def stop(processes):
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_four_processes_do_the_work_once_and_read_the_same_result(manager_spec, key, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    workers = [start_worker("race", json.dumps(manager_spec), key, work) for _ in range(4)]
    try:
        for worker in workers:  # start together
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outcomes = [(*worker.communicate(timeout=60), worker.returncode) for worker in workers]
    finally:
        stop(workers)

    assert [code for _, _, code in outcomes] == [0] * 4, [err for _, err, _ in outcomes]
    worked = (work / "work.log").read_text().split()
    assert len(worked) == 1
    assert {out.strip() for out, _, _ in outcomes} == {f"computed by {worked[0]}"}
    assert not manager_from_spec(manager_spec).is_locked(key)


def test_a_lock_held_by_a_killed_process_becomes_free(manager_spec, manager, key):
    holder = start_worker("hold", json.dumps(manager_spec), key)
    try:
        assert read_line(holder, 20) == "held"
        assert manager.is_locked(key)
        assert not manager.acquire_lock(key, "next", acquire_timeout=0)

        # When the holder dies without releasing
        holder.kill()
        holder.wait(timeout=10)
        killed = time.monotonic()
        if manager_spec["kind"] == "filesystem":  # its pid is gone: free at once
            assert not manager.is_locked(key)
        else:  # its lease is no longer renewed: free within lease_seconds
            assert manager.wait_for_lock(key, timeout=REDIS_LEASE_SECONDS + 2)
            assert time.monotonic() - killed <= REDIS_LEASE_SECONDS + 0.5
            assert not manager.is_locked(key)

        # Then another process takes it at once
        assert manager.acquire_lock(key, "next", acquire_timeout=0)
        manager.release_lock(key, "next")
        assert not manager.is_locked(key)
    finally:
        stop([holder])
