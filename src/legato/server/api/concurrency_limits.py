"""/api/v2/concurrency_limits (global limits, slots, leases) and /api/concurrency_limits (tags).

Every route calls ``legato.orchestration.concurrency_limits`` or
``concurrency_leases``, the functions the embedded client calls. Taking
slots (``POST /v2/concurrency_limits/acquire``) never waits: it answers 200
whether it granted them or not (``granted``, ``refused_by``,
``retry_after_seconds``); the client retries. Acquire and release are one
request and one transaction each, run inline on SQLite (a SQLite write costs
about as much as a hop to the thread pool).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Response, status
from pydantic import Field

from legato.client.schemas.concurrency import (
    AcquireMode,
    ConcurrencyAcquisition,
    ConcurrencyLease,
    ConcurrencyLimit,
    ConcurrencyLimitCreate,
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitResponse,
    GlobalConcurrencyLimitUpdate,
    LimitSlots,
)
from legato.exceptions import ObjectNotFound
from legato.orchestration import concurrency_leases as leases
from legato.orchestration import concurrency_leases_sqlite as sqlite_leases
from legato.orchestration import concurrency_limits as limits
from legato.orchestration.concurrency_leases import MAX_LEASE_SECONDS
from legato.orchestration.store import Store
from legato.server.api._common import (
    Body,
    Limit,
    Offset,
    SettingsDependency,
    StoreDependency,
    not_found_response,
    run_store_work,
)
from legato.settings import Settings

T = TypeVar("T")

router = APIRouter(prefix="/v2/concurrency_limits", tags=["Concurrency limits"])
tag_router = APIRouter(prefix="/concurrency_limits", tags=["Tag concurrency limits"])

_NOT_FOUND = not_found_response("No concurrency limit has this name")
_TAG_NOT_FOUND = not_found_response("No concurrency limit for this tag")
_LEASE_NOT_FOUND = not_found_response("The lease expired, was released, or never existed")

LeaseSeconds = Annotated[
    float | None,
    Field(
        default=None,
        gt=0,
        le=MAX_LEASE_SECONDS,
        allow_inf_nan=False,
        description="How long the lease lasts unless renewed; default: the server's "
        "LEGATO_CONCURRENCY_LEASE_DURATION_SECONDS.",
    ),
]


class PageBody(Body):
    limit: Limit = 200
    offset: Offset = 0


class AcquireBody(Body):
    """Take ``slots`` on every limit in ``names`` at once, or on none."""

    names: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(
        min_length=1, max_length=100
    )
    slots: LimitSlots
    mode: AcquireMode = "concurrency"
    lease_duration_seconds: LeaseSeconds = None
    holder: dict[str, Any] | None = Field(
        default=None, description="Who holds the slots (pid, hostname, run ids...), for people."
    )


class RenewBody(Body):
    lease_duration_seconds: LeaseSeconds = None


def _lease_seconds(value: float | None, settings: Settings) -> float:
    return settings.concurrency.lease_duration_seconds if value is None else value


def _not_found(name: str) -> ObjectNotFound:
    return ObjectNotFound(f"No concurrency limit named {name!r}.")


def _tag_not_found(tag: str) -> ObjectNotFound:
    return ObjectNotFound(f"No concurrency limit for tag {tag!r}.")


def _json(model: Any, status_code: int = status.HTTP_200_OK) -> Response:
    """A model as the answer (it serializes itself; FastAPI would validate it again)."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


# -- global limits -----------------------------------------------------------------


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "A limit has this name"}},
)
def create_limit(
    body: GlobalConcurrencyLimitCreate, store: StoreDependency
) -> GlobalConcurrencyLimitResponse:
    """Create a global concurrency limit (a rate limit when ``slot_decay_per_second`` > 0)."""
    row = store.write(
        lambda c: limits.create_limit(
            c,
            name=body.name,
            limit=body.limit,
            active=body.active,
            slot_decay_per_second=body.slot_decay_per_second,
        )
    )
    return GlobalConcurrencyLimitResponse.from_row(row)


@router.post("/filter")
def read_limits(
    store: StoreDependency, body: PageBody | None = None
) -> list[GlobalConcurrencyLimitResponse]:
    """Limits by name (tag limits included, as ``tag:<tag>``), one page."""
    body = body or PageBody()
    rows = store.read(lambda c: limits.filter_limits(c, limit=body.limit, offset=body.offset))
    return [GlobalConcurrencyLimitResponse.from_row(row) for row in rows]


def _lease_work(store: Store, call: Callable[[Any, Any], T]) -> Callable[[], T]:
    """``call(service, connection)`` in one write transaction of ``store``.

    On SQLite the service is ``concurrency_leases_sqlite`` on the transaction's
    own ``sqlite3`` connection (a fraction of SQLAlchemy's cost per
    statement); on PostgreSQL, ``concurrency_leases``.
    """
    if store.dialect == "sqlite":
        return lambda: store.write(lambda c: call(sqlite_leases, c.connection.driver_connection))
    return lambda: store.write(lambda c: call(leases, c))


