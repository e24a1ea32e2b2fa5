"""Results on S3: moto's S3 server on loopback, reached through s3fs."""

from __future__ import annotations

import json

import pytest

from legato.exceptions import StorageError
from legato.filesystems import RemoteFileSystem, StorageFileNotFound, resolve_storage
from legato.results import ResultStore, metadata_document


@pytest.fixture
def storage(s3):
    return RemoteFileSystem(basepath=s3.new_prefix(), settings=s3.settings())


def test_s3_write_read_exists_delete(storage):
    url = storage.write_path("a/b.bin", b"payload")
    assert url == f"{storage.basepath}/a/b.bin"
    assert storage.read_path("a/b.bin") == b"payload"
    assert storage.exists("a/b.bin")
    storage.write_path("a/b.bin", b"replaced")
    assert storage.read_path(url) == b"replaced"
    storage.delete_path("a/b.bin")
    assert not storage.exists("a/b.bin")
    with pytest.raises(StorageFileNotFound, match="a/b.bin"):
        storage.read_path("a/b.bin")


def test_a_store_on_s3_is_read_back_in_a_new_process(storage, s3, run_python):
    store = ResultStore(result_storage=storage, serializer="compressed/pickle")
    store.write({"total": 12.5, "rows": [1, 2]}, key="reports/daily")
    output = run_python(
        """
        import json, sys
        from legato.filesystems import RemoteFileSystem
        from legato.results import ResultStore
        storage = RemoteFileSystem(basepath=sys.argv[1], settings=json.loads(sys.argv[2]))
        store = ResultStore(result_storage=storage)
        print(store.exists("reports/daily"), store.read("reports/daily").result)
        """,
        storage.basepath,
        json.dumps(s3.settings()),
    )
    assert output == "True {'total': 12.5, 'rows': [1, 2]}"


def test_a_state_reference_to_s3_needs_no_secrets(storage, run_python):
    # The reference keeps the endpoint but not the key and secret: the child
    # process gets credentials from its environment (AWS_* variables).
    record = ResultStore(result_storage=storage, serializer="json").write([1, "x"], key="k")
    reference = metadata_document(record)
    assert "testing" not in json.dumps(reference)
    output = run_python(
        """
        import json, sys
        from legato.results import load_persisted_result
        print(load_persisted_result(json.loads(sys.argv[1])))
        """,
        json.dumps(reference),
    )
    assert output == "[1, 'x']"


def test_a_saved_s3_block_resolves_by_slug(storage):
    storage.save("s3-results")
    loaded = resolve_storage("remote-file-system/s3-results")
    assert loaded == storage
    ResultStore(result_storage="remote-file-system/s3-results").write(7, key="seven")
    assert storage.read_path("seven")
    assert ResultStore(result_storage=storage).read("seven").result == 7


def test_writing_to_a_missing_bucket_fails_without_creating_it(s3):
    import boto3  # type: ignore[import-untyped]

    storage = RemoteFileSystem(basepath="s3://no-such-bucket/prefix", settings=s3.settings())
    with pytest.raises(StorageError, match="s3://no-such-bucket/prefix/k"):
        storage.write_path("k", b"x")
    buckets = boto3.client("s3", endpoint_url=s3.endpoint_url).list_buckets()["Buckets"]
    assert [bucket["Name"] for bucket in buckets] == [s3.bucket]
