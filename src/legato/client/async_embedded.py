"""``AsyncEmbeddedClient``: the embedded client's methods as coroutines.

Each call runs the ``EmbeddedClient`` method in a worker thread
(``asyncio.to_thread``), so ``async with get_client() as client:`` works
without a server and never blocks the event loop on SQLite.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from legato.client.embedded import EmbeddedClient

__all__ = ["AsyncEmbeddedClient"]

P = ParamSpec("P")
T = TypeVar("T")


def _threaded(
    method: Callable[Concatenate[EmbeddedClient, P], T],
) -> Callable[Concatenate[AsyncEmbeddedClient, P], Coroutine[Any, Any, T]]:
    async def call(self: AsyncEmbeddedClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(functools.partial(method, self.sync_client, *args, **kwargs))

    call.__name__ = method.__name__
    call.__qualname__ = f"AsyncEmbeddedClient.{method.__name__}"
    call.__doc__ = method.__doc__
    return call


class AsyncEmbeddedClient:
    """An async client over the SQLite file at ``database_path``."""

    def __init__(self, database_path: Path) -> None:
        self.sync_client = EmbeddedClient(database_path)

    @property
    def database_path(self) -> Path:
        return self.sync_client.database_path

    def __repr__(self) -> str:
        return f"AsyncEmbeddedClient({str(self.database_path)!r})"

    async def __aenter__(self) -> AsyncEmbeddedClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the underlying client; idempotent."""
        await asyncio.to_thread(self.sync_client.close)

    close = aclose

    api_healthcheck = _threaded(EmbeddedClient.api_healthcheck)
    record = _threaded(EmbeddedClient.record)
    create_flow = _threaded(EmbeddedClient.create_flow)
    create_flow_from_name = _threaded(EmbeddedClient.create_flow_from_name)
    read_flow = _threaded(EmbeddedClient.read_flow)
    read_flow_by_name = _threaded(EmbeddedClient.read_flow_by_name)
    read_flows = _threaded(EmbeddedClient.read_flows)
    delete_flow = _threaded(EmbeddedClient.delete_flow)
    create_flow_run = _threaded(EmbeddedClient.create_flow_run)
    read_flow_run = _threaded(EmbeddedClient.read_flow_run)
    read_flow_runs = _threaded(EmbeddedClient.read_flow_runs)
    count_flow_runs = _threaded(EmbeddedClient.count_flow_runs)
    update_flow_run = _threaded(EmbeddedClient.update_flow_run)
    delete_flow_run = _threaded(EmbeddedClient.delete_flow_run)
    set_flow_run_state = _threaded(EmbeddedClient.set_flow_run_state)
    read_flow_run_states = _threaded(EmbeddedClient.read_flow_run_states)
    read_flow_run_graph = _threaded(EmbeddedClient.read_flow_run_graph)
    create_task_run = _threaded(EmbeddedClient.create_task_run)
    read_task_run = _threaded(EmbeddedClient.read_task_run)
    read_task_runs = _threaded(EmbeddedClient.read_task_runs)
    count_task_runs = _threaded(EmbeddedClient.count_task_runs)
    set_task_run_state = _threaded(EmbeddedClient.set_task_run_state)
    read_task_run_states = _threaded(EmbeddedClient.read_task_run_states)
    delete_task_run = _threaded(EmbeddedClient.delete_task_run)
    read_states = _threaded(EmbeddedClient.read_states)
    create_logs = _threaded(EmbeddedClient.create_logs)
    read_logs = _threaded(EmbeddedClient.read_logs)
    create_artifact = _threaded(EmbeddedClient.create_artifact)
    update_artifact = _threaded(EmbeddedClient.update_artifact)
    read_artifact = _threaded(EmbeddedClient.read_artifact)
    read_latest_artifact = _threaded(EmbeddedClient.read_latest_artifact)
    read_artifacts = _threaded(EmbeddedClient.read_artifacts)
    count_artifacts = _threaded(EmbeddedClient.count_artifacts)
    delete_artifact = _threaded(EmbeddedClient.delete_artifact)
    create_variable = _threaded(EmbeddedClient.create_variable)
    read_variable_by_name = _threaded(EmbeddedClient.read_variable_by_name)
    read_variables = _threaded(EmbeddedClient.read_variables)
    update_variable = _threaded(EmbeddedClient.update_variable)
    set_variable = _threaded(EmbeddedClient.set_variable)
    delete_variable_by_name = _threaded(EmbeddedClient.delete_variable_by_name)
    save_block_document = _threaded(EmbeddedClient.save_block_document)
    read_block_document = _threaded(EmbeddedClient.read_block_document)
    read_block_documents = _threaded(EmbeddedClient.read_block_documents)
    delete_block_document = _threaded(EmbeddedClient.delete_block_document)
    create_global_concurrency_limit = _threaded(EmbeddedClient.create_global_concurrency_limit)
    read_global_concurrency_limit_by_name = _threaded(
        EmbeddedClient.read_global_concurrency_limit_by_name
    )
    read_global_concurrency_limits = _threaded(EmbeddedClient.read_global_concurrency_limits)
    update_global_concurrency_limit = _threaded(EmbeddedClient.update_global_concurrency_limit)
    upsert_global_concurrency_limit_by_name = _threaded(
        EmbeddedClient.upsert_global_concurrency_limit_by_name
    )
    delete_global_concurrency_limit_by_name = _threaded(
        EmbeddedClient.delete_global_concurrency_limit_by_name
    )
    create_concurrency_limit = _threaded(EmbeddedClient.create_concurrency_limit)
    read_concurrency_limit_by_tag = _threaded(EmbeddedClient.read_concurrency_limit_by_tag)
    read_concurrency_limits = _threaded(EmbeddedClient.read_concurrency_limits)
    reset_concurrency_limit_by_tag = _threaded(EmbeddedClient.reset_concurrency_limit_by_tag)
    delete_concurrency_limit_by_tag = _threaded(EmbeddedClient.delete_concurrency_limit_by_tag)
    acquire_concurrency_slots_with_lease = _threaded(
        EmbeddedClient.acquire_concurrency_slots_with_lease
    )
    renew_concurrency_lease = _threaded(EmbeddedClient.renew_concurrency_lease)
    release_concurrency_slots_with_lease = _threaded(
        EmbeddedClient.release_concurrency_slots_with_lease
    )
    read_concurrency_leases = _threaded(EmbeddedClient.read_concurrency_leases)
    create_deployment = _threaded(EmbeddedClient.create_deployment)
    read_deployment = _threaded(EmbeddedClient.read_deployment)
    read_deployment_by_name = _threaded(EmbeddedClient.read_deployment_by_name)
    read_deployments = _threaded(EmbeddedClient.read_deployments)
    count_deployments = _threaded(EmbeddedClient.count_deployments)
    get_scheduled_flow_runs_for_deployments = _threaded(
        EmbeddedClient.get_scheduled_flow_runs_for_deployments
    )
    update_deployment = _threaded(EmbeddedClient.update_deployment)
    delete_deployment = _threaded(EmbeddedClient.delete_deployment)
    pause_deployment = _threaded(EmbeddedClient.pause_deployment)
    resume_deployment = _threaded(EmbeddedClient.resume_deployment)
    create_deployment_schedules = _threaded(EmbeddedClient.create_deployment_schedules)
    read_deployment_schedules = _threaded(EmbeddedClient.read_deployment_schedules)
    update_deployment_schedule = _threaded(EmbeddedClient.update_deployment_schedule)
    delete_deployment_schedule = _threaded(EmbeddedClient.delete_deployment_schedule)
    create_flow_run_from_deployment = _threaded(EmbeddedClient.create_flow_run_from_deployment)
    create_work_pool = _threaded(EmbeddedClient.create_work_pool)
    read_work_pool = _threaded(EmbeddedClient.read_work_pool)
    read_work_pools = _threaded(EmbeddedClient.read_work_pools)
    update_work_pool = _threaded(EmbeddedClient.update_work_pool)
    delete_work_pool = _threaded(EmbeddedClient.delete_work_pool)
    create_work_queue = _threaded(EmbeddedClient.create_work_queue)
    read_work_queue = _threaded(EmbeddedClient.read_work_queue)
    read_work_queue_by_name = _threaded(EmbeddedClient.read_work_queue_by_name)
    read_work_queues = _threaded(EmbeddedClient.read_work_queues)
    update_work_queue = _threaded(EmbeddedClient.update_work_queue)
    delete_work_queue_by_id = _threaded(EmbeddedClient.delete_work_queue_by_id)
    send_worker_heartbeat = _threaded(EmbeddedClient.send_worker_heartbeat)
    read_workers_for_work_pool = _threaded(EmbeddedClient.read_workers_for_work_pool)
    get_scheduled_flow_runs_for_work_pool = _threaded(
        EmbeddedClient.get_scheduled_flow_runs_for_work_pool
    )
    create_flow_run_input = _threaded(EmbeddedClient.create_flow_run_input)
    read_flow_run_input = _threaded(EmbeddedClient.read_flow_run_input)
    delete_flow_run_input = _threaded(EmbeddedClient.delete_flow_run_input)
    resume_flow_run = _threaded(EmbeddedClient.resume_flow_run)
    cancel_flow_run = _threaded(EmbeddedClient.cancel_flow_run)
