"""Transactions: groups of task runs that commit together or not at all.

``with transaction(key="daily-load"):`` opens a transaction. Each task run
inside stages its result in a child transaction of its own; when the block
ends without an error the outermost transaction commits: every staged result
is written (under its cache key, when it has one), ``on_commit`` hooks run,
and the transaction's own record is written under its key. When the block
raises, or a task in it fails, nothing is written and the ``on_rollback``
hooks of the staged tasks run, newest first.

A transaction's record holds the values of the task runs staged in it, so a
later run of the same block with the same key is a no-op: the transaction
starts COMMITTED and each task call returns the value it returned the first
time, without running (its state is Cached). ``overwrite=True`` runs it again.

Isolation (``IsolationLevel``): READ_COMMITTED takes no lock; SERIALIZABLE
holds the store's lock on the key from begin to commit or rollback, so of two
processes entering the same key at once, one runs the work and the other
waits, then finds the key committed and reads its values. That needs a store
with a lock manager (``ResultStore(lock_manager=FileSystemLockManager(...))``).

Commit modes (``CommitMode``): LAZY (the default) writes a child's result when
the outermost transaction commits; EAGER writes it as soon as the child ends;
OFF never writes (rollback hooks still run on failure).
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from enum import StrEnum
from types import TracebackType
from typing import Any

from legato.exceptions import ConfigurationError, TransactionError

__all__ = [
    "CommitMode",
    "IsolationLevel",
    "Transaction",
    "TransactionState",
    "get_transaction",
    "transaction",
]

logger = logging.getLogger("legato.transactions")

# Marks a transaction record (what the store holds under a transaction's key).
_RECORD_MARK = "__legato_transaction__"


class IsolationLevel(StrEnum):
    """How a transaction sees others on the same key."""

    READ_COMMITTED = "READ_COMMITTED"
    SERIALIZABLE = "SERIALIZABLE"


class CommitMode(StrEnum):
    """When a child transaction's staged result is written."""

    EAGER = "EAGER"
    LAZY = "LAZY"
    OFF = "OFF"


class TransactionState(StrEnum):
    """Where a transaction is in its life."""

    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    STAGED = "STAGED"
    COMMITTED = "COMMITTED"
    ROLLED_BACK = "ROLLED_BACK"


_current: contextvars.ContextVar[Transaction | None] = contextvars.ContextVar(
    "legato_transaction", default=None
)


def get_transaction() -> Transaction | None:
    """The innermost open transaction, or None."""
    return _current.get()


def lock_key(store: Any, key: str, owner: str, fix: str) -> str:
    """Take ``store``'s lock on ``key`` (waiting for it) and return the holder name.

    ``owner`` says who asks for SERIALIZABLE isolation and ``fix`` how to give
    the store a lock manager, for the error when it has none. The holder is the
    store's default (this host, process and thread), so the store's own writes
    recognise it.
    """
    if not store.supports_isolation_level(IsolationLevel.SERIALIZABLE):
        raise ConfigurationError(
            f"{owner} asks for SERIALIZABLE isolation, but its store has no lock manager. {fix}"
        )
    holder: str = store.generate_default_holder()
    store.acquire_lock(key, holder=holder)
    return holder


Hook = Callable[["Transaction"], Any]