@router.post("/acquire", response_model=ConcurrencyAcquisition)
async def acquire_slots(
    body: AcquireBody, store: StoreDependency, settings: SettingsDependency
) -> Response:
    """Try once to take ``slots`` on every limit in ``names``; never waits (see ``granted``)."""
    seconds = _lease_seconds(body.lease_duration_seconds, settings)
    outcome = await run_store_work(
        store,
        _lease_work(
            store,
            lambda service, c: service.acquire(
                c, body.names, body.slots, mode=body.mode, lease_seconds=seconds, holder=body.holder
            ),
        ),
    )
    return _json(ConcurrencyAcquisition.model_validate(outcome, from_attributes=True))


@router.get("/leases")
def read_leases(store: StoreDependency, name: str | None = None) -> list[ConcurrencyLease]:
    """Unexpired leases, oldest first (of the limit ``name`` only, if given)."""
    rows = store.read(lambda c: leases.read_leases(c, name))
    return [ConcurrencyLease.from_row(row) for row in rows]


@router.post(
    "/leases/{lease_id}/renew",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_LEASE_NOT_FOUND,
)
async def renew_lease(
    lease_id: uuid.UUID,
    store: StoreDependency,
    settings: SettingsDependency,
    body: RenewBody | None = None,
) -> None:
    """Extend a lease from now; 404 when it expired or was released (its slots are gone)."""
    seconds = _lease_seconds(body.lease_duration_seconds if body else None, settings)
    await run_store_work(
        store,
        _lease_work(store, lambda service, c: service.renew_lease(c, str(lease_id), seconds)),
    )


@router.delete("/leases/{lease_id}", status_code=status.HTTP_204_NO_CONTENT)
async def release_lease(lease_id: uuid.UUID, store: StoreDependency) -> None:
    """Give a lease's slots back (no error if it expired or was released already)."""
    await run_store_work(
        store, _lease_work(store, lambda service, c: service.release_lease(c, str(lease_id)))
    )


@router.get("/{name}", responses=_NOT_FOUND)
def read_limit(name: str, store: StoreDependency) -> GlobalConcurrencyLimitResponse:
    """One limit, with its slots in use."""
    row = store.read(lambda c: limits.read_limit_by_name(c, name))
    if row is None:
        raise _not_found(name)
    return GlobalConcurrencyLimitResponse.from_row(row)


@router.patch(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_NOT_FOUND, 409: {"description": "Another limit has the new name"}},
)
def update_limit(name: str, body: GlobalConcurrencyLimitUpdate, store: StoreDependency) -> None:
    """Change a limit's name, limit, active flag or slot decay (fields left out keep theirs)."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if "name" in changes:
        changes["new_name"] = changes.pop("name")
    if store.write(lambda c: limits.update_limit(c, name, **changes)) is None:
        raise _not_found(name)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
def delete_limit(name: str, store: StoreDependency) -> None:
    """Delete a limit; its holders lose their slots on it."""
    if not store.write(lambda c: limits.delete_limit(c, name)):
        raise _not_found(name)


# -- tag limits ----------------------------------------------------------------------


@tag_router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    response_model=ConcurrencyLimit,
    responses={200: {"model": ConcurrencyLimit, "description": "The tag's limit was changed"}},
)
def create_tag_limit(body: ConcurrencyLimitCreate, store: StoreDependency) -> Response:
    """Limit the task runs carrying ``tag``: 201 when created, 200 when an existing one changed."""
    name = limits.tag_limit_name(body.tag)

    def work(connection: Any) -> tuple[dict[str, Any], bool]:
        _, created = limits.upsert_limit(connection, name, body.concurrency_limit)
        return limits.read_tag_limits(connection, tag=body.tag)[0], created

    row, created = store.write(work)
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return _json(ConcurrencyLimit.model_validate(row), code)


@tag_router.post("/filter")
def read_tag_limits(store: StoreDependency, body: PageBody | None = None) -> list[ConcurrencyLimit]:
    """Tag limits by tag, one page."""
    body = body or PageBody()
    rows = store.read(lambda c: limits.read_tag_limits(c, limit=body.limit, offset=body.offset))
    return [ConcurrencyLimit.model_validate(row) for row in rows]


@tag_router.get("/tag/{tag}", responses=_TAG_NOT_FOUND)
def read_tag_limit(tag: str, store: StoreDependency) -> ConcurrencyLimit:
    """The limit of one tag, with the task runs holding it."""
    rows = store.read(lambda c: limits.read_tag_limits(c, tag=tag))
    if not rows:
        raise _tag_not_found(tag)
    return ConcurrencyLimit.model_validate(rows[0])


@tag_router.post(
    "/tag/{tag}/reset", status_code=status.HTTP_204_NO_CONTENT, responses=_TAG_NOT_FOUND
)
def reset_tag_limit(tag: str, store: StoreDependency) -> None:
    """Free every slot of the tag's limit (its holders lose them)."""
    name = limits.tag_limit_name(tag)
    if store.write(lambda c: limits.reset_limit(c, name)) is None:
        raise _tag_not_found(tag)


@tag_router.delete("/tag/{tag}", status_code=status.HTTP_204_NO_CONTENT, responses=_TAG_NOT_FOUND)
def delete_tag_limit(tag: str, store: StoreDependency) -> None:
    """Delete the tag's limit."""
    name = limits.tag_limit_name(tag)
    if not store.write(lambda c: limits.delete_limit(c, name)):
        raise _tag_not_found(tag)
