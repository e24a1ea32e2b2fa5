"""Filesystems: local folders and fsspec URLs, saved blocks, and resolve_storage."""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

import pytest

from legato.exceptions import (
    ConfigurationError,
    ObjectAlreadyExists,
    ObjectNotFound,
    ParameterError,
    StorageError,
)
from legato.filesystems import (
    LocalFileSystem,
    RemoteFileSystem,
    StorageFileNotFound,
    describe_storage,
    get_default_storage,
    resolve_storage,
    storage_from_description,
)
from legato.settings import temporary_settings

# -- LocalFileSystem


def test_local_write_read_exists_delete(tmp_path):
    storage = LocalFileSystem(basepath=tmp_path)
    written = storage.write_path("a/b/result.pickle", b"payload")
    assert written == str(tmp_path / "a" / "b" / "result.pickle")
    assert storage.read_path("a/b/result.pickle") == b"payload"
    assert storage.exists("a/b/result.pickle")
    storage.delete_path("a/b/result.pickle")
    assert not storage.exists("a/b/result.pickle")
    storage.delete_path("a/b/result.pickle")  # deleting nothing is not an error


def test_local_overwrite_leaves_no_temporary_files(tmp_path):
    storage = LocalFileSystem(basepath=tmp_path)
    for content in (b"first", b"second", b""):
        storage.write_path("key", content)
    assert storage.read_path("key") == b""
    assert sorted(os.listdir(tmp_path)) == ["key"]


def test_local_readers_never_see_a_partial_write(tmp_path):
    storage = LocalFileSystem(basepath=tmp_path)
    size = 1 << 20
    contents = (b"a" * size, b"b" * size)
    storage.write_path("big", contents[0])
    finished = threading.Event()

    def keep_writing() -> None:
        for round_number in range(30):
            storage.write_path("big", contents[round_number % 2])
        finished.set()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    seen = 0
    while not finished.is_set() or seen == 0:
        assert storage.read_path("big") in contents
        seen += 1
    writer.join(timeout=30)
    assert not writer.is_alive()


def test_a_failed_local_write_keeps_the_old_content_and_no_temporary_file(tmp_path):
    storage = LocalFileSystem(basepath=tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "inside").write_bytes(b"x")
    with pytest.raises(StorageError) as caught:
        storage.write_path("folder", b"new")
    assert str(tmp_path / "folder") in str(caught.value)
    assert sorted(os.listdir(tmp_path)) == ["folder"]


def test_reading_a_missing_local_path_names_it(tmp_path):
    storage = LocalFileSystem(basepath=tmp_path)
    with pytest.raises(StorageFileNotFound) as caught:
        storage.read_path("nothing-here")
    assert caught.value.path == str(tmp_path / "nothing-here")
    assert str(tmp_path / "nothing-here") in str(caught.value)
    assert isinstance(caught.value, ObjectNotFound)
    assert isinstance(caught.value, FileNotFoundError)


@pytest.mark.parametrize("path", ["../escape", "a/../../escape", "/etc/passwd", "a/../.."])
def test_local_paths_cannot_leave_the_basepath(tmp_path, path):
    storage = LocalFileSystem(basepath=tmp_path / "root")
    with pytest.raises(ParameterError, match="leaves the storage folder"):
        storage.write_path(path, b"x")
    assert not (tmp_path / "escape").exists()


def test_local_paths_may_wander_inside_the_basepath(tmp_path):
    storage = LocalFileSystem(basepath=tmp_path)
    assert storage.resolve_path("a/../b") == str(tmp_path / "b")
    assert storage.resolve_path(str(tmp_path / "c")) == str(tmp_path / "c")


def test_an_empty_path_is_refused(tmp_path):
    with pytest.raises(ParameterError, match="cannot be empty"):
        LocalFileSystem(basepath=tmp_path).write_path("", b"x")


def test_without_basepath_paths_are_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    LocalFileSystem().write_path("here.bin", b"1")
    assert (tmp_path / "here.bin").read_bytes() == b"1"


