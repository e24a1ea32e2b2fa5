"""FileSystemLockManager: locks shared by the processes of one machine, kept as files.

Each key has a file ``<directory>/<readable part of the key>-<sha256 prefix>.lock``
that holds JSON: ``key``, ``holder``, ``pid``, ``process_started``, ``hostname``,
``acquired_at`` and ``expires_at`` (POSIX seconds, or null to hold until released).

A lock file is *stale*, and the lock free, when
- its ``expires_at`` has passed, or
- it was written on this host and its process is gone: no such pid, a zombie,
  or a pid reused by a process that started later (Linux's ``/proc`` start time), or
- it cannot be parsed after its writer finished (the writer died mid-write).
So a process killed with SIGKILL while holding a lock leaves it free at once.
Processes on other hosts that share the directory are never presumed dead (nor,
on Windows, any process): their locks end at release or at ``expires_at``.

Every change to a lock file (create, release, removing a stale one) is made
while holding an exclusive ``flock`` on ``<directory>/.legato-locks.guard``,
which the kernel drops when its process dies, so the guard never goes stale.
Under the guard a lock file can appear (``O_CREAT|O_EXCL``) but never be
swapped for another, so "read it, see it is stale, delete it" cannot delete a
lock that another waiter took a moment ago: of two waiters that both saw the
same stale lock, the second finds the first one's live lock when it gets the
guard, and keeps waiting. The guard is held for microseconds; reading a live
lock (``is_locked``, or waiting on one) does not take it. Waiters poll with
backoff from 1 ms to 50 ms.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import hashlib
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from legato.exceptions import ParameterError
from legato.locking._polling import apoll, poll
from legato.locking.base import (
    LockManager,
    LockNotHeld,
    check_acquire_arguments,
    check_holder,
    check_key,
    check_wait_arguments,
)

logger = logging.getLogger(__name__)

GUARD_FILE_NAME = ".legato-locks.guard"
_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]+")
_READABLE_LENGTH = 64


def lock_file_name(key: str) -> str:
    """A file name for ``key`` that is safe everywhere and differs for different keys."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    readable = _UNSAFE_CHARACTERS.sub("_", key)[:_READABLE_LENGTH].strip("_-")
    return f"{readable}-{digest}.lock" if readable else f"{digest}.lock"


# ---- processes --------------------------------------------------------------------


@functools.cache
def _hostname() -> str:
    if hasattr(os, "uname"):
        return os.uname().nodename
    return os.environ.get("COMPUTERNAME", "")  # Windows


def _proc_stat(pid: int) -> list[bytes] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name, or None without /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()
    except OSError:
        return None


def _start_marker(stat: list[bytes]) -> str | None:
    """The process start time in clock ticks since boot (field 22 of the stat line)."""
    return stat[19].decode() if len(stat) > 19 else None


@functools.cache
def _process_started(pid: int) -> str | None:
    """This process's start marker; cached per pid, so a forked child reads its own."""
    stat = _proc_stat(pid)
    return None if stat is None else _start_marker(stat)


def is_process_alive(pid: int, started: str | None = None) -> bool:
    """False only when process ``pid`` (started at ``started``) surely no longer runs."""
    if sys.platform == "win32":  # os.kill(pid, 0) would interrupt the process there
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    stat = _proc_stat(pid)
    if stat is None:  # no /proc (macOS), or hidden from us: trust kill()
        return True
    if stat[0] in (b"Z", b"X"):  # killed, not yet reaped by its parent
        return False
    return started is None or _start_marker(stat) == started


# ---- lock files --------------------------------------------------------------------


class _Unreadable(enum.Enum):
    """A lock file that exists but does not parse: being written, or its writer died."""

    FILE = "unreadable"


@dataclasses.dataclass(frozen=True)
class _LockRecord:
    holder: str
    pid: int
    hostname: str
    acquired_at: float
    expires_at: float | None
    process_started: str | None = None

    def is_live(self) -> bool:
        if self.expires_at is not None and time.time() >= self.expires_at:
            return False
        if self.hostname != _hostname():
            return True
        if self.pid == os.getpid() and self.process_started == _process_started(self.pid):
            return True  # this very process: no need to ask the kernel
        return is_process_alive(self.pid, self.process_started)


_Found = _LockRecord | _Unreadable | None  # None: no lock file


def _parse(data: bytes) -> _LockRecord | _Unreadable:
    try:
        fields: Any = json.loads(data)
        return _LockRecord(
            holder=str(fields["holder"]),
            pid=int(fields["pid"]),
            hostname=str(fields["hostname"]),
            acquired_at=float(fields["acquired_at"]),
            expires_at=None if fields["expires_at"] is None else float(fields["expires_at"]),
            process_started=fields.get("process_started"),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return _Unreadable.FILE


def _read(path: Path) -> _Found:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return _parse(data)


def _write_new(path: Path, key: str, holder: str, hold_timeout: float | None) -> bool:
    """Create the lock file with ``O_EXCL``; False if it exists."""
    now = time.time()
    pid = os.getpid()
    record = {
        "key": key,
        "holder": holder,
        "pid": pid,
        "process_started": _process_started(pid),
        "hostname": _hostname(),
        "acquired_at": now,
        "expires_at": None if hold_timeout is None else now + hold_timeout,
    }
    data = json.dumps(record).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return True


# ---- the guard ---------------------------------------------------------------------

if sys.platform == "win32":
    import msvcrt

    def _lock_exclusively(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)

else:
    import fcntl

    def _lock_exclusively(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)


# flock() excludes the threads of one process from each other only on file systems
# where each open() gets its own lock (not NFS), so threads also take this lock.
_THREADS_OF_THIS_PROCESS = threading.Lock()


def _new_thread_lock() -> None:
    global _THREADS_OF_THIS_PROCESS
    _THREADS_OF_THIS_PROCESS = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_thread_lock)


