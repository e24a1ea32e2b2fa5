"""ResultStore: write, read and check results in real folders, with real locks."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import threading

import cloudpickle
import pytest

from legato import flow, task
from legato.cache_policies import INPUTS
from legato.exceptions import ConfigurationError, MissingResult, ParameterError
from legato.filesystems import LocalFileSystem
from legato.locking import MemoryLockManager
from legato.results import (
    CorruptResult,
    RecordCache,
    ResultLocked,
    ResultStore,
    get_default_result_storage,
    get_result_store,
    load_persisted_result,
    metadata_document,
)
from legato.serializers import CompressedJSONSerializer, JSONSerializer, PickleSerializer
from legato.settings import temporary_settings
from legato.transactions import IsolationLevel

PAST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
FUTURE = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path):
    return ResultStore(result_storage=tmp_path / "results")


def test_write_then_read_and_exists(store, tmp_path):
    record = store.write({"answer": 42}, key="answer")
    assert record.metadata.storage_key == "answer"
    assert (tmp_path / "results" / "answer").is_file()
    assert store.exists("answer")
    assert store.read("answer").result == {"answer": 42}
    assert not store.exists("question")


def test_a_new_store_reads_what_another_wrote(store):
    store.write([1, 2], key="shared")
    other = ResultStore(result_storage=store.result_storage, serializer="json")
    assert other.read("shared").result == [1, 2]  # the record names its own serializer


def test_keys_default_to_random_hex(store):
    first, second = store.write(1), store.write(2)
    assert first.metadata.storage_key != second.metadata.storage_key
    assert len(first.metadata.storage_key) == 32
    assert store.read(second.metadata.storage_key).result == 2


def test_a_custom_key_function(tmp_path):
    names = iter(["one", "two"])
    store = ResultStore(result_storage=tmp_path, storage_key_fn=lambda: next(names))
    store.write("a")
    store.write("b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "two"]


def test_the_default_storage_and_serializer_come_from_settings(legato_home):
    store = ResultStore()
    assert store.serializer == PickleSerializer()
    store.write(1, key="k")
    assert (legato_home / "storage" / "k").is_file()
    assert get_default_result_storage() == LocalFileSystem(basepath=legato_home / "storage")
    with temporary_settings({"LEGATO_RESULTS_DEFAULT_SERIALIZER": "compressed/json"}):
        assert ResultStore().serializer == CompressedJSONSerializer()


def test_the_default_storage_is_looked_up_at_each_use(tmp_path):
    store = ResultStore()
    with temporary_settings({"LEGATO_RESULTS_LOCAL_STORAGE_PATH": str(tmp_path / "a")}):
        store.write(1, key="k")
    assert (tmp_path / "a" / "k").is_file()


def test_reading_a_missing_key_says_where_it_looked(store, tmp_path):
    with pytest.raises(MissingResult) as caught:
        store.read("never-written")
    assert "'never-written'" in str(caught.value)
    assert str(tmp_path / "results" / "never-written") in str(caught.value)


@pytest.mark.parametrize("key", ["", None, 3])
def test_keys_must_be_non_empty_strings(store, key):
    with pytest.raises(ParameterError, match="non-empty string"):
        store.write(1, key=key) if key is not None else store.exists(key)


def test_keys_cannot_leave_the_storage(store):
    with pytest.raises(ParameterError, match="leaves the storage folder"):
        store.write(1, key="../outside")


def test_an_expired_record_does_not_exist(store):
    store.write("old", key="old", expiration=PAST)
    store.write("new", key="new", expiration=FUTURE)
    assert not store.exists("old")
    assert store.exists("new")
    assert store.read("old").expired  # still readable; the caller decides
    uncached = ResultStore(result_storage=store.result_storage, cache_result_in_memory=False)
    assert not uncached.exists("old")
    assert uncached.exists("new")


def test_records_read_or_written_are_served_from_memory(store):
    store.write("value", key="k")
    store.storage().delete_path("k")
    assert store.read("k").result == "value"
    assert store.exists("k")
    without_cache = ResultStore(result_storage=store.result_storage, cache_result_in_memory=False)
    without_cache.write("value", key="k2")
    store.storage().delete_path("k2")
    with pytest.raises(MissingResult):
        without_cache.read("k2")


def test_the_memory_cache_is_bounded(tmp_path):
    store = ResultStore(result_storage=tmp_path, cache=RecordCache(maxsize=3))
    for number in range(5):
        store.write(number, key=f"k{number}")
    assert len(store.cache) == 3
    store.storage().delete_path("k0")
    with pytest.raises(MissingResult):
        store.read("k0")
    assert store.read("k4").result == 4


def test_a_damaged_file_names_its_path_and_the_fix(store, tmp_path, caplog):
    store.write("fine", key="k")
    path = tmp_path / "results" / "k"
    path.write_bytes(path.read_bytes()[:20])
    fresh = ResultStore(result_storage=store.result_storage)
    with pytest.raises(CorruptResult) as caught:
        fresh.read("k")
    assert caught.value.path == str(path)
    assert caught.value.key == "k"
    assert str(path) in str(caught.value)
    assert "delete it" in str(caught.value)
    # exists() treats it as absent, so the value is computed and written again
    # legato's logging setup may stop propagation: listen on the logger itself
    results_logger = logging.getLogger("legato.results")
    results_logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger="legato.results"):
            assert not fresh.exists("k")
    finally:
        results_logger.removeHandler(caplog.handler)
    assert str(path) in caplog.text
    fresh.write("recomputed", key="k")
    assert ResultStore(result_storage=store.result_storage).read("k").result == "recomputed"


def test_a_value_json_cannot_encode_is_refused_before_writing(tmp_path):
    from legato.exceptions import SerializationError

    store = ResultStore(result_storage=tmp_path, serializer="json")
    with pytest.raises(SerializationError, match="_thread.lock"):
        store.write(threading.Lock(), key="k")
    assert not (tmp_path / "k").exists()


def test_metadata_can_live_in_its_own_storage(tmp_path):
    store = ResultStore(result_storage=tmp_path / "values", metadata_storage=tmp_path / "keys")
    store.write({"x": 1}, key="k")
    metadata = json.loads((tmp_path / "keys" / "k").read_bytes())
    assert metadata["serializer"] == {"type": "pickle", "picklelib": "cloudpickle"}
    assert (tmp_path / "values" / "k").read_bytes() == PickleSerializer().dumps({"x": 1})
    fresh = ResultStore(result_storage=tmp_path / "values", metadata_storage=tmp_path / "keys")
    assert fresh.exists("k")
    assert fresh.read("k").result == {"x": 1}
    (tmp_path / "values" / "k").unlink()
    assert not ResultStore(
        result_storage=tmp_path / "values", metadata_storage=tmp_path / "keys"
    ).exists("k")


def test_metadata_cannot_share_the_result_folder(tmp_path):
    with pytest.raises(ConfigurationError, match="overwrite its value"):
        ResultStore(result_storage=tmp_path, metadata_storage=str(tmp_path))


def test_a_state_reference_reads_the_value_back(store):
    record = store.write({"x": 1}, key="k")
    reference = json.loads(json.dumps(metadata_document(record)))
    assert load_persisted_result(reference) == {"x": 1}


def test_a_store_pickles_without_its_memory(store):
    store.write(1, key="k")
    copy = cloudpickle.loads(cloudpickle.dumps(store))
    assert len(copy.cache) == 0
    assert copy.read("k").result == 1


# -- configured by tasks and flows


def test_update_for_task_takes_the_task_options(tmp_path):
    locks = MemoryLockManager()
    policy = INPUTS.configure(key_storage=str(tmp_path / "keys"), lock_manager=locks)

    @task(
        result_storage=str(tmp_path / "values"),
        result_serializer="json",
        cache_result_in_memory=False,
        cache_policy=policy,
    )
    def double(x: int) -> int:
        return 2 * x

    base = ResultStore()
    configured = base.update_for_task(double)
    assert configured is not base
    assert configured.result_storage == LocalFileSystem(basepath=tmp_path / "values")
    assert configured.metadata_storage == LocalFileSystem(basepath=tmp_path / "keys")
    assert configured.serializer == JSONSerializer()
    assert configured.lock_manager is locks
    assert configured.cache_result_in_memory is False
    assert configured.cache is base.cache
    assert base.result_storage is None  # the original is unchanged


def test_update_for_task_keeps_what_the_task_leaves_unset(tmp_path):
    @task
    def plain() -> None:
        return None

    base = ResultStore(result_storage=tmp_path, serializer="json")
    configured = base.update_for_task(plain)
    assert configured.result_storage == base.result_storage
    assert configured.serializer == JSONSerializer()
    assert configured.metadata_storage is None
    assert configured.lock_manager is None


def test_update_for_flow_takes_the_flow_options(tmp_path):
    @flow(result_storage=str(tmp_path), result_serializer="compressed/json")
    def pipeline() -> None:
        return None

    configured = ResultStore().update_for_flow(pipeline)
    assert configured.result_storage == LocalFileSystem(basepath=tmp_path)
    assert configured.serializer == CompressedJSONSerializer()


def test_get_result_store_outside_a_run_is_a_default_store():
    store = get_result_store()
    assert isinstance(store, ResultStore)
    assert store.result_storage is None


# -- isolation levels and locks


def test_isolation_levels_depend_on_a_lock_manager(store):
    locked = store.model_copy(update={"lock_manager": MemoryLockManager()})
    assert store.supports_isolation_level(IsolationLevel.READ_COMMITTED)
    assert store.supports_isolation_level("READ_COMMITTED")
    assert not store.supports_isolation_level(IsolationLevel.SERIALIZABLE)
    assert not store.supports_isolation_level("SERIALIZABLE")
    assert locked.supports_isolation_level(IsolationLevel.SERIALIZABLE)
    assert locked.supports_isolation_level("SERIALIZABLE")
    with pytest.raises(ParameterError, match="READ_COMMITTED, SERIALIZABLE"):
        store.supports_isolation_level("REPEATABLE_READ")


def test_lock_calls_without_a_lock_manager(store):
    for call in (
        lambda: store.acquire_lock("k"),
        lambda: store.release_lock("k"),
        lambda: store.wait_for_lock("k"),
    ):
        with pytest.raises(ConfigurationError, match="no lock_manager"):
            call()
    assert not store.is_locked("k")
    assert not store.is_lock_holder("k")


def test_a_locked_key_refuses_other_writers(tmp_path):
    store = ResultStore(result_storage=tmp_path, lock_manager=MemoryLockManager())
    assert store.acquire_lock("k", holder="alice", timeout=1)
    assert store.is_locked("k")
    assert store.is_lock_holder("k", holder="alice")
    assert not store.is_lock_holder("k", holder="bob")
    with pytest.raises(ResultLocked) as caught:
        store.write("from bob", key="k", holder="bob")
    assert caught.value.key == "k"
    assert "'bob'" in str(caught.value)
    with pytest.raises(ResultLocked):
        store.write("no holder given", key="k")
    store.write("from alice", key="k", holder="alice")
    store.release_lock("k", holder="alice")
    assert not store.is_locked("k")
    store.write("from bob", key="k", holder="bob")
    assert store.read("k").result == "from bob"


def test_two_stores_on_one_folder_share_locks(tmp_path):
    locks = MemoryLockManager()
    first = ResultStore(result_storage=tmp_path, lock_manager=locks)
    second = ResultStore(result_storage=str(tmp_path), lock_manager=locks)
    first.acquire_lock("k", holder="a")
    try:
        assert second.is_locked("k")
        assert not second.acquire_lock("k", holder="b", timeout=0.01)
    finally:
        first.release_lock("k", holder="a")


def test_a_reader_with_a_holder_waits_for_the_writer(tmp_path):
    store = ResultStore(result_storage=tmp_path, lock_manager=MemoryLockManager())
    store.write("old", key="k")
    store.acquire_lock("k", holder="writer")
    seen: list[object] = []
    reader = threading.Thread(target=lambda: seen.append(store.read("k", holder="reader").result))
    reader.start()
    reader.join(timeout=0.2)
    assert reader.is_alive()  # blocked on the lock
    store.write("new", key="k", holder="writer")
    store.release_lock("k", holder="writer")
    reader.join(timeout=10)
    assert seen == ["new"]
    assert store.wait_for_lock("k", timeout=1)


# -- async twins


def test_async_twins(store):
    async def scenario():
        record = await store.awrite({"a": 1}, key="k")
        assert await store.aexists("k")
        assert (await store.aread("k")).result == {"a": 1}
        other = store.create_result_record("x", key="other")
        await store.apersist_result_record(other)
        fresh = ResultStore(result_storage=store.result_storage)
        assert (await fresh.aread("other")).result == "x"
        return record

    record = asyncio.run(scenario())
    assert record.metadata.storage_key == "k"


def test_async_locks_use_the_callers_holder(tmp_path):
    store = ResultStore(result_storage=tmp_path, lock_manager=MemoryLockManager())

    async def scenario():
        assert await store.aacquire_lock("k", timeout=1)
        # Taken in a worker thread, but held by this (the calling) thread.
        assert store.is_lock_holder("k")
        await store.awrite(1, key="k")
        store.release_lock("k")
        assert await store.await_for_lock("k", timeout=1)

    asyncio.run(scenario())


# -- a new process


def test_a_new_process_reads_what_this_one_wrote(store, run_python):
    store.write({"rows": [1, 2, 3], "when": dt.date(2024, 1, 2)}, key="daily")
    json_store = store.model_copy(update={"serializer": "compressed/json"})
    json_store.write((1, "a"), key="as-json")
    output = run_python(
        """
        import sys
        from legato.results import ResultStore
        store = ResultStore(result_storage=sys.argv[1])
        print(store.read("daily").result, store.read("as-json").result, store.exists("nope"))
        """,
        str(store.result_storage.basepath),
    )
    assert output == "{'rows': [1, 2, 3], 'when': datetime.date(2024, 1, 2)} (1, 'a') False"


def test_a_new_process_finds_the_default_storage_in_legato_home(run_python):
    record = ResultStore().write("in home")
    output = run_python(
        """
        import json, sys
        from legato.results import load_persisted_result
        print(load_persisted_result(json.loads(sys.argv[1])))
        """,
        json.dumps(metadata_document(record)),
    )
    assert output == "in home"
