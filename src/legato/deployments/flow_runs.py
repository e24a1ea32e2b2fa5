"""Ad-hoc runs of a deployment: ``run_deployment`` and ``arun_deployment``.

``run_deployment("flow-name/deployment-name", parameters=...)`` creates a
flow run of the deployment (Scheduled for now, or for ``scheduled_time``)
through the current client; a worker or a ``serve`` process polling that
deployment picks it up. Then it waits:

- ``timeout=None`` (the default): until the run is final;
- ``timeout=0``: not at all (the run as it was created);
- ``timeout=N``: up to N seconds, and returns the run as it then is.

Waiting polls the run. ``poll_interval=None`` (legato's default; Prefect
polls every 5 s) starts at 0.1 s and doubles up to 2 s, so a quick run is
seen finished quickly and a long one costs one read every 2 s; a number
polls at that fixed period.

Called inside a flow run (or a task run) with ``as_subflow=True``, the new
run is linked to the caller as a subflow run: a task run standing for it is
added to the caller's run (as Prefect does) and becomes the new run's
``parent_task_run_id``. That task run mirrors the new run's final state
when ``run_deployment`` sees it; with ``timeout=0`` it stays Pending.

``run_deployment`` works in both worlds, like Prefect 3's: called where a
coroutine is expected (inside an async flow or task, or in a thread running
an event loop) it returns ``arun_deployment(...)``'s coroutine, to await;
elsewhere it runs synchronously and returns the ``FlowRun``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from legato.exceptions import ObjectNotFound, ParameterError

if TYPE_CHECKING:
    from legato.client.schemas.objects import FlowRun
    from legato.engine.runs import TaskRun

__all__ = ["arun_deployment", "resolve_deployment_name", "run_deployment"]

_FIRST_POLL_SECONDS = 0.1
_MAX_POLL_SECONDS = 2.0
_LIST_HINT = "List deployments with `legato deployment ls`."


def run_deployment(
    name: str | uuid.UUID,
    client: Any = None,
    parameters: dict[str, Any] | None = None,
    scheduled_time: datetime | None = None,
    flow_run_name: str | None = None,
    timeout: float | None = None,
    poll_interval: float | None = None,
    tags: Iterable[str] | None = None,
    idempotency_key: str | None = None,
    work_queue_name: str | None = None,
    as_subflow: bool = True,
    job_variables: dict[str, Any] | None = None,
) -> Any:
    """Create a run of deployment ``name`` ('flow/deployment' or its id) and wait for it.

    Returns the ``FlowRun`` (or, in async code, a coroutine giving it): see
    the module doc for ``timeout``, ``poll_interval`` and subflow linking.
    ``parameters`` are merged over the deployment's defaults; ``tags`` are
    added to the deployment's; ``job_variables`` are merged over the deployment's by
    the worker. The same ``idempotency_key`` twice gives the same run.
    """
    options = _Options(
        name, parameters, scheduled_time, flow_run_name, timeout, poll_interval, tags,
        idempotency_key, work_queue_name, as_subflow, job_variables,
    )  # fmt: skip
    if _wants_coroutine():
        return _arun(options, client)
    if client is not None:
        return _run_sync(options, client)
    from legato.client import get_client

    with get_client(sync_client=True) as own_client:
        return _run_sync(options, own_client)


async def arun_deployment(
    name: str | uuid.UUID,
    client: Any = None,
    parameters: dict[str, Any] | None = None,
    scheduled_time: datetime | None = None,
    flow_run_name: str | None = None,
    timeout: float | None = None,
    poll_interval: float | None = None,
    tags: Iterable[str] | None = None,
    idempotency_key: str | None = None,
    work_queue_name: str | None = None,
    as_subflow: bool = True,
    job_variables: dict[str, Any] | None = None,
) -> FlowRun:
    """The async twin of ``run_deployment`` (an async client: ``get_client()``)."""
    options = _Options(
        name, parameters, scheduled_time, flow_run_name, timeout, poll_interval, tags,
        idempotency_key, work_queue_name, as_subflow, job_variables,
    )  # fmt: skip
    return await _arun(options, client)


class _Options:
    """``run_deployment``'s arguments, checked once."""

    def __init__(
        self,
        name: str | uuid.UUID,
        parameters: dict[str, Any] | None,
        scheduled_time: datetime | None,
        flow_run_name: str | None,
        timeout: float | None,
        poll_interval: float | None,
        tags: Iterable[str] | None,
        idempotency_key: str | None,
        work_queue_name: str | None,
        as_subflow: bool,
        job_variables: dict[str, Any] | None,
    ) -> None:
        self.name = name
        self.parameters = _checked_mapping(parameters, "parameters")
        self.scheduled_time = _checked_time(scheduled_time)
        self.flow_run_name = flow_run_name
        self.timeout = _checked_seconds(timeout, "timeout")
        self.poll_interval = _checked_seconds(poll_interval, "poll_interval")
        if self.poll_interval == 0:
            raise ParameterError("poll_interval=0 would poll without pause; give seconds > 0.")
        self.tags = None if tags is None else [str(tag) for tag in tags]
        self.idempotency_key = idempotency_key
        self.work_queue_name = work_queue_name
        self.as_subflow = as_subflow
        self.job_variables = _checked_mapping(job_variables, "job_variables")

    def create_arguments(self, parent_task_run_id: uuid.UUID | None) -> dict[str, Any]:
        """Keyword arguments of ``create_flow_run_from_deployment`` (besides the id)."""
        from legato.states import Scheduled

        state = Scheduled(scheduled_time=self.scheduled_time) if self.scheduled_time else None
        return {
            "parameters": self.parameters,
            "state": state,
            "name": self.flow_run_name,
            "tags": self.tags,
            "idempotency_key": self.idempotency_key,
            "parent_task_run_id": parent_task_run_id,
            "work_queue_name": self.work_queue_name,
            "job_variables": self.job_variables,
        }


