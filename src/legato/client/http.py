"""The HTTP clients: ``SyncHttpClient`` (httpx.Client) and ``AsyncHttpClient`` (httpx.AsyncClient).

Both drive the same operations (``legato.client._operations``): a method
builds its requests there, and the client only sends them. One connection
pool per client (keep-alive), basic auth from ``LEGATO_API_AUTH_STRING``.

Failures:

- 429, 502, 503 and 504, and connections that fail, are retried up to
  ``max_retries`` times with exponential back-off and jitter, honouring a
  ``Retry-After`` header; a request that may have reached the server is
  resent only when it is idempotent (reads, the recorder's batches);
- a server that cannot be reached raises ``ServerUnavailable`` naming the
  URL and how to start one;
- 404 raises ``ObjectNotFound``, 409 ``ObjectAlreadyExists``, 422
  ``ParameterError`` (as the embedded client does); any other error status
  ``HttpError`` with the method, URL, status and the server's detail.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import Callable, Coroutine, Mapping
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

import httpx

from legato.client import _operations as ops
from legato.client import _ops_concurrency as concurrency_ops
from legato.client import _ops_deployments as deployment_ops
from legato.client import _ops_flow_run_inputs as input_ops
from legato.client import _ops_work_pools as work_pool_ops
from legato.client._http_policy import (
    RETRY_STATUSES,
    backoff_delay,
    basic_auth,
    unauthorized_message,
    unreachable_message,
)
from legato.client.errors import HttpError, ServerUnavailable, error_detail
from legato.exceptions import ObjectAlreadyExists, ObjectNotFound, ParameterError

__all__ = ["AsyncHttpClient", "SyncHttpClient"]

P = ParamSpec("P")
T = TypeVar("T")
C = TypeVar("C", httpx.Client, httpx.AsyncClient)

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)

# Connections that failed before the request reached the server: always safe to retry.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@functools.cache
def _ssl_context(https: bool) -> ssl.SSLContext:
    """One TLS context per process, shared by every client (httpx makes one per client
    otherwise, loading the CA bundle each time: ~40 ms).

    A plain-http API URL gets a context with no CA certificates: it is never
    used, and if it were (an https URL), verification would fail closed.
    """
    if https:
        return httpx.create_ssl_context()
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class _Transport:
    """What both clients share: the URL, auth, retry policy and error mapping."""

    def __init__(
        self,
        api_url: str,
        auth_string: str | None,
        max_retries: int,
        retry_backoff_seconds: float,
        retry_jitter_factor: float,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.auth = basic_auth(auth_string)
        self.max_retries = max(0, max_retries)
        self.backoff = retry_backoff_seconds
        self.jitter = retry_jitter_factor
        self.session = ops.Session()

    def client_options(self, httpx_settings: Mapping[str, Any] | None) -> dict[str, Any]:
        options: dict[str, Any] = {
            "base_url": self.api_url,
            "timeout": DEFAULT_TIMEOUT,
            "headers": {"User-Agent": "legato-client"},
        }
        if self.auth is not None:
            options["auth"] = self.auth
        options["verify"] = _ssl_context(self.api_url.startswith("https:"))
        options.update(httpx_settings or {})
        return options

    def build(
        self, client: httpx.Client | httpx.AsyncClient, request: ops.Request
    ) -> httpx.Request:
        headers = {"Content-Type": "application/json"} if request.content is not None else None
        return client.build_request(
            request.method,
            self.api_url + request.path,
            json=request.json if request.content is None else None,
            content=request.content,
            params=request.params,
            headers=headers,
        )

    def attempts(self, request: ops.Request) -> int:
        return 1 + (self.max_retries if request.retries else 0)

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``: Retry-After, else back-off with jitter."""
        retry_after = None if response is None else response.headers.get("Retry-After")
        return backoff_delay(attempt, self.backoff, self.jitter, retry_after)

    def should_retry(self, request: ops.Request, exc: httpx.TransportError) -> bool:
        return isinstance(exc, _NOT_SENT) or request.is_idempotent

    def unreachable(self, exc: httpx.TransportError) -> ServerUnavailable:
        return ServerUnavailable(unreachable_message(self.api_url, exc), url=self.api_url)

    def error(self, request: ops.Request, response: httpx.Response) -> Exception | None:
        """The error a response means, None for success."""
        if response.is_success:
            return None
        detail = _detail(response)
        where = f"{request.method} {response.request.url}"
        status = response.status_code
        if status == 404:
            return ObjectNotFound(f"{detail} ({where})")
        if status == 409:
            return ObjectAlreadyExists(str(detail))
        if status == 422:
            return ParameterError(f"The server refused the request ({where}): {detail}")
        if status == 401:
            return HttpError(
                unauthorized_message(where, self.auth is not None),
                str(response.request.url),
                status,
                detail,
            )
        return HttpError(
            f"{where} failed with {status} {response.reason_phrase}: {detail}",
            str(response.request.url),
            status,
            detail,
        )


