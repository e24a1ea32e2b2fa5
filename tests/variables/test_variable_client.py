"""Variables through the client (``embedded_client``; a contract suite may add HTTP)."""

from __future__ import annotations

import pytest

from legato.exceptions import ObjectAlreadyExists, ObjectNotFound, ParameterError


def test_create_read_update_delete(embedded_client):
    created = embedded_client.create_variable(name="region", value="eu", tags=["prod"])
    assert embedded_client.read_variable_by_name("region") == created

    updated = embedded_client.update_variable("region", value="us")
    assert (updated["value"], updated["tags"]) == ("us", ["prod"])
    assert embedded_client.update_variable("region", tags=[])["tags"] == []

    embedded_client.delete_variable_by_name("region")
    assert embedded_client.read_variable_by_name("region") is None


def test_missing_names(embedded_client):
    assert embedded_client.read_variable_by_name("missing") is None
    with pytest.raises(ObjectNotFound, match="No variable named 'missing'.*legato variable ls"):
        embedded_client.update_variable("missing", value=1)
    with pytest.raises(ObjectNotFound, match="No variable named 'missing'"):
        embedded_client.delete_variable_by_name("missing")


def test_create_refuses_a_taken_name(embedded_client):
    embedded_client.create_variable(name="region", value="eu")

    with pytest.raises(ObjectAlreadyExists, match="overwrite=True"):
        embedded_client.create_variable(name="region", value="us")


def test_set_variable_creates_refuses_or_overwrites(embedded_client):
    created = embedded_client.set_variable("limit", 10, tags=["a"])
    assert (created["value"], created["tags"]) == (10, ["a"])

    with pytest.raises(ObjectAlreadyExists, match="overwrite=True"):
        embedded_client.set_variable("limit", 20)
    assert embedded_client.read_variable_by_name("limit")["value"] == 10

    # overwrite replaces the value and the tags (None: no tags), as Prefect 3 does
    replaced = embedded_client.set_variable("limit", 20, overwrite=True)
    assert (replaced["id"], replaced["value"], replaced["tags"]) == (created["id"], 20, [])
    fresh = embedded_client.set_variable("other", [1], tags=["b"], overwrite=True)
    assert (fresh["value"], fresh["tags"]) == ([1], ["b"])


def test_read_variables_filters_and_pages(embedded_client):
    for name, tags in [("a", ["x"]), ("b", ["x", "y"]), ("c", [])]:
        embedded_client.create_variable(name=name, value=name, tags=tags)

    def read(**filters):
        return [row["name"] for row in embedded_client.read_variables(**filters)]

    assert read() == ["a", "b", "c"]
    assert read(tags=["x"]) == ["a", "b"]
    assert read(tags=["x", "y"]) == ["b"]
    assert read(name_like="c") == ["c"]
    assert read(limit=1, offset=1) == ["b"]


def test_bad_input_raises_parameter_error(embedded_client):
    with pytest.raises(ParameterError, match="Variable name 'Bad Name' is not valid"):
        embedded_client.set_variable("Bad Name", 1)
    with pytest.raises(ParameterError, match="the limit is 10,000"):
        embedded_client.create_variable(name="big", value="x" * 20_000)
