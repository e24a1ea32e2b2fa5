"""Lock managers: named locks that transactions and cache policies take (Prefect 3's API).

    from legato.locking import FileSystemLockManager
    locks = FileSystemLockManager("/var/tmp/legato-locks")
    if locks.acquire_lock("report-2024", holder="run-42", acquire_timeout=10):
        try:
            ...
        finally:
            locks.release_lock("report-2024", holder="run-42")

- ``MemoryLockManager``: the threads of one process (one instance per process).
- ``FileSystemLockManager``: the processes of one machine; a dead holder frees its locks.
- ``RedisLockManager``: any machine; needs ``pip install 'legato[redis]'``.

Importing this package is cheap: ``redis`` loads when a RedisLockManager is made.
"""

from legato.locking.base import LockManager, LockNotHeld
from legato.locking.filesystem import FileSystemLockManager
from legato.locking.memory import MemoryLockManager
from legato.locking.redis import RedisLockManager

__all__ = [
    "FileSystemLockManager",
    "LockManager",
    "LockNotHeld",
    "MemoryLockManager",
    "RedisLockManager",
]
