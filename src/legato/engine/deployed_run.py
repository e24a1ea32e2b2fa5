"""``python -m legato.engine.deployed_run``: run an existing flow run of a deployment.

A worker starts this module in a fresh process with ``LEGATO__FLOW_RUN_ID``
set (and, to save the reads, ``LEGATO__DEPLOYED_RUN``: a JSON snapshot of the
flow run and its deployment). It

1. reads the flow run and its deployment (from the snapshot, else through the client);
2. runs the deployment's pull steps (``legato.deployments.steps``);
3. loads the deployment's entrypoint;
4. runs the flow *as that flow run*: same id, name, tags, parameters
   (validated against the flow's signature: a bad one fails the run with the
   reason), with ``legato.runtime.deployment`` and the run's deployment id and
   scheduled start time set.

Exit code 0 when the run ends Completed, 1 otherwise (2: no flow run id).
A run that cannot be loaded (a pull step or the entrypoint fails) ends
Crashed with the reason. SIGTERM while the run is Cancelling (the worker
cancelling it) ends it Cancelled and runs its ``on_cancellation`` hooks;
any other SIGTERM ends it Crashed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from legato.engine.flow_engine import FlowRunEngine

if TYPE_CHECKING:
    from legato.flows import Flow
    from legato.states import State

__all__ = ["DEPLOYED_RUN_ENV", "DeployedRun", "main", "payload_for", "run_deployed_flow"]

logger = logging.getLogger("legato.flow_runs")

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


# -- the snapshot ------------------------------------------------------------------


def _optional_uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return dt.datetime.fromisoformat(str(value)).timestamp()


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
        expected_start_time=_seconds(flow_run.expected_start_time),
        parent_flow_run_id=getattr(flow_run, "parent_flow_run_id", None),
        parent_task_run_id=flow_run.parent_task_run_id,
        state_type=None if state is None else str(state.type),
        deployment=info,
    )


def payload_for(flow_run: Any, deployment: Any) -> str | None:
    """The ``LEGATO__DEPLOYED_RUN`` snapshot of a run; None when too large for the environment."""
    from dataclasses import asdict

    run = deployed_run_from(flow_run, deployment)
    run.state_type = "PENDING"  # the worker passes it once it has claimed the run
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


# -- the engine --------------------------------------------------------------------


class DeployedFlowRunEngine(FlowRunEngine):
    """A ``FlowRunEngine`` that runs an existing flow run instead of creating one."""

    def __init__(self, flow: Flow[..., Any], run: DeployedRun) -> None:
        super().__init__(flow, dict(run.parameters))
        record = self.flow_run
        record.id = run.id
        record._id_text = None
        record.name = run.name
        record.flow_id = run.flow_id
        record.flow_name = run.flow_name or flow.name
        record.tags = sorted(set(run.tags) | set(record.tags))
        record.run_count = run.run_count
        if run.expected_start_time is not None:
            record._expected_start_time = run.expected_start_time
        record.parent_flow_run_id = run.parent_flow_run_id
        record.parent_task_run_id = run.parent_task_run_id
        record.deployment_id = run.deployment.id if run.deployment is not None else None

    def begin(self) -> None:
        """Announce the run; it exists already (Pending, claimed by the worker)."""
        self.log(
            logging.INFO, "Beginning flow run %r for flow %r", self.flow_run.name, self.flow.name
        )

    def handle_crash(self, exc: BaseException) -> None:
        """Cancelled when the run was being cancelled (the worker's SIGTERM); else Crashed."""
        from legato.states import Cancelled

        if _is_interruption(exc) and _is_cancelling(self.flow_run.id):
            self.set_state(Cancelled(message="Flow run was cancelled."))
            return
        super().handle_crash(exc)


def _is_interruption(exc: BaseException) -> bool:
    import asyncio

    from legato.exceptions import TerminationSignal

    return isinstance(exc, TerminationSignal | asyncio.CancelledError | KeyboardInterrupt)


def _is_cancelling(flow_run_id: uuid.UUID) -> bool:
    from legato.client import get_client

    try:
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(flow_run_id)
    except Exception as exc:
        logger.warning("Could not read the state of flow run %s: %s", flow_run_id, exc)
        return False
    return run.state is not None and str(run.state.type) == "CANCELLING"


def run_deployed_flow(flow: Flow[..., Any], run: DeployedRun) -> State:
    """Run ``flow`` as the existing flow run ``run``; its final state."""
    from legato.exceptions import ParameterError

    engine = DeployedFlowRunEngine(flow, run)
    _set_runtime(run)
    try:
        parameters = flow.binder.bind((), dict(run.parameters))
        if flow.should_validate_parameters:
            parameters = flow.validator.validate(parameters)
        engine.flow_run.parameters = parameters
    except ParameterError as exc:
        engine.fail_before_start(exc)
        return engine.flow_run.state
    engine.begin()
    return _run(engine)


def _run(engine: DeployedFlowRunEngine) -> State:
    from legato.engine.flow_engine import (
        run_flow_async,
        run_flow_async_generator,
        run_flow_generator,
        run_flow_sync,
    )
    from legato.engine.signature import ASYNC, ASYNC_GENERATOR, GENERATOR

    kind = engine.flow._kind
    if kind == ASYNC:
        return _run_async(run_flow_async(engine))
    if kind == ASYNC_GENERATOR:
        return _run_async(_drain_async(run_flow_async_generator(engine), engine))
    if kind == GENERATOR:
        for _ in run_flow_generator(engine):
            pass
        return engine.flow_run.state
    return run_flow_sync(engine)


async def _drain_async(generator: Any, engine: DeployedFlowRunEngine) -> State:
    async for _ in generator:
        pass
    return engine.flow_run.state


def _run_async(coroutine: Any) -> State:
    """Run an async flow; SIGTERM cancels it (so the engine records how it ended)."""
    import asyncio
    import signal

    async def guarded() -> State:
        task = asyncio.current_task()
        if task is not None and hasattr(signal, "SIGTERM"):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        state: State = await coroutine
        return state

    return asyncio.run(guarded())


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
    from legato.deployments.steps import run_steps
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
        output = run_steps(deployment.pull_steps, read_variable=_variable_reader(client))
        if output.get("directory"):
            os.chdir(output["directory"])
        base_dir = Path.cwd()
    elif deployment.path and Path(deployment.path).is_dir():
        base_dir = Path(deployment.path)
    return load_flow_from_entrypoint(deployment.entrypoint, base_dir)


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
    return bool(result.status == SetStateStatus.ACCEPT)


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
    except (TerminationSignal, KeyboardInterrupt):
        return 1
    except BaseException as exc:
        import asyncio

        if isinstance(exc, asyncio.CancelledError):
            return 1
        raise
    return 0 if state.is_completed() else 1


if __name__ == "__main__":
    sys.exit(main())