class Transaction:
    """One unit of all-or-nothing work; use ``transaction(...)`` to open one."""

    def __init__(
        self,
        key: str | None = None,
        store: Any = None,
        commit_mode: CommitMode | str | None = None,
        isolation_level: IsolationLevel | str | None = None,
        overwrite: bool = False,
        write_on_commit: bool = True,
        logger: logging.Logger | logging.LoggerAdapter[Any] | None = None,
        parent: Transaction | None = None,
    ) -> None:
        if key is not None and (not isinstance(key, str) or not key):
            raise ConfigurationError(
                f"transaction key={key!r} must be a non-empty string, e.g. key='daily-load'."
            )
        self.key = key
        self.parent = parent
        self.store = store
        self.commit_mode = _enum(CommitMode, commit_mode, "commit_mode")
        self.isolation_level = _enum(IsolationLevel, isolation_level, "isolation_level")
        self.overwrite = overwrite
        self.write_on_commit = write_on_commit
        self.logger = logger or globals()["logger"]
        self.state = TransactionState.PENDING
        self.children: list[Transaction] = []
        self.on_commit_hooks: list[Hook] = []
        self.on_rollback_hooks: list[Hook] = []
        self._values: dict[str, Any] = {}
        self._staged: Any = None
        self._has_staged = False
        self._staged_record: Any = None  # a result record to write on commit
        self._replay: dict[str, Any] | None = None
        self._child_counts: dict[str, int] = {}
        self._failed = False
        self._lock = threading.Lock()
        self._lock_holder: str | None = None
        self._token: contextvars.Token[Transaction | None] | None = None
        # A task run's own transaction (begin_child): it writes the task's result
        # record only, under the name it has in its parent.
        self.is_task_run = False
        self.name_in_parent: str | None = None

    def __repr__(self) -> str:
        return f"Transaction(key={self.key!r}, state={self.state.value})"

    # -- values shared with hooks ------------------------------------------
    def set(self, name: str, value: Any) -> None:
        """Keep ``value`` under ``name`` for hooks and child transactions."""
        self._values[name] = value

    def get(self, name: str, default: Any = ...) -> Any:
        """A value set in this transaction or a parent; ``default`` if none."""
        txn: Transaction | None = self
        while txn is not None:
            if name in txn._values:
                return txn._values[name]
            txn = txn.parent
        if default is ...:
            raise KeyError(
                f"No value {name!r} in this transaction or its parents. "
                f"Set it with txn.set({name!r}, value) or pass a default."
            )
        return default

    # -- state ---------------------------------------------------------------
    def is_committed(self) -> bool:
        return self.state is TransactionState.COMMITTED

    def is_rolled_back(self) -> bool:
        return self.state is TransactionState.ROLLED_BACK

    def is_staged(self) -> bool:
        return self.state is TransactionState.STAGED

    def is_active(self) -> bool:
        return self.state is TransactionState.ACTIVE

    def is_pending(self) -> bool:
        return self.state is TransactionState.PENDING

    def get_parent(self) -> Transaction | None:
        return self.parent

    def get_store(self) -> Any:
        """This transaction's store, or the nearest parent's."""
        txn: Transaction | None = self
        while txn is not None:
            if txn.store is not None:
                return txn.store
            txn = txn.parent
        return None

    # -- life ----------------------------------------------------------------
    def begin(self) -> None:
        """Start: take the lock (SERIALIZABLE), and find out if the key is committed."""
        if self.state is not TransactionState.PENDING:
            raise TransactionError(f"{self!r} has begun already; open a new transaction.")
        parent = _current.get() if self.parent is None else self.parent
        self.parent = parent
        if parent is not None:
            if self.commit_mode is None:
                self.commit_mode = parent.commit_mode
            if self.isolation_level is None:
                self.isolation_level = parent.isolation_level
            parent._add_child(self)
        if self.commit_mode is None:
            self.commit_mode = CommitMode.LAZY
        if self.isolation_level is None:
            self.isolation_level = IsolationLevel.READ_COMMITTED
        store = self.get_store()
        if self.key is not None and store is not None:
            if self.isolation_level is IsolationLevel.SERIALIZABLE:
                self._acquire(store)
            if not self.overwrite and store.exists(self.key):
                self._load_committed(store)
        if self.state is TransactionState.PENDING:
            self.state = TransactionState.ACTIVE

    def begin_child(self, name_in_parent: str | None) -> None:
        """Start as a task run's own transaction inside ``parent`` (no lookup, no lock).

        A task's transaction writes only the task's result record, never a
        transaction record of its own.
        """
        self.is_task_run = True
        self.name_in_parent = name_in_parent
        parent = self.parent
        if parent is not None:
            self.commit_mode = self.commit_mode or parent.commit_mode
            self.isolation_level = self.isolation_level or parent.isolation_level
            parent._add_child(self)
        self.commit_mode = self.commit_mode or CommitMode.LAZY
        self.isolation_level = self.isolation_level or IsolationLevel.READ_COMMITTED
        self.state = TransactionState.ACTIVE

    def _acquire(self, store: Any) -> None:
        assert self.key is not None
        self._lock_holder = lock_key(
            store,
            self.key,
            f"Transaction {self.key!r}",
            "Give the store one, e.g. ResultStore(lock_manager="
            "FileSystemLockManager(lock_files_directory=...)), or use READ_COMMITTED.",
        )

    def _release(self) -> None:
        holder, self._lock_holder = self._lock_holder, None
        if holder is not None:
            store = self.get_store()
            try:
                store.release_lock(self.key, holder=holder)
            except Exception:
                self.logger.warning("Could not release the lock on %r", self.key, exc_info=True)

    def _load_committed(self, store: Any) -> None:
        record = store.read(self.key)
        value = record.result
        if isinstance(value, dict) and value.get(_RECORD_MARK) == 1:
            self._replay = dict(value.get("tasks", {}))
            self._values.update(value.get("values", {}))
            if value.get("has_value"):
                self._staged, self._has_staged = value.get("value"), True
        else:
            self._replay = {}
            self._staged, self._has_staged = value, True
        self.state = TransactionState.COMMITTED

    def _add_child(self, child: Transaction) -> None:
        with self._lock:
            self.children.append(child)

    def child_key(self, name: str) -> str:
        """A name for the next child staged under ``name``: ``name#0``, ``name#1``, ...

        Made in call order, so a rerun of the same code finds the same names.
        """
        with self._lock:
            count = self._child_counts.get(name, 0)
            self._child_counts[name] = count + 1
        return f"{name}#{count}"

    def replayed(self, child_key: str) -> tuple[bool, Any]:
        """(True, value) when this transaction is committed and holds ``child_key``'s value."""
        replay = self._replay
        if replay is None or child_key not in replay:
            return False, None
        return True, replay[child_key]

    def stage(
        self,
        value: Any,
        on_rollback_hooks: list[Hook] | None = None,
        on_commit_hooks: list[Hook] | None = None,
        record: Any = None,
    ) -> None:
        """Hold ``value`` (and the result ``record`` to write) until commit."""
        if self.state is TransactionState.COMMITTED:
            return
        self._staged, self._has_staged = value, True
        self._staged_record = record
        if on_rollback_hooks:
            self.on_rollback_hooks.extend(on_rollback_hooks)
        if on_commit_hooks:
            self.on_commit_hooks.extend(on_commit_hooks)
        self.state = TransactionState.STAGED

    def mark_failed(self) -> None:
        """A task in this transaction failed: it will roll back, not commit."""
        txn: Transaction | None = self
        while txn is not None:
            txn._failed = True
            txn = txn.parent

    def read(self) -> Any:
        """The record stored under this transaction's key, or None."""
        store = self.get_store()
        if self.key is None or store is None or not store.exists(self.key):
            return None
        return store.read(self.key)

    def commit(self) -> bool:
        """Write what was staged (children first), run on_commit hooks; False if it rolled back."""
        if self.state is TransactionState.ROLLED_BACK:
            return False
        if self.state is TransactionState.COMMITTED:
            self._release()
            return True
        try:
            for child in list(self.children):
                if child.state is TransactionState.ROLLED_BACK:
                    continue
                if not child.commit():
                    raise TransactionError(f"child {child!r} could not commit")
            self._write()
            for hook in self.on_commit_hooks:
                hook(self)
        except Exception:
            self.logger.error(
                "Transaction %r failed to commit; rolling back", self.key, exc_info=True
            )
            self.rollback()
            return False
        self.state = TransactionState.COMMITTED
        self._release()
        return True

    def _write(self) -> None:
        if self.commit_mode is CommitMode.OFF or not self.write_on_commit:
            return
        store = self.get_store()
        if store is None:
            return
        if self._staged_record is not None:
            store.persist_result_record(self._staged_record, holder=self._lock_holder)
        elif (
            not self.is_task_run
            and self.key is not None
            and (self.children or self._values or self._has_staged)
        ):
            document = {
                _RECORD_MARK: 1,
                "tasks": self._child_values(),
                "values": self._values,
                "has_value": self._has_staged,
                "value": self._staged if self._has_staged else None,
            }
            store.write(document, key=self.key, holder=self._lock_holder)

    def _child_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for child in self.children:
            if child._has_staged and child.name_in_parent:
                values[child.name_in_parent] = child._staged
        return values

    def rollback(self) -> bool:
        """Undo: run on_rollback hooks of everything staged, newest first; write nothing."""
        if self.state in (TransactionState.ROLLED_BACK, TransactionState.COMMITTED):
            return False
        for child in reversed(self.children):
            child.rollback()
        for hook in reversed(self.on_rollback_hooks):
            try:
                hook(self)
            except Exception:
                name = getattr(hook, "__name__", repr(hook))
                self.logger.error("on_rollback hook %r raised", name, exc_info=True)
        self.state = TransactionState.ROLLED_BACK
        self._release()
        return True

    # -- context manager -----------------------------------------------------
    def __enter__(self) -> Transaction:
        self.begin()
        self._token = _current.set(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        token, self._token = self._token, None
        if token is not None:
            _current.reset(token)
        self.end(failed=exc_type is not None)

    def end(self, failed: bool = False) -> None:
        """Close the block: roll back on failure, else commit (now, or with the parent)."""
        if failed or self._failed:
            self.rollback()
            return
        if self.parent is None or self.commit_mode is CommitMode.EAGER:
            self.commit()
        elif self.state is TransactionState.ACTIVE:
            self.state = TransactionState.STAGED

    async def __aenter__(self) -> Transaction:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, traceback)


def _enum(kind: type[Any], value: Any, option: str) -> Any:
    if value is None or isinstance(value, kind):
        return value
    try:
        return kind(str(value).upper())
    except ValueError:
        valid = ", ".join(member.value for member in kind)
        raise ConfigurationError(f"{option}={value!r} is not valid. Use one of: {valid}.") from None


def _default_store() -> Any:
    from legato.results import ResultStore

    return ResultStore()


def transaction(
    key: str | None = None,
    store: Any = None,
    commit_mode: CommitMode | str | None = None,
    isolation_level: IsolationLevel | str | None = None,
    overwrite: bool = False,
    write_on_commit: bool = True,
    logger: logging.Logger | logging.LoggerAdapter[Any] | None = None,
) -> Transaction:
    """A transaction to open with ``with`` or ``async with`` (see the module docs).

    A keyed transaction with no store and no parent uses the default result store.
    """
    if store is None and key is not None and _current.get() is None:
        store = _default_store()
    return Transaction(
        key=key,
        store=store,
        commit_mode=commit_mode,
        isolation_level=isolation_level,
        overwrite=overwrite,
        write_on_commit=write_on_commit,
        logger=logger,
    )
