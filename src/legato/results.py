"""Persisted results: ``ResultRecord`` and ``ResultStore`` (Prefect 3's names).

    >>> from legato.results import ResultStore
    >>> store = ResultStore(result_storage="/tmp/results", serializer="json")
    >>> record = store.write({"rows": 3}, key="daily-report")
    >>> store.read("daily-report").result
    {'rows': 3}

**One file per result.** ``ResultRecord.serialize()`` writes one JSON
document::

    {"legato_result": 1,
     "metadata": {"storage_key": "daily-report", "expiration": null,
                  "serializer": {"type": "json"},
                  "storage_block": {"block_type_slug": "local-file-system", "data": {...}},
                  "legato_version": "0.1.0"},
     "result": "<the serializer's bytes, base64>"}

so a reader needs nothing but the bytes: the serializer is rebuilt from its
description (``legato.serializers``). A store with ``metadata_storage`` writes
the metadata (JSON) there and the value's raw bytes in ``result_storage``,
both under the same key. The storage description leaves out settings that
look secret (credentials come from the reader's own storage).

**Speed.** A write serializes, then writes a temporary file and renames it
over the key (``LocalFileSystem``): readers never see half a result. There is
no ``fsync``: a power cut (not a crash of the process) right after a write can
lose it; the task then runs again. Writing a small value to a local disk costs
tens of microseconds; reading a record held in the in-memory cache (an LRU of
``DEFAULT_CACHE_SIZE`` records per store family, on by default with
``cache_result_in_memory``) costs a few microseconds and does not touch the disk.
A cached record is returned even if another process deleted its file since.

**Locks.** With a ``lock_manager`` (any object with ``acquire_lock``,
``release_lock``, ``is_locked``, ``is_lock_holder`` and ``wait_for_lock``, such
as those of ``legato.locking``), a store supports the SERIALIZABLE isolation
level: ``write`` refuses a key locked by another holder, and ``read`` given a
``holder`` waits while another holder has the key locked. Locks are taken on
the key's resolved path, so two stores on the same folder share them.

**Templates.** ``render_storage_key`` (from ``legato._storage_keys``) fills a
task's ``result_storage_key`` with ``str.format`` syntax: ``{parameters[name]}``
and the runtime fields ``{flow_run.name}``, ``{task_run.id}``...; an unknown
field is a ParameterError that lists the available ones.

The record classes live in ``legato._result_records`` and are re-exported here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import socket
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from legato._result_records import (
    RECORD_PREFIX,
    ResultRecord,
    ResultRecordMetadata,
    decode_or_corrupt,
    decode_record,
    metadata_document,
    parse_envelope,
)
from legato._storage_keys import render_storage_key
from legato.engine.context import flow_run_context, task_run_context
from legato.exceptions import (
    ConfigurationError,
    CorruptResult,
    MissingResult,
    ParameterError,
    ResultLocked,
)
from legato.filesystems import (
    StorageFileNotFound,
    WritableFileSystem,
    describe_storage,
    get_default_storage,
    resolve_storage,
    storage_from_description,
)
from legato.serializers import Serializer, get_serializer
from legato.settings import get_current_settings

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "CorruptResult",
    "RecordCache",
    "ResultLocked",
    "ResultRecord",
    "ResultRecordMetadata",
    "ResultStore",
    "get_default_result_storage",
    "get_result_store",
    "load_persisted_result",
    "metadata_document",
    "render_storage_key",
]

logger = logging.getLogger(__name__)

DEFAULT_CACHE_SIZE = 1000


def _read_bytes(storage: WritableFileSystem, key: str) -> bytes:
    try:
        return storage.read_path(key)
    except StorageFileNotFound as exc:
        raise MissingResult(
            f"No result is stored under key {key!r} (looked at {exc.path!r}). "
            "Write it first, or check the result_storage and the key."
        ) from exc


# -- the in-memory cache


class RecordCache:
    """A thread-safe LRU of records by resolved path, for ``ResultStore(cache=...)``.

    Each entry holds the value itself, so size it to what memory allows. A
    pickled cache arrives empty (a store sent to another process starts cold).
    """

    __slots__ = ("_lock", "_records", "maxsize")

    def __init__(self, maxsize: int = DEFAULT_CACHE_SIZE) -> None:
        self.maxsize = maxsize
        self._records: OrderedDict[str, ResultRecord] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str) -> ResultRecord | None:
        with self._lock:
            record = self._records.get(path)
            if record is not None:
                self._records.move_to_end(path)
            return record

    def put(self, path: str, record: ResultRecord) -> None:
        with self._lock:
            self._records[path] = record
            self._records.move_to_end(path)
            if len(self._records) > self.maxsize:
                self._records.popitem(last=False)

    def __len__(self) -> int:
        return len(self._records)

    def __getstate__(self) -> int:
        return self.maxsize

    def __setstate__(self, maxsize: int) -> None:
        self.__init__(maxsize)  # type: ignore[misc]


# -- the store

_HOSTNAME = socket.gethostname()
_ISOLATION_LEVELS = ("READ_COMMITTED", "SERIALIZABLE")


def _random_key() -> str:
    return uuid.uuid4().hex


def _optional_storage(value: Any) -> WritableFileSystem | None:
    return None if value is None else resolve_storage(value)


class ResultStore:
    """Reads and writes result records: storage, serializer, locks and a memory cache.

    ``result_storage=None`` means the default folder of the current settings
    (``<LEGATO_HOME>/storage``), looked up at each use.
    """

    def __init__(
        self,
        *,
        result_storage: Any = None,
        metadata_storage: Any = None,
        lock_manager: Any = None,
        cache_result_in_memory: bool = True,
        serializer: str | Serializer | None = None,
        storage_key_fn: Callable[[], str] = _random_key,
        cache: RecordCache | None = None,
    ) -> None:
        self.result_storage = _optional_storage(result_storage)
        self.metadata_storage = _optional_storage(metadata_storage)
        self.lock_manager = lock_manager
        self.cache_result_in_memory = cache_result_in_memory
        if serializer is None:
            serializer = get_current_settings().results.default_serializer
        self.serializer = get_serializer(serializer)
        self.storage_key_fn = storage_key_fn
        self.cache = cache if cache is not None else RecordCache()
        if self.metadata_storage is not None and self.metadata_storage == self.storage():
            raise ConfigurationError(
                f"metadata_storage and result_storage are the same ({self.metadata_storage!r}): "
                "each key's metadata would overwrite its value. Give metadata_storage "
                "(a cache policy's key_storage) its own folder, or leave it unset to keep "
                "the metadata in the result's file."
            )

    def __repr__(self) -> str:
        return (
            f"ResultStore(result_storage={self.result_storage!r}, "
            f"metadata_storage={self.metadata_storage!r}, serializer={self.serializer!r}, "
            f"lock_manager={self.lock_manager!r})"
        )

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> ResultStore:
        """A copy with some fields changed; it shares this store's memory cache."""
        fields = {
            "result_storage": self.result_storage,
            "metadata_storage": self.metadata_storage,
            "lock_manager": self.lock_manager,
            "cache_result_in_memory": self.cache_result_in_memory,
            "serializer": self.serializer,
            "storage_key_fn": self.storage_key_fn,
            "cache": self.cache,
        }
        return ResultStore(**{**fields, **(update or {})})

    def update_for_flow(self, flow: Any) -> ResultStore:
        """A copy configured by a flow's result options."""
        return self.model_copy(update=_result_options(flow))

    def update_for_task(self, task: Any) -> ResultStore:
        """A copy configured by a task's result options and its cache policy's
        ``key_storage`` (the metadata storage) and ``lock_manager``."""
        update = _result_options(task)
        policy: Any = getattr(task, "cache_policy", None)
        if getattr(policy, "key_storage", None) is not None:
            update["metadata_storage"] = policy.key_storage
        if getattr(policy, "lock_manager", None) is not None:
            update["lock_manager"] = policy.lock_manager
        return self.model_copy(update=update)

    # -- where things are

    def storage(self) -> WritableFileSystem:
        """The result storage in use (the default folder if none was given)."""
        return self.result_storage if self.result_storage is not None else get_default_storage()

    def _record_path(self, key: str) -> str:
        _check_key(key)
        return (self.metadata_storage or self.storage()).resolve_path(key)

    def _value_storage(self, metadata: ResultRecordMetadata) -> WritableFileSystem:
        storage = self.storage()
        described = metadata.storage_block
        if described is None or described == describe_storage(storage):
            return storage
        return storage_from_description(described)

    # -- reading

    def exists(self, key: str) -> bool:
        """Whether an unexpired result is stored under ``key``."""
        path = self._record_path(key)
        if self.cache_result_in_memory:
            record = self.cache.get(path)
            if record is not None:
                return not record.expired
        try:
            metadata = self._read_metadata(key, path)
        except MissingResult:
            return False
        except CorruptResult as exc:
            logger.warning("%s", exc)
            return False
        if metadata.expired:
            return False
        return self.metadata_storage is None or self._value_storage(metadata).exists(
            metadata.storage_key
        )

    def read(self, key: str, holder: str | None = None) -> ResultRecord:
        """The record stored under ``key`` (expired or not: check ``record.expired``).

        Given a ``holder`` and a lock manager, first waits while another holder
        has the key locked (SERIALIZABLE reads). Raises MissingResult if there
        is no record, CorruptResult if it cannot be decoded.
        """
        path = self._record_path(key)
        manager = self.lock_manager
        if manager is not None and holder is not None and not manager.is_lock_holder(path, holder):
            manager.wait_for_lock(path, None)
        if self.cache_result_in_memory:
            record = self.cache.get(path)
            if record is not None:
                return record
        record = self._read_record(key, path)
        if self.cache_result_in_memory:
            self.cache.put(path, record)
        return record

    def _read_metadata(self, key: str, path: str) -> ResultRecordMetadata:
        if self.metadata_storage is None:
            blob = _read_bytes(self.storage(), key)
            return decode_or_corrupt(lambda: parse_envelope(blob)[0], key, path)
        blob = _read_bytes(self.metadata_storage, key)
        return decode_or_corrupt(
            lambda: ResultRecordMetadata.from_document(json.loads(blob)), key, path
        )

    def _read_record(self, key: str, path: str) -> ResultRecord:
        if self.metadata_storage is None:
            return decode_record(_read_bytes(self.storage(), key), key, path)
        metadata = self._read_metadata(key, path)
        value_storage = self._value_storage(metadata)
        value_path = value_storage.resolve_path(metadata.storage_key)
        blob = _read_bytes(value_storage, metadata.storage_key)
        value = decode_or_corrupt(lambda: metadata.serializer.loads(blob), key, value_path)
        return ResultRecord(metadata, value)

    # -- writing

    def create_result_record(
        self, obj: Any, key: str | None = None, expiration: dt.datetime | None = None
    ) -> ResultRecord:
        """A record for ``obj`` under ``key`` (a new random key if None); nothing is written."""
        key = self.storage_key_fn() if key is None else key
        _check_key(key)
        metadata = ResultRecordMetadata(
            storage_key=key,
            expiration=expiration,
            serializer=self.serializer,
            storage_block=describe_storage(self.storage()),
        )
        return ResultRecord(metadata, obj)

    def write(
        self,
        obj: Any,
        key: str | None = None,
        expiration: dt.datetime | None = None,
        holder: str | None = None,
    ) -> ResultRecord:
        """Serialize and store ``obj``; returns the record written."""
        record = self.create_result_record(obj, key=key, expiration=expiration)
        self.persist_result_record(record, holder=holder)
        return record

    def persist_result_record(self, record: ResultRecord, holder: str | None = None) -> None:
        """Store a record; ResultLocked if another holder has locked its key."""
        key = record.metadata.storage_key
        path = self._record_path(key)
        self._check_not_locked_by_other(key, path, holder)
        storage = self.storage()
        if self.metadata_storage is None:
            storage.write_path(key, record.serialize())
        else:
            storage.write_path(key, record.serialize_result())
            self.metadata_storage.write_path(key, record.serialize_metadata())
        if self.cache_result_in_memory:
            self.cache.put(path, record)

    def _check_not_locked_by_other(self, key: str, path: str, holder: str | None) -> None:
        manager = self.lock_manager
        if manager is None:
            return
        holder = holder or self.generate_default_holder()
        if manager.is_locked(path) and not manager.is_lock_holder(path, holder):
            raise ResultLocked(
                f"Cannot write the result {key!r}: another holder has locked it (we are "
                f"{holder!r}). Acquire the lock first (store.acquire_lock({key!r}, holder=...)) "
                "and pass that holder, or wait for it with store.wait_for_lock.",
                key=key,
                holder=holder,
            )

    # -- isolation and locks

    def supports_isolation_level(self, level: Any) -> bool:
        """READ_COMMITTED always; SERIALIZABLE only with a lock manager."""
        name = getattr(level, "value", level)
        if name not in _ISOLATION_LEVELS:
            raise ParameterError(
                f"Unknown isolation level {level!r}; use one of {', '.join(_ISOLATION_LEVELS)}."
            )
        return name == "READ_COMMITTED" or self.lock_manager is not None

    @staticmethod
    def generate_default_holder() -> str:
        """``host:pid:thread``: the holder used when none is given."""
        return f"{_HOSTNAME}:{os.getpid()}:{threading.get_ident()}"

    def _locks(self, action: str) -> Any:
        if self.lock_manager is None:
            raise ConfigurationError(
                f"This ResultStore has no lock_manager, so it cannot {action}. Give it one, "
                "e.g. ResultStore(lock_manager=...) with a lock manager from legato.locking, "
                "or set lock_manager on the task's cache policy."
            )
        return self.lock_manager

    def acquire_lock(
        self, key: str, holder: str | None = None, timeout: float | None = None
    ) -> bool:
        """Lock ``key`` for ``holder``; False if ``timeout`` passed first."""
        manager = self._locks("acquire a lock")
        path = self._record_path(key)
        return bool(manager.acquire_lock(path, holder or self.generate_default_holder(), timeout))

    def release_lock(self, key: str, holder: str | None = None) -> None:
        """Release ``holder``'s lock on ``key``."""
        manager = self._locks("release a lock")
        manager.release_lock(self._record_path(key), holder or self.generate_default_holder())

    def is_locked(self, key: str) -> bool:
        """Whether anyone holds a lock on ``key`` (False without a lock manager)."""
        if self.lock_manager is None:
            return False
        return bool(self.lock_manager.is_locked(self._record_path(key)))

    def is_lock_holder(self, key: str, holder: str | None = None) -> bool:
        """Whether ``holder`` holds the lock on ``key``."""
        if self.lock_manager is None:
            return False
        path = self._record_path(key)
        return bool(
            self.lock_manager.is_lock_holder(path, holder or self.generate_default_holder())
        )

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool:
        """Wait until ``key`` is unlocked; False if ``timeout`` passed first."""
        manager = self._locks("wait for a lock")
        return bool(manager.wait_for_lock(self._record_path(key), timeout))

    # -- async twins: the sync calls in a worker thread (the holder is this thread's)

    async def aexists(self, key: str) -> bool:
        """``exists`` without blocking the event loop."""
        return await asyncio.to_thread(self.exists, key)

    async def aread(self, key: str, holder: str | None = None) -> ResultRecord:
        """``read`` without blocking the event loop."""
        return await asyncio.to_thread(self.read, key, holder)

    async def awrite(
        self,
        obj: Any,
        key: str | None = None,
        expiration: dt.datetime | None = None,
        holder: str | None = None,
    ) -> ResultRecord:
        """``write`` without blocking the event loop."""
        holder = holder or self.generate_default_holder()
        return await asyncio.to_thread(self.write, obj, key, expiration, holder)

    async def apersist_result_record(self, record: ResultRecord, holder: str | None = None) -> None:
        """``persist_result_record`` without blocking the event loop."""
        holder = holder or self.generate_default_holder()
        await asyncio.to_thread(self.persist_result_record, record, holder)

    async def aacquire_lock(
        self, key: str, holder: str | None = None, timeout: float | None = None
    ) -> bool:
        """``acquire_lock`` without blocking the event loop."""
        holder = holder or self.generate_default_holder()
        return await asyncio.to_thread(self.acquire_lock, key, holder, timeout)

    async def await_for_lock(self, key: str, timeout: float | None = None) -> bool:
        """``wait_for_lock`` without blocking the event loop."""
        return await asyncio.to_thread(self.wait_for_lock, key, timeout)


