"""Serving deployments in this process: ``legato.serve(...)`` and ``flow.serve(...)``.

``serve(*deployments, limit=)`` applies the deployments, prints how to run
them, and then runs a ``Runner`` until Ctrl-C or SIGTERM. The ``Runner`` is
the process worker (``legato.workers.process.ProcessWorker``) with another
source of runs: instead of a work pool's queues it polls the Scheduled runs
of its own deployments, due now (or within the prefetch window). Everything
else is the worker's: each run is claimed by proposing Pending (launched
only when that is accepted, so a run is never started twice, even by two
serve processes or a worker), started in a fresh subprocess
(``python -m legato.engine.deployed_run``, in the deployment's ``path``), at
most ``limit`` at once, watched for cancellation (a run that goes
Cancelling has its process stopped: SIGTERM, then SIGKILL after the grace
period) and marked Crashed if its process dies without a final state.

Without a server (``LEGATO_API_URL`` unset) nobody else creates the runs of
the deployments' schedules or marks late runs, so the Runner does it for its
own deployments, with the server's settings
(``LEGATO_SERVER_SERVICES_SCHEDULER_*``, ``..._LATE_RUNS_*``). Against a
server, the server's services do it.

On Ctrl-C or SIGTERM the Runner stops polling, stops the runs still in
progress (their processes get SIGTERM, then SIGKILL after the grace
period) and, with ``pause_on_shutdown=True`` (the default, as in Prefect),
pauses the deployments that have schedules, so that no runs pile up while
nothing serves them; serving them again resumes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import sys
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from legato.deployments.runner import RunnerDeployment
from legato.exceptions import ParameterError
from legato.workers.process import ProcessWorker

if TYPE_CHECKING:
    from legato.client.schemas.objects import FlowRun
    from legato.orchestration.store import Store

__all__ = ["Runner", "aserve", "serve"]

logger = logging.getLogger("legato.workers")


class _LocalPool:
    """What a Runner has instead of a work pool: the process worker's default job template."""

    def __init__(self, base_job_template: dict[str, Any]) -> None:
        self.name = None
        self.type = "process"
        self.base_job_template = base_job_template
        self.is_paused = False


class Runner(ProcessWorker):
    """Runs the scheduled runs of some deployments in subprocesses of this process."""

    def __init__(
        self,
        deployment_ids: Sequence[uuid.UUID],
        *,
        name: str | None = None,
        limit: int | None = None,
        polling_interval_seconds: float | None = None,
        prefetch_seconds: float | None = None,
        cancellation_grace_seconds: float | None = None,
    ) -> None:
        super().__init__(
            work_pool_name="",
            name=name or f"serve-{os.getpid()}",
            limit=limit,
            polling_interval_seconds=polling_interval_seconds,
            prefetch_seconds=prefetch_seconds,
            cancellation_grace_seconds=cancellation_grace_seconds,
            create_pool_if_not_found=False,
        )
        self.deployment_ids = list(deployment_ids)
        self.run_names: dict[uuid.UUID, str] = {}
        self.stopped_runs: list[str] = []  # what was in progress when it stopped
        self._services: _LocalServices | None = None

    async def start(self, run_once: bool = False) -> None:
        """Poll and launch until ``stop()`` (the worker's loop, without a pool to name)."""
        async with self:
            logger.info(
                "Serving %d deployment(s) (%s), polling for their runs every %g s.",
                len(self.deployment_ids),
                self.name,
                self.polling_interval_seconds,
            )
            await (self._run_once() if run_once else self._loop())

    async def _ensure_work_pool(self) -> Any:
        """No pool: served runs use the process worker's default job template."""
        from legato.settings import get_current_settings

        settings = get_current_settings()
        if not settings.api.url:
            self._services = _LocalServices(settings, self.deployment_ids)
        return _LocalPool(self.default_base_job_template())

    async def teardown(self) -> None:
        self.stopped_runs = self.in_progress()
        await super().teardown()
        if self._services is not None:
            self._services.close()
            self._services = None

    async def sync_with_backend(self) -> None:
        """Nothing to heartbeat: a Runner belongs to no pool."""

    async def get_and_submit_flow_runs(self) -> list[FlowRun]:
        """The worker's step with the deployments' due Scheduled runs as the source."""
        if self._services is not None:
            await asyncio.to_thread(self._services.tick)
        free = None if self.limit is None else self.limit - len(self._in_flight)
        if self._stopping or (free is not None and free <= 0):
            return []
        runs = await self.read_due_runs(free)
        self._last_batch_full = free is not None and len(runs) >= free
        submitted = []
        for flow_run in runs:
            if flow_run.id in self._in_flight:
                continue
            if self.limit is not None and len(self._in_flight) >= self.limit:
                break
            self._in_flight.add(flow_run.id)
            self._spawn(self._claim_and_run_named(flow_run))
            submitted.append(flow_run)
        return submitted

    async def _claim_and_run_named(self, flow_run: FlowRun) -> None:
        """The worker's claim-and-run, remembering the run's name while it is in progress."""
        self.run_names[flow_run.id] = flow_run.name
        try:
            await self._claim_and_run(flow_run)
        finally:
            self.run_names.pop(flow_run.id, None)

    async def read_due_runs(self, limit: int | None) -> list[FlowRun]:
        """Scheduled runs of the deployments due before now + prefetch, earliest first.

        The poll marks the deployments polled, so they show READY while served.
        """
        before = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.prefetch_seconds)
        runs = await self._client.get_scheduled_flow_runs_for_deployments(
            self.deployment_ids, scheduled_before=before, limit=limit
        )
        return list(runs)

    def in_progress(self) -> list[str]:
        """Names of the runs whose process this Runner started and has not seen end."""
        return [self.run_names.get(run_id, str(run_id)) for run_id in self._running]


