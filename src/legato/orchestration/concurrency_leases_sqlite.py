"""``acquire``, ``renew_lease`` and ``release_lease`` on a plain ``sqlite3`` connection.

The same rules and results as ``legato.orchestration.concurrency_leases``
(whose checks and arithmetic they share), written as SQL text for the
standard library's ``sqlite3``: the embedded client's own connection, in its
``BEGIN IMMEDIATE`` transaction (``legato.storage.sqlite.run_write``). An
uncontended acquire and release then cost about a fifth of what they cost
through SQLAlchemy, where building and running each statement costs more
than SQLite's own work. SQLite serializes writers, so no row locks are
needed; timestamps are the POSIX seconds SQLite stores.

``tests/concurrency`` runs the service's tests on both implementations.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from legato.exceptions import LeaseExpired
from legato.orchestration import concurrency_leases as rules
from legato.orchestration import concurrency_limits as limits_service
from legato.orchestration.concurrency_leases import Acquisition
from legato.storage.queries._common import Row
from legato.storage.records import canonical_uuid

__all__ = ["acquire", "release_lease", "renew_lease"]

_LIMIT_COLUMNS = (
    "id",
    "name",
    "limit",
    "active",
    "slot_decay_per_second",
    "decayed_slots",
    "decay_updated",
)
_EXPIRED = (
    "SELECT id FROM concurrency_leases WHERE expiration <= ? ORDER BY id "
    f"LIMIT {rules.COLLECT_AT_ONCE}"
)
_DENY = "UPDATE concurrency_limits SET denied_slots = denied_slots + ? WHERE id = ?"
_FILL = "UPDATE concurrency_limits SET decayed_slots = ?, decay_updated = ? WHERE id = ?"
_INSERT_LEASE = (
    "INSERT INTO concurrency_leases (id, expiration, slots, holder, created) VALUES (?, ?, ?, ?, ?)"
)
_INSERT_HOLD = "INSERT INTO concurrency_lease_limits (lease_id, limit_id) VALUES (?, ?)"
_LEASE_AGES = (
    "SELECT l.created FROM concurrency_leases l "
    "JOIN concurrency_lease_limits h ON h.lease_id = l.id "
    f"WHERE h.limit_id = ? AND l.expiration > ? LIMIT {rules.AGES_SAMPLED}"
)
_RENEW = "UPDATE concurrency_leases SET expiration = ? WHERE id = ? AND expiration > ?"
_LEASE_EXPIRATION = "SELECT expiration FROM concurrency_leases WHERE id = ?"
_DELETE_LEASE = "DELETE FROM concurrency_leases WHERE id = ?"
_DELETE_HOLDS = "DELETE FROM concurrency_lease_limits WHERE lease_id = ?"


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def acquire(
    connection: sqlite3.Connection,
    names: Sequence[str] | str,
    slots: int,
    *,
    mode: str = "concurrency",
    lease_seconds: float = rules.DEFAULT_LEASE_SECONDS,
    holder: Mapping[str, Any] | None = None,
    now: float | None = None,
) -> Acquisition:
    """``concurrency_leases.acquire``, in the caller's write transaction on ``connection``."""
    wanted = rules.check_names(names)
    limits_service.validate_limit(slots, "slot count (occupy)")
    checked_mode = rules.check_mode(mode)
    lease_seconds = rules.validate_lease_seconds(lease_seconds)
    checked_holder = rules.check_holder(holder)
    rows = _limits(connection, wanted)
    now = time.time() if now is None else now
    found = {row["name"] for row in rows}
    missing = [name for name in wanted if name not in found]
    applied = sorted((row for row in rows if row["active"]), key=lambda row: row["name"])
    rules.check_fits(applied, slots, checked_mode)
    collect_expired_leases(connection, now)
    held = _lease_slots(connection, [row["id"] for row in rows], now)
    for row in rows:
        row["decayed_slots"] = limits_service.current_decayed_slots(row, now)
    full = rules.first_full(applied, held, slots)
    if full is not None:
        connection.execute(_DENY, (slots, full["id"]))
        retry = _retry_after_seconds(connection, full, held[full["id"]], slots, now)
        return Acquisition(False, None, rules.summaries(rows, held), missing, full["name"], retry)
    lease_id = None
    if applied and checked_mode == "rate_limit":
        connection.executemany(
            _FILL, [(row["decayed_slots"] + slots, now, row["id"]) for row in applied]
        )
        for row in applied:
            row["decayed_slots"] += slots
    elif applied:
        lease_id = str(uuid.uuid4())
        encoded = None if checked_holder is None else json.dumps(checked_holder)
        connection.execute(_INSERT_LEASE, (lease_id, now + lease_seconds, slots, encoded, now))
        connection.executemany(_INSERT_HOLD, [(lease_id, row["id"]) for row in applied])
        for row in applied:
            held[row["id"]] += slots
    return Acquisition(True, lease_id, rules.summaries(rows, held), missing)