def _check_key(key: Any) -> None:
    if not isinstance(key, str) or not key:
        raise ParameterError(
            f"A result key must be a non-empty string; got {key!r}. "
            "Check result_storage_key or the storage_key_fn."
        )


def _result_options(owner: Any) -> dict[str, Any]:
    update: dict[str, Any] = {
        "cache_result_in_memory": getattr(owner, "cache_result_in_memory", True)
    }
    if getattr(owner, "result_storage", None) is not None:
        update["result_storage"] = owner.result_storage
    if getattr(owner, "result_serializer", None) is not None:
        update["serializer"] = owner.result_serializer
    return update


def get_default_result_storage() -> WritableFileSystem:
    """The storage for results that name none (``legato.filesystems.get_default_storage``)."""
    return get_default_storage()


def load_persisted_result(result_ref: Mapping[str, Any]) -> Any:
    """The value that a record's metadata document (``state.result_ref``) points to.

    Reads it from the storage the metadata describes (the default storage if
    none); works in any process. MissingResult if it is gone, CorruptResult if
    it cannot be decoded.
    """
    metadata = decode_or_corrupt(lambda: ResultRecordMetadata.from_document(result_ref), None, None)
    described = metadata.storage_block
    storage = get_default_storage() if described is None else storage_from_description(described)
    key = metadata.storage_key
    blob = _read_bytes(storage, key)
    path = storage.resolve_path(key)
    if blob.startswith(RECORD_PREFIX):
        return decode_record(blob, key, path).result
    return decode_or_corrupt(lambda: metadata.serializer.loads(blob), key, path)


def get_result_store() -> ResultStore:
    """The current run's result store if the run context carries one, else a default store."""
    for context in (task_run_context.get(), flow_run_context.get()):
        store = getattr(context, "result_store", None)
        if isinstance(store, ResultStore):
            return store
    return ResultStore()
