"""``python -m legato.engine.deployed_run``: run an existing flow run of a deployment.

A worker starts this module in a fresh process with ``LEGATO__FLOW_RUN_ID``
set (and, to save the reads, ``LEGATO__DEPLOYED_RUN``: a JSON snapshot of the
flow run and its deployment). It

1. reads the flow run and its deployment (from the snapshot, else through the client);
2. runs the deployment's pull steps (``legato.deployments.steps``);
3. loads the deployment's entrypoint;
4. runs the flow *as that flow run* with
   ``legato.engine.existing_runs.run_stored_flow_run`` (same id, name, tags,
   parameters validated against the flow's signature, earlier attempts'
   completed tasks replayed after a suspension; a run already Cancelling ends
   Cancelled), with ``legato.runtime.deployment`` set.

Exit code 0 when the run ends Completed or Suspended, 1 otherwise (2: no
flow run id).
A run that cannot be loaded (a pull step or the entrypoint fails) ends
Crashed with the reason. SIGTERM while the run is Cancelling (the worker
cancelling it) ends it Cancelled and runs its ``on_cancellation`` hooks;
any other SIGTERM ends it Crashed.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from legato.engine.existing_runs import stored_duration, stored_seconds

if TYPE_CHECKING:
    from legato.flows import Flow
    from legato.states import State

__all__ = ["DEPLOYED_RUN_ENV", "DeployedRun", "main", "payload_for", "run_deployed_flow"]

FLOW_RUN_ID_ENV = "LEGATO__FLOW_RUN_ID"
DEPLOYED_RUN_ENV = "LEGATO__DEPLOYED_RUN"
_PAYLOAD_LIMIT = 64 * 1024  # larger snapshots are read through the client instead


@dataclass
class DeploymentInfo:
    """What the flow process needs of a deployment."""

    id: uuid.UUID
    name: str
    version: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    entrypoint: str | None = None
    path: str | None = None
    pull_steps: list[dict[str, Any]] | None = None


@dataclass
class DeployedRun:
    """The flow run to run, as the worker (or the store) knows it."""

    id: uuid.UUID
    name: str
    flow_id: uuid.UUID
    flow_name: str | None
    parameters: dict[str, Any]
    tags: list[str]
    run_count: int
    expected_start_time: float | None
    parent_flow_run_id: uuid.UUID | None
    parent_task_run_id: uuid.UUID | None
    state_type: str | None
    deployment: DeploymentInfo | None
    flow_version: str | None = None
    created: float | None = None
    start_time: float | None = None
    total_run_time: float = 0.0
    # The client's FlowRun when it was read here (not sent in the snapshot): its
    # state and times are adopted as they are.
    stored: Any = None

    @property
    def deployment_id(self) -> uuid.UUID | None:
        return None if self.deployment is None else self.deployment.id


# -- the snapshot ------------------------------------------------------------------


def _optional_uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


def deployed_run_from(flow_run: Any, deployment: Any) -> DeployedRun:
    """A ``DeployedRun`` from the client's ``FlowRun`` and ``DeploymentResponse`` (or None)."""
    state = getattr(flow_run, "state", None)
    info = None
    if deployment is not None:
        info = DeploymentInfo(
            id=deployment.id,
            name=deployment.name,
            version=getattr(deployment, "version", None),
            parameters=dict(getattr(deployment, "parameters", None) or {}),
            entrypoint=getattr(deployment, "entrypoint", None),
            path=getattr(deployment, "path", None),
            pull_steps=getattr(deployment, "pull_steps", None),
        )
    return DeployedRun(
        id=flow_run.id,
        name=flow_run.name,
        flow_id=flow_run.flow_id,
        flow_name=getattr(flow_run, "flow_name", None),
        parameters=dict(flow_run.parameters or {}),
        tags=list(flow_run.tags or []),
        run_count=flow_run.run_count or 0,
        expected_start_time=stored_seconds(flow_run.expected_start_time),
        parent_flow_run_id=getattr(flow_run, "parent_flow_run_id", None),
        parent_task_run_id=flow_run.parent_task_run_id,
        state_type=None if state is None else str(state.type),
        deployment=info,
        flow_version=getattr(flow_run, "flow_version", None),
        created=stored_seconds(getattr(flow_run, "created", None)),
        start_time=stored_seconds(getattr(flow_run, "start_time", None)),
        total_run_time=stored_duration(getattr(flow_run, "total_run_time", None)) or 0.0,
        stored=flow_run,
    )


def payload_for(flow_run: Any, deployment: Any) -> str | None:
    """The ``LEGATO__DEPLOYED_RUN`` snapshot of a run; None when too large for the environment."""
    from dataclasses import asdict

    run = deployed_run_from(flow_run, deployment)
    run.state_type = "PENDING"  # the worker passes it once it has claimed the run
    run.stored = None
    payload = json.dumps(asdict(run), default=str, separators=(",", ":"))
    return payload if len(payload) <= _PAYLOAD_LIMIT else None


def _from_payload(payload: str) -> DeployedRun:
    data = json.loads(payload)
    info = data.pop("deployment")
    deployment = None
    if info is not None:
        info["id"] = uuid.UUID(info["id"])
        deployment = DeploymentInfo(**info)
    for key in ("id", "flow_id"):
        data[key] = uuid.UUID(data[key])
    for key in ("parent_flow_run_id", "parent_task_run_id"):
        data[key] = _optional_uuid(data[key])
    return DeployedRun(**data, deployment=deployment)


