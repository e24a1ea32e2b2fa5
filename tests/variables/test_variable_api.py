"""legato.variables.Variable: get, set, unset and their async twins."""

from __future__ import annotations

import asyncio

import pytest

import legato.variables
from legato import flow, task
from legato.exceptions import ObjectAlreadyExists, ParameterError
from legato.variables import Variable


def test_every_listed_name_exists():
    assert all(hasattr(legato.variables, name) for name in legato.variables.__all__)


def test_set_get_unset():
    assert Variable.get("batch_size") is None
    assert Variable.get("batch_size", default=100) == 100

    stored = Variable.set("batch_size", 500, tags=["etl"])

    assert stored == Variable(name="batch_size", value=500, tags=["etl"])
    assert Variable.get("batch_size", default=100) == 500
    assert Variable.unset("batch_size") is True
    assert Variable.unset("batch_size") is False
    assert Variable.get("batch_size") is None


def test_a_stored_none_is_returned_not_the_default():
    Variable.set("optional", None)

    assert Variable.get("optional", default="fallback") is None


def test_set_refuses_an_existing_name_unless_overwrite():
    Variable.set("region", "eu", tags=["prod"])

    with pytest.raises(
        ObjectAlreadyExists, match=r"Variable 'region' exists already.*overwrite=True"
    ):
        Variable.set("region", "us")
    assert Variable.get("region") == "eu"

    replaced = Variable.set("region", {"primary": "us"}, tags=["dr"], overwrite=True)
    assert replaced == Variable(name="region", value={"primary": "us"}, tags=["dr"])
    assert Variable.get("region") == {"primary": "us"}


def test_bad_names_and_values_are_refused():
    with pytest.raises(ParameterError, match="Variable name 'Region' is not valid.*'region'"):
        Variable.set("Region", "eu")
    with pytest.raises(ParameterError, match=r"\(tuple\)"):
        Variable.set("region", ("eu", "us"))
    with pytest.raises(ParameterError, match="limit is 10,000"):
        Variable.set("region", "x" * 10_001)
    assert Variable.get("region") is None


def test_flows_and_tasks_read_variables():
    Variable.set("greeting", "hello")

    @task
    def greet(name):
        return f"{Variable.get('greeting')} {name}"

    @flow
    def pipeline():
        Variable.set("last_run", "pipeline", overwrite=True)
        return greet("ada"), greet.submit("bob").result()

    assert pipeline() == ("hello ada", "hello bob")
    assert Variable.get("last_run") == "pipeline"


def test_async_twins():
    async def main():
        stored = await Variable.aset("limit", [1, 2], tags=["a"])
        value = await Variable.aget("limit")
        missing = await Variable.aget("nothing", default="d")
        removed = await Variable.aunset("limit")
        return stored, value, missing, removed, await Variable.aunset("limit")

    stored, value, missing, removed, removed_again = asyncio.run(main())

    assert stored == Variable(name="limit", value=[1, 2], tags=["a"])
    assert (value, missing, removed, removed_again) == ([1, 2], "d", True, False)


def test_async_twins_inside_an_async_flow():
    @flow
    async def pipeline():
        await Variable.aset("threshold", 0.5)
        return await Variable.aget("threshold")

    assert asyncio.run(pipeline()) == 0.5
