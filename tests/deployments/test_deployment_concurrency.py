"""A deployment's concurrency limit as the claim checks it, and its polls (READY status)."""

from __future__ import annotations

from legato.client.schemas.actions import DeploymentFlowRunCreate, StateCreate
from legato.client.schemas.objects import Deployment
from legato.orchestration import deployment_runs, deployments, flow_runs, states
from legato.orchestration.deployment_concurrency import (
    deployment_slot_refusal,
    mark_deployments_polled,
)
from legato.orchestration.rules import Decision
from legato.states import Running, StateType


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


def claim(store, run):
    pending = StateCreate(type=StateType.PENDING)
    return store.write(lambda c: states.set_run_state(c, "flow_run", run["id"], pending))


def finish(store, run):
    done = StateCreate(type=StateType.COMPLETED)
    store.write(lambda c: states.set_run_state(c, "flow_run", run["id"], done, force=True))


def state_type(store, run):
    return store.read(lambda c: flow_runs.read_flow_run(c, run["id"]))["state_type"]


def test_a_claim_beyond_the_limit_waits_or_cancels_by_strategy(store, deploy):
    enqueue = deploy("enqueue", concurrency_limit=1)
    cancel_new = deploy(
        "cancel", concurrency_limit=1, concurrency_options={"collision_strategy": "CANCEL_NEW"}
    )
    for deployment, refused_type in ((enqueue, "SCHEDULED"), (cancel_new, "CANCELLED")):
        first, second = run_of(store, deployment["id"]), run_of(store, deployment["id"])
        assert claim(store, first).outcome.decision is Decision.ACCEPT

        refused = claim(store, second)

        assert refused.outcome.decision is Decision.REJECT
        assert "concurrency limit is 1" in (refused.outcome.reason or "")
        assert refused.state is not None and refused.state["type"] == refused_type
        assert state_type(store, second) == refused_type
        if refused_type == "SCHEDULED":  # enqueued: claimed once the first run ends
            finish(store, first)
            assert claim(store, second).outcome.decision is Decision.ACCEPT
            assert state_type(store, second) == "PENDING"
