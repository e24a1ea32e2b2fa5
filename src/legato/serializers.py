"""Serializers: how a result value becomes bytes and back (Prefect 3's names).

    >>> from legato.serializers import get_serializer
    >>> serializer = get_serializer("compressed/json")
    >>> serializer.loads(serializer.dumps({"a": (1, 2)}))
    {'a': (1, 2)}

A serializer is described by a small JSON document (``to_document()``), such as
``{"type": "compressed/json", "compressionlib": "lzma"}``, which
``Serializer.from_document`` turns back into the serializer. A persisted result
stores that document beside the value, so another process can read the value
knowing nothing but the bytes. ``Serializer(type="json")`` and
``get_serializer("json")`` both build a serializer from its type name.

Types, by their ``type`` name:

- ``"pickle"``: ``PickleSerializer(picklelib="cloudpickle")``. Any Python value
  cloudpickle handles, including functions and classes defined in ``__main__``.
- ``"json"``: ``JSONSerializer()``. Readable JSON; see below for what it keeps.
- ``"compressed"``: ``CompressedSerializer(serializer=..., compressionlib="lzma")``
  wraps any serializer and compresses its bytes with lzma, zlib or bz2.
- ``"compressed/pickle"``, ``"compressed/json"``: the two common wrappings,
  ``CompressedPickleSerializer`` and ``CompressedJSONSerializer``.
  ``"compressed/<name>"`` wraps any other registered type the same way.

A subclass of ``Serializer`` with its own ``type`` class attribute registers
itself under that name: define it (and import it in every process that reads
its results) to add a format.

What ``JSONSerializer`` gives back: JSON's own types (``None``, ``bool``,
``int``, ``float``, ``str``, ``list``, ``dict`` with ``str`` keys) as they
are, and these as the same type and value: ``tuple``, ``set``, ``frozenset``,
``dict`` with any hashable keys, ``bytes``, ``bytearray``, ``complex``,
``datetime.datetime``/``date``/``time``/``timedelta`` (time zones kept),
``uuid.UUID``, ``decimal.Decimal``, enum members, dataclass instances and
pydantic models (their class is imported again by its module path when read).
``pathlib`` paths come back as ``pathlib.Path``; other mappings as ``dict``;
other tuples (named tuples) as ``tuple``; other lists as ``list``. Anything
else raises ``SerializationError`` naming the type. Like pickle, reading JSON
that names classes imports their modules: read only results you trust.
"""

from __future__ import annotations

import base64
import bz2
import dataclasses
import datetime as dt
import decimal
import enum
import importlib
import json
import lzma
import pathlib
import sys
import uuid
import zlib
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from legato.exceptions import SerializationError

__all__ = [
    "CompressedJSONSerializer",
    "CompressedPickleSerializer",
    "CompressedSerializer",
    "JSONSerializer",
    "PickleSerializer",
    "Serializer",
    "get_serializer",
]


_REGISTRY: dict[str, type[Serializer]] = {}
_COMPRESSED_PREFIX = "compressed/"


