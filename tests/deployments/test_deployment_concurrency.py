"""A deployment's concurrency limit as the claim checks it, and its polls (READY status)."""

from __future__ import annotations

from legato.client.schemas.actions import DeploymentFlowRunCreate, StateCreate
from legato.client.schemas.objects import Deployment
from legato.orchestration import deployment_runs, deployments, states
from legato.orchestration.deployment_concurrency import (
    deployment_slot_refusal,
    mark_deployments_polled,
)
from legato.states import Running


def run_of(store, deployment_id):
    body = DeploymentFlowRunCreate()
    return store.write(
        lambda c: deployment_runs.create_flow_run_from_deployment(c, deployment_id, body)
    )


def refusal(store, run):
    return store.write(lambda c: deployment_slot_refusal(c, run))


def test_runs_beyond_the_limit_are_refused_with_the_strategy(store, deploy):
    limited = deploy("limited", concurrency_limit=1)
    cancelling = deploy(
        "cancel-new", concurrency_limit=1, concurrency_options={"collision_strategy": "CANCEL_NEW"}
    )
    free = deploy("free")
    first, second = run_of(store, limited["id"]), run_of(store, limited["id"])

    assert refusal(store, first) is None  # nothing active yet
    running = StateCreate.from_state(Running())
    store.write(lambda c: states.set_run_state(c, "flow_run", first["id"], running))

    refused = refusal(store, second)
    assert refused is not None
    assert refused.collision_strategy == "ENQUEUE"
    assert refused.reason == "Deployment 'limited' has 1 run(s) active, its concurrency limit is 1."
    assert refusal(store, first) is None  # the running run itself does not count

    other = run_of(store, cancelling["id"])
    store.write(lambda c: states.set_run_state(c, "flow_run", other["id"], running))
    assert refusal(store, run_of(store, cancelling["id"])).collision_strategy == "CANCEL_NEW"
    busy = run_of(store, free["id"])
    store.write(lambda c: states.set_run_state(c, "flow_run", busy["id"], running))
    assert refusal(store, run_of(store, free["id"])) is None
    assert refusal(store, {"id": busy["id"], "deployment_id": None}) is None


def test_a_polled_deployment_is_ready_for_a_minute(store, deploy, make_pool):
    make_pool("pool")
    pooled = deploy("pooled", work_pool_name="pool")
    served = deploy("served")
    other = deploy("other")

    assert store.write(lambda c: mark_deployments_polled(c, work_pool_name="pool")) == 1
    assert store.write(lambda c: mark_deployments_polled(c, deployment_ids=[served["id"]])) == 1
    assert store.write(lambda c: mark_deployments_polled(c)) == 0

    def status(row):
        read = store.read(lambda c: deployments.read_deployment(c, row["id"]))
        return Deployment.from_row(read).status

    assert [status(row) for row in (pooled, served, other)] == ["READY", "READY", "NOT_READY"]
    store.write(lambda c: mark_deployments_polled(c, deployment_ids=[served["id"]], at=0.0))
    assert status(served) == "NOT_READY"
