"""A process that takes a lock, for test_lock_processes.py.

Usage:
    python lock_worker.py race MANAGER KEY WORK_DIRECTORY
    python lock_worker.py hold MANAGER KEY

MANAGER is JSON: {"kind": "filesystem", "directory": ...} or
{"kind": "redis", "host": ..., "port": ..., "lease_seconds": ...}.

race: waits for a line on stdin (the start signal), takes the lock, and makes
    sure the result exists: the first holder appends its pid to work.log, sleeps
    50 ms and writes result.txt. Prints the result it read, then releases.
hold: takes the lock, prints "held", and sleeps until killed (at most 60 s).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from legato.locking import FileSystemLockManager, LockManager, RedisLockManager

ACQUIRE_TIMEOUT_SECONDS = 30


def manager_from_spec(spec: dict[str, Any]) -> LockManager:
    if spec["kind"] == "filesystem":
        return FileSystemLockManager(spec["directory"])
    return RedisLockManager(
        host=spec["host"], port=spec["port"], lease_seconds=spec["lease_seconds"]
    )


def make_result_once(work_directory: Path) -> str:
    """The critical section: compute the result unless a previous holder did."""
    result = work_directory / "result.txt"
    if not result.exists():
        with open(work_directory / "work.log", "a") as log:
            log.write(f"{os.getpid()}\n")
        time.sleep(0.05)  # the work
        result.write_text(f"computed by {os.getpid()}")
    return result.read_text()


def race(manager: LockManager, key: str, work_directory: Path) -> None:
    holder = f"worker-{os.getpid()}"
    sys.stdin.readline()  # the start signal
    if not manager.acquire_lock(key, holder, acquire_timeout=ACQUIRE_TIMEOUT_SECONDS):
        sys.exit(f"no lock after {ACQUIRE_TIMEOUT_SECONDS} s")
    try:
        print(make_result_once(work_directory), flush=True)
    finally:
        manager.release_lock(key, holder)


def hold(manager: LockManager, key: str) -> None:
    if not manager.acquire_lock(key, f"worker-{os.getpid()}", acquire_timeout=10):
        sys.exit("no lock after 10 s")
    print("held", flush=True)
    time.sleep(60)  # until the test kills this process
    sys.exit("not killed within 60 s")


def main() -> None:
    command, spec, key = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    manager = manager_from_spec(spec)
    if command == "race":
        race(manager, key, Path(sys.argv[4]))
    else:
        hold(manager, key)


if __name__ == "__main__":
    main()