class _LocalServices:
    """The scheduler, late-runs and expired-pauses passes for a Runner's deployments, when no
    server runs them."""

    def __init__(self, settings: Any, deployment_ids: Sequence[uuid.UUID]) -> None:
        from legato.orchestration.store import Store
        from legato.storage.engine import sqlite_url

        self.deployment_ids = list(deployment_ids)
        self.scheduler = settings.server.services.scheduler
        self.late_runs = settings.server.services.late_runs
        self.expired_pauses = settings.server.services.expired_pauses
        self.store: Store = Store(sqlite_url(settings.database_path), name="serve")
        self._next_schedule = 0.0
        self._next_late = 0.0
        self._next_pauses = 0.0

    def tick(self) -> None:
        """Run each pass that is due (the first call runs both)."""
        from legato.orchestration import scheduling

        now = time.monotonic()
        if self.scheduler.enabled and now >= self._next_schedule:
            self._next_schedule = now + self.scheduler.loop_seconds
            self.store.write(
                lambda connection: scheduling.schedule_runs(
                    connection,
                    dt.datetime.now(dt.UTC),
                    dt.timedelta(seconds=self.scheduler.horizon_seconds),
                    self.scheduler.min_runs,
                    self.scheduler.max_runs,
                    deployment_ids=self.deployment_ids,
                )
            )
        if self.late_runs.enabled and now >= self._next_late:
            self._next_late = now + self.late_runs.loop_seconds
            self.store.write(
                lambda connection: scheduling.mark_late_runs(
                    connection, dt.datetime.now(dt.UTC), self.late_runs.grace_seconds
                )
            )
        if self.expired_pauses.enabled and now >= self._next_pauses:
            from legato.orchestration import expired_pauses

            self._next_pauses = now + self.expired_pauses.loop_seconds
            if self.store.read(expired_pauses.has_paused_runs):
                self.store.write(
                    lambda connection: expired_pauses.fail_expired_pauses(
                        connection, dt.datetime.now(dt.UTC), self.expired_pauses.grace_seconds
                    )
                )

    def close(self) -> None:
        self.store.close()


# -- serve -----------------------------------------------------------------------------


