"""Serializers: names, descriptions, round trips, and errors that say what to do."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import decimal
import enum
import pathlib
import uuid
from typing import Any, NamedTuple

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from legato.exceptions import SerializationError
from legato.serializers import (
    CompressedJSONSerializer,
    CompressedPickleSerializer,
    CompressedSerializer,
    JSONSerializer,
    PickleSerializer,
    Serializer,
    get_serializer,
)

NAMES: dict[str, type[Serializer]] = {
    "pickle": PickleSerializer,
    "json": JSONSerializer,
    "compressed/pickle": CompressedPickleSerializer,
    "compressed/json": CompressedJSONSerializer,
}


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: tuple[int, ...]


class Pair(NamedTuple):
    x: int
    y: int


class Order(pydantic.BaseModel):
    id: uuid.UUID
    placed: dt.datetime
    total: decimal.Decimal
    lines: list[str]


class Reversed(Serializer):
    """A custom format for strings: registered by its type name when defined."""

    type = "test-reversed"

    def dumps(self, obj: Any) -> bytes:
        return str(obj)[::-1].encode()

    def loads(self, blob: bytes) -> Any:
        return blob.decode()[::-1]


# -- names and descriptions


@pytest.mark.parametrize(("name", "kind"), NAMES.items())
def test_each_name_gives_its_serializer(name, kind):
    assert type(get_serializer(name)) is kind
    assert type(Serializer(type=name)) is kind
    assert get_serializer(name).type == name


def test_an_instance_is_returned_as_is():
    serializer = JSONSerializer()
    assert get_serializer(serializer) is serializer


@pytest.mark.parametrize(
    "serializer",
    [
        PickleSerializer(),
        PickleSerializer(picklelib="pickle"),
        JSONSerializer(),
        CompressedPickleSerializer(compressionlib="zlib"),
        CompressedJSONSerializer(compressionlib="bz2"),
        CompressedSerializer(serializer="json", compressionlib="zlib"),
        CompressedSerializer(serializer=CompressedJSONSerializer()),
        Reversed(),
    ],
    ids=repr,
)
def test_a_description_is_json_and_rebuilds_the_serializer(serializer):
    import json

    document = json.loads(json.dumps(serializer.to_document()))
    rebuilt = Serializer.from_document(document)
    assert type(rebuilt) is type(serializer)
    assert rebuilt == serializer
    assert rebuilt.loads(serializer.dumps("value")) == "value"


def test_descriptions_name_the_type_and_options():
    assert JSONSerializer().to_document() == {"type": "json"}
    assert PickleSerializer().to_document() == {"type": "pickle", "picklelib": "cloudpickle"}
    assert CompressedJSONSerializer().to_document() == {
        "type": "compressed/json",
        "compressionlib": "lzma",
    }
    assert CompressedSerializer(serializer="json").to_document() == {
        "type": "compressed",
        "serializer": {"type": "json"},
        "compressionlib": "lzma",
    }


def test_compressed_wraps_any_registered_name():
    serializer = get_serializer("compressed/test-reversed")
    assert isinstance(serializer, CompressedSerializer)
    assert serializer.serializer == Reversed()
    assert serializer.loads(serializer.dumps("abc")) == "abc"
    rebuilt = Serializer.from_document(
        {"type": "compressed/test-reversed", "compressionlib": "bz2"}
    )
    assert isinstance(rebuilt, CompressedSerializer)
    assert rebuilt.compressionlib == "bz2"
    assert rebuilt.loads(rebuilt.dumps("xy")) == "xy"


@pytest.mark.parametrize("compressionlib", ["lzma", "zlib", "bz2"])
@pytest.mark.parametrize("inner", ["pickle", "json"])
def test_compressed_output_is_smaller_for_repetitive_values(compressionlib, inner):
    value = ["the same line"] * 500
    compressed = CompressedSerializer(serializer=inner, compressionlib=compressionlib)
    blob = compressed.dumps(value)
    assert len(blob) < len(get_serializer(inner).dumps(value)) / 5
    assert compressed.loads(blob) == value


# -- bad input


def test_an_unknown_name_lists_the_valid_ones():
    with pytest.raises(SerializationError) as caught:
        get_serializer("yaml")
    message = str(caught.value)
    assert "'yaml'" in message
    for name in NAMES:
        assert name in message
    assert "Serializer subclass" in message


def test_an_unknown_wrapped_name_is_refused():
    with pytest.raises(SerializationError, match="'yaml'"):
        get_serializer("compressed/yaml")


@pytest.mark.parametrize("value", [42, None, b"json"])
def test_a_value_that_is_no_name_is_refused(value):
    with pytest.raises(SerializationError, match="serializer name"):
        get_serializer(value)


def test_serializer_without_a_type_is_refused():
    with pytest.raises(SerializationError, match="type='json'"):
        Serializer()


def test_bad_options_are_refused_with_the_choices():
    with pytest.raises(SerializationError, match="bz2, lzma, zlib"):
        CompressedJSONSerializer(compressionlib="zstd")
    with pytest.raises(SerializationError, match="no_such_pickler"):
        PickleSerializer(picklelib="no_such_pickler")
    with pytest.raises(SerializationError, match="dumps and loads"):
        PickleSerializer(picklelib="math")
    with pytest.raises(SerializationError, match="Cannot build the 'json' serializer"):
        Serializer.from_document({"type": "json", "indent": 2})
    with pytest.raises(SerializationError, match="'type' name"):
        Serializer.from_document({"serializer": "json"})


def test_json_names_the_type_it_cannot_encode():
    class Opaque:
        pass

    with pytest.raises(SerializationError) as caught:
        JSONSerializer().dumps({"a": [Opaque()]})
    assert "Opaque" in str(caught.value)
    assert "result_serializer='pickle'" in str(caught.value)


def test_json_refuses_a_value_that_contains_itself():
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(SerializationError, match="refers to itself"):
        JSONSerializer().dumps(loop)


@pytest.mark.parametrize("name", list(NAMES))
def test_garbage_bytes_raise_a_serialization_error(name):
    with pytest.raises(SerializationError):
        get_serializer(name).loads(b"\x00 not what was written")


def test_pickle_names_what_it_cannot_pickle():
    import threading

    with pytest.raises(SerializationError, match="lock"):
        PickleSerializer().dumps(threading.Lock())


# -- round trips


def test_cloudpickle_keeps_functions_defined_anywhere():
    serializer = PickleSerializer()
    offset = 3
    add = serializer.loads(serializer.dumps(lambda x: x + offset))
    assert add(1) == 4


def test_json_keeps_the_types_it_documents():
    order = Order(
        id=uuid.uuid4(),
        placed=dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC),
        total=decimal.Decimal("19.99"),
        lines=["a", "b"],
    )
    value = {
        "tuple": (1, "a", (2.5,)),
        "set": {1, 2, 3},
        "frozenset": frozenset({"x"}),
        "bytes": b"\x00\xff",
        "bytearray": bytearray(b"ab"),
        "complex": 1 + 2j,
        "datetime": dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "naive": dt.datetime(2024, 1, 2, 3, 4, 5),
        "date": dt.date(2024, 2, 29),
        "time": dt.time(23, 59, 1, 5),
        "timedelta": dt.timedelta(days=-1, seconds=5, microseconds=7),
        "uuid": uuid.UUID(int=7),
        "decimal": decimal.Decimal("-0.000001"),
        "enum": Color.BLUE,
        "dataclass": Point(x=1, y=(2, 3)),
        "model": order,
        (1, 2): "tuple key",
        3: "int key",
        "__legato__": "a key that looks like a tag",
    }
    serializer = JSONSerializer()
    restored = serializer.loads(serializer.dumps(value))
    assert restored == value
    assert type(restored["tuple"]) is tuple
    assert type(restored["bytearray"]) is bytearray
    assert restored["enum"] is Color.BLUE
    assert type(restored["model"]) is Order


def test_json_turns_other_containers_into_their_plain_kind():
    value = {
        "path": pathlib.PurePosixPath("/a/b"),
        "ordered": collections.OrderedDict(a=1),
        "named": Pair(1, 2),
    }
    restored = JSONSerializer().loads(JSONSerializer().dumps(value))
    assert restored == {"path": pathlib.Path("/a/b"), "ordered": {"a": 1}, "named": (1, 2)}
    assert type(restored["ordered"]) is dict


def test_json_output_is_plain_json_for_plain_values():
    assert JSONSerializer().dumps({"a": [1, 2.5, None, True, "x"]}) == (
        b'{"a":[1,2.5,null,true,"x"]}'
    )


def test_json_names_a_class_it_cannot_import():
    blob = b'{"__legato__":"enum","class":"no_such_module:Thing","value":1}'
    with pytest.raises(SerializationError, match="no_such_module:Thing"):
        JSONSerializer().loads(blob)


_HASHABLE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.uuids(),
    st.decimals(allow_nan=False),
    st.dates(),
    st.times(timezones=st.sampled_from([None, dt.UTC])),
    st.datetimes(timezones=st.sampled_from([None, dt.UTC, dt.timezone(-dt.timedelta(hours=3))])),
    st.timedeltas(),
    st.complex_numbers(allow_nan=False, allow_infinity=False),
)
_VALUES = st.recursive(
    _HASHABLE,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
        st.dictionaries(_HASHABLE, children, max_size=3),
        st.frozensets(_HASHABLE, max_size=3),
        st.sets(_HASHABLE, max_size=3),
    ),
    max_leaves=12,
)


@given(_VALUES)
def test_json_round_trips_nested_values(value):
    serializer = JSONSerializer()
    assert serializer.loads(serializer.dumps(value)) == value


@given(_VALUES, st.sampled_from(list(NAMES)))
def test_every_serializer_round_trips(value, name):
    serializer = get_serializer(name)
    assert serializer.loads(serializer.dumps(value)) == value
