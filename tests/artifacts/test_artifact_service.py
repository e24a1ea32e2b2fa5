"""legato.orchestration.artifacts on a real SQLite file: versions, filters, sorts, pages."""

from __future__ import annotations

import ast
import time
import uuid
from datetime import UTC

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from legato.exceptions import ParameterError
from legato.orchestration import artifacts as service
from legato.storage.schema import artifacts as artifacts_table


def create(connection, key=None, type="markdown", data="# hi", **fields):
    values = {"description": None, "flow_run_id": None, "task_run_id": None, **fields}
    return service.create_artifact(connection, key=key, type=type, data=data, **values)


def ids(rows):
    return [row["id"] for row in rows]


def test_create_returns_the_stored_row(connection):
    flow_run_id, task_run_id = str(uuid.uuid4()), uuid.uuid4()
    before = time.time()

    row = service.create_artifact(
        connection,
        key="sales-report",
        type="table",
        data=[{"region": "north", "total": 1.5}],
        description="Q3",
        flow_run_id=flow_run_id,
        task_run_id=task_run_id,
        metadata={"source": "crm"},
    )

    assert uuid.UUID(row["id"])
    assert row["key"] == "sales-report"
    assert row["type"] == "table"
    assert row["data"] == [{"region": "north", "total": 1.5}]
    assert row["description"] == "Q3"
    assert row["metadata_"] == {"source": "crm"}
    assert row["flow_run_id"] == flow_run_id
    assert row["task_run_id"] == str(task_run_id)
    assert row["created"].tzinfo is UTC
    assert row["created"] == row["updated"]
    assert before - 0.001 <= row["created"].timestamp() <= time.time() + 0.001
    assert service.read_artifact(connection, row["id"]) == row


def test_each_create_with_a_key_adds_a_version_and_the_newest_is_latest(connection):
    first = create(connection, key="report", data="v1")
    second = create(connection, key="report", data="v2")
    third = create(connection, key="report", data="v3")

    assert service.read_latest_artifact(connection, "report") == third
    assert ids(service.filter_artifacts(connection, key="report")) == [
        third["id"],
        second["id"],
        first["id"],
    ]
    assert service.count_artifacts(connection, key="report") == 3
    assert service.read_latest_artifact(connection, "other") is None


def test_latest_only_keeps_the_newest_version_of_each_key(connection):
    create(connection, key="a", type="markdown")
    newest_a = create(connection, key="a", type="table", data=[[1]])
    newest_b = create(connection, key="b")
    create(connection, key=None)  # no key: never a "latest"

    latest = service.filter_artifacts(connection, latest_only=True)

    assert ids(latest) == [newest_b["id"], newest_a["id"]]
    assert service.count_artifacts(connection, latest_only=True) == 2
    # Other filters apply to the latest versions: key "a" is a table now.
    assert ids(service.filter_artifacts(connection, latest_only=True, type="markdown")) == [
        newest_b["id"]
    ]
    assert service.count_artifacts(connection, latest_only=True, type="table") == 1


def test_versions_created_at_the_same_instant_are_ordered_by_id(connection):
    created = time.time()
    rows = [
        {"id": str(uuid.UUID(int=number)), "key": "tie", "type": "markdown", "data": str(number)}
        for number in (3, 1, 2)
    ]
    for row in rows:
        connection.execute(
            sa.insert(artifacts_table).values(**row, created=created, updated=created)
        )

    latest = service.read_latest_artifact(connection, "tie")

    assert latest is not None and latest["data"] == "3"
    assert [row["data"] for row in service.filter_artifacts(connection, latest_only=True)] == ["3"]
    assert [row["data"] for row in service.filter_artifacts(connection, key="tie")] == [
        "3",
        "2",
        "1",
    ]


def test_filters_by_run_and_type(connection):
    flow_run_id, task_run_id = str(uuid.uuid4()), str(uuid.uuid4())
    in_flow = create(connection, flow_run_id=flow_run_id)
    in_task = create(connection, type="link", flow_run_id=flow_run_id, task_run_id=task_run_id)
    create(connection)

    assert ids(service.filter_artifacts(connection, flow_run_id=flow_run_id)) == [
        in_task["id"],
        in_flow["id"],
    ]
    assert ids(service.filter_artifacts(connection, task_run_id=uuid.UUID(task_run_id))) == [
        in_task["id"]
    ]
    assert ids(service.filter_artifacts(connection, type="link")) == [in_task["id"]]
    assert service.count_artifacts(connection, flow_run_id=flow_run_id, type="markdown") == 1
    assert service.filter_artifacts(connection, flow_run_id="not-a-uuid") == []
    assert service.count_artifacts(connection, task_run_id="not-a-uuid") == 0


