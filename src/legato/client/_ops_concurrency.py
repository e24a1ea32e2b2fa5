"""The HTTP clients' concurrency-limit operations (see ``_operations`` for how they run).

The same signatures and errors as ``EmbeddedClient``'s (``_embedded_concurrency``):
a 404 becomes the embedded client's ObjectNotFound (or LeaseExpired), naming
the fix. Taking slots is one request (``POST /v2/concurrency_limits/acquire``),
never resent after a connection that failed mid-request (it could take the
slots twice); releasing is one idempotent request.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from legato.client import _concurrency_arguments as args
from legato.client._operations import Operation, Request, Session, _paged
from legato.client.schemas.concurrency import (
    RESERVED_LIMIT_NAMES,
    AcquireMode,
    ConcurrencyAcquisition,
    ConcurrencyLease,
    ConcurrencyLimit,
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitResponse,
    GlobalConcurrencyLimitUpdate,
)
from legato.exceptions import LeaseExpired, ObjectNotFound

__all__ = [
    "acquire_concurrency_slots_with_lease",
    "create_concurrency_limit",
    "create_global_concurrency_limit",
    "delete_concurrency_limit_by_tag",
    "delete_global_concurrency_limit_by_name",
    "read_concurrency_leases",
    "read_concurrency_limit_by_tag",
    "read_concurrency_limits",
    "read_global_concurrency_limit_by_name",
    "read_global_concurrency_limits",
    "release_concurrency_slots_with_lease",
    "renew_concurrency_lease",
    "reset_concurrency_limit_by_tag",
    "update_global_concurrency_limit",
    "upsert_global_concurrency_limit_by_name",
]

_V2 = "/v2/concurrency_limits"
DEFAULT_READ_LIMIT = 100


def _limit_path(name: str) -> str:
    return f"{_V2}/{quote(name, safe='')}"


def _tag_path(tag: str) -> str:
    return f"/concurrency_limits/tag/{quote(tag, safe='')}"


def _lease_path(lease_id: uuid.UUID | str) -> str | None:
    """The path of a lease, None for an id that is not a UUID (it names no lease)."""
    try:
        return f"{_V2}/leases/{uuid.UUID(str(lease_id))}"
    except ValueError:
        return None


# -- global limits -------------------------------------------------------------------


def create_global_concurrency_limit(
    session: Session, limit: GlobalConcurrencyLimitCreate
) -> Operation[uuid.UUID]:
    """Create a global concurrency (or rate) limit; its id. ObjectAlreadyExists if taken."""
    body = limit.model_dump(mode="json")
    response = yield Request("POST", f"{_V2}/", json=body, is_idempotent=False)
    return uuid.UUID(response.json()["id"])


def read_global_concurrency_limit_by_name(
    session: Session, name: str
) -> Operation[GlobalConcurrencyLimitResponse]:
    """One limit with its slots in use; raises ObjectNotFound."""
    if name in RESERVED_LIMIT_NAMES:  # its path is the list of leases
        raise args.limit_not_found(name)
    try:
        response = yield Request("GET", _limit_path(name))
    except ObjectNotFound:
        raise args.limit_not_found(name) from None
    return GlobalConcurrencyLimitResponse.model_validate(response.json())


def read_global_concurrency_limits(
    session: Session, limit: int | None = None, offset: int = 0
) -> Operation[list[GlobalConcurrencyLimitResponse]]:
    """Every limit (tag limits included, as ``tag:<tag>``), by name."""
    parse = GlobalConcurrencyLimitResponse.model_validate
    count = DEFAULT_READ_LIMIT if limit is None else limit
    return (yield from _paged(f"{_V2}/filter", {}, count, offset, parse))


def update_global_concurrency_limit(
    session: Session, name: str, limit: GlobalConcurrencyLimitUpdate
) -> Operation[None]:
    """Change the fields set on ``limit`` (name, limit, active, slot decay); ObjectNotFound."""
    body = limit.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    try:
        yield Request("PATCH", _limit_path(name), json=body)
    except ObjectNotFound:
        raise args.limit_not_found(name) from None


def upsert_global_concurrency_limit_by_name(
    session: Session, name: str, limit: int
) -> Operation[None]:
    """Create the limit ``name``, or set its ``limit`` if it exists."""
    try:
        yield Request("PATCH", _limit_path(name), json={"limit": limit})
    except ObjectNotFound:
        create = GlobalConcurrencyLimitCreate(name=name, limit=limit)
        yield from create_global_concurrency_limit(session, create)


def delete_global_concurrency_limit_by_name(session: Session, name: str) -> Operation[None]:
    """Delete a limit, freeing its slots; raises ObjectNotFound."""
    try:
        yield Request("DELETE", _limit_path(name))
    except ObjectNotFound:
        raise args.limit_not_found(name) from None


# -- tag limits ----------------------------------------------------------------------


def create_concurrency_limit(
    session: Session, tag: str, concurrency_limit: int
) -> Operation[uuid.UUID]:
    """Limit the task runs carrying ``tag`` to ``concurrency_limit`` at once (set if it exists)."""
    body = {"tag": tag, "concurrency_limit": concurrency_limit}
    response = yield Request("POST", "/concurrency_limits/", json=body)
    return uuid.UUID(response.json()["id"])


def read_concurrency_limit_by_tag(session: Session, tag: str) -> Operation[ConcurrencyLimit]:
    """The limit of ``tag``, with the task runs holding it; raises ObjectNotFound."""
    try:
        response = yield Request("GET", _tag_path(tag))
    except ObjectNotFound:
        raise args.tag_not_found(tag) from None
    return ConcurrencyLimit.model_validate(response.json())


def read_concurrency_limits(
    session: Session, limit: int | None = None, offset: int = 0
) -> Operation[list[ConcurrencyLimit]]:
    """Every tag limit, by tag."""
    count = DEFAULT_READ_LIMIT if limit is None else limit
    parse = ConcurrencyLimit.model_validate
    return (yield from _paged("/concurrency_limits/filter", {}, count, offset, parse))


def reset_concurrency_limit_by_tag(session: Session, tag: str) -> Operation[None]:
    """Free every slot of the limit of ``tag`` (its holders lose them); ObjectNotFound."""
    try:
        yield Request("POST", f"{_tag_path(tag)}/reset")
    except ObjectNotFound:
        raise args.tag_not_found(tag) from None


def delete_concurrency_limit_by_tag(session: Session, tag: str) -> Operation[None]:
    """Delete the limit of ``tag``; raises ObjectNotFound."""
    try:
        yield Request("DELETE", _tag_path(tag))
    except ObjectNotFound:
        raise args.tag_not_found(tag) from None


# -- slots and leases ----------------------------------------------------------------


def acquire_concurrency_slots_with_lease(
    session: Session,
    names: Sequence[str] | str,
    slots: int,
    mode: AcquireMode = "concurrency",
    lease_duration_seconds: float | None = None,
    holder: Mapping[str, Any] | None = None,
) -> Operation[ConcurrencyAcquisition]:
    """Try once to take ``slots`` on every limit in ``names`` (all or none); never waits.

    ``lease_duration_seconds`` defaults to LEGATO_CONCURRENCY_LEASE_DURATION_SECONDS;
    ``holder`` (shown by ``legato concurrency-limit inspect``) to this process's pid and host.
    """
    body = {
        "names": args.names_list(names),
        "slots": slots,
        "mode": mode,
        "lease_duration_seconds": args.lease_seconds(lease_duration_seconds),
        "holder": args.lease_holder(holder),
    }
    response = yield Request("POST", f"{_V2}/acquire", json=body, is_idempotent=False)
    return ConcurrencyAcquisition.model_validate(response.json())


def renew_concurrency_lease(
    session: Session, lease_id: uuid.UUID | str, lease_duration_seconds: float | None = None
) -> Operation[None]:
    """Extend a lease from now; LeaseExpired if it expired or was released (slots lost)."""
    path = _lease_path(lease_id)
    if path is None:
        raise LeaseExpired(lease_id)
    body = {"lease_duration_seconds": args.lease_seconds(lease_duration_seconds)}
    try:
        yield Request("POST", f"{path}/renew", json=body)
    except ObjectNotFound:
        raise LeaseExpired(lease_id) from None


def release_concurrency_slots_with_lease(
    session: Session, lease_id: uuid.UUID | str
) -> Operation[None]:
    """Give a lease's slots back; a lease that expired or was released is no error."""
    path = _lease_path(lease_id)
    if path is not None:
        yield Request("DELETE", path)


def read_concurrency_leases(
    session: Session, name: str | None = None
) -> Operation[list[ConcurrencyLease]]:
    """Unexpired leases, oldest first (of the limit ``name`` only, if given)."""
    params = None if name is None else {"name": name}
    response = yield Request("GET", f"{_V2}/leases", params=params)
    return [ConcurrencyLease.model_validate(item) for item in response.json()]
