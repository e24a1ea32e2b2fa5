"""Runs of a deployment on demand (``create_flow_run_from_deployment``), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from legato.client.schemas.actions import DeploymentFlowRunCreate, StateCreate
from legato.engine.parameter_schema import parameter_schema
from legato.exceptions import ParameterError
from legato.orchestration import deployment_runs, states
from legato.orchestration.store import Store
from legato.states import Pending, Scheduled


def etl(day: str, limit: int = 10) -> None:
    """The flow function the schema below describes."""


SCHEMA = parameter_schema(etl)


def create(store, deployment_id, **fields):
    body = DeploymentFlowRunCreate(**fields)
    return store.write(
        lambda c: deployment_runs.create_flow_run_from_deployment(c, deployment_id, body)
    )


def test_a_run_takes_the_deployment_values_and_its_own_over_them(store, deploy, make_pool):
    make_pool("pool")
    row = deploy(
        "nightly",
        version="3",
        tags=["etl", "prod"],
        parameters={"day": "mon", "limit": 5},
        parameter_openapi_schema=SCHEMA,
        work_pool_name="pool",
        job_variables={"env": {"A": "1"}},
    )
    before = dt.datetime.now(dt.UTC)

    run = create(
        store,
        row["id"],
        parameters={"limit": 7},
        tags=["adhoc", "prod"],
        name="by-hand",
        job_variables={"env": {"B": "2"}},
        work_queue_name="urgent",
    )

    assert (run["name"], run["flow_name"]) == ("by-hand", "etl")
    assert run["parameters"] == {"day": "mon", "limit": 7}
    assert run["tags"] == ["etl", "prod", "adhoc"]
    assert (run["deployment_id"], run["deployment_version"]) == (row["id"], "3")
    assert (run["work_pool_name"], run["work_queue_name"]) == ("pool", "urgent")
    assert run["job_variables"] == {"env": {"B": "2"}}  # the worker merges, not the store
    assert run["auto_scheduled"] is False
    assert (run["state_type"], run["state_name"]) == ("SCHEDULED", "Scheduled")
    assert before <= run["expected_start_time"] <= dt.datetime.now(dt.UTC)
    history = store.read(lambda c: states.read_run_states(c, "flow_run", run["id"]))
    assert [state["type"] for state in history] == ["SCHEDULED"]


def test_a_run_can_start_in_a_given_state(store, deploy):
    row = deploy("nightly")
    later = dt.datetime(2031, 5, 1, 8, tzinfo=dt.UTC)

    scheduled = create(
        store, row["id"], state=StateCreate.from_state(Scheduled(scheduled_time=later))
    )
    pending = create(store, row["id"], state=StateCreate.from_state(Pending()))

    assert scheduled["expected_start_time"] == later
    assert pending["state_type"] == "PENDING"


def test_the_same_idempotency_key_gives_the_same_run(store, deploy):
    row = deploy("nightly", parameters={"day": "mon"})

    first = create(store, row["id"], idempotency_key="2030-01-01", parameters={"day": "tue"})
    again = create(store, row["id"], idempotency_key="2030-01-01", parameters={"day": "wed"})
    other = create(store, row["id"], idempotency_key="2030-01-02")

    assert again["id"] == first["id"]
    assert again["parameters"] == {"day": "tue"}
    assert other["id"] != first["id"]
    assert first["idempotency_key"] == "2030-01-01"


def test_concurrent_requests_with_one_key_make_one_run(store, deploy, db_url):
    row = deploy("nightly")
    stores = [Store(db_url) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    made: list[str] = []
    errors: list[BaseException] = []

    def request(own: Store) -> None:
        try:
            barrier.wait(timeout=30)
            made.append(create(own, row["id"], idempotency_key="once")["id"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=request, args=(own,)) for own in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for own in stores:
        own.close()

    assert errors == []
    assert len(made) == 4
    assert len(set(made)) == 1


def test_run_parameters_are_checked_in_full(store, deploy):
    row = deploy("nightly", parameter_openapi_schema=SCHEMA)

    with pytest.raises(ParameterError) as refused:
        create(store, row["id"], parameters={"limit": "x"})
    message = str(refused.value)
    assert "a run of deployment 'etl/nightly'" in message
    assert "'day': missing; it is required (string)" in message
    assert "'limit': expected integer, got 'x' (string)" in message
    unchecked = create(store, row["id"], parameters={"limit": "x"}, enforce_parameter_schema=False)
    assert unchecked["parameters"] == {"limit": "x"}


def test_an_unknown_deployment_makes_no_run(store):
    missing = "00000000-0000-4000-8000-000000000000"
    assert create(store, missing) is None
