"""The worker base: poll a work pool, claim each scheduled run once, launch it, watch it.

A worker type is a subclass of ``BaseWorker`` that sets ``type`` and
``job_configuration`` and implements two coroutines:

- ``run(flow_run, configuration, task_status)``: start the run's
  infrastructure (a process, a container, a pod...), call
  ``task_status.started(infrastructure_pid)`` once it exists, wait for it to
  end and return ``WorkerResult(status_code, identifier)``;
- ``kill_infrastructure(infrastructure_pid, configuration, grace_seconds)``:
  stop it (gracefully, then forcibly after ``grace_seconds``).

Everything else lives here, once: the loop (``start``), heartbeats, claiming
(a run is launched only when this worker's ``Pending`` proposal is
accepted: the store's compare-and-set makes that true for one worker only),
the ``limit`` on concurrent runs, recording ``infrastructure_pid``, marking
runs whose infrastructure failed ``Crashed``, cancellation (runs of this
worker that go ``Cancelling`` are killed and end ``Cancelled``), and riding
out an unreachable server (exponential back-off, one log line per outage).
"""

from __future__ import annotations

import abc
import asyncio
import builtins
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from legato.client._embedded_work_pools import MAX_POLL_WAIT_SECONDS
from legato.exceptions import (
    ConfigurationError,
    InfrastructureNotAvailable,
    InfrastructureNotFound,
    ObjectNotFound,
)
from legato.workers._connection import Outage
from legato.workers._stopping import unless_set
from legato.workers.configuration import (
    BaseJobConfiguration,
    base_job_template_for,
    merge_job_variables,
    template_variable_names,
)

if TYPE_CHECKING:
    from legato.client.schemas.objects import FlowRun

__all__ = ["BaseJobConfiguration", "BaseWorker", "TaskStatus", "WorkerResult"]

logger = logging.getLogger("legato.workers")

_FINAL_OR_PARKED = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED", "PAUSED"})


class WorkerResult(NamedTuple):
    """What ``run`` returns: the infrastructure's exit status and its identifier."""

    status_code: int
    identifier: str


class TaskStatus:
    """Handed to ``run``: call ``started(infrastructure_pid)`` once the infrastructure exists."""

    def __init__(self) -> None:
        self._future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def started(self, value: Any = None) -> None:
        if not self._future.done():
            self._future.set_result(value)

    async def wait(self) -> Any:
        return await self._future


class _RunningRun(NamedTuple):
    infrastructure_pid: str
    configuration: BaseJobConfiguration


def _open_client() -> Any:
    """The async client of the current settings; over HTTP with few retries of its own.

    The worker's loop backs off by itself when the server is unreachable, so
    each call gives up quickly instead of stacking its retries on top.
    """
    from legato.client import get_client
    from legato.settings import get_current_settings

    settings = get_current_settings()
    if not settings.api.url:
        return get_client()
    from legato.client.http import AsyncHttpClient

    return AsyncHttpClient(
        settings.api.url,
        auth_string=settings.api.auth_string,
        max_retries=2,
        retry_backoff_seconds=0.2,
    )


