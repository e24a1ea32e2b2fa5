"""Artifacts through the client (``embedded_client``; a contract suite may add HTTP)."""

from __future__ import annotations

import uuid

import pytest

from legato.exceptions import ObjectNotFound, ParameterError


def test_create_read_and_latest(embedded_client):
    first = embedded_client.create_artifact(key="report", type="markdown", data="v1")
    second = embedded_client.create_artifact(
        key="report", type="markdown", data="v2", description="d", metadata={"a": "b"}
    )

    assert embedded_client.read_artifact(first["id"]) == first
    assert embedded_client.read_latest_artifact("report") == second
    assert second["metadata_"] == {"a": "b"}
    assert (second["flow_run_id"], second["task_run_id"]) == (None, None)


def test_unknown_ids_and_keys_raise_object_not_found(embedded_client):
    unknown = str(uuid.uuid4())

    with pytest.raises(ObjectNotFound, match=f"No artifact with id '{unknown}'"):
        embedded_client.read_artifact(unknown)
    with pytest.raises(ObjectNotFound, match="legato artifact ls"):
        embedded_client.update_artifact(unknown, data=1)
    with pytest.raises(ObjectNotFound):
        embedded_client.delete_artifact(unknown)
    with pytest.raises(ObjectNotFound, match="No artifact with key 'nothing'"):
        embedded_client.read_latest_artifact("nothing")


def test_update_and_delete(embedded_client):
    row = embedded_client.create_artifact(type="progress", data=0.0, description="start")

    updated = embedded_client.update_artifact(row["id"], data=75.0)
    assert (updated["data"], updated["description"]) == (75.0, "start")
    assert embedded_client.update_artifact(row["id"], description=None)["description"] is None

    embedded_client.delete_artifact(row["id"])
    assert embedded_client.count_artifacts() == 0


def test_read_and_count_pass_every_filter(embedded_client):
    flow_run_id, task_run_id = str(uuid.uuid4()), str(uuid.uuid4())
    old = embedded_client.create_artifact(key="k", type="markdown", data="old")
    new = embedded_client.create_artifact(
        key="k", type="table", data=[], flow_run_id=flow_run_id, task_run_id=task_run_id
    )
    loose = embedded_client.create_artifact(type="link", data="[x](x)")

    def read(**filters):
        return [row["id"] for row in embedded_client.read_artifacts(**filters)]

    assert read() == [loose["id"], new["id"], old["id"]]
    assert read(latest_only=True) == [new["id"]]
    assert read(key="k", sort="created_asc") == [old["id"], new["id"]]
    assert read(type="link") == [loose["id"]]
    assert read(flow_run_id=flow_run_id) == read(task_run_id=task_run_id) == [new["id"]]
    assert read(limit=1, offset=1) == [new["id"]]
    assert embedded_client.count_artifacts() == 3
    assert embedded_client.count_artifacts(key="k", type="markdown") == 1
    assert embedded_client.count_artifacts(latest_only=True) == 1
    assert embedded_client.count_artifacts(flow_run_id=flow_run_id, task_run_id=task_run_id) == 1


def test_bad_input_raises_parameter_error(embedded_client):
    with pytest.raises(ParameterError, match="Artifact key 'My Key' is not valid"):
        embedded_client.create_artifact(key="My Key", type="markdown", data="x")
    with pytest.raises(ParameterError, match="Unknown artifact sort"):
        embedded_client.read_artifacts(sort="sideways")