def _limits(connection: sqlite3.Connection, names: list[str]) -> list[Row]:
    columns = ", ".join(f'"{column}"' for column in _LIMIT_COLUMNS)
    cursor = connection.execute(
        f"SELECT {columns} FROM concurrency_limits WHERE name IN ({_marks(len(names))}) "
        "ORDER BY id",
        names,
    )
    rows = []
    for values in cursor:
        row = dict(zip(_LIMIT_COLUMNS, values, strict=True))
        row["active"] = bool(row["active"])
        rows.append(row)
    return rows


def _lease_slots(
    connection: sqlite3.Connection, limit_ids: list[str], now: float
) -> dict[str, int]:
    held = dict.fromkeys(limit_ids, 0)
    if limit_ids:
        cursor = connection.execute(
            "SELECT h.limit_id, SUM(l.slots) FROM concurrency_lease_limits h "
            "JOIN concurrency_leases l ON l.id = h.lease_id "
            f"WHERE h.limit_id IN ({_marks(len(limit_ids))}) AND l.expiration > ? "
            "GROUP BY h.limit_id",
            [*limit_ids, now],
        )
        for limit_id, slots in cursor:
            held[limit_id] = int(slots)
    return held


def _retry_after_seconds(
    connection: sqlite3.Connection, row: Row, leased: int, slots: int, now: float
) -> float:
    ages: list[float] = []
    if rules.needs_lease_ages(row, leased, slots):
        cursor = connection.execute(_LEASE_AGES, (row["id"], now))
        ages = [now - float(created) for (created,) in cursor]
    return rules.retry_estimate(row, leased, slots, ages)


def collect_expired_leases(connection: sqlite3.Connection, now: float) -> int:
    """Delete up to ``COLLECT_AT_ONCE`` expired leases and their holds."""
    expired = [lease_id for (lease_id,) in connection.execute(_EXPIRED, (now,))]
    if expired:
        marks = _marks(len(expired))
        connection.execute(
            f"DELETE FROM concurrency_lease_limits WHERE lease_id IN ({marks})", expired
        )
        connection.execute(f"DELETE FROM concurrency_leases WHERE id IN ({marks})", expired)
    return len(expired)


def renew_lease(
    connection: sqlite3.Connection, lease_id: str, lease_seconds: float, now: float | None = None
) -> float:
    """``concurrency_leases.renew_lease`` on this connection: the new expiration."""
    lease_seconds = rules.validate_lease_seconds(lease_seconds)
    canonical = canonical_uuid(lease_id)
    if canonical is None:
        raise LeaseExpired(lease_id)
    now = time.time() if now is None else now
    expiration = now + lease_seconds
    if not connection.execute(_RENEW, (expiration, canonical, now)).rowcount:
        raise LeaseExpired(lease_id)
    return expiration


def release_lease(connection: sqlite3.Connection, lease_id: str, now: float | None = None) -> bool:
    """``concurrency_leases.release_lease`` on this connection: False if the lease was gone."""
    canonical = canonical_uuid(lease_id)
    if canonical is None:
        return False
    found = connection.execute(_LEASE_EXPIRATION, (canonical,)).fetchone()
    connection.execute(_DELETE_LEASE, (canonical,))
    connection.execute(_DELETE_HOLDS, (canonical,))
    now = time.time() if now is None else now
    return found is not None and float(found[0]) > now