def serve(
    *deployments: RunnerDeployment,
    limit: int | None = None,
    pause_on_shutdown: bool = True,
    print_starting_message: bool = True,
    polling_interval_seconds: float | None = None,
) -> None:
    """Apply ``deployments`` and run their runs in this process until Ctrl-C or SIGTERM.

    ``limit``: most runs at once (None: no limit). See the module doc.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise ParameterError(
            "serve() blocks until stopped and cannot run inside an event loop. "
            "In async code, use `await legato.deployments.serve.aserve(...)`."
        )
    asyncio.run(
        aserve(
            *deployments,
            limit=limit,
            pause_on_shutdown=pause_on_shutdown,
            print_starting_message=print_starting_message,
            polling_interval_seconds=polling_interval_seconds,
        )
    )


async def aserve(
    *deployments: RunnerDeployment,
    limit: int | None = None,
    pause_on_shutdown: bool = True,
    print_starting_message: bool = True,
    polling_interval_seconds: float | None = None,
) -> None:
    """The async twin of ``serve``: returns when the Runner is stopped (or the task cancelled)."""
    from legato.logging.configuration import setup_logging

    _check_deployments(deployments)
    setup_logging()
    ids = [await asyncio.to_thread(deployment.apply) for deployment in deployments]
    runner = Runner(ids, limit=limit, polling_interval_seconds=polling_interval_seconds)
    stopped_by = _install_signal_handlers(runner)
    if print_starting_message:
        _print(_banner(deployments))
    try:
        await runner.start()
    finally:
        _remove_signal_handlers()
        in_progress = runner.stopped_runs
        reason = f" ({stopped_by[0]})" if stopped_by else ""
        stopped = f"; stopped {len(in_progress)} run(s) in progress: {', '.join(in_progress)}"
        _print(f"Stopped serving{reason}{stopped if in_progress else ''}.")
        if pause_on_shutdown:
            await asyncio.to_thread(_pause_scheduled, deployments, ids)


def _check_deployments(deployments: Sequence[Any]) -> None:
    if not deployments:
        raise ParameterError(
            "serve() needs at least one deployment: serve(my_flow.to_deployment('name'), ...)."
        )
    for deployment in deployments:
        if not isinstance(deployment, RunnerDeployment):
            raise ParameterError(
                f"serve() takes deployments made by flow.to_deployment(...), got {deployment!r}."
            )


def _banner(deployments: Sequence[RunnerDeployment]) -> str:
    import shlex

    if len(deployments) == 1:
        deployment = deployments[0]
        return (
            f"Your flow {deployment.flow_name!r} is being served and polling for scheduled runs!\n"
            "To trigger a run of this flow, use:\n"
            f"    legato deployment run {shlex.quote(deployment.full_name)}\n"
            "Stop serving with Ctrl-C."
        )
    names = "\n".join(f"    {deployment.full_name}" for deployment in deployments)
    example = shlex.quote(deployments[0].full_name)
    return (
        f"Your deployments are being served and polling for scheduled runs:\n{names}\n"
        f"To trigger a run, use e.g.:\n    legato deployment run {example}\n"
        "Stop serving with Ctrl-C."
    )


def _print(text: str) -> None:
    print(text, flush=True)


def _pause_scheduled(deployments: Sequence[RunnerDeployment], ids: Sequence[uuid.UUID]) -> None:
    """Pause the served deployments that have schedules (they resume when served again)."""
    from legato.client import get_client

    scheduled = [
        (deployment, deployment_id)
        for deployment, deployment_id in zip(deployments, ids, strict=True)
        if deployment.schedules
    ]
    if not scheduled:
        return
    try:
        with get_client(sync_client=True) as client:
            for deployment, deployment_id in scheduled:
                client.pause_deployment(deployment_id)
                _print(f"Paused the schedules of {deployment.full_name!r} (pause_on_shutdown).")
    except Exception as exc:  # the store may be gone; stopping must not fail for this
        logger.warning("Could not pause the served deployments: %s", exc)


_HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _install_signal_handlers(runner: Runner) -> list[str]:
    """Stop ``runner`` on SIGINT/SIGTERM; the list receives the signal's name."""
    received: list[str] = []
    loop = asyncio.get_running_loop()

    def stop(signal_number: signal.Signals) -> None:
        if not received:
            received.append(signal_number.name)
            in_progress = runner.in_progress()
            doing = f"; stopping {len(in_progress)} run(s) in progress" if in_progress else ""
            _print(f"Received {signal_number.name}: shutting down{doing}...")
        runner.stop()

    for signal_number in _HANDLED_SIGNALS:
        # Not possible off the main thread or on Windows: Ctrl-C still ends asyncio.run.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal_number, stop, signal_number)
    return received


def _remove_signal_handlers() -> None:
    loop = asyncio.get_running_loop()
    for signal_number in _HANDLED_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal_number)


if sys.platform == "win32":  # pragma: no cover - SIGTERM handlers need a POSIX loop
    _HANDLED_SIGNALS = (signal.SIGINT,)