def test_a_relative_basepath_is_fixed_when_built(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    storage = LocalFileSystem(basepath="results")
    monkeypatch.chdir("/")
    assert storage.write_path("x", b"1") == str(tmp_path / "results" / "x")


def test_local_documents_round_trip(tmp_path):
    storage = LocalFileSystem(basepath=tmp_path)
    assert storage.to_document() == {"basepath": str(tmp_path)}
    assert LocalFileSystem.from_document(storage.to_document()) == storage
    with pytest.raises(ConfigurationError, match="nonsense"):
        LocalFileSystem.from_document({"nonsense": 1})


# -- RemoteFileSystem over memory://


def test_memory_write_read_exists_delete(memory_url):
    storage = RemoteFileSystem(basepath=memory_url)
    assert storage.write_path("a/b", b"payload") == f"{memory_url}/a/b"
    assert storage.read_path("a/b") == b"payload"
    assert storage.exists("a/b")
    storage.write_path("a/b", b"again")
    assert storage.read_path(f"{memory_url}/a/b") == b"again"
    storage.delete_path("a/b")
    assert not storage.exists("a/b")
    storage.delete_path("a/b")


def test_memory_missing_path_and_escapes(memory_url):
    storage = RemoteFileSystem(basepath=memory_url + "/")
    with pytest.raises(StorageFileNotFound, match="missing"):
        storage.read_path("missing")
    for path in ("../x", "a/../../x", "/abs", "memory://elsewhere/x"):
        with pytest.raises(ParameterError, match="leaves the storage folder"):
            storage.write_path(path, b"x")


def test_a_file_url_writes_under_its_folder(tmp_path):
    storage = RemoteFileSystem(basepath=f"file://{tmp_path}")
    assert storage.write_path("a/b", b"x") == f"file://{tmp_path}/a/b"
    assert (tmp_path / "a" / "b").read_bytes() == b"x"


def test_remote_needs_a_url():
    with pytest.raises(ParameterError, match="LocalFileSystem"):
        RemoteFileSystem(basepath="/just/a/folder")


def test_remote_imports_fsspec_only_when_used(run_python):
    output = run_python(
        """
        import sys
        import legato.results
        from legato.filesystems import RemoteFileSystem
        storage = RemoteFileSystem("memory://lazy")
        before = "fsspec" in sys.modules
        storage.write_path("k", b"v")
        print(before, "fsspec" in sys.modules, "s3fs" in sys.modules)
        """
    )
    assert output == "False True False"


@pytest.mark.skipif(importlib.util.find_spec("gcsfs") is not None, reason="gcsfs is installed")
def test_a_missing_fsspec_implementation_names_the_package():
    storage = RemoteFileSystem(basepath="gs://bucket/prefix")
    with pytest.raises(ConfigurationError) as caught:
        storage.exists("key")
    assert "pip install gcsfs" in str(caught.value)
    assert "gs://bucket/prefix" in str(caught.value)


def test_an_unknown_protocol_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="no-such-protocol"):
        RemoteFileSystem(basepath="no-such-protocol://x").exists("k")


def test_a_remote_filesystem_pickles_without_its_connection(memory_url):
    import cloudpickle

    storage = RemoteFileSystem(basepath=memory_url)
    storage.write_path("k", b"v")
    copy = cloudpickle.loads(cloudpickle.dumps(storage))
    assert copy == storage
    assert copy.read_path("k") == b"v"


def test_descriptions_leave_secrets_out():
    storage = RemoteFileSystem(
        basepath="s3://bucket/x",
        settings={
            "key": "AKIA",
            "secret": "shh",
            "token": "t",
            "client_kwargs": {"endpoint_url": "http://127.0.0.1:1", "aws_secret_access_key": "s"},
        },
    )
    description = describe_storage(storage)
    assert description == {
        "block_type_slug": "remote-file-system",
        "data": {
            "basepath": "s3://bucket/x",
            "settings": {"client_kwargs": {"endpoint_url": "http://127.0.0.1:1"}},
        },
    }
    rebuilt = storage_from_description(description)
    assert isinstance(rebuilt, RemoteFileSystem)
    assert rebuilt.basepath == "s3://bucket/x"


def test_an_unknown_description_is_refused():
    with pytest.raises(ConfigurationError, match="local-file-system"):
        storage_from_description({"block_type_slug": "ftp-thing", "data": {}})


# -- resolve_storage and the default


def test_the_default_storage_is_under_legato_home(legato_home):
    assert get_default_storage() == LocalFileSystem(basepath=legato_home / "storage")
    assert resolve_storage(None) == LocalFileSystem(basepath=legato_home / "storage")


