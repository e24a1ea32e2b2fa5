"""Fixtures for the lock manager tests: each manager, a unique key, a real redis-server.

``redis_server`` (session) comes from ``locking/redis_server.py``, which other test
folders can import too; without ``redis-server`` on PATH it skips, or fails on CI.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from legato.locking import FileSystemLockManager, LockManager, MemoryLockManager

MANAGER_KINDS = ["memory", "filesystem", "redis"]


@pytest.fixture
def redis_lock_manager(request: pytest.FixtureRequest) -> Iterator[LockManager]:
    from legato.locking import RedisLockManager

    host, port = request.getfixturevalue("redis_server")
    manager = RedisLockManager(host=host, port=port, lease_seconds=2.0)
    yield manager
    manager.close()


@pytest.fixture(params=MANAGER_KINDS)
def lock_manager(request: pytest.FixtureRequest, tmp_path: Path) -> LockManager:
    """Each lock manager in turn, so that one test covers all three."""
    if request.param == "memory":
        return MemoryLockManager()
    if request.param == "filesystem":
        return FileSystemLockManager(tmp_path / "locks")
    manager: LockManager = request.getfixturevalue("redis_lock_manager")
    return manager


@pytest.fixture
def key() -> str:
    """A lock name no other test uses (the memory manager is shared by the process)."""
    return f"key-{uuid.uuid4().hex}"