def _detail(response: httpx.Response) -> Any:
    return error_detail(response.content, response.reason_phrase)


class _HttpClient(Generic[C]):
    """What both clients are made of: a ``_Transport`` and an httpx client (``C``)."""

    _client_class: type[C]

    def __init__(
        self,
        api_url: str,
        *,
        auth_string: str | None = None,
        httpx_settings: Mapping[str, Any] | None = None,
        max_retries: int = 5,
        retry_backoff_seconds: float = 0.25,
        retry_jitter_factor: float = 0.2,
    ) -> None:
        self._transport = _Transport(
            api_url, auth_string, max_retries, retry_backoff_seconds, retry_jitter_factor
        )
        self._client: C = self._client_class(**self._transport.client_options(httpx_settings))

    @property
    def api_url(self) -> str:
        return self._transport.api_url


# -- the synchronous client -------------------------------------------------------------


def _sync(
    operation: Callable[Concatenate[ops.Session, P], ops.Operation[T]],
) -> Callable[Concatenate[SyncHttpClient, P], T]:
    def method(self: SyncHttpClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._run(operation(self._transport.session, *args, **kwargs))

    method.__name__ = operation.__name__
    method.__qualname__ = f"SyncHttpClient.{operation.__name__}"
    method.__doc__ = operation.__doc__
    return method


class SyncHttpClient(_HttpClient[httpx.Client]):
    """A ``Client`` that talks to a legato server (``legato server start``).

    ``api_url`` is the API's URL (``http://127.0.0.1:4200/api``);
    ``httpx_settings`` are extra ``httpx.Client`` arguments (e.g.
    ``event_hooks``). Close it, or use it as a context manager.
    """

    _client_class = httpx.Client

    def __repr__(self) -> str:
        return f"SyncHttpClient({self.api_url!r})"

    def __enter__(self) -> SyncHttpClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool; idempotent."""
        self._client.close()

    def _run(self, operation: ops.Operation[T]) -> T:
        try:
            request = next(operation)
            while True:
                try:
                    response = self._send(request)
                except Exception as exc:
                    request = operation.throw(exc)
                else:
                    request = operation.send(response)
        except StopIteration as stop:
            result: T = stop.value
            return result

    def _send(self, request: ops.Request) -> httpx.Response:
        transport = self._transport
        attempts = transport.attempts(request)
        for attempt in range(1, attempts + 1):
            try:
                response = self._client.send(transport.build(self._client, request))
            except httpx.TransportError as exc:
                if attempt == attempts or not transport.should_retry(request, exc):
                    raise transport.unreachable(exc) from exc
                time.sleep(transport.delay(attempt, None))
                continue
            if response.status_code in RETRY_STATUSES and attempt < attempts:
                time.sleep(transport.delay(attempt, response))
                continue
            error = transport.error(request, response)
            if error is not None:
                raise error
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    api_healthcheck = _sync(ops.api_healthcheck)
    record = _sync(ops.record)
    create_flow = _sync(ops.create_flow)
    create_flow_from_name = _sync(ops.create_flow_from_name)
    read_flow = _sync(ops.read_flow)
    read_flow_by_name = _sync(ops.read_flow_by_name)
    read_flows = _sync(ops.read_flows)
    delete_flow = _sync(ops.delete_flow)
    create_flow_run = _sync(ops.create_flow_run)
    read_flow_run = _sync(ops.read_flow_run)
    read_flow_runs = _sync(ops.read_flow_runs)
    count_flow_runs = _sync(ops.count_flow_runs)
    update_flow_run = _sync(ops.update_flow_run)
    delete_flow_run = _sync(ops.delete_flow_run)
    set_flow_run_state = _sync(ops.set_flow_run_state)
    read_flow_run_states = _sync(ops.read_flow_run_states)
    read_flow_run_graph = _sync(ops.read_flow_run_graph)
    create_task_run = _sync(ops.create_task_run)
    read_task_run = _sync(ops.read_task_run)
    read_task_runs = _sync(ops.read_task_runs)
    count_task_runs = _sync(ops.count_task_runs)
    set_task_run_state = _sync(ops.set_task_run_state)
    read_task_run_states = _sync(ops.read_task_run_states)
    delete_task_run = _sync(ops.delete_task_run)
    read_states = _sync(ops.read_states)
    create_logs = _sync(ops.create_logs)
    read_logs = _sync(ops.read_logs)
    create_artifact = _sync(ops.create_artifact)
    update_artifact = _sync(ops.update_artifact)
    read_artifact = _sync(ops.read_artifact)
    read_latest_artifact = _sync(ops.read_latest_artifact)
    read_artifacts = _sync(ops.read_artifacts)
    count_artifacts = _sync(ops.count_artifacts)
    delete_artifact = _sync(ops.delete_artifact)
    create_variable = _sync(ops.create_variable)
    read_variable_by_name = _sync(ops.read_variable_by_name)
    read_variables = _sync(ops.read_variables)
    update_variable = _sync(ops.update_variable)
    set_variable = _sync(ops.set_variable)
    delete_variable_by_name = _sync(ops.delete_variable_by_name)
    save_block_document = _sync(ops.save_block_document)
    read_block_document = _sync(ops.read_block_document)
    read_block_documents = _sync(ops.read_block_documents)
    delete_block_document = _sync(ops.delete_block_document)
    create_global_concurrency_limit = _sync(concurrency_ops.create_global_concurrency_limit)
    read_global_concurrency_limit_by_name = _sync(
        concurrency_ops.read_global_concurrency_limit_by_name
    )
    read_global_concurrency_limits = _sync(concurrency_ops.read_global_concurrency_limits)
    update_global_concurrency_limit = _sync(concurrency_ops.update_global_concurrency_limit)
    upsert_global_concurrency_limit_by_name = _sync(
        concurrency_ops.upsert_global_concurrency_limit_by_name
    )
    delete_global_concurrency_limit_by_name = _sync(
        concurrency_ops.delete_global_concurrency_limit_by_name
    )
    create_concurrency_limit = _sync(concurrency_ops.create_concurrency_limit)
    read_concurrency_limit_by_tag = _sync(concurrency_ops.read_concurrency_limit_by_tag)
    read_concurrency_limits = _sync(concurrency_ops.read_concurrency_limits)
    reset_concurrency_limit_by_tag = _sync(concurrency_ops.reset_concurrency_limit_by_tag)
    delete_concurrency_limit_by_tag = _sync(concurrency_ops.delete_concurrency_limit_by_tag)
    acquire_concurrency_slots_with_lease = _sync(
        concurrency_ops.acquire_concurrency_slots_with_lease
    )
    renew_concurrency_lease = _sync(concurrency_ops.renew_concurrency_lease)
    release_concurrency_slots_with_lease = _sync(
        concurrency_ops.release_concurrency_slots_with_lease
    )
    read_concurrency_leases = _sync(concurrency_ops.read_concurrency_leases)
    create_deployment = _sync(deployment_ops.create_deployment)
    read_deployment = _sync(deployment_ops.read_deployment)
    read_deployment_by_name = _sync(deployment_ops.read_deployment_by_name)
    read_deployments = _sync(deployment_ops.read_deployments)
    count_deployments = _sync(deployment_ops.count_deployments)
    get_scheduled_flow_runs_for_deployments = _sync(
        deployment_ops.get_scheduled_flow_runs_for_deployments
    )
    update_deployment = _sync(deployment_ops.update_deployment)
    delete_deployment = _sync(deployment_ops.delete_deployment)
    pause_deployment = _sync(deployment_ops.pause_deployment)
    resume_deployment = _sync(deployment_ops.resume_deployment)
    create_deployment_schedules = _sync(deployment_ops.create_deployment_schedules)
    read_deployment_schedules = _sync(deployment_ops.read_deployment_schedules)
    update_deployment_schedule = _sync(deployment_ops.update_deployment_schedule)
    delete_deployment_schedule = _sync(deployment_ops.delete_deployment_schedule)
    create_flow_run_from_deployment = _sync(deployment_ops.create_flow_run_from_deployment)
    create_work_pool = _sync(work_pool_ops.create_work_pool)
    read_work_pool = _sync(work_pool_ops.read_work_pool)
    read_work_pools = _sync(work_pool_ops.read_work_pools)
    update_work_pool = _sync(work_pool_ops.update_work_pool)
    delete_work_pool = _sync(work_pool_ops.delete_work_pool)
    create_work_queue = _sync(work_pool_ops.create_work_queue)
    read_work_queue = _sync(work_pool_ops.read_work_queue)
    read_work_queue_by_name = _sync(work_pool_ops.read_work_queue_by_name)
    read_work_queues = _sync(work_pool_ops.read_work_queues)
    update_work_queue = _sync(work_pool_ops.update_work_queue)
    delete_work_queue_by_id = _sync(work_pool_ops.delete_work_queue_by_id)
    send_worker_heartbeat = _sync(work_pool_ops.send_worker_heartbeat)
    read_workers_for_work_pool = _sync(work_pool_ops.read_workers_for_work_pool)
    get_scheduled_flow_runs_for_work_pool = _sync(
        work_pool_ops.get_scheduled_flow_runs_for_work_pool
    )
    create_flow_run_input = _sync(input_ops.create_flow_run_input)
    read_flow_run_input = _sync(input_ops.read_flow_run_input)
    delete_flow_run_input = _sync(input_ops.delete_flow_run_input)
    resume_flow_run = _sync(input_ops.resume_flow_run)
    cancel_flow_run = _sync(input_ops.cancel_flow_run)


# -- the asynchronous client ------------------------------------------------------------


def _async(
    operation: Callable[Concatenate[ops.Session, P], ops.Operation[T]],
) -> Callable[Concatenate[AsyncHttpClient, P], Coroutine[Any, Any, T]]:
    async def method(self: AsyncHttpClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._run(operation(self._transport.session, *args, **kwargs))

    method.__name__ = operation.__name__
    method.__qualname__ = f"AsyncHttpClient.{operation.__name__}"
    method.__doc__ = operation.__doc__
    return method


class AsyncHttpClient(_HttpClient[httpx.AsyncClient]):
    """The asynchronous twin of ``SyncHttpClient``: the same methods, as coroutines.

    Use it as an async context manager (``async with get_client() as client:``).
    """

    _client_class = httpx.AsyncClient

    def __repr__(self) -> str:
        return f"AsyncHttpClient({self.api_url!r})"

    async def __aenter__(self) -> AsyncHttpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool; idempotent."""
        await self._client.aclose()

    close = aclose

    async def _run(self, operation: ops.Operation[T]) -> T:
        try:
            request = next(operation)
            while True:
                try:
                    response = await self._send(request)
                except Exception as exc:
                    request = operation.throw(exc)
                else:
                    request = operation.send(response)
        except StopIteration as stop:
            result: T = stop.value
            return result

    async def _send(self, request: ops.Request) -> httpx.Response:
        transport = self._transport
        attempts = transport.attempts(request)
        for attempt in range(1, attempts + 1):
            try:
                response = await self._client.send(transport.build(self._client, request))
            except httpx.TransportError as exc:
                if attempt == attempts or not transport.should_retry(request, exc):
                    raise transport.unreachable(exc) from exc
                await asyncio.sleep(transport.delay(attempt, None))
                continue
            if response.status_code in RETRY_STATUSES and attempt < attempts:
                await asyncio.sleep(transport.delay(attempt, response))
                continue
            error = transport.error(request, response)
            if error is not None:
                raise error
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    api_healthcheck = _async(ops.api_healthcheck)
    record = _async(ops.record)
    create_flow = _async(ops.create_flow)
    create_flow_from_name = _async(ops.create_flow_from_name)
    read_flow = _async(ops.read_flow)
    read_flow_by_name = _async(ops.read_flow_by_name)
    read_flows = _async(ops.read_flows)
    delete_flow = _async(ops.delete_flow)
    create_flow_run = _async(ops.create_flow_run)
    read_flow_run = _async(ops.read_flow_run)
    read_flow_runs = _async(ops.read_flow_runs)
    count_flow_runs = _async(ops.count_flow_runs)
    update_flow_run = _async(ops.update_flow_run)
    delete_flow_run = _async(ops.delete_flow_run)
    set_flow_run_state = _async(ops.set_flow_run_state)
    read_flow_run_states = _async(ops.read_flow_run_states)
    read_flow_run_graph = _async(ops.read_flow_run_graph)
    create_task_run = _async(ops.create_task_run)
    read_task_run = _async(ops.read_task_run)
    read_task_runs = _async(ops.read_task_runs)
    count_task_runs = _async(ops.count_task_runs)
    set_task_run_state = _async(ops.set_task_run_state)
    read_task_run_states = _async(ops.read_task_run_states)
    delete_task_run = _async(ops.delete_task_run)
    read_states = _async(ops.read_states)
    create_logs = _async(ops.create_logs)
    read_logs = _async(ops.read_logs)
    create_artifact = _async(ops.create_artifact)
    update_artifact = _async(ops.update_artifact)
    read_artifact = _async(ops.read_artifact)
    read_latest_artifact = _async(ops.read_latest_artifact)
    read_artifacts = _async(ops.read_artifacts)
    count_artifacts = _async(ops.count_artifacts)
    delete_artifact = _async(ops.delete_artifact)
    create_variable = _async(ops.create_variable)
    read_variable_by_name = _async(ops.read_variable_by_name)
    read_variables = _async(ops.read_variables)
    update_variable = _async(ops.update_variable)
    set_variable = _async(ops.set_variable)
    delete_variable_by_name = _async(ops.delete_variable_by_name)
    save_block_document = _async(ops.save_block_document)
    read_block_document = _async(ops.read_block_document)
    read_block_documents = _async(ops.read_block_documents)
    delete_block_document = _async(ops.delete_block_document)
    create_global_concurrency_limit = _async(concurrency_ops.create_global_concurrency_limit)
    read_global_concurrency_limit_by_name = _async(
        concurrency_ops.read_global_concurrency_limit_by_name
    )
    read_global_concurrency_limits = _async(concurrency_ops.read_global_concurrency_limits)
    update_global_concurrency_limit = _async(concurrency_ops.update_global_concurrency_limit)
    upsert_global_concurrency_limit_by_name = _async(
        concurrency_ops.upsert_global_concurrency_limit_by_name
    )
    delete_global_concurrency_limit_by_name = _async(
        concurrency_ops.delete_global_concurrency_limit_by_name
    )
    create_concurrency_limit = _async(concurrency_ops.create_concurrency_limit)
    read_concurrency_limit_by_tag = _async(concurrency_ops.read_concurrency_limit_by_tag)
    read_concurrency_limits = _async(concurrency_ops.read_concurrency_limits)
    reset_concurrency_limit_by_tag = _async(concurrency_ops.reset_concurrency_limit_by_tag)
    delete_concurrency_limit_by_tag = _async(concurrency_ops.delete_concurrency_limit_by_tag)
    acquire_concurrency_slots_with_lease = _async(
        concurrency_ops.acquire_concurrency_slots_with_lease
    )
    renew_concurrency_lease = _async(concurrency_ops.renew_concurrency_lease)
    release_concurrency_slots_with_lease = _async(
        concurrency_ops.release_concurrency_slots_with_lease
    )
    read_concurrency_leases = _async(concurrency_ops.read_concurrency_leases)
    create_deployment = _async(deployment_ops.create_deployment)
    read_deployment = _async(deployment_ops.read_deployment)
    read_deployment_by_name = _async(deployment_ops.read_deployment_by_name)
    read_deployments = _async(deployment_ops.read_deployments)
    count_deployments = _async(deployment_ops.count_deployments)
    get_scheduled_flow_runs_for_deployments = _async(
        deployment_ops.get_scheduled_flow_runs_for_deployments
    )
    update_deployment = _async(deployment_ops.update_deployment)
    delete_deployment = _async(deployment_ops.delete_deployment)
    pause_deployment = _async(deployment_ops.pause_deployment)
    resume_deployment = _async(deployment_ops.resume_deployment)
    create_deployment_schedules = _async(deployment_ops.create_deployment_schedules)
    read_deployment_schedules = _async(deployment_ops.read_deployment_schedules)
    update_deployment_schedule = _async(deployment_ops.update_deployment_schedule)
    delete_deployment_schedule = _async(deployment_ops.delete_deployment_schedule)
    create_flow_run_from_deployment = _async(deployment_ops.create_flow_run_from_deployment)
    create_work_pool = _async(work_pool_ops.create_work_pool)
    read_work_pool = _async(work_pool_ops.read_work_pool)
    read_work_pools = _async(work_pool_ops.read_work_pools)
    update_work_pool = _async(work_pool_ops.update_work_pool)
    delete_work_pool = _async(work_pool_ops.delete_work_pool)
    create_work_queue = _async(work_pool_ops.create_work_queue)
    read_work_queue = _async(work_pool_ops.read_work_queue)
    read_work_queue_by_name = _async(work_pool_ops.read_work_queue_by_name)
    read_work_queues = _async(work_pool_ops.read_work_queues)
    update_work_queue = _async(work_pool_ops.update_work_queue)
    delete_work_queue_by_id = _async(work_pool_ops.delete_work_queue_by_id)
    send_worker_heartbeat = _async(work_pool_ops.send_worker_heartbeat)
    read_workers_for_work_pool = _async(work_pool_ops.read_workers_for_work_pool)
    get_scheduled_flow_runs_for_work_pool = _async(
        work_pool_ops.get_scheduled_flow_runs_for_work_pool
    )
    create_flow_run_input = _async(input_ops.create_flow_run_input)
    read_flow_run_input = _async(input_ops.read_flow_run_input)
    delete_flow_run_input = _async(input_ops.delete_flow_run_input)
    resume_flow_run = _async(input_ops.resume_flow_run)
    cancel_flow_run = _async(input_ops.cancel_flow_run)