def test_the_default_storage_follows_the_setting(tmp_path):
    with temporary_settings({"LEGATO_RESULTS_LOCAL_STORAGE_PATH": str(tmp_path / "elsewhere")}):
        assert get_default_storage() == LocalFileSystem(basepath=tmp_path / "elsewhere")


def test_resolve_storage_reads_paths_and_urls(tmp_path, memory_url):
    local = LocalFileSystem(basepath=tmp_path)
    assert resolve_storage(local) is local
    assert resolve_storage(tmp_path) == local
    assert resolve_storage(str(tmp_path)) == local
    assert resolve_storage(f"file://{tmp_path}") == local
    assert resolve_storage("relative/folder") == LocalFileSystem(basepath="relative/folder")
    assert resolve_storage("unknown-type/name") == LocalFileSystem(basepath="unknown-type/name")
    assert resolve_storage(memory_url) == RemoteFileSystem(basepath=memory_url)


@pytest.mark.parametrize("value", [42, "", object()])
def test_resolve_storage_refuses_other_values(value):
    with pytest.raises(ParameterError, match="local-file-system/name"):
        resolve_storage(value)


# -- saved blocks (through the client)


def test_a_saved_local_block_loads_back_and_resolves_by_slug(tmp_path):
    storage = LocalFileSystem(basepath=tmp_path / "nightly")
    storage.save("nightly")
    assert LocalFileSystem.load("nightly") == storage
    loaded = resolve_storage("local-file-system/nightly")
    assert loaded == storage
    assert describe_storage(loaded)["block_document_name"] == "nightly"


def test_saving_twice_needs_overwrite(tmp_path):
    LocalFileSystem(basepath=tmp_path / "a").save("twice")
    with pytest.raises(ObjectAlreadyExists):
        LocalFileSystem(basepath=tmp_path / "b").save("twice")
    LocalFileSystem(basepath=tmp_path / "b").save("twice", overwrite=True)
    assert LocalFileSystem.load("twice").basepath == str(tmp_path / "b")


def test_a_saved_remote_block_keeps_its_settings(memory_url):
    RemoteFileSystem(basepath=memory_url, settings={"skip_instance_cache": True}).save("mem")
    loaded = resolve_storage("remote-file-system/mem")
    assert isinstance(loaded, RemoteFileSystem)
    assert loaded.settings == {"skip_instance_cache": True}


def test_an_unknown_block_names_the_slug_and_how_to_save_one():
    with pytest.raises(ObjectNotFound) as caught:
        resolve_storage("local-file-system/never-saved")
    message = str(caught.value)
    assert "'local-file-system/never-saved'" in message
    assert "LocalFileSystem(basepath=...).save('never-saved')" in message


@pytest.mark.parametrize("name", ["Upper", "with space", "a/b", ""])
def test_block_names_are_checked(tmp_path, name):
    with pytest.raises(ParameterError, match="lowercase letters"):
        LocalFileSystem(basepath=tmp_path).save(name)


def test_a_default_storage_block_from_settings(tmp_path):
    LocalFileSystem(basepath=tmp_path / "blocked").save("default-results")
    with temporary_settings(
        {"LEGATO_RESULTS_DEFAULT_STORAGE_BLOCK": "local-file-system/default-results"}
    ):
        assert get_default_storage() == LocalFileSystem(basepath=tmp_path / "blocked")
    with (
        temporary_settings({"LEGATO_RESULTS_DEFAULT_STORAGE_BLOCK": "results"}),
        pytest.raises(ConfigurationError, match="LEGATO_RESULTS_DEFAULT_STORAGE_BLOCK='results'"),
    ):
        get_default_storage()


def test_a_described_block_is_loaded_by_name_when_saved_here(tmp_path):
    storage = LocalFileSystem(basepath=tmp_path / "one")
    storage.save("named")
    description = describe_storage(LocalFileSystem.load("named"))
    LocalFileSystem(basepath=tmp_path / "two").save("named", overwrite=True)
    assert storage_from_description(description) == LocalFileSystem(basepath=tmp_path / "two")
    description["block_document_name"] = "deleted-since"
    assert storage_from_description(description) == storage


def test_paths_are_strings_or_path_objects(tmp_path):
    storage = LocalFileSystem(basepath=str(tmp_path))
    assert storage.basepath == str(tmp_path)
    assert Path(storage.write_path("p", b"")).parent == tmp_path