def test_sorts(connection):
    older = create(connection, key="b")
    newer = create(connection, key="a")
    service.update_artifact(connection, older["id"], description="touched")

    def order(sort):
        return ids(service.filter_artifacts(connection, sort=sort))

    assert order("created_desc") == [newer["id"], older["id"]]
    assert order("created_asc") == [older["id"], newer["id"]]
    assert order("updated_desc") == [older["id"], newer["id"]]
    assert order("key_asc") == [newer["id"], older["id"]]
    assert order("key_desc") == [older["id"], newer["id"]]
    assert set(service.ARTIFACT_SORTS) == {
        "created_desc",
        "created_asc",
        "updated_desc",
        "key_asc",
        "key_desc",
    }


def test_unknown_sort_names_the_choices(connection):
    with pytest.raises(ParameterError, match="created_desc, created_asc"):
        service.filter_artifacts(connection, sort="newest")


def test_pages_cover_every_row_once(connection):
    created = [create(connection, key="paged", data=str(number)) for number in range(7)]

    pages = [service.filter_artifacts(connection, limit=3, offset=offset) for offset in (0, 3, 6)]

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [row["id"] for page in pages for row in page] == ids(reversed(created))
    assert service.filter_artifacts(connection, limit=3, offset=9) == []
    with pytest.raises(ValueError, match="limit and offset must be >= 0"):
        service.filter_artifacts(connection, limit=-1)


def test_update_changes_data_and_description_in_place(connection):
    row = create(connection, type="progress", data=0.0, description="starting")

    halfway = service.update_artifact(connection, row["id"], data=50.0)
    assert halfway is not None
    assert (halfway["data"], halfway["description"]) == (50.0, "starting")

    done = service.update_artifact(connection, uuid.UUID(row["id"]), description="done")
    assert done is not None
    assert (done["data"], done["description"]) == (50.0, "done")
    assert done["created"] == row["created"]
    assert done["updated"] > row["updated"]

    cleared = service.update_artifact(connection, row["id"], data=None, description=None)
    assert cleared is not None
    assert (cleared["data"], cleared["description"]) == (None, None)
    assert service.count_artifacts(connection) == 1


def test_update_read_and_delete_of_unknown_ids(connection):
    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        assert service.update_artifact(connection, unknown, data=1) is None
        assert service.read_artifact(connection, unknown) is None
        assert service.delete_artifact(connection, unknown) is False


def test_delete_removes_one_version(connection):
    first = create(connection, key="report", data="v1")
    second = create(connection, key="report", data="v2")

    assert service.delete_artifact(connection, second["id"]) is True
    assert service.delete_artifact(connection, second["id"]) is False
    assert service.read_latest_artifact(connection, "report") == first


def test_bad_input_is_refused_before_anything_is_written(connection):
    with pytest.raises(ParameterError, match="lowercase letters, digits and dashes"):
        create(connection, key="Sales Report")
    with pytest.raises(ParameterError, match="non-empty string"):
        create(connection, type="")
    with pytest.raises(ParameterError, match="map strings to strings"):
        create(connection, metadata={"rows": 3})
    with pytest.raises(ParameterError, match="flow_run_id 'run-1' is not a UUID"):
        create(connection, flow_run_id="run-1")
    assert service.count_artifacts(connection) == 0


@given(st.from_regex(r"[a-z0-9-]+", fullmatch=True))
def test_keys_of_lowercase_letters_digits_and_dashes_are_valid(key):
    assert service.validate_artifact_key(key) == key


@given(st.text(min_size=1).filter(lambda text: not service.ARTIFACT_KEY_PATTERN.fullmatch(text)))
def test_other_keys_are_refused_with_a_valid_suggestion(key):
    with pytest.raises(ParameterError) as caught:
        service.validate_artifact_key(key)
    suggestion = str(caught.value).rsplit("Use e.g. ", 1)[1].rstrip(".")
    assert service.ARTIFACT_KEY_PATTERN.fullmatch(ast.literal_eval(suggestion))


def test_empty_and_non_text_keys_are_refused():
    for key in ("", 42, None):
        with pytest.raises(ParameterError, match="is not valid"):
            service.validate_artifact_key(key)  # type: ignore[arg-type]
