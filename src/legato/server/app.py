"""``create_app(settings)``: the FastAPI application, assembled in one place.

It mounts the routers under ``/api``, maps legato's errors to statuses
(``server/errors.py``), adds basic auth when ``server.api.auth_string`` is
set, and at startup brings the database to the schema's head (one query when
it is there already). Handlers are plain functions run in FastAPI's thread
pool; each calls the orchestration service through the app's ``Store``.
The background services the settings enable (the scheduler, late runs:
``server/services``) start after the schema check and stop at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from legato.orchestration.store import Store
from legato.server import database
from legato.server.api import (
    admin,
    artifacts,
    block_documents,
    concurrency_limits,
    deployments,
    flow_run_inputs,
    flow_runs,
    flows,
    logs,
    records,
    task_runs,
    variables,
    work_pools,
)
from legato.server.auth import BasicAuthMiddleware
from legato.server.errors import install_error_handlers
from legato.server.services import enabled_services
from legato.settings import Settings, get_current_settings
from legato.storage.engine import store_url

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api"

_ROUTERS = (
    admin.router,
    flows.router,
    flow_runs.router,
    flow_runs.states_router,
    flow_run_inputs.router,
    task_runs.router,
    task_runs.states_router,
    logs.router,
    records.router,
    artifacts.router,
    variables.router,
    block_documents.router,
    concurrency_limits.router,
    concurrency_limits.tag_router,
    deployments.router,
    work_pools.router,
    work_pools.queues_router,
)


def _responses(settings: Settings) -> dict[int | str, dict[str, Any]]:
    """Answers any route may give: a body that is not JSON; missing credentials."""
    responses: dict[int | str, dict[str, Any]] = {
        400: {"description": "The body could not be parsed (not JSON, or not UTF-8)"}
    }
    if settings.server.api.auth_string:
        responses[401] = {"description": "Missing or wrong credentials (HTTP basic auth)"}
    return responses


def create_app(settings: Settings | None = None) -> FastAPI:
    """The legato REST API for ``settings`` (default: the current settings)."""
    from legato import __version__

    settings = settings or get_current_settings()
    url = store_url(settings)
    store = Store(url)

    services = enabled_services(store, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(database.ensure_schema, url)
        for service in services:
            await service.start()
        try:
            yield
        finally:
            for service in services:
                await service.stop()
            store.close()

    app = FastAPI(
        title="legato",
        version=__version__,
        description="Workflows with Prefect 3's API: the REST server.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
        responses=_responses(settings),
    )
    app.state.settings = settings
    app.state.store = store
    app.state.services = services
    for router in _ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    install_error_handlers(app)
    auth_string = settings.server.api.auth_string
    if auth_string:
        app.add_middleware(BasicAuthMiddleware, auth_string=auth_string)
    return app