class _SerializerFactory(type):
    """``Serializer(type="json")`` builds the serializer registered under that type."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is Serializer:
            if args or "type" not in kwargs:
                raise SerializationError(
                    "Serializer is abstract: give a type, e.g. Serializer(type='json'), "
                    f"or use one of {', '.join(_known_names())}."
                )
            return Serializer.from_document(kwargs)
        return super().__call__(*args, **kwargs)


class Serializer(metaclass=_SerializerFactory):
    """Turns a value into bytes and back; subclasses set ``type`` and register by it."""

    type: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("type")
        if isinstance(name, str) and name:
            _REGISTRY[name] = cls  # a re-imported module replaces its own classes

    def __init__(self, **options: Any) -> None:
        if options:
            raise SerializationError(
                f"{type(self).__name__} takes no options; got {', '.join(sorted(options))}."
            )

    def dumps(self, obj: Any) -> bytes:
        """The value as bytes."""
        raise NotImplementedError

    def loads(self, blob: bytes) -> Any:
        """The value that ``dumps`` turned into ``blob``."""
        raise NotImplementedError

    def to_document(self) -> dict[str, Any]:
        """A JSON-ready description: ``{"type": ..., **public fields}``."""
        fields = {
            name: value.to_document() if isinstance(value, Serializer) else value
            for name, value in vars(self).items()
            if not name.startswith("_")
        }
        return {"type": self.type, **fields}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Serializer:
        """The serializer that ``to_document`` described."""
        if not isinstance(document, Mapping) or not isinstance(document.get("type"), str):
            raise SerializationError(
                f"A serializer description needs a 'type' name, e.g. {{'type': 'json'}}; "
                f"got {document!r}."
            )
        fields = {name: value for name, value in document.items() if name != "type"}
        name = document["type"]
        if name not in _REGISTRY and name.startswith(_COMPRESSED_PREFIX):
            fields["serializer"] = name.removeprefix(_COMPRESSED_PREFIX)
            name = CompressedSerializer.type
        target = _lookup(name)
        try:
            return target(**fields)
        except (TypeError, SerializationError) as exc:
            raise SerializationError(
                f"Cannot build the {name!r} serializer from {dict(document)!r}: {exc}."
            ) from exc

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Serializer):
            return NotImplemented
        return self.to_document() == other.to_document()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_document(), sort_keys=True, default=repr))

    def __repr__(self) -> str:
        fields = ", ".join(f"{key}={value!r}" for key, value in self.to_document().items())
        return f"{type(self).__name__}({fields})"


def get_serializer(value: str | Serializer) -> Serializer:
    """A serializer from an instance (returned as is) or a type name such as
    ``"pickle"``, ``"json"`` or ``"compressed/json"``."""
    if isinstance(value, Serializer):
        return value
    if not isinstance(value, str):
        raise SerializationError(
            f"result_serializer={value!r} is neither a serializer name nor a Serializer. "
            f"Use one of {', '.join(_known_names())}, or a Serializer instance."
        )
    return Serializer.from_document({"type": value})


def _lookup(name: str) -> type[Serializer]:
    if name in _REGISTRY:
        return _REGISTRY[name]
    raise SerializationError(
        f"Unknown serializer {name!r}. Valid names: {', '.join(_known_names())}. "
        "Use one of them, or define a Serializer subclass with type = "
        f"{name!r} and import its module before results are written or read."
    )


def _known_names() -> list[str]:
    return sorted(name for name in _REGISTRY if name != "compressed") + ["compressed/<name>"]


# -- pickle


class PickleSerializer(Serializer):
    """Pickles values with ``picklelib`` (cloudpickle by default, or ``"pickle"``)."""

    type = "pickle"

    def __init__(self, picklelib: str = "cloudpickle") -> None:
        self.picklelib = picklelib
        self._lib = _import_with(picklelib, ("dumps", "loads"), "picklelib")

    def dumps(self, obj: Any) -> bytes:
        try:
            return bytes(self._lib.dumps(obj))
        except Exception as exc:
            raise SerializationError(
                f"{self.picklelib} cannot pickle a value of type {_type_name(obj)}: {exc}. "
                "Return a picklable value, or choose another result_serializer."
            ) from exc

    def loads(self, blob: bytes) -> Any:
        try:
            return self._lib.loads(blob)
        except Exception as exc:
            raise SerializationError(
                f"{self.picklelib} could not unpickle the value: {type(exc).__name__}: {exc}. "
                "If a class or module is missing, make it importable in this process."
            ) from exc


def _import_with(module_name: str, attributes: tuple[str, ...], option: str) -> Any:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SerializationError(
            f"{option}={module_name!r} cannot be imported ({exc}). Install it, or use the default."
        ) from exc
    if not all(callable(getattr(module, name, None)) for name in attributes):
        raise SerializationError(
            f"{option}={module_name!r} has no {' and '.join(attributes)} functions; "
            "name a module that has them."
        )
    return module


def _type_name(obj: Any) -> str:
    kind = type(obj)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )


# -- JSON

_TAG = "__legato__"
# One encoder, built once: json.dumps with options builds a new one per call.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


class JSONSerializer(Serializer):
    """JSON with tagged objects for the types JSON lacks (see the module docstring)."""

    type = "json"

    def dumps(self, obj: Any) -> bytes:
        try:
            return _COMPACT_JSON.encode(_encode(obj)).encode()
        except RecursionError as exc:
            raise SerializationError(
                f"JSONSerializer cannot encode this {_type_name(obj)}: it refers to itself "
                "or is nested too deeply. Use result_serializer='pickle'."
            ) from exc

    def loads(self, blob: bytes) -> Any:
        try:
            return json.loads(blob, object_hook=_decode)
        except SerializationError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise SerializationError(
                f"The bytes are not JSON written by JSONSerializer: {type(exc).__name__}: {exc}."
            ) from exc


def _encode(obj: Any) -> Any:
    kind = type(obj)
    if obj is None or kind in _PLAIN:
        return obj
    if kind is list:
        return [_encode(item) for item in obj]
    if kind is dict:
        return _encode_dict(obj)
    encoder = _ENCODERS.get(kind)
    if encoder is not None:
        return encoder(obj)
    return _encode_other(obj)


def _encode_dict(obj: Mapping[Any, Any]) -> dict[str, Any]:
    if _TAG not in obj and all(type(key) is str for key in obj):
        return {key: _encode(value) for key, value in obj.items()}
    return {_TAG: "dict", "items": [[_encode(k), _encode(v)] for k, v in obj.items()]}


def _tagged(tag: str, value: Any) -> dict[str, Any]:
    return {_TAG: tag, "value": value}


def _class_path(obj: Any) -> str:
    return f"{type(obj).__module__}:{type(obj).__qualname__}"


def _encode_other(obj: Any) -> Any:
    if isinstance(obj, enum.Enum):
        return {_TAG: "enum", "class": _class_path(obj), "value": _encode(obj.value)}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {f.name: _encode(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init}
        return {_TAG: "dataclass", "class": _class_path(obj), "value": fields}
    if _is_pydantic_model(obj):
        return {
            _TAG: "pydantic",
            "class": _class_path(obj),
            "value": _encode(obj.model_dump(mode="json")),
        }
    if isinstance(obj, pathlib.PurePath):
        return _tagged("path", str(obj))
    if isinstance(obj, Mapping):
        return _encode_dict(obj)
    if isinstance(obj, tuple):
        return _tagged("tuple", [_encode(item) for item in obj])
    if isinstance(obj, list):
        return [_encode(item) for item in obj]
    for base, encoder in _ENCODERS.items():
        if isinstance(obj, base):
            return encoder(obj)
    raise SerializationError(
        f"JSONSerializer cannot encode a value of type {_type_name(obj)}. "
        "Convert it to JSON-friendly types, or use result_serializer='pickle'."
    )


def _is_pydantic_model(obj: Any) -> bool:
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(obj, pydantic.BaseModel)


_PLAIN = frozenset({str, int, float, bool})
_ENCODERS: dict[type, Callable[[Any], Any]] = {
    tuple: lambda obj: _tagged("tuple", [_encode(item) for item in obj]),
    set: lambda obj: _tagged("set", [_encode(item) for item in obj]),
    frozenset: lambda obj: _tagged("frozenset", [_encode(item) for item in obj]),
    bytes: lambda obj: _tagged("bytes", base64.b64encode(obj).decode()),
    bytearray: lambda obj: _tagged("bytearray", base64.b64encode(obj).decode()),
    complex: lambda obj: _tagged("complex", [obj.real, obj.imag]),
    dt.datetime: lambda obj: _tagged("datetime", obj.isoformat()),
    dt.date: lambda obj: _tagged("date", obj.isoformat()),
    dt.time: lambda obj: _tagged("time", obj.isoformat()),
    dt.timedelta: lambda obj: _tagged("timedelta", [obj.days, obj.seconds, obj.microseconds]),
    uuid.UUID: lambda obj: _tagged("uuid", str(obj)),
    decimal.Decimal: lambda obj: _tagged("decimal", str(obj)),
}

_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "tuple": lambda doc: tuple(doc["value"]),
    "set": lambda doc: set(doc["value"]),
    "frozenset": lambda doc: frozenset(doc["value"]),
    "dict": lambda doc: {key: value for key, value in doc["items"]},
    "bytes": lambda doc: base64.b64decode(doc["value"]),
    "bytearray": lambda doc: bytearray(base64.b64decode(doc["value"])),
    "complex": lambda doc: complex(*doc["value"]),
    "datetime": lambda doc: dt.datetime.fromisoformat(doc["value"]),
    "date": lambda doc: dt.date.fromisoformat(doc["value"]),
    "time": lambda doc: dt.time.fromisoformat(doc["value"]),
    "timedelta": lambda doc: dt.timedelta(*doc["value"]),
    "uuid": lambda doc: uuid.UUID(doc["value"]),
    "decimal": lambda doc: decimal.Decimal(doc["value"]),
    "path": lambda doc: pathlib.Path(doc["value"]),
    "enum": lambda doc: _import_class(doc["class"])(doc["value"]),
    "dataclass": lambda doc: _import_class(doc["class"])(**doc["value"]),
    "pydantic": lambda doc: _import_class(doc["class"]).model_validate(doc["value"]),
}


def _decode(document: dict[str, Any]) -> Any:
    tag = document.get(_TAG)
    if tag is None:
        return document
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise SerializationError(
            f"JSON tagged {tag!r} was not written by this version of JSONSerializer."
        )
    return decoder(document)


def _import_class(path: str) -> Any:
    module_name, _, qualname = path.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise SerializationError(
            f"The JSON value needs the class {path!r}, which cannot be imported here ({exc}). "
            "Make its module importable in the process that reads the result."
        ) from exc
    return found


# -- compression

_COMPRESSORS: dict[str, tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]] = {
    "lzma": (lzma.compress, lzma.decompress),
    "zlib": (zlib.compress, zlib.decompress),
    "bz2": (bz2.compress, bz2.decompress),
}


def _check_compressionlib(name: str) -> str:
    if name not in _COMPRESSORS:
        raise SerializationError(
            f"compressionlib={name!r} is not supported. "
            f"Use one of {', '.join(sorted(_COMPRESSORS))}."
        )
    return name


def _compress(name: str, blob: bytes) -> bytes:
    return _COMPRESSORS[name][0](blob)


def _decompress(name: str, blob: bytes) -> bytes:
    try:
        return _COMPRESSORS[name][1](blob)
    except Exception as exc:
        raise SerializationError(
            f"The bytes are not {name}-compressed data: {type(exc).__name__}: {exc}."
        ) from exc


class CompressedSerializer(Serializer):
    """Wraps ``serializer`` (a name, instance or description) and compresses its bytes."""

    type = "compressed"

    def __init__(
        self,
        serializer: str | Serializer | Mapping[str, Any] = "pickle",
        compressionlib: str = "lzma",
    ) -> None:
        if isinstance(serializer, Mapping):
            self.serializer = Serializer.from_document(serializer)
        else:
            self.serializer = get_serializer(serializer)
        self.compressionlib = _check_compressionlib(compressionlib)

    def dumps(self, obj: Any) -> bytes:
        return _compress(self.compressionlib, self.serializer.dumps(obj))

    def loads(self, blob: bytes) -> Any:
        return self.serializer.loads(_decompress(self.compressionlib, blob))


class _CompressedFixedSerializer(Serializer):
    """``_wraps``'s bytes, compressed: the base of the named ``compressed/<name>`` types."""

    _wraps: ClassVar[type[Serializer]]

    def __init__(self, compressionlib: str = "lzma") -> None:
        self.compressionlib = _check_compressionlib(compressionlib)
        self._inner = self._wraps()

    def dumps(self, obj: Any) -> bytes:
        return _compress(self.compressionlib, self._inner.dumps(obj))

    def loads(self, blob: bytes) -> Any:
        return self._inner.loads(_decompress(self.compressionlib, blob))


class CompressedPickleSerializer(_CompressedFixedSerializer):
    """Pickle (cloudpickle), then compress: type ``"compressed/pickle"``."""

    type = "compressed/pickle"
    _wraps = PickleSerializer


class CompressedJSONSerializer(_CompressedFixedSerializer):
    """JSON, then compress: type ``"compressed/json"``."""

    type = "compressed/json"
    _wraps = JSONSerializer
