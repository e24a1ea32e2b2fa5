"""legato.artifacts: the create_* functions, Artifact, inside and outside of runs."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

import legato.artifacts
from legato import flow, task
from legato.artifacts import (
    Artifact,
    acreate_image_artifact,
    acreate_link_artifact,
    acreate_markdown_artifact,
    acreate_progress_artifact,
    acreate_table_artifact,
    aupdate_progress_artifact,
    create_image_artifact,
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from legato.exceptions import ObjectNotFound, ParameterError
from legato.runtime import flow_run as current_flow_run
from legato.runtime import task_run as current_task_run


def test_every_listed_name_exists():
    assert all(hasattr(legato.artifacts, name) for name in legato.artifacts.__all__)


def test_outside_a_run_an_artifact_has_no_run(embedded_client):
    artifact_id = create_markdown_artifact("# Report", key="report", description="weekly")

    assert isinstance(artifact_id, uuid.UUID)
    row = embedded_client.read_artifact(str(artifact_id))
    assert (row["type"], row["key"], row["data"], row["description"]) == (
        "markdown",
        "report",
        "# Report",
        "weekly",
    )
    assert (row["flow_run_id"], row["task_run_id"]) == (None, None)


def test_inside_a_flow_and_its_tasks_artifacts_link_to_the_runs(embedded_client):
    @task
    def load(number):
        create_table_artifact([{"n": number}], key="loaded")
        return current_task_run.id

    @flow
    def pipeline():
        create_markdown_artifact("flow level", key="flow-note")
        direct = load(1)
        submitted = load.submit(2).result()
        return current_flow_run.id, [direct, submitted]

    flow_run_id, task_run_ids = pipeline()

    # Visible as soon as the flow returns, linked to the runs the store recorded.
    assert embedded_client.read_flow_run(flow_run_id)["id"] == flow_run_id
    recorded_tasks = {row["id"] for row in embedded_client.read_task_runs(flow_run_id=flow_run_id)}
    assert set(task_run_ids) == recorded_tasks
    note = embedded_client.read_latest_artifact("flow-note")
    assert (note["flow_run_id"], note["task_run_id"]) == (flow_run_id, None)
    loaded = embedded_client.read_artifacts(key="loaded", sort="created_asc")
    assert [row["data"] for row in loaded] == [[{"n": 1}], [{"n": 2}]]
    assert [row["task_run_id"] for row in loaded] == task_run_ids
    assert {row["flow_run_id"] for row in loaded} == {flow_run_id}
    assert embedded_client.count_artifacts(flow_run_id=flow_run_id) == 3


def test_async_twins_inside_an_async_flow_link_to_the_runs(embedded_client):
    @task
    async def report():
        return (
            await acreate_markdown_artifact("# async", key="async-md"),
            current_task_run.id,
        )

    @flow
    async def pipeline():
        ids = [
            await acreate_link_artifact("https://example.com", "Example"),
            await acreate_image_artifact("https://example.com/a.png"),
            await acreate_table_artifact({"a": [1, 2]}),
            await acreate_progress_artifact(10),
        ]
        ids.append(await aupdate_progress_artifact(ids[-1], 90, description="almost"))
        task_artifact, task_run_id = await report()
        return current_flow_run.id, ids, task_artifact, task_run_id

    flow_run_id, ids, task_artifact, task_run_id = asyncio.run(pipeline())

    rows = [embedded_client.read_artifact(str(artifact_id)) for artifact_id in ids[:4]]
    assert [row["type"] for row in rows] == ["link", "image", "table", "progress"]
    assert [row["data"] for row in rows] == [
        "[Example](https://example.com)",
        "https://example.com/a.png",
        {"a": [1, 2]},
        90.0,
    ]
    assert rows[3]["description"] == "almost"
    assert ids[4] == ids[3]
    assert {row["flow_run_id"] for row in rows} == {flow_run_id}
    task_row = embedded_client.read_artifact(str(task_artifact))
    assert (task_row["flow_run_id"], task_row["task_run_id"]) == (flow_run_id, task_run_id)


def test_link_without_text_shows_the_link(embedded_client):
    artifact_id = create_link_artifact("https://example.com/x", key="docs")

    assert embedded_client.read_artifact(str(artifact_id))["data"] == (
        "[https://example.com/x](https://example.com/x)"
    )


@pytest.mark.parametrize(
    ("table", "stored"),
    [
        ([{"a": 1, "b": "x"}, {"a": 2}], [{"a": 1, "b": "x"}, {"a": 2}]),
        ({"a": [1, 2], "b": ["x", None]}, {"a": [1, 2], "b": ["x", None]}),
        ([[1, "x"], (2, "y")], [[1, "x"], [2, "y"]]),
        ([], []),
        ({}, {}),
        ([{"v": math.nan, "w": math.inf}], [{"v": None, "w": None}]),
        ({"v": [-math.inf, 1.5]}, {"v": [None, 1.5]}),
        (
            [{"day": date(2026, 1, 2), "at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC)}],
            [{"day": "2026-01-02", "at": "2026-01-02T03:04:00+00:00"}],
        ),
        ([{1: uuid.UUID(int=1)}], [{"1": "00000000-0000-0000-0000-000000000001"}]),
    ],
)
def test_tables_are_stored_json_ready(embedded_client, table, stored):
    artifact_id = create_table_artifact(table, key="table")

    assert embedded_client.read_artifact(str(artifact_id))["data"] == stored


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("a,b\n1,2", "list of dicts, a dict of lists or a list of lists; got str"),
        (42, "got int"),
        ([{"a": 1}, [1]], "Row 1 of the table is list .*row 0 makes this one dicts"),
        ([[1], "ab"], "Row 1 of the table is str .*row 0 makes this one lists"),
        ([1, 2], r"Row 0 of the table is int 1; a table is a list of dicts or a list of lists\."),
        ([[1, 2], [3]], r"rows of a list-of-lists table have different lengths \[1, 2\]"),
        ({"a": [1, 2], "b": [3]}, r"columns of a dict-of-lists table have different lengths"),
        ({"a": "text"}, "Column 'a' of a dict-of-lists table is str, not a list"),
    ],
)
def test_badly_shaped_tables_are_refused(embedded_client, table, message):
    with pytest.raises(ParameterError, match=message):
        create_table_artifact(table)
    assert embedded_client.count_artifacts() == 0


def test_progress_is_created_and_updated_in_place(embedded_client):
    artifact_id = create_progress_artifact(0, key="load-progress", description="loading")

    assert update_progress_artifact(artifact_id, 55.5) == artifact_id
    row = embedded_client.read_artifact(str(artifact_id))
    assert (row["data"], row["description"]) == (55.5, "loading")
    update_progress_artifact(str(artifact_id), 100, description="done")
    row = embedded_client.read_artifact(str(artifact_id))
    assert (row["data"], row["description"]) == (100.0, "done")
    assert embedded_client.count_artifacts(key="load-progress") == 1


@pytest.mark.parametrize("progress", [-0.1, 100.5, math.nan, True, "50", None])
def test_progress_outside_0_to_100_is_refused(embedded_client, progress):
    with pytest.raises(ParameterError, match="percentage from 0 to 100"):
        create_progress_artifact(progress)
    assert embedded_client.count_artifacts() == 0


def test_update_progress_checks_the_artifact(embedded_client):
    markdown_id = create_markdown_artifact("# not progress")
    progress_id = create_progress_artifact(1)

    with pytest.raises(ParameterError, match="is a 'markdown' artifact, not a progress one"):
        update_progress_artifact(markdown_id, 50)
    with pytest.raises(ObjectNotFound, match="No artifact with id"):
        update_progress_artifact(uuid.uuid4(), 50)
    with pytest.raises(ParameterError, match="percentage"):
        update_progress_artifact(progress_id, 101)
    assert embedded_client.read_artifact(str(progress_id))["data"] == 1.0


def test_bad_keys_and_text_are_refused_with_the_fix(embedded_client):
    with pytest.raises(ParameterError, match=r"Artifact key 'Weekly_Report'.*'weekly-report'"):
        create_markdown_artifact("x", key="Weekly_Report")
    with pytest.raises(ParameterError, match="markdown must be a string, got int"):
        create_markdown_artifact(42)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="image_url must be a string"):
        create_image_artifact(None)  # type: ignore[arg-type]
    assert embedded_client.count_artifacts() == 0


def test_artifact_get_reads_the_latest_version():
    assert Artifact.get("summary") is None
    create_markdown_artifact("v1", key="summary")
    second = create_markdown_artifact("v2", key="summary", description="second")

    latest = Artifact.get("summary")

    assert latest is not None
    assert (latest.id, latest.key, latest.type, latest.data, latest.description) == (
        second,
        "summary",
        "markdown",
        "v2",
        "second",
    )
    assert latest.created is not None and latest.created.utcoffset() == timedelta(0)
    assert asyncio.run(Artifact.aget("summary")) == latest


def test_artifact_create_links_to_the_run():
    @flow
    def pipeline():
        made = Artifact(type="result", key="answer", data={"value": 42}).create()
        return made, current_flow_run.id

    made, flow_run_id = pipeline()

    assert made.id is not None and str(made.flow_run_id) == flow_run_id
    assert Artifact.get("answer") == made
    made_async = asyncio.run(Artifact(type="markdown", data="x").acreate())
    assert made_async.flow_run_id is None and made_async.key is None


def test_importing_the_modules_loads_neither_sqlalchemy_nor_the_store():
    code = (
        "import sys, legato.artifacts, legato.variables; "
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'legato.orchestration') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