def _checked_mapping(value: Any, name: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ParameterError(f"{name}={value!r} must be a dict of names to values.")
    return dict(value)


def _checked_seconds(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ParameterError(f"{name}={value!r} must be a number of seconds >= 0 (or None).")
    return float(value)


def _checked_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ParameterError(f"scheduled_time={value!r} must be a datetime.")
    if value.tzinfo is None:
        raise ParameterError(
            f"scheduled_time={value.isoformat()!r} has no time zone; give an aware datetime "
            "(e.g. datetime.now(timezone.utc) + timedelta(hours=1))."
        )
    return value


def _wants_coroutine() -> bool:
    """True where the caller awaits: inside an async flow/task, or a running event loop."""
    from legato.engine.context import flow_run_context, task_run_context

    task_context = task_run_context.get()
    if task_context is not None:
        return bool(task_context.task.isasync)
    flow_context = flow_run_context.get()
    if flow_context is not None and flow_context.flow is not None:
        return bool(flow_context.flow.isasync)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


# -- finding the deployment ----------------------------------------------------------


def resolve_deployment_name(name: str | uuid.UUID) -> tuple[uuid.UUID | None, str | None]:
    """``(id, None)`` for an id, ``(None, 'flow/deployment')`` for a name; else ParameterError."""
    if isinstance(name, uuid.UUID):
        return name, None
    text = str(name).strip()
    try:
        return uuid.UUID(text), None
    except ValueError:
        pass
    flow_name, slash, deployment_name = text.partition("/")
    if not slash or not flow_name or not deployment_name:
        raise ParameterError(
            f"Deployment {text!r} is neither an id nor 'flow-name/deployment-name'. "
            f"Give both names with a slash (e.g. 'etl/nightly'). {_LIST_HINT}"
        )
    return None, text


def _not_found(name: str | uuid.UUID) -> ObjectNotFound:
    return ObjectNotFound(f"Deployment {str(name)!r} not found. {_LIST_HINT}")


def read_deployment_sync(client: Any, name: str | uuid.UUID) -> Any:
    """The deployment ``name`` names ('flow/deployment' or id), or ObjectNotFound saying how to list them."""
    deployment_id, full_name = resolve_deployment_name(name)
    try:
        if deployment_id is not None:
            return client.read_deployment(deployment_id)
        return client.read_deployment_by_name(full_name)
    except ObjectNotFound as exc:
        raise _not_found(name) from exc


async def read_deployment_async(client: Any, name: str | uuid.UUID) -> Any:
    """``read_deployment_sync`` on an async client."""
    deployment_id, full_name = resolve_deployment_name(name)
    try:
        if deployment_id is not None:
            return await client.read_deployment(deployment_id)
        return await client.read_deployment_by_name(full_name)
    except ObjectNotFound as exc:
        raise _not_found(name) from exc


# -- the sync and async paths --------------------------------------------------------


def _run_sync(options: _Options, client: Any) -> FlowRun:
    deployment = read_deployment_sync(client, options.name)
    link = _link_task_run(deployment, options.as_subflow)
    run: FlowRun = client.create_flow_run_from_deployment(
        deployment.id, **options.create_arguments(link.id if link else None)
    )
    if options.timeout == 0:
        return run
    deadline = _deadline(options.timeout)
    for delay in _poll_delays(options.poll_interval):
        if _is_final(run) or _remaining(deadline) <= 0:
            break
        time.sleep(min(delay, _remaining(deadline)))
        run = client.read_flow_run(run.id)
    _mirror_final_state(link, run)
    return run


async def _arun(options: _Options, client: Any) -> FlowRun:
    if client is None:
        from legato.client import get_client

        async with get_client() as own_client:
            return await _arun(options, own_client)
    deployment = await read_deployment_async(client, options.name)
    link = _link_task_run(deployment, options.as_subflow)
    run: FlowRun = await client.create_flow_run_from_deployment(
        deployment.id, **options.create_arguments(link.id if link else None)
    )
    if options.timeout == 0:
        return run
    deadline = _deadline(options.timeout)
    for delay in _poll_delays(options.poll_interval):
        if _is_final(run) or _remaining(deadline) <= 0:
            break
        await asyncio.sleep(min(delay, _remaining(deadline)))
        run = await client.read_flow_run(run.id)
    _mirror_final_state(link, run)
    return run


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def _remaining(deadline: float | None) -> float:
    return float("inf") if deadline is None else deadline - time.monotonic()


def _poll_delays(poll_interval: float | None) -> Iterator[float]:
    """The pauses between reads: fixed, or 0.1 s doubling up to 2 s."""
    delay = poll_interval if poll_interval is not None else _FIRST_POLL_SECONDS
    while True:
        yield delay
        if poll_interval is None:
            delay = min(delay * 2, _MAX_POLL_SECONDS)


def _is_final(run: FlowRun) -> bool:
    return run.state is not None and run.state.is_final()


# -- the subflow link ----------------------------------------------------------------


def _link_task_run(deployment: Any, as_subflow: bool) -> TaskRun | None:
    """In a flow (or task) run: a task run in it standing for the new run, written now."""
    if not as_subflow:
        return None
    from legato.engine.context import flow_run_context
    from legato.engine.runs import TaskRun
    from legato.states import Pending

    context = flow_run_context.get()
    if context is None:
        return None
    flow_name = _deployment_flow_name(deployment)
    task_key = f"deployment-{deployment.id}"
    dynamic_key = context.next_dynamic_key(task_key)
    link = TaskRun(
        name=f"{flow_name}/{deployment.name}-{dynamic_key}",
        task_key=task_key,
        task_name=f"{flow_name}/{deployment.name}",
        dynamic_key=str(dynamic_key),
        state=Pending(),
        tags=[],
        parameters={},
        flow_run_id=context.flow_run.id,
        flow_run_name=context.flow_run.name,
        task_version=getattr(deployment, "version", None),
    )
    context.recorder.task_state(link)
    # The new run refers to the link: the link (and the caller's run) must be stored first.
    context.recorder.flush()
    return link


def _deployment_flow_name(deployment: Any) -> str:
    name = getattr(deployment, "flow_name", None)
    return str(name) if name else "deployment"


def _mirror_final_state(link: TaskRun | None, run: FlowRun) -> None:
    """Give the link the new run's final state (only a final one: the link is a record)."""
    if link is None or run.state is None or not run.state.is_final():
        return
    from legato.engine.context import flow_run_context
    from legato.states import State

    context = flow_run_context.get()
    if context is None:
        return
    state = run.state
    link.state = State(state.type, state.name, state.message)
    link.run_count = max(run.run_count, 1)
    link._start_time = run.start_time.timestamp() if run.start_time else None
    link._end_time = run.end_time.timestamp() if run.end_time else None
    link.total_run_time = run.total_run_time.total_seconds()
    context.recorder.task_state(link)