class FileSystemLockManager(LockManager):
    """Locks as files in ``lock_files_directory``, shared by the processes of one machine.

    ``hold_timeout=None`` holds a lock until it is released or its process dies.
    """

    def __init__(self, lock_files_directory: Path | str) -> None:
        if not isinstance(lock_files_directory, str | os.PathLike) or not str(lock_files_directory):
            raise ParameterError(
                f"lock_files_directory={lock_files_directory!r} must be a directory path, "
                "e.g. FileSystemLockManager(Path.home() / '.legato' / 'locks')."
            )
        self.lock_files_directory = Path(lock_files_directory).expanduser().absolute()

    def __repr__(self) -> str:
        return f"FileSystemLockManager(lock_files_directory={str(self.lock_files_directory)!r})"

    def lock_file_path(self, key: str) -> Path:
        """Where the lock file for ``key`` lives."""
        return self.lock_files_directory / lock_file_name(check_key(key))

    def acquire_lock(
        self,
        key: str,
        holder: str,
        acquire_timeout: float | None = None,
        hold_timeout: float | None = None,
    ) -> bool:
        key, holder, acquire_timeout, hold_timeout = check_acquire_arguments(
            key, holder, acquire_timeout, hold_timeout
        )
        return poll(lambda: self._try_acquire(key, holder, hold_timeout), acquire_timeout)

    async def aacquire_lock(
        self,
        key: str,
        holder: str,
        acquire_timeout: float | None = None,
        hold_timeout: float | None = None,
    ) -> bool:
        key, holder, acquire_timeout, hold_timeout = check_acquire_arguments(
            key, holder, acquire_timeout, hold_timeout
        )

        async def attempt() -> bool:  # file operations of microseconds: run them inline
            return self._try_acquire(key, holder, hold_timeout)

        return await apoll(attempt, acquire_timeout)

    def release_lock(self, key: str, holder: str) -> None:
        key, holder = check_key(key), check_holder(holder)
        path = self.lock_file_path(key)
        with self._guard():
            found = _read(path)
            if not isinstance(found, _LockRecord) or found.holder != holder:
                raise LockNotHeld(key, holder)
            path.unlink()
        if not found.is_live():  # expired (the file was ours, so it is gone all the same)
            raise LockNotHeld(key, holder)

    def is_locked(self, key: str) -> bool:
        found = self._read_settled(self.lock_file_path(key))
        return isinstance(found, _LockRecord) and found.is_live()

    def is_lock_holder(self, key: str, holder: str) -> bool:
        holder = check_holder(holder)
        found = self._read_settled(self.lock_file_path(key))
        return isinstance(found, _LockRecord) and found.holder == holder and found.is_live()

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool:
        key, timeout = check_wait_arguments(key, timeout)
        return poll(lambda: not self.is_locked(key), timeout)

    async def await_for_lock(self, key: str, timeout: float | None = None) -> bool:
        key, timeout = check_wait_arguments(key, timeout)

        async def is_free() -> bool:
            return not self.is_locked(key)

        return await apoll(is_free, timeout)

    def _try_acquire(self, key: str, holder: str, hold_timeout: float | None) -> bool:
        path = self.lock_file_path(key)
        found = _read(path)
        if isinstance(found, _LockRecord) and found.is_live():  # the common busy case: no guard
            return found.holder == holder
        with self._guard():
            found = _read(path)
            if isinstance(found, _LockRecord) and found.is_live():
                return found.holder == holder
            if found is not None:
                _remove_stale(path, found)
            return _write_new(path, key, holder, hold_timeout)

    def _read_settled(self, path: Path) -> _Found:
        """The lock file, read again under the guard if a writer may be half done."""
        found = _read(path)
        if found is _Unreadable.FILE:
            with self._guard():
                found = _read(path)
        return found

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Hold the directory's guard: the only time lock files change."""
        with _THREADS_OF_THIS_PROCESS:
            fd = self._open_guard_file()
            try:
                _lock_exclusively(fd)  # released when fd closes
                yield
            finally:
                os.close(fd)

    def _open_guard_file(self) -> int:
        path = self.lock_files_directory / GUARD_FILE_NAME
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except FileNotFoundError:
            self.lock_files_directory.mkdir(parents=True, exist_ok=True)
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)


def _remove_stale(path: Path, found: _LockRecord | _Unreadable) -> None:
    if isinstance(found, _LockRecord):
        logger.debug(
            "Freeing stale lock file %s of holder %r (pid %s on %s)",
            path,
            found.holder,
            found.pid,
            found.hostname,
        )
    else:
        logger.debug("Removing unreadable lock file %s", path)
    path.unlink(missing_ok=True)


__all__ = ["FileSystemLockManager"]
