"""The embedded client's concurrency-limit methods (a mixin of ``EmbeddedClient``).

Each method is one transaction on the store (``legato.orchestration``
``concurrency_limits`` and ``concurrency_leases``): the same functions the
server's routes call. Taking slots never waits; the caller retries after
``retry_after_seconds`` (``legato.concurrency`` does the waiting).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from legato.client import _concurrency_arguments as args

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy.engine import Connection

    from legato.client.schemas.concurrency import (
        AcquireMode,
        ConcurrencyAcquisition,
        ConcurrencyLease,
        ConcurrencyLimit,
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitResponse,
        GlobalConcurrencyLimitUpdate,
    )

__all__ = ["EmbeddedConcurrencyMethods"]

T = TypeVar("T")

DEFAULT_READ_LIMIT = 100


class EmbeddedConcurrencyMethods:
    """Global and tag concurrency limits, and their leases, on the embedded store."""

    if TYPE_CHECKING:

        def _read(self, query: Callable[[Connection], T], write: bool = False) -> T: ...

        def _write_sqlite(self, work: Callable[[sqlite3.Connection], T]) -> T: ...

    # -- global limits --------------------------------------------------------

    def create_global_concurrency_limit(self, limit: GlobalConcurrencyLimitCreate) -> uuid.UUID:
        """Create a global concurrency (or rate) limit; its id. ObjectAlreadyExists if taken."""
        from legato.orchestration import concurrency_limits as service

        row = self._read(
            lambda c: service.create_limit(
                c,
                name=limit.name,
                limit=limit.limit,
                active=limit.active,
                slot_decay_per_second=limit.slot_decay_per_second,
            ),
            write=True,
        )
        return uuid.UUID(row["id"])

    def read_global_concurrency_limit_by_name(self, name: str) -> GlobalConcurrencyLimitResponse:
        """One limit with its slots in use; raises ObjectNotFound."""
        from legato.client.schemas.concurrency import GlobalConcurrencyLimitResponse
        from legato.orchestration import concurrency_limits as service

        row = self._read(lambda c: service.read_limit_by_name(c, name))
        if row is None:
            raise args.limit_not_found(name)
        return GlobalConcurrencyLimitResponse.from_row(row)

    def read_global_concurrency_limits(
        self, limit: int | None = None, offset: int = 0
    ) -> list[GlobalConcurrencyLimitResponse]:
        """Every limit (tag limits included, as ``tag:<tag>``), by name."""
        from legato.client.schemas.concurrency import GlobalConcurrencyLimitResponse
        from legato.orchestration import concurrency_limits as service

        count = DEFAULT_READ_LIMIT if limit is None else limit
        rows = self._read(lambda c: service.filter_limits(c, limit=count, offset=offset))
        return [GlobalConcurrencyLimitResponse.from_row(row) for row in rows]

    def update_global_concurrency_limit(
        self, name: str, limit: GlobalConcurrencyLimitUpdate
    ) -> None:
        """Change the fields set on ``limit`` (name, limit, active, slot decay); ObjectNotFound."""
        from legato.orchestration import concurrency_limits as service

        changes = args.update_arguments(limit)
        row = self._read(lambda c: service.update_limit(c, name, **changes), write=True)
        if row is None:
            raise args.limit_not_found(name)

    def upsert_global_concurrency_limit_by_name(self, name: str, limit: int) -> None:
        """Create the limit ``name``, or set its ``limit`` if it exists."""
        from legato.orchestration import concurrency_limits as service

        self._read(lambda c: service.upsert_limit(c, name, limit), write=True)

    def delete_global_concurrency_limit_by_name(self, name: str) -> None:
        """Delete a limit, freeing its slots; raises ObjectNotFound."""
        from legato.orchestration import concurrency_limits as service

        if not self._read(lambda c: service.delete_limit(c, name), write=True):
            raise args.limit_not_found(name)

    # -- tag limits -----------------------------------------------------------

    def create_concurrency_limit(self, tag: str, concurrency_limit: int) -> uuid.UUID:
        """Limit the task runs carrying ``tag`` to ``concurrency_limit`` at once (set if it exists)."""
        from legato.orchestration import concurrency_limits as service

        name = service.tag_limit_name(tag)
        row, _ = self._read(lambda c: service.upsert_limit(c, name, concurrency_limit), write=True)
        return uuid.UUID(row["id"])

    def read_concurrency_limit_by_tag(self, tag: str) -> ConcurrencyLimit:
        """The limit of ``tag``, with the task runs holding it; raises ObjectNotFound."""
        from legato.client.schemas.concurrency import ConcurrencyLimit
        from legato.orchestration import concurrency_limits as service

        rows = self._read(lambda c: service.read_tag_limits(c, tag=tag))
        if not rows:
            raise args.tag_not_found(tag)
        return ConcurrencyLimit.model_validate(rows[0])

    def read_concurrency_limits(
        self, limit: int | None = None, offset: int = 0
    ) -> list[ConcurrencyLimit]:
        """Every tag limit, by tag."""
        from legato.client.schemas.concurrency import ConcurrencyLimit
        from legato.orchestration import concurrency_limits as service

        count = DEFAULT_READ_LIMIT if limit is None else limit
        rows = self._read(lambda c: service.read_tag_limits(c, limit=count, offset=offset))
        return [ConcurrencyLimit.model_validate(row) for row in rows]

    def reset_concurrency_limit_by_tag(self, tag: str) -> None:
        """Free every slot of the limit of ``tag`` (its holders lose them); ObjectNotFound."""
        from legato.orchestration import concurrency_limits as service

        name = service.tag_limit_name(tag)
        if self._read(lambda c: service.reset_limit(c, name), write=True) is None:
            raise args.tag_not_found(tag)

    def delete_concurrency_limit_by_tag(self, tag: str) -> None:
        """Delete the limit of ``tag``; raises ObjectNotFound."""
        from legato.orchestration import concurrency_limits as service

        name = service.tag_limit_name(tag)
        if not self._read(lambda c: service.delete_limit(c, name), write=True):
            raise args.tag_not_found(tag)

    # -- slots and leases -----------------------------------------------------

    def acquire_concurrency_slots_with_lease(
        self,
        names: Sequence[str] | str,
        slots: int,
        mode: AcquireMode = "concurrency",
        lease_duration_seconds: float | None = None,
        holder: Mapping[str, Any] | None = None,
    ) -> ConcurrencyAcquisition:
        """Try once to take ``slots`` on every limit in ``names`` (all or none); never waits.

        ``lease_duration_seconds`` defaults to LEGATO_CONCURRENCY_LEASE_DURATION_SECONDS;
        ``holder`` (shown by ``legato concurrency-limit inspect``) to this process's pid and host.
        """
        from legato.client.schemas.concurrency import ConcurrencyAcquisition
        from legato.orchestration import concurrency_leases_sqlite as service

        seconds = args.lease_seconds(lease_duration_seconds)
        who = args.lease_holder(holder)
        wanted = args.names_list(names)
        outcome = self._write_sqlite(
            lambda c: service.acquire(
                c, wanted, slots, mode=mode, lease_seconds=seconds, holder=who
            )
        )
        return ConcurrencyAcquisition.model_validate(outcome, from_attributes=True)

    def renew_concurrency_lease(
        self, lease_id: uuid.UUID | str, lease_duration_seconds: float | None = None
    ) -> None:
        """Extend a lease from now; LeaseExpired if it expired or was released (slots lost)."""
        from legato.orchestration import concurrency_leases_sqlite as service

        seconds = args.lease_seconds(lease_duration_seconds)
        self._write_sqlite(lambda c: service.renew_lease(c, str(lease_id), seconds))

    def release_concurrency_slots_with_lease(self, lease_id: uuid.UUID | str) -> None:
        """Give a lease's slots back; a lease that expired or was released is no error."""
        from legato.orchestration import concurrency_leases_sqlite as service

        self._write_sqlite(lambda c: service.release_lease(c, str(lease_id)))

    def read_concurrency_leases(self, name: str | None = None) -> list[ConcurrencyLease]:
        """Unexpired leases, oldest first (of the limit ``name`` only, if given)."""
        from legato.client.schemas.concurrency import ConcurrencyLease
        from legato.orchestration import concurrency_leases as service

        rows = self._read(lambda c: service.read_leases(c, name))
        return [ConcurrencyLease.from_row(row) for row in rows]