class _LazyClient:
    """A sync client opened on first use: with the worker's snapshot, most runs need none."""

    def __init__(self) -> None:
        self._client: Any = None

    def get(self) -> Any:
        if self._client is None:
            from legato.client import get_client

            self._client = get_client(sync_client=True)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def read_deployed_run(flow_run_id: uuid.UUID, client: _LazyClient) -> DeployedRun:
    """The snapshot the worker passed, else the flow run and deployment read through ``client``."""
    payload = os.environ.get(DEPLOYED_RUN_ENV)
    if payload:
        run = _from_payload(payload)
        if run.id == flow_run_id:
            return run
    return _read_through(flow_run_id, client.get())


def _read_through(flow_run_id: uuid.UUID, client: Any) -> DeployedRun:
    flow_run = client.read_flow_run(flow_run_id)
    deployment = None
    if flow_run.deployment_id is not None:
        deployment = client.read_deployment(flow_run.deployment_id)
    return deployed_run_from(flow_run, deployment)


# -- the run ---------------------------------------------------------------------


def run_deployed_flow(flow: Flow[..., Any], run: DeployedRun) -> State:
    """Run ``flow`` as the existing flow run ``run``; its final (or Suspended) state."""
    from legato.engine.existing_runs import run_stored_flow_run

    _set_runtime(run)
    return run_stored_flow_run(flow, run if run.stored is None else run.stored)


def _set_runtime(run: DeployedRun) -> None:
    from legato.runtime import deployment as runtime_deployment

    info = run.deployment
    runtime_deployment._set_current(
        {
            "flow_run_id": str(run.id),
            "id": None if info is None else str(info.id),
            "name": None if info is None else info.name,
            "parameters": {} if info is None else dict(info.parameters),
            "version": None if info is None else info.version,
        }
    )


# -- the process -------------------------------------------------------------------


def _load_flow(run: DeployedRun, client: _LazyClient) -> Flow[..., Any]:
    """Run the pull steps and load the entrypoint; errors name what failed."""
    from legato._entrypoints import load_flow_from_entrypoint
    from legato.engine.flow_engine import flow_id_for
    from legato.exceptions import EntrypointError

    deployment = run.deployment
    if deployment is None or not deployment.entrypoint:
        raise EntrypointError(
            f"Flow run {run.name!r} has no deployment with an entrypoint to load its flow from. "
            "Workers run flow runs created from deployments (`legato deployment run`).",
            "",
        )
    base_dir = Path.cwd()
    if deployment.pull_steps:
        from legato.deployments.steps import run_steps

        output = run_steps(deployment.pull_steps, read_variable=_variable_reader(client))
        if output.get("directory"):
            os.chdir(output["directory"])
        base_dir = Path.cwd()
    elif deployment.path and Path(deployment.path).is_dir():
        base_dir = Path(deployment.path)
    flow = load_flow_from_entrypoint(deployment.entrypoint, base_dir)
    if flow_id_for(flow.name) != run.flow_id:
        raise EntrypointError(
            f"Entrypoint {deployment.entrypoint!r} holds flow {flow.name!r}, but the run is a run "
            f"of flow {run.flow_name!r}: point the deployment's entrypoint at that flow.",
            deployment.entrypoint,
        )
    return flow


def _variable_reader(client: _LazyClient) -> Any:
    def read_variable(name: str) -> Any:
        variable = client.get().read_variable_by_name(name)
        return None if variable is None else variable.value

    return read_variable


def _crash(client: _LazyClient, run_id: uuid.UUID, message: str) -> None:
    from legato.states import Crashed

    print(message, file=sys.stderr, flush=True)
    try:
        client.get().set_flow_run_state(run_id, Crashed(message=message))
    except Exception as exc:
        print(f"Could not mark flow run {run_id} Crashed: {exc}", file=sys.stderr, flush=True)


def _claim_if_scheduled(client: _LazyClient, run: DeployedRun) -> bool:
    """Started by hand on a Scheduled run: claim it (Pending) first, as a worker would."""
    if run.state_type != "SCHEDULED":
        return True
    from legato.client.schemas.objects import SetStateStatus
    from legato.states import Pending

    result = client.get().set_flow_run_state(run.id, Pending())
    if result.status != SetStateStatus.ACCEPT:
        return False
    run.state_type = "PENDING"
    if run.stored is not None and result.state is not None:
        run.stored = run.stored.model_copy(update={"state": result.state})
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the flow run named by ``LEGATO__FLOW_RUN_ID`` (or the first argument)."""
    from legato.exceptions import LegatoError, TerminationSignal

    arguments = sys.argv[1:] if argv is None else argv
    text = arguments[0] if arguments else os.environ.get(FLOW_RUN_ID_ENV, "")
    try:
        flow_run_id = uuid.UUID(text)
    except ValueError:
        print(
            f"No flow run id: set {FLOW_RUN_ID_ENV} (or pass the id) to the flow run to run; "
            f"got {text!r}.",
            file=sys.stderr,
        )
        return 2
    client = _LazyClient()
    try:
        run = read_deployed_run(flow_run_id, client)
        if not _claim_if_scheduled(client, run):
            print(f"Flow run {flow_run_id} was claimed by someone else.", file=sys.stderr)
            return 1
        try:
            flow = _load_flow(run, client)
        except Exception as exc:
            _crash(client, run.id, f"Flow could not be loaded for flow run {run.name!r}: {exc}")
            return 1
    except LegatoError as exc:
        print(f"Cannot read flow run {flow_run_id}: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    try:
        state = run_deployed_flow(flow, run)
    except LegatoError as exc:  # the run is not waiting to start
        print(f"Cannot run flow run {run.name!r} ({run.id}): {exc}", file=sys.stderr)
        return 1
    except (TerminationSignal, KeyboardInterrupt):
        return 1
    except BaseException as exc:
        import asyncio

        if isinstance(exc, asyncio.CancelledError):
            return 1
        raise
    return 0 if state.is_completed() or state.is_paused() else 1


if __name__ == "__main__":
    sys.exit(main())
