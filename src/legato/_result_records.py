"""The stored form of a result: ``ResultRecordMetadata`` and ``ResultRecord``.

``ResultRecord.serialize()`` writes one JSON document holding the metadata and
the serializer's bytes (base64); see ``legato.results`` for the format. Every
decoding failure becomes a ``CorruptResult`` naming the key and path.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from legato import __version__
from legato.exceptions import CorruptResult, ParameterError, SerializationError
from legato.serializers import Serializer, get_serializer

__all__ = [
    "RECORD_PREFIX",
    "ResultRecord",
    "ResultRecordMetadata",
    "decode_or_corrupt",
    "decode_record",
    "metadata_document",
    "parse_envelope",
]

T = TypeVar("T")
# One encoder, built once: json.dumps with options builds a new one per call.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _check_expiration(expiration: Any) -> dt.datetime | None:
    if expiration is None:
        return None
    if not isinstance(expiration, dt.datetime) or expiration.tzinfo is None:
        raise ParameterError(
            f"expiration={expiration!r} must be a timezone-aware datetime, e.g. "
            "datetime.now(timezone.utc) + timedelta(days=1), or None for no expiration."
        )
    return expiration.astimezone(dt.UTC)


class ResultRecordMetadata:
    """Where a result is stored, until when, and how to decode it."""

    __slots__ = ("expiration", "serializer", "storage_block", "storage_key")

    def __init__(
        self,
        storage_key: str,
        expiration: dt.datetime | None = None,
        serializer: str | Serializer = "pickle",
        storage_block: dict[str, Any] | None = None,
    ) -> None:
        self.storage_key = storage_key
        self.expiration = _check_expiration(expiration)
        self.serializer = get_serializer(serializer)
        self.storage_block = storage_block

    @property
    def expired(self) -> bool:
        """Whether the expiration has passed (never, without one)."""
        return self.expiration is not None and self.expiration <= _utc_now()

    def to_document(self) -> dict[str, Any]:
        """The metadata as a JSON-ready dict."""
        expiration = self.expiration
        return {
            "storage_key": self.storage_key,
            "expiration": None if expiration is None else expiration.isoformat(),
            "serializer": self.serializer.to_document(),
            "storage_block": self.storage_block,
            "legato_version": __version__,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> ResultRecordMetadata:
        """The metadata ``to_document`` described."""
        expiration = document.get("expiration")
        return cls(
            storage_key=document["storage_key"],
            expiration=None if expiration is None else dt.datetime.fromisoformat(expiration),
            serializer=Serializer.from_document(document["serializer"]),
            storage_block=document.get("storage_block"),
        )

    def dump_bytes(self) -> bytes:
        """The metadata as JSON bytes (what a separate metadata storage holds)."""
        return _COMPACT_JSON.encode(self.to_document()).encode()

    @classmethod
    def load_bytes(cls, blob: bytes) -> ResultRecordMetadata:
        """The metadata that ``dump_bytes`` wrote; CorruptResult if it cannot be read."""
        return decode_or_corrupt(lambda: cls.from_document(json.loads(blob)), key=None, path=None)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResultRecordMetadata):
            return NotImplemented
        return self.to_document() == other.to_document()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"ResultRecordMetadata(storage_key={self.storage_key!r}, "
            f"expiration={self.expiration!r}, serializer={self.serializer!r})"
        )


class ResultRecord:
    """A value with its metadata; ``serialize()`` makes the one stored document."""

    __slots__ = ("_document", "metadata", "result")

    def __init__(self, metadata: ResultRecordMetadata, result: Any) -> None:
        self._document: dict[str, Any] | None = None  # metadata_document, made once
        self.metadata = metadata
        self.result = result

    @property
    def expired(self) -> bool:
        """Whether the record's expiration has passed."""
        return self.metadata.expired

    def serialize_result(self) -> bytes:
        """The value alone, as the serializer's bytes."""
        return self.metadata.serializer.dumps(self.result)

    def serialize_metadata(self) -> bytes:
        """The metadata alone, as JSON bytes."""
        return self.metadata.dump_bytes()

    def serialize(self) -> bytes:
        """One JSON document with the metadata and the value (base64)."""
        encoded = base64.b64encode(self.serialize_result()).decode("ascii")
        document = {_FORMAT_MARK: 1, "metadata": self.metadata.to_document(), "result": encoded}
        return _COMPACT_JSON.encode(document).encode()

    @classmethod
    def deserialize(cls, blob: bytes) -> ResultRecord:
        """The record ``serialize`` wrote; CorruptResult if the bytes cannot be decoded."""
        return decode_record(blob, key=None, path=None)

    @classmethod
    def deserialize_from_result_and_metadata(cls, result: bytes, metadata: bytes) -> ResultRecord:
        """A record from separately stored value bytes and metadata bytes."""
        record_metadata = ResultRecordMetadata.load_bytes(metadata)
        value = decode_or_corrupt(
            lambda: record_metadata.serializer.loads(result), key=None, path=None
        )
        return cls(record_metadata, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResultRecord):
            return NotImplemented
        return bool(self.metadata == other.metadata and self.result == other.result)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ResultRecord(metadata={self.metadata!r}, result={self.result!r})"


def decode_or_corrupt(work: Callable[[], T], key: str | None, path: str | None) -> T:
    """Run a decoding step; any failure becomes a CorruptResult naming the key and path."""
    try:
        return work()
    except (SerializationError, ValueError, KeyError, TypeError, AttributeError) as exc:
        where = f"at {path!r}" if path else "given"
        if key is not None:
            where = f"{key!r} {where}"
        raise CorruptResult(
            f"The stored result {where} cannot be read: {type(exc).__name__}: {exc}. "
            "If it names a class or module, make that importable in this process; "
            "otherwise the file is damaged or truncated: delete it (or refresh the "
            "cache) so the value is computed and written again.",
            key=key,
            path=path,
        ) from exc


# First key of a stored record: tells a record from a value stored alone.
_FORMAT_MARK = "legato_result"
RECORD_PREFIX = b'{"legato_result":'


def parse_envelope(blob: bytes) -> tuple[ResultRecordMetadata, str]:
    document = json.loads(blob)
    return ResultRecordMetadata.from_document(document["metadata"]), document["result"]


def decode_record(blob: bytes, key: str | None, path: str | None) -> ResultRecord:
    metadata, encoded = decode_or_corrupt(lambda: parse_envelope(blob), key, path)
    raw = decode_or_corrupt(lambda: base64.b64decode(encoded, validate=True), key, path)
    value = decode_or_corrupt(lambda: metadata.serializer.loads(raw), key, path)
    return ResultRecord(metadata, value)


def metadata_document(record: ResultRecord) -> dict[str, Any]:
    """The record's metadata as a JSON-ready dict: what ``state.result_ref`` keeps.

    Made once per record (a cache hit reuses the record), so treat it as read-only.
    """
    document = record._document
    if document is None:
        document = record._document = record.metadata.to_document()
    return document