class BaseWorker(abc.ABC):
    """Polls one work pool and launches its scheduled runs; subclass it for a worker type."""

    type: ClassVar[str]
    job_configuration: ClassVar[builtins.type[BaseJobConfiguration]] = BaseJobConfiguration
    description: ClassVar[str] = ""

    def __init__(
        self,
        work_pool_name: str,
        work_queues: list[str] | None = None,
        name: str | None = None,
        limit: int | None = None,
        polling_interval_seconds: float | None = None,
        heartbeat_interval_seconds: float | None = None,
        prefetch_seconds: float | None = None,
        cancellation_grace_seconds: float | None = None,
        create_pool_if_not_found: bool = True,
        base_job_template: Mapping[str, Any] | None = None,
    ) -> None:
        from legato.settings import get_current_settings

        if limit is not None and limit < 1:
            raise ConfigurationError(f"limit={limit} must be at least 1 (or None: no limit).")
        settings = get_current_settings().worker
        self.work_pool_name = work_pool_name
        self.work_queues = list(work_queues) if work_queues else None
        self.name = name or f"{type(self).__name__} {uuid.uuid4()}"
        self.limit = limit
        self.polling_interval_seconds = polling_interval_seconds or settings.query_seconds
        self.heartbeat_interval_seconds = heartbeat_interval_seconds or settings.heartbeat_seconds
        self.prefetch_seconds = (
            settings.prefetch_seconds if prefetch_seconds is None else prefetch_seconds
        )
        self.cancellation_grace_seconds = (
            settings.cancellation_grace_seconds
            if cancellation_grace_seconds is None
            else cancellation_grace_seconds
        )
        self._backoff_max_seconds = settings.backoff_max_seconds
        # A poll waits on the server for a run up to one polling interval (a long
        # poll): a run created meanwhile starts at once instead of at the next poll.
        self._poll_wait_seconds = min(self.polling_interval_seconds, MAX_POLL_WAIT_SECONDS)
        self._create_pool_if_not_found = create_pool_if_not_found
        self._base_job_template = dict(base_job_template) if base_job_template else None
        self._client: Any = None
        self.work_pool: Any = None
        self._in_flight: set[uuid.UUID] = set()
        self._running: dict[uuid.UUID, _RunningRun] = {}
        self._cancelling: set[uuid.UUID] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._wake: asyncio.Event | None = None
        self._stopped: asyncio.Event | None = None
        self._stopping = False
        self._last_batch_full = False

    # -- the worker type's part ----------------------------------------------------

    @classmethod
    def default_base_job_template(cls) -> dict[str, Any]:
        """The base job template a pool of this type gets when the worker creates it."""
        return base_job_template_for(cls.job_configuration)

    @abc.abstractmethod
    async def run(
        self,
        flow_run: FlowRun,
        configuration: BaseJobConfiguration,
        task_status: TaskStatus | None = None,
    ) -> WorkerResult:
        """Launch ``flow_run``'s infrastructure and wait for it to end."""

    @abc.abstractmethod
    async def kill_infrastructure(
        self,
        infrastructure_pid: str,
        configuration: BaseJobConfiguration,
        grace_seconds: float = 30,
    ) -> None:
        """Stop a run's infrastructure; InfrastructureNotFound if it is gone already."""

    # -- lifecycle -----------------------------------------------------------------

    async def __aenter__(self) -> BaseWorker:
        await self.setup()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.teardown()

    async def setup(self) -> None:
        """Open the client and find (or create) the work pool."""
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self._client = _open_client()
        await self._client.__aenter__()
        try:
            self.work_pool = await self._ensure_work_pool()
        except BaseException:
            await self._client.__aexit__(None, None, None)
            raise

    async def teardown(self) -> None:
        """Stop launching; end the runs still in progress; close the client."""
        self.stop()
        await self._stop_running_runs()
        if self._tasks:  # let them record how their runs ended
            await asyncio.wait(set(self._tasks), timeout=10)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.__aexit__(None, None, None)
            self._client = None

    def stop(self) -> None:
        """Ask ``start`` to return after the current iteration (runs not yet claimed are left)."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        if self._stopped is not None:
            self._stopped.set()

    async def _ensure_work_pool(self) -> Any:
        try:
            pool = await self._client.read_work_pool(self.work_pool_name)
        except ObjectNotFound:
            if not self._create_pool_if_not_found:
                raise ObjectNotFound(
                    f"Work pool {self.work_pool_name!r} does not exist. Create it with "
                    f"`legato work-pool create {self.work_pool_name} --type {self.type}`, "
                    f"or start the worker with `--type {self.type}` to create it."
                ) from None
            pool = await self._create_work_pool()
        if pool.type != self.type:
            raise ConfigurationError(
                f"Work pool {self.work_pool_name!r} is of type {pool.type!r}, and this is a "
                f"{self.type!r} worker. Start a worker of its type "
                f"(`legato worker start --pool {self.work_pool_name} --type {pool.type}`), "
                f"or use a pool of type {self.type!r}."
            )
        return pool

    async def _create_work_pool(self) -> Any:
        from legato.client.schemas.actions import WorkPoolCreate
        from legato.exceptions import ObjectAlreadyExists

        template = self._base_job_template or self.default_base_job_template()
        create = WorkPoolCreate(
            name=self.work_pool_name, type=self.type, base_job_template=template
        )
        try:
            pool = await self._client.create_work_pool(work_pool=create)
        except ObjectAlreadyExists:  # another worker created it meanwhile
            return await self._client.read_work_pool(self.work_pool_name)
        logger.info("Created work pool %r of type %r.", self.work_pool_name, self.type)
        return pool

    # -- the loop ------------------------------------------------------------------

    async def start(self, run_once: bool = False) -> None:
        """Poll and launch until ``stop()`` (or, with ``run_once``, one poll and its runs)."""
        async with self:
            logger.info(
                "Worker %r started, polling work pool %r every %g s.",
                self.name,
                self.work_pool_name,
                self.polling_interval_seconds,
            )
            if run_once:
                await self._run_once()
            else:
                await self._loop()

    async def _loop(self) -> None:
        outage = self._outage()
        next_heartbeat = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping:
            delay = self.polling_interval_seconds
            try:
                if loop.time() >= next_heartbeat:
                    await self.sync_with_backend()
                    next_heartbeat = loop.time() + self.heartbeat_interval_seconds
                polled = loop.time()
                submitted = await self.get_and_submit_flow_runs()
                if submitted or loop.time() - polled >= 0.9 * self._poll_wait_seconds > 0:
                    delay = 0.0  # the poll waited on the server already, or found work
                await self.check_for_cancelled_flow_runs()
                outage.succeeded()
            except Exception as exc:
                delay = outage.failed(exc)
            if delay:
                await self._sleep(delay)

    async def _run_once(self) -> None:
        outage = self._outage()
        for attempt in range(6):
            try:
                await self.sync_with_backend()
                await self.get_and_submit_flow_runs()
                outage.succeeded()
                break
            except Exception as exc:
                if attempt == 5:
                    raise
                await asyncio.sleep(outage.failed(exc))
        while self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self.polling_interval_seconds)
            if not self._tasks:
                break
            try:
                await self.check_for_cancelled_flow_runs()
                outage.succeeded()
            except Exception as exc:
                outage.failed(exc)

    def _outage(self) -> Outage:
        from legato.settings import get_current_settings

        settings = get_current_settings()
        target = settings.api.url or str(settings.database_path)
        return Outage(self.name, target, self.polling_interval_seconds, self._backoff_max_seconds)

    async def _sleep(self, seconds: float) -> None:
        if self._wake is None:  # not set up: nothing can wake it
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()

    async def sync_with_backend(self) -> None:
        """Heartbeat, and read the pool again (its template and status may have changed)."""
        await self._client.send_worker_heartbeat(
            work_pool_name=self.work_pool_name,
            worker_name=self.name,
            heartbeat_interval_seconds=self.heartbeat_interval_seconds,
        )
        self.work_pool = await self._client.read_work_pool(self.work_pool_name)

    # -- claiming and launching ----------------------------------------------------

    async def get_and_submit_flow_runs(self) -> list[FlowRun]:
        """Read the pool's due (and soon due) runs and start claiming those that fit the limit."""
        free = None if self.limit is None else self.limit - len(self._in_flight)
        if self._stopping or (free is not None and free <= 0):
            return []
        before = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.prefetch_seconds)
        # A poll may wait a whole polling interval on the server: stop() does not wait for it.
        poll = self._client.get_scheduled_flow_runs_for_work_pool(
            work_pool_name=self.work_pool_name,
            work_queue_names=self.work_queues,
            scheduled_before=before,
            limit=free,
            wait_seconds=self._poll_wait_seconds,
        )
        responses = await (poll if self._stopped is None else unless_set(poll, self._stopped))
        if responses is None:
            return []
        self._last_batch_full = free is not None and len(responses) >= free
        submitted = []
        for response in responses:
            flow_run = response.flow_run
            if flow_run.id in self._in_flight:
                continue
            if self.limit is not None and len(self._in_flight) >= self.limit:
                break
            self._in_flight.add(flow_run.id)
            self._spawn(self._claim_and_run(flow_run))
            submitted.append(flow_run)
        return submitted

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _claim_and_run(self, flow_run: FlowRun) -> None:
        try:
            await self._wait_until_due(flow_run)
            if self._stopping:
                return
            claimed = await self._claim(flow_run)
            if self._wake is not None:
                # The loop may be waiting for this claim: a poll before it would
                # hand the same run out again; after it, the poll can wait for new ones.
                self._wake.set()
            if claimed:
                await self._submit(flow_run)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("Worker %r failed while handling flow run %s.", self.name, flow_run.id)
        finally:
            self._in_flight.discard(flow_run.id)
            if self._last_batch_full and self._wake is not None:
                self._wake.set()  # a slot is free and more runs may be waiting

    async def _wait_until_due(self, flow_run: FlowRun) -> None:
        due = flow_run.expected_start_time
        if due is None:
            return
        seconds = (due - dt.datetime.now(dt.UTC)).total_seconds()
        if seconds > 0 and self._stopped is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), timeout=seconds)

    async def _claim(self, flow_run: FlowRun) -> bool:
        """Propose Pending; True when this worker won the run."""
        from legato.client.schemas.objects import SetStateStatus
        from legato.states import Pending

        result = await self._client.set_flow_run_state(flow_run.id, Pending())
        if result.status != SetStateStatus.ACCEPT:
            logger.debug("Flow run %s was not claimed: %s", flow_run.id, result.status)
            return False
        return True

    async def _submit(self, flow_run: FlowRun) -> None:
        try:
            deployment, configuration = await self._configuration_for(flow_run)
        except Exception as exc:
            logger.error("Flow run %r could not be submitted: %s", flow_run.name, exc)
            await self._propose_crashed(flow_run, f"Flow run could not be submitted: {exc}")
            return
        logger.info(
            "Worker %r is starting flow run %r (%s).", self.name, flow_run.name, flow_run.id
        )
        status = TaskStatus()
        launch = asyncio.get_running_loop().create_task(self.run(flow_run, configuration, status))
        try:
            await self._record_infrastructure(flow_run, configuration, status, launch)
            result = await launch
        except asyncio.CancelledError:
            launch.cancel()
            raise
        except Exception as exc:
            logger.exception("Flow run %r could not be run.", flow_run.name)
            await self._propose_crashed(flow_run, f"The worker could not run the flow run: {exc}")
            return
        finally:
            self._running.pop(flow_run.id, None)
        await self._after_exit(flow_run, result)

    async def _record_infrastructure(
        self,
        flow_run: FlowRun,
        configuration: BaseJobConfiguration,
        status: TaskStatus,
        launch: asyncio.Task[WorkerResult],
    ) -> None:
        started = asyncio.ensure_future(status.wait())
        await asyncio.wait({started, launch}, return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            started.cancel()
            return
        pid = started.result()
        if pid is None:
            return
        self._running[flow_run.id] = _RunningRun(str(pid), configuration)
        try:
            await self._client.update_flow_run(flow_run.id, infrastructure_pid=str(pid))
        except Exception as exc:
            logger.warning("Could not record the infrastructure of %r: %s", flow_run.name, exc)

    async def _configuration_for(self, flow_run: FlowRun) -> tuple[Any, BaseJobConfiguration]:
        from legato.engine.deployed_run import DEPLOYED_RUN_ENV, payload_for

        deployment = None
        deployment_id = getattr(flow_run, "deployment_id", None)
        if deployment_id is not None:
            deployment = await self._client.read_deployment(deployment_id)
        template = self.work_pool.base_job_template or self.default_base_job_template()
        variables = merge_job_variables(
            template,
            getattr(deployment, "job_variables", None),
            getattr(flow_run, "job_variables", None),
        )
        self._warn_unknown_variables(flow_run, template, variables)
        configuration = self.job_configuration.from_template_and_values(template, variables)
        configuration.prepare_for_flow_run(flow_run, deployment, self.name)
        payload = payload_for(flow_run, deployment)
        if payload is not None:
            configuration.env[DEPLOYED_RUN_ENV] = payload
        return deployment, configuration

    def _warn_unknown_variables(
        self, flow_run: FlowRun, template: Mapping[str, Any], variables: Mapping[str, Any]
    ) -> None:
        known = set(template_variable_names(template))
        unknown = sorted(set(variables) - known)
        if unknown:
            logger.warning(
                "Flow run %r: job variable(s) %s are not variables of work pool %r's base job "
                "template (it has: %s); they are ignored.",
                flow_run.name,
                ", ".join(unknown),
                self.work_pool_name,
                ", ".join(sorted(known)) or "none",
            )

    async def _after_exit(self, flow_run: FlowRun, result: WorkerResult) -> None:
        """Crashed if the process failed before the run reported a final state; Cancelled if asked."""
        from legato.states import Cancelled, Crashed

        current = await self._client.read_flow_run(flow_run.id)
        state_type = str(current.state.type) if current.state is not None else ""
        if state_type == "CANCELLING":
            await self._client.set_flow_run_state(
                flow_run.id, Cancelled(message="Flow run was cancelled; its process was stopped.")
            )
            logger.info("Flow run %r was cancelled.", flow_run.name)
        elif result.status_code != 0 and state_type not in _FINAL_OR_PARKED:
            message = f"Flow run process exited with status code {result.status_code}."
            await self._client.set_flow_run_state(flow_run.id, Crashed(message=message))
            logger.error("Flow run %r crashed: %s", flow_run.name, message)
        else:
            logger.info("Flow run %r ended (status code %d).", flow_run.name, result.status_code)

    async def _propose_crashed(self, flow_run: FlowRun, message: str) -> None:
        from legato.states import Crashed

        try:
            await self._client.set_flow_run_state(flow_run.id, Crashed(message=message))
        except Exception as exc:
            logger.warning("Could not mark flow run %r Crashed: %s", flow_run.name, exc)

    # -- cancellation --------------------------------------------------------------

    async def check_for_cancelled_flow_runs(self) -> None:
        """Kill the infrastructure of this worker's runs that went Cancelling."""
        if not self._running:
            return
        from legato.client.schemas.filters import (
            FlowRunFilter,
            FlowRunFilterId,
            FlowRunFilterState,
            FlowRunFilterStateType,
        )
        from legato.states import StateType

        runs = await self._client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(any_=list(self._running)),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.CANCELLING])),
            )
        )
        for flow_run in runs:
            if flow_run.id in self._running and flow_run.id not in self._cancelling:
                self._cancelling.add(flow_run.id)
                self._spawn(self._cancel(flow_run))

    async def _cancel(self, flow_run: FlowRun) -> None:
        running = self._running.get(flow_run.id)
        try:
            if running is None:
                return
            logger.info("Flow run %r is being cancelled: stopping its process.", flow_run.name)
            await self.kill_infrastructure(
                running.infrastructure_pid,
                running.configuration,
                self.cancellation_grace_seconds,
            )
        except InfrastructureNotFound:
            pass  # it ended by itself; _after_exit settles the state
        except InfrastructureNotAvailable as exc:
            logger.warning("Cannot cancel flow run %r here: %s", flow_run.name, exc)
        except Exception:
            logger.exception("Could not stop the process of flow run %r.", flow_run.name)
        finally:
            self._cancelling.discard(flow_run.id)

    async def _stop_running_runs(self) -> None:
        running = list(self._running.items())
        if running:
            logger.info("Worker %r is stopping %d running flow run(s).", self.name, len(running))
        for _, run in running:
            try:
                await self.kill_infrastructure(
                    run.infrastructure_pid, run.configuration, self.cancellation_grace_seconds
                )
            except (InfrastructureNotFound, InfrastructureNotAvailable):
                pass
            except Exception:
                logger.exception("Could not stop %s.", run.infrastructure_pid)
