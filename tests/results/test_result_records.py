"""Result records: one self-describing document, expiration, damaged bytes."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato.filesystems import LocalFileSystem, describe_storage
from legato.results import (
    CorruptResult,
    ResultRecord,
    ResultRecordMetadata,
    load_persisted_result,
    metadata_document,
)
from legato.serializers import CompressedJSONSerializer, JSONSerializer

NOW = dt.datetime.now(dt.UTC)


def make_record(value=None, serializer="pickle", expiration=None, key="key-1"):
    metadata = ResultRecordMetadata(storage_key=key, expiration=expiration, serializer=serializer)
    return ResultRecord(metadata, {"rows": [1, 2, 3]} if value is None else value)


def test_a_record_is_one_json_document_with_its_metadata():
    record = make_record(serializer="json", expiration=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    document = json.loads(record.serialize())
    assert document["metadata"]["storage_key"] == "key-1"
    assert document["metadata"]["expiration"] == "2030-01-01T00:00:00+00:00"
    assert document["metadata"]["serializer"] == {"type": "json"}
    assert base64.b64decode(document["result"]) == b'{"rows":[1,2,3]}'


@pytest.mark.parametrize("serializer", ["pickle", "json", "compressed/pickle", "compressed/json"])
def test_a_record_round_trips_with_nothing_but_its_bytes(serializer):
    record = make_record(serializer=serializer, expiration=NOW + dt.timedelta(days=1))
    restored = ResultRecord.deserialize(record.serialize())
    assert restored == record
    assert restored.metadata.serializer == record.metadata.serializer
    assert restored.metadata.expiration == record.metadata.expiration


@given(st.integers(min_value=0, max_value=10**6), st.text())
def test_values_and_keys_survive_the_round_trip(number, key):
    record = make_record(value={"n": number, "key": key}, key=key or "k")
    assert ResultRecord.deserialize(record.serialize()) == record


def test_value_and_metadata_can_be_stored_apart():
    record = make_record(serializer=CompressedJSONSerializer())
    restored = ResultRecord.deserialize_from_result_and_metadata(
        record.serialize_result(), record.serialize_metadata()
    )
    assert restored == record


def test_expiration_makes_a_record_expired():
    assert not make_record().expired
    assert not make_record(expiration=NOW + dt.timedelta(hours=1)).expired
    assert make_record(expiration=NOW - dt.timedelta(seconds=1)).expired


def test_expiration_is_kept_in_utc():
    paris = dt.timezone(dt.timedelta(hours=1))
    record = make_record(expiration=dt.datetime(2030, 1, 1, 12, tzinfo=paris))
    assert record.metadata.expiration == dt.datetime(2030, 1, 1, 11, tzinfo=dt.UTC)
    assert record.metadata.expiration.tzinfo is dt.UTC


@pytest.mark.parametrize("expiration", [dt.datetime(2030, 1, 1), "2030-01-01", 3600])
def test_an_expiration_must_be_an_aware_datetime(expiration):
    from legato.exceptions import ParameterError

    with pytest.raises(ParameterError, match="timezone-aware"):
        make_record(expiration=expiration)


def _damaged_blobs() -> dict[str, bytes]:
    blob = make_record().serialize()
    document = json.loads(blob)
    bad_base64 = dict(document, result="***")
    bad_value = dict(document, result=base64.b64encode(b"\x80\x05not a pickle").decode())
    unknown_serializer = json.loads(blob)
    unknown_serializer["metadata"]["serializer"] = {"type": "nonexistent"}
    return {
        "empty": b"",
        "not json": b"\x00\x01 binary junk",
        "truncated": blob[: len(blob) // 2],
        "truncated value": blob[:-8] + b'"}',
        "wrong shape": b'{"metadata": 1}',
        "a list": b"[1, 2]",
        "bad base64": json.dumps(bad_base64).encode(),
        "bad value": json.dumps(bad_value).encode(),
        "unknown serializer": json.dumps(unknown_serializer).encode(),
    }


@pytest.mark.parametrize("blob", _damaged_blobs().values(), ids=_damaged_blobs().keys())
def test_damaged_bytes_raise_a_corrupt_result_with_the_fix(blob):
    with pytest.raises(CorruptResult) as caught:
        ResultRecord.deserialize(blob)
    assert "delete it (or refresh the cache)" in str(caught.value)


def test_metadata_documents_point_to_the_value_in_any_process(tmp_path):
    storage = LocalFileSystem(basepath=tmp_path)
    metadata = ResultRecordMetadata(
        storage_key="k", serializer=JSONSerializer(), storage_block=describe_storage(storage)
    )
    record = ResultRecord(metadata, [1, "two"])
    storage.write_path("k", record.serialize())
    reference = json.loads(json.dumps(metadata_document(record)))
    assert load_persisted_result(reference) == [1, "two"]
    # A value stored alone (metadata kept elsewhere) is read with the same reference.
    storage.write_path("k", record.serialize_result())
    assert load_persisted_result(reference) == [1, "two"]
